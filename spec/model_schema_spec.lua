-- dynamo.model.schema without a server: definitions and their errors,
-- values to items and back for every field type, defaults, validation,
-- key templates, key conditions, CreateTable definitions, migrations.
local schema = require "dynamo.model.schema"
local dynamo = require "dynamo"

local null, set, binary, decimal = dynamo.null, dynamo.set, dynamo.binary, dynamo.decimal
local mtype = math.type or function() return "integer" end

local NOW = 1700000000           -- 2023-11-14T22:13:20Z
local NOW_ISO = "2023-11-14T22:13:20Z"

-- The model of the docs, fresh each time (tests change it).
local function user_def()
  return {
    name = "User",
    table = "app",
    keys = { pk = "USER#${id}", sk = "PROFILE" },
    indexes = {
      by_email = { type = "gsi", name = "gsi1", keys = { gsi1pk = "EMAIL#${email}", gsi1sk = "USER#${id}" },
                   projection = "all" },
      by_age = { type = "lsi", name = "lsi1", keys = { pk = "USER#${id}", lsi1sk = "${age}" } },
    },
    fields = {
      id = { type = "string", required = true, immutable = true, default = function() return "u1" end },
      email = { type = "string", required = true, pattern = "^[^@]+@[^@]+$", set = string.lower },
      age = { type = "integer", min = 0, max = 150 },
      role = { type = "enum", values = { "admin", "user" }, default = "user" },
      address = { type = "map", attribute = "addr", fields = {
        city = { type = "string", required = true },
        zip = { type = "string", attribute = "postcode" },
      } },
      tags = { type = "list", of = { type = "string", length = { 1, 8 } } },
      secret = { type = "string", hidden = true },
    },
  }
end

local function user() return schema.new(user_def()) end

-- A one-field model: { id, x = spec }, keyed by id alone.
local function one(spec)
  return schema.new { name = "T", table = "app", keys = { id = "${id}" },
    fields = { id = { type = "string" }, x = spec } }
end

describe("schema.new", function()
  it("exposes the normalised definition", function()
    local s = user()
    assert.are.equal("User", s.name)
    assert.are.equal("app", s.table)
    assert.are.equal("_type", s.entity_attribute)
    assert.is_nil(s.version_attribute)
    assert.is_nil(s.schema_version)
    assert.are.same({ "pk", "sk" }, s.key_attributes)
    assert.are.same({ type = "gsi", name = "gsi1", attributes = { "gsi1pk", "gsi1sk" }, projection = "all" },
      s.indexes.by_email)
    assert.are.same({ type = "lsi", name = "lsi1", attributes = { "pk", "lsi1sk" }, projection = "all" },
      s.indexes.by_age)
    assert.are.equal("addr", s.fields.address.attribute)
    assert.are.equal("map", s.fields.address.type)
    assert.are.equal("postcode", s.fields.address.fields.zip.attribute)
    assert.are.equal("city", s.fields.address.fields.city.attribute)
    assert.are.equal("email", s.fields.email.attribute)
    assert.are.equal("email", s.fields.email.name)
    assert.is_nil(s.version_field)
    assert.is_nil(s.ttl_field)
    assert.is_true(schema.is_schema(s))
  end)

  it("names the version, ttl and version attribute", function()
    local s = schema.new { name = "T", table = "app", keys = { id = "${id}" }, version = 3,
      migrations = { [1] = function(i) return i end, [2] = function(i) return i end },
      entity_attribute = false, version_attribute = "schema",
      fields = { id = { type = "string" }, n = { type = "version" }, expires = { type = "ttl" } } }
    assert.are.equal("n", s.version_field)
    assert.are.equal("expires", s.ttl_field)
    assert.are.equal("schema", s.version_attribute)
    assert.are.equal(3, s.schema_version)
    assert.is_nil(s.entity_attribute)
  end)

  it("takes keys in order as a list of pairs (an inverted index)", function()
    local d = user_def()
    d.indexes = { inverted = { type = "gsi", keys = { { "sk", "PROFILE" }, { "pk", "USER#${id}" } } } }
    local s = schema.new(d)
    assert.are.same({ "sk", "pk" }, s.indexes.inverted.attributes)
    assert.are.equal("inverted", s.indexes.inverted.name)
  end)

  it("tells partition from sort keys by name", function()
    for _, pair in ipairs { { "PK", "SK" }, { "hash", "range" }, { "gsi2pk", "gsi2sk" }, { "partitionKey", "sortKey" } } do
      local s = schema.new { name = "T", table = "app", keys = { [pair[2]] = "B#${b}", [pair[1]] = "A#${a}" },
        fields = { a = { type = "string" }, b = { type = "string" } } }
      assert.are.same(pair, s.key_attributes)
    end
  end)

  it("accepts extra top-level keys the caller handles", function()
    local d = user_def()
    d.methods = {}
    assert.are.equal("User", schema.new(d, { allow = { methods = true } }).name)
    assert.has_error(function() schema.new(d) end, "bad model 'User': methods (unknown option)")
  end)

  it("raises at the level asked for", function()
    local ok, msg = pcall(schema.new, { name = "User" }, { level = 1 })
    assert.is_false(ok)
    assert.matches("schema.lua:%d+: bad model 'User': table", msg)
    local function make(def)
      local s = schema.new(def, { level = 3 })
      return s
    end
    ok, msg = pcall(function()
      local s = make { name = "User" }   -- this line
      return s
    end)
    assert.is_false(ok)
    assert.matches("model_schema_spec.lua:%d+: bad model 'User': table", msg)
  end)

  it("re-exports uuid", function()
    assert.matches("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$", schema.uuid())
  end)
end)

