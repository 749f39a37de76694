--- Key schemas of tables and indexes (from DescribeTable, once per table
--- and client), and what is built from them: an item's key, a key's
--- identity string (for de-duplication), a resume position.
local type, tostring, getmetatable, concat, format, floor = type, tostring, getmetatable, table.concat, string.format, math.floor
local compat = require "dynamo.compat"
local math_type, tointeger = compat.math_type, compat.tointeger

local core = require "dynamo.core"

local M = {}

local function names_of(key_schema)
  local names = {}
  -- HASH first, then RANGE, whatever order the server lists them in.
  for _, k in ipairs(key_schema or {}) do
    if k.KeyType == "HASH" then table.insert(names, 1, k.AttributeName)
    else names[#names + 1] = k.AttributeName end
  end
  return names
end

-- db.key_schemas[table] = { names = {...}, indexes = { [index] = {...} } } or false.
local function schema(db, table_name)
  local cached = db.key_schemas[table_name]
  if cached == nil then
    local res, err = db:describe_table { TableName = table_name }
    if not res then return nil, err end
    local t = res.Table or {}
    cached = { names = names_of(t.KeySchema), indexes = {} }
    for _, list in ipairs { t.GlobalSecondaryIndexes or {}, t.LocalSecondaryIndexes or {} } do
      for _, ix in ipairs(list) do cached.indexes[ix.IndexName] = names_of(ix.KeySchema) end
    end
    db.key_schemas[table_name] = cached
  end
  return cached
end

--- The key attribute names of a table ({hash, range?}), or of an index
--- followed by the table's own (what a LastEvaluatedKey of that index holds).
--- Returns nil, err when DescribeTable fails or the index is unknown.
function M.names(db, table_name, index)
  local s, err = schema(db, table_name)
  if not s then return nil, err end
  if index == nil then return s.names end
  local ix = s.indexes[index]
  if not ix then return nil, "table '" .. table_name .. "' has no index '" .. tostring(index) .. "'" end
  local all, seen = {}, {}
  for _, list in ipairs { ix, s.names } do
    for _, n in ipairs(list) do
      if not seen[n] then seen[n] = true; all[#all + 1] = n end
    end
  end
  return all
end

--- The key of an item: a table of just the named attributes.
function M.of(item, names)
  local key = {}
  for _, n in ipairs(names) do key[n] = item[n] end
  return key
end

-- A scalar key value as text that tells types apart: S, N (integer, float
-- or decimal compare by numeric value) and B.
local function scalar_id(v)
  local t = type(v)
  if t == "string" then return "S" .. v end
  -- %d: integer digits for whole floats too (LuaJIT's tostring says 1e+15)
  if math_type(v) == "integer" then return "N" .. format("%d", v) end
  if t == "number" then
    if v == floor(v) and v > -2^63 and v < 2^63 then return "N" .. format("%d", v) end
    return "N" .. tostring(core.decimal(v))
  end
  if t == "userdata" and getmetatable(v) == getmetatable(core.decimal(0)) then
    local d = v
    if d:isinteger() then
      local i = tointeger(d:tonumber())
      if i and d:eq(i) then return "N" .. format("%d", i) end
    end
    return "N" .. tostring(d)
  end
  if t == "table" and getmetatable(v) == core.binary_mt then return "B" .. tostring(v[1]) end
  return "?" .. tostring(v)
end

--- A string equal for two keys exactly when DynamoDB would see the same key.
function M.identity(item, names)
  local parts = {}
  for i, n in ipairs(names) do
    local id = scalar_id(item[n])
    parts[i] = #id .. ":" .. id
  end
  return concat(parts)
end

return M
