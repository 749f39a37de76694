-- The client under faults: every kind of failure the fault proxy
-- (spec/support/fault_proxy.js) can inject between the client and the real
-- servers, and what the retry layer makes of it. Prints the fault matrix and
-- the 5,000-item count check to stdout.
local socket = require "socket"
local servers = require "support.servers"
local proxy = require "support.proxy"

local now = socket.gettime

-- Small backoffs keep the spec fast; the shape of the retries is the same.
local FAST = { max_attempts = 3, base = 0.01, throttle_base = 0.005 }

local function copy(t, extra)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  for k, v in pairs(extra or {}) do out[k] = v end
  return out
end

-- A client whose requests go through the proxy at `url`.
local function via(server, url, opts)
  opts = copy(opts or {})
  opts.endpoint = url:sub(1, -2)
  if opts.retry == nil then opts.retry = FAST end
  opts.timeout = opts.timeout or 2
  return servers.client(server, opts)
end

-- Records what the hooks of `db` see: retries, responses, errors.
local function watch(db)
  local seen = { retry = {}, response = {}, error = {} }
  for event, list in pairs(seen) do
    db:on(event, function(info) list[#list + 1] = info end)
  end
  return seen
end

-- The fault kinds: proxy mode, the error code the client gives when the
-- fault never stops, the HTTP status of that error, and the per-attempt
-- timeout to use (for the stall).
local KINDS = {
  { name = "reset before the server", mode = "reset", code = "ConnectionError" },
  { name = "reset after the server", mode = "reset_after", code = "ConnectionError" },
  { name = "HTTP 500", mode = "internal", code = "InternalServerError", status = 500 },
  { name = "HTTP 503", mode = "unavailable", code = "ServiceUnavailable", status = 503 },
  { name = "throttle (HTTP 400)", mode = "throttle", code = "ThrottlingException", status = 400 },
  { name = "stall (timeout 0.3 s)", mode = "hang", code = "TimeoutError", timeout = 0.3 },
  { name = "truncated body", mode = "truncate", code = "ConnectionError" },
  { name = "corrupt body", mode = "corrupt", code = "CRC32Mismatch" },
  { name = "bad x-amz-crc32 header", mode = "crc32", code = "CRC32Mismatch" },
}

-- The matrix, by server id: one row per kind, filled by the tests.
local matrix = {}

local function print_matrix(server, rows)
  local out = {
    "",
    string.format("Fault matrix on %s (retry: max_attempts 3; PutItem, then GetItem reading it back)", server.name),
    string.format("%-25s %-12s | %-29s | %-29s", "fault", "proxy mode", "on the first 2 requests", "on every request"),
    string.format("%-25s %-12s | %-8s %-8s %-11s | %-19s %-3s %-5s", "", "", "result", "attempts", "elapsed",
      "code", "att", "elapsed"),
  }
  for _, kind in ipairs(KINDS) do
    local r = rows[kind.mode]
    out[#out + 1] = string.format("%-25s %-12s | %-8s %-8d %7.3f s   | %-19s %-3d %5.3f s", kind.name, kind.mode,
      r.first.result, r.first.attempts, r.first.elapsed, r.every.code, r.every.attempts, r.every.elapsed)
  end
  io.write(table.concat(out, "\n"), "\n")
end

for _, server in ipairs(servers.list()) do
  describe("faults on " .. server.name, function()
    local direct = servers.client(server)
    local name = servers.table_name("faults")
    local rows = {}
    matrix[server.id] = rows
    local n = 0
    local function unique(prefix)
      n = n + 1
      return prefix .. "-" .. n
    end

    setup(function() servers.create_table(direct, name, { sort = false }) end)
    teardown(function()
      direct:delete_table { TableName = name }
      proxy.stop_all()
    end)
    after_each(proxy.stop_all)

    describe("the fault matrix", function()
      for _, kind in ipairs(KINDS) do
        local opts = { timeout = kind.timeout }

        it(kind.name .. " on the first 2 requests: retried, the call succeeds on attempt 3", function()
          local url = proxy.start(kind.mode, server.url, { count = 2 })
          local db = via(server, url, opts)
          local seen = watch(db)
          local item = { pk = unique(kind.mode), n = 42, text = "written through " .. kind.mode }
          local t0 = now()
          local res, err = db:put_item { TableName = name, Item = item }
          local elapsed = now() - t0
          assert.is_nil(err)
          assert.are.same({}, res)
          assert.are.equal(2, #seen.retry)
          for i, info in ipairs(seen.retry) do
            assert.are.equal("PutItem", info.operation)
            assert.are.equal(i, info.attempt)
            assert.are.equal(kind.code, info.error.code)
            assert.are.equal(kind.status, info.error.status)
          end
          assert.are.equal(seen.retry[1].delay + seen.retry[2].delay, seen.retry[2].total_delay)
          assert.are.equal(1, #seen.response)
          assert.are.equal(3, seen.response[1].attempts)
          assert.are.equal(0, #seen.error)

          local got = assert(db:get_item { TableName = name, Key = { pk = item.pk }, ConsistentRead = true })
          assert.are.same(item, got.Item)
          local stats = proxy.stats(url)
          assert.are.equal(2, stats.faults[kind.mode])
          assert.are.equal(4, stats.requests)   -- 3 PutItem attempts, 1 GetItem
          assert.are.same({ PutItem = 3, GetItem = 1 }, stats.targets)
          rows[kind.mode] = rows[kind.mode] or {}
          rows[kind.mode].first = { result = "ok", attempts = seen.response[1].attempts, elapsed = elapsed }
        end)

        it(kind.name .. " on every request: " .. kind.code .. " after 3 attempts, in bounded time", function()
          local url = proxy.start(kind.mode, server.url)
          local db = via(server, url, opts)
          local seen = watch(db)
          local t0 = now()
          local res, err = db:put_item { TableName = name, Item = { pk = unique(kind.mode) } }
          local elapsed = now() - t0
          assert.is_nil(res)
          assert.are.equal(kind.code, err.code)
          assert.are.equal(kind.status, err.status)
          assert.is_true(err.retryable)
          assert.are.equal("PutItem", err.operation)
          assert.are.equal(3, err.attempts)
          assert.are.equal(2, #seen.retry)
          assert.are.equal(seen.retry[2].total_delay, err.retry_delay)
          -- base 0.01 (throttle_base 0.005) doubling, full jitter: at most 0.03 s of waits.
          assert.is_true(err.retry_delay >= 0 and err.retry_delay <= 0.03, "waited " .. err.retry_delay .. " s")
          assert.are.equal(1, #seen.error)
          assert.are.equal(err, seen.error[1].error)
          assert.are.equal(3, seen.error[1].attempts)
          assert.are.equal(0, #seen.response)
          -- Three attempts of at most the timeout each, and the waits.
          local attempt_time = kind.timeout or 0
          assert.is_true(elapsed >= 3 * attempt_time, "took " .. elapsed .. " s")
          assert.is_true(elapsed <= 3 * attempt_time + err.retry_delay + 0.4, "took " .. elapsed .. " s")
          assert.are.equal(3, proxy.stats(url).faults[kind.mode])
          rows[kind.mode] = rows[kind.mode] or {}
          rows[kind.mode].every = { code = err.code, attempts = err.attempts, elapsed = elapsed }
        end)
      end

      it("is complete, and printed", function()
        for _, kind in ipairs(KINDS) do
          local r = rows[kind.mode]
          assert(r and r.first and r.every, "no result for " .. kind.name)
          assert.are.equal(3, r.first.attempts)
          assert.are.equal(kind.code, r.every.code)
          assert.are.equal(3, r.every.attempts)
        end
        print_matrix(server, rows)
      end)
    end)

    describe("retry settings", function()
      it("retry = false makes one attempt", function()
        local url = proxy.start("throttle", server.url)
        local db = via(server, url, { retry = false })
        local seen = watch(db)
        local res, err = db:get_item { TableName = name, Key = { pk = "none" } }
        assert.is_nil(res)
        assert.are.equal("ThrottlingException", err.code)
        assert.are.equal(1, err.attempts)
        assert.are.equal(0, err.retry_delay)
        assert.are.equal(0, #seen.retry)
        assert.are.equal(1, proxy.stats(url).requests)
      end)

      it("max_attempts bounds the attempts", function()
        local url = proxy.start("unavailable", server.url)
        local db = via(server, url, { retry = { max_attempts = 5, base = 0.001 } })
        local res, err = db:get_item { TableName = name, Key = { pk = "none" } }
        assert.is_nil(res)
        assert.are.equal("ServiceUnavailable", err.code)
        assert.are.equal(5, err.attempts)
        assert.are.equal(5, proxy.stats(url).requests)
      end)

      it("legacy mode waits throttle_base doubling, without jitter", function()
        local url = proxy.start("throttle", server.url, { count = 3 })
        local db = via(server, url, { retry = { mode = "legacy", throttle_base = 0.01 } })
        local seen = watch(db)
        assert(db:get_item { TableName = name, Key = { pk = "none" } })
        assert.are.equal(3, #seen.retry)
        assert.are.same({ 0.01, 0.02, 0.04 }, { seen.retry[1].delay, seen.retry[2].delay, seen.retry[3].delay })
        assert.are.equal(4, seen.response[1].attempts)
      end)

      it("adaptive mode retries throttles to success", function()
        local url = proxy.start("throttle", server.url, { count = 2 })
        local db = via(server, url, { retry = { mode = "adaptive", throttle_base = 0.005 } })
        local seen = watch(db)
        assert(db:get_item { TableName = name, Key = { pk = "none" } })
        assert.are.equal(2, #seen.retry)
        assert.are.equal(3, seen.response[1].attempts)
      end)

      it("honours x-amz-retry-after", function()
        local url = proxy.start("throttle", server.url, { count = 1, retry_after = 300 })
        local db = via(server, url)
        local seen = watch(db)
        local t0 = now()
        assert(db:get_item { TableName = name, Key = { pk = "none" } })
        local elapsed = now() - t0
        assert.are.equal(1, #seen.retry)
        assert.are.equal(0.3, seen.retry[1].delay)
        assert.is_true(elapsed >= 0.3 and elapsed < 0.7, "took " .. elapsed .. " s")
      end)
    end)

    describe("a reset after the server applied a write", function()
      it("applies a retried UpdateItem ADD twice", function()
        local pk = unique("counter")
        assert(direct:put_item { TableName = name, Item = { pk = pk, n = 0 } })
        local url = proxy.start("reset_after", server.url, { count = 1 })
        local db = via(server, url)
        local seen = watch(db)
        local res, err = db:update_item {
          table = name, key = { pk = pk },
          update = "ADD n :one", values = { [":one"] = 1 }, return_values = "updated_new",
        }
        assert.is_nil(err)
        assert.are.equal(1, #seen.retry)
        assert.are.equal("ConnectionError", seen.retry[1].error.code)
        -- Asked for once, applied twice: the first attempt's answer was lost.
        assert.are.equal(2, res.Attributes.n)
        local got = assert(direct:get_item { TableName = name, Key = { pk = pk }, ConsistentRead = true })
        assert.are.equal(2, got.Item.n)
      end)

      it("applies a write with a version condition once: the retry fails its condition", function()
        local pk = unique("versioned")
        assert(direct:put_item { TableName = name, Item = { pk = pk, n = 0, version = 0 } })
        local url = proxy.start("reset_after", server.url, { count = 1 })
        local db = via(server, url)
        local seen = watch(db)
        local token = "writer-" .. pk
        local res, err = db:update_item {
          table = name, key = { pk = pk },
          update = "SET version = :new, last_writer = :token ADD n :one",
          condition = "version = :old",
          values = { [":one"] = 1, [":old"] = 0, [":new"] = 1, [":token"] = token },
        }
        assert.is_nil(res)
        assert.are.equal("ConditionalCheckFailedException", err.code)
        assert.is_false(err.retryable)
        assert.are.equal(2, err.attempts)
        assert.are.equal(1, #seen.retry)
        -- The write happened exactly once, and the item says it was ours:
        -- a caller that reads it back after the failed condition knows.
        local got = assert(direct:get_item { TableName = name, Key = { pk = pk }, ConsistentRead = true })
        assert.are.same({ pk = pk, n = 1, version = 1, last_writer = token }, got.Item)
      end)

      -- libcurl itself sends a request again, once, when a reused keep-alive
      -- connection dies before any byte of the answer arrives. That send is
      -- not an attempt of the retry layer: no retry hook, not in
      -- err.attempts, and it happens even with retry = false.
      it("is re-sent unseen by libcurl on a reused connection, even with retry = false", function()
        local pk = unique("reused")
        assert(direct:put_item { TableName = name, Item = { pk = pk, n = 0 } })
        local url = proxy.start("reset_after", server.url, { after = 1, count = 1 })
        local db = via(server, url, { retry = false })
        local seen = watch(db)
        assert(db:list_tables {})   -- opens the connection the update reuses
        local res, err = db:update_item {
          table = name, key = { pk = pk },
          update = "ADD n :one", values = { [":one"] = 1 }, return_values = "updated_new",
        }
        assert.is_nil(err)
        assert.are.equal(2, res.Attributes.n)
        assert.are.equal(0, #seen.retry)
        assert.are.equal(1, seen.response[2].attempts)
        assert.are.equal(3, proxy.stats(url).requests)
        assert.are.equal(2, db.transport:stats().connects)
      end)
    end)

    describe("nothing hangs past its deadline", function()
      it("a stall with timeout 0.3 and 3 attempts returns TimeoutError within 3 x 0.3 s + backoff", function()
        local url = proxy.start("hang", server.url)
        local db = via(server, url, { timeout = 0.3, retry = { max_attempts = 3 } })  -- default backoff
        local t0 = now()
        local res, err = db:list_tables {}
        local elapsed = now() - t0
        assert.is_nil(res)
        assert.are.equal("TimeoutError", err.code)
        assert.are.equal(3, err.attempts)
        assert.is_true(elapsed >= 0.9, "took " .. elapsed .. " s")
        assert.is_true(elapsed <= 0.9 + err.retry_delay + 0.25, "took " .. elapsed .. " s, waited " .. err.retry_delay)
      end)

      it("retry.max_time = 1 stops a stall within 1 s + one attempt's timeout", function()
        local url = proxy.start("hang", server.url)
        local db = via(server, url, { timeout = 0.3, retry = { max_attempts = 50, max_time = 1, base = 0.01 } })
        local t0 = now()
        local res, err = db:list_tables {}
        local elapsed = now() - t0
        assert.is_nil(res)
        assert.are.equal("TimeoutError", err.code)
        assert.is_true(err.attempts >= 3 and err.attempts <= 4, err.attempts .. " attempts")
        assert.is_true(elapsed >= 0.9 and elapsed <= 1.3 + 0.15, "took " .. elapsed .. " s")
        assert.are.equal(err.attempts, proxy.stats(url).requests)
      end)

      it("retry.max_time = 0.5 stops fast-failing throttles within 0.5 s", function()
        local url = proxy.start("throttle", server.url)
        local db = via(server, url, { retry = { max_attempts = 10000, max_time = 0.5, throttle_base = 0.005,
          max_backoff = 0.02 } })
        local t0 = now()
        local res, err = db:list_tables {}
        local elapsed = now() - t0
        assert.is_nil(res)
        -- The last attempt can start with a few ms of the budget left, too
        -- few for an answer on a loaded machine: no attempt outlives the
        -- budget, so that one ends as a timeout of its own.
        assert.is_true(err.code == "ThrottlingException" or err.code == "TimeoutError", err.code)
        assert.is_true(err.attempts > 10 and err.attempts < 10000, err.attempts .. " attempts")
        assert.is_true(elapsed <= 0.5 + 0.1, "took " .. elapsed .. " s")
        assert.are.equal(err.attempts, proxy.stats(url).requests)
      end)

      it("the batch writer's deadline bounds a stall, and hands every write back", function()
        local url = proxy.start("hang", server.url, { after = 1 })   -- DescribeTable passes
        local db = via(server, url, { timeout = 0.2, retry = { max_attempts = 2, base = 0.01 } })
        local requests = {}
        for i = 1, 30 do requests[i] = { put = { pk = unique("stalled"), i = i } } end
        local t0 = now()
        local res, err = db:batch_write({ [name] = requests }, { deadline = 1 })
        local elapsed = now() - t0
        assert.is_nil(res)
        assert.are.equal("TimeoutError", err.code)
        assert.are.equal(30, #err.unprocessed[name])
        -- The deadline, and at most one call in flight when it passes:
        -- 2 attempts of 0.2 s and one wait of at most 0.01 s.
        assert.is_true(elapsed >= 1 - 0.41, "took " .. elapsed .. " s")
        assert.is_true(elapsed <= 1 + 0.41 + 0.15, "took " .. elapsed .. " s")
      end)

      it("the batch deadline also bounds the client's own timeout and retries", function()
        -- The client's defaults (10 s an attempt, 3 attempts) would take 30 s.
        local url = proxy.start("hang", server.url, { after = 1 })
        local db = via(server, url, {})
        local requests = {}
        for i = 1, 5 do requests[i] = { put = { pk = unique("bounded"), i = i } } end
        local t0 = now()
        local res, err = db:batch_write({ [name] = requests }, { deadline = 1.5 })
        local elapsed = now() - t0
        assert.is_nil(res)
        assert.are.equal("TimeoutError", err.code)
        assert.are.equal(5, #err.unprocessed[name])
        assert.is_true(elapsed >= 1.4 and elapsed <= 1.5 + 0.2, "took " .. elapsed .. " s")
      end)

      it("retry.max_time bounds a stalled attempt too", function()
        local url = proxy.start("hang", server.url)
        local db = via(server, url, { retry = { max_time = 1.2 } })
        local t0 = now()
        local _, err = db:get_item { table = name, key = { pk = "x" } }
        local elapsed = now() - t0
        assert.are.equal("TimeoutError", err.code)
        assert.is_true(elapsed >= 1.1 and elapsed <= 1.2 + 0.2, "took " .. elapsed .. " s")
      end)
    end)
  end)
end

-- The 5,000-item batch: the promise of docs/batch.md (every write done or
-- handed back) under 20% throttling and 20% unprocessed items at once.
for _, server in ipairs(servers.list()) do
  describe("a 5,000-item batch under faults on " .. server.name, function()
    local direct = servers.client(server)
    local name = servers.table_name("faults_batch")
    setup(function() servers.create_table(direct, name, { sort = false }) end)
    teardown(function()
      direct:delete_table { TableName = name }
      proxy.stop_all()
    end)

    local function scan_all()
      local items, start = {}, nil
      repeat
        local page = assert(direct:scan { TableName = name, ConsistentRead = true, ExclusiveStartKey = start })
        for _, item in ipairs(page.Items) do items[#items + 1] = item end
        start = page.LastEvaluatedKey
      until not start
      return items
    end

    local function writes_in(params)
      local k = 0
      for _, list in pairs(params.RequestItems) do k = k + #list end
      return k
    end

    it("stores every item exactly once through 20% throttling and 20% unprocessed items", function()
      local backoff = require "dynamo.batch.backoff"
      local saved = backoff.BASE
      backoff.BASE = 0.005
      finally(function() backoff.BASE = saved end)

      local url = proxy.start("throttle@0.2,unprocessed@0.2", server.url, { seed = 20240607 })
      local db = via(server, url, { timeout = 5, retry = { throttle_base = 0.005, base = 0.005 } })
      -- What the client sent: writes per BatchWriteItem call, calls that
      -- failed for good (their writes are sent again by the writer), and
      -- throttles seen by the retry hook or returned.
      local sent, in_call, failed_writes, throttles_retried, throttles_returned = 0, 0, 0, 0, 0
      db:on("request", function(info)
        if info.operation == "BatchWriteItem" then
          in_call = writes_in(info.params)
          sent = sent + in_call
        end
      end)
      db:on("retry", function(info)
        if info.error.code == "ThrottlingException" then throttles_retried = throttles_retried + 1 end
      end)
      db:on("error", function(info)
        if info.error.code == "ThrottlingException" then throttles_returned = throttles_returned + 1 end
        if info.operation == "BatchWriteItem" then failed_writes = failed_writes + in_call end
      end)

      local N = 5000
      local expected, requests = {}, {}
      for i = 1, N do
        local item = { pk = string.format("item-%05d", i), n = i, body = string.rep("x", i % 37) .. i }
        expected[item.pk] = item
        requests[i] = { table = name, put = item }
      end
      local t0 = now()
      local res, err = db:batch_write(requests, { deadline = 60 })
      local elapsed = now() - t0
      assert(res, err and tostring(err))
      assert.are.equal(N, res.written)

      local items = scan_all()
      local read, missing, extra, wrong = #items, 0, 0, 0
      local found = {}
      for _, item in ipairs(items) do
        local want = expected[item.pk]
        if not want then
          extra = extra + 1
        else
          if found[item.pk] then extra = extra + 1 end
          found[item.pk] = true
          if not (item.n == want.n and item.body == want.body) then wrong = wrong + 1 end
        end
      end
      for pk in pairs(expected) do
        if not found[pk] then missing = missing + 1 end
      end

      local stats = proxy.stats(url)
      local throttles, unprocessed = stats.faults.throttle or 0, stats.faults.unprocessed or 0
      io.write(string.format("\n%d-item batch under faults on %s: %d written, %d read back, %d missing, %d extra, "
        .. "%d wrong, %d throttles and %d unprocessed injected (%d writes withheld), %d requests, %.2f s\n",
        N, server.name, res.written, read, missing, extra, wrong, throttles, unprocessed, stats.unprocessed_items,
        stats.requests, elapsed))

      assert.are.equal(N, read)
      assert.are.equal(0, missing)
      assert.are.equal(0, extra)
      assert.are.equal(0, wrong)
      -- Every fault was injected and every one accounted for: each withheld
      -- write and each write of a call that failed for good was sent again.
      assert.is_true(throttles > 0 and unprocessed > 0)
      assert.are.equal(throttles, throttles_retried + throttles_returned)
      assert.are.equal(N + stats.unprocessed_items + failed_writes, sent)
      -- The seeded rates: about 20% of the requests each.
      local batch_requests = stats.targets.BatchWriteItem
      assert.is_true(throttles > 0.1 * stats.requests and throttles < 0.3 * stats.requests)
      assert.is_true(unprocessed > 0.1 * batch_requests and unprocessed < 0.3 * batch_requests)
    end)
  end)
end