describe("definition errors", function()
  -- { what, change to user_def() (or a whole definition), message }
  local cases = {
    { "not a table", 5, "bad model: definition (table expected, got number)" },
    { "no name", function(d) d.name = nil end, "bad model: name (non-empty string expected, got nil)" },
    { "an empty name", function(d) d.name = "" end, "bad model: name (non-empty string expected, got empty string)" },
    { "an unknown option", function(d) d.feilds = {} end, "bad model 'User': feilds (unknown option)" },
    { "no table", function(d) d.table = nil end,
      "bad model 'User': table (3 to 255 letters, digits, '_', '-' or '.' expected, got nil)" },
    { "a bad table name", function(d) d.table = "a b" end,
      "bad model 'User': table (3 to 255 letters, digits, '_', '-' or '.' expected, got \"a b\")" },
    { "a bad entity attribute", function(d) d.entity_attribute = 5 end,
      "bad model 'User': entity_attribute (non-empty string or false expected, got number)" },
    { "version 0", function(d) d.version = 0 end, "bad model 'User': version (positive integer expected, got number)" },
    { "a version attribute without version", function(d) d.version_attribute = "v" end,
      "bad model 'User': version_attribute (needs version)" },
    { "a version attribute that is the entity attribute", function(d) d.version, d.version_attribute = 2, "_type" end,
      "bad model 'User': version_attribute ('_type' is also the entity attribute)" },
    { "an empty version attribute", function(d) d.version, d.version_attribute = 2, "" end,
      "bad model 'User': version_attribute (non-empty string expected, got empty string)" },
    { "migrations without version", function(d) d.migrations = {} end, "bad model 'User': migrations (needs version)" },
    { "a migration past the version", function(d) d.version, d.migrations = 2, { [2] = print } end,
      "bad model 'User': migrations[2] (no such step: version is 2, so steps go from 1 to 1)" },
    { "a migration at version 1", function(d) d.version, d.migrations = 1, { [1] = print } end,
      "bad model 'User': migrations[1] (no such step: version is 1, so there are none)" },
    { "a migration that is not a function", function(d) d.version, d.migrations = 2, { "x" } end,
      "bad model 'User': migrations[1] (function expected, got string)" },
    { "no fields", function(d) d.fields = nil end, "bad model 'User': fields (required)" },
    { "a reserved field name", function(d) d.fields.save = { type = "string" } end,
      "bad model 'User': fields.save (reserved name: it would hide the instance method or field)" },
    { "a field name starting with _", function(d) d.fields._x = { type = "string" } end,
      "bad model 'User': fields._x (reserved name: names starting with '_' are for the library)" },
    { "a field name that is not a name", function(d) d.fields["my field"] = { type = "string" } end,
      "bad model 'User': fields[\"my field\"] (field names are letters, digits and '_', not starting with a digit)" },
    { "a field spec that is not a table", function(d) d.fields.age = "integer" end,
      "bad model 'User': fields.age (field spec table expected, got string)" },
    { "no type", function(d) d.fields.age = { min = 1 } end, "bad model 'User': fields.age.type (required)" },
    { "an unknown type", function(d) d.fields.age = { type = "int" } end,
      "bad model 'User': fields.age.type (unknown type 'int'; expected one of binary, binary_set, boolean, enum, "
        .. "integer, json, list, map, number, number_set, string, string_set, timestamp, ttl, version)" },
    { "an unknown option", function(d) d.fields.age.minimum = 1 end,
      "bad model 'User': fields.age.minimum (unknown option)" },
    { "an option of another type", function(d) d.fields.email.min = 1 end,
      "bad model 'User': fields.email.min (not an option of string fields)" },
    { "min of the wrong type", function(d) d.fields.age.min = "0" end,
      "bad model 'User': fields.age.min (number expected, got string)" },
    { "max below min", function(d) d.fields.age.min, d.fields.age.max = 5, 1 end,
      "bad model 'User': fields.age.max (1 is below min 5)" },
    { "length min above max", function(d) d.fields.email.length = { 5, 2 } end,
      "bad model 'User': fields.email.length (min 5 is above max 2)" },
    { "a negative length", function(d) d.fields.email.length = -1 end,
      "bad model 'User': fields.email.length (non-negative integer or { min, max } expected, got number)" },
    { "an empty length", function(d) d.fields.email.length = {} end,
      "bad model 'User': fields.email.length (empty; use { min, max })" },
    { "length with names", function(d) d.fields.email.length = { min = 1 } end,
      "bad model 'User': fields.email.length.min (unknown option; use { min, max })" },
    { "a malformed pattern", function(d) d.fields.email.pattern = "[a" end,
      "bad model 'User': fields.email.pattern (malformed pattern (missing ']'))" },
    { "an enum without values", function(d) d.fields.role.values = nil end,
      "bad model 'User': fields.role.values (required for enum fields)" },
    { "empty values", function(d) d.fields.role.values = {} end,
      "bad model 'User': fields.role.values (non-empty list of strings or numbers expected, got table)" },
    { "mixed values", function(d) d.fields.role.values = { "a", 1 } end,
      "bad model 'User': fields.role.values[2] (values must all be strings or all numbers)" },
    { "duplicate values", function(d) d.fields.role.values = { "a", "a" } end,
      "bad model 'User': fields.role.values[2] (duplicate value)" },
    { "a default of the wrong value", function(d) d.fields.role.default = "boss" end,
      "bad model 'User': fields.role.default (must be one of admin, user)" },
    { "a default of the wrong type", function(d) d.fields.age.default = "1" end,
      "bad model 'User': fields.age.default (integer expected, got string)" },
    { "required that is not a boolean", function(d) d.fields.email.required = "yes" end,
      "bad model 'User': fields.email.required (boolean expected, got string)" },
    { "set that is not a function", function(d) d.fields.email.set = 5 end,
      "bad model 'User': fields.email.set (function expected, got number)" },
    { "validate that is not a function", function(d) d.fields.email.validate = true end,
      "bad model 'User': fields.email.validate (function expected, got boolean)" },
    { "an empty attribute", function(d) d.fields.email.attribute = "" end,
      "bad model 'User': fields.email.attribute (non-empty string expected, got empty string)" },
    { "pad 0", function(d) d.fields.age.pad = 0 end,
      "bad model 'User': fields.age.pad (integer from 1 to 18 expected, got number)" },
    { "pad on a string", function(d) d.fields.email.pad = 3 end,
      "bad model 'User': fields.email.pad (not an option of string fields)" },
    { "a bad timestamp format", function(d) d.fields.at = { type = "timestamp", format = "unix" } end,
      "bad model 'User': fields.at.format (\"iso8601\" or \"epoch\" expected, got string)" },
    { "a bad auto", function(d) d.fields.at = { type = "timestamp", auto = "always" } end,
      "bad model 'User': fields.at.auto (\"create\" or \"update\" expected, got string)" },
    { "hidden in a nested field", function(d) d.fields.address.fields.city.hidden = true end,
      "bad model 'User': fields.address.fields.city.hidden (not allowed in a nested field)" },
    { "a nested ttl", function(d) d.fields.address.fields.exp = { type = "ttl" } end,
      "bad model 'User': fields.address.fields.exp.type (ttl fields must be top-level)" },
    { "a bad nested name", function(d) d.fields.address.fields["a.b"] = { type = "string" } end,
      "bad model 'User': fields.address.fields[\"a.b\"] (field names are letters, digits and '_', not starting with a digit)" },
    { "two nested fields stored alike", function(d) d.fields.address.fields.zip.attribute = "city" end,
      "bad model 'User': fields.address.fields.zip.attribute (stored as 'city', like field 'city')" },
    { "fields that are not a table", function(d) d.fields.address.fields = true end,
      "bad model 'User': fields.address.fields (table of field specs expected, got boolean)" },
    { "required list elements", function(d) d.fields.tags.of.required = true end,
      "bad model 'User': fields.tags.of.required (not allowed for list elements)" },
    { "a bad element type", function(d) d.fields.tags.of.type = "version" end,
      "bad model 'User': fields.tags.of.type (version fields must be top-level)" },
    { "two ttl fields", function(d) d.fields.a, d.fields.b = { type = "ttl" }, { type = "ttl" } end,
      "bad model 'User': fields.b.type (a model has at most one ttl field; 'a' is one)" },
    { "two version fields", function(d) d.fields.a, d.fields.b = { type = "version" }, { type = "version" } end,
      "bad model 'User': fields.b.type (a model has at most one version field; 'a' is one)" },
    { "two fields stored alike", function(d) d.fields.secret.attribute = "email" end,
      "bad model 'User': fields.secret.attribute (stored as 'email', like field 'email')" },
    { "a field stored as another's name", function(d) d.fields.age.attribute = "email" end,
      "bad model 'User': fields.email (stored as 'email', like field 'age')" },
    { "a field stored as the entity attribute", function(d) d.fields.email.attribute = "_type" end,
      "bad model 'User': fields.email.attribute (stored as '_type', the entity attribute)" },
    { "a field stored as the version attribute", function(d) d.version, d.fields.email.attribute = 2, "_v" end,
      "bad model 'User': fields.email.attribute (stored as '_v', the version attribute)" },
    { "no keys", function(d) d.keys = nil end, "bad model 'User': keys (required)" },
    { "keys that are not a table", function(d) d.keys = "pk" end, "bad model 'User': keys (table expected, got string)" },
    { "three keys", function(d) d.keys.x = "X" end, "bad model 'User': keys (1 or 2 key attributes expected, got 3)" },
    { "no key", function(d) d.keys = {} end, "bad model 'User': keys (1 or 2 key attributes expected, got 0)" },
    { "keys of unclear roles", function(d) d.keys = { a = "A", b = "B" } end,
      "bad model 'User': keys (cannot tell the partition key from the sort key: name them like pk and sk, "
        .. "or list them in order: { { \"a\", ... }, { \"b\", ... } })" },
    { "keys in mixed forms", function(d) d.keys = { { "pk", "A" }, sk = "B" } end,
      "bad model 'User': keys.sk (mixed forms; use a list of { attribute, template })" },
    { "a bad key pair", function(d) d.keys = { { "pk" } } end,
      "bad model 'User': keys[1] ({ attribute, template } expected, got table)" },
    { "a template that is not a string", function(d) d.keys.sk = 5 end,
      "bad model 'User': keys.sk (template string expected, got number)" },
    { "an empty template", function(d) d.keys.sk = "" end, "bad model 'User': keys.sk (empty template)" },
    { "an unknown template field", function(d) d.keys.pk = "USER#${idd}" end,
      "bad model 'User': keys.pk (unknown field 'idd' in template 'USER#${idd}')" },
    { "an unclosed reference", function(d) d.keys.pk = "USER#${id" end,
      "bad model 'User': keys.pk (unclosed '${' at character 6)" },
    { "a bad reference", function(d) d.keys.pk = "USER#${1x}" end,
      "bad model 'User': keys.pk (bad field reference '${1x}' (a field name expected))" },
    { "fields side by side", function(d) d.keys.sk = "${email}${age}" end,
      "bad model 'User': keys.sk (fields 'email' and 'age' need a separator between them)" },
    { "a field twice", function(d) d.keys.sk = "${age}#${age}" end,
      "bad model 'User': keys.sk (field 'age' appears twice)" },
    { "a set in a key", function(d) d.fields.s = { type = "string_set" }; d.keys.sk = "S#${s}" end,
      "bad model 'User': keys.sk (string_set field 's' cannot be a key)" },
    { "a map alone as a key", function(d) d.keys.sk = "${address}" end,
      "bad model 'User': keys.sk (map field 'address' cannot be a key)" },
    { "json in a key", function(d) d.fields.j = { type = "json" }; d.keys.sk = "J#${j}" end,
      "bad model 'User': keys.sk (json field 'j' cannot be a key)" },
    { "binary inside a template", function(d) d.fields.b = { type = "binary" }; d.keys.sk = "B#${b}" end,
      "bad model 'User': keys.sk (binary field 'b' can be a key only on its own, as '${b}')" },
    { "a boolean alone as a key", function(d) d.fields.b = { type = "boolean" }; d.keys.sk = "${b}" end,
      "bad model 'User': keys.sk (boolean field 'b' cannot be a key; DynamoDB keys are strings, numbers or binary)" },
    { "a key stored where a field is", function(d) d.indexes = nil; d.keys = { email = "E#${email}" } end,
      "bad model 'User': keys.email (attribute 'email' is where field 'email' is stored; use '${email}' or another name)" },
    { "a key that is the entity attribute", function(d) d.indexes = nil; d.keys = { _type = "${id}" } end,
      "bad model 'User': keys._type (attribute '_type' is the entity attribute)" },
    { "a key that is the version attribute", function(d) d.indexes = nil; d.version = 2; d.keys = { _v = "${id}" } end,
      "bad model 'User': keys._v (attribute '_v' is the version attribute)" },
    { "indexes that are not a table", function(d) d.indexes = 5 end,
      "bad model 'User': indexes (table expected, got number)" },
    { "an index that is not a table", function(d) d.indexes.by_email = "gsi1" end,
      "bad model 'User': indexes.by_email (index table expected, got string)" },
    { "an unknown index option", function(d) d.indexes.by_email.kind = "gsi" end,
      "bad model 'User': indexes.by_email.kind (unknown option)" },
    { "an index without type", function(d) d.indexes.by_email.type = nil end,
      "bad model 'User': indexes.by_email.type (required)" },
    { "an index of a bad type", function(d) d.indexes.by_email.type = "global" end,
      "bad model 'User': indexes.by_email.type (\"gsi\" or \"lsi\" expected, got string)" },
    { "an index without keys", function(d) d.indexes.by_email.keys = nil end,
      "bad model 'User': indexes.by_email.keys (required)" },
    { "a bad index name", function(d) d.indexes.by_email.name = "g" end,
      "bad model 'User': indexes.by_email.name (3 to 255 letters, digits, '_', '-' or '.' expected, got \"g\")" },
    { "a bad default index name", function(d) d.indexes = { ["by email"] = { type = "gsi", keys = { gpk = "${email}" } } } end,
      "bad model 'User': indexes[\"by email\"] (3 to 255 letters, digits, '_', '-' or '.' expected, got \"by email\")" },
    { "two indexes of one name", function(d) d.indexes.by_age.name = "gsi1" end,
      "bad model 'User': indexes.by_email (index name 'gsi1' is also used by indexes.by_age)" },
    { "an index key with another template", function(d)
        d.indexes.inverted = { type = "gsi", keys = { { "sk", "USER#${id}" }, { "pk", "USER#${id}" } } }
      end,
      "bad model 'User': indexes.inverted.keys[1][2] (attribute 'sk' has the template 'PROFILE' at keys.sk)" },
    { "a local index with another partition template", function(d) d.indexes.by_age.keys.pk = "U#${id}" end,
      "bad model 'User': indexes.by_age.keys.pk (attribute 'pk' has the template 'USER#${id}' at keys.pk)" },
    { "a local index with another partition key", function(d) d.indexes.by_age.keys = { gpk = "U#${id}", lsi1sk = "${age}" } end,
      "bad model 'User': indexes.by_age.keys (a local index has the table's partition key (pk = 'USER#${id}') and a sort key)" },
    { "a local index with one key", function(d) d.indexes.by_age.keys = { lsi1sk = "${age}" } end,
      "bad model 'User': indexes.by_age.keys (a local index has the table's partition key (pk = 'USER#${id}') and a sort key)" },
    { "a local index with the table's sort key", function(d) d.indexes.by_age.keys = { pk = "USER#${id}", sk = "PROFILE" } end,
      "bad model 'User': indexes.by_age.keys (a local index needs a sort key other than the table's)" },
    { "a local index on a table without sort key", function(d) d.keys.sk = nil end,
      "bad model 'User': indexes.by_age (a local index needs a table with a sort key)" },
    { "a bad projection", function(d) d.indexes.by_email.projection = "some" end,
      "bad model 'User': indexes.by_email.projection (\"all\", \"keys_only\" or a list of field names expected, got string)" },
    { "a projection of an unknown field", function(d) d.indexes.by_email.projection = { "email", "nope" } end,
      "bad model 'User': indexes.by_email.projection[2] (unknown field 'nope')" },
    { "a projection with a field twice", function(d) d.indexes.by_email.projection = { "email", "email" } end,
      "bad model 'User': indexes.by_email.projection[2] (duplicate field 'email')" },
  }
  for _, c in ipairs(cases) do
    it("rejects " .. c[1], function()
      local def = c[2]
      if type(def) == "function" then
        def = user_def()
        c[2](def)
      end
      assert.has_error(function() schema.new(def) end, c[3])
    end)
  end
end)

