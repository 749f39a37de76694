-- Runtime-specific: dynamo inside a real nginx (Debian's nginx with
-- libnginx-mod-http-lua and lua-resty-core; LuaJIT and build/luajit's
-- dynamo.core) against DynamoDB Local. The handlers are in
-- spec/support/nginx_app.lua, the configuration in
-- spec/support/nginx_test.conf; the last part starts
-- examples/openresty/nginx.conf. Busted (Lua 5.4) drives it over HTTP.
local servers = require "support.servers"
local proxy = require "support.proxy"
local nginx = require "support.nginx"
local cjson = require "cjson"
local socket = require "socket"

local function sh(cmd)
  local ok = os.execute("env -u LD_PRELOAD sh -c '" .. cmd:gsub("'", "'\\''") .. "' >/dev/null 2>&1")
  assert(ok, "failed: " .. cmd)
end

local function tempdir()
  local p = assert(io.popen("env -u LD_PRELOAD mktemp -d"))
  local dir = p:read("l")
  p:close()
  assert(dir and dir:match("^/[%w/._-]+$"), "mktemp -d failed")
  sh("chmod 755 " .. dir)
  return dir
end

-- A self-signed certificate for `cn` with subjectAltName `san`.
local function certificate(dir, base, cn, san)
  sh(string.format("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=%s -addext "
    .. "'subjectAltName=%s' -keyout %s/%s.key -out %s/%s.pem", cn, san, dir, base, dir, base))
  sh("chmod 644 " .. dir .. "/" .. base .. ".pem " .. dir .. "/" .. base .. ".key")
  return dir .. "/" .. base .. ".pem", dir .. "/" .. base .. ".key"
end

local function port_of(url)
  return tonumber(url:match(":(%d+)/?$"))
end

