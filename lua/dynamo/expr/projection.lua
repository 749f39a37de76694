--- Projection expressions: a list of paths, "a, b.c, l[0]" with every name
--- a placeholder.
local node = require "dynamo.expr.node"
local path = require "dynamo.expr.path"

local setmetatable, type, ipairs, tostring, format, concat = setmetatable, type, ipairs, tostring, string.format, table.concat

local M = {}

local Projection = node.class("projection")

function Projection:emit(sink)
  local out = {}
  for i, p in ipairs(self.paths) do out[i] = p:emit(sink) end
  return concat(out, ", ")
end

-- DynamoDB refuses a projection whose paths repeat, overlap or conflict.
local RELATION = {
  same = "'%s' is listed twice%.0s",
  overlap = "paths '%s' and '%s' overlap; list one or the other",
  conflict = "paths '%s' and '%s' conflict; an attribute is a list or a map, not both",
}

--- A projection from a list of paths (strings or attr() objects). Returns
--- it, or nil and what is wrong.
function M.from_list(list)
  if node.kind(list) == "projection" then return list end
  if type(list) ~= "table" or node.kind(list) then
    return nil, "list of paths expected, got " .. node.describe(list)
  end
  if #list == 0 then return nil, "empty list" end
  local paths = {}
  for i = 1, #list do
    local p, msg = path.coerce(list[i])
    if not p then return nil, format("item %d: %s", i, msg) end
    for j = 1, i - 1 do
      local rel = path.relation(paths[j], p)
      if rel then return nil, format("item %d: %s", i, RELATION[rel]:format(tostring(paths[j]), tostring(p))) end
    end
    paths[i] = p
  end
  return setmetatable({ paths = paths }, Projection)
end

--- projection{"a", "b.c"}: a reusable projection (tostring shows it).
function M.new(list)
  local p, msg = M.from_list(list)
  if not p then error("bad argument #1 to 'projection' (" .. msg .. ")", 2) end
  return p
end

return M
