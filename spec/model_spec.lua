-- dynamo.model against the real servers: a shop in one table (users,
-- orders with padded auto-increment ids, order lines, contacts at an old
-- schema version), two GSIs (gsi1: an order with its lines, a collection;
-- gsi2: sparse, users by email and orders by store and status). Every
-- request is observed with db:on("request") where what is sent matters.
-- Transactions run on DynamoDB Local only (dynalite has none).
local dynamo = require "dynamo"
local servers = require "support.servers"
local math_type = require("dynamo.compat").math_type   -- LuaJIT: whole within 2^53

local attr = dynamo.attr

-- The models of one table, bound to db. events: what the User hooks saw.
local function shop(T, db)
  local events = {}
  local function log(name) return function(inst, info) events[#events + 1] = { name, inst, info } end end

  local User = dynamo.model {
    name = "User", table = T, db = db,
    keys = { pk = "USER#${id}", sk = "PROFILE" },
    indexes = {
      by_email = { type = "gsi", name = "gsi2", keys = { gsi2pk = "EMAIL#${email}", gsi2sk = "USER#${id}" } },
    },
    fields = {
      id = { type = "string", required = true, immutable = true },
      name = { type = "string", required = true, length = { 1, 50 } },
      email = { type = "string", pattern = "^[^@]+@[^@]+$", set = string.lower },
      nick = { type = "string", attribute = "nk", set = string.lower,
               get = function(v) return v:sub(1, 1):upper() .. v:sub(2) end },
      role = { type = "enum", values = { "member", "admin" }, default = "member" },
      address = { type = "map", attribute = "addr", fields = {
        city = { type = "string", required = true },
        zip = { type = "string", attribute = "postcode", pattern = "^%d+$" },
      } },
      tags = { type = "string_set" },
      prefs = { type = "json", default = function() return { theme = "dark" } end },
      password = { type = "string", hidden = true },
      score = { type = "integer", min = 0, default = 0 },
      expires = { type = "ttl" },
      created = { type = "timestamp", auto = "create" },
      updated = { type = "timestamp", format = "epoch", auto = "update" },
      version = { type = "version" },
    },
    hooks = {
      before_save = log("before_save"), after_save = log("after_save"),
      before_update = log("before_update"), after_update = log("after_update"),
      before_delete = log("before_delete"), after_delete = log("after_delete"),
      on_load = log("on_load"),
    },
  }

  local Order = dynamo.model {
    name = "Order", table = T, db = db,
    keys = { pk = "USER#${user_id}", sk = "ORDER#${order_id}" },
    indexes = {
      lines = { type = "gsi", name = "gsi1", keys = { gsi1pk = "ORDER#${order_id}", gsi1sk = "#ORDER" } },
      -- sparse: only orders with a store and a status
      by_status = { type = "gsi", name = "gsi2",
                    keys = { gsi2pk = "STORE#${store}#${status}", gsi2sk = "${placed_on}#${order_id}" } },
    },
    fields = {
      user_id = { type = "string", required = true, immutable = true },
      order_id = { type = "integer", auto_increment = true, pad = 6 },
      store = { type = "string" },
      status = { type = "enum", values = { "pending", "paid", "shipped" } },
      placed_on = { type = "string", pattern = "^%d%d%d%d%-%d%d%-%d%d$", immutable = true },
      total = { type = "number", min = 0, default = 0 },
      note = { type = "string", attribute = "order.note" },   -- a stored name with a dot
      version = { type = "version" },
      created = { type = "timestamp", auto = "create" },
      updated = { type = "timestamp", auto = "update" },
    },
  }

  local OrderLine = dynamo.model {
    name = "OrderLine", table = T, db = db,
    keys = { pk = "USER#${user_id}", sk = "LINE#${order_id}#${line_no}" },
    indexes = {
      lines = { type = "gsi", name = "gsi1", keys = { gsi1pk = "ORDER#${order_id}", gsi1sk = "LINE#${line_no}" } },
    },
    fields = {
      user_id = { type = "string", required = true },
      order_id = { type = "integer", required = true, pad = 6 },
      line_no = { type = "integer", required = true, pad = 3 },
      sku = { type = "string", required = true },
      qty = { type = "integer", min = 1, default = 1 },
      price = { type = "number", min = 0 },
    },
  }

  -- A leaderboard on gsi1: a number field inside an index template.
  local Player = dynamo.model {
    name = "Player", table = T, db = db,
    keys = { pk = "PLAYER#${id}", sk = "PLAYER" },
    indexes = {
      board = { type = "gsi", name = "gsi1", keys = { gsi1pk = "BOARD#${board}", gsi1sk = "${score}#${id}" } },
    },
    fields = {
      id = { type = "string", required = true },
      board = { type = "string", required = true },
      score = { type = "integer", pad = 8, min = 0, default = 0 },
      seed = { type = "integer", immutable = true },
      version = { type = "version" },
    },
  }

  -- Version 1 stored { full_name, mail }; version 2 has first, last, email.
  local function contact(write_migrated)
    return dynamo.model {
      name = "Contact", table = T, db = db, version = 2, write_migrated = write_migrated,
      keys = { pk = "CONTACT#${id}", sk = "CONTACT" },
      migrations = {
        [1] = function(item)
          item.first, item.last = item.full_name:match("^(%S+)%s+(.+)$")
          item.email, item.full_name, item.mail = item.mail, nil, nil
          return item
        end,
      },
      fields = {
        id = { type = "string", required = true },
        first = { type = "string" },
        last = { type = "string" },
        email = { type = "string" },
        version = { type = "version" },
      },
    }
  end

  return { User = User, Order = Order, OrderLine = OrderLine, Player = Player, Contact = contact(false),
           ContactWriter = contact(true), events = events }
end

-- Records every request db sends until the returned stop() is called.
local function record(db)
  local seen = {}
  local fn = db:on("request", function(info) seen[#seen + 1] = info end)
  return seen, function() db:off("request", fn) end
end

local function operations(seen)
  local out = {}
  for i, info in ipairs(seen) do out[i] = info.operation end
  return out
end

-- An expression of compiled params with the names and values put back:
-- 'SET name = "Ada", version = 2'.
local function show(params, member)
  local names, values = params.ExpressionAttributeNames or {}, params.ExpressionAttributeValues or {}
  local s = params[member]:gsub("#[%w_]+", function(n) return names[n] end)
  return (s:gsub(":[%w_]+", function(v)
    local x = values[v]
    if type(x) == "string" then return ("%q"):format(x) end
    return tostring(x)
  end))
end

local function sorted(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = v end
  table.sort(out)
  return out
end

local function collect(it, fn)
  local out = {}
  for x in it do out[#out + 1] = fn and fn(x) or x end
  return out
end

-- Definition errors raise before anything is sent; no server needed.
describe("dynamo.model definition errors", function()
  local function def(patch)
    local d = { name = "Thing", table = "things", keys = { pk = "THING#${id}" },
      fields = { id = { type = "string", required = true } } }
    for k, v in pairs(patch) do d[k] = v end
    return d
  end

  local cases = {
    { "a bad option type", { fields = { id = { type = "string" }, age = { type = "integer", min = "0" } } },
      "bad model 'Thing': fields.age.min (number expected, got string)" },
    { "an unknown type in a nested map field",
      { fields = { id = { type = "string" }, address = { type = "map", fields = { city = { type = "str" } } } } },
      "bad model 'Thing': fields.address.fields.city.type (unknown type 'str'; expected one of binary, "
        .. "binary_set, boolean, enum, integer, json, list, map, number, number_set, string, string_set, "
        .. "timestamp, ttl, version)" },
    { "an unknown field in a key template", { keys = { pk = "THING#${uid}" } },
      "bad model 'Thing': keys.pk (unknown field 'uid' in template 'THING#${uid}')" },
    { "an index without a type", { indexes = { by_x = { name = "gsi1", keys = { gsi1pk = "${id}" } } } },
      "bad model 'Thing': indexes.by_x.type (required)" },
    { "an unknown hook", { hooks = { before_sav = function() end } },
      "bad model 'Thing': hooks.before_sav (unknown hook)" },
    { "auto_increment on a string", { fields = { id = { type = "string", auto_increment = true } } },
      "bad model 'Thing': fields.id.auto_increment (only for integer fields)" },
    { "a migration past the version", { version = 2, migrations = { [2] = function(i) return i end } },
      "bad model 'Thing': migrations[2] (no such step: version is 2, so steps go from 1 to 1)" },
  }
  for _, c in ipairs(cases) do
    it("names the path of " .. c[1], function()
      assert.has_error(function() dynamo.model(def(c[2])) end, c[3])
    end)
  end

  it("rejects a definition that is not a table", function()
    assert.has_error(function() dynamo.model("User") end,
      "bad argument #1 to 'dynamo.model' (table expected, got string)")
  end)

  it("asks for a client before any I/O", function()
    local Thing = dynamo.model(def {})
    assert.has_error(function() Thing:get { id = "x" } end,
      "Thing:get: no client (pass db = ... to dynamo.model, call Thing:bind(db), or pass { db = db })")
  end)
end)

for _, server in ipairs(servers.list()) do
  describe("dynamo.model on " .. server.name, function()
    local db, T, M, User, Order, OrderLine

    local function raw(key)
      local res = assert(db:get_item { TableName = T, Key = key, ConsistentRead = true })
      return res.Item
    end

    local function new_order(values)
      local o = Order:new(values)
      assert(o:save())
      return o
    end

    setup(function()
      db = servers.client(server)
      T = servers.table_name("model")
      M = shop(T, db)
      User, Order, OrderLine = M.User, M.Order, M.OrderLine
      local desc, err = User:create_table { models = { Order, OrderLine, M.Player, M.Contact },
        ttl = server.supports.UpdateTimeToLive == true }
      assert(desc, err and tostring(err))
    end)

    teardown(function()
      if T then User:delete_table() end
    end)

    -- First: the counter of Order.order_id is fresh only here.
    it("gives orders 1, 2, 3 from an atomic counter item", function()
      local ids = {}
      for i = 1, 3 do ids[i] = new_order({ user_id = "ai", total = i }).order_id end
      assert.are.same({ 1, 2, 3 }, ids)
      assert.are.equal("integer", math_type(ids[3]))
      assert.are.same({ pk = "_counter#Order#order_id", sk = "_counter#Order#order_id", n = 3 },
        raw { pk = "_counter#Order#order_id", sk = "_counter#Order#order_id" })
      assert.are.equal("ORDER#000003", raw({ pk = "USER#ai", sk = "ORDER#000003" }).sk)
    end)

    it("gives 5 concurrent saves 5 distinct ids under dynamo.gather", function()
      local before = raw({ pk = "_counter#Order#order_id", sk = "_counter#Order#order_id" }).n
      local fns = {}
      for i = 1, 5 do
        fns[i] = function()
          local o = Order:new { user_id = "gather", total = i }
          assert(o:save())
          return o.order_id
        end
      end
      local ids = { dynamo.gather(fns) }
      local want = {}
      for i = 1, 5 do want[i] = before + i end
      assert.are.same(want, sorted(ids))
      assert.are.equal(5, Order:count(nil, { user_id = "gather" }))
    end)

    it("creates the table with its key, both indexes and TTL", function()
      local t = assert(db:describe_table { TableName = T }).Table
      assert.are.same({ { AttributeName = "pk", KeyType = "HASH" }, { AttributeName = "sk", KeyType = "RANGE" } },
        t.KeySchema)
      local defs = {}
      for _, d in ipairs(t.AttributeDefinitions) do defs[#defs + 1] = d.AttributeName .. ":" .. d.AttributeType end
      assert.are.same({ "gsi1pk:S", "gsi1sk:S", "gsi2pk:S", "gsi2sk:S", "pk:S", "sk:S" }, sorted(defs))
      local gsis = {}
      for _, g in ipairs(t.GlobalSecondaryIndexes) do
        gsis[g.IndexName] = { g.KeySchema[1].AttributeName, g.KeySchema[2].AttributeName, g.Projection.ProjectionType }
      end
      assert.are.same({ gsi1 = { "gsi1pk", "gsi1sk", "ALL" }, gsi2 = { "gsi2pk", "gsi2sk", "ALL" } }, gsis)
      if server.supports.UpdateTimeToLive then
        local ttl = assert(db:describe_time_to_live { TableName = T }).TimeToLiveDescription
        assert.are.same({ TimeToLiveStatus = "ENABLED", AttributeName = "expires" }, ttl)
      end
    end)

    -- A one-model table with a keys_only index.
    local function solo()
      return dynamo.model { name = "Solo", table = servers.table_name("solo"),
        keys = { pk = "SOLO#${id}" },
        indexes = {
          by_n = { type = "gsi", name = "by_n", keys = { npk = "N", nsk = "${n}" }, projection = "keys_only" },
        },
        fields = { id = { type = "string", required = true }, n = { type = "integer" } } }
    end

    it("creates and deletes a model's own table; bind sets the client", function()
      local Solo = solo()
      assert.are.equal(Solo, Solo:bind(db))
      local desc = assert(Solo:create_table { ttl = false })
      assert.are.equal("ACTIVE", desc.TableStatus)
      local defs = {}
      for _, d in ipairs(desc.AttributeDefinitions) do defs[#defs + 1] = d.AttributeName .. ":" .. d.AttributeType end
      assert.are.same({ "npk:S", "nsk:N", "pk:S" }, sorted(defs))
      assert.are.same({ { AttributeName = "pk", KeyType = "HASH" } }, desc.KeySchema)
      local g = desc.GlobalSecondaryIndexes[1]
      assert.are.same({ "by_n", "npk", "nsk" },
        { g.IndexName, g.KeySchema[1].AttributeName, g.KeySchema[2].AttributeName })
      assert(Solo:new({ id = "a", n = 5 }):save())
      assert.are.same({ "a" }, collect(Solo:scan(), function(x) return x.id end))
      assert.is_true(Solo:delete_table())
      local res, err = db:describe_table { TableName = Solo.schema.table }
      assert.is_nil(res)
      assert.are.equal("ResourceNotFoundException", err.code)
    end)

    it("queries a keys_only index", function()
      local Solo = solo():bind(db)
      assert(Solo:create_table { ttl = false })
      finally(function() Solo:delete_table { wait = false } end)
      assert(Solo:new({ id = "a", n = 5 }):save())
      assert(Solo:new({ id = "b", n = 7 }):save())
      local ok, got = pcall(collect, Solo:query("by_n", {}), function(x) return x.id .. "=" .. x.n end)
      assert.is_true(ok, tostring(got))
      assert.are.same({ "a=5", "b=7" }, got)
    end)

    describe("validation", function()
      it("lists every failing field, nested paths too, before sending anything", function()
        local seen, stop = record(db)
        finally(stop)
        local u = User:new { id = "bad", email = "no-at-sign", address = { zip = "12a" }, score = -1, role = "boss" }
        local ok, err = u:save()
        assert.is_nil(ok)
        assert.are.equal("ValidationError", err.code)
        assert.are.equal("User: 6 invalid fields: address.city: required; address.zip: does not match the pattern; "
          .. "email: does not match the pattern; name: required; role: must be one of member, admin; "
          .. "score: must be at least 0", err.message)
        assert.are.same({
          { path = "address.city", message = "required" },
          { path = "address.zip", message = "does not match the pattern" },
          { path = "email", message = "does not match the pattern" },
          { path = "name", message = "required" },
          { path = "role", message = "must be one of member, admin" },
          { path = "score", message = "must be at least 0" },
        }, err.problems)
        assert.are.same({}, operations(seen))
        assert.is_false(User:exists { id = "bad" })
      end)

      it("sends nothing for an invalid new item with an auto-increment field", function()
        local seen, stop = record(db)
        finally(stop)
        local ok, err = Order:new({ user_id = "v1", total = -5, placed_on = "21/11/2026" }):save()
        assert.is_nil(ok)
        assert.are.equal("Order: 2 invalid fields: placed_on: does not match the pattern; total: must be at least 0",
          err.message)
        assert.are.same({}, operations(seen))
      end)

      it("checks changes before sending an update", function()
        local u = User:new { id = "val-upd", name = "Val" }
        assert(u:save())
        local seen, stop = record(db)
        finally(stop)
        local ok, err = u:update { name = "", score = 1.5 }
        assert.is_nil(ok)
        assert.are.equal("User: 2 invalid fields: name: length must be at least 1 characters; "
          .. "score: integer expected, got 1.5", err.message)
        assert.are.same({}, operations(seen))
      end)

      it("raises for an unknown field in new", function()
        assert.has_error(function() User:new { id = "x", nmae = "typo" } end,
          "bad argument #1 to 'User:new' (unknown field 'nmae')")
      end)
    end)

    describe("stored items", function()
      it("applies defaults, timestamps, stored names, transforms, json, sets and ttl", function()
        local t0 = os.time()
        local u = User:new { id = "ada", name = "Ada", email = "Ada@Example.COM", nick = "ADA",
          address = { city = "London", zip = "12345" }, tags = dynamo.set { "math", "engines" },
          password = "s3cret", expires = t0 + 3600 }
        assert.are.same({ theme = "dark" }, u.prefs)   -- defaults on new
        assert.are.equal("member", u.role)
        assert.is_nil(u.created)                      -- timestamps on save
        assert(u:save())
        assert.is_true(u.created >= t0 and u.created <= os.time())
        assert.are.equal(u.created, u.updated)
        assert.are.equal(1, u.version)

        local item = raw { pk = "USER#ada", sk = "PROFILE" }
        assert.are.same({ "engines", "math" }, sorted(item.tags))
        assert.is_true(dynamo.is_set(item.tags))
        item.tags = nil
        local created_iso = os.date("!%Y-%m-%dT%H:%M:%SZ", u.created)
        assert.are.same({
          pk = "USER#ada", sk = "PROFILE", gsi2pk = "EMAIL#ada@example.com", gsi2sk = "USER#ada", _type = "User",
          id = "ada", name = "Ada", email = "ada@example.com", nk = "ada", role = "member",
          addr = { city = "London", postcode = "12345" }, prefs = '{"theme":"dark"}', password = "s3cret",
          score = 0, expires = t0 + 3600, created = created_iso, updated = u.updated, version = 1,
        }, item)

        local got = assert(User:get { id = "ada" })
        assert.are.equal("ada@example.com", got.email)  -- set applied on write
        assert.are.equal("Ada", got.nick)               -- get applied on read
        assert.are.same({ city = "London", zip = "12345" }, got.address)
        assert.are.same({ theme = "dark" }, got.prefs)
        assert.are.same({ "engines", "math" }, sorted(got.tags))
        assert.are.equal(u.created, got.created)
        assert.are.equal(u.updated, got.updated)
        assert.are.equal(t0 + 3600, got.expires)
        assert.are.equal(0, got.score)
        assert.are.equal(1, got.version)
        assert.are.equal(User, got.model)
      end)

      it("returns a DecodeError for a stored value of the wrong type", function()
        assert(db:put_item { TableName = T, Item = { pk = "USER#dec", sk = "PROFILE", _type = "User", id = "dec",
          name = "Dec", score = "high" } })
        local u, err = User:get { id = "dec" }
        assert.is_nil(u)
        assert.are.equal("DecodeError", err.code)
        assert.are.equal("User: 1 unreadable field: score: integer expected, got string", err.message)
        -- a scan raises on it too (the iterators' promise), so it goes
        assert.has_error(function() collect(User:scan()) end,
          "DecodeError: User: 1 unreadable field: score: integer expected, got string")
        assert(db:delete_item { TableName = T, Key = { pk = "USER#dec", sk = "PROFILE" } })
      end)

      it("leaves hidden fields out of reads", function()
        assert(User:new({ id = "hid", name = "Hid", password = "pw" }):save())
        assert.are.equal("pw", raw({ pk = "USER#hid", sk = "PROFILE" }).password)
        local got = assert(User:get { id = "hid" })
        assert.is_nil(got.password)
        -- and a save of what was read keeps it
        got.name = "Hidden"
        assert(got:save())
        assert.are.equal("pw", raw({ pk = "USER#hid", sk = "PROFILE" }).password)
      end)

      it("computes key templates on write and reads fields back from keys", function()
        local o = new_order { user_id = "tpl", store = "s1", status = "pending", placed_on = "2026-11-21", total = 10 }
        local id = ("%06d"):format(o.order_id)
        local item = raw { pk = "USER#tpl", sk = "ORDER#" .. id }
        assert.are.same(
          { "USER#tpl", "ORDER#" .. id, "ORDER#" .. id, "#ORDER", "STORE#s1#pending", "2026-11-21#" .. id },
          { item.pk, item.sk, item.gsi1pk, item.gsi1sk, item.gsi2pk, item.gsi2sk })
        -- A line written raw, its fields only in its keys.
        assert(db:put_item { TableName = T, Item = { pk = "USER#tpl", sk = "LINE#" .. id .. "#007",
          _type = "OrderLine", sku = "bolt" } })
        local line = assert(OrderLine:get { user_id = "tpl", order_id = o.order_id, line_no = 7 })
        assert.are.same({ "tpl", o.order_id, 7, "bolt" }, { line.user_id, line.order_id, line.line_no, line.sku })
        assert.are.equal("integer", math_type(line.line_no))
      end)

      it("keeps an item without the fields out of a sparse index, and takes it out on removal", function()
        local a = new_order { user_id = "sparse", store = "sp", status = "paid", placed_on = "2026-01-02" }
        local b = new_order { user_id = "sparse", placed_on = "2026-01-03" }
        local b_item = raw { pk = "USER#sparse", sk = ("ORDER#%06d"):format(b.order_id) }
        assert.is_nil(b_item.gsi2pk)
        assert.are.equal("2026-01-03#" .. ("%06d"):format(b.order_id), b_item.gsi2sk)
        local function in_index() return collect(Order:query("by_status", { store = "sp", status = "paid" }),
          function(o) return o.order_id end) end
        assert.are.same({ a.order_id }, in_index())

        assert(a:update { remove = { "status" } })
        assert.is_nil(a.status)
        local item = raw { pk = "USER#sparse", sk = ("ORDER#%06d"):format(a.order_id) }
        assert.is_nil(item.gsi2pk)
        assert.is_nil(item.status)
        assert.are.same({}, in_index())
      end)

      it("updates another field of an item that is not in a sparse index", function()
        -- Loaded whole: the order has no store, so it has no gsi2pk; changing
        -- its status leaves it out of the index rather than failing.
        local o = new_order { user_id = "sparse2", status = "pending", placed_on = "2026-01-04" }
        local got = assert(Order:get { user_id = "sparse2", order_id = o.order_id })
        local ok, err = got:update { status = "paid" }
        assert.is_nil(err)
        assert.is_true(ok)
        local item = raw { pk = "USER#sparse2", sk = ("ORDER#%06d"):format(o.order_id) }
        assert.are.equal("paid", item.status)
        assert.is_nil(item.gsi2pk)
      end)
    end)

    describe("reading many", function()
      local orders, lines

      setup(function()
        assert(User:new({ id = "q1", name = "Quinn" }):save())
        orders = {}
        for i, day in ipairs { "2030-11-01", "2030-11-15", "2030-12-02" } do
          orders[i] = Order:new { user_id = "q1", store = "qs", status = i == 1 and "pending" or "paid",
            placed_on = day, total = i * 10 }
          assert(orders[i]:save())
        end
        lines = {}
        for n = 1, 2 do
          lines[n] = OrderLine:new { user_id = "q1", order_id = orders[1].order_id, line_no = n, sku = "sku" .. n,
            price = 2.5 }
          assert(lines[n]:save())
        end
      end)

      local function ids(list)
        local out = {}
        for i, o in ipairs(list) do out[i] = o.order_id end
        return out
      end

      it("queries the table: begins_with from a partial sort key, eq, limit, forward = false", function()
        local seen, stop = record(db)
        finally(stop)
        local all = collect(Order:query(nil, { user_id = "q1" }))
        assert.are.same(ids(orders), ids(all))
        for _, o in ipairs(all) do assert.are.equal(Order, o.model) end
        assert.are.equal('pk = "USER#q1" AND begins_with(sk, "ORDER#")', show(seen[1].params, "KeyConditionExpression"))

        local desc = collect(Order:query(nil, { user_id = "q1" }, { forward = false, limit = 2 }))
        assert.are.same({ orders[3].order_id, orders[2].order_id }, ids(desc))

        local one = collect(Order:query(nil, { user_id = "q1", order_id = orders[2].order_id }))
        assert.are.same({ orders[2].order_id }, ids(one))
        assert.are.equal(20, one[1].total)
      end)

      it("queries each index, with eq and begins_with", function()
        local paid = collect(Order:query("by_status", { store = "qs", status = "paid" }))
        assert.are.same({ orders[2].order_id, orders[3].order_id }, ids(paid))
        local day = collect(Order:query("by_status", { store = "qs", status = "paid", placed_on = "2030-12-02" }))
        assert.are.same({ orders[3].order_id }, ids(day))
        local exact = collect(Order:query("by_status",
          { store = "qs", status = "pending", placed_on = "2030-11-01", order_id = orders[1].order_id }))
        assert.are.same({ orders[1].order_id }, ids(exact))

        local by_id = collect(Order:query("lines", { order_id = orders[1].order_id }))
        assert.are.same({ orders[1].order_id }, ids(by_id))
        local ls = collect(OrderLine:query("lines", { order_id = orders[1].order_id }, { forward = false }))
        assert.are.same({ 2, 1 }, { ls[1].line_no, ls[2].line_no })
        local l1 = collect(OrderLine:query("lines", { order_id = orders[1].order_id, line_no = 1 }))
        assert.are.same({ "sku1" }, { l1[1].sku })

        local u = assert(User:get { id = "q1" })
        assert(u:update { email = "Quinn@Q.example" })
        local found = collect(User:query("by_email", { email = "quinn@q.example" }))
        assert.are.same({ "q1" }, { found[1].id })
      end)

      it("raises for an incomplete partition key or an unknown index", function()
        assert.has_error(function() Order:query("by_status", { status = "paid" }) end,
          "bad argument #2 to 'Order:query' (Order: query on index 'by_status' needs field 'store' "
            .. "for key attribute 'gsi2pk')")
        assert.has_error(function() Order:query("by_day", { user_id = "q1" }) end,
          "bad argument #1 to 'Order:query' (no index 'by_day'; the model has 'by_status', 'lines')")
      end)

      it("scans only the model's own items", function()
        local users = collect(User:scan(), function(u) return u.id end)
        local want = {}
        for item in db:scan_items { table = T, consistent = true } do
          if item._type == "User" then want[#want + 1] = item.id end
        end
        assert.is_true(#want >= 1)
        assert.are.same(sorted(want), sorted(users))
        assert.are.equal(#want, User:count())
        local first = collect(User:scan { limit = 1 })
        assert.are.equal(1, #first)
        assert.are.equal(User, first[1].model)
      end)

      it("counts and checks existence", function()
        assert.are.equal(3, Order:count(nil, { user_id = "q1" }))
        assert.are.equal(2, OrderLine:count("lines", { order_id = orders[1].order_id }))
        assert.are.equal(2, Order:count("by_status", { store = "qs", status = "paid" }))
        assert.is_true(User:exists { id = "q1" })
        assert.is_false(User:exists { id = "nobody" })
        assert.is_true(Order:exists { user_id = "q1", order_id = orders[3].order_id })
      end)

      it("batch_gets in order, false for what is missing", function()
        local got = assert(Order:batch_get {
          { user_id = "q1", order_id = orders[3].order_id },
          { user_id = "q1", order_id = 999999 },
          { user_id = "q1", order_id = orders[1].order_id },
        })
        assert.are.equal(3, #got)
        assert.are.equal(orders[3].order_id, got[1].order_id)
        assert.is_false(got[2])
        assert.are.equal(orders[1].order_id, got[3].order_id)
        assert.are.equal(Order, got[3].model)
      end)

      it("batch_writes saves and deletes", function()
        local a = User:new { id = "bw1", name = "A" }
        local b = User:new { id = "bw2", name = "B" }
        assert(User:batch_write { save = { a, b } })
        assert.are.equal(1, a.version)
        local stored = raw { pk = "USER#bw1", sk = "PROFILE" }
        assert.are.same({ "bw1", "A", 1, "User" }, { stored.id, stored.name, stored.version, stored._type })
        assert(User:batch_write { delete = { a, { id = "bw2" } } })
        assert.are.same({ false, false }, assert(User:batch_get { { id = "bw1" }, { id = "bw2" } }))
      end)

      it("queries a collection: an order and its lines as instances of their models", function()
        local coll = dynamo.collection { Order, OrderLine }
        local got = collect(coll:query("lines", { order_id = orders[1].order_id }))
        assert.are.equal(3, #got)
        assert.are.equal(Order, got[1].model)
        assert.are.equal(orders[1].order_id, got[1].order_id)
        assert.are.same({ OrderLine, 1, "sku1" }, { got[2].model, got[2].line_no, got[2].sku })
        assert.are.same({ OrderLine, 2, "sku2" }, { got[3].model, got[3].line_no, got[3].sku })
        -- a model the collection does not list: plain items
        local plain = collect(dynamo.collection({ Order }):query("lines", { order_id = orders[1].order_id }))
        assert.are.equal(Order, plain[1].model)
        assert.are.same({ "OrderLine", "LINE#001" }, { plain[2]._type, plain[2].gsi1sk })
      end)
    end)

    describe("change tracking", function()
      it("updates only what changed, and sends nothing when nothing did", function()
        assert(User:new({ id = "ct", name = "Carl", email = "c@x.example", score = 3 }):save())
        local u = assert(User:get { id = "ct" })
        local seen, stop = record(db)
        finally(stop)
        u.name = "Carla"
        assert(u:save())
        assert.are.same({ "UpdateItem" }, operations(seen))
        local p = seen[1].params
        assert.are.equal(('SET name = "Carla", updated = %d, version = 2'):format(u.updated),
          show(p, "UpdateExpression"))
        assert.are.equal('attribute_exists(pk) AND version = 1', show(p, "ConditionExpression"))
        assert.are.same({ pk = "USER#ct", sk = "PROFILE" }, p.Key)
        assert.are.equal(2, u.version)
        assert.are.same({}, u:changes())

        assert(u:save())
        assert.are.equal(1, #seen)
        local item = raw { pk = "USER#ct", sk = "PROFILE" }
        assert.are.same({ "Carla", "c@x.example", 3, 2 }, { item.name, item.email, item.score, item.version })
      end)

      it("recomputes the index key of a changed template field", function()
        assert(User:new({ id = "re", name = "Re", email = "old@x.example" }):save())
        local u = assert(User:get { id = "re" })
        u.email = "New@X.example"
        local set, removed = u:changes()
        assert.are.same({ email = "New@X.example" }, set)
        assert.are.same({}, removed)
        assert(u:save())
        local item = raw { pk = "USER#re", sk = "PROFILE" }
        assert.are.same({ "new@x.example", "EMAIL#new@x.example", "USER#re" }, { item.email, item.gsi2pk, item.gsi2sk })
        -- removing the field takes it out of the index
        u.email = nil
        assert(u:save())
        item = raw { pk = "USER#re", sk = "PROFILE" }
        assert.is_nil(item.email)
        assert.is_nil(item.gsi2pk)
      end)

      it("refuses an update that needs a field the instance does not hold", function()
        local o = new_order { user_id = "proj", store = "ps", status = "pending", placed_on = "2026-02-01" }
        local partial = collect(Order:query(nil, { user_id = "proj" },
          { projection = { "pk", "sk", "status", "version" } }))[1]
        assert.is_nil(partial.store)
        assert.are.equal(o.order_id, partial.order_id)
        local whole = assert(Order:get { user_id = "proj", order_id = o.order_id })
        local seen, stop = record(db)
        finally(stop)
        local ok, err = partial:update { status = "paid" }
        assert.is_nil(ok)
        assert.are.equal("ValidationError", err.code)
        assert.are.equal("Order: the update changes status but the key attribute 'gsi2pk' also needs store, "
          .. "which this instance does not hold (load the whole item, or pass them in the update)", err.message)
        assert.are.same({}, operations(seen))
        assert.are.equal("STORE#ps#pending", raw({ pk = "USER#proj", sk = ("ORDER#%06d"):format(o.order_id) }).gsi2pk)
        -- passing the field in the update makes it complete
        assert(partial:update { status = "paid", store = "ps" })
        assert.are.equal("STORE#ps#paid", raw({ pk = "USER#proj", sk = ("ORDER#%06d"):format(o.order_id) }).gsi2pk)
        -- update applies to the stored item: an unsaved local change to a
        -- template field does not leak into the index key, and stays pending
        assert(whole:refresh())
        whole.store = nil
        assert(whole:update { status = "shipped" })
        assert.are.equal("STORE#ps#shipped", raw({ pk = "USER#proj", sk = ("ORDER#%06d"):format(o.order_id) }).gsi2pk)
        assert.is_nil(whole.store)
        assert.are.equal("shipped", whole.status)
        local pending = whole:changes()
        assert.are.same({}, pending)
        local _, removed = whole:changes()
        assert.are.same({ "store" }, removed)
      end)

      it("refuses to change a table key field or an immutable field", function()
        local line = OrderLine:new { user_id = "keys", order_id = 77, line_no = 1, sku = "nut" }
        assert(line:save())
        line.line_no = 2
        local ok, err = line:save()
        assert.is_nil(ok)
        assert.are.equal("ValidationError", err.code)
        assert.are.equal("OrderLine: changing line_no would change the primary key attribute 'sk'; "
          .. "save a new item and delete this one instead", err.message)

        local o = new_order { user_id = "keys", placed_on = "2026-03-01" }
        o.placed_on = "2026-03-02"
        ok, err = o:save()
        assert.is_nil(ok)
        assert.are.equal("Order: 1 invalid field: placed_on: cannot be changed (immutable)", err.message)
        local u = User:new { id = "imm", name = "Imm" }
        assert(u:save())
        ok, err = u:update { id = "imm2" }
        assert.is_nil(ok)
        assert.are.equal("User: 1 invalid field: id: cannot be changed (immutable)", err.message)
        ok, err = u:update { version = 7 }
        assert.is_nil(ok)
        assert.are.equal("User: the version field 'version' is managed by the model", err.message)
      end)

      it("refuses to remove a required field", function()
        local u = User:new { id = "req", name = "Req" }
        assert(u:save())
        local seen, stop = record(db)
        finally(stop)
        local ok, err = u:update { remove = { "name" } }
        assert.is_nil(ok)
        assert.are.equal("ValidationError", err.code)
        assert.are.equal("User: 1 invalid field: name: required", err.message)
        u.name = nil
        ok, err = u:save()
        assert.is_nil(ok)
        assert.are.equal("User: 1 invalid field: name: required", err and err.message)
        assert.are.same({}, operations(seen))
        assert.are.equal("Req", raw({ pk = "USER#req", sk = "PROFILE" }).name)
      end)

      it("takes dynamo.null for an index field as a removal", function()
        local u = User:new { id = "nul", name = "Nul", email = "n@x.example" }
        assert(u:save())
        local ok, err = u:update { email = dynamo.null }
        assert.is_nil(err)
        assert.is_true(ok)
        local item = raw { pk = "USER#nul", sk = "PROFILE" }
        assert.is_nil(item.email)
        assert.is_nil(item.gsi2pk)
      end)

      it("removes a field stored under a name with a dot, by nil or dynamo.null", function()
        local o = new_order { user_id = "dot", note = "leave at door" }
        local key = { pk = "USER#dot", sk = ("ORDER#%06d"):format(o.order_id) }
        assert.are.equal("leave at door", raw(key)["order.note"])
        assert.are.equal("leave at door", assert(Order:get { user_id = "dot", order_id = o.order_id }).note)
        o.note = nil
        assert(o:save())
        assert.is_nil(raw(key)["order.note"])
        assert(o:update { note = "ring twice" })
        assert.are.equal("ring twice", raw(key)["order.note"])
        local ok, err = o:update { note = dynamo.null }
        assert.is_nil(err)
        assert.is_true(ok)
        assert.is_nil(raw(key)["order.note"])
      end)

      it("refuses to update an instance read without its version", function()
        assert(User:new({ id = "nover", name = "NoVer" }):save())
        local partial = collect(User:query(nil, { id = "nover" }, { projection = { "pk", "sk", "name" } }))[1]
        assert.is_nil(partial.version)
        local seen, stop = record(db)
        finally(stop)
        local ok, err = partial:update { name = "Changed" }
        assert.is_nil(ok)
        assert.are.equal("ValidationError", err.code)  -- not a VersionConflict from the server
        assert.are.same({}, operations(seen))
      end)

      it("recomputes an index key from a field changed by add", function()
        local p = M.Player:new { id = "p1", board = "b1", score = 10, seed = 3 }
        assert(p:save())
        assert.are.equal("00000010#p1", raw({ pk = "PLAYER#p1", sk = "PLAYER" }).gsi1sk)
        assert(p:update { add = { score = 5 } })
        assert.are.equal(15, p.score)
        local item = raw { pk = "PLAYER#p1", sk = "PLAYER" }
        assert.are.same({ 15, "00000015#p1" }, { item.score, item.gsi1sk })
        local top = collect(M.Player:query("board", { board = "b1" }))
        assert.are.same({ 15 }, { top[1].score })
      end)

      it("refuses add on an immutable field", function()
        local p = M.Player:new { id = "p2", board = "b2", seed = 3 }
        assert(p:save())
        local ok, err = p:update { add = { seed = 1 } }
        assert.is_nil(ok)
        assert.are.equal("Player: 1 invalid field: seed: cannot be changed (immutable)", err and err.message)
        assert.are.equal(3, raw({ pk = "PLAYER#p2", sk = "PLAYER" }).seed)
      end)

      it("update takes add/remove actions and reads the stored item back", function()
        local u = User:new { id = "act", name = "Act", score = 1, tags = dynamo.set { "a" } }
        assert(u:save())
        assert(u:update { add = { score = 4 }, remove = { "tags" } })
        assert.are.equal(5, u.score)
        assert.is_nil(u.tags)
        assert.are.equal(2, u.version)
        local item = raw { pk = "USER#act", sk = "PROFILE" }
        assert.are.same({ 5, nil, 2 }, { item.score, item.tags, item.version })
      end)

      it("refreshes and gives its key", function()
        local u = User:new { id = "ref", name = "Ref" }
        assert(u:save())
        assert.are.same({ pk = "USER#ref", sk = "PROFILE" }, u:key())
        local other = assert(User:get { id = "ref" })
        assert(other:update { name = "Refreshed" })
        assert(u:refresh())
        assert.are.same({ "Refreshed", 2 }, { u.name, u.version })
        assert(other:delete())
        local ok, err = u:refresh()
        assert.is_nil(ok)
        assert.are.equal("NotFound", err.code)
        assert.are.equal('User(pk = "USER#ref", sk = "PROFILE") no longer exists', err.message)
      end)
    end)

    describe("optimistic locking", function()
      it("fails the second of two concurrent saves with VersionConflict", function()
        assert(User:new({ id = "lock", name = "L" }):save())
        local a = assert(User:get { id = "lock" })
        local b = assert(User:get { id = "lock" })
        a.name = "A"
        assert(a:save())
        b.name = "B"
        local ok, err = b:save()
        assert.is_nil(ok)
        assert.are.equal("VersionConflict", err.code)
        assert.are.equal('User(pk = "USER#lock", sk = "PROFILE"): version 1 is not the stored one '
          .. "(it was changed or deleted since it was read)", err.message)
        assert.are.equal(b, err.item)
        assert.are.equal("ConditionalCheckFailedException", err.cause.code)
        assert.are.equal("A", raw({ pk = "USER#lock", sk = "PROFILE" }).name)

        ok, err = b:delete()
        assert.is_nil(ok)
        assert.are.equal("VersionConflict", err.code)
        assert.are.equal('User(pk = "USER#lock", sk = "PROFILE"): version 1 is not the stored one '
          .. "(it was changed or deleted since it was read)", err.message)
        assert.is_true(User:exists { id = "lock" })
        assert(a:delete())
        assert.is_false(User:exists { id = "lock" })
      end)

      it("fails creating an item that exists, naming it", function()
        assert(User:new({ id = "dup", name = "First" }):save())
        local ok, err = User:new({ id = "dup", name = "Second" }):save()
        assert.is_nil(ok)
        assert.are.equal("ConditionalCheckFailedException", err.code)
        assert.are.equal('User(pk = "USER#dup", sk = "PROFILE"): The conditional request failed', err.message)
        assert.are.equal("First", raw({ pk = "USER#dup", sk = "PROFILE" }).name)
        assert(User:new({ id = "dup", name = "Third" }):save { overwrite = true })
        assert.are.equal("Third", raw({ pk = "USER#dup", sk = "PROFILE" }).name)
      end)
    end)

    it("runs hooks in order with the instance", function()
      local events = M.events
      local function take()
        local out = {}
        for i, e in ipairs(events) do out[i] = e end
        for i = #events, 1, -1 do events[i] = nil end
        return out
      end
      take()
      local u = User:new { id = "hook", name = "H" }
      assert(u:save())
      local got = assert(User:get { id = "hook" })
      got.name = "HH"
      assert(got:save())
      assert(got:update { score = 2 })
      assert(got:delete())
      local names, insts = {}, {}
      for i, e in ipairs(take()) do names[i], insts[i] = e[1], e[2] end
      assert.are.same({ "before_save", "after_save", "on_load", "before_save", "after_save",
        "before_update", "after_update", "before_delete", "after_delete" }, names)
      assert.are.equal(u, insts[1])
      assert.are.equal(u, insts[2])
      for i = 3, 9 do assert.are.equal(got, insts[i]) end
    end)

    describe("migrations", function()
      it("migrates items stored at version 1 as they load", function()
        assert(db:put_item { TableName = T, Item = { pk = "CONTACT#c1", sk = "CONTACT", _type = "Contact", _v = 1,
          id = "c1", full_name = "Grace Brewster Hopper", mail = "grace@navy.example", version = 1 } })
        assert(db:put_item { TableName = T, Item = { pk = "CONTACT#c2", sk = "CONTACT", _type = "Contact",
          id = "c2", full_name = "Alan Turing", mail = "alan@example.org", version = 1 } })
        local c1 = assert(M.Contact:get { id = "c1" })
        assert.are.same({ "Grace", "Brewster Hopper", "grace@navy.example" }, { c1.first, c1.last, c1.email })
        local c2 = assert(M.Contact:get { id = "c2" })
        assert.are.same({ "Alan", "Turing", "alan@example.org" }, { c2.first, c2.last, c2.email })
        -- not written back
        assert.are.same({ 1, "Grace Brewster Hopper" }, { raw({ pk = "CONTACT#c1", sk = "CONTACT" })._v,
          raw({ pk = "CONTACT#c1", sk = "CONTACT" }).full_name })
      end)

      it("writes migrated items back at the new version with write_migrated", function()
        assert(db:put_item { TableName = T, Item = { pk = "CONTACT#c3", sk = "CONTACT", _type = "Contact",
          id = "c3", full_name = "Ada Lovelace", mail = "ada@example.org", version = 1 } })
        local c = assert(M.ContactWriter:get { id = "c3" })
        assert.are.same({ "Ada", "Lovelace" }, { c.first, c.last })
        assert.are.same({ pk = "CONTACT#c3", sk = "CONTACT", _type = "Contact", _v = 2, id = "c3", first = "Ada",
          last = "Lovelace", email = "ada@example.org", version = 1 }, raw { pk = "CONTACT#c3", sk = "CONTACT" })
        -- read again: current, nothing more written
        local seen, stop = record(db)
        finally(stop)
        assert(M.ContactWriter:get { id = "c3" })
        assert.are.same({ "GetItem" }, operations(seen))
      end)

      it("keeps attributes the model does not know when it writes back", function()
        assert(db:put_item { TableName = T, Item = { pk = "CONTACT#c5", sk = "CONTACT", _type = "Contact",
          id = "c5", full_name = "Barbara Liskov", mail = "bl@example.org", source = "crm", version = 1 } })
        assert(M.ContactWriter:get { id = "c5" })
        local item = raw { pk = "CONTACT#c5", sk = "CONTACT" }
        assert.are.same({ 2, "Barbara", "crm" }, { item._v, item.first, item.source })
      end)

      it("keeps a change to a migrated instance that was not written back", function()
        assert(db:put_item { TableName = T, Item = { pk = "CONTACT#c4", sk = "CONTACT", _type = "Contact", _v = 1,
          id = "c4", full_name = "Edsger Dijkstra", mail = "ewd@example.org", version = 1 } })
        local c = assert(M.Contact:get { id = "c4" })
        c.first = "E. W."
        assert(c:save())
        local again = assert(M.Contact:get { id = "c4" })
        assert.are.same({ "E. W.", "Dijkstra" }, { again.first, again.last })
      end)
    end)

    if server.supports.TransactWriteItems then
      describe("transactions", function()
        it("commits saves, updates, checks and deletes across models together", function()
          local u = User:new { id = "tx1", name = "Tx", score = 1 }
          local line = OrderLine:new { user_id = "tx1", order_id = 500, line_no = 1, sku = "s", qty = 2 }
          local gone = User:new { id = "tx1-gone", name = "Gone" }
          assert(u:save()); assert(line:save()); assert(gone:save())
          local order = Order:new { user_id = "tx1", total = 9, placed_on = "2026-05-05" }
          local seen, stop = record(db)
          finally(stop)
          local ok, err = db:transaction(function(tx)
            tx:save(order)
            tx:update(u, { score = 2 })
            tx:check(line, attr("qty"):gt(0))
            tx:delete(gone)
          end)
          assert.is_nil(err)
          assert.is_true(ok)
          assert.are.same({ "UpdateItem", "TransactWriteItems" }, operations(seen))  -- the counter, then the writes
          assert.are.same({ "Put", "Update", "ConditionCheck", "Delete" }, (function()
            local kinds = {}
            for i, a in ipairs(seen[2].params.TransactItems) do kinds[i] = next(a) end
            return kinds
          end)())
          assert.is_true(Order:exists { user_id = "tx1", order_id = order.order_id })
          assert.are.equal(1, order.version)
          assert.are.same({ 2, 2 }, { u.score, u.version })
          local stored = raw { pk = "USER#tx1", sk = "PROFILE" }
          assert.are.same({ 2, 2 }, { stored.score, stored.version })
          assert.is_false(User:exists { id = "tx1-gone" })
        end)

        it("cancels everything when one check fails, naming the instance", function()
          local u = User:new { id = "tx2", name = "Tx", score = 1 }
          local line = OrderLine:new { user_id = "tx2", order_id = 501, line_no = 1, sku = "s", qty = 1 }
          local keep = User:new { id = "tx2-keep", name = "Keep" }
          assert(u:save()); assert(line:save()); assert(keep:save())
          local fresh = User:new { id = "tx2-new", name = "New" }
          local ok, err = db:transaction(function(tx)
            tx:save(fresh)
            tx:update(u, { score = 2 })
            tx:check(line, attr("qty"):gt(5))
            tx:delete(keep)
          end)
          assert.is_nil(ok)
          assert.are.equal("TransactionCanceledException", err.code)
          assert.are.equal(4, #err.reasons)
          assert.are.same({ "None", "None", "ConditionalCheckFailed", "None" },
            { err.reasons[1].code, err.reasons[2].code, err.reasons[3].code, err.reasons[4].code })
          assert.are.equal(fresh, err.reasons[1].instance)
          assert.are.equal(u, err.reasons[2].instance)
          assert.are.equal(line, err.reasons[3].instance)
          assert.are.equal(keep, err.reasons[4].instance)
          assert.is_nil(err.reasons[3].version_conflict)
          assert.matches('[OrderLine(pk = "USER#tx2", sk = "LINE#000501#001"): ConditionalCheckFailed]',
            err.message, 1, true)
          -- nothing changed, in the table or in the instances
          assert.is_false(User:exists { id = "tx2-new" })
          assert.is_true(User:exists { id = "tx2-keep" })
          local stored = raw { pk = "USER#tx2", sk = "PROFILE" }
          assert.are.same({ 1, 1 }, { stored.score, stored.version })
          assert.are.same({ 1, 1 }, { u.score, u.version })
          -- and the same writes go through once the check holds
          assert(db:transaction(function(tx) tx:update(u, { score = 2 }) end))
          assert.are.equal(2, u.version)
        end)

        it("reports a version conflict inside a transaction", function()
          assert(User:new({ id = "tx3", name = "V" }):save())
          local a = assert(User:get { id = "tx3" })
          local b = assert(User:get { id = "tx3" })
          assert(a:update { name = "A" })
          local ok, err = db:transaction(function(tx) tx:update(b, { name = "B" }) end)
          assert.is_nil(ok)
          assert.are.equal("TransactionCanceledException", err.code)
          assert.are.equal(b, err.reasons[1].instance)
          assert.is_true(err.reasons[1].version_conflict)
        end)

        it("merges a nested transaction into the outer one", function()
          local a = User:new { id = "tx4a", name = "A" }
          local b = User:new { id = "tx4b", name = "B" }
          local seen, stop = record(db)
          finally(stop)
          local inner_result
          local ok, err = db:transaction(function(tx)
            tx:save(a)
            inner_result = db:transaction(function(inner) inner:save(b) end)
          end)
          assert.is_nil(err)
          assert.is_true(ok)
          assert.is_true(inner_result)
          assert.are.same({ "TransactWriteItems" }, operations(seen))
          assert.are.equal(2, #seen[1].params.TransactItems)
          assert.is_true(User:exists { id = "tx4a" })
          assert.is_true(User:exists { id = "tx4b" })
        end)

        it("sends nothing when fn raises, and passes the error through", function()
          local seen, stop = record(db)
          finally(stop)
          assert.has_error(function()
            db:transaction(function(tx)
              tx:save(User:new { id = "tx5", name = "Never" })
              error("changed my mind", 0)
            end)
          end, "changed my mind")
          assert.are.same({}, operations(seen))
          assert.is_false(User:exists { id = "tx5" })
        end)

        it("writes no item when fn raises after saving an auto-increment item (only its id is taken)", function()
          local seen, stop = record(db)
          finally(stop)
          assert.has_error(function()
            db:transaction(function(tx)
              tx:save(Order:new { user_id = "tx6", placed_on = "2026-06-06" })
              error("changed my mind", 0)
            end)
          end, "changed my mind")
          -- The id is taken at tx:save so that fn can use it (documented);
          -- it goes to the counter item, and no TransactWriteItems is sent.
          assert.are.same({ "UpdateItem" }, operations(seen))
          assert.is_truthy(seen[1].params.Key.pk:find("^_counter#Order#order_id"), seen[1].params.Key.pk)
          assert.is_nil(Order:get { user_id = "tx6", order_id = 1 })
        end)

        it("runs save hooks in pairs, as item:save does", function()
          local u = User:new { id = "tx8", name = "Hooks" }
          assert(u:save())
          local events = M.events
          for i = #events, 1, -1 do events[i] = nil end
          assert(db:transaction(function(tx) tx:save(u) end))     -- nothing changed
          u.name = "Hooks 2"
          assert(db:transaction(function(tx) tx:save(u) end))
          local names = {}
          for i, e in ipairs(events) do names[i] = e[1] end
          assert.are.same({ "before_save", "after_save", "before_save", "after_save" }, names)
        end)

        it("raises a validation error before sending", function()
          local seen, stop = record(db)
          finally(stop)
          local ok, e = pcall(db.transaction, db, function(tx) tx:save(User:new { id = "tx7" }) end)
          assert.is_false(ok)
          assert.are.equal("ValidationError", e.code)
          assert.are.equal("User: 1 invalid field: name: required", e.message)
          assert.are.same({}, operations(seen))
        end)
      end)
    end
  end)
end