-- The transport's parsers need no nginx: table-driven cases under busted's Lua.
describe("dynamo.transport.ngx parsing", function()
  local t = require "dynamo.transport.ngx"

  local heads = {
    { "a plain response", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Amz-Crc32: 123",
      200, { ["content-length"] = "2", ["x-amz-crc32"] = "123" }, true },
    { "no reason phrase", "HTTP/1.1 204", 204, {}, true },
    { "repeats joined, values trimmed", "HTTP/1.1 200 OK\r\nA:  one \r\na:two\t\r\nB:\r\n",
      200, { a = "one, two", b = "" }, true },
    { "folded and colon-less lines skipped", "HTTP/1.1 500 Oops\r\n folded: x\r\nnocolon\r\nK: v",
      500, { k = "v" }, true },
    { "Connection: close", "HTTP/1.1 200 OK\r\nConnection: Close", 200, { connection = "Close" }, false },
    { "HTTP/1.0 closes", "HTTP/1.0 200 OK", 200, {}, false },
    { "HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive", 200, { connection = "keep-alive" }, true },
    { "not HTTP", "SSH-2.0-OpenSSH", nil, "malformed status line: SSH-2.0-OpenSSH" },
    { "bad status", "HTTP/1.1 2x0 OK", nil, "malformed status line: HTTP/1.1 2x0 OK" },
    { "status run-on", "HTTP/1.1 2000 OK", nil, "malformed status line: HTTP/1.1 2000 OK" },
  }
  for _, case in ipairs(heads) do
    it("reads the head: " .. case[1], function()
      local status, headers, keep = t._parse_head(case[2])
      assert.are.equal(case[3], status)
      assert.are.same(case[4], headers)
      if status then assert.are.equal(case[5], keep) end
    end)
  end

  local urls = {
    { "http://127.0.0.1:8000/", { host = "127.0.0.1", port = 8000, tls = false, path = "/",
      host_header = "Host: 127.0.0.1:8000", pool = "dynamo|127.0.0.1:8000" } },
    { "https://dynamodb.eu-west-1.amazonaws.com/", { host = "dynamodb.eu-west-1.amazonaws.com", port = 443, tls = true,
      sni = "dynamodb.eu-west-1.amazonaws.com", path = "/", host_header = "Host: dynamodb.eu-west-1.amazonaws.com",
      pool = "dynamo|dynamodb.eu-west-1.amazonaws.com:443|tls|dynamodb.eu-west-1.amazonaws.com|verify" } },
    { "HTTPS://10.0.0.1:8443?x=1", { host = "10.0.0.1", port = 8443, tls = true, path = "/?x=1",
      host_header = "Host: 10.0.0.1:8443", pool = "dynamo|10.0.0.1:8443|tls||verify" } },
    { "http://[::1]:8000/latest/api", { host = "::1", port = 8000, tls = false, path = "/latest/api",
      host_header = "Host: [::1]:8000", pool = "dynamo|::1:8000" } },
    { "ftp://x/", nil, "only http and https are supported" },
    { "http://user@x/", nil, "credentials in the URL are not supported" },
    { "http://x:70000/", nil, "port out of range" },
    { "http:///", nil, "no host" },
    { "nothing", nil, "not an http or https URL" },
  }
  for _, case in ipairs(urls) do
    it("parses the URL " .. case[1], function()
      local got, msg = t._parse_url({ verify = true, pool_size = 8 }, case[1])
      if not case[2] then
        assert.is_nil(got)
        assert.are.equal(case[3], msg)
        return
      end
      local want = case[2]
      assert.are.same({ host = want.host, port = want.port, tls = want.tls, sni = want.sni, path = want.path,
        host_header = want.host_header, connect_opts = { pool = want.pool, pool_size = 8 } }, got)
    end)
  end

  it("keys the pool by the verify flag", function()
    local a = t._parse_url({ verify = true, pool_size = 1 }, "https://h/")
    local b = t._parse_url({ verify = false, pool_size = 1 }, "https://h/")
    assert.are_not.equal(a.connect_opts.pool, b.connect_opts.pool)
  end)

  it("builds the request, adding Host and Content-Length", function()
    local self = { verify = true, pool_size = 1 }
    local target = t._parse_url(self, "http://127.0.0.1:8000/")
    assert.are.equal("POST / HTTP/1.1\r\nX-A: 1\r\nHost: 127.0.0.1:8000\r\nContent-Length: 2\r\n\r\n{}",
      table.concat(t._build(self, target, "POST", { "X-A: 1" }, "{}")))
    assert.are.equal("GET / HTTP/1.1\r\nhost: other\r\n\r\n",
      table.concat(t._build(self, target, "GET", { "host: other" })))
  end)

  it("refuses headers with CR, LF or a zero byte, and bad methods", function()
    local self = { verify = true, pool_size = 1 }
    local target = t._parse_url(self, "http://h/")
    assert.has_error(function() t._build(self, target, "GET", { "X: a\r\nY: b" }) end,
      "bad argument 'headers[1]' to 'request' (header contains CR, LF or a zero byte)")
    assert.has_error(function() t._build(self, target, "GET", { "X: 1", "X: \0" }) end,
      "bad argument 'headers[2]' to 'request' (header contains CR, LF or a zero byte)")
    assert.has_error(function() t._build(self, target, "GET /x", {}) end,
      "bad argument 'method' to 'request' (HTTP method token expected)")
  end)

  it("checks its options", function()
    assert.has_error(function() t.new { cafile = "/x" } end,
      "bad argument 'cafile' to 'dynamo.transport.ngx.new' (inside nginx the trusted certificates are nginx's "
      .. "lua_ssl_trusted_certificate)")
    assert.has_error(function() t.new { proxy = "http://p:3128" } end,
      "bad argument 'proxy' to 'dynamo.transport.ngx.new' (HTTP proxies are not supported inside nginx)")
    assert.has_error(function() t.new { timeout = 0 } end,
      "bad argument 'timeout' to 'dynamo.transport.ngx.new' (positive number expected, got 0)")
    assert.has_error(function() t.new { pool_size = 1.5 } end,
      "bad argument 'pool_size' to 'dynamo.transport.ngx.new' (positive integer expected, got 1.5)")
    assert.are.equal("dynamo.transport.ngx (open)", tostring(t.new { proxy = "", verify = false }))
  end)
end)

