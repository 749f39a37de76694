-- dynamo.parallel: db:parallel_scan over 10,000 items on the real servers:
-- every item exactly once, the total limit, resuming each segment with
-- last_keys(), a failing segment, and use inside dynamo.async tasks.
local dynamo = require "dynamo"
local async = require "dynamo.async"
local servers = require "support.servers"
local fault_proxy = require "support.proxy"

local creds = { access_key_id = "AKIDTEST", secret_access_key = "test-secret" }
local N = 10000

-- Writes items k00001..k10000 (n = i, odd = i % 2) with BatchWriteItem, 25
-- at a time, 16 batches in flight at once.
local function fill(db, name)
  local workers = {}
  for w = 1, 16 do
    workers[w] = function()
      for b = w - 1, N / 25 - 1, 16 do
        local reqs = {}
        for j = 1, 25 do
          local i = b * 25 + j
          reqs[j] = { PutRequest = { Item = { pk = string.format("k%05d", i), n = i, odd = i % 2 } } }
        end
        local pending = { [name] = reqs }
        for _ = 1, 10 do
          local res = assert(db:batch_write_item { RequestItems = pending })
          if next(res.UnprocessedItems or {}) == nil then break end
          pending = res.UnprocessedItems
        end
      end
    end
  end
  async.gather(workers)
end

-- Adds the item's n to `seen`, raising on a repeat.
local function add(seen, item)
  assert(not seen[item.n], "item " .. tostring(item.n) .. " returned twice")
  seen[item.n] = true
end

local function size(set)
  local n = 0
  for _ in pairs(set) do n = n + 1 end
  return n
end

local function all_seen(seen)
  if size(seen) ~= N then return false end
  for i = 1, N do if not seen[i] then return false end end
  return true
end

-- Wraps db's transport: a request whose body matches `pattern` (the
-- `times`-th such request) goes to `url` instead of the server.
local function divert(db, pattern, times, url)
  local real = db.transport
  local n = 0
  db.transport = {
    request = function(_, method, u, headers, body)
      if body:find(pattern) then
        n = n + 1
        if n == times then u = url end
      end
      return real:request(method, u, headers, body)
    end,
  }
end

for _, server in ipairs(servers.list()) do
  describe("parallel_scan on " .. server.name, function()
    local db = servers.client(server)
    local name = servers.table_name("par")

    setup(function()
      servers.create_table(db, name, { sort = false })
      fill(db, name)
    end)
    teardown(function()
      db:delete_table { TableName = name }
      fault_proxy.stop_all()
    end)

    it("returns every item exactly once with 4 segments", function()
      local seen = {}
      local it = db:parallel_scan { table = name, segments = 4 }
      for item in it do add(seen, item) end
      assert.is_true(all_seen(seen))
      local stats = it:stats()
      assert.are.equal(N, stats.items)
      assert.are.equal(N, stats.scanned)
      assert.are.equal(4, stats.segments)
      assert.is_true(it.done)
      assert.are.same({ n = 4, false, false, false, false }, it:last_keys())
    end)

    it("returns every item exactly once over many pages per segment", function()
      local seen = {}
      local it = db:parallel_scan { table = name, segments = 3, page_size = 400, consistent = true }
      for item in it do add(seen, item) end
      assert.is_true(all_seen(seen))
      assert.is_true(it:stats().pages >= N / 400)
    end)

    it("stops at limit, and last_keys resumes with the rest", function()
      local seen = {}
      local it = db:parallel_scan { table = name, segments = 4, page_size = 300, limit = 1234 }
      for item in it do add(seen, item) end
      assert.are.equal(1234, size(seen))
      assert.are.equal(1234, it:stats().items)
      local keys = it:last_keys()
      assert.are.equal(4, keys.n)
      local rest = db:parallel_scan { table = name, segments = 4, page_size = 300, start = keys }
      for item in rest do add(seen, item) end
      assert.is_true(all_seen(seen))
    end)

    it("resumes after a break with last_keys, each item exactly once", function()
      local seen = {}
      local it = db:parallel_scan { table = name, segments = 4, page_size = 250 }
      local n = 0
      for item in it do
        add(seen, item)
        n = n + 1
        if n == 3000 then break end
      end
      local keys = it:last_keys()
      assert.are.equal(4, keys.n)
      for i = 1, 4 do assert.is_true(keys[i] == nil or keys[i] == false or type(keys[i]) == "table") end
      local rest = db:parallel_scan { table = name, segments = 4, page_size = 250, start = keys }
      local m = 0
      for item in rest do
        add(seen, item)
        m = m + 1
        if m == 2000 then break end
      end
      local rest2 = db:parallel_scan { table = name, segments = 4, page_size = 250, start = rest:last_keys() }
      for item in rest2 do add(seen, item) end
      assert.is_true(all_seen(seen))
      assert.are.same({ n = 4, false, false, false, false }, rest2:last_keys())
    end)

    it("reads at most one page ahead per segment", function()
      local it = db:parallel_scan { table = name, segments = 4, page_size = 100 }
      local n = 0
      for _ in it do
        n = n + 1
        if n == 150 then break end
      end
      -- 150 items are two pages of one segment or one each of two; each segment
      -- may hold its current page and one more.
      assert.is_true(it:stats().pages <= 8, "fetched " .. it:stats().pages .. " pages")
      assert.are.equal(150, it:stats().items)
    end)

    it("applies a filter in every segment", function()
      local seen = {}
      for item in db:parallel_scan { table = name, segments = 4, page_size = 1000, filter = "odd = :one",
        values = { [":one"] = 1 } } do
        assert.are.equal(1, item.n % 2)
        add(seen, item)
      end
      assert.are.equal(N / 2, size(seen))
    end)

    it("raises a segment's error from the for loop, and next() returns it", function()
      local c = servers.client(server, { retry = false }) -- the fault must reach the scan
      divert(c, '"Segment":2', 2, fault_proxy.start("status=500", server.url))
      local it = c:parallel_scan { table = name, segments = 4, page_size = 500 }
      local n = 0
      local ok, err = pcall(function() for _ in it do n = n + 1 end end)
      assert.is_false(ok)
      assert.is_true(dynamo.is_error(err))
      assert.are.equal("ThrottlingException", err.code)
      assert.are.equal(500, err.status)
      assert.are.equal("Scan", err.operation)
      assert.is_true(n < N)
      local item, again = it:next()
      assert.is_nil(item)
      assert.are.equal(err, again)
      assert.is_false(it.done)
    end)

    it("raises when a segment's connection is reset", function()
      local c = servers.client(server, { retry = false })
      divert(c, '"Segment":0', 1, fault_proxy.start("reset", server.url))
      local ok, err = pcall(function() for _ in c:parallel_scan { table = name, segments = 2 } do end end)
      assert.is_false(ok)
      assert.are.equal("ConnectionError", err.code)
    end)

    it("runs inside a task, beside other tasks", function()
      local count, item = async.gather(function()
        local n = 0
        for _ in db:parallel_scan { table = name, segments = 4, page_size = 1000 } do n = n + 1 end
        return n
      end, function()
        return assert(db:get_item { table = name, key = { pk = "k00042" } }).Item
      end)
      assert.are.equal(N, count)
      assert.are.same({ pk = "k00042", n = 42, odd = 0 }, item)
    end)

    it("can be made outside a task and read inside one", function()
      local it = db:parallel_scan { table = name, segments = 2, page_size = 2000 }
      local ok, n = pcall(async.gather, function()
        local n = 0
        for _ in it do n = n + 1 end
        return n
      end)
      assert.is_true(ok, tostring(n))
      assert.are.equal(N, n)
    end)

    it("with one segment is a plain scan", function()
      local seen = {}
      for item in db:parallel_scan { table = name, segments = 1, page_size = 5000 } do add(seen, item) end
      assert.is_true(all_seen(seen))
    end)

    it("is not done when limit stopped it before the end", function()
      local it = db:parallel_scan { table = name, segments = 2, limit = 10 }
      for _ in it do end
      assert.is_false(it.done)
    end)
  end)