describe("field types", function()
  local NONE = {}   -- a value read back as nil
  -- { type, spec, Lua value, stored value, value read back (default: the Lua value) }
  local cases = {
    { "string", { type = "string" }, "héllo", "héllo" },
    { "number (float)", { type = "number" }, 1.5, 1.5 },
    { "number (decimal)", { type = "number" }, decimal("12345678901234567890.5"), decimal("12345678901234567890.5") },
    { "integer", { type = "integer" }, 42, 42 },
    { "integer (integral float)", { type = "integer" }, 42.0, 42, 42 },
    { "boolean false", { type = "boolean" }, false, false },
    { "binary from a string", { type = "binary" }, "\0\1\255", binary("\0\1\255") },
    { "binary from dynamo.binary", { type = "binary" }, binary("ab"), binary("ab"), "ab" },
    { "list", { type = "list" }, { "a", 1, true }, { "a", 1, true } },
    { "empty list", { type = "list" }, {}, {} },
    { "list of timestamps", { type = "list", of = { type = "timestamp" } }, { 0, NOW }, { "1970-01-01T00:00:00Z", NOW_ISO } },
    { "free-form map", { type = "map" }, { a = 1, b = { c = "d" } }, { a = 1, b = { c = "d" } } },
    { "map with fields", { type = "map", fields = { city = { type = "string", attribute = "c" },
      at = { type = "timestamp" } } }, { city = "Paris", at = 0 }, { c = "Paris", at = "1970-01-01T00:00:00Z" } },
    { "string set", { type = "string_set" }, set { "a", "b" }, set { "a", "b" } },
    { "string set from a list", { type = "string_set" }, { "a", "b", "a" }, set { "a", "b" }, set { "a", "b" } },
    { "number set", { type = "number_set" }, set { 1, 2.5 }, set { 1, 2.5 } },
    { "binary set", { type = "binary_set" }, set { "x", "y" }, set { binary("x"), binary("y") } },
    { "empty set (not stored)", { type = "string_set" }, set {}, nil, NONE },
    { "json list", { type = "json" }, { 1, "two", true }, '[1,"two",true]' },
    { "json object", { type = "json" }, { a = { b = 1 } }, '{"a":{"b":1}}' },
    { "json string", { type = "json" }, "x", '"x"' },
    { "enum of strings", { type = "enum", values = { "a", "b" } }, "b", "b" },
    { "enum of numbers", { type = "enum", values = { 1, 2 } }, 2, 2 },
    { "timestamp (ISO 8601)", { type = "timestamp" }, NOW, NOW_ISO },
    { "timestamp with milliseconds", { type = "timestamp" }, NOW + 0.25, "2023-11-14T22:13:20.250Z" },
    { "timestamp before 1970", { type = "timestamp" }, -1, "1969-12-31T23:59:59Z" },
    { "timestamp on a leap day", { type = "timestamp" }, 951782400, "2000-02-29T00:00:00Z" },
    { "timestamp in year 9999", { type = "timestamp" }, 253402300799, "9999-12-31T23:59:59Z" },
    { "timestamp in year 0", { type = "timestamp" }, -62167219200, "0000-01-01T00:00:00Z" },
    { "timestamp (epoch)", { type = "timestamp", format = "epoch" }, NOW, NOW },
    { "ttl", { type = "ttl" }, NOW, NOW },
    { "version", { type = "version" }, 3, 3 },
    { "set and get", { type = "string", set = string.upper, get = function(v) return v .. "!" end }, "a", "A", "A!" },
  }
  for _, c in ipairs(cases) do
    it("round-trips " .. c[1], function()
      local s = one(c[2])
      local item = assert(s:to_item { id = "i", x = c[3] })
      assert.are.same(c[4], item.x)
      assert.are.same({ id = "i", x = c[4], _type = "T" }, item)
      if c[2].type == "binary" then assert.is_true(dynamo.is_binary(item.x)) end
      if c[2].type:match("_set$") and c[4] then assert.is_true(dynamo.is_set(item.x)) end
      local back = s:from_item(item)
      local want = c[5]
      if want == nil then want = c[3] elseif want == NONE then want = nil end
      assert.are.same(want, back.x)
    end)
  end

  it("keeps integers integers", function()
    local s = one { type = "integer" }
    assert.are.equal("integer", mtype(s:to_item { id = "i", x = 42.0 }.x))
    assert.are.equal("integer", mtype(s:from_item { id = "i", x = decimal("7") }.x))
  end)

  it("reads ISO 8601 with an offset or a fraction", function()
    local s = one { type = "timestamp" }
    assert.are.equal(NOW, s:from_item { id = "i", x = "2023-11-14T23:13:20+01:00" }.x)
    assert.are.equal(NOW, s:from_item { id = "i", x = "2023-11-14T21:43:20-0030" }.x)
    assert.are.equal(NOW + 0.5, s:from_item { id = "i", x = "2023-11-14T22:13:20.5Z" }.x)
  end)

  it("reads NULL as absent", function()
    assert.are.same({ id = "i" }, one { type = "string" }:from_item { id = "i", x = null })
  end)

  it("does not store nil or dynamo.null", function()
    local s = one { type = "string" }
    assert.are.same({ id = "i", _type = "T" }, s:to_item { id = "i", x = null })
    assert.are.same({ id = "i", _type = "T" }, s:to_item { id = "i" })
  end)

  -- { what, spec, stored value, message }
  local unreadable = {
    { "a string", { type = "string" }, 5, "x: string expected, got number" },
    { "an integer", { type = "integer" }, 1.5, "x: integer expected, got number" },
    { "a boolean", { type = "boolean" }, "true", "x: boolean expected, got string" },
    { "a number", { type = "number" }, "1", "x: number expected, got string" },
    { "binary", { type = "binary" }, 1, "x: binary expected, got number" },
    { "a set", { type = "string_set" }, { "a" }, "x: string set expected, got table" },
    { "a list", { type = "list" }, { a = 1 }, "x: list expected, got table" },
    { "a list element", { type = "list", of = { type = "integer" } }, { 1, "2" }, "x[2]: integer expected, got string" },
    { "a map", { type = "map" }, "m", "x: map expected, got string" },
    { "a nested field", { type = "map", fields = { city = { type = "string" } } }, { city = 1 },
      "x.city: string expected, got number" },
    { "JSON", { type = "json" }, "{", "x: not valid JSON" },
    { "JSON that is not text", { type = "json" }, 1, "x: JSON text expected, got number" },
    { "an enum", { type = "enum", values = { "a" } }, "b", "x: not one of the values: b" },
    { "an ISO 8601 time", { type = "timestamp" }, "yesterday", "x: not an ISO 8601 time: yesterday" },
    { "an ISO 8601 date that does not exist", { type = "timestamp" }, "2023-02-30T00:00:00Z",
      "x: not an ISO 8601 time: 2023-02-30T00:00:00Z" },
    { "an epoch time", { type = "timestamp", format = "epoch" }, "1", "x: number expected, got string" },
  }
  for _, c in ipairs(unreadable) do
    it("reports an unreadable " .. c[1], function()
      local values, err = one(c[2]):from_item { id = "i", x = c[3] }
      assert.is_nil(values)
      assert.are.equal("DecodeError", err.code)
      assert.are.equal("T: 1 unreadable field: " .. c[4], err.message)
    end)
  end
end)

