-- The retry policy (unit), and the request path's retries, hooks, logging
-- and consumed-capacity stats against the real servers.
local dynamo = require "dynamo"
local retry = require "dynamo.retry"
local rate = require "dynamo.retry_rate"
local errors = require "dynamo.errors"
local servers = require "support.servers"
local fault_proxy = require "support.proxy"

local throttle = errors.new { code = "ThrottlingException", message = "slow down" }
local server_error = errors.new { code = "InternalServerError", message = "boom", retryable = true }
local timeout = errors.new { code = "TimeoutError", message = "timed out", retryable = true }
local fatal = errors.new { code = "ValidationException", message = "no" }

describe("retry policy", function()
  it("defaults to standard: 3 attempts", function()
    local p = retry.new()
    assert.are.equal("standard", p.mode)
    assert.are.equal(3, p.max_attempts)
    assert.is_truthy(p:delay(server_error, 1, 0, 0))
    assert.is_truthy(p:delay(server_error, 2, 0, 0))
    assert.are.same({ nil, "attempts exhausted" }, { p:delay(server_error, 3, 0, 0) })
  end)

  it("never retries what is not retryable", function()
    assert.are.same({ nil, "not retryable" }, { retry.new():delay(fatal, 1, 0, 0) })
  end)

  it("waits a full-jitter time: throttles briefly, other errors longer", function()
    local p = retry.new()
    local max_t, max_e = 0, 0
    for _ = 1, 2000 do
      local t = p:delay(throttle, 1, 0, 0)
      local e = p:delay(server_error, 2, 0, 0)
      p.quota = 500 -- keep the quota out of this test
      assert.is_true(t >= 0 and t <= 0.025)
      assert.is_true(e >= 0 and e <= 0.4)
      max_t, max_e = math.max(max_t, t), math.max(max_e, e)
    end
    -- Jitter spreads over the whole range.
    assert.is_true(max_t > 0.02 and max_e > 0.3)
  end)

  it("in legacy mode waits 50 ms doubling over 10 attempts, without jitter", function()
    local p = retry.new { mode = "legacy" }
    local waits = {}
    for attempt = 1, 9 do waits[attempt] = p:delay(throttle, attempt, 0, 0) end
    assert.are.same({ 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8 }, waits)
    assert.is_nil(p:delay(throttle, 10, 0, 0))
  end)

  it("caps each wait at max_backoff and honours x-amz-retry-after", function()
    local p = retry.new { mode = "legacy", max_attempts = 30, max_backoff = 1 }
    assert.are.equal(1, p:delay(throttle, 20, 0, 0))
    local asked = errors.new { code = "ThrottlingException", message = "x", retry_after = 0.7 }
    assert.are.equal(0.7, retry.new { mode = "legacy" }:delay(asked, 1, 0, 0))
  end)

  it("stops when the next wait would pass max_time", function()
    local p = retry.new { mode = "legacy", max_time = 1 }
    assert.are.equal(0.05, p:delay(throttle, 1, 0, 0.5))
    assert.are.same({ nil, "time budget spent" }, { p:delay(throttle, 1, 0, 0.96) })
  end)

  it("spends a retry quota on errors but not on throttles, and refunds on success", function()
    local p = retry.new { max_attempts = 1000 }
    for _ = 1, 1000 do assert.is_truthy(p:delay(throttle, 1, 0, 0)) end
    assert.are.equal(500, p.quota)
    local spent = 0
    for _ = 1, 50 do
      local _, cost = p:delay(timeout, 1, 0, 0)
      spent = spent + cost
    end
    assert.are.equal(0, p.quota)
    assert.are.same({ nil, "retry quota exhausted" }, { p:delay(server_error, 1, 0, 0) })
    p:record(nil, 10, 0)
    assert.are.equal(10, p.quota)
    p:record(nil, 0, 0)
    assert.are.equal(11, p.quota)
    assert.are.equal(500, spent)
  end)

  it("turns retry = false into a single attempt", function()
    assert.are.same({ nil, "attempts exhausted" }, { retry.new(false):delay(throttle, 1, 0, 0) })
  end)

  it("names bad options", function()
    assert.has_error(function() dynamo.new { endpoint = "http://127.0.0.1:1", retry = { mode = "fast" } } end,
      "bad argument 'retry.mode' to 'dynamo.new' (\"standard\", \"legacy\" or \"adaptive\" expected, got \"fast\")")
    assert.has_error(function() dynamo.new { endpoint = "http://127.0.0.1:1", retry = { max_attempts = 0 } } end,
      "bad argument 'retry.max_attempts' to 'dynamo.new' (integer >= 1 expected, got 0)")
    assert.has_error(function() dynamo.new { endpoint = "http://127.0.0.1:1", retry = { max_time = "1" } } end,
      "bad argument 'retry.max_time' to 'dynamo.new' (number >= 0 expected, got string)")
    assert.has_error(function() dynamo.new { endpoint = "http://127.0.0.1:1", retry = { attempts = 2 } } end,
      "bad argument 'retry' to 'dynamo.new' (unknown option 'attempts')")
    assert.has_error(function() dynamo.new { endpoint = "http://127.0.0.1:1", retry = 3 } end,
      "bad argument 'retry' to 'dynamo.new' (table or false expected, got number)")
    assert.has_error(function() dynamo.new { endpoint = "http://127.0.0.1:1", log = "loud" } end,
      "bad argument 'log' to 'dynamo.new' (level \"off\", \"error\", \"warn\", \"info\" or \"debug\" expected, got \"loud\")")
  end)
end)

