--- The pure half of the model mapper: a checked model definition and what
--- can be computed from it without I/O. Values (Lua field names, Lua types)
--- to stored items and back, defaults, validation, keys and key conditions,
--- the CreateTable definition.
---   local schema = require "dynamo.model.schema"
---   local s = schema.new { name = "User", table = "app", keys = { pk = "USER#${id}", sk = "PROFILE" },
---                          fields = { id = { type = "string", required = true } } }
---   local item = assert(s:to_item { id = "u1" })   -- { pk = "USER#u1", sk = "PROFILE", id = "u1", _type = "User" }
---   local values = s:from_item(item)               -- { id = "u1" }
local core = require "dynamo.core"
local expr = require "dynamo.expr"
local path = require "dynamo.expr.path"
local transact = require "dynamo.transact"
local definition = require "dynamo.model.definition"
local fields = require "dynamo.model.fields"
local template = require "dynamo.model.template"
local validate = require "dynamo.model.validate"
local migrate = require "dynamo.model.migrate"

local type, pairs, ipairs, error, setmetatable, getmetatable = type, pairs, ipairs, error, setmetatable, getmetatable
local format, concat, sort = string.format, table.concat, table.sort
local time = os.time
local null = core.null
local key, all = expr.public.key, expr.public.all

local M = {}

--- A random UUID (version 4), e.g. for `default = schema.uuid`.
M.uuid = transact.uuid

local Schema = {}
Schema.__index = Schema
M.Schema = Schema

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  sort(keys)
  return keys
end

local function absent(v) return v == nil or v == null end

