-- dynamo.transact: db:transact_write and db:transact_get against DynamoDB
-- Local (dynalite has no transactions): friendly and AWS actions, cancellation
-- reasons per action, the checks made before sending, and the
-- ClientRequestToken.
local dynamo = require "dynamo"
local transact = require "dynamo.transact"
local Client = require("dynamo.client").Client
local servers = require "support.servers"

local creds = { access_key_id = "AKIDTEST", secret_access_key = "test-secret" }
local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

-- Replaces db:transact_write_items, for the running test, with a wrapper
-- that keeps the params of every call and sends them on.
local function spy(db)
  local calls = {}
  db.transact_write_items = function(self, params)
    calls[#calls + 1] = params
    return Client.transact_write_items(self, params)
  end
  finally(function() db.transact_write_items = nil end)
  return calls
end

local server = servers.get("local")
assert(server.supports.TransactWriteItems)

describe("transactions on " .. server.name, function()
  local db = servers.client(server)
  local name = servers.table_name("tx")
  local swapped = servers.table_name("txswap") -- hash key "user", range key "at"

  setup(function()
    servers.create_table(db, name)
    assert(db:create_table {
      TableName = swapped, BillingMode = "PAY_PER_REQUEST",
      AttributeDefinitions = { { AttributeName = "user", AttributeType = "S" }, { AttributeName = "at", AttributeType = "S" } },
      KeySchema = { { AttributeName = "user", KeyType = "HASH" }, { AttributeName = "at", KeyType = "RANGE" } },
    })
    servers.wait_active(db, swapped)
  end)
  teardown(function()
    db:delete_table { TableName = name }
    db:delete_table { TableName = swapped }
  end)

  local function read(pk, sk)
    local res = assert(db:get_item { TableName = name, Key = { pk = pk, sk = sk }, ConsistentRead = true })
    return res.Item
  end

  local function put(item) assert(db:put_item { TableName = name, Item = item }) end

  describe("transact_write", function()
    it("applies put, update, delete and check given with friendly names", function()
      put { pk = "f", sk = 1, n = 1 }
      put { pk = "f", sk = 2 }
      put { pk = "f", sk = 3, ok = true }
      local res, err = db:transact_write {
        { put = { table = name, item = { pk = "f", sk = 4, v = "new" }, condition = "attribute_not_exists(pk)" } },
        { update = { table = name, key = { pk = "f", sk = 1 }, update = "SET n = n + :one", values = { [":one"] = 1 },
          condition = "n = :one" } },
        { delete = { table = name, key = { pk = "f", sk = 2 }, condition = "attribute_exists(pk)" } },
        { check = { table = name, key = { pk = "f", sk = 3 }, condition = "#ok = :t", names = { ["#ok"] = "ok" },
          values = { [":t"] = true } } },
      }
      assert.is_nil(err)
      assert.is_table(res)
      assert.are.same({ pk = "f", sk = 4, v = "new" }, read("f", 4))
      assert.are.same({ pk = "f", sk = 1, n = 2 }, read("f", 1))
      assert.is_nil(read("f", 2))
      assert.are.same({ pk = "f", sk = 3, ok = true }, read("f", 3))
    end)

    it("applies actions given with the AWS names", function()
      put { pk = "r", sk = 1, n = 5 }
      put { pk = "r", sk = 2 }
      put { pk = "r", sk = 3 }
      local res = assert(db:transact_write {
        { Put = { TableName = name, Item = { pk = "r", sk = 4 }, ConditionExpression = "attribute_not_exists(pk)" } },
        { Update = { TableName = name, Key = { pk = "r", sk = 1 }, UpdateExpression = "ADD n :d",
          ExpressionAttributeValues = { [":d"] = 10 } } },
        { Delete = { TableName = name, Key = { pk = "r", sk = 2 } } },
        { ConditionCheck = { TableName = name, Key = { pk = "r", sk = 3 }, ConditionExpression = "attribute_exists(pk)" } },
      })
      assert.is_table(res)
      assert.are.same({ pk = "r", sk = 4 }, read("r", 4))
      assert.are.same({ pk = "r", sk = 1, n = 15 }, read("r", 1))
      assert.is_nil(read("r", 2))
    end)

    it("takes an update in table form (an expression builder)", function()
      put { pk = "b", sk = 1, n = 1, gone = "x" }
      assert(db:transact_write {
        { update = { table = name, key = { pk = "b", sk = 1 }, update = { set = { n = 10 }, remove = { "gone" } } } },
      })
      assert.are.same({ pk = "b", sk = 1, n = 10 }, read("b", 1))
    end)

    it("reports a cancelled transaction with one reason per action, and the item asked for", function()
      put { pk = "c", sk = 1, n = 1 }
      put { pk = "c", sk = 2, n = 2 }
      local res, err = db:transact_write {
        { put = { table = name, item = { pk = "c", sk = 9 } } },
        { check = { table = name, key = { pk = "c", sk = 1 }, condition = "n = :two", values = { [":two"] = 2 },
          return_values_on_failure = "all_old" } },
        { delete = { table = name, key = { pk = "c", sk = 2 } } },
      }
      assert.is_nil(res)
      assert.is_true(dynamo.is_error(err))
      assert.are.equal("TransactionCanceledException", err.code)
      assert.are.equal("TransactWriteItems", err.operation)
      assert.are.equal(400, err.status)
      assert.is_false(err.retryable)
      assert.are.equal(3, #err.reasons)
      assert.are.same({ code = "None" }, err.reasons[1])
      assert.are.same({ code = "ConditionalCheckFailed", message = "The conditional request failed.",
        item = { pk = "c", sk = 1, n = 1 } }, err.reasons[2])
      assert.are.same({ code = "None" }, err.reasons[3])
      -- Nothing was applied.
      assert.is_nil(read("c", 9))
      assert.are.same({ pk = "c", sk = 2, n = 2 }, read("c", 2))
    end)

    it("reports the reason without an item when none was asked for", function()
      put { pk = "c2", sk = 1, n = 1 }
      local _, err = db:transact_write {
        { update = { table = name, key = { pk = "c2", sk = 1 }, update = "SET n = :v", values = { [":v"] = 5 },
          condition = "attribute_not_exists(pk)" } },
        { put = { table = name, item = { pk = "c2", sk = 2 } } },
      }
      assert.are.equal("TransactionCanceledException", err.code)
      -- (DynamoDB Local words this message without the final period of the one with an item.)
      assert.are.same({ { code = "ConditionalCheckFailed", message = "The conditional request failed" },
        { code = "None" } }, err.reasons)
      assert.are.same({ pk = "c2", sk = 1, n = 1 }, read("c2", 1))
    end)

    it("allows 100 actions and rejects 101 before sending", function()
      local calls = spy(db)
      local actions = {}
      for i = 1, 101 do actions[i] = { put = { table = name, item = { pk = "h", sk = i } } } end
      assert.has_error(function() db:transact_write(actions) end,
        "bad argument #1 to 'transact_write' (101 actions; DynamoDB allows at most 100 per transaction)")
      assert.are.equal(0, #calls)
      actions[101] = nil
      assert(db:transact_write(actions))
      assert.are.equal(1, #calls)
      assert.are.same({ pk = "h", sk = 100 }, read("h", 100))
    end)

    it("rejects two actions on one item before sending", function()
      local calls = spy(db)
      assert.has_error(function()
        db:transact_write {
          { put = { table = name, item = { pk = "d", sk = 1, v = 1 } } },
          { update = { table = name, key = { pk = "d", sk = 1 }, update = "SET v = :v", values = { [":v"] = 2 } } },
        }
      end, "bad argument 'actions[2]' to 'transact_write' (targets the same item as actions[1]; "
        .. "DynamoDB rejects two actions on one item)")
      assert.has_error(function()
        db:transact_write {
          { check = { table = name, key = { pk = "d", sk = 1 }, condition = "attribute_exists(pk)" } },
          { put = { table = name, item = { pk = "d", sk = 2 } } },
          { Delete = { TableName = name, Key = { sk = 1.0, pk = "d" } } },
        }
      end, "bad argument 'actions[3]' to 'transact_write' (targets the same item as actions[1]; "
        .. "DynamoDB rejects two actions on one item)")
      assert.has_error(function()
        db:transact_write {
          { delete = { table = name, key = { pk = "d", sk = dynamo.decimal("7") } } },
          { delete = { table = name, key = { pk = "d", sk = 7 } } },
        }
      end, "bad argument 'actions[2]' to 'transact_write' (targets the same item as actions[1]; "
        .. "DynamoDB rejects two actions on one item)")
      assert.are.equal(0, #calls)
      -- The same key in another table, or another key, is fine.
      assert(db:transact_write {
        { put = { table = name, item = { pk = "d", sk = 1 } } },
        { put = { table = name, item = { pk = "d", sk = 2 } } },
        { put = { table = swapped, item = { user = "d", at = "1" } } },
      })
      assert.are.equal(1, #calls)
    end)

    it("finds two actions on one item whatever the order of the key names", function()
      -- The table's hash key name ("user") sorts after its range key name ("at").
      local calls = spy(db)
      assert.has_error(function()
        db:transact_write {
          { put = { table = swapped, item = { user = "u1", at = "t1" } } },
          { delete = { table = swapped, key = { user = "u1", at = "t1" } } },
        }
      end, "bad argument 'actions[2]' to 'transact_write' (targets the same item as actions[1]; "
        .. "DynamoDB rejects two actions on one item)")
      assert.are.equal(0, #calls)
    end)

    it("does not mistake two different items for one", function()
      -- user = "x", at = "y" and user = "y", at = "x" are different items.
      local res, err = db:transact_write {
        { put = { table = swapped, item = { user = "x", at = "y" } } },
        { put = { table = swapped, item = { user = "y", at = "x" } } },
        { check = { table = swapped, key = { user = "x", at = "x" }, condition = "attribute_not_exists(#u)",
          names = { ["#u"] = "user" } } },
      }
      assert.is_nil(err)
      assert.is_table(res)
      local ok, e = pcall(db.transact_write, db, {
        { put = { table = swapped, item = { user = "p", at = "q" } } },
        { delete = { table = swapped, key = { user = "q", at = "p" } } },
      })
      assert.is_true(ok, tostring(e))
      local got = assert(db:get_item { TableName = swapped, Key = { user = "p", at = "q" } })
      assert.are.same({ user = "p", at = "q" }, got.Item)
    end)

    it("makes one ClientRequestToken per call, a random UUID", function()
      local calls = spy(db)
      assert(db:transact_write { { put = { table = name, item = { pk = "t", sk = 1 } } } })
      assert(db:transact_write { { put = { table = name, item = { pk = "t", sk = 2 } } } })
      assert.are.equal(2, #calls)
      assert.matches(UUID, calls[1].ClientRequestToken)
      assert.matches(UUID, calls[2].ClientRequestToken)
      assert.are_not.equal(calls[1].ClientRequestToken, calls[2].ClientRequestToken)
      assert.are.same({ "ClientRequestToken", "TransactItems" }, (function()
        local keys = {}
        for k in pairs(calls[1]) do keys[#keys + 1] = k end
        table.sort(keys)
        return keys
      end)())
      local seen = {}
      for _ = 1, 200 do
        local u = transact.uuid()
        assert.matches(UUID, u)
        assert.is_nil(seen[u])
        seen[u] = true
      end
    end)

    it("uses the caller's token, which makes a repeated call idempotent", function()
      put { pk = "i", sk = 1, n = 0 }
      local calls = spy(db)
      local token = "caller-token-" .. servers.table_name("tok")
      local actions = {
        { update = { table = name, key = { pk = "i", sk = 1 }, update = "ADD n :one", values = { [":one"] = 1 } } },
        token = token,
      }
      assert(db:transact_write(actions))
      assert(db:transact_write(actions))
      assert.are.equal(token, calls[1].ClientRequestToken)
      assert.are.equal(token, calls[2].ClientRequestToken)
      assert.are.same({ pk = "i", sk = 1, n = 1 }, read("i", 1))
      assert.are.equal(token, actions.token) -- the caller's table is left alone
      assert.is_nil(actions.ClientRequestToken)
    end)

    it("passes return_consumed and return_metrics through", function()
      local res = assert(db:transact_write {
        { put = { table = name, item = { pk = "o", sk = 1 } } },
        return_consumed = "TOTAL", return_metrics = "SIZE",
      })
      assert.is_table(res.ConsumedCapacity)
      assert.are.equal(name, res.ConsumedCapacity[1].TableName)
    end)

    it("takes return_consumed = true and lower-case enums like the item operations", function()
      local calls = spy(db)
      local ok, res = pcall(db.transact_write, db, {
        { put = { table = name, item = { pk = "o", sk = 2 } } },
        return_consumed = true, return_metrics = "size",
      })
      assert.is_true(ok, tostring(res))
      assert.are.equal("TOTAL", calls[1].ReturnConsumedCapacity)
      assert.are.equal("SIZE", calls[1].ReturnItemCollectionMetrics)
      assert.is_table(res.ConsumedCapacity)
    end)
  end)

  describe("transact_get", function()
    it("returns the items in action order, with nil holes and n", function()
      put { pk = "g", sk = 1, v = "one", w = 1 }
      put { pk = "g", sk = 3, v = "three", w = 3 }
      local items, res = db:transact_get {
        { get = { table = name, key = { pk = "g", sk = 1 } } },
        { get = { table = name, key = { pk = "g", sk = 2 } } },
        { Get = { TableName = name, Key = { pk = "g", sk = 3 }, ProjectionExpression = "v" } },
        { get = { table = name, key = { pk = "nope", sk = 0 } } },
      }
      assert.are.same({ n = 4, { pk = "g", sk = 1, v = "one", w = 1 }, nil, { v = "three" }, nil }, items)
      assert.are.equal(4, #res.Responses)
    end)

    it("takes a projection list and names", function()
      put { pk = "g2", sk = 1, v = "one", w = 1 }
      put { pk = "g2", sk = 2, v = "two", w = 2 }
      local items = assert(db:transact_get {
        { get = { table = name, key = { pk = "g2", sk = 1 }, projection = "#w", names = { ["#w"] = "w" } } },
        { get = { table = name, key = { pk = "g2", sk = 2 }, projection = { "v" } } },
        return_consumed = "TOTAL",
      })
      assert.are.same({ n = 2, { w = 1 }, { v = "two" } }, items)
    end)

    it("rejects two gets of one item before sending, as transact_write does", function()
      local sent = 0
      db.transact_get_items = function(self, params)
        sent = sent + 1
        return Client.transact_get_items(self, params)
      end
      finally(function() db.transact_get_items = nil end)
      assert.has_error(function()
        db:transact_get {
          { get = { table = name, key = { pk = "g", sk = 1 } } },
          { get = { table = name, key = { pk = "g", sk = 1 }, projection = "v" } },
        }
      end, "bad argument 'actions[2]' to 'transact_get' (targets the same item as actions[1]; "
        .. "DynamoDB rejects two actions on one item)")
      assert.are.equal(0, sent)
    end)

    it("returns nil, err for a failure", function()
      local items, err = db:transact_get { { get = { table = name .. "_none", key = { pk = "x", sk = 1 } } } }
      assert.is_nil(items)
      assert.is_true(dynamo.is_error(err))
      assert.are.equal("TransactGetItems", err.operation)
    end)
  end)
end)

describe("transaction arguments", function()
  local db = dynamo.new { region = "us-east-1", endpoint = "http://127.0.0.1:1", credentials = creds }
  local function w(args) return function() db:transact_write(args) end end
  local function g(args) return function() db:transact_get(args) end end

  it("are checked before anything is sent", function()
    assert.has_error(w("x"), "bad argument #1 to 'transact_write' (table of actions expected, got string)")
    assert.has_error(w({}), "bad argument #1 to 'transact_write' (no actions)")
    assert.has_error(w({ 5 }), "bad argument 'actions[1]' to 'transact_write' (table expected, got number)")
    assert.has_error(w({ {} }), "bad argument 'actions[1]' to 'transact_write' (empty action)")
    assert.has_error(w({ { get = { table = "t", key = {} } } }),
      "bad argument 'actions[1].get' to 'transact_write' (unknown action; expected put, update, delete or check)")
    assert.has_error(w({ { Put = { TableName = "t", Item = {} } }, { insert = {} } }),
      "bad argument 'actions[2].insert' to 'transact_write' (unknown action; expected put, update, delete or check)")
    assert.has_error(w({ { put = 5 } }), "bad argument 'actions[1].put' to 'transact_write' (table expected, got number)")
    assert.has_error(w({ { put = { item = {} } } }), "bad argument 'actions[1].put.table' to 'transact_write' (required)")
    assert.has_error(w({ { check = { table = "t", key = {} } } }),
      "bad argument 'actions[1].check.condition' to 'transact_write' (required)")
    assert.has_error(w({ { update = { table = "t", key = {}, item = {} } } }),
      "bad argument 'actions[1].update.item' to 'transact_write' (Update has no parameter of that name)")
    assert.has_error(w({ { put = { table = "t", item = {} } }, bogus = 1 }),
      "bad argument 'bogus' to 'transact_write' (not an option of transact_write)")
    assert.has_error(g({ { put = { table = "t", item = {} } } }),
      "bad argument 'actions[1].put' to 'transact_get' (unknown action; expected get)")
    assert.has_error(g({ { get = { table = "t", key = {} } }, token = "x" }),
      "bad argument 'token' to 'transact_get' (not an option of transact_get)")
    local many = {}
    for i = 1, 101 do many[i] = { get = { table = "t", key = { pk = "k" .. i } } } end
    assert.has_error(g(many), "bad argument #1 to 'transact_get' (101 actions; DynamoDB allows at most 100 per transaction)")
  end)

  it("name both actions of an entry that has two", function()
    local ok, err = pcall(db.transact_write, db, { { put = { table = "t", item = {} }, delete = { table = "t", key = {} } } })
    assert.is_false(ok)
    local a = "bad argument 'actions[1]' to 'transact_write' (one action per entry, got Put and Delete)"
    local b = "bad argument 'actions[1]' to 'transact_write' (one action per entry, got Delete and Put)"
    assert.is_true(err:find(a, 1, true) ~= nil or err:find(b, 1, true) ~= nil, err)
  end)

  it("point at the caller's line", function()
    local ok, err = pcall(function() db:transact_write { { put = { item = {} } } } end)
    assert.is_false(ok)
    assert.matches("^spec/transact_spec%.lua:%d+: bad argument 'actions%[1%]%.put%.table'", err)
    local ok2, err2 = pcall(function() db:transact_write { { put = { table = "t", item = {}, bogus = 1 } } } end)
    assert.is_false(ok2)
    assert.matches("^spec/transact_spec%.lua:%d+: bad argument 'actions%[1%]%.put%.bogus'", err2)
    local line = debug.getinfo(1, "l").currentline + 1
    local ok3, err3 = pcall(function() db:transact_write { { put = { table = "t", item = {}, condition = 5 } } } end)
    assert.is_false(ok3)
    assert.are.equal("spec/transact_spec.lua:" .. line .. ": bad argument 'actions[1].put.condition' to "
      .. "'transact_write' (condition or string expected, got number)", err3)
  end)
end)
