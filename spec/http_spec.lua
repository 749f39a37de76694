-- core.http (src/http_curl.c) and core.crc32 (src/crc32.c), against the real
-- test servers (.cache/servers.env), loopback sockets, and the fault proxy
-- (spec/support/fault_proxy.js).
local core = require "dynamo.core"
local socket = require "socket"

local test_servers = require "support.servers"
local fault_proxy = require "support.proxy"

-- The servers' base URLs (raises when they are not running).
local function servers()
  return { ["DynamoDB Local"] = test_servers.get("local").url, dynalite = test_servers.get("dynalite").url }
end

-- ListTables with an Authorization header the emulators accept without
-- checking the signature, so both answer 200 with an x-amz-crc32.
local LIST_TABLES = {
  "Content-Type: application/x-amz-json-1.0",
  "X-Amz-Target: DynamoDB_20120810.ListTables",
  "X-Amz-Date: 20150830T123600Z",
  "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, "
    .. "SignedHeaders=host;x-amz-date, Signature=0",
}

-- A loopback port nothing listens on (bound, then released).
local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local function proxy(mode, extra)
  return fault_proxy.start(mode, servers()["DynamoDB Local"], extra)
end

local stop_procs = fault_proxy.stop_all

-- Bitwise CRC32, to check the sliced table version against.
local function slow_crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do
    c = c ~ s:byte(i)
    for _ = 1, 8 do
      c = (c & 1 == 1) and (0xEDB88320 ~ (c >> 1)) or (c >> 1)
    end
  end
  return c ~ 0xFFFFFFFF
end

describe("core.crc32", function()
  it("matches the known vectors", function()
    assert.equal(0, core.crc32(""))
    assert.equal(0xCBF43926, core.crc32("123456789"))
    assert.equal(0xE8B7BE43, core.crc32("a"))
    assert.equal(0x414FA339, core.crc32("The quick brown fox jumps over the lazy dog"))
  end)

  it("matches real DynamoDB responses and their x-amz-crc32 headers", function()
    assert.equal(1315925753, core.crc32('{"TableNames":[]}'))
    assert.equal(2088342776, core.crc32('{"__type":"com.amazon.coral.service#MissingAuthenticationTokenException",'
      .. '"message":"Request is missing Authentication Token"}'))
  end)

  it("agrees with a bitwise CRC32 at every length and alignment", function()
    local s = {}
    for i = 1, 300 do s[i] = string.char((i * 73 + 11) % 256) end
    s = table.concat(s)
    for len = 0, 40 do
      for start = 1, 9 do
        local piece = s:sub(start, start + len - 1)
        assert.equal(slow_crc32(piece), core.crc32(piece))
      end
    end
    assert.equal(slow_crc32(s), core.crc32(s))
  end)

  -- From 64 bytes, CPUs with carry-less multiplication fold 64 and 16
  -- bytes at a time (src/crc32_clmul.c) and the tables finish the rest.
  it("agrees with a bitwise CRC32 around the 16- and 64-byte folds, at every alignment", function()
    local s = {}
    for i = 1, 5000 do s[i] = string.char((i * 131 + 7) % 256) end
    s = table.concat(s)
    for _, len in ipairs { 63, 64, 65, 79, 80, 81, 127, 128, 129, 143, 144, 255, 256, 257, 1000, 4099 } do
      for start = 1, 17 do
        local piece = s:sub(start, start + len - 1)
        assert.equal(slow_crc32(piece), core.crc32(piece), len .. " bytes from " .. start)
      end
    end
  end)

  it("raises for a non-string", function()
    assert.has_error(function() core.crc32(12) end, "bad argument 's' to 'crc32' (string expected, got number)")
  end)
end)

describe("core.http_headers", function()
  it("makes a table of the raw header block: lower-case names, trimmed values, repeats joined", function()
    local head = "Content-Type: application/x-amz-json-1.0\r\nX-Amzn-RequestId:  ABC123 \r\n"
      .. "Set-Thing: one\r\nset-thing:two\r\nx-amz-crc32: 42\r\n\r\n"
    assert.same({ ["content-type"] = "application/x-amz-json-1.0", ["x-amzn-requestid"] = "ABC123",
      ["set-thing"] = "one, two", ["x-amz-crc32"] = "42" }, core.http_headers(head))
  end)

  it("skips lines that are no header: blank, folded, without a colon or a name; LF alone ends a line", function()
    local head = "\r\nA: 1\n\tfolded: no\r\n no: either\r\nno colon\r\n: nameless\r\nB:\r\nC: 3"
    assert.same({ a = "1", b = "", c = "3" }, core.http_headers(head))
    assert.same({}, core.http_headers(""))
  end)

  it("raises for a non-string", function()
    assert.has_error(function() core.http_headers({}) end,
      "bad argument 'head' to 'http_headers' (string expected, got table)")
  end)
end)

