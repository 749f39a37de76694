-- Waiters: db:wait_for_table, db:wait_for_table_gone and db:wait_for_index
-- against the real servers.
local dynamo = require "dynamo"
local core = require "dynamo.core"
local servers = require "support.servers"
local fault_proxy = require "support.proxy"

local creds = { access_key_id = "AKIDTEST", secret_access_key = "test-secret" }
local fast = { interval = 0.02, timeout = 10 }

local function table_params(name, extra)
  local p = {
    TableName = name,
    AttributeDefinitions = { { AttributeName = "pk", AttributeType = "S" } },
    KeySchema = { { AttributeName = "pk", KeyType = "HASH" } },
    BillingMode = "PAY_PER_REQUEST",
  }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local function gsi(name)
  return {
    IndexName = name,
    KeySchema = { { AttributeName = "g", KeyType = "HASH" } },
    Projection = { ProjectionType = "ALL" },
  }
end

describe("waiter arguments", function()
  local db = dynamo.new { region = "us-east-1", endpoint = "http://127.0.0.1:1", credentials = creds }

  it("are named when wrong", function()
    assert.has_error(function() db.wait_for_table("t") end,
      "bad self to 'wait_for_table' (call it as db:wait_for_table(...), with a colon)")
    assert.has_error(function() db:wait_for_table() end, "bad argument #1 to 'wait_for_table' (string expected, got nil)")
    assert.has_error(function() db:wait_for_table("t", 5) end,
      "bad argument #2 to 'wait_for_table' (table expected, got number)")
    assert.has_error(function() db:wait_for_table("t", { timeout = -1 }) end,
      "bad argument 'timeout' to 'wait_for_table' (non-negative number expected, got -1)")
    assert.has_error(function() db:wait_for_table_gone("t", { interval = 0 }) end,
      "bad argument 'interval' to 'wait_for_table_gone' (positive number expected, got 0)")
    assert.has_error(function() db:wait_for_table_gone("t", { interval = "1" }) end,
      "bad argument 'interval' to 'wait_for_table_gone' (positive number expected, got string)")
    assert.has_error(function() db:wait_for_table_gone("t", { timout = 1 }) end,
      "bad argument 'timout' to 'wait_for_table_gone' (no such option)")
    assert.has_error(function() db:wait_for_index("t") end, "bad argument #2 to 'wait_for_index' (string expected, got nil)")
    assert.has_error(function() db:wait_for_index(1, "i") end, "bad argument #1 to 'wait_for_index' (string expected, got number)")
    assert.has_error(function() db:wait_for_index("t", "i", true) end,
      "bad argument #3 to 'wait_for_index' (table expected, got boolean)")
  end)
end)

for _, server in ipairs(servers.list()) do
  describe("waiters on " .. server.name, function()
    local db = servers.client(server)
    local made = {}
    local function create(extra)
      local name = servers.table_name("wait")
      made[#made + 1] = name
      assert(db:create_table(table_params(name, extra)))
      return name
    end
    teardown(function()
      for _, name in ipairs(made) do db:delete_table { TableName = name } end
    end)
    after_each(fault_proxy.stop_all)

    it("wait for a new table to be ACTIVE, then for it to be gone", function()
      local name = create()
      local t = assert(db:wait_for_table(name, fast))
      assert.are.equal("ACTIVE", t.TableStatus)
      assert.are.equal(name, t.TableName)
      assert(db:delete_table { TableName = name })
      assert.is_true(db:wait_for_table_gone(name, fast))
      local res, err = db:describe_table { TableName = name }
      assert.is_nil(res)
      assert.are.equal("ResourceNotFoundException", err.code)
    end)

    it("poll at once the first time", function()
      local name = create()
      assert(db:wait_for_table(name, fast))
      local t0 = core.now()
      assert(db:wait_for_table(name, { interval = 5 }))
      assert.is_true(core.now() - t0 < 1)
    end)

    it("return the error for a table that does not exist", function()
      local t0 = core.now()
      local res, err = db:wait_for_table("no_such_table_here", { interval = 5 })
      assert.is_nil(res)
      assert.are.equal("ResourceNotFoundException", err.code)
      assert.is_true(core.now() - t0 < 1)
    end)

    it("time out with WaiterTimeout, naming the table and the last status", function()
      local name = create()
      assert(db:wait_for_table(name, fast))
      local t0 = core.now()
      local res, err = db:wait_for_table_gone(name, { timeout = 0.3, interval = 0.1 })
      local waited = core.now() - t0
      assert.is_nil(res)
      assert.are.equal("WaiterTimeout", err.code)
      assert.are.equal("ACTIVE", err.last_status)
      assert.is_false(err.retryable)
      assert.matches("^table '" .. name .. "' still exists after 0%.[34] s %(last status: ACTIVE%)$", err.message)
      assert.is_true(waited >= 0.3 and waited < 1, "waited " .. waited .. " s")
    end)

    it("give a timeout of 0 exactly one poll", function()
      local name = create()
      assert(db:wait_for_table(name, fast))
      local res, err = db:wait_for_table_gone(name, { timeout = 0 })
      assert.is_nil(res)
      assert.matches("still exists after 0%.0 s", err.message)
    end)

    it("poll through retryable errors", function()
      local name = create()
      local url = fault_proxy.start("status=503", server.url, "--count 2")
      local c = servers.client(server, { endpoint = url:sub(1, -2) })
      local t = assert(c:wait_for_table(name, fast))
      assert.are.equal("ACTIVE", t.TableStatus)
    end)

    it("time out when retryable errors outlast the timeout, naming the last one", function()
      local url = fault_proxy.start("status=503", server.url)
      local c = servers.client(server, { endpoint = url:sub(1, -2) })
      local res, err = c:wait_for_table("any", { timeout = 0.2, interval = 0.05 })
      assert.is_nil(res)
      assert.are.equal("WaiterTimeout", err.code)
      assert.matches("^table 'any' not ACTIVE after 0%.[23] s %(last status: ThrottlingException: injected %(DescribeTable, HTTP 503, request id fault%-proxy%)%)$",
        err.message)
    end)

    it("wait for an index created with its table", function()
      local name = create {
        AttributeDefinitions = {
          { AttributeName = "pk", AttributeType = "S" }, { AttributeName = "g", AttributeType = "S" },
        },
        GlobalSecondaryIndexes = { gsi("by_g") },
      }
      local ix = assert(db:wait_for_index(name, "by_g", fast))
      assert.are.equal("by_g", ix.IndexName)
      assert.are.equal("ACTIVE", ix.IndexStatus)
      assert.is_not_true(ix.Backfilling)
    end)

    it("return an error for an index the table does not have", function()
      local name = create()
      local res, err = db:wait_for_index(name, "nope", fast)
      assert.is_nil(res)
      assert.are.equal("ResourceNotFoundException", err.code)
      assert.are.equal("table '" .. name .. "' has no index 'nope'", err.message)
    end)

    -- dynalite accepts GlobalSecondaryIndexUpdates.Create but adds no index.
    if server.id == "local" then
      it("wait for an index added by UpdateTable", function()
        local name = create()
        assert(db:wait_for_table(name, fast))
        assert(db:update_table {
          TableName = name,
          AttributeDefinitions = { { AttributeName = "g", AttributeType = "S" } },
          GlobalSecondaryIndexUpdates = { { Create = gsi("added") } },
        })
        local ix = assert(db:wait_for_index(name, "added", fast))
        assert.are.equal("added", ix.IndexName)
        assert.are.equal("ACTIVE", ix.IndexStatus)
        assert.is_not_true(ix.Backfilling)
      end)
    end
  end)
end