describe("adaptive rate limiter", function()
  it("sends freely until throttled, then holds the rate under what was sent", function()
    local l = rate.new()
    local t = 0
    for _ = 1, 100 do
      assert.are.equal(0, l:acquire(t))
      l:update(false, t)
      t = t + 0.01 -- 100 requests a second
    end
    l:update(true, t)
    assert.is_true(l.enabled)
    assert.is_true(l.fill_rate < 100 and l.fill_rate > 30, tostring(l.fill_rate))
    -- A burst now has to wait.
    local waited = 0
    for _ = 1, 50 do waited = waited + l:acquire(t) end
    assert.is_true(waited > 0.2, tostring(waited))
  end)

  it("grows the rate back after the throttles stop", function()
    local l = rate.new()
    local t = 0
    for _ = 1, 200 do l:update(false, t); t = t + 0.005 end
    l:update(true, t)
    local low = l.fill_rate
    for _ = 1, 400 do l:update(false, t); t = t + 0.005 end
    assert.is_true(l.fill_rate > low, l.fill_rate .. " <= " .. low)
  end)
end)

for _, server in ipairs(servers.list()) do
  describe("the request path on " .. server.name, function()
    local db = servers.client(server)
    local name = servers.table_name("retry")
    setup(function() servers.create_table(db, name) end)
    teardown(function()
      db:delete_table { TableName = name }
      fault_proxy.stop_all()
    end)

    local function via(mode, extra, opts)
      opts = opts or {}
      opts.endpoint = fault_proxy.start(mode, server.url, extra):sub(1, -2)
      return servers.client(server, opts)
    end

    it("retries throttles until the call succeeds, and the retry hook sees each wait", function()
      local c = via("status=400", "--count 2")
      local seen = {}
      c:on("retry", function(info) seen[#seen + 1] = info end)
      assert(c:put_item { table = name, item = { pk = "t", sk = 1 } })
      assert.are.equal(2, #seen)
      assert.are.equal("ThrottlingException", seen[1].error.code)
      assert.are.same({ 1, 2 }, { seen[1].attempt, seen[2].attempt })
      assert.are.equal("PutItem", seen[2].operation)
      assert.are.equal(name, seen[2].table)
      assert.is_true(seen[2].total_delay >= seen[2].delay)
      assert.are.equal(3, c.stats.requests)
      assert.are.equal(2, c.stats.retries)
    end)

    it("gives up after max_attempts with err.attempts and err.retry_delay", function()
      local c = via("status=503", nil, { retry = { max_attempts = 4, base = 0.01, throttle_base = 0.01 } })
      local errs = {}
      c:on("error", function(info) errs[#errs + 1] = info end)
      local res, err = c:get_item { table = name, key = { pk = "t", sk = 1 } }
      assert.is_nil(res)
      assert.are.equal(4, err.attempts)
      assert.are.equal(503, err.status)
      assert.is_true(err.retry_delay >= 0 and err.retry_delay <= 0.07)
      assert.are.equal(1, #errs)
      assert.are.equal(err, errs[1].error)
      assert.are.equal(1, c.stats.errors)
    end)

    it("does not retry with retry = false", function()
      local c = via("status=500", nil, { retry = false })
      local _, err = c:get_item { table = name, key = { pk = "t", sk = 1 } }
      assert.are.equal(1, err.attempts)
      assert.are.equal(0, err.retry_delay)
    end)

    it("does not retry a client error", function()
      local calls = 0
      db:on("request", function() calls = calls + 1 end)
      local _, err = db:get_item { table = name, key = { nope = "x" } }
      assert.are.equal("ValidationException", err.code)
      assert.are.equal(1, err.attempts)
      assert.are.equal(1, calls)
    end)

    it("lets a request hook change what is sent, and a response hook see the result", function()
      local c = servers.client(server)
      c:on("request", function(info)
        if info.operation == "PutItem" then
          local p = {}
          for k, v in pairs(info.params) do p[k] = v end
          p.Item = { pk = info.params.Item.pk, sk = info.params.Item.sk, stamped = true }
          info.params = p
        end
      end)
      local responses = {}
      local hook = c:on("response", function(info) responses[#responses + 1] = info end)
      assert(c:put_item { table = name, item = { pk = "h", sk = 1 } })
      local got = assert(c:get_item { table = name, key = { pk = "h", sk = 1 }, consistent = true })
      assert.is_true(got.Item.stamped)
      assert.are.equal(2, #responses)
      assert.are.equal(got, responses[2].result)
      assert.are.equal(200, responses[2].status)
      assert.are.equal(1, responses[2].attempts)
      assert.is_true(c:off("response", hook))
      assert.is_false(c:off("response", hook))
      assert.has_error(function() c:on("sent", print) end,
        "bad argument #1 to 'on' (\"request\", \"response\", \"retry\" or \"error\" expected, got \"sent\")")
      assert.has_error(function() c:on("retry", 1) end, "bad argument #2 to 'on' (function expected, got number)")
    end)

    it("adds up consumed capacity per table when asked for", function()
      local c = servers.client(server)
      for i = 1, 3 do
        assert(c:put_item { table = name, item = { pk = "c", sk = i }, return_consumed = true })
      end
      assert(c:get_item { table = name, key = { pk = "c", sk = 1 }, return_consumed = "total" })
      local t = c.stats.consumed.tables[name]
      assert.is_table(t)
      assert.is_true(t.capacity >= 3.5, tostring(t.capacity))
      assert.are.equal(t.capacity, c.stats.consumed.capacity)
    end)

    it("logs each call at debug without secrets, and nothing by default", function()
      local lines = {}
      local secret, token = "s3cr3t-KEY-value", "SESSION-token-xyz"
      local c = servers.client(server, {
        -- DynamoDB Local keeps tables per access key id: the tests' one.
        credentials = { access_key_id = "AKIDTEST", secret_access_key = secret, session_token = token },
        log = { level = "debug", sink = function(level, msg) lines[#lines + 1] = level .. " " .. msg end },
      })
      assert(c:get_item { table = name, key = { pk = "x", sk = 1 } })
      c:get_item { table = name, key = { bad = 1 } }
      assert.are.equal(2, #lines)
      assert.is_truthy(lines[1]:match("^debug GetItem " .. name:gsub("%p", "%%%0") .. " 200, 1 attempt, [%d.]+ ms$"), lines[1])
      assert.is_truthy(lines[2]:find("ValidationException", 1, true), lines[2])
      for _, l in ipairs(lines) do
        assert.is_nil(l:find(secret, 1, true))
        assert.is_nil(l:find(token, 1, true))
      end
      assert.is_nil(tostring(c):find(secret, 1, true))
      local quiet = servers.client(server)
      assert.are.equal(0, quiet.log.rank)
    end)

    it("refreshes credentials once on ExpiredTokenException and tries again", function()
      local gets, invalidated = 0, 0
      local provider = {
        get = function() gets = gets + 1; return { access_key_id = "AKIDTEST", secret_access_key = "s" .. gets } end,
        invalidate = function() invalidated = invalidated + 1 end,
      }
      -- The first answer says the token expired (injected in front of the
      -- real server, which does not check credentials).
      local real = servers.client(server).transport
      local sent = 0
      local transport = {
        request = function(_, method, url, headers, body)
          sent = sent + 1
          if sent == 1 then
            return 400, { ["x-amzn-requestid"] = "r1" },
              '{"__type":"com.amazon.coral.service#ExpiredTokenException","message":"The security token included in the request is expired"}'
          end
          return real:request(method, url, headers, body)
        end,
      }
      local c = servers.client(server, { credentials = provider, transport = transport })
      assert(c:get_item { table = name, key = { pk = "x", sk = 1 } })
      assert.are.equal(1, invalidated)
      assert.are.equal(2, gets)
      assert.are.equal(2, sent)

      -- Expired twice: one refresh only, then the error.
      sent, invalidated = -100, 0
      transport.request = function()
        return 400, {}, '{"__type":"com.amazon.coral.service#ExpiredTokenException","message":"expired"}'
      end
      local _, err = c:get_item { table = name, key = { pk = "x", sk = 1 } }
      assert.are.equal("ExpiredTokenException", err.code)
      assert.are.equal(2, err.attempts)
      assert.are.equal(1, invalidated)
    end)
  end)
end