describe("inside nginx", function()
  local server = servers.get("local")
  local srv, dir, table_name

  -- GET /t/<name>?args -> the decoded JSON answer (asserts a 200).
  local function call(name, args)
    local q = {}
    for k, v in pairs(args or {}) do q[#q + 1] = k .. "=" .. tostring(v) end
    table.sort(q)
    local path = "/t/" .. name .. (#q > 0 and ("?" .. table.concat(q, "&")) or "")
    local status, body = nginx.request(srv.url .. path)
    assert(status, body)
    assert.are.equal(200, status, body)
    return cjson.decode(body)
  end

  setup(function()
    dir = tempdir()
    local cert, key = certificate(dir, "localhost", "localhost", "DNS:localhost,DNS:dynamodb.test,DNS:untrusted.test")
    local other_cert = certificate(dir, "other", "other.example", "DNS:other.example")
    local slow = proxy.start("delay=1500", server.url)
    local hang = proxy.start("hang", server.url)
    local tls = proxy.start("pass", server.url, { tls_cert = cert, tls_key = key })
    local dns_port = nginx.start_dns()
    local canned_port = nginx.free_port()
    srv = nginx.start {
      conf = assert(nginx.read("spec/support/nginx_test.conf")),
      vars = { DNS_PORT = dns_port, CERT = cert, OTHER_CERT = other_cert, CANNED_PORT = canned_port },
      env = {
        DYNAMO_TEST_ENDPOINT = server.url,
        DYNAMO_TEST_SLOW_ENDPOINT = slow,
        DYNAMO_TEST_HANG_ENDPOINT = hang,
        DYNAMO_TEST_TLS_PORT = port_of(tls),
        DYNAMO_TEST_CANNED_PORT = canned_port,
      },
    }
    table_name = servers.table_name("nginx")
    assert.are.same({ ok = true }, call("create_table", { table = table_name }))
  end)

  teardown(function()
    if srv then srv:cleanup() end
    proxy.stop_all()
    nginx.stop_dns()
    if dir then sh("rm -rf " .. dir) end
  end)

  it("runs one worker", function()
    assert.are.equal(1, #srv:workers())
  end)

  it("puts, gets, updates and deletes an item", function()
    local r = call("item", { table = table_name, pk = "item1" })
    assert.is_nil(r.error)
    assert.are.same({ pk = "item1", sk = 1, name = "first", visits = 1 }, r.got)
    assert.are.same({ pk = "item1", sk = 1, name = "second", visits = 3 }, r.updated)
    assert.are.same({ pk = "item1", sk = 1, name = "second", visits = 3 }, r.deleted)
    assert.is_true(r.after_delete)
  end)

  it("follows query pages with the iterator", function()
    local r = call("query", { table = table_name, pk = "q1", n = 10 })
    assert.is_nil(r.error)
    assert.are.same({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, r.sks)
    assert.is_true(r.pages >= 4)
    assert.is_true(r.done)
    assert.are.same({ 10, 9 }, r.back)
  end)

  it("writes with the batch writer and reads with batch_get", function()
    local r = call("batch", { table = table_name, pk = "b1", n = 60 })
    assert.is_nil(r.error)
    assert.are.equal(60, r.written)
    assert.are.equal(60, r.read)
    assert.are.equal(1, r.missing)
    assert.are.equal(60 * 61, r.sum)
  end)

  it("runs transactions; a cancelled one gives its reasons", function()
    local r = call("transact", { table = table_name, pk = "x1" })
    assert.is_nil(r.error)
    assert.are.same({ 5, 0 }, r.stocks)
    assert.are.equal("TransactionCanceledException", r.failed.code)
    assert.are.same({ "None", "ConditionalCheckFailed" }, r.failed.reasons)
    assert.are.equal(5, r.stock_after)
  end)

  it("returns a failed condition as an error value", function()
    local r = call("conditional", { table = table_name, pk = "c1" })
    assert.is_false(r.res)
    assert.is_true(r.is_error)
    assert.are.equal("ConditionalCheckFailedException", r.error.code)
    assert.are.equal("The conditional request failed", r.error.message)
    assert.are.equal(400, r.error.status)
    assert.is_false(r.error.retryable)
  end)

  it("runs parallel scan segments and gather in light threads", function()
    local r = call("parallel", { table = table_name, pk = "p1", n = 40, segments = 4 })
    assert.is_nil(r.raised)
    assert.are.equal(40, r.count)
    assert.are.equal(40, r.distinct)
    assert.is_true(r.all_read)
    assert.are.equal(4, r.segments)
    assert.are.same({ 1, 2, "slept" }, r.gathered)
    assert.is_true(r.gather_seconds >= 0.19 and r.gather_seconds < 1, tostring(r.gather_seconds))
    assert.matches("boom", r.gather_error)
  end)

  it("serves another request while a slow DynamoDB call waits (same worker)", function()
    -- The slow request goes through the proxy that holds each request 1.5 s.
    local c = socket.tcp()
    c:settimeout(10)
    assert(c:connect("127.0.0.1", srv.port))
    local started = socket.gettime()
    assert(c:send("GET /t/slow?table=" .. table_name .. " HTTP/1.0\r\n\r\n"))
    socket.sleep(0.2)  -- it is now waiting inside the worker
    local fast = call("fast", { table = table_name })
    local fast_done = socket.gettime() - started
    local raw = assert(c:receive("*a"))
    local slow_done = socket.gettime() - started
    c:close()
    local slow = cjson.decode(raw:match("\r\n\r\n(.*)$"))
    assert.is_true(fast.ok)
    assert.is_true(slow.ok, raw)
    assert.is_true(fast.seconds < 0.3, "the fast call took " .. fast.seconds .. " s")
    assert.is_true(fast_done < 0.8, "the fast request ended after " .. fast_done .. " s")
    assert.is_true(slow.seconds >= 1.4, "the slow call took " .. slow.seconds .. " s")
    assert.is_true(slow_done - fast_done > 0.6, "fast at " .. fast_done .. " s, slow at " .. slow_done .. " s")
  end)

  it("keeps connections alive between requests", function()
    local before = call("stats")
    for _ = 1, 5 do call("fast", { table = table_name }) end
    local after = call("stats")
    assert.are.equal(before.requests + 5, after.requests)
    assert.are.equal(before.connects, after.connects)
  end)

  it("refuses calls in phases without cosockets, pointing at ngx.timer.at", function()
    local status, body, headers = nginx.request(srv.url .. "/phase/header_filter")
    assert.are.equal(200, status)
    assert.are.equal("body\n", body)
    assert.are.equal("dynamo: cannot send a DynamoDB request in nginx's header_filter phase, which allows no "
      .. "cosockets; run it in a timer instead: ngx.timer.at(0, function(premature) ... end)", headers["x-dynamo-error"])

    status, body = nginx.request(srv.url .. "/phase/set")
    assert.are.equal(200, status)
    assert.matches("in nginx's set phase, which allows no cosockets; run it in a timer instead: ngx.timer.at(0,",
      body, 1, true)

    assert.are.equal(200, (nginx.request(srv.url .. "/phase/log")))
    local shared
    for _ = 1, 20 do
      shared = call("shared_timer")
      if shared.log then break end
      socket.sleep(0.05)
    end
    assert.matches("in nginx's log phase, which allows no cosockets", shared.log, 1, true)
    assert.matches("in nginx's init_worker phase, which allows no cosockets; run it in a timer instead: "
      .. "ngx.timer.at(0, function(premature) ... end)", shared.init_worker, 1, true)
  end)

  it("works from a timer started in init_worker", function()
    assert.are.equal("ok", call("shared_timer").timer)
  end)

  it("refuses the libcurl transport inside a worker", function()
    local r = call("curl")
    assert.is_false(r.ok)
    assert.matches("dynamo: the libcurl transport cannot run inside an nginx worker (it would block the worker)",
      r.error, 1, true)
    assert.is_false(r.async_ok)
    assert.matches("dynamo: libcurl (core.http) cannot be used inside nginx: it would block the worker",
      r.async_error, 1, true)
  end)

  it("picks the cosocket transport and one default credential chain per worker", function()
    local r = call("default_chain")
    assert.is_true(r.same)
    assert.are.equal("dynamo.transport.ngx (open)", r.transport)
  end)

  describe("transport", function()
    local ITEM = '{"Item":{"pk":{"S":"canned"},"sk":{"N":"1"},"name":{"S":"a canned item"}}}'

    -- The canned responder says which connection carried each request.
    local function connections(r)
      local ids = {}
      for i, res in ipairs(r.results) do ids[i] = res.headers["x-connection"] end
      return ids
    end

    it("reads Content-Length bodies and keeps the connection", function()
      local r = call("transport", { what = "plain", times = 3 })
      for i = 1, 3 do
        assert.are.equal(200, r.results[i].status)
        assert.are.equal(ITEM, r.results[i].body)
        assert.are.equal("canned", r.results[i].headers["x-amzn-requestid"])
        assert.are.equal("one, two", r.results[i].headers["x-twice"])
      end
      local ids = connections(r)
      assert.are.equal(ids[1], ids[2])
      assert.are.equal(ids[1], ids[3])
      assert.are.equal(3, r.stats.requests)
      assert.is_true(r.stats.connects <= 1)
    end)

    it("reads chunked bodies fully and keeps the connection", function()
      local r = call("transport", { what = "chunked", times = 2 })
      for i = 1, 2 do
        assert.are.equal(200, r.results[i].status)
        assert.are.equal(ITEM, r.results[i].body)
        assert.are.equal("chunked", r.results[i].headers["transfer-encoding"])
      end
      local ids = connections(r)
      assert.are.equal(ids[1], ids[2])
    end)

    it("does not reuse a connection the server closes", function()
      local r = call("transport", { what = "close", times = 3 })
      local ids = connections(r)
      assert.are.equal(ITEM, r.results[3].body)
      assert.are_not.equal(ids[1], ids[2])
      assert.are_not.equal(ids[2], ids[3])
      assert.is_true(r.stats.connects >= 2)
    end)

    it("checks x-amz-crc32", function()
      local r = call("transport", { what = "badcrc" })
      assert.are.equal("crc32", r.results[1].kind)
      assert.matches("^response CRC32 mismatch: header says 12345, body has %d+$", r.results[1].message)
    end)

    it("times out as TimeoutError", function()
      local r = call("timeout")
      assert.are.equal("TimeoutError", r.error.code)
      assert.is_true(r.seconds < 1, tostring(r.seconds))
    end)

    it("speaks TLS with SNI and verification, through nginx's resolver", function()
      local r = call("tls", { host = "localhost" })
      assert.is_nil(r.error)
      assert.is_true(r.ok)
      r = call("tls", { host = "dynamodb.test" })
      assert.is_true(r.ok)
    end)

    it("fails TLS verification for a name the certificate does not have", function()
      local r = call("tls", { host = "other.test" })
      assert.are.equal("TLSError", r.error.code)
      assert.matches("certificate host mismatch", r.error.message, 1, true)
    end)

    it("fails TLS verification against untrusted CAs", function()
      -- A name no other test used: no pooled connection to reuse.
      local status, body = nginx.request(srv.url .. "/untrusted/tls?host=untrusted.test")
      assert.are.equal(200, status, body)
      local r = cjson.decode(body)
      assert.is_table(r.error, body)
      assert.are.equal("TLSError", r.error.code)
      assert.matches("lua_ssl_trusted_certificate", r.error.message, 1, true)
    end)
  end)

  describe("shared credentials", function()
    it("fetch once for many requests", function()
      local first = call("creds", { lifetime = 3600, key = "once", reset = 1 })
      assert.is_true(first.ok)
      assert.are.equal(1, first.fetches)
      for _ = 1, 3 do
        local r = call("creds", { lifetime = 3600, key = "once" })
        assert.is_true(r.ok)
        assert.are.equal(1, r.fetches)
        assert.is_true(r.seconds < 0.3, tostring(r.seconds))
      end
    end)

    it("refresh in a timer while the cached ones are still valid", function()
      -- 200 s left: within the refresh window (300 s), above the margin (60 s).
      local first = call("creds", { lifetime = 200, key = "refresh", reset = 1 })
      assert.are.equal(1, first.fetches)
      assert.are.equal("token1", first.token)
      local r = call("creds", { lifetime = 3600, key = "refresh" })
      -- Answered at once with the cached ones; the refresh (0.5 s) runs in a timer.
      assert.is_true(r.seconds < 0.3, tostring(r.seconds))
      assert.are.equal("token1", r.token)
      local later = call("creds_fetches")
      assert.are.equal(2, later.fetches)
      assert.are.equal("token2", later.token)
    end)
  end)

  it("shares one credentials fetch among concurrent requests", function()
    local r = call("coalesce")
    assert.are.equal(1, r.fetches)
    assert.are.same({ "ok", "ok", "ok", "ok", "ok" }, r.results)
  end)

  it("leaves no errors in error.log", function()
    assert.are.same({}, srv:errors())
  end)
end)

describe("examples/openresty/nginx.conf", function()
  local server = servers.get("local")
  local srv, table_name

  local function req(method, path, body, headers)
    local status, rbody = nginx.request(srv.url .. path, { method = method, body = body, headers = headers })
    assert(status, rbody)
    return status, cjson.decode(rbody)
  end

  setup(function()
    table_name = servers.table_name("example")
    local db = servers.client(server)
    assert(db:create_table {
      table = table_name,
      AttributeDefinitions = { { AttributeName = "owner", AttributeType = "S" }, { AttributeName = "id", AttributeType = "S" } },
      KeySchema = { { AttributeName = "owner", KeyType = "HASH" }, { AttributeName = "id", KeyType = "RANGE" } },
      BillingMode = "PAY_PER_REQUEST",
    })
    servers.wait_active(db, table_name)

    -- The example as it is, but for the port, the checkout's module paths
    -- and a resolver that knows the test host name.
    local conf = assert(nginx.read("examples/openresty/nginx.conf"))
    local port = nginx.free_port()
    local vars = nginx.builtins("", port)
    local function replace(pattern, with)
      local n
      conf, n = conf:gsub(pattern, function() return with end)
      assert.are.equal(1, n, pattern)
    end
    replace("\n    lua_package_path [^\n]+", "\n    lua_package_path \"$prefix/lua/?.lua;" .. vars.LUA_PATH .. "\";")
    replace("\n    lua_package_cpath [^\n]+", "\n    lua_package_cpath \"" .. vars.LUA_CPATH .. "\";")
    replace("\n    resolver [^\n]+", "\n    resolver 127.0.0.1:" .. nginx.start_dns() .. " ipv6=off;")
    replace("listen 127%.0%.0%.1:8080;", "listen 127.0.0.1:" .. port .. ";")
    assert.is_nil(conf:find("${", 1, true))   -- no template variables in it
    srv = nginx.start {
      conf = conf,
      port = port,
      files = { ["lua/items_api.lua"] = assert(nginx.read("examples/openresty/lua/items_api.lua")) },
      env = {
        AWS_REGION = "us-east-1",
        AWS_ENDPOINT_URL_DYNAMODB = "http://dynamodb.test:" .. port_of(server.url),
        AWS_ACCESS_KEY_ID = "AKIDTEST", AWS_SECRET_ACCESS_KEY = "test-secret",
        AWS_EC2_METADATA_DISABLED = "true",
        ITEMS_TABLE = table_name,
      },
    }
  end)

  teardown(function()
    if srv then srv:cleanup() end
    nginx.stop_dns()
  end)

  it("puts, gets and queries items", function()
    local status, body = req("PUT", "/items/alice/1", '{"title":"hello","n":3}')
    assert.are.equal(201, status)
    assert.are.same({ owner = "alice", id = "1", title = "hello", n = 3 }, body)
    assert.are.equal(201, (req("PUT", "/items/alice/2", '{"title":"again"}')))
    status, body = req("GET", "/items/alice/1")
    assert.are.equal(200, status)
    assert.are.same({ owner = "alice", id = "1", title = "hello", n = 3 }, body)
    status = req("GET", "/items/alice/9")
    assert.are.equal(404, status)
    status, body = req("GET", "/items/alice")
    assert.are.equal(200, status)
    assert.are.equal(2, #body.items)
    assert.are.equal(cjson.null, body.next)
    status, body = req("GET", "/items/alice?limit=1")
    assert.are.equal(1, #body.items)
    assert.are.equal("1", body.next)
    status, body = req("GET", "/items/alice?after=1")
    assert.are.equal("2", body.items[1].id)
  end)

  it("answers 412 for a conditional put of an existing item", function()
    local status, body = req("PUT", "/items/bob/1", '{}', { ["If-None-Match"] = "*" })
    assert.are.equal(201, status)
    status, body = req("PUT", "/items/bob/1", '{}', { ["If-None-Match"] = "*" })
    assert.are.equal(412, status)
    assert.are.equal("ConditionalCheckFailedException", body.error)
  end)

  it("leaves no errors in error.log", function()
    assert.are.same({}, srv:errors())
  end)
end)
