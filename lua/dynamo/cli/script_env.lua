--- The globals a user's script sees (dynamo run, dynamo shell, dynamo
--- migrate): `dynamo`, `db` (the client from the command's flags, made on
--- first use), `arg`, and everything global (`host` too, inside the
--- dynamo program). What the script sets globally stays in its own table.
local dynamo = require "dynamo"

local M = {}

--- The environment table for a script named `name` with arguments `list`.
function M.new(ctx, name, list)
  local arg = { [0] = name }
  for i, v in ipairs(list or {}) do arg[i] = v end
  return setmetatable({ dynamo = dynamo, arg = arg }, {
    __index = function(env, k)
      if k == "db" then
        local db = ctx:client()
        rawset(env, "db", db)
        return db
      end
      return _G[k]
    end,
  })
end

--- How a script's error reads: a dynamo error value (or anything with
--- __tostring) through tostring, a string as it is.
function M.message(e)
  if type(e) == "string" then return e end
  local mt = getmetatable(e)
  if mt and mt.__tostring then return tostring(e) end
  if type(e) == "table" and type(e.message) == "string" then return e.message end
  return "(an error value of type " .. type(e) .. ")"
end

return M