--- schema.new(def[, opts]): the schema of a model definition, or raises
--- "bad model '<name>': <path> (<problem>)". opts.allow: a set of extra
--- top-level keys the caller handles itself; opts.level: the error level,
--- as error() counts from schema.new (default 2, its caller).
function M.new(def, opts)
  local d, msg = definition.check(def, opts and opts.allow)
  if not d then error(msg, opts and opts.level or 2) end
  local s = setmetatable({
    name = d.name,
    table = d.table,
    entity_attribute = d.entity_attribute,
    version_attribute = d.version_attribute,
    schema_version = d.schema_version,
    fields = d.fields,
    key_attributes = {},
    version_field = d.version_field,
    ttl_field = d.ttl_field,
    indexes = {},
    migrations = d.migrations,
    _keys = d.keys,
    _index_keys = {},
    -- Every key attribute once: the table's first, then the indexes' by name.
    _templates = {},
  }, Schema)
  local seen = {}
  local function note(k)
    if seen[k.attribute] then return end
    seen[k.attribute] = true
    s._templates[#s._templates + 1] = k
  end
  for i, k in ipairs(d.keys) do
    s.key_attributes[i] = k.attribute
    note(k)
  end
  for _, name in ipairs(sorted_keys(d.indexes)) do
    local ix = d.indexes[name]
    s.indexes[name] = { type = ix.type, name = ix.name, attributes = ix.attributes, projection = ix.projection }
    s._index_keys[name] = ix.keys
    for _, k in ipairs(ix.keys) do note(k) end
  end
  return s
end

--- Is v a schema made by schema.new?
function M.is_schema(v) return getmetatable(v) == Schema end

-- A key attribute's value from Lua values: the value; or nil and the missing
-- field names; or nil, nil, the field and what is wrong with its value.
local function key_value(s, t, values)
  if t.exact then
    local name = t.exact
    local v = values[name]
    if absent(v) then return nil, { name } end
    local spec = s.fields[name]
    local msg = fields.types[spec.type].check(v, spec)
    if msg then return nil, nil, name, msg end
    return fields.encode(spec, v)
  end
  local bad, why
  local text, missing = template.render(t, function(name)
    local v = values[name]
    if absent(v) then return nil end
    local txt, msg = fields.text(s.fields[name], v)
    if not txt and not bad then bad, why = name, msg end
    return txt
  end)
  if bad then return nil, nil, bad, why end
  return text, missing
end

local function quoted(names)
  local out = {}
  for i, n in ipairs(names) do out[i] = "'" .. n .. "'" end
  return concat(out, ", ")
end

-- "User: key attribute 'pk' needs field 'id'", or what is wrong with a value.
local function key_error(s, attribute, missing, bad, why)
  if bad then
    return validate.error(s.name, { { path = bad, message = why } },
      { message = format("%s: key attribute '%s': %s: %s", s.name, attribute, bad, why) })
  end
  local problems = {}
  for i, name in ipairs(missing) do
    problems[i] = { path = name, message = format("needed for key attribute '%s'", attribute) }
  end
  return validate.error(s.name, problems, { message = format("%s: key attribute '%s' needs field%s %s", s.name,
    attribute, #missing > 1 and "s" or "", quoted(missing)) })
end

-- The key attributes of `keys` (the table's or an index's): the table, or
-- nil and an error value.
local function keys_of(s, keys, values)
  local out = {}
  for _, k in ipairs(keys) do
    local v, missing, bad, why = key_value(s, k.template, values)
    if v == nil then return nil, key_error(s, k.attribute, missing, bad, why) end
    out[k.attribute] = v
  end
  return out
end

local function check_values(fn, values)
  if type(values) ~= "table" then
    error(format("bad argument #1 to '%s' (table of values expected, got %s)", fn, fields.describe(values)), 3)
  end
end

local function index_keys(s, fn, name)
  local keys = s._index_keys[name]
  if not keys then
    error(format("bad argument #1 to '%s' (%s has no index %s)", fn, s.name,
      type(name) == "string" and "'" .. name .. "'" or fields.describe(name)), 3)
  end
  return keys
end

--- s:key(values): the primary key { pk = ..., sk = ... }, or nil and a
--- ValidationError ("User: key attribute 'pk' needs field 'id'").
function Schema:key(values)
  check_values("key", values)
  return keys_of(self, self._keys, values)
end

--- s:index_key(index_name, values): the index's key attributes, or nil when
--- a field they need is missing (the item is not in that sparse index).
function Schema:index_key(name, values)
  local keys = index_keys(self, "index_key", name)
  check_values("index_key", values)
  return (keys_of(self, keys, values))
end

local function fill(specs, values, mode, now, top)
  for _, name in ipairs(sorted_keys(specs)) do
    local f = specs[name]
    local auto = mode ~= "new" and f.auto
    if auto == "update" or auto == "create" and mode == "create" and absent(values[name]) then
      values[name] = now
    elseif mode ~= "update" and absent(values[name]) and f.default ~= nil then
      local d = f.default
      if type(d) == "function" then values[name] = d(top) else values[name] = fields.copy(d) end
    end
    -- A map is a whole value: its nested defaults apply whenever it is set.
    if f.fields and type(values[name]) == "table" then fill(f.fields, values[name], "new", now, top) end
  end
end

local MODES = { create = true, update = true }
local DEFAULTS_MODES = { create = true, update = true, new = true }

local function check_mode(fn, mode, modes)
  if mode == nil then return "create" end
  if not modes[mode] then
    local expected = modes.new and "\"create\", \"update\" or \"new\"" or "\"create\" or \"update\""
    error(format("bad argument #2 to '%s' (%s expected, got %s)", fn, expected,
      type(mode) == "string" and format("%q", mode) or fields.describe(mode)), 3)
  end
  return mode
end

--- s:defaults(values[, mode[, now]]): fills `values` in place and returns
--- it. mode "create" (default): defaults of missing fields (tables copied;
--- functions called with values), auto = "create" and "update" timestamps;
--- "update": auto = "update" timestamps only; "new": defaults only (for an
--- instance not saved yet; its timestamps come with "create" on save).
--- now: epoch seconds (os.time() when nil).
function Schema:defaults(values, mode, now)
  check_values("defaults", values)
  mode = check_mode("defaults", mode, DEFAULTS_MODES)
  fill(self.fields, values, mode, now or time(), values)
  return values
end

--- s:validate(values[, mode]): true, or nil and one ValidationError listing
--- every problem (err.problems = { { path =, message = }, ... }). mode
--- "create" (default) checks a whole record; "update" only the fields in
--- `values`, a partial change set.
function Schema:validate(values, mode)
  check_values("validate", values)
  return validate.check(self, values, check_mode("validate", mode, MODES))
end

--- s:to_item(values): the item to store (a new table: stored names, types
--- converted, `set` applied, keys, sparse index keys, entity and version
--- attributes), or nil and a ValidationError when a table key cannot be
--- computed. Validate first: values are not checked here.
function Schema:to_item(values)
  check_values("to_item", values)
  local item = {}
  for name, f in pairs(self.fields) do
    local v = fields.encode(f, values[name])
    if v ~= nil then item[f.attribute] = v end
  end
  local keys, err = keys_of(self, self._keys, values)
  if not keys then return nil, err end
  for a, v in pairs(keys) do item[a] = v end
  -- Index attributes whose fields are all present; the rest stay out, so the
  -- item stays out of those sparse indexes.
  for _, k in ipairs(self._templates) do
    if item[k.attribute] == nil then item[k.attribute] = (key_value(self, k.template, values)) end
  end
  if self.entity_attribute then item[self.entity_attribute] = self.name end
  if self.version_attribute then item[self.version_attribute] = self.schema_version end
  return item
end

--- s:from_item(item[, opts]): the values of a stored item (Lua names and
--- types, `get` applied, hidden fields only with opts.hidden), fields that
--- are not stored read back from the key templates; older items migrated
--- first. Returns values, migrated, the migrated raw item (nil when not
--- migrated); or nil and an error value (MigrationError, or DecodeError
--- for stored values of the wrong type).
function Schema:from_item(item, opts)
  if type(item) ~= "table" then
    error("bad argument #1 to 'from_item' (item table expected, got " .. fields.describe(item) .. ")", 2)
  end
  local raw, migrated = migrate.run(self, item)
  if not raw then return nil, migrated end
  local show_hidden = opts and opts.hidden
  local values, problems = {}, {}
  local function wanted(f) return f and (show_hidden or not f.hidden) and raw[f.attribute] == nil end
  for name, f in pairs(self.fields) do
    if show_hidden or not f.hidden then values[name] = fields.decode(f, raw[f.attribute], name, problems) end
  end
  for _, k in ipairs(self._templates) do
    local t, stored = k.template, raw[k.attribute]
    if t.exact then
      local f = self.fields[t.exact]
      -- A key of the wrong type is not this model's field: left out.
      if stored ~= nil and wanted(f) and values[t.exact] == nil then
        values[t.exact] = fields.decode(f, stored, t.exact, {})
      end
    elseif #t.fields > 0 then
      -- All of a template's fields read, or none: a key that does not
      -- parse is some other shape of key.
      local texts, got = template.parse_back(t, stored), {}
      for name, text in pairs(texts or {}) do
        got[name] = fields.parse(self.fields[name], text)
        if got[name] == nil then got = {} break end
      end
      for name, v in pairs(got) do
        if wanted(self.fields[name]) and values[name] == nil then values[name] = v end
      end
    end
  end
  if #problems > 0 then
    return nil, validate.error(self.name, problems, { code = "DecodeError", what = "unreadable" })
  end
  return values, migrated, migrated and raw or nil
end

--- s:templates_using(field_names): { { attribute = "gsi1pk", fields = { "email" } }, ... },
--- each key attribute (table's first, then indexes') whose template uses
--- any of the fields (a list of names, or a set name -> true).
function Schema:templates_using(names)
  if type(names) ~= "table" then
    error("bad argument #1 to 'templates_using' (table of field names expected, got "
      .. fields.describe(names) .. ")", 2)
  end
  local wanted = {}
  for k, v in pairs(names) do
    if type(k) == "number" then wanted[v] = true else wanted[k] = v and true or nil end
  end
  local out = {}
  for _, k in ipairs(self._templates) do
    for _, name in ipairs(k.template.fields) do
      if wanted[name] then
        local list = {}
        for i, n in ipairs(k.template.fields) do list[i] = n end
        out[#out + 1] = { attribute = k.attribute, fields = list }
        break
      end
    end
  end
  return out
end

--- s:key_condition(index_name, values): a key condition for Query on the
--- table (index_name nil) or an index. The partition key needs all its
--- fields; the sort key gives eq when all its fields are given, else
--- begins_with the prefix up to the last given one ("ORDER#2026-11"), or
--- no condition when that prefix is empty. Raises when it cannot be made.
--- s:partition(index_name, values): the partition key attribute of the
--- table (index_name nil) or of an index, and its value from values; or
--- nil and a ValidationError. Collections query a partition this way.
function Schema:partition(index_name, values)
  local keys = index_name == nil and self._keys or index_keys(self, "partition", index_name)
  check_values("partition", values)
  local pk = keys[1]
  local v, missing, bad, why = key_value(self, pk.template, values)
  if v == nil then return nil, key_error(self, pk.attribute, missing, bad, why) end
  return pk.attribute, v
end

function Schema:key_condition(index_name, values)
  local keys = self._keys
  local where = "query"
  if index_name ~= nil then
    keys = index_keys(self, "key_condition", index_name)
    where = format("query on index '%s'", index_name)
  end
  check_values("key_condition", values)
  local pk, sk = keys[1], keys[2]
  local v, missing, bad, why = key_value(self, pk.template, values)
  if bad then error(format("%s: %s: %s: %s", self.name, where, bad, why), 2) end
  if v == nil then
    error(format("%s: %s needs field%s %s for key attribute '%s'", self.name, where, #missing > 1 and "s" or "",
      quoted(missing), pk.attribute), 2)
  end
  local cond = key(pk.attribute):eq(v)
  if not sk then return cond end
  local t = sk.template
  local part
  if t.exact then
    -- Without its field, an exact sort key has no prefix to match.
    local sv, _, b, w = key_value(self, t, values)
    bad, why = b, w
    if sv ~= nil then part = key(sk.attribute):eq(sv) end
  else
    local kind, text, gap, after = template.prefix(t, function(name)
      local x = values[name]
      if absent(x) then return nil end
      local txt, msg = fields.text(self.fields[name], x)
      if not txt and not bad then bad, why = name, msg end
      return txt or ""
    end)
    if not kind and not bad then
      error(format("%s: %s: sort key '%s' ('%s') needs field '%s' before %s", self.name, where, sk.attribute,
        t.text, gap, quoted(after)), 2)
    end
    if kind == "eq" then
      part = key(sk.attribute):eq(text)
    elseif kind and text ~= "" then
      part = key(sk.attribute):begins_with(text)
    end
  end
  if bad then error(format("%s: %s: %s: %s", self.name, where, bad, why), 2) end
  if not part then return cond end
  return all { cond, part }
end

--- s:attribute(field_path): the stored path of a Lua field path, for
--- conditions written with field names: "address.city" -> "addr.city"
--- when address is stored as "addr". Free-form maps and lists pass through.
function Schema:attribute(p)
  local parsed, msg
  if type(p) == "string" then parsed, msg = path.parse(p) end
  if not parsed then
    error("bad argument #1 to 'attribute' (" .. (msg or "field path expected, got " .. fields.describe(p)) .. ")", 2)
  end
  local specs, spec, out = self.fields, nil, {}
  for i, seg in ipairs(parsed.segs) do
    if type(seg) == "number" then
      out[#out + 1] = "[" .. seg .. "]"
      spec = spec and spec.of
    else
      if specs then
        spec = specs[seg]
        if not spec then
          error(format("bad argument #1 to 'attribute' (%s has no field '%s' in '%s')", self.name, seg, p), 2)
        end
        seg = spec.attribute
      else
        spec = nil
      end
      out[#out + 1] = (i > 1 and "." or "") .. seg
    end
    specs = spec and spec.fields
  end
  return concat(out)
end

-- Attribute type of each key attribute, key schemas and projections, merged
-- over the models of one table.
local KEY_TYPES = { "HASH", "RANGE" }
local RANK = { KEYS_ONLY = 1, INCLUDE = 2, ALL = 3 }

local function key_schema(keys)
  local out = {}
  for i, k in ipairs(keys) do out[i] = { AttributeName = k.attribute, KeyType = KEY_TYPES[i] } end
  return out
end

local function names_of(keys)
  local out = {}
  for i, k in ipairs(keys) do out[i] = k.attribute end
  return concat(out, ", ")
end

-- The Projection of one model's index.
local function projection(s, ix, keys)
  local p = s.indexes[ix].projection
  if p == "all" then return { ProjectionType = "ALL" } end
  -- Keys are always projected; DynamoDB refuses them in NonKeyAttributes.
  local is_key = {}
  for _, k in ipairs(s._keys) do is_key[k.attribute] = true end
  for _, k in ipairs(keys) do is_key[k.attribute] = true end
  local attrs = {}
  -- "keys_only" still carries the entity and version attributes (as
  -- INCLUDE): queries filter on the entity type.
  if p ~= "keys_only" then
    for _, name in ipairs(p) do attrs[#attrs + 1] = s.fields[name].attribute end
  elseif not s.entity_attribute and not s.version_attribute then
    return { ProjectionType = "KEYS_ONLY" }
  end
  -- So that a query over several models can tell them apart and migrate.
  attrs[#attrs + 1] = s.entity_attribute
  attrs[#attrs + 1] = s.version_attribute
  local out = {}
  for _, a in ipairs(attrs) do
    if not is_key[a] then out[#out + 1] = a end
  end
  return { ProjectionType = "INCLUDE", NonKeyAttributes = out }
end

local function merge_projection(a, b)
  if RANK[b.ProjectionType] > RANK[a.ProjectionType] then return b end
  if a.ProjectionType == "INCLUDE" and b.ProjectionType == "INCLUDE" then
    local seen, out = {}, {}
    for _, list in ipairs { a.NonKeyAttributes, b.NonKeyAttributes } do
      for _, x in ipairs(list) do
        if not seen[x] then seen[x], out[#out + 1] = true, x end
      end
    end
    return { ProjectionType = "INCLUDE", NonKeyAttributes = out }
  end
  return a
end

--- s:table_definition([extra_schemas]): { TableName, AttributeDefinitions,
--- KeySchema, GlobalSecondaryIndexes, LocalSecondaryIndexes } for
--- CreateTable, with the indexes of other models of the same table merged
--- in (index lists left out when empty). Raises when the models disagree.
function Schema:table_definition(extra)
  local models = { self }
  if extra ~= nil then
    if type(extra) ~= "table" then
      error("bad argument #1 to 'table_definition' (list of schemas expected, got " .. fields.describe(extra) .. ")", 2)
    end
    for i, x in ipairs(extra) do
      if not M.is_schema(x) then
        error(format("bad argument #1 to 'table_definition' (schema expected at [%d], got %s)", i,
          fields.describe(x)), 2)
      end
      models[#models + 1] = x
    end
  end
  local function disagree(a, b, what, x, y)
    return format("models '%s' and '%s' disagree on %s: %s vs %s", a.name, b.name, what, x, y)
  end
  local attr_types, indexes = {}, {}
  -- Records the attribute types of keys; a message when one disagrees.
  local function use(s, keys)
    for _, k in ipairs(keys) do
      local prev = attr_types[k.attribute]
      if prev and prev.type ~= k.template.type then
        return disagree(prev.model, s, "attribute '" .. k.attribute .. "'", prev.type, k.template.type)
      end
      attr_types[k.attribute] = prev or { type = k.template.type, model = s }
    end
  end
  for _, s in ipairs(models) do
    local msg
    if s.table ~= self.table then
      msg = disagree(self, s, "the table", "'" .. self.table .. "'", "'" .. s.table .. "'")
    elseif names_of(s._keys) ~= names_of(self._keys) then
      msg = disagree(self, s, "the table's key attributes", names_of(self._keys), names_of(s._keys))
    end
    msg = msg or use(s, s._keys)
    if msg then error(msg, 2) end
    for _, name in ipairs(sorted_keys(s._index_keys)) do
      local keys, ix = s._index_keys[name], s.indexes[name]
      local prev = indexes[ix.name]
      local p = projection(s, name, keys)
      if prev then
        if prev.type ~= ix.type then
          msg = disagree(prev.model, s, "index '" .. ix.name .. "'", prev.type, ix.type)
        elseif prev.names ~= names_of(keys) then
          msg = disagree(prev.model, s, "index '" .. ix.name .. "'", "keys " .. prev.names, "keys " .. names_of(keys))
        end
        if not msg then prev.projection = merge_projection(prev.projection, p) end
      else
        indexes[ix.name] = { type = ix.type, names = names_of(keys), keys = keys, projection = p, model = s }
      end
      msg = msg or use(s, keys)
      if msg then error(msg, 2) end
    end
  end
  local defs = {}
  for _, a in ipairs(sorted_keys(attr_types)) do
    defs[#defs + 1] = { AttributeName = a, AttributeType = attr_types[a].type }
  end
  local out = { TableName = self.table, AttributeDefinitions = defs, KeySchema = key_schema(self._keys) }
  for _, name in ipairs(sorted_keys(indexes)) do
    local ix = indexes[name]
    local list = ix.type == "gsi" and "GlobalSecondaryIndexes" or "LocalSecondaryIndexes"
    out[list] = out[list] or {}
    local p = ix.projection
    if p.NonKeyAttributes then sort(p.NonKeyAttributes) end
    out[list][#out[list] + 1] = { IndexName = name, KeySchema = key_schema(ix.keys), Projection = p }
  end
  return out
end

--- s:check_immutable(old_values, new_values): nil, or a ValidationError
--- listing the immutable fields that had a value in old_values and differ
--- in new_values (nil or dynamo.null there counts as a change).
function Schema:check_immutable(old, new)
  check_values("check_immutable", old)
  if type(new) ~= "table" then
    error("bad argument #2 to 'check_immutable' (table of values expected, got " .. fields.describe(new) .. ")", 2)
  end
  local problems = {}
  for _, name in ipairs(sorted_keys(self.fields)) do
    local f, was, now = self.fields[name], old[name], new[name]
    if f.immutable and not absent(was) and (absent(now) or not fields.same(was, now)) then
      problems[#problems + 1] = { path = name, message = "cannot be changed (immutable)" }
    end
  end
  if #problems > 0 then return validate.error(self.name, problems) end
  return nil
end

return M
