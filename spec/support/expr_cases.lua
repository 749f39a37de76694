--- Table-driven cases for the expression builders, shared by expr_spec and
--- expr_operators_spec.
local expr = require "dynamo.expr"

local M = {}

--- Compiles x with ctx:<method> in a fresh context: the string, the names
--- and the values.
function M.compile(method, x, names, values)
  local ctx = expr.context(names, values)
  local s = ctx[method](ctx, x)
  return s, ctx:names(), ctx:values()
end

--- Runs a table of cases { name, function building x, expression, names,
--- values, tostring } through ctx:<method>, one test each (`it` is busted's,
--- and luassert's `assert` live in the spec file's environment, not in _G).
function M.run(method, cases, it, assert)
  for _, c in ipairs(cases) do
    it(c[1], function()
      local x = c[2]()
      local s, names, values = M.compile(method, x)
      assert.are.equal(c[3], s)
      assert.are.same(c[4], names)
      assert.are.same(c[5], values)
      if c[6] then assert.are.equal(c[6], tostring(x)) end
    end)
  end
end

return M
