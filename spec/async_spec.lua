-- dynamo.async: tasks, gather and sleep, and DynamoDB requests made inside
-- tasks running concurrently over core.multi; against the real servers, with
-- the fault proxy's delay mode making concurrency measurable.
local dynamo = require "dynamo"
local async = require "dynamo.async"
local socket = require "socket"
local servers = require "support.servers"
local fault_proxy = require "support.proxy"

local function elapsed_since(t0) return socket.gettime() - t0 end

for _, server in ipairs(servers.list()) do
  describe("dynamo.async on " .. server.name, function()
    local db = servers.client(server)
    local name = servers.table_name("async")
    local slow -- a client whose every request waits 300 ms in the proxy

    setup(function()
      servers.create_table(db, name, { sort = false })
      for i = 1, 8 do
        assert(db:put_item { TableName = name, Item = { pk = "k" .. i, v = i * 10 } })
      end
      local url = fault_proxy.start("delay=300", server.url)
      slow = servers.client(server, { endpoint = url:sub(1, -2) })
    end)
    teardown(function()
      db:delete_table { TableName = name }
      fault_proxy.stop_all()
    end)

    local function get(client, i)
      return function()
        local res = assert(client:get_item { TableName = name, Key = { pk = "k" .. i }, ConsistentRead = true })
        return res.Item
      end
    end

    it("runs requests concurrently and returns their results in order", function()
      local fns = {}
      for i = 1, 8 do fns[i] = get(slow, i) end
      local t0 = socket.gettime()
      local results = table.pack(async.gather(table.unpack(fns)))
      local took = elapsed_since(t0)
      -- One after the other, eight 300 ms requests take 2.4 s.
      assert.is_true(took < 1.2, "took " .. took .. " s")
      assert.is_true(took >= 0.29, "took " .. took .. " s")
      assert.are.equal(8, results.n)
      for i = 1, 8 do assert.are.same({ pk = "k" .. i, v = i * 10 }, results[i]) end
    end)

    it("takes the functions as a list too", function()
      local fns = {}
      for i = 1, 8 do fns[i] = get(slow, 9 - i) end
      local t0 = socket.gettime()
      local results = { async.gather(fns) }
      assert.is_true(elapsed_since(t0) < 1.2)
      for i = 1, 8 do assert.are.same({ pk = "k" .. (9 - i), v = (9 - i) * 10 }, results[i]) end
    end)

    it("runs nested gathers concurrently with their parents", function()
      local t0 = socket.gettime()
      local a, b, c = async.gather(
        function()
          return { async.gather(get(slow, 1), get(slow, 2), get(slow, 3)) }
        end,
        function()
          return { async.gather(get(slow, 4), function() return { async.gather(get(slow, 5), get(slow, 6)) } end) }
        end,
        get(slow, 7))
      local took = elapsed_since(t0)
      assert.is_true(took < 0.9, "took " .. took .. " s")
      assert.are.same({ { pk = "k1", v = 10 }, { pk = "k2", v = 20 }, { pk = "k3", v = 30 } }, a)
      assert.are.same({ { pk = "k4", v = 40 }, { { pk = "k5", v = 50 }, { pk = "k6", v = 60 } } }, b)
      assert.are.same({ pk = "k7", v = 70 }, c)
    end)

    it("lets the other tasks finish, then raises the error value", function()
      local boom = setmetatable({}, { __tostring = function() return "boom" end })
      local finished = {}
      local ok, err = pcall(async.gather,
        function()
          assert(slow:put_item { TableName = name, Item = { pk = "late", v = 1 } })
          finished[#finished + 1] = "put"
          return 1
        end,
        function() error(boom) end,
        function()
          async.sleep(0.1)
          finished[#finished + 1] = "sleep"
        end)
      assert.is_false(ok)
      assert.are.equal(boom, err) -- the same value, not a copy or a message
      assert.are.same({ "sleep", "put" }, finished)
      local res = assert(db:get_item { TableName = name, Key = { pk = "late" }, ConsistentRead = true })
      assert.are.same({ pk = "late", v = 1 }, res.Item)
    end)

    it("returns a failed request's error as a value inside a task", function()
      local res, err = async.gather(function()
        return db:get_item { TableName = name .. "_missing", Key = { pk = "k1" } }
      end, function()
        return select(2, db:get_item { TableName = name .. "_missing", Key = { pk = "k1" } })
      end)
      assert.is_nil(res) -- gather returns first results only
      assert.is_true(dynamo.is_error(err))
      assert.are.equal("ResourceNotFoundException", err.code)
      assert.are.equal("GetItem", err.operation)
    end)

    it("times a hung request out by the client's timeout while the others finish", function()
      local hung = servers.client(server, { endpoint = fault_proxy.start("hang", server.url):sub(1, -2), timeout = 0.4 })
      local t0 = socket.gettime()
      local err, item = async.gather(function()
        return select(2, hung:get_item { TableName = name, Key = { pk = "k1" } })
      end, get(db, 2))
      local took = elapsed_since(t0)
      assert.are.equal("TimeoutError", err.code)
      assert.are.equal("GetItem", err.operation)
      assert.are.same({ pk = "k2", v = 20 }, item)
      assert.is_true(took >= 0.35 and took < 2, "took " .. took .. " s")
    end)

    it("blocks and works outside any task", function()
      assert.is_nil(async.current())
      local t0 = socket.gettime()
      local a = get(slow, 1)()
      local b = get(slow, 2)()
      local took = elapsed_since(t0)
      assert.is_true(took >= 0.58, "took " .. took .. " s")
      assert.are.same({ pk = "k1", v = 10 }, a)
      assert.are.same({ pk = "k2", v = 20 }, b)
    end)

    it("blocks inside a coroutine of the caller's own within a task", function()
      local item = async.gather(function()
        local co = coroutine.wrap(function()
          coroutine.yield("first")
          return get(db, 3)()
        end)
        assert.are.equal("first", co())
        return co()
      end)
      assert.are.same({ pk = "k3", v = 30 }, item)
    end)

    it("runs a paginated scan inside a task beside other requests", function()
      local count, item = async.gather(function()
        local n = 0
        for _ in slow:scan_items { table = name, page_size = 3 } do n = n + 1 end
        return n
      end, get(slow, 8))
      assert.is_true(count >= 8)
      assert.are.same({ pk = "k8", v = 80 }, item)
    end)
  end)
end

describe("dynamo.async", function()
  it("interleaves tasks that sleep", function()
    local order = {}
    local t0 = socket.gettime()
    async.gather(function()
      for i = 1, 3 do
        order[#order + 1] = "a" .. i
        async.sleep(0.04)
      end
    end, function()
      async.sleep(0.02)
      for i = 1, 3 do
        order[#order + 1] = "b" .. i
        async.sleep(0.04)
      end
    end)
    local took = elapsed_since(t0)
    assert.are.same({ "a1", "b1", "a2", "b2", "a3", "b3" }, order)
    assert.is_true(took >= 0.13 and took < 0.3, "took " .. took .. " s")
  end)

  it("returns results in argument order whatever order tasks finish in", function()
    local fns = {}
    for i = 1, 5 do
      fns[i] = function()
        async.sleep((6 - i) * 0.01)
        return i, "second value is dropped"
      end
    end
    assert.are.same({ 1, 2, 3, 4, 5 }, { async.gather(table.unpack(fns)) })
  end)

  it("keeps nil results in place", function()
    local r = table.pack(async.gather(function() return nil end, function() return false end, function() end,
      function() return 4 end))
    assert.are.equal(4, r.n)
    assert.are.same({ n = 4, [2] = false, [4] = 4 }, r)
  end)

  it("returns nothing for no functions", function()
    assert.are.equal(0, select("#", async.gather()))
    assert.are.equal(0, select("#", async.gather {}))
  end)

  it("raises the first failing task's error in argument order", function()
    local ok, err = pcall(async.gather,
      function() async.sleep(0.05); error("late failure", 0) end,
      function() error("early failure", 0) end)
    assert.is_false(ok)
    assert.are.equal("late failure", err)
  end)

  it("re-raises an error whose value is nil", function()
    local ok, err = pcall(async.gather, function() error(nil) end, function() return 1 end)
    assert.is_false(ok)
    assert.is_nil(err)
  end)

  it("names a task that calls coroutine.yield itself", function()
    local other_done = false
    assert.has_error(function()
      async.gather(function() coroutine.yield("x") end, function()
        async.sleep(0.01)
        other_done = true
      end)
    end, "a task of dynamo.gather called coroutine.yield itself (use a plain function)")
    assert.is_true(other_done)
    assert.has_error(function() async.gather(function() coroutine.yield() end) end,
      "a task of dynamo.gather called coroutine.yield itself (use a plain function)")
  end)

  it("knows the task it runs in", function()
    assert.is_nil(async.current())
    local a, b = async.gather(function() return async.current() end, function() return async.current() end)
    assert.is_table(a)
    assert.is_table(b)
    assert.are_not.equal(a, b)
    assert.are.equal(a.sched, b.sched)
  end)

  it("sleeps outside any task", function()
    local t0 = socket.gettime()
    async.sleep(0.05)
    assert.is_true(elapsed_since(t0) >= 0.045)
  end)

  it("is offered as dynamo.gather and dynamo.sleep, as docs/concurrency.md says", function()
    assert.are.equal(async.gather, dynamo.gather)
    assert.are.equal(async.sleep, dynamo.sleep)
  end)

  it("rejects arguments that are not functions", function()
    assert.has_error(function() async.gather(function() end, 5) end,
      "bad argument #2 to 'gather' (function expected, got number)")
    assert.has_error(function() async.gather(nil, function() end) end,
      "bad argument #1 to 'gather' (function expected, got nil)")
    assert.has_error(function() async.gather { function() end, "x" } end,
      "bad argument #2 to 'gather' (function expected, got string)")
    assert.has_error(function() async.gather("f") end, "bad argument #1 to 'gather' (function expected, got string)")
    assert.has_error(function() async.sleep("1") end,
      "bad argument 'seconds' to 'sleep' (non-negative number expected, got string)")
    assert.has_error(function() async.sleep(-1) end,
      "bad argument 'seconds' to 'sleep' (non-negative number expected, got -1)")
  end)

  it("checks sleep's argument inside a task as outside", function()
    assert.has_error(function() async.gather(function() async.sleep("x") end) end,
      "bad argument 'seconds' to 'sleep' (non-negative number expected, got string)")
    assert.has_error(function() async.gather(function() async.sleep(-1) end) end,
      "bad argument 'seconds' to 'sleep' (non-negative number expected, got -1)")
  end)
end)

describe("dynamo.with_deadline", function()
  local dynamo = require "dynamo"
  local servers = require "support.servers"
  local fault_proxy = require "support.proxy"
  teardown(fault_proxy.stop_all)

  it("returns what fn returns, keeps the earlier of nested deadlines, and restores the outer one", function()
    local t = dynamo.now()
    assert.is_nil(async.deadline())
    local a, b = dynamo.with_deadline(t + 10, function(x)
      assert.are.equal(t + 10, async.deadline())
      dynamo.with_deadline(t + 20, function() assert.are.equal(t + 10, async.deadline()) end)
      dynamo.with_deadline(t + 5, function() assert.are.equal(t + 5, async.deadline()) end)
      assert.are.equal(t + 10, async.deadline())
      return x, "b"
    end, "a")
    assert.are.same({ "a", "b" }, { a, b })
    assert.is_nil(async.deadline())
  end)

  it("passes errors through and still restores the outer deadline", function()
    local e = { code = "X" }
    local ok, got = pcall(dynamo.with_deadline, dynamo.now() + 1, function() error(e) end)
    assert.is_false(ok)
    assert.are.equal(e, got)
    assert.is_nil(async.deadline())
  end)

  it("bounds a stalled call and its retries", function()
    local server = servers.get("local")
    local url = fault_proxy.start("hang", server.url)
    local db = servers.client(server, { endpoint = url:sub(1, -2) })
    local t0 = dynamo.now()
    local res, err = dynamo.with_deadline(t0 + 1.2, db.get_item, db, { table = "t", key = { pk = "x" } })
    local elapsed = dynamo.now() - t0
    assert.is_nil(res)
    assert.are.equal("TimeoutError", err.code)
    assert.is_true(elapsed >= 1.1 and elapsed < 1.45, "took " .. elapsed .. " s")
  end)
end)