describe("s:validate", function()
  -- { what, spec, value, problem (nil: valid) }
  local cases = {
    { "a string", { type = "string" }, 5, "string expected, got number" },
    { "a short string", { type = "string", length = { 2, 4 } }, "a", "length must be at least 2 characters" },
    { "a long string", { type = "string", length = { 2, 4 } }, "abcde", "length must be at most 4 characters" },
    { "a length in characters", { type = "string", length = 3 }, "été", nil },
    { "an exact length", { type = "string", length = 3 }, "ab", "length must be 3 characters" },
    { "a max length only", { type = "string", length = { nil, 1 } }, "ab", "length must be at most 1 characters" },
    { "a pattern", { type = "string", pattern = "^%d+$" }, "12a", "does not match the pattern" },
    { "a matching pattern", { type = "string", pattern = "^%d+$" }, "12", nil },
    { "a binary length", { type = "binary", length = 2 }, "abc", "length must be 2 bytes" },
    { "binary", { type = "binary" }, 5, "binary or string expected, got number" },
    { "a list length", { type = "list", length = { 1 } }, {}, "length must be at least 1" },
    { "a set length", { type = "string_set", length = { nil, 1 } }, set { "a", "b" }, "length must be at most 1" },
    { "a map length", { type = "map", length = 1 }, { a = 1, b = 2 }, "length must be 1" },
    { "min", { type = "number", min = 0 }, -1, "must be at least 0" },
    { "max", { type = "number", max = 1 }, 1.5, "must be at most 1" },
    { "max of a decimal", { type = "number", max = 150 }, decimal("200"), "must be at most 150" },
    { "NaN", { type = "number" }, 0 / 0, "NaN and infinity cannot be stored" },
    { "an integer", { type = "integer" }, 1.5, "integer expected, got 1.5" },
    { "an integer, not text", { type = "integer" }, "3", "integer expected, got string" },
    { "padding width", { type = "integer", pad = 3 }, 1000, "has more than 3 digits (padded)" },
    { "padding sign", { type = "integer", pad = 3 }, -1, "must be at least 0 (padded)" },
    { "a boolean", { type = "boolean" }, "yes", "boolean expected, got string" },
    { "an enum", { type = "enum", values = { "admin", "user" } }, "boss", "must be one of admin, user" },
    { "a set element", { type = "string_set" }, { "a", 2 }, "string expected, got number", "x[2]" },
    { "a set", { type = "number_set" }, "a", "number set expected, got string" },
    { "a list", { type = "list" }, { a = 1 }, "list expected, got table" },
    { "a list element", { type = "list", of = { type = "integer", min = 1 } }, { 1, 0 }, "must be at least 1", "x[2]" },
    { "map keys", { type = "map" }, { 1, 2 }, "map keys must be strings, got number" },
    { "JSON", { type = "json" }, { f = print }, "cannot be stored as JSON (Cannot serialise function: type not supported)" },
    { "a timestamp", { type = "timestamp" }, "now", "number (epoch seconds) expected, got string" },
    { "a timestamp out of range", { type = "timestamp" }, 1e12, "out of range (years 0000 to 9999)" },
    { "an epoch timestamp far off", { type = "timestamp", format = "epoch" }, 1e12, nil },
    { "a ttl", { type = "ttl" }, -5, "must be at least 0" },
    { "a version", { type = "version" }, 1.5, "integer expected, got 1.5" },
    { "a custom check", { type = "string", validate = function(v) return v ~= "x", "must not be x" end }, "x",
      "must not be x" },
    { "a custom check without message", { type = "string", validate = function() return nil end }, "x", "is invalid" },
    { "a custom check that passes", { type = "string", validate = function() return true end }, "x", nil },
    { "a custom check seeing all values", { type = "string", validate = function(v, all)
        return v == all.id, "must equal id" end }, "j", "must equal id" },
    { "a custom check after a type error", { type = "string", validate = error }, 5, "string expected, got number" },
  }
  for _, c in ipairs(cases) do
    it("checks " .. c[1], function()
      local ok, err = one(c[2]):validate { id = "i", x = c[3] }
      if c[4] == nil then
        assert.is_true(ok)
      else
        assert.is_nil(ok)
        local p = c[5] or "x"
        assert.are.same({ code = "ValidationError", message = "T: 1 invalid field: " .. p .. ": " .. c[4],
          problems = { { path = p, message = c[4] } }, retryable = false, throttle = false }, err)
        assert.is_true(dynamo.is_error(err))
      end
    end)
  end

  it("lists every problem at once, with paths", function()
    local ok, err = user():validate {
      email = "nope", age = 200, role = "boss", address = { zip = 75 }, tags = { "ok", "", "x" }, extra = 1,
    }
    assert.is_nil(ok)
    assert.are.equal("User: 8 invalid fields: address.city: required; address.zip: string expected, got number; "
      .. "age: must be at most 150; email: does not match the pattern; extra: unknown field; id: required; "
      .. "role: must be one of admin, user; tags[2]: length must be at least 1 characters", err.message)
    assert.are.same({
      { path = "address.city", message = "required" },
      { path = "address.zip", message = "string expected, got number" },
      { path = "age", message = "must be at most 150" },
      { path = "email", message = "does not match the pattern" },
      { path = "extra", message = "unknown field" },
      { path = "id", message = "required" },
      { path = "role", message = "must be one of admin, user" },
      { path = "tags[2]", message = "length must be at least 1 characters" },
    }, err.problems)
  end)

  it("counts a dynamo.null as missing", function()
    local _, err = user():validate { id = "u1", email = null }
    assert.are.equal("User: 1 invalid field: email: required", err.message)
  end)

  it("checks only the fields of a change in update mode", function()
    local s = user()
    assert.is_true(s:validate({ age = 3 }, "update"))
    assert.is_true(s:validate({ age = null }, "update"))
    local _, err = s:validate({ email = null, age = -1 }, "update")
    assert.are.equal("User: 2 invalid fields: age: must be at least 0; email: required", err.message)
    -- A map is a whole value, even in an update.
    _, err = s:validate({ address = {} }, "update")
    assert.are.equal("User: 1 invalid field: address.city: required", err.message)
  end)

  it("accepts a valid record", function()
    assert.is_true(user():validate { id = "u1", email = "a@b", address = { city = "Paris" }, tags = { "x" } })
  end)

  it("rejects a bad mode", function()
    assert.has_error(function() user():validate({}, "put") end,
      "bad argument #2 to 'validate' (\"create\" or \"update\" expected, got \"put\")")
    assert.has_error(function() user():validate(nil) end,
      "bad argument #1 to 'validate' (table of values expected, got nil)")
  end)
end)

