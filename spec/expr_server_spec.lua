-- dynamo.expr against both real servers: every builder is accepted and
-- does what it says, checked by reading the item back. Requests use raw
-- AWS parameters built through one context per request.
local expr = require "dynamo.expr"
local dynamo = require "dynamo"
local servers = require "support.servers"

local attr, key, size = expr.attr, expr.key, expr.size
local all, any, none = expr.all, expr.any, expr.none
local update, if_not_exists = expr.update, expr.if_not_exists
local list_append, list_prepend = expr.list_append, expr.list_prepend

-- The item the conditions are checked against. Its names include reserved
-- words (name, size, status, data) and names a path cannot spell.
local function condition_item()
  return {
    pk = "cond", sk = 1,
    name = "Ann", size = 3, status = "active", n = 5, m = 7, s = "order#12",
    data = { nested = { deep = "x" }, list = { 1, 2, 3 } },
    tags = dynamo.set { "a", "b", "c", "d" }, nums = dynamo.set { 1, 2 },
    l = { 10, 20, 30 }, flag = true, nul = dynamo.null, bin = dynamo.binary("\1\2"),
    ["dotted.name"] = 1, ["dash-name"] = "d", ["with space"] = "sp", ["br[0]"] = "b",
  }
end

-- { name, condition, passes? }
local CONDITIONS = {
  { "eq", attr("n"):eq(5), true }, { "eq", attr("n"):eq(6), false },
  { "ne", attr("n"):ne(6), true }, { "ne", attr("n"):ne(5), false },
  { "lt", attr("n"):lt(6), true }, { "lt", attr("n"):lt(5), false },
  { "le", attr("n"):le(5), true }, { "le", attr("n"):le(4), false },
  { "gt", attr("n"):gt(4), true }, { "gt", attr("n"):gt(5), false },
  { "ge", attr("n"):ge(5), true }, { "ge", attr("n"):ge(6), false },
  { "lt a path", attr("n"):lt(attr("m")), true }, { "lt a path", attr("m"):lt(attr("n")), false },
  { "between", attr("n"):between(1, 5), true }, { "between", attr("n"):between(6, 9), false },
  { "between paths", attr("n"):between(attr("size"), attr("m")), true },
  { "between paths", attr("m"):between(attr("size"), attr("n")), false },
  { "in_", attr("n"):in_ { 1, 5 }, true }, { "in_", attr("n"):in_ { 1, 2 }, false },
  { "in_ with a path", attr("size"):in_ { attr("n"), 3 }, true },
  { "begins_with", attr("s"):begins_with("order#"), true }, { "begins_with", attr("s"):begins_with("x"), false },
  { "begins_with a path", attr("s"):begins_with(attr("status")), false },
  { "contains in a set", attr("tags"):contains("b"), true }, { "contains in a set", attr("tags"):contains("z"), false },
  { "contains in a number set", attr("nums"):contains(2), true },
  { "contains in a string", attr("name"):contains("nn"), true },
  { "contains in a list", attr("l"):contains(20), true }, { "contains in a list", attr("l"):contains(21), false },
  { "exists", attr("data.nested.deep"):exists(), true }, { "exists", attr("nope"):exists(), false },
  { "not_exists", attr("data.nope"):not_exists(), true }, { "not_exists", attr("n"):not_exists(), false },
  { "attribute_type N", attr("n"):attribute_type("N"), true }, { "attribute_type", attr("n"):attribute_type("S"), false },
  { "attribute_type S", attr("name"):attribute_type("S"), true },
  { "attribute_type SS", attr("tags"):attribute_type("SS"), true },
  { "attribute_type NS", attr("nums"):attribute_type("NS"), true },
  { "attribute_type M", attr("data"):attribute_type("M"), true },
  { "attribute_type L", attr("l"):attribute_type("L"), true },
  { "attribute_type BOOL", attr("flag"):attribute_type("BOOL"), true },
  { "attribute_type NULL", attr("nul"):attribute_type("NULL"), true },
  { "attribute_type B", attr("bin"):attribute_type("B"), true },
  { "size() of a set", size("tags"):gt(3), true }, { "size() of a set", size("tags"):gt(4), false },
  { "size() of a string", size("name"):eq(3), true },
  { "size() of a nested list", size("data.list"):between(3, 3), true },
  { "size() in_", size("l"):in_ { 2, 3 }, true },
  { "size() with a path", attr("name"):size():eq(attr("size")), true },
  { "a path with size()", attr("size"):ge(size("name")), true },
  { "a list element", attr("l[1]"):eq(20), true }, { "a list element", attr("l[2]"):eq(20), false },
  { "a nested map", attr("data.nested.deep"):eq("x"), true },
  { "reserved word name", attr("name"):eq("Ann"), true },
  { "reserved word size", attr("size"):eq(3), true },
  { "reserved word status", attr("status"):eq("active"), true },
  { "reserved word data", attr("data.list[0]"):eq(1), true },
  { "a name with a dot", attr { "dotted.name" }:eq(1), true },
  { "a name with brackets", attr { "br[0]" }:eq("b"), true },
  { "a name with a dash", attr("dash-name"):eq("d"), true },
  { "a name with a space", attr("with space"):eq("sp"), true },
  { "&", attr("n"):eq(5) & attr("m"):eq(7), true }, { "&", attr("n"):eq(5) & attr("m"):eq(8), false },
  { "|", attr("n"):eq(0) | attr("m"):eq(7), true }, { "|", attr("n"):eq(0) | attr("m"):eq(0), false },
  { "~", ~attr("n"):eq(0), true }, { "~", ~attr("n"):eq(5), false },
  { "all", all { attr("n"):eq(5), attr("m"):eq(7), attr("name"):exists() }, true },
  { "all", all { attr("n"):eq(5), attr("m"):eq(0) }, false },
  { "any", any { attr("n"):eq(0), attr("m"):eq(0), attr("name"):eq("Ann") }, true },
  { "any", any { attr("n"):eq(0), attr("m"):eq(0) }, false },
  { "none", none(attr("n"):eq(0)), true }, { "none", none(attr("n"):eq(5)), false },
  { "none of a list", none { attr("n"):eq(0), attr("m"):eq(0) }, true },
  -- Wrong parentheses would flip these two.
  { "(a OR b) AND c", all { any { attr("n"):eq(5), attr("m"):eq(0) }, attr("name"):eq("Bob") }, false },
  { "NOT (a AND b)", none(all { attr("n"):eq(5), attr("m"):eq(0) }), true },
  { "(a | b) & c", (attr("n"):eq(5) | attr("m"):eq(0)) & attr("name"):eq("Bob"), false },
  { "~(a & b)", ~(attr("n"):eq(5) & attr("m"):eq(0)), true },
  { "a & b | c", attr("n"):eq(0) & attr("m"):eq(0) | attr("size"):eq(3), true },
  { "the same value twice", attr("size"):eq(3) & attr("data.list[2]"):eq(3), true },
}

