--- Schema migrations of stored items: an item written at version v (its
--- version attribute; none counts as 1) goes through migrations[v],
--- migrations[v + 1], ... up to the model's version, on a copy of the raw
--- item. A step that is missing, raises or returns no table is an error
--- value (MigrationError), never a half-migrated item.
local core = require "dynamo.core"
local errors = require "dynamo.errors"
local fields = require "dynamo.model.fields"

local type, pcall, tostring, getmetatable = type, pcall, tostring, getmetatable
local format = string.format
local tointeger = math.tointeger or function(v) return v end

local M = {}

local function failure(s, from, message)
  return errors.new {
    code = "MigrationError",
    message = format("%s: %s", s.name, message),
    from = from,
    retryable = false,
  }
end

--- item, false when the item is current (or newer: it is left as it is);
--- the migrated copy, true when migrations ran; or nil, err.
function M.run(s, item)
  local target, attribute = s.schema_version, s.version_attribute
  if not target then return item, false end
  local v = item[attribute]
  if v == nil then v = 1 end
  if getmetatable(v) == core.decimal_mt then v = v:tonumber() end
  if not fields.is_integer(v) then
    return nil, failure(s, nil, format("version attribute '%s' is not an integer (%s)", attribute, fields.describe(v)))
  end
  v = tointeger(v)
  if v >= target then return item, false end
  local raw = fields.copy(item)
  while v < target do
    local step = s.migrations[v]
    if not step then return nil, failure(s, v, format("no migration from version %d to %d", v, v + 1)) end
    local ok, res = pcall(step, raw)
    if not ok then
      return nil, failure(s, v, format("migration from version %d to %d failed: %s", v, v + 1, tostring(res)))
    end
    if type(res) ~= "table" then
      return nil, failure(s, v, format("migration from version %d to %d returned %s, not an item",
        v, v + 1, fields.describe(res)))
    end
    v = v + 1
    res[attribute] = v
    raw = res
  end
  return raw, true
end

return M