describe("s:defaults", function()
  it("fills defaults on create, from values and functions", function()
    local s = schema.new { name = "T", table = "app", keys = { id = "${id}" }, fields = {
      id = { type = "string", default = function(v) return "id-" .. v.name end },
      name = { type = "string" },
      role = { type = "enum", values = { "a", "b" }, default = "b" },
      count = { type = "integer", default = 0 },
    } }
    local v = { name = "n", count = 5 }
    assert.are.equal(v, s:defaults(v))
    assert.are.same({ id = "id-n", name = "n", role = "b", count = 5 }, v)
    assert.are.same({ name = "m" }, s:defaults({ name = "m" }, "update"))
    assert.are.same({ id = "id-m", name = "m", role = "b", count = 0 }, s:defaults({ name = "m" }, "new"))
  end)

  it("copies table defaults for each record", function()
    local s = schema.new { name = "T", table = "app", keys = { id = "${id}" }, fields = {
      id = { type = "string" },
      prefs = { type = "map", default = { theme = { "dark" } } },
      tags = { type = "string_set", default = set { "new" } },
    } }
    local a, b = s:defaults {}, s:defaults {}
    assert.are.same({ theme = { "dark" } }, a.prefs)
    assert.are_not.equal(a.prefs, b.prefs)
    assert.are_not.equal(a.prefs.theme, b.prefs.theme)
    a.prefs.theme[1] = "light"
    assert.are.same({ "dark" }, s:defaults({}).prefs.theme)
    assert.is_true(dynamo.is_set(a.tags))
    assert.are_not.equal(a.tags, b.tags)
  end)

  it("fills nested defaults of a map that is set", function()
    local s = schema.new { name = "T", table = "app", keys = { id = "${id}" }, fields = {
      id = { type = "string" },
      address = { type = "map", fields = { country = { type = "string", default = "FR" } } },
    } }
    assert.are.same({ address = { country = "FR" } }, s:defaults { address = {} })
    assert.are.same({ address = { country = "FR" } }, s:defaults({ address = {} }, "update"))
    assert.are.same({}, s:defaults {})
  end)

  it("sets auto timestamps", function()
    local s = schema.new { name = "T", table = "app", keys = { id = "${id}" }, fields = {
      id = { type = "string" },
      created = { type = "timestamp", auto = "create" },
      updated = { type = "timestamp", auto = "update", format = "epoch" },
    } }
    assert.are.same({ created = NOW, updated = NOW }, s:defaults({}, "create", NOW))
    assert.are.same({ created = 5, updated = NOW }, s:defaults({ created = 5, updated = 6 }, "create", NOW))
    assert.are.same({ updated = NOW }, s:defaults({}, "update", NOW))
    -- An instance not saved yet: its timestamps come on save.
    assert.are.same({}, s:defaults({}, "new", NOW))
    local before = os.time()
    local v = s:defaults {}
    assert.is_true(v.created >= before and v.created <= os.time())
    local item = s:to_item { id = "i", created = NOW, updated = NOW }
    assert.are.same({ id = "i", created = NOW_ISO, updated = NOW, _type = "T" }, item)
  end)

  it("rejects a bad mode", function()
    assert.has_error(function() user():defaults({}, 1) end,
      "bad argument #2 to 'defaults' (\"create\", \"update\" or \"new\" expected, got number)")
  end)
end)

