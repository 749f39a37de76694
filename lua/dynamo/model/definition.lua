--- Checks a model definition, as users write it, and normalises it: field
--- specs with their stored attribute and type, key and index templates
--- parsed, in partition-then-sort order. Everything wrong is caught here,
--- once, with the path of the bad part:
---   bad model 'User': fields.age.min (number expected, got string)
local fields = require "dynamo.model.fields"
local template = require "dynamo.model.template"

local type, pairs, ipairs, pcall, error, setmetatable, getmetatable, tostring =
  type, pairs, ipairs, pcall, error, setmetatable, getmetatable, tostring
local format, concat, sort, find = string.format, table.concat, table.sort, string.find
local describe, types = fields.describe, fields.types

local M = {}

local TOP = { name = true, table = true, entity_attribute = true, keys = true, indexes = true,
  fields = true, version = true, version_attribute = true, migrations = true }
local INDEX = { type = true, name = true, keys = true, projection = true }
local COMMON = { type = true, required = true, default = true, validate = true, immutable = true,
  set = true, get = true, hidden = true, attribute = true }

-- Names a field cannot have: the instance methods and fields they would hide.
-- Instance methods, and the action names of item:update's
-- { set =, remove =, add =, delete = } form.
local RESERVED = { save = true, update = true, delete = true, refresh = true, changes = true,
  key = true, model = true, values = true, is_new = true, set = true, add = true, remove = true }