describe("core.http", function()
  after_each(stop_procs)

  describe("against the test servers", function()
    for _, name in ipairs { "DynamoDB Local", "dynalite" } do
      it("POSTs to " .. name .. " and returns status, the header lines a success needs and body", function()
        local c = core.http()
        local status, head, body = c:request("POST", servers()[name] .. "/", LIST_TABLES, "{}")
        assert(status, tostring(head) .. ": " .. tostring(body))
        assert.equal("integer", math.type(status))
        assert.equal(200, status)
        assert.equal("string", type(head))
        assert.falsy(head:find("^HTTP/"), head) -- header lines, not the status line
        -- Of a success, only what the client reads: the request id and the
        -- checksum (present, and verified: a mismatch would have failed).
        local headers = core.http_headers(head)
        assert.truthy(headers["x-amzn-requestid"], head)
        assert.equal(tostring(core.crc32(body)), headers["x-amz-crc32"])
        assert.is_nil(headers["content-type"], head)
        assert.truthy(body:find('"TableNames"', 1, true), body)
        c:close()
      end)

      it("keeps the connection to " .. name .. " alive across requests", function()
        local c = core.http()
        for _ = 1, 5 do
          local status, err = c:request("POST", servers()[name] .. "/", LIST_TABLES, "{}")
          assert.equal(200, status, err)
        end
        assert.same({ connects = 1, requests = 5 }, c:stats())
      end)
    end

    it("returns an unsigned request's 400 and error body as a response", function()
      local c = core.http()
      local status, head, body = c:request("POST", servers().dynalite .. "/",
        { LIST_TABLES[1], LIST_TABLES[2] }, "{}")
      assert.equal(400, status)
      assert.truthy(core.http_headers(head)["x-amzn-requestid"])
      assert.truthy(body:find("MissingAuthenticationToken", 1, true), body)
    end)
  end)

  describe("failures are values", function()
    it("connection refused -> connect, naming host:port", function()
      local port = free_port()
      local c = core.http()
      local ok, kind, msg = c:request("POST", "http://127.0.0.1:" .. port .. "/", LIST_TABLES, "{}")
      assert.is_nil(ok)
      assert.equal("connect", kind)
      assert.truthy(msg:find("127.0.0.1:" .. port, 1, true), msg)
      assert.equal(1, c:stats().requests)
    end)

    it("never puts header values or URL passwords in messages", function()
      local port = free_port()
      local c = core.http()
      local _, _, msg = c:request("POST", "http://user:hunter2@127.0.0.1:" .. port .. "/?X-Amz-Signature=s3cret",
        { "Authorization: AWS4 top-secret" }, "{}")
      assert.truthy(msg:find("request to 127.0.0.1:" .. port .. " failed: ", 1, true), msg)
      assert.falsy(msg:find("top-secret", 1, true), msg)
      assert.falsy(msg:find("hunter2", 1, true), msg)
      assert.falsy(msg:find("s3cret", 1, true), msg)
    end)

    it("a server that never answers -> timeout, on time", function()
      -- The kernel completes the handshake for a listening socket, so the
      -- request is sent and then nothing comes back.
      local srv = assert(socket.bind("127.0.0.1", 0))
      local _, port = srv:getsockname()
      local c = core.http { timeout = 0.3 }
      local t0 = socket.gettime()
      local ok, kind, msg = c:request("POST", "http://127.0.0.1:" .. port .. "/", LIST_TABLES, "{}")
      local elapsed = socket.gettime() - t0
      srv:close()
      assert.is_nil(ok)
      assert.equal("timeout", kind)
      assert.truthy(msg:find("127.0.0.1:" .. port, 1, true), msg)
      assert.is_true(elapsed >= 0.25 and elapsed < 1.0, "took " .. elapsed .. " s")
    end)

    it("TLS to a plain-HTTP port -> tls", function()
      local url = servers()["DynamoDB Local"]:gsub("^http:", "https:") .. "/"
      local ok, kind, msg = core.http():request("POST", url, LIST_TABLES, "{}")
      assert.is_nil(ok)
      assert.equal("tls", kind)
      assert.truthy(msg:find(url:match("//([^/]+)"), 1, true), msg)
    end)

    it("a malformed URL or another scheme -> url", function()
      local c = core.http()
      local ok, kind, msg = c:request("GET", "ftp://user:pw@127.0.0.1:21/file?token=x")
      assert.is_nil(ok)
      assert.equal("url", kind)
      assert.truthy(msg:find("bad URL 'ftp://127.0.0.1:21/file'", 1, true), msg)
      ok, kind = c:request("GET", "file:///etc/passwd")
      assert.equal("url", kind)
      ok, kind = c:request("GET", "http://")
      assert.is_nil(ok)
      assert.equal("url", kind)
    end)

    it("after close -> closed; close is idempotent", function()
      local c = core.http()
      assert.equal("dynamo.http (open)", tostring(c))
      c:close()
      c:close()
      assert.equal("dynamo.http (closed)", tostring(c))
      local ok, kind, msg = c:request("POST", servers().dynalite .. "/", LIST_TABLES, "{}")
      assert.is_nil(ok)
      assert.equal("closed", kind)
      assert.equal("the HTTP client is closed", msg)
    end)
  end)

  describe("through the fault proxy", function()
    it("pass: forwards a verified response", function()
      local url = proxy("pass")
      local c = core.http()
      local status, head, body = c:request("POST", url, LIST_TABLES, "{}")
      assert.equal(200, status, head)
      assert.equal(tostring(core.crc32(body)), core.http_headers(head)["x-amz-crc32"])
      assert.truthy(core.http_headers(head)["x-amzn-requestid"], head)
    end)

    it("crc32: a corrupted x-amz-crc32 -> crc32", function()
      local url = proxy("crc32")
      local ok, kind, msg = core.http():request("POST", url, LIST_TABLES, "{}")
      assert.is_nil(ok)
      assert.equal("crc32", kind)
      local says, has = msg:match("^response CRC32 mismatch: header says (%d+), body has (%d+)$")
      assert.truthy(says, msg)
      assert.equal((tonumber(has) + 1) & 0xFFFFFFFF, tonumber(says))
    end)

    it("reset -> io, and the client recovers on a new connection", function()
      local c = core.http()
      local url = proxy("reset", "--count 1")
      local ok, kind, msg = c:request("POST", url, LIST_TABLES, "{}")
      assert.is_nil(ok)
      assert.equal("io", kind)
      assert.truthy(msg:find("request to 127.0.0.1:", 1, true), msg)
      local status, err = c:request("POST", url, LIST_TABLES, "{}")
      assert.equal(200, status, err)
      assert.same({ connects = 2, requests = 2 }, c:stats())
    end)

    it("hang -> timeout", function()
      local url = proxy("hang")
      local t0 = socket.gettime()
      local ok, kind = core.http { timeout = 0.2 }:request("POST", url, LIST_TABLES, "{}")
      assert.is_nil(ok)
      assert.equal("timeout", kind)
      assert.is_true(socket.gettime() - t0 < 1)
    end)

    it("delay: slower than the timeout -> timeout, faster -> success", function()
      local url = proxy("delay=150")
      local ok, kind = core.http { timeout = 0.05 }:request("POST", url, LIST_TABLES, "{}")
      assert.is_nil(ok)
      assert.equal("timeout", kind)
      local status, err = core.http { timeout = 2 }:request("POST", url, LIST_TABLES, "{}")
      assert.equal(200, status, err)
    end)

    it("status=503 --count 1: an injected error, then the real answer", function()
      local url = proxy("status=503", "--count 1")
      local c = core.http()
      local status, head, body = c:request("POST", url, LIST_TABLES, "{}")
      assert.equal(503, status)
      assert.equal(tostring(core.crc32(body)), core.http_headers(head)["x-amz-crc32"])
      assert.equal('{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"injected"}', body)
      status = c:request("POST", url, LIST_TABLES, "{}")
      assert.equal(200, status)
      assert.equal(1, c:stats().connects)
    end)
  end)

  describe("requests and responses (echo server)", function()
    local c, url
    before_each(function()
      url = proxy("echo")
      c = core.http()
    end)

    local function echo(method, headers, body)
      local status, head, rbody = c:request(method, url, headers, body)
      assert.equal(200, status, head)
      return rbody, core.http_headers(head)
    end

    it("sends the method, headers and body, and nothing unasked", function()
      local body = echo("POST", { "X-One: 1", "X-Two: two words" }, "hello\0world")
      assert.truthy(body:find('"method":"POST"', 1, true), body)
      assert.truthy(body:find('"X-One","1","X-Two","two words"', 1, true), body)
      assert.truthy(body:find('"bodyLength":11', 1, true), body)
      assert.falsy(body:lower():find('"accept-encoding"', 1, true), body)
      assert.falsy(body:lower():find('"expect"', 1, true), body)
    end)

    it("switches methods on the reused handle", function()
      local body = echo("PUT", nil, "put-body")
      assert.truthy(body:find('"method":"PUT"', 1, true), body)
      assert.truthy(body:find('"body":"put-body"', 1, true), body)
      body = echo("GET")
      assert.truthy(body:find('"method":"GET"', 1, true), body)
      assert.truthy(body:find('"bodyLength":0', 1, true), body)
      body = echo("DELETE")
      assert.truthy(body:find('"method":"DELETE"', 1, true), body)
      body = echo("POST")
      assert.truthy(body:find('"method":"POST"', 1, true), body)
      assert.truthy(body:lower():find('"content-length","0"', 1, true), body)
      local rbody, rheaders = echo("HEAD")
      assert.equal("", rbody)
      assert.truthy(rheaders["x-amz-crc32"])
      body = echo("POST", nil, "{}")
      assert.truthy(body:find('"method":"POST"', 1, true), body)
      assert.truthy(body:find('"body":"{}"', 1, true), body)
      assert.same({ connects = 1, requests = 6 }, c:stats())
    end)

    it("returns every header line of an error, repeats joined and values trimmed", function()
      local status, head = c:request("GET", url, { "X-Echo-Status: 404" })
      assert.equal(404, status, head)
      local h = core.http_headers(head)
      assert.equal("one, two", h["x-echo-dup"])
      assert.equal("padded value", h["x-echo-padded"])
      assert.equal("application/json", h["content-type"])
    end)

    it("returns only the request id and the checksum of a success", function()
      local _, h = echo("GET")
      local names = {}
      for k in pairs(h) do names[#names + 1] = k end
      assert.same({ "x-amz-crc32" }, names) -- the echo server sends no request id
    end)

    -- libcurl adds "Expect: 100-continue" to larger bodies (1 KiB and up in
    -- some versions, 1 MiB in others) and then waits for the server's
    -- interim answer: a round trip, or a second with servers that send none.
    for _, size in ipairs { 1536, 65536, 2097152 } do
      it("sends a body of " .. size .. " bytes at once (no Expect: 100-continue) and reuses buffers", function()
        local big = string.rep("0123456789abcdef", math.floor(size / 16))
        local t0 = socket.gettime()
        local body = echo("POST", { "Content-Type: application/octet-stream" }, big)
        assert.is_true(socket.gettime() - t0 < 0.9, "waited for 100-continue?")
        assert.truthy(body:find('"bodyLength":' .. #big, 1, true))
        assert.falsy(body:lower():find('"expect"', 1, true))
        body = echo("POST", nil, "small")
        assert.truthy(body:find('"body":"small"', 1, true), body)
      end)
    end

    it("sends the user agent it was given", function()
      c = core.http { user_agent = "dynamo-test/1.0" }
      local body = echo("GET")
      assert.truthy(body:find('"User-Agent","dynamo-test/1.0"', 1, true), body)
    end)

    -- client:post_signed is signer:sign_post and client:request in one
    -- call: the server must see exactly the lines sign_post makes.
    describe("post_signed", function()
      local cjson = require "cjson"
      local HOST, TARGET, BODY = "dynamodb.example", "DynamoDB_20120810.GetItem", '{"TableName":"t"}'
      local HEADERS = { "Content-Type: application/x-amz-json-1.0", "X-Amz-Target: " .. TARGET, "Host: " .. HOST }

      -- The echoed request's headers by lower-case name.
      local function seen(body)
        local raw, out = cjson.decode(body).headers, {}
        for i = 1, #raw, 2 do out[raw[i]:lower()] = raw[i + 1] end
        return out
      end

      -- Epoch seconds of YYYYMMDDTHHMMSSZ (days from the civil date).
      local function epoch(stamp)
        local y, m, d, H, M, S = stamp:match("^(%d%d%d%d)(%d%d)(%d%d)T(%d%d)(%d%d)(%d%d)Z$")
        y, m, d = tonumber(y), tonumber(m), tonumber(d)
        if m <= 2 then y = y - 1 end
        local era = y // 400
        local yoe = y - era * 400
        local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
        local days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
        return days * 86400 + tonumber(H) * 3600 + tonumber(M) * 60 + tonumber(S)
      end

      for _, token in ipairs { false, "the-session-token" } do
        it("sends the lines sign_post makes" .. (token and ", with a session token" or ""), function()
          local signer = core.signer()
          local status, head, body = c:post_signed(signer, HOST, TARGET, BODY, "AKID", "secret", token or nil,
            "eu-west-1", "dynamodb", url, HEADERS, 5)
          assert.equal(200, status, head)
          local got = seen(body)
          assert.equal(BODY, cjson.decode(body).body)
          local date = got["x-amz-date"]
          local authorization = core.signer():sign_post(HOST, TARGET, BODY, "AKID", "secret", token or nil,
            "eu-west-1", "dynamodb", epoch(date))
          assert.equal(authorization, "Authorization: " .. got.authorization)
          assert.equal(token or nil, got["x-amz-security-token"])
          assert.equal(TARGET, got["x-amz-target"])
          assert.equal(HOST, got.host)
          assert.is_nil(got.expect)
        end)
      end

      it("names the argument it cannot use", function()
        local signer = core.signer()
        local function call(i, v)
          local args = { signer, HOST, TARGET, BODY, "AKID", "secret", nil, "eu-west-1", "dynamodb", url, HEADERS, 5 }
          args[i] = v
          return select(2, pcall(c.post_signed, c, table.unpack(args, 1, 12)))
        end
        assert.matches("bad argument 'signer' to 'post_signed' %(dynamo.signer expected, got table%)", call(1, {}))
        assert.matches("bad argument 'host' to 'post_signed' %(string expected, got nil%)", call(2, nil))
        assert.matches("bad argument 'body' to 'post_signed' %(string expected, got number%)", call(4, 1))
        assert.matches("bad argument 'url' to 'post_signed' %(string expected, got boolean%)", call(10, false))
        assert.matches("bad argument 'headers' to 'post_signed' %(table expected, got string%)", call(11, "x"))
        assert.matches("bad argument 'headers%[1%]' to 'post_signed' %(header contains CR, LF or a zero byte%)",
          call(11, { "X: a\r\nY: b" }))
        assert.matches("bad argument 'timeout' to 'post_signed' %(positive number expected, got %-1%)", call(12, -1))
      end)

      -- Without a proxy, post_signed writes HTTP/1.1 itself on a connection
      -- libcurl opened (src/http_raw.c): the framing cases, from the echo
      -- server and from raw answers it sends as told.
      local function post(extra, client)
        local headers = { table.unpack(HEADERS) }
        for _, h in ipairs(extra or {}) do headers[#headers + 1] = h end
        return (client or c):post_signed(core.signer(), HOST, TARGET, BODY, "AKID", "secret", nil,
          "eu-west-1", "dynamodb", url, headers, 5)
      end

      local function b64(s)
        local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        return ((s:gsub(".", function(ch)
          local bits, b = "", ch:byte()
          for i = 8, 1, -1 do bits = bits .. ((b >> (i - 1)) & 1) end
          return bits
        end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(bits)
          if #bits < 6 then return "" end
          local n = tonumber(bits, 2)
          return chars:sub(n + 1, n + 1)
        end) .. ({ "", "==", "=" })[#s % 3 + 1])
      end

      local function raw(answer)
        return post { "X-Echo-Raw: " .. b64(answer) }
      end

      it("reads a chunked answer", function()
        local status, head, body = post { "X-Echo-Chunked: 1" }
        assert.equal(200, status, head)
        assert.equal(BODY, cjson.decode(body).body)
        assert.equal(1, c:stats().connects)
      end)

      it("connects again after Connection: close", function()
        assert.equal(200, (post { "X-Echo-Close: 1" }))
        assert.equal(200, (post()))
        assert.same({ connects = 2, requests = 2 }, c:stats())
      end)

      it("sends again, once, on a new connection when the kept-alive one was closed", function()
        assert.equal(200, (post { "X-Echo-Drop: 1" }))
        local status, head = post()
        assert.equal(200, status, head)
        assert.same({ connects = 2, requests = 2 }, c:stats())
      end)

      it("skips an interim 100 Continue", function()
        local status, _, body = raw("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        assert.equal(200, status)
        assert.equal("{}", body)
      end)

      it("reads a body that ends with the connection, and its checksum", function()
        local status, head, body = raw("HTTP/1.1 200 OK\r\nx-amz-crc32: " .. core.crc32("hello")
          .. "\r\nConnection: close\r\n\r\nhello")
        assert.equal(200, status, head)
        assert.equal("hello", body)
        local ok, kind = raw("HTTP/1.1 200 OK\r\nx-amz-crc32: 1\r\n\r\nhello")
        assert.is_nil(ok)
        assert.equal("crc32", kind)
      end)

      it("reads chunk extensions and trailers", function()
        local status, _, body = raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          .. "3;name=value\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n")
        assert.equal(200, status)
        assert.equal("abc0123456789", body)
      end)

      it("returns every header line of an error answer", function()
        local status, head = raw("HTTP/1.1 500 Oops\r\nx-amzn-RequestId: r1\r\nX-Other:  v \r\n"
          .. "Content-Length: 0\r\n\r\n")
        assert.equal(500, status)
        local h = core.http_headers(head)
        assert.equal("r1", h["x-amzn-requestid"])
        assert.equal("v", h["x-other"])
      end)

      for _, case in ipairs {
        { "HTTP/2 200\r\n\r\n", "not an HTTP/1.x status line" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "closed before the response was complete" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "conflicting Content-Length" },
        { "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "bad Content-Length" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "chunk without CRLF" },
        { "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", "folded header line" },
        { "", "closed the connection without answering" }, -- (a first connection: no second try)
      } do
        it("refuses an answer with " .. case[2] .. " as an io error", function()
          local ok, kind, msg = raw(case[1])
          assert.is_nil(ok)
          assert.equal("io", kind)
          assert.truthy(msg:find(case[2], 1, true), msg)
        end)
      end

      it("leaves a proxy to libcurl's own transfer", function()
        local proxied = core.http { proxy = url }
        local status, head, body = proxied:post_signed(core.signer(), "proxied.invalid", TARGET, BODY, "AKID",
          "secret", nil, "eu-west-1", "dynamodb", "http://proxied.invalid/p", HEADERS)
        assert.equal(200, status, head)
        assert.equal("http://proxied.invalid/p", cjson.decode(body).url)
      end)

      it("answers closed once the client is closed", function()
        c:close()
        local ok, kind = c:post_signed(core.signer(), HOST, TARGET, BODY, "AKID", "secret", nil, "eu-west-1",
          "dynamodb", url, HEADERS)
        assert.is_nil(ok)
        assert.equal("closed", kind)
      end)
    end)

    -- The client reads the proxy variables once, when it is made (libcurl
    -- would read them at every request); the echo server, as the proxy,
    -- shows the absolute URL a proxy is asked for.
    describe("proxies named by the environment", function()
      local run_isolated = require "support.isolated"
      local REQUEST = [[
        local core = require "dynamo.core"
        local c = core.http()
        local status, head, body = c:request("GET", %q, nil)
        print(status, head, body)
      ]]

      it("go through the proxy that http_proxy names", function()
        local out = run_isolated({ http_proxy = url }, REQUEST:format("http://proxied.invalid/p"))
        assert.truthy(out:find("^200"), out)
        assert.truthy(out:find('"url":"http://proxied.invalid/p"', 1, true), out)
      end)

      it("go through the proxy that all_proxy names", function()
        local out = run_isolated({ all_proxy = url }, REQUEST:format("http://proxied.invalid/q"))
        assert.truthy(out:find('"url":"http://proxied.invalid/q"', 1, true), out)
      end)

      it("go direct to a host no_proxy names", function()
        local dead = "http://127.0.0.1:" .. free_port() .. "/"
        local direct = url:gsub("/$", "") .. "/direct"
        local out = run_isolated({ http_proxy = dead, no_proxy = "127.0.0.1" }, REQUEST:format(direct))
        assert.truthy(out:find("^200"), out)
        assert.truthy(out:find('"url":"/direct"', 1, true), out)
        -- and without no_proxy the dead proxy is tried, and fails
        out = run_isolated({ http_proxy = dead }, REQUEST:format(direct))
        assert.truthy(out:find("^nil\tconnect"), out)
      end)

      it("go direct with none, and when proxy = \"\" overrides them", function()
        local out = run_isolated({}, REQUEST:format(url:gsub("/$", "") .. "/plain"))
        assert.truthy(out:find('"url":"/plain"', 1, true), out)
        out = run_isolated({ http_proxy = "http://127.0.0.1:" .. free_port() .. "/" },
          REQUEST:gsub("core.http%(%)", 'core.http { proxy = "" }'):format(url:gsub("/$", "") .. "/none"))
        assert.truthy(out:find('"url":"/none"', 1, true), out)
      end)
    end)
  end)

  describe("options", function()
    it("accepts every option", function()
      local c = core.http {
        connect_timeout = 0.5, timeout = 2, verify = false, cafile = "/nonexistent.pem",
        capath = "/nonexistent", proxy = "", tcp_keepalive = false, user_agent = "x",
      }
      local status, err = c:request("POST", servers().dynalite .. "/", LIST_TABLES, "{}")
      assert.equal(200, status, err)
    end)

    it("accepts math.huge as no practical limit", function()
      local c = core.http { timeout = math.huge, connect_timeout = math.huge }
      local status, err = c:request("POST", servers().dynalite .. "/", LIST_TABLES, "{}")
      assert.equal(200, status, err)
    end)

    it("a missing CA file makes HTTPS fail with tls, not a raise", function()
      local c = core.http { cafile = "/nonexistent/ca.pem" }
      local url = servers()["DynamoDB Local"]:gsub("^http:", "https:") .. "/"
      local ok, kind = c:request("POST", url, LIST_TABLES, "{}")
      assert.is_nil(ok)
      assert.equal("tls", kind)
    end)

    it("garbage-collects open and closed clients", function()
      for i = 1, 20 do
        local c = core.http()
        if i % 2 == 0 then c:close() end
      end
      collectgarbage()
      collectgarbage()
    end)
  end)

  describe("finalizers that use the client mid-request", function()
    -- A finalizer may run during any allocation, including while a response
    -- is being handed to Lua; the request must then fail cleanly, never read
    -- buffers the nested call replaced (the ASan run checks that).
    local function stress(on_gc)
      local url = servers().dynalite .. "/"
      local c = core.http()
      local mt = { __gc = function() on_gc(c, url) end }
      local results = {}
      collectgarbage("incremental", 0, 100) -- collect all the time
      local ok, err = pcall(function()
        for _ = 1, 100 do
          for _ = 1, 10 do setmetatable({}, mt) end
          local status, head, body = c:request("POST", url, LIST_TABLES, "{}")
          if status then
            assert.equal(200, status)
            assert.equal(tostring(core.crc32(body)), core.http_headers(head)["x-amz-crc32"])
            results.ok = (results.ok or 0) + 1
          else
            results[head] = (results[head] or 0) + 1
          end
        end
      end)
      collectgarbage("incremental", 200, 100)
      collectgarbage()
      assert(ok, err)
      return results, c, url
    end

    it("a nested request: success, or an io error value", function()
      local results = stress(function(c, url) c:request("POST", url, LIST_TABLES, "{}") end)
      for kind in pairs(results) do assert.truthy(kind == "ok" or kind == "io", kind) end
      assert.truthy(results.ok)
    end)

    it("close: success until closed, then closed", function()
      local results, c, url = stress(function(c) c:close() end)
      for kind in pairs(results) do assert.truthy(kind == "ok" or kind == "closed", kind) end
      -- Whenever the finalizers ran (timing varies), the full collection
      -- that ends the stress has run them: the client is closed now.
      local status, kind = c:request("POST", url, LIST_TABLES, "{}")
      assert.is_nil(status)
      assert.are.equal("closed", kind)
    end)
  end)

  describe("bad arguments raise", function()
    local cases = {
      { "opts", function() core.http("fast") end,
        "bad argument 'opts' to 'http' (table expected, got string)" },
      { "unknown option", function() core.http { timout = 1 } end,
        "bad argument 'opts' to 'http' (unknown option 'timout')" },
      { "option name", function() core.http { 1 } end,
        "bad argument 'opts' to 'http' (option names must be strings, got number)" },
      { "timeout type", function() core.http { timeout = "1" } end,
        "bad argument 'timeout' to 'http' (positive number expected, got string)" },
      { "timeout zero", function() core.http { timeout = 0 } end,
        "bad argument 'timeout' to 'http' (positive number expected, got 0)" },
      { "timeout NaN", function() core.http { timeout = 0 / 0 } end,
        "bad argument 'timeout' to 'http' (positive number expected, got " .. tostring(0 / 0) .. ")" },
      { "connect_timeout type", function() core.http { connect_timeout = true } end,
        "bad argument 'connect_timeout' to 'http' (positive number expected, got boolean)" },
      { "connect_timeout negative", function() core.http { connect_timeout = -1 } end,
        "bad argument 'connect_timeout' to 'http' (positive number expected, got -1)" },
      { "verify", function() core.http { verify = "yes" } end,
        "bad argument 'verify' to 'http' (boolean expected, got string)" },
      { "tcp_keepalive", function() core.http { tcp_keepalive = 1 } end,
        "bad argument 'tcp_keepalive' to 'http' (boolean expected, got number)" },
      { "cafile", function() core.http { cafile = true } end,
        "bad argument 'cafile' to 'http' (string expected, got boolean)" },
      { "cafile zero byte", function() core.http { cafile = "a\0b" } end,
        "bad argument 'cafile' to 'http' (string contains a zero byte)" },
      { "capath", function() core.http { capath = {} } end,
        "bad argument 'capath' to 'http' (string expected, got table)" },
      { "proxy", function() core.http { proxy = 8080 } end,
        "bad argument 'proxy' to 'http' (string expected, got number)" },
      { "user_agent", function() core.http { user_agent = false } end,
        "bad argument 'user_agent' to 'http' (string expected, got boolean)" },
      { "self", function() core.http().request({}, "GET", "http://x/") end,
        "bad argument 'self' to 'request' (dynamo.http expected, got table)" },
      { "method type", function() core.http():request(nil, "http://x/") end,
        "bad argument 'method' to 'request' (string expected, got nil)" },
      { "method token", function() core.http():request("GET /evil HTTP/1.1\r\n", "http://x/") end,
        "bad argument 'method' to 'request' (HTTP method token expected)" },
      { "url type", function() core.http():request("GET", 42) end,
        "bad argument 'url' to 'request' (string expected, got number)" },
      { "url zero byte", function() core.http():request("GET", "http://x/\0y") end,
        "bad argument 'url' to 'request' (string contains a zero byte)" },
      { "headers type", function() core.http():request("GET", "http://x/", "Accept: */*") end,
        "bad argument 'headers' to 'request' (table expected, got string)" },
      { "headers entry", function() core.http():request("GET", "http://x/", { "A: b", 5 }) end,
        "bad argument 'headers[2]' to 'request' (string expected, got number)" },
      { "header injection", function() core.http():request("GET", "http://x/", { "A: b\r\nX-Evil: 1" }) end,
        "bad argument 'headers[1]' to 'request' (header contains CR, LF or a zero byte)" },
      { "body", function() core.http():request("POST", "http://x/", nil, { "{}" }) end,
        "bad argument 'body' to 'request' (string expected, got table)" },
      { "stats self", function() core.http().stats(1) end,
        "bad argument 'self' to 'stats' (dynamo.http expected, got number)" },
    }
    for _, case in ipairs(cases) do
      it(case[1], function()
        assert.has_error(case[2], case[3])
      end)
    end

    it("raise even on a closed client", function()
      local c = core.http()
      c:close()
      assert.has_error(function() c:request("GET", nil) end,
        "bad argument 'url' to 'request' (string expected, got nil)")
    end)
  end)
end)