describe("key templates", function()
  local function orders(fields_patch)
    local f = {
      customer = { type = "string" },
      date = { type = "string" },
      order_id = { type = "string" },
      n = { type = "integer", pad = 5 },
      m = { type = "integer" },
      price = { type = "number" },
      active = { type = "boolean" },
      at = { type = "timestamp" },
      status = { type = "enum", values = { "open", "done" } },
    }
    for k, v in pairs(fields_patch or {}) do f[k] = v end
    return schema.new { name = "Order", table = "app",
      keys = { pk = "CUST#${customer}", sk = "ORDER#${date}#${order_id}" },
      indexes = {
        by_n = { type = "gsi", name = "gsi1", keys = { gsi1pk = "N#${n}", gsi1sk = "M#${m}" } },
        by_price = { type = "gsi", name = "gsi2", keys = { gsi2pk = "P#${price}", gsi2sk = "A#${active}#${status}" } },
        by_at = { type = "gsi", name = "gsi3", keys = { gsi3pk = "AT#${at}" } },
      },
      fields = f }
  end

  it("computes the table key and every index key it can", function()
    local s = orders()
    assert.are.same({ pk = "CUST#c1", sk = "ORDER#2026-11-21#o1" },
      s:key { customer = "c1", date = "2026-11-21", order_id = "o1" })
    local item = s:to_item { customer = "c1", date = "2026-11-21", order_id = "o1", n = 42, m = 7, price = 1.5,
      active = true, status = "open", at = NOW }
    assert.are.same({
      pk = "CUST#c1", sk = "ORDER#2026-11-21#o1", gsi1pk = "N#00042", gsi1sk = "M#7", gsi2pk = "P#1.5",
      gsi2sk = "A#true#open", gsi3pk = "AT#" .. NOW_ISO, customer = "c1", date = "2026-11-21", order_id = "o1",
      n = 42, m = 7, price = 1.5, active = true, status = "open", at = NOW_ISO, _type = "Order",
    }, item)
  end)

  it("leaves out index keys whose fields are missing (sparse indexes)", function()
    local s = orders()
    local item = s:to_item { customer = "c1", date = "d", order_id = "o", n = 1 }
    assert.are.equal("N#00001", item.gsi1pk)
    assert.is_nil(item.gsi1sk)
    assert.is_nil(item.gsi2pk)
    assert.is_nil(s:index_key("by_n", { n = 1 }))
    assert.are.same({ gsi1pk = "N#00001", gsi1sk = "M#2" }, s:index_key("by_n", { n = 1, m = 2 }))
    assert.has_error(function() s:index_key("nope", {}) end, "bad argument #1 to 'index_key' (Order has no index 'nope')")
  end)

  it("applies set transforms in keys", function()
    local item = user():to_item { id = "u1", email = "A@B.C" }
    assert.are.equal("EMAIL#a@b.c", item.gsi1pk)
    assert.are.equal("a@b.c", item.email)
  end)

  it("reports the fields a table key lacks", function()
    local s = orders()
    local item, err = s:to_item { customer = "c1" }
    assert.is_nil(item)
    assert.are.equal("ValidationError", err.code)
    assert.are.equal("Order: key attribute 'sk' needs fields 'date', 'order_id'", err.message)
    assert.are.same({ { path = "date", message = "needed for key attribute 'sk'" },
      { path = "order_id", message = "needed for key attribute 'sk'" } }, err.problems)
    local _, err2 = user():key {}
    assert.are.equal("User: key attribute 'pk' needs field 'id'", err2.message)
    local _, err3 = user():key { id = 5 }
    assert.are.equal("User: key attribute 'pk': id: string expected, got number", err3.message)
    local _, err4 = orders():index_key("by_n", { n = 123456 })
    assert.is_nil(err4)
  end)

  it("keeps the type of a key that is a field alone", function()
    local s = schema.new { name = "T", table = "app", keys = { { "id", "${id}" }, { "at", "${at}" } },
      fields = { id = { type = "integer" }, at = { type = "timestamp" }, data = { type = "binary" } },
      indexes = { by_data = { type = "gsi", keys = { data = "${data}" } } } }
    local item = s:to_item { id = 7.0, at = NOW, data = "\1" }
    assert.are.same({ id = 7, at = NOW_ISO, data = binary("\1"), _type = "T" }, item)
    assert.are.equal("integer", mtype(item.id))
    assert.are.same({ id = 7, at = NOW_ISO }, s:key { id = 7, at = NOW })
  end)

  it("reads fields back from keys when they are not stored", function()
    local s = orders()
    local values = s:from_item {
      pk = "CUST#c1", sk = "ORDER#2026-11-21#o1#x", gsi1pk = "N#00042", gsi1sk = "M#7", gsi2pk = "P#1.5",
      gsi2sk = "A#false#done", gsi3pk = "AT#" .. NOW_ISO, _type = "Order",
    }
    assert.are.same({ customer = "c1", date = "2026-11-21", order_id = "o1#x", n = 42, m = 7, price = 1.5,
      active = false, status = "done", at = NOW }, values)
    assert.are.equal("integer", mtype(values.n))
    assert.are.equal("integer", mtype(values.m))
  end)

  it("prefers stored attributes and skips keys of another shape", function()
    local s = orders()
    assert.are.same({ customer = "real", date = "d", order_id = "o" },
      s:from_item { pk = "CUST#other", sk = "ORDER#d#o", customer = "real" })
    assert.are.same({}, s:from_item { pk = "OTHER#x", sk = "PROFILE", gsi1pk = "N#abc", gsi2sk = "A#maybe#open" })
  end)

  it("reads back a number too long for a float as a decimal", function()
    local v = orders():from_item { gsi2pk = "P#12345678901234567890.5" }
    assert.are.equal(decimal("12345678901234567890.5"), v.price)
  end)

  it("reads back fields kept only in exact keys, with get applied", function()
    local s = schema.new { name = "T", table = "app", keys = { pk = "${id}" },
      fields = { id = { type = "integer", get = function(v) return v * 10 end }, h = { type = "string", hidden = true } },
      indexes = { by_h = { type = "gsi", keys = { hpk = "H#${h}" } } } }
    assert.are.same({ id = 70 }, s:from_item { pk = 7, hpk = "H#x" })
    assert.are.same({ id = 70, h = "x" }, s:from_item({ pk = 7, hpk = "H#x" }, { hidden = true }))
    assert.are.same({}, s:from_item { pk = "seven" })
  end)

  it("leaves hidden fields out unless asked", function()
    local s = user()
    local item = s:to_item { id = "u1", email = "a@b", secret = "s" }
    assert.are.equal("s", item.secret)
    assert.is_nil(s:from_item(item).secret)
    assert.are.equal("s", s:from_item(item, { hidden = true }).secret)
  end)

  it("stores nested attributes under their stored names", function()
    local s = user()
    local item = s:to_item { id = "u1", email = "a@b", address = { city = "Paris", zip = "75001" } }
    assert.are.same({ city = "Paris", postcode = "75001" }, item.addr)
    assert.is_nil(item.address)
    assert.are.same({ city = "Paris", zip = "75001" }, s:from_item(item).address)
  end)

  it("writes the entity and version attributes", function()
    local d = user_def()
    d.version, d.entity_attribute = 4, "kind"
    d.migrations = {}
    local item = schema.new(d):to_item { id = "u1", email = "a@b" }
    assert.are.equal("User", item.kind)
    assert.are.equal(4, item._v)
    d.entity_attribute, d.version, d.migrations = false, nil, nil
    item = schema.new(d):to_item { id = "u1", email = "a@b" }
    assert.are.same({ pk = "USER#u1", sk = "PROFILE", gsi1pk = "EMAIL#a@b", gsi1sk = "USER#u1", id = "u1",
      email = "a@b" }, item)
  end)
end)