end

describe("parallel_scan arguments", function()
  local db = dynamo.new { region = "us-east-1", endpoint = "http://127.0.0.1:1", credentials = creds }

  it("are checked when the scan is made", function()
    assert.has_error(function() db:parallel_scan { table = "t" } end,
      "bad argument 'segments' to 'parallel_scan' (integer from 1 to 1000000 expected, got nil)")
    assert.has_error(function() db:parallel_scan { table = "t", segments = 0 } end,
      "bad argument 'segments' to 'parallel_scan' (integer from 1 to 1000000 expected, got 0)")
    assert.has_error(function() db:parallel_scan { table = "t", segments = 2.5 } end,
      "bad argument 'segments' to 'parallel_scan' (integer from 1 to 1000000 expected, got 2.5)")
    assert.has_error(function() db:parallel_scan { table = "t", segments = 1000001 } end,
      "bad argument 'segments' to 'parallel_scan' (integer from 1 to 1000000 expected, got 1000001)")
    assert.has_error(function() db:parallel_scan { table = "t", segments = 2, start = "k" } end,
      "bad argument 'start' to 'parallel_scan' (table of per-segment keys expected, got string)")
    assert.has_error(function() db:parallel_scan { table = "t", segments = 2, limit = 0 } end,
      "bad argument 'limit' to 'parallel_scan' (positive integer expected, got 0)")
    assert.has_error(function() db:parallel_scan { table = "t", segments = 2, page_size = -1 } end,
      "bad argument 'page_size' to 'parallel_scan' (positive integer expected, got -1)")
    assert.has_error(function() db:parallel_scan { table = "t", segments = 2, bogus = 1 } end,
      "bad argument 'bogus' to 'parallel_scan' (Scan has no parameter of that name)")
  end)

  it("names a non-table argument as such", function()
    assert.has_error(function() db:parallel_scan("t") end,
      "bad argument #1 to 'parallel_scan' (table expected, got string)")
    assert.has_error(function() db:parallel_scan() end,
      "bad argument #1 to 'parallel_scan' (table expected, got nil)")
  end)

  it("report a failing segment as an error, not as an empty result", function()
    local it = db:parallel_scan { table = "t", segments = 3 }
    local ok, err = pcall(function() for _ in it do end end)
    assert.is_false(ok)
    assert.are.equal("ConnectionError", err.code)
    assert.is_false(it.done)
  end)
end)