-- What a nested field (in a map's `fields`) or a list element (`of`) cannot use.
local NESTED = { immutable = true, hidden = true, auto = true }
local ELEMENT = { required = true, default = true, immutable = true, hidden = true, attribute = true, auto = true }

local TYPE_NAMES = {}
for name in pairs(types) do TYPE_NAMES[#TYPE_NAMES + 1] = name end
sort(TYPE_NAMES)

local ANY_OPTION = {}
for k in pairs(COMMON) do ANY_OPTION[k] = true end
for _, t in pairs(types) do
  for k in pairs(t.options) do ANY_OPTION[k] = true end
end

-- A raised check failure, told apart from other errors by its metatable.
local Failure = {}

local function fail(ctx, path, problem)
  local who = ctx.name and format("bad model '%s': ", ctx.name) or "bad model: "
  error(setmetatable({ message = who .. path .. " (" .. problem .. ")" }, Failure), 0)
end

local function is_name(k) return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil end

-- path.key, path[2] or path["odd key"].
local function sub(path, k)
  if is_name(k) then return path == "" and k or path .. "." .. k end
  if type(k) == "number" then return path .. "[" .. tostring(k) .. "]" end
  return path .. "[" .. format("%q", tostring(k)) .. "]"
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  sort(keys, function(a, b)
    if type(a) == type(b) and (type(a) == "string" or type(a) == "number") then return a < b end
    return type(a) < type(b)
  end)
  return keys
end

local function want(ctx, path, v, what, ok)
  if not ok then fail(ctx, path, what .. " expected, got " .. describe(v)) end
end

local function want_string(ctx, path, v)
  if v == "" then fail(ctx, path, "non-empty string expected, got empty string") end
  want(ctx, path, v, "non-empty string", type(v) == "string")
end

local function want_type(ctx, path, v, t)
  want(ctx, path, v, t, type(v) == t)
end

local function is_count(v) return fields.is_integer(v) and v >= 0 end

-- length = n, or { min, max } (either may be nil).
local function check_length(ctx, path, v)
  if is_count(v) then return end
  want(ctx, path, v, "non-negative integer or { min, max }", type(v) == "table")
  for k, x in pairs(v) do
    if k ~= 1 and k ~= 2 then fail(ctx, sub(path, k), "unknown option; use { min, max }") end
    want(ctx, sub(path, k), x, "non-negative integer", is_count(x))
  end
  if v[1] == nil and v[2] == nil then fail(ctx, path, "empty; use { min, max }") end
  if v[1] and v[2] and v[1] > v[2] then fail(ctx, path, format("min %d is above max %d", v[1], v[2])) end
end

local function check_values(ctx, path, v)
  want(ctx, path, v, "non-empty list of strings or numbers", type(v) == "table" and v[1] ~= nil)
  local kind, seen = type(v[1]), {}
  for k, x in pairs(v) do
    if type(k) ~= "number" or k > #v then fail(ctx, sub(path, k), "unknown key; values is a list") end
    local p = sub(path, k)
    want(ctx, p, x, "string or number", type(x) == "string" or type(x) == "number" and x == x)
    if type(x) ~= kind then fail(ctx, p, "values must all be strings or all numbers") end
    if seen[x] then fail(ctx, p, "duplicate value") end
    seen[x] = true
  end
end

local field_spec

-- The nested specs of a map: Lua name -> normalised spec, stored names unique.
local function nested_fields(ctx, path, specs)
  want(ctx, path, specs, "table of field specs", type(specs) == "table")
  local out, stored = {}, {}
  for _, name in ipairs(sorted_keys(specs)) do
    local p = sub(path, name)
    if not is_name(name) then
      fail(ctx, p, "field names are letters, digits and '_', not starting with a digit")
    end
    local f = field_spec(ctx, p, specs[name], "nested")
    f.name = name
    f.attribute = f.attribute or name
    if stored[f.attribute] then
      fail(ctx, f.attribute ~= name and p .. ".attribute" or p,
        format("stored as '%s', like field '%s'", f.attribute, stored[f.attribute]))
    end
    stored[f.attribute] = name
    out[name] = f
  end
  return out
end

local OPTION_CHECKS = {
  required = function(ctx, p, v) want_type(ctx, p, v, "boolean") end,
  immutable = function(ctx, p, v) want_type(ctx, p, v, "boolean") end,
  hidden = function(ctx, p, v) want_type(ctx, p, v, "boolean") end,
  validate = function(ctx, p, v) want_type(ctx, p, v, "function") end,
  set = function(ctx, p, v) want_type(ctx, p, v, "function") end,
  get = function(ctx, p, v) want_type(ctx, p, v, "function") end,
  attribute = want_string,
  min = function(ctx, p, v) want(ctx, p, v, "number", type(v) == "number" and v == v) end,
  max = function(ctx, p, v) want(ctx, p, v, "number", type(v) == "number" and v == v) end,
  length = check_length,
  pattern = function(ctx, p, v)
    want_type(ctx, p, v, "string")
    local ok, err = pcall(find, "", v)
    if not ok then fail(ctx, p, (tostring(err):gsub("^.-:%d+: ", ""))) end
  end,
  values = check_values,
  pad = function(ctx, p, v)
    want(ctx, p, v, "integer from 1 to 18", fields.is_integer(v) and v >= 1 and v <= 18)
  end,
  format = function(ctx, p, v)
    want(ctx, p, v, "\"iso8601\" or \"epoch\"", v == "iso8601" or v == "epoch")
  end,
  auto = function(ctx, p, v)
    want(ctx, p, v, "\"create\" or \"update\"", v == "create" or v == "update")
  end,
}

-- One field spec, normalised: a copy of the options with `type` and
-- `attribute` set. where: "top", "nested" (in a map) or "element" (`of`).
function field_spec(ctx, path, spec, where)
  want(ctx, path, spec, "field spec table", type(spec) == "table")
  local tname = spec.type
  if tname == nil then fail(ctx, path .. ".type", "required") end
  if not types[tname] then
    fail(ctx, path .. ".type", format("unknown type %s; expected one of %s",
      type(tname) == "string" and "'" .. tname .. "'" or describe(tname), concat(TYPE_NAMES, ", ")))
  end
  if where ~= "top" and (tname == "ttl" or tname == "version") then
    fail(ctx, path .. ".type", tname .. " fields must be top-level")
  end
  local t = types[tname]
  local out = {}
  for _, k in ipairs(sorted_keys(spec)) do
    local p, v = sub(path, k), spec[k]
    if not ANY_OPTION[k] then fail(ctx, p, "unknown option") end
    if not COMMON[k] and not t.options[k] then fail(ctx, p, "not an option of " .. tname .. " fields") end
    if where == "nested" and NESTED[k] then fail(ctx, p, "not allowed in a nested field") end
    if where == "element" and ELEMENT[k] then fail(ctx, p, "not allowed for list elements") end
    if k == "of" then
      v = field_spec(ctx, p, v, "element")
    elseif k == "fields" then
      v = nested_fields(ctx, p, v)
    elseif k ~= "default" and k ~= "type" then
      OPTION_CHECKS[k](ctx, p, v)
    end
    out[k] = v
  end
  if tname == "enum" and spec.values == nil then fail(ctx, path .. ".values", "required for enum fields") end
  if spec.min and spec.max and spec.min > spec.max then
    fail(ctx, path .. ".max", format("%s is below min %s", tostring(spec.max), tostring(spec.min)))
  end
  if spec.default ~= nil and type(spec.default) ~= "function" then
    local msg = t.check(spec.default, out)
    if msg then fail(ctx, path .. ".default", msg) end
  end
  return out
end

-- A key attribute's role by its name: "pk", "gsi1pk", "PK", "hash" ... are
-- partition keys; "sk", "lsi1sk", "range", "sort" ... sort keys.
local function role(name)
  local n = name:lower()
  if n:match("pk$") or n:match("hash$") or n:match("hashkey$") or n:match("partition$")
    or n:match("partitionkey$") then return "partition" end
  if n:match("sk$") or n:match("range$") or n:match("rangekey$") or n:match("sort$")
    or n:match("sortkey$") then return "sort" end
end

-- keys = { pk = "...", sk = "..." } or in order { { "pk", "..." }, { "sk", "..." } }:
-- the list { { attribute, text, path }, ... }, partition key first.
local function key_list(ctx, path, keys, table_pk)
  if keys == nil then fail(ctx, path, "required") end
  want(ctx, path, keys, "table", type(keys) == "table")
  local list = {}
  if keys[1] ~= nil then
    for k, pair in pairs(keys) do
      local p = sub(path, k)
      if type(k) ~= "number" or k > #keys then fail(ctx, p, "mixed forms; use a list of { attribute, template }") end
      want(ctx, p, pair, "{ attribute, template }", type(pair) == "table" and #pair == 2)
      want_string(ctx, p .. "[1]", pair[1])
      list[k] = { pair[1], pair[2], p .. "[2]" }
    end
  else
    for _, k in ipairs(sorted_keys(keys)) do
      want(ctx, path, k, "attribute name", type(k) == "string" and k ~= "")
      list[#list + 1] = { k, keys[k], sub(path, k) }
    end
    if #list == 2 then
      local a, b = list[1], list[2]
      local ra, rb = role(a[1]), role(b[1])
      if table_pk and (a[1] == table_pk or b[1] == table_pk) then
        ra, rb = a[1] == table_pk and "partition" or "sort", b[1] == table_pk and "partition" or "sort"
      end
      if ra == "sort" and rb == "partition" then
        list[1], list[2] = b, a
      elseif not (ra == "partition" and rb == "sort") then
        fail(ctx, path, format("cannot tell the partition key from the sort key: name them like pk and sk, "
          .. "or list them in order: { { \"%s\", ... }, { \"%s\", ... } }", a[1], b[1]))
      end
    end
  end
  if #list == 0 or #list > 2 then
    fail(ctx, path, format("1 or 2 key attributes expected, got %d", #list))
  end
  return list
end

-- Parses a key's template and checks its fields can make a key.
local function key_template(ctx, path, text, model_fields)
  want(ctx, path, text, "template string", type(text) == "string")
  local t, msg = template.parse(text)
  if not t then fail(ctx, path, msg) end
  for _, name in ipairs(t.fields) do
    local f = model_fields[name]
    if not f then fail(ctx, path, format("unknown field '%s' in template '%s'", name, text)) end
    local tp = types[f.type]
    if t.exact then
      if not fields.key_type(f) then
        local why = f.type == "boolean" and "; DynamoDB keys are strings, numbers or binary" or ""
        fail(ctx, path, format("%s field '%s' cannot be a key%s", f.type, name, why))
      end
    elseif not tp.text then
      if tp.key then
        fail(ctx, path, format("%s field '%s' can be a key only on its own, as '${%s}'", f.type, name, name))
      end
      fail(ctx, path, format("%s field '%s' cannot be a key", f.type, name))
    end
  end
  t.type = t.exact and fields.key_type(model_fields[t.exact]) or "S"
  return t
end

-- Registers key attributes: one attribute, one template, wherever it is used.
local function register(ctx, seen, path, attribute, t)
  local prev = seen[attribute]
  if prev and prev.template.text ~= t.text then
    fail(ctx, path, format("attribute '%s' has the template '%s' at %s", attribute, prev.template.text, prev.path))
  end
  seen[attribute] = prev or { template = t, path = path }
end

local function keys_of(ctx, path, raw, model_fields, seen, table_pk)
  local out = {}
  for i, k in ipairs(key_list(ctx, path, raw, table_pk)) do
    local t = key_template(ctx, k[3], k[2], model_fields)
    register(ctx, seen, k[3], k[1], t)
    out[i] = { attribute = k[1], template = t }
  end
  return out
end

-- Table and index names: what DynamoDB accepts.
local function check_physical_name(ctx, path, v)
  if type(v) == "string" and #v >= 3 and #v <= 255 and v:match("^[%w_%.%-]+$") then return end
  fail(ctx, path, "3 to 255 letters, digits, '_', '-' or '.' expected, got "
    .. (type(v) == "string" and format("%q", v) or describe(v)))
end

local function projection(ctx, path, v, model_fields)
  if v == nil or v == "all" or v == "keys_only" then return v or "all" end
  want(ctx, path, v, "\"all\", \"keys_only\" or a list of field names", type(v) == "table" and v[1] ~= nil)
  local out, seen = {}, {}
  for k, name in pairs(v) do
    local p = sub(path, k)
    if type(k) ~= "number" or k > #v then fail(ctx, p, "unknown key; projection is a list of field names") end
    if not model_fields[name] then
      fail(ctx, p, "unknown field " .. (type(name) == "string" and "'" .. name .. "'" or describe(name)))
    end
    if seen[name] then fail(ctx, p, "duplicate field '" .. name .. "'") end
    seen[name] = true
    out[k] = name
  end
  return out
end

local function index(ctx, path, lua_name, spec, d, seen, physical)
  want(ctx, path, spec, "index table", type(spec) == "table")
  for _, k in ipairs(sorted_keys(spec)) do
    if not INDEX[k] then fail(ctx, sub(path, k), "unknown option") end
  end
  local kind = spec.type
  if kind == nil then fail(ctx, path .. ".type", "required") end
  want(ctx, path .. ".type", kind, "\"gsi\" or \"lsi\"", kind == "gsi" or kind == "lsi")
  local name = spec.name == nil and lua_name or spec.name
  check_physical_name(ctx, spec.name == nil and path or path .. ".name", name)
  if physical[name] then fail(ctx, path, format("index name '%s' is also used by %s", name, physical[name])) end
  physical[name] = path
  local table_keys = d.keys
  local pk = table_keys[1]
  local keys = keys_of(ctx, path .. ".keys", spec.keys, d.fields, seen, kind == "lsi" and pk.attribute or nil)
  if kind == "lsi" then
    if not table_keys[2] then fail(ctx, path, "a local index needs a table with a sort key") end
    if #keys ~= 2 or keys[1].attribute ~= pk.attribute then
      fail(ctx, path .. ".keys", format("a local index has the table's partition key (%s = '%s') and a sort key",
        pk.attribute, pk.template.text))
    end
    if keys[2].attribute == table_keys[2].attribute then
      fail(ctx, path .. ".keys", "a local index needs a sort key other than the table's")
    end
  end
  local attributes = {}
  for i, k in ipairs(keys) do attributes[i] = k.attribute end
  return { type = kind, name = name, keys = keys, attributes = attributes,
    projection = projection(ctx, path .. ".projection", spec.projection, d.fields) }
end

local function check_fields(ctx, d, specs)
  if specs == nil then fail(ctx, "fields", "required") end
  want(ctx, "fields", specs, "table of field specs", type(specs) == "table")
  local out, stored = {}, {}
  for _, name in ipairs(sorted_keys(specs)) do
    local p = sub("fields", name)
    if not is_name(name) then
      fail(ctx, p, "field names are letters, digits and '_', not starting with a digit")
    end
    if name:sub(1, 1) == "_" then fail(ctx, p, "reserved name: names starting with '_' are for the library") end
    if RESERVED[name] then fail(ctx, p, "reserved name: it would hide the instance method or field") end
    local f = field_spec(ctx, p, specs[name], "top")
    f.name = name
    f.attribute = f.attribute or name
    local where = f.attribute ~= name and p .. ".attribute" or p
    if stored[f.attribute] then
      fail(ctx, where, format("stored as '%s', like field '%s'", f.attribute, stored[f.attribute]))
    end
    if f.attribute == d.entity_attribute then
      fail(ctx, where, format("stored as '%s', the entity attribute", f.attribute))
    end
    if f.attribute == d.version_attribute then
      fail(ctx, where, format("stored as '%s', the version attribute", f.attribute))
    end
    stored[f.attribute] = name
    for _, one in ipairs { "ttl", "version" } do
      if f.type == one then
        local slot = one .. "_field"
        if d[slot] then
          fail(ctx, p .. ".type", format("a model has at most one %s field; '%s' is one", one, d[slot]))
        end
        d[slot] = name
      end
    end
    out[name] = f
  end
  d.fields = out
  return stored
end

local function check_migrations(ctx, d, m)
  if m == nil then return end
  if not d.schema_version then fail(ctx, "migrations", "needs version") end
  want(ctx, "migrations", m, "table", type(m) == "table")
  for _, k in ipairs(sorted_keys(m)) do
    local p = sub("migrations", k)
    if not (fields.is_integer(k) and k >= 1 and k < d.schema_version) then
      local v = d.schema_version
      fail(ctx, p, v == 1 and "no such step: version is 1, so there are none"
        or format("no such step: version is %d, so steps go from 1 to %d", v, v - 1))
    end
    want_type(ctx, p, m[k], "function")
  end
  d.migrations = m
end

local function build(def, allow, ctx)
  if type(def) ~= "table" then fail(ctx, "definition", "table expected, got " .. describe(def)) end
  want_string(ctx, "name", def.name)
  ctx.name = def.name
  for _, k in ipairs(sorted_keys(def)) do
    if not TOP[k] and not (allow and allow[k]) then fail(ctx, sub("", k), "unknown option") end
  end
  local d = { name = def.name, migrations = {} }
  check_physical_name(ctx, "table", def.table)
  d.table = def.table
  local ea = def.entity_attribute
  if ea == nil then ea = "_type" end
  if ea ~= false then
    want(ctx, "entity_attribute", ea, "non-empty string or false", type(ea) == "string" and ea ~= "")
  end
  d.entity_attribute = ea or nil
  local v = def.version
  if v ~= nil then
    want(ctx, "version", v, "positive integer", fields.is_integer(v) and v >= 1)
    d.schema_version = v
    d.version_attribute = def.version_attribute == nil and "_v" or def.version_attribute
    want_string(ctx, "version_attribute", d.version_attribute)
    if d.version_attribute == d.entity_attribute then
      fail(ctx, "version_attribute", format("'%s' is also the entity attribute", d.version_attribute))
    end
  elseif def.version_attribute ~= nil then
    fail(ctx, "version_attribute", "needs version")
  end
  check_migrations(ctx, d, def.migrations)
  local stored = check_fields(ctx, d, def.fields)

  local seen = {}
  d.keys = keys_of(ctx, "keys", def.keys, d.fields, seen)
  d.indexes = {}
  if def.indexes ~= nil then
    want(ctx, "indexes", def.indexes, "table", type(def.indexes) == "table")
    local physical = {}
    for _, name in ipairs(sorted_keys(def.indexes)) do
      local p = sub("indexes", name)
      want(ctx, p, name, "index name", type(name) == "string" and name ~= "")
      d.indexes[name] = index(ctx, p, name, def.indexes[name], d, seen, physical)
    end
  end

  -- A key attribute may be a field's own attribute only as "${that field}".
  for _, attribute in ipairs(sorted_keys(seen)) do
    local s = seen[attribute]
    local owner = stored[attribute]
    if owner and s.template.exact ~= owner then
      fail(ctx, s.path, format("attribute '%s' is where field '%s' is stored; use '${%s}' or another name",
        attribute, owner, owner))
    end
    for _, special in ipairs { "entity", "version" } do
      if attribute == d[special .. "_attribute"] then
        fail(ctx, s.path, format("attribute '%s' is the %s attribute", attribute, special))
      end
    end
  end
  return d
end

--- The normalised definition, or nil and the message. allow: a set of extra
--- top-level keys the caller handles itself.
function M.check(def, allow)
  local ctx = {}
  local ok, res = pcall(build, def, allow, ctx)
  if ok then return res end
  if getmetatable(res) == Failure then return nil, res.message end
  error(res, 0)
end

return M