describe("s:key_condition", function()
  local orders = schema.new { name = "Order", table = "app",
    keys = { pk = "CUST#${customer}", sk = "ORDER#${date}#${order_id}" },
    indexes = {
      by_status = { type = "gsi", name = "gsi1", keys = { gsi1pk = "STATUS#${status}", gsi1sk = "${date}#${order_id}" } },
      by_status_only = { type = "gsi", name = "gsi2", keys = { gsi2pk = "${status}" } },
      by_total = { type = "lsi", name = "lsi1", keys = { pk = "CUST#${customer}", lsi1sk = "${total}" } },
    },
    fields = { customer = { type = "string", set = string.lower }, date = { type = "string" },
      order_id = { type = "string" }, status = { type = "string" }, total = { type = "number" } } }

  -- { what, schema, index, fields, the condition as tostring gives it }
  local cases = {
    { "the whole key", orders, nil, { customer = "C1", date = "2026-11-21", order_id = "o1" },
      'pk = "CUST#c1" AND sk = "ORDER#2026-11-21#o1"' },
    { "a partial sort key", orders, nil, { customer = "c1", date = "2026-11" },
      'pk = "CUST#c1" AND begins_with(sk, "ORDER#2026-11")' },
    { "the sort key's constant prefix", orders, nil, { customer = "c1" },
      'pk = "CUST#c1" AND begins_with(sk, "ORDER#")' },
    { "a constant sort key", user(), nil, { id = "u1" }, 'pk = "USER#u1" AND sk = "PROFILE"' },
    { "an index", orders, "by_status", { status = "open", date = "2026" },
      'gsi1pk = "STATUS#open" AND begins_with(gsi1sk, "2026")' },
    { "an index sort key without prefix", orders, "by_status", { status = "open" }, 'gsi1pk = "STATUS#open"' },
    { "an index without sort key", orders, "by_status_only", { status = "open", date = "x" }, 'gsi2pk = "open"' },
    { "a local index", orders, "by_total", { customer = "c1", total = 9.5 }, 'pk = "CUST#c1" AND lsi1sk = 9.5' },
    { "a local index without its sort field", orders, "by_total", { customer = "c1" }, 'pk = "CUST#c1"' },
  }
  for _, c in ipairs(cases) do
    it("builds " .. c[1], function()
      assert.are.equal(c[5], tostring(c[2]:key_condition(c[3], c[4])))
    end)
  end

  it("makes conditions a query takes", function()
    local expr = require "dynamo.expr"
    local ctx = expr.context()
    assert.are.equal("#n1 = :v1 AND begins_with(#n2, :v2)",
      ctx:key_condition(orders:key_condition(nil, { customer = "c1", date = "2026" })))
  end)

  -- { what, index, fields, error }
  local errors = {
    { "a missing partition field", nil, { date = "d" }, "Order: query needs field 'customer' for key attribute 'pk'" },
    { "a missing index partition field", "by_status", {},
      "Order: query on index 'by_status' needs field 'status' for key attribute 'gsi1pk'" },
    { "a gap in the sort key", nil, { customer = "c1", order_id = "o1" },
      "Order: query: sort key 'sk' ('ORDER#${date}#${order_id}') needs field 'date' before 'order_id'" },
    { "a partition value of the wrong type", nil, { customer = 5 },
      "Order: query: customer: string expected, got number" },
    { "a sort value of the wrong type", nil, { customer = "c", date = 5 },
      "Order: query: date: string expected, got number" },
    { "an exact sort value of the wrong type", "by_total", { customer = "c", total = "5" },
      "Order: query on index 'by_total': total: number expected, got string" },
    { "an unknown index", "nope", {}, "bad argument #1 to 'key_condition' (Order has no index 'nope')" },
  }
  for _, c in ipairs(errors) do
    it("rejects " .. c[1], function()
      assert.has_error(function() orders:key_condition(c[2], c[3]) end, c[4])
    end)
  end
end)

describe("s:templates_using", function()
  it("lists the key attributes whose templates use the fields", function()
    local s = user()
    assert.are.same({ { attribute = "gsi1pk", fields = { "email" } } }, s:templates_using { "email" })
    assert.are.same({ { attribute = "pk", fields = { "id" } }, { attribute = "gsi1sk", fields = { "id" } } },
      s:templates_using { "id" })
    -- The table's keys first, then the indexes' by index name (by_age, by_email).
    assert.are.same({ { attribute = "lsi1sk", fields = { "age" } }, { attribute = "gsi1pk", fields = { "email" } } },
      s:templates_using { email = true, age = true })
    assert.are.same({}, s:templates_using { "role" })
  end)
end)

describe("s:attribute", function()
  local s = schema.new { name = "T", table = "app", keys = { id = "${id}" }, fields = {
    id = { type = "string" },
    address = { type = "map", attribute = "addr", fields = { city = { type = "string", attribute = "c" } } },
    lines = { type = "list", attribute = "l", of = { type = "map", fields = { sku = { type = "string", attribute = "s" } } } },
    meta = { type = "map" },
    tags = { type = "list" },
  } }
  -- { field path, stored path }
  for _, c in ipairs {
    { "id", "id" }, { "address", "addr" }, { "address.city", "addr.c" }, { "lines[2].sku", "l[2].s" },
    { "meta.any.thing[1]", "meta.any.thing[1]" }, { "tags[3]", "tags[3]" },
  } do
    it("maps " .. c[1], function() assert.are.equal(c[2], s:attribute(c[1])) end)
  end

  it("rejects unknown fields and bad paths", function()
    assert.has_error(function() s:attribute("nope.x") end, "bad argument #1 to 'attribute' (T has no field 'nope' in 'nope.x')")
    assert.has_error(function() s:attribute("address.zip") end,
      "bad argument #1 to 'attribute' (T has no field 'zip' in 'address.zip')")
    assert.has_error(function() s:attribute("a..b") end, "bad argument #1 to 'attribute' (empty name at character 3 of \"a..b\")")
    assert.has_error(function() s:attribute(5) end, "bad argument #1 to 'attribute' (field path expected, got number)")
  end)
end)

