-- core.multi (src/http_multi.c): concurrent transfers started with
-- http:start, driven by m:wait, collected with t:result; against the real
-- servers, the fault proxy (spec/support/fault_proxy.js) and a closed port.
local core = require "dynamo.core"
local socket = require "socket"
local servers = require "support.servers"
local fault_proxy = require "support.proxy"

-- Headers the emulators accept without checking the signature; DynamoDB
-- Local keeps tables per access key, so the key is the test clients' one.
local function headers(target)
  return {
    "Content-Type: application/x-amz-json-1.0",
    "X-Amz-Target: DynamoDB_20120810." .. target,
    "X-Amz-Date: 20150830T123600Z",
    "Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20150830/us-east-1/dynamodb/aws4_request, "
      .. "SignedHeaders=host;x-amz-date, Signature=0",
  }
end

local LIST_TABLES = headers("ListTables")
local GET_ITEM = headers("GetItem")

local function get_item_body(table_name, pk)
  return string.format('{"TableName":"%s","Key":{"pk":{"S":"%s"}},"ConsistentRead":true}', table_name, pk)
end

-- A loopback port nothing listens on (bound, then released).
local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

-- Waits until n transfers were reported by m:wait; returns their ids in
-- the order they were reported.
local function wait_all(m, n)
  local got = {}
  local deadline = socket.gettime() + 10
  while #got < n do
    assert(socket.gettime() < deadline, "transfers did not finish within 10 s")
    for _, id in ipairs(m:wait(1)) do got[#got + 1] = id end
  end
  return got
end

-- The port of a proxy URL "http://127.0.0.1:PORT/".
local function port_of(url)
  return url:match(":(%d+)/$")
end

for _, server in ipairs(servers.list()) do
  describe("core.multi on " .. server.name, function()
    local db = servers.client(server)
    local name = servers.table_name("multi")

    setup(function()
      servers.create_table(db, name, { sort = false })
      for i = 1, 8 do
        assert(db:put_item { TableName = name, Item = { pk = "k" .. i, v = i * 10 } })
      end
    end)
    teardown(function()
      db:delete_table { TableName = name }
      fault_proxy.stop_all()
    end)

    it("runs several transfers at once, each with its own result", function()
      local url = fault_proxy.start("delay=300", server.url)
      local http = core.http()
      local m = assert(core.multi())
      local ts = {}
      local t0 = socket.gettime()
      for i = 1, 8 do
        ts[i] = assert(http:start(m, "POST", url, GET_ITEM, get_item_body(name, "k" .. i)))
        assert.are.equal(i, ts[i]:id())
        assert.is_false(ts[i]:done())
      end
      assert.are.equal(8, m:stats().active)
      local ids = wait_all(m, 8)
      local elapsed = socket.gettime() - t0
      table.sort(ids)
      assert.are.same({ 1, 2, 3, 4, 5, 6, 7, 8 }, ids)
      -- Eight 300 ms requests one after the other would take 2.4 s.
      assert.is_true(elapsed < 1.2, "took " .. elapsed .. " s")
      assert.is_true(elapsed >= 0.29, "took " .. elapsed .. " s")
      assert.are.same({ active = 0, requests = 8, connects = 8 }, m:stats())
      for i = 1, 8 do
        assert.is_true(ts[i]:done())
        local status, head, body = ts[i]:result()
        assert.are.equal(200, status)
        assert.truthy(core.http_headers(head)["x-amzn-requestid"], head)
        assert.is_truthy(body:find('"pk":{"S":"k' .. i .. '"}', 1, true), body)
        assert.is_truthy(body:find('"v":{"N":"' .. i * 10 .. '"}', 1, true), body)
      end
    end)

    it("reuses connections across waves of transfers", function()
      local http = core.http()
      local m = core.multi()
      for wave = 1, 3 do
        local ts = {}
        for i = 1, 4 do ts[i] = assert(http:start(m, "POST", server.url, LIST_TABLES, "{}")) end
        wait_all(m, 4)
        for i = 1, 4 do
          local status, _, body = ts[i]:result()
          assert.are.equal(200, status)
          assert.is_truthy(body:find('"TableNames"', 1, true))
        end
        local s = m:stats()
        assert.are.equal(4 * wave, s.requests)
        assert.are.equal(4, s.connects, "wave " .. wave)
      end
      -- One at a time: still no new connection.
      for _ = 1, 3 do
        local t = http:start(m, "POST", server.url, LIST_TABLES, "{}")
        wait_all(m, 1)
        assert.are.equal(200, (t:result()))
      end
      assert.are.same({ active = 0, requests = 15, connects = 4 }, m:stats())
    end)
  end)
end

describe("core.multi", function()
  local url = servers.get("local").url
  after_each(fault_proxy.stop_all)

  it("returns an empty list when nothing finished within the timeout", function()
    local proxy = fault_proxy.start("delay=600", url)
    local http = core.http()
    local m = core.multi()
    local t = http:start(m, "POST", proxy, LIST_TABLES, "{}")
    local t0 = socket.gettime()
    local ids = m:wait(0.15)
    local elapsed = socket.gettime() - t0
    assert.are.same({}, ids)
    assert.is_true(elapsed >= 0.14 and elapsed < 0.5, "took " .. elapsed .. " s")
    assert.are.same({}, m:wait(0))
    assert.is_false(t:done())
    assert.are.equal(1, m:stats().active)
    assert.has_error(function() t:result() end, "transfer 1 has not finished (wait for its id first)")
    assert.are.same({ 1 }, wait_all(m, 1))
    assert.are.equal(200, (t:result()))
  end)

  it("returns at once with no transfers in flight", function()
    local m = core.multi()
    local t0 = socket.gettime()
    assert.are.same({}, m:wait())
    assert.are.same({}, m:wait(5))
    assert.is_true(socket.gettime() - t0 < 0.1)
  end)

  it("fails a transfer to a closed port with kind connect", function()
    local port = free_port()
    local http = core.http()
    local m = core.multi()
    local t = http:start(m, "POST", "http://127.0.0.1:" .. port .. "/", LIST_TABLES, "{}")
    assert.are.same({ 1 }, wait_all(m, 1))
    local status, kind, msg = t:result()
    assert.is_nil(status)
    assert.are.equal("connect", kind)
    assert.are.equal("request to 127.0.0.1:" .. port .. " failed: ",
      msg:sub(1, #("request to 127.0.0.1:" .. port .. " failed: ")))
  end)

  it("fails a transfer whose connection is reset, and one with a bad CRC32", function()
    local http = core.http()
    local m = core.multi()
    local reset = http:start(m, "POST", fault_proxy.start("reset", url), LIST_TABLES, "{}")
    local crc = http:start(m, "POST", fault_proxy.start("crc32", url), LIST_TABLES, "{}")
    wait_all(m, 2)
    local status, kind = reset:result()
    assert.is_nil(status)
    assert.are.equal("io", kind)
    local status2, kind2, msg2 = crc:result()
    assert.is_nil(status2)
    assert.are.equal("crc32", kind2)
    assert.matches("^response CRC32 mismatch: header says %d+, body has %d+$", msg2)
  end)

  it("honours the client's timeout for each transfer", function()
    local http = core.http { timeout = 0.3 }
    local m = core.multi()
    local t = http:start(m, "POST", fault_proxy.start("hang", url), LIST_TABLES, "{}")
    local t0 = socket.gettime()
    wait_all(m, 1)
    local elapsed = socket.gettime() - t0
    local status, kind = t:result()
    assert.is_nil(status)
    assert.are.equal("timeout", kind)
    assert.is_true(elapsed < 2, "took " .. elapsed .. " s")
  end)

  it("fails the transfers in flight when it is closed", function()
    local proxy = fault_proxy.start("hang", url)
    local http = core.http()
    local m = core.multi()
    local a = http:start(m, "POST", proxy, LIST_TABLES, "{}")
    local b = http:start(m, "POST", proxy, LIST_TABLES, "{}")
    assert.are.same({}, m:wait(0.1))
    m:close()
    assert.are.equal(0, m:stats().active)
    for _, t in ipairs { a, b } do
      assert.is_true(t:done())
      local status, kind, msg = t:result()
      assert.is_nil(status)
      assert.are.equal("closed", kind)
      assert.are.equal("the multi handle was closed during the transfer", msg)
    end
    assert.are.same({}, m:wait())
    assert.are.same({ nil, "closed", "the multi handle is closed" },
      { http:start(m, "POST", proxy, LIST_TABLES, "{}") })
    m:close() -- twice is fine
  end)

  it("keeps a finished transfer's result after the multi is closed", function()
    local http = core.http()
    local m = core.multi()
    local t = http:start(m, "POST", url, LIST_TABLES, "{}")
    wait_all(m, 1)
    m:close()
    local status, _, body = t:result()
    assert.are.equal(200, status)
    assert.is_truthy(body:find('"TableNames"', 1, true))
  end)

  it("raises when a result is taken twice", function()
    local http = core.http()
    local m = core.multi()
    local t = http:start(m, "POST", url, LIST_TABLES, "{}")
    local t2 = http:start(m, "POST", "http://127.0.0.1:" .. free_port() .. "/", LIST_TABLES, "{}")
    wait_all(m, 2)
    assert.are.equal(200, (t:result()))
    assert.has_error(function() t:result() end, "transfer 1: result already taken")
    assert.is_nil((t2:result()))
    assert.has_error(function() t2:result() end, "transfer 2: result already taken")
  end)

  it("starts nothing on a closed HTTP client", function()
    local http = core.http()
    local m = core.multi()
    http:close()
    assert.are.same({ nil, "closed", "the HTTP client is closed" }, { http:start(m, "POST", url, LIST_TABLES, "{}") })
    assert.are.same({ active = 0, requests = 0, connects = 0 }, m:stats())
  end)

  it("copies the client's settings, but not its later requests", function()
    -- A blocking request on the same client after start does not disturb the transfer.
    local http = core.http()
    local m = core.multi()
    local t = http:start(m, "POST", url, LIST_TABLES, "{}")
    local s2, _, b2 = http:request("POST", url, LIST_TABLES, "{}")
    assert.are.equal(200, s2)
    assert.is_truthy(b2:find('"TableNames"', 1, true))
    wait_all(m, 1)
    assert.are.equal(200, (t:result()))
  end)

  describe("collected in any order", function()
    it("a transfer collected while in flight leaves the multi usable", function()
      local proxy = fault_proxy.start("hang", url)
      local http = core.http()
      local m = core.multi()
      do
        local t = http:start(m, "POST", proxy, LIST_TABLES, "{}")
        assert.are.equal(1, m:stats().active)
        t = nil -- luacheck: ignore
      end
      collectgarbage()
      collectgarbage()
      assert.are.equal(0, m:stats().active)
      assert.are.same({}, m:wait(0.05))
      local t2 = http:start(m, "POST", url, LIST_TABLES, "{}")
      assert.are.same({ 2 }, wait_all(m, 1))
      assert.are.equal(200, (t2:result()))
    end)

    it("a multi collected first fails its transfer", function()
      local proxy = fault_proxy.start("hang", url)
      local http = core.http()
      local t
      do
        local m = core.multi()
        t = http:start(m, "POST", proxy, LIST_TABLES, "{}")
        m = nil -- luacheck: ignore
      end
      collectgarbage()
      collectgarbage()
      assert.is_true(t:done())
      assert.are.same({ nil, "closed", "the multi handle was closed during the transfer" },
        { t:result() })
    end)

    it("both collected together, and the HTTP client before them", function()
      local proxy = fault_proxy.start("hang", url)
      for _ = 1, 20 do
        local http = core.http()
        local m = core.multi()
        local list = {}
        for i = 1, 5 do list[i] = http:start(m, "POST", proxy, LIST_TABLES, "{}") end
        http = nil -- luacheck: ignore
        collectgarbage()
        m:wait(0)
      end
      collectgarbage()
      collectgarbage()
      local m = core.multi()
      local t = core.http():start(m, "POST", url, LIST_TABLES, "{}")
      wait_all(m, 1)
      assert.are.equal(200, (t:result()))
    end)

    it("at the end of a Lua state with transfers still in flight", function()
      local proxy = fault_proxy.start("hang", url)
      local code = string.format([[
        local core = require "dynamo.core"
        local http = core.http()
        local keep = {}
        for i = 1, 3 do
          local m = core.multi()
          for j = 1, 3 do keep[#keep + 1] = http:start(m, "POST", %q, {}, "{}") end
          m:wait(0.02)
          keep[#keep + 1] = m
          if i == 2 then m:close() end
        end
        local done = core.multi()
        local t = http:start(done, "POST", %q, {}, "{}")
        done:wait(5)
        keep[#keep + 1] = t
        print("exiting")
      ]], proxy, url)
      local cmd = string.format("LUA_PATH=%q LUA_CPATH=%q %s -e %q 2>&1; echo \"status $?\"",
        package.path, package.cpath, jit and "luajit" or "lua5.4", code)
      local p = assert(io.popen(cmd))
      local out = p:read("a")
      p:close()
      assert.are.equal("exiting\nstatus 0\n", out)
    end)
  end)

  describe("bad arguments", function()
    local http = core.http()
    local m = core.multi()

    it("to start", function()
      assert.has_error(function() http:start(nil, "POST", url) end,
        "bad argument 'multi' to 'start' (dynamo.multi expected, got nil)")
      assert.has_error(function() http:start(http, "POST", url) end,
        "bad argument 'multi' to 'start' (dynamo.multi expected, got userdata)")
      assert.has_error(function() http.start(m, m, "POST", url) end,
        "bad argument 'self' to 'start' (dynamo.http expected, got userdata)")
      assert.has_error(function() http:start(m, "PO ST", url) end,
        "bad argument 'method' to 'start' (HTTP method token expected)")
      assert.has_error(function() http:start(m, 5, url) end,
        "bad argument 'method' to 'start' (string expected, got number)")
      assert.has_error(function() http:start(m, "POST", 5) end,
        "bad argument 'url' to 'start' (string expected, got number)")
      assert.has_error(function() http:start(m, "POST", "http://x/\0y") end,
        "bad argument 'url' to 'start' (string contains a zero byte)")
      assert.has_error(function() http:start(m, "POST", url, "h") end,
        "bad argument 'headers' to 'start' (table expected, got string)")
      assert.has_error(function() http:start(m, "POST", url, { 1 }) end,
        "bad argument 'headers[1]' to 'start' (string expected, got number)")
      assert.has_error(function() http:start(m, "POST", url, { "A: b\r\nC: d" }) end,
        "bad argument 'headers[1]' to 'start' (header contains CR, LF or a zero byte)")
      assert.has_error(function() http:start(m, "POST", url, {}, 5) end,
        "bad argument 'body' to 'start' (string expected, got number)")
      local many = {}
      for i = 1, 10001 do many[i] = "X: y" end
      assert.has_error(function() http:start(m, "POST", url, many) end,
        "bad argument 'headers' to 'start' (more than 10000 headers)")
      -- Nothing was started by any of these.
      assert.are.same({ active = 0, requests = 0, connects = 0 }, m:stats())
    end)

    it("to wait, stats and close", function()
      assert.has_error(function() m:wait(-1) end,
        "bad argument 'timeout' to 'wait' (non-negative number expected, got -1)")
      assert.has_error(function() m:wait(0 / 0) end,
        "bad argument 'timeout' to 'wait' (non-negative number expected, got " .. tostring(0 / 0) .. ")")
      assert.has_error(function() m:wait("1") end,
        "bad argument 'timeout' to 'wait' (non-negative number expected, got string)")
      assert.has_error(function() m.wait(nil) end, "bad argument 'self' to 'wait' (dynamo.multi expected, got nil)")
      assert.has_error(function() m.stats(http) end, "bad argument 'self' to 'stats' (dynamo.multi expected, got userdata)")
      assert.has_error(function() m.close({}) end, "bad argument 'self' to 'close' (dynamo.multi expected, got table)")
    end)

    it("to a transfer's methods", function()
      local t = http:start(m, "POST", url, LIST_TABLES, "{}")
      assert.has_error(function() t.result(m) end,
        "bad argument 'self' to 'result' (dynamo.transfer expected, got userdata)")
      assert.has_error(function() t.id(nil) end, "bad argument 'self' to 'id' (dynamo.transfer expected, got nil)")
      assert.has_error(function() t.done("x") end, "bad argument 'self' to 'done' (dynamo.transfer expected, got string)")
      wait_all(m, 1)
      assert.are.equal(200, (t:result()))
    end)
  end)
end)