for _, server in ipairs(servers.list()) do
  describe(server.name, function()
    local db = servers.client(server)
    local t = servers.table_name("expr")
    local ts = servers.table_name("expr_s")   -- a string sort key, for begins_with

    setup(function()
      servers.create_table(db, t)
      servers.create_table(db, ts, {
        AttributeDefinitions = { { AttributeName = "pk", AttributeType = "S" }, { AttributeName = "sk", AttributeType = "S" } },
        KeySchema = { { AttributeName = "pk", KeyType = "HASH" }, { AttributeName = "sk", KeyType = "RANGE" } },
      })
    end)
    teardown(function()
      db:delete_table { TableName = t }
      db:delete_table { TableName = ts }
    end)

    local function put(item, tbl)
      assert(db:put_item { TableName = tbl or t, Item = item })
    end

    local function get(pk, sk, projection)
      local p = { TableName = t, Key = { pk = pk, sk = sk }, ConsistentRead = true }
      if projection then
        local ctx = expr.context()
        p.ProjectionExpression = ctx:projection(projection)
        p.ExpressionAttributeNames = ctx:names()
      end
      return assert(db:get_item(p)).Item
    end

    -- UpdateItem with an update and an optional condition sharing one
    -- context. Returns the result, or nil and the error.
    local function update_item(pk, sk, u, c)
      local ctx = expr.context()
      return db:update_item {
        TableName = t, Key = { pk = pk, sk = sk },
        UpdateExpression = ctx:update(u),
        ConditionExpression = c and ctx:condition(c),
        ExpressionAttributeNames = ctx:names(),
        ExpressionAttributeValues = ctx:values(),
        ReturnValues = "ALL_NEW",
      }
    end

    local function must_update(pk, sk, u, c)
      local res, err = update_item(pk, sk, u, c)
      assert(res, err and tostring(err))
      return res.Attributes
    end

    describe("conditions", function()
      setup(function() put(condition_item()) end)

      for _, case in ipairs(CONDITIONS) do
        local name, c, passes = case[1], case[2], case[3]
        it((passes and "pass: " or "fail: ") .. name .. " (" .. tostring(c) .. ")", function()
          local res, err = update_item("cond", 1, update():set("checked", true), c)
          if passes then
            assert(res, err and tostring(err))
          else
            assert.is_nil(res)
            assert.are.equal("ConditionalCheckFailedException", err.code, tostring(err))
          end
        end)
      end

      it("are accepted by PutItem and DeleteItem too", function()
        local ctx = expr.context()
        local ok, err = db:put_item { TableName = t, Item = { pk = "cond2", sk = 1 },
          ConditionExpression = ctx:condition(attr("pk"):not_exists()), ExpressionAttributeNames = ctx:names() }
        assert(ok, err and tostring(err))
        ctx = expr.context()
        ok, err = db:delete_item { TableName = t, Key = { pk = "cond2", sk = 1 },
          ConditionExpression = ctx:condition(attr("sk"):eq(2)),
          ExpressionAttributeNames = ctx:names(), ExpressionAttributeValues = ctx:values() }
        assert.is_nil(ok)
        assert.are.equal("ConditionalCheckFailedException", err.code)
        assert.is_not_nil(get("cond2", 1))
      end)
    end)

    describe("queries", function()
      setup(function()
        for i = 1, 5 do
          put { pk = "q", sk = i, v = i * 10, kind = i % 2 == 0 and "even" or "odd" }
          put({ pk = "q", sk = (i % 2 == 0 and "order#" or "item#") .. i }, ts)
        end
      end)

      -- The sort keys a Query returns, in order.
      local function query(k, filter, tbl)
        local ctx = expr.context()
        local res, err = db:query {
          TableName = tbl or t, ConsistentRead = true,
          KeyConditionExpression = ctx:key_condition(k),
          FilterExpression = filter and ctx:condition(filter),
          ExpressionAttributeNames = ctx:names(), ExpressionAttributeValues = ctx:values(),
        }
        assert(res, err and tostring(err))
        local sks = {}
        for i, item in ipairs(res.Items) do sks[i] = item.sk end
        return sks
      end

      local cases = {
        { "eq", key("pk"):eq("q"), { 1, 2, 3, 4, 5 } },
        { "eq on both", key("pk"):eq("q") & key("sk"):eq(3), { 3 } },
        { "lt", key("pk"):eq("q") & key("sk"):lt(3), { 1, 2 } },
        { "le", key("pk"):eq("q") & key("sk"):le(3), { 1, 2, 3 } },
        { "gt", key("pk"):eq("q") & key("sk"):gt(3), { 4, 5 } },
        { "ge", key("pk"):eq("q") & key("sk"):ge(3), { 3, 4, 5 } },
        { "between", key("pk"):eq("q") & key("sk"):between(2, 4), { 2, 3, 4 } },
        { "the sort key first", key("sk"):gt(4) & key("pk"):eq("q"), { 5 } },
        { "all{}", all { key("pk"):eq("q"), key("sk"):le(1) }, { 1 } },
        { "attr() conditions", attr("pk"):eq("q") & attr("sk"):lt(2), { 1 } },
        { "a plain table", { pk = "q" }, { 1, 2, 3, 4, 5 } },
        { "a plain table of two", { pk = "q", sk = 2 }, { 2 } },
      }
      for _, c in ipairs(cases) do
        it("key condition " .. c[1], function()
          assert.are.same(c[3], query(c[2]))
        end)
      end

      it("key condition begins_with", function()
        assert.are.same({ "order#2", "order#4" }, query(key("pk"):eq("q") & key("sk"):begins_with("order#"), nil, ts))
        assert.are.same({}, query(key("pk"):eq("q") & key("sk"):begins_with("x"), nil, ts))
      end)

      it("filters a query", function()
        assert.are.same({ 3, 4, 5 }, query(key("pk"):eq("q"), attr("v"):gt(20)))
        assert.are.same({ 2, 4 }, query({ pk = "q" }, attr("kind"):eq("even")))
        assert.are.same({ 1, 5 }, query(key("pk"):eq("q"), attr("kind"):eq("odd") & ~attr("v"):eq(30)))
      end)

      it("filters a scan", function()
        local ctx = expr.context()
        local res, err = db:scan {
          TableName = t, ConsistentRead = true,
          FilterExpression = ctx:condition(attr("pk"):eq("q") & attr("v"):between(20, 40) & ~attr("kind"):eq("odd")),
          ExpressionAttributeNames = ctx:names(), ExpressionAttributeValues = ctx:values(),
        }
        assert(res, err and tostring(err))
        local sks = {}
        for i, item in ipairs(res.Items) do sks[i] = item.sk end
        table.sort(sks)
        assert.are.same({ 2, 4 }, sks)
      end)

      it("projects a query", function()
        local ctx = expr.context()
        local res = assert(db:query {
          TableName = t, ConsistentRead = true,
          KeyConditionExpression = ctx:key_condition { pk = "q", sk = 1 },
          ProjectionExpression = ctx:projection { "v", "kind" },
          ExpressionAttributeNames = ctx:names(), ExpressionAttributeValues = ctx:values(),
        })
        assert.are.same({ { v = 10, kind = "odd" } }, res.Items)
      end)
    end)

    describe("updates", function()
      local function fresh(pk, item)
        item = item or {}
        item.pk, item.sk = pk, 1
        put(item)
      end

      it("set nested map paths", function()
        fresh("u1", { a = { b = { c = 1 } } })
        must_update("u1", 1, update():set("a.b.c", 2):set("a.b.new", "x"))
        assert.are.same({ b = { c = 2, new = "x" } }, get("u1", 1).a)
      end)

      it("set and remove list elements", function()
        fresh("u2", { l = { "a", "b", "c" } })
        must_update("u2", 1, update():set("l[1]", "B"))
        assert.are.same({ "a", "B", "c" }, get("u2", 1).l)
        must_update("u2", 1, update():remove("l[0]"))
        assert.are.same({ "B", "c" }, get("u2", 1).l)
      end)

      it("list_append at the end and list_prepend at the front", function()
        fresh("u3", { l = { 2 } })
        must_update("u3", 1, update():set("l", list_append("l", { 3, 4 })))
        must_update("u3", 1, update():set("l", list_prepend("l", { 0, 1 })))
        assert.are.same({ 0, 1, 2, 3, 4 }, get("u3", 1).l)
      end)

      it("list_append onto if_not_exists with an empty list", function()
        fresh("u4")
        must_update("u4", 1, update():set("l", list_append(if_not_exists("l", {}), { "x" })))
        must_update("u4", 1, update():set("l", list_append(if_not_exists("l", {}), { "y" })))
        assert.are.same({ "x", "y" }, get("u4", 1).l)
      end)

      it("if_not_exists and arithmetic", function()
        fresh("u5", { n = 5, m = 2 })
        must_update("u5", 1, update():set("c", if_not_exists("c", 0) + 1))
        must_update("u5", 1, update():set("c", if_not_exists("c", 0) + 1))
        must_update("u5", 1, update():set("n", attr("n") + 1):set("d", attr("n") - attr("m")):set("k", 10 - attr("m"))
          :set("first", if_not_exists("n", 0)):set("copy", attr("m")))
        local item = get("u5", 1)
        assert.are.same({ 2, 6, 3, 8, 5, 2 }, { item.c, item.n, item.d, item.k, item.first, item.copy })
      end)

      it("add to a number and to a set, delete from a set", function()
        fresh("u6", { tags = dynamo.set { "a", "b" } })
        must_update("u6", 1, update():add("count", 5))
        must_update("u6", 1, update():add("count", 2):add("tags", dynamo.set { "c" }))
        must_update("u6", 1, update():delete("tags", dynamo.set { "a" }))
        local item = get("u6", 1)
        assert.are.equal(7, item.count)
        assert.is_true(item.tags:has("b") and item.tags:has("c") and not item.tags:has("a"))
        assert.are.equal(2, #item.tags)
      end)

      it("several actions in one update, with a condition in the same context", function()
        fresh("u7", { n = 1, old = "x", other = "y", tags = dynamo.set { 1, 2 } })
        local u = update():set("a", { b = 1 }):set("n", attr("n") + 1):remove("old", "other")
          :add("count", 1):delete("tags", dynamo.set { 1 })
        local res, err = update_item("u7", 1, u, attr("n"):eq(2))
        assert.is_nil(res)
        assert.are.equal("ConditionalCheckFailedException", err.code)
        local item = must_update("u7", 1, u, attr("n"):eq(1) & attr("old"):exists())
        assert.are.same({ b = 1 }, item.a)
        assert.are.same({ 2, 1, true }, { item.n, item.count, item.old == nil and item.other == nil })
        assert.is_true(item.tags:has(2) and not item.tags:has(1))
      end)

      it("the plain-table form", function()
        fresh("u8", { n = 1, old = 1, tags = dynamo.set { "a", "b" }, m = { x = 1 } })
        must_update("u8", 1, { set = { ["m.y"] = 2, n = attr("n") + 1 }, remove = { "old" },
          add = { count = 3 }, delete = { tags = dynamo.set { "a" } } })
        local item = get("u8", 1)
        assert.are.same({ x = 1, y = 2 }, item.m)
        assert.are.same({ 2, 3 }, { item.n, item.count })
        assert.is_nil(item.old)
        assert.is_false(item.tags:has("a"))
      end)

      it("reserved words and names with dots, dashes and spaces", function()
        fresh("u9", { data = { status = "old" } })
        must_update("u9", 1, update():set("name", "N"):set("size", 4):set("status", "s"):set("data.status", "new")
          :set(attr { "dotted.name" }, 1):set("dash-name", 2):set("with space", 3):set(attr { "br[0]" }, 4)
          :remove("nope"))
        local item = get("u9", 1)
        assert.are.same({ "N", 4, "s", "new", 1, 2, 3, 4 }, { item.name, item.size, item.status, item.data.status,
          item["dotted.name"], item["dash-name"], item["with space"], item["br[0]"] })
      end)

      it("values of every type", function()
        fresh("u10")
        local values = { s = "x", i = 1, f = 1.5, dec = dynamo.decimal("12345678901234567890.5"), t = true,
          nul = dynamo.null, bin = dynamo.binary("\0\1"), ss = dynamo.set { "a" }, l = { 1, "a" }, m = { k = "v" } }
        local u = update()
        for _, k in ipairs { "s", "i", "f", "dec", "t", "nul", "bin", "ss", "l", "m" } do u:set(k, values[k]) end
        must_update("u10", 1, u)
        local item = get("u10", 1)
        assert.are.same({ "x", 1, 1.5, true, { 1, "a" }, { k = "v" } }, { item.s, item.i, item.f, item.t, item.l, item.m })
        assert.are.equal(dynamo.null, item.nul)
        assert.are.equal("12345678901234567890.5", tostring(item.dec))
        assert.is_true(item.ss:has("a"))
      end)
    end)

    describe("projections", function()
      it("of nested paths, list elements and odd names", function()
        put(condition_item())
        local item = get("cond", 1, { "data.nested.deep", "l[1]", "name", attr { "dotted.name" }, "with space", "size" })
        assert.are.same({ data = { nested = { deep = "x" } }, l = { 20 }, name = "Ann", ["dotted.name"] = 1,
          ["with space"] = "sp", size = 3 }, item)
      end)

      it("from projection()", function()
        local item = get("cond", 1, expr.projection { "data.list[2]", "status" })
        assert.are.same({ data = { list = { 3 } }, status = "active" }, item)
      end)
    end)
  end)
end