describe("s:table_definition", function()
  it("describes a table with a global and a local index", function()
    assert.are.same({
      TableName = "app",
      AttributeDefinitions = {
        { AttributeName = "gsi1pk", AttributeType = "S" }, { AttributeName = "gsi1sk", AttributeType = "S" },
        { AttributeName = "lsi1sk", AttributeType = "N" }, { AttributeName = "pk", AttributeType = "S" },
        { AttributeName = "sk", AttributeType = "S" },
      },
      KeySchema = { { AttributeName = "pk", KeyType = "HASH" }, { AttributeName = "sk", KeyType = "RANGE" } },
      GlobalSecondaryIndexes = { {
        IndexName = "gsi1",
        KeySchema = { { AttributeName = "gsi1pk", KeyType = "HASH" }, { AttributeName = "gsi1sk", KeyType = "RANGE" } },
        Projection = { ProjectionType = "ALL" },
      } },
      LocalSecondaryIndexes = { {
        IndexName = "lsi1",
        KeySchema = { { AttributeName = "pk", KeyType = "HASH" }, { AttributeName = "lsi1sk", KeyType = "RANGE" } },
        Projection = { ProjectionType = "ALL" },
      } },
    }, user():table_definition())
  end)

  it("types key attributes by their templates", function()
    local s = schema.new { name = "T", table = "app", keys = { { "b", "${b}" }, { "n", "${n}" } },
      fields = { b = { type = "binary" }, n = { type = "integer" }, e = { type = "timestamp", format = "epoch" },
        i = { type = "timestamp" }, num = { type = "enum", values = { 1, 2 } }, str = { type = "enum", values = { "x" } } },
      indexes = {
        g1 = { type = "gsi", name = "g1x", keys = { epk = "${e}", isk = "${i}" }, projection = "keys_only" },
        g2 = { type = "gsi", name = "g2x", keys = { numpk = "${num}", strsk = "${str}" } },
      } }
    local d = s:table_definition()
    assert.are.same({
      { AttributeName = "b", AttributeType = "B" }, { AttributeName = "epk", AttributeType = "N" },
      { AttributeName = "isk", AttributeType = "S" }, { AttributeName = "n", AttributeType = "N" },
      { AttributeName = "numpk", AttributeType = "N" }, { AttributeName = "strsk", AttributeType = "S" },
    }, d.AttributeDefinitions)
    assert.are.same({ { AttributeName = "b", KeyType = "HASH" }, { AttributeName = "n", KeyType = "RANGE" } }, d.KeySchema)
    -- keys_only still carries the entity attribute: queries filter on it.
    assert.are.same({ ProjectionType = "INCLUDE", NonKeyAttributes = { "_type" } }, d.GlobalSecondaryIndexes[1].Projection)
    assert.is_nil(d.LocalSecondaryIndexes)
  end)

  it("projects listed fields by stored name, with the entity and version attributes", function()
    local d = user_def()
    d.version = 2
    d.migrations = nil
    d.indexes.by_email.projection = { "address", "role", "id" }
    local def = schema.new(d):table_definition()
    assert.are.same({ ProjectionType = "INCLUDE", NonKeyAttributes = { "_type", "_v", "addr", "id", "role" } },
      def.GlobalSecondaryIndexes[1].Projection)
    d.entity_attribute, d.version = false, nil
    d.keys = { id = "${id}" }
    d.indexes = { by_email = { type = "gsi", name = "gsi1", keys = { email = "${email}" }, projection = { "email", "age" } } }
    assert.are.same({ ProjectionType = "INCLUDE", NonKeyAttributes = { "age" } },
      schema.new(d):table_definition().GlobalSecondaryIndexes[1].Projection)
  end)

  local function order_def()
    return { name = "Order", table = "app", keys = { pk = "CUST#${customer}", sk = "ORDER#${id}" },
      fields = { customer = { type = "string" }, id = { type = "string" }, status = { type = "string" },
        total = { type = "number" } },
      indexes = {
        by_status = { type = "gsi", name = "gsi1", keys = { gsi1pk = "STATUS#${status}", gsi1sk = "ORDER#${id}" },
          projection = { "total" } },
        by_total = { type = "gsi", name = "gsi2", keys = { gsi2pk = "${total}" }, projection = "keys_only" },
      } }
  end

  it("merges the indexes of the models of one table", function()
    local d = user_def()
    d.indexes.by_email.projection = { "email" }
    d.indexes.by_total = { type = "gsi", name = "gsi2", keys = { gsi2pk = "${age}" }, projection = { "role" } }
    local def = schema.new(d):table_definition { schema.new(order_def()) }
    assert.are.same({
      { AttributeName = "gsi1pk", AttributeType = "S" }, { AttributeName = "gsi1sk", AttributeType = "S" },
      { AttributeName = "gsi2pk", AttributeType = "N" }, { AttributeName = "lsi1sk", AttributeType = "N" },
      { AttributeName = "pk", AttributeType = "S" }, { AttributeName = "sk", AttributeType = "S" },
    }, def.AttributeDefinitions)
    assert.are.same({
      { IndexName = "gsi1",
        KeySchema = { { AttributeName = "gsi1pk", KeyType = "HASH" }, { AttributeName = "gsi1sk", KeyType = "RANGE" } },
        Projection = { ProjectionType = "INCLUDE", NonKeyAttributes = { "_type", "email", "total" } } },
      -- The widest projection wins.
      { IndexName = "gsi2", KeySchema = { { AttributeName = "gsi2pk", KeyType = "HASH" } },
        Projection = { ProjectionType = "INCLUDE", NonKeyAttributes = { "_type", "role" } } },
    }, def.GlobalSecondaryIndexes)
    assert.are.equal(1, #def.LocalSecondaryIndexes)
  end)

  -- { what, change to the Order definition, error }
  local conflicts = {
    { "the table", function(d) d.table = "other" end, "models 'User' and 'Order' disagree on the table: 'app' vs 'other'" },
    { "the table keys", function(d) d.keys = { pk = "CUST#${customer}" } end,
      "models 'User' and 'Order' disagree on the table's key attributes: pk, sk vs pk" },
    { "index keys", function(d) d.indexes.by_status.keys = { gsi1pk = "STATUS#${status}" } end,
      "models 'User' and 'Order' disagree on index 'gsi1': keys gsi1pk, gsi1sk vs keys gsi1pk" },
    { "an index type", function(d) d.indexes.by_status = { type = "lsi", name = "lsi1",
        keys = { pk = "CUST#${customer}", gsi1sk = "${total}" } } end,
      "models 'User' and 'Order' disagree on index 'lsi1': keys pk, lsi1sk vs keys pk, gsi1sk" },
    { "an attribute type", function(d) d.indexes.by_status.keys.gsi1sk = "${total}" end,
      "models 'User' and 'Order' disagree on attribute 'gsi1sk': S vs N" },
    { "a local index that is global elsewhere", function(d) d.indexes.by_status.name = "lsi1"
        d.indexes.by_status.keys = { gsi1pk = "STATUS#${status}", lsi1sk = "${total}" } end,
      "models 'User' and 'Order' disagree on index 'lsi1': lsi vs gsi" },
  }
  for _, c in ipairs(conflicts) do
    it("rejects models that disagree on " .. c[1], function()
      local d = order_def()
      c[2](d)
      local other = schema.new(d)
      assert.has_error(function() user():table_definition { other } end, c[3])
    end)
  end

  it("rejects what is not a schema", function()
    assert.has_error(function() user():table_definition { {} } end,
      "bad argument #1 to 'table_definition' (schema expected at [1], got table)")
  end)
end)

describe("migrations", function()
  local function model(migrations)
    return schema.new { name = "M", table = "app", keys = { id = "${id}" }, version = 3, migrations = migrations,
      fields = { id = { type = "string" }, full_name = { type = "string" }, role = { type = "string" } } }
  end
  local steps = {
    [1] = function(item) item.full_name, item.name = item.name, nil return item end,
    [2] = function(item) return { id = item.id, full_name = item.full_name, role = "user", _v = item._v } end,
  }

  it("migrates an item step by step to the current version", function()
    local item = { id = "a", name = "Ann", _type = "M" }
    local values, migrated, raw = model(steps):from_item(item)
    assert.are.same({ id = "a", full_name = "Ann", role = "user" }, values)
    assert.is_true(migrated)
    assert.are.same({ id = "a", full_name = "Ann", role = "user", _v = 3 }, raw)
    assert.are.same({ id = "a", name = "Ann", _type = "M" }, item)
  end)

  it("starts from the stored version", function()
    local values, migrated = model(steps):from_item { id = "a", full_name = "Ann", _v = 2 }
    assert.are.same({ id = "a", full_name = "Ann", role = "user" }, values)
    assert.is_true(migrated)
    values, migrated = model(steps):from_item { id = "a", full_name = "Ann", _v = decimal("2") }
    assert.are.same({ id = "a", full_name = "Ann", role = "user" }, values)
    assert.is_true(migrated)
  end)

  it("leaves current and newer items alone", function()
    for _, v in ipairs { 3, 9 } do
      local values, migrated, raw = model(steps):from_item { id = "a", full_name = "Ann", _v = v }
      assert.are.same({ id = "a", full_name = "Ann" }, values)
      assert.is_false(migrated)
      assert.is_nil(raw)
    end
    local values, migrated = schema.new(user_def()):from_item { pk = "USER#u1" }
    assert.are.same({ id = "u1" }, values)
    assert.is_false(migrated)
  end)

  -- { what, migrations, item, error message }
  local failures = {
    { "a step that raises", { [1] = function() error("boom", 0) end, [2] = steps[2] }, { id = "a" },
      "M: migration from version 1 to 2 failed: boom" },
    { "a step that returns no item", { [1] = steps[1], [2] = function() return 5 end }, { id = "a" },
      "M: migration from version 2 to 3 returned number, not an item" },
    { "a missing step", { [2] = steps[2] }, { id = "a" }, "M: no migration from version 1 to 2" },
    { "a bad version attribute", steps, { id = "a", _v = "two" }, "M: version attribute '_v' is not an integer (string)" },
  }
  for _, c in ipairs(failures) do
    it("reports " .. c[1], function()
      local values, err = model(c[2]):from_item(c[3])
      assert.is_nil(values)
      assert.are.equal("MigrationError", err.code)
      assert.are.equal(c[4], err.message)
      assert.is_false(err.retryable)
    end)
  end
end)

describe("s:check_immutable", function()
  local s = schema.new { name = "T", table = "app", keys = { id = "${id}" }, fields = {
    id = { type = "string", immutable = true },
    tags = { type = "string_set", immutable = true },
    n = { type = "number", immutable = true },
    free = { type = "string" },
  } }

  it("accepts unchanged values, first values and other fields", function()
    assert.is_nil(s:check_immutable({ id = "a", tags = set { "x", "y" }, n = 1 },
      { id = "a", tags = set { "y", "x" }, n = decimal("1"), free = "z" }))
    assert.is_nil(s:check_immutable({}, { id = "a", n = 2 }))
    assert.is_nil(s:check_immutable({ free = "a" }, { free = "b" }))
  end)

  it("lists immutable fields that changed or went away", function()
    local err = s:check_immutable({ id = "a", tags = set { "x" }, n = 1 }, { id = "b", tags = set { "x", "y" }, n = null })
    assert.are.equal("ValidationError", err.code)
    assert.are.equal("T: 3 invalid fields: id: cannot be changed (immutable); n: cannot be changed (immutable); "
      .. "tags: cannot be changed (immutable)", err.message)
    assert.are.same({ { path = "id", message = "cannot be changed (immutable)" },
      { path = "n", message = "cannot be changed (immutable)" },
      { path = "tags", message = "cannot be changed (immutable)" } }, err.problems)
  end)
end)
