-- AWS Signature Version 4: the two official AWS test suites, byte for byte,
-- plus the DynamoDB fast path (signer:sign_post), the key cache and the
-- argument errors.
local core = require "dynamo.core"
local compat = require "dynamo.compat"   -- this spec runs under LuaJIT too
local unpack = compat.unpack

local SUITES = os.getenv("DYNAMO_SIGV4_SUITES") or "../shared/conformance/sigv4"

-- Fixed inputs of both suites (conformance/sigv4/README.md).
local AK = "AKIDEXAMPLE"
local SK = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
local DATE = "20150830T123600Z"
local REGION, SERVICE = "us-east-1", "service"
local TOKENS = {
  ["get-vanilla-with-session-token"] =
    "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
  ["post-sts-header-before"] = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
}
TOKENS["post-sts-header-after"] = TOKENS["post-sts-header-before"]

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Sorted output lines of a shell command (find); fails loudly on error.
local function lines_of(cmd)
  local p = assert(io.popen(cmd))
  local out = {}
  for line in p:lines() do out[#out + 1] = line end
  assert(p:close(), "command failed: " .. cmd)
  table.sort(out)
  return out
end

-- A raw HTTP request as the suites write it: request line, headers (a line
-- starting with white space continues the previous value), blank line, body.
local function parse_request(raw)
  local head, body = raw:match("^(.-)\n\n(.*)$")
  if not head then head, body = (raw:gsub("\n$", "")), "" end
  local lines = {}
  for line in (head .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = (line:gsub("\r$", "")) end
  local method, target = lines[1]:match("^(%S+) (.*) HTTP/%d%.%d$")
  assert(method, "bad request line: " .. lines[1])
  local path, query = target:match("^([^?]*)%??(.*)$")
  local headers = {}
  for i = 2, #lines do
    local line = lines[i]
    if line:match("^[ \t]") then
      headers[#headers][2] = headers[#headers][2] .. "\n" .. line
    else
      local name, value = line:match("^([^:]+):(.*)$")
      assert(name, "bad header line: " .. line)
      headers[#headers + 1] = { name, value }
    end
  end
  return { method = method, path = path, query = query, headers = headers, body = body }
end

-- Value of a header in a signed request, case-insensitive name.
local function header_in(raw, name)
  for line in (raw .. "\n"):gmatch("(.-)\n") do
    local n, v = line:match("^([^:]+):%s*(.*)$")
    if n and n:lower() == name:lower() then return v end
  end
end

-- Just enough JSON for context.json: flat string / boolean / integer fields.
local function json_field(s, key)
  local v = s:match('"' .. key .. '"%s*:%s*"([^"]*)"')
  if v then return v end
  v = s:match('"' .. key .. '"%s*:%s*(%a+)')
  if v == "true" then return true elseif v == "false" then return false end
  v = s:match('"' .. key .. '"%s*:%s*(%-?%d+)')
  return v and compat.tointeger(tonumber(v))
end

-- "2015-08-30T12:36:00Z" -> epoch seconds, without os.time (local time).
local function epoch(iso)
  local y, m, d, H, M, S = iso:match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)Z$")
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m <= 2 then y = y - 1 end
  local floor = math.floor     -- not //: this spec runs under LuaJIT too
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * (m + (m > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(H) * 3600 + tonumber(M) * 60 + tonumber(S)
end

-- Every header the signer asks the caller to add is in the signed request.
local function assert_added_headers(result, signed_request)
  for _, h in ipairs(result.headers) do
    assert.are.equal(header_in(signed_request, h[1]), h[2], h[1])
  end
end

describe("sigv4 aws4_testsuite", function()
  local dir = SUITES .. "/aws4_testsuite"
  local reqs = lines_of("find '" .. dir .. "' -name '*.req' 2>/dev/null")

  it("has all 34 cases", function()
    assert.are.equal(34, #reqs)
  end)

  local signer = core.signer()
  for _, req_path in ipairs(reqs) do
    local base = req_path:gsub("%.req$", "")
    local name = base:match("([^/]+)$")
    local rel = base:sub(#dir + 2):gsub("/[^/]+$", "")
    it(rel, function()
      local req = parse_request(read(req_path))
      local r = signer:sign {
        method = req.method, path = req.path, query = req.query,
        headers = req.headers, body = req.body,
        access_key = AK, secret_key = SK, session_token = TOKENS[name],
        omit_session_token = name == "post-sts-header-after",
        region = REGION, service = SERVICE, time = DATE,
      }
      assert.are.equal(read(base .. ".creq"), r.canonical_request)
      assert.are.equal(read(base .. ".sts"), r.string_to_sign)
      assert.are.equal(read(base .. ".authz"), r.authorization)
      assert_added_headers(r, read(base .. ".sreq"))
    end)
  end
end)

describe("sigv4 aws-signing-test-suite-v4", function()
  local dir = SUITES .. "/aws-signing-test-suite-v4"
  local contexts = lines_of("find '" .. dir .. "' -name context.json 2>/dev/null")

  it("has all 38 cases", function()
    assert.are.equal(38, #contexts)
  end)

  local signer = core.signer()
  local function load(ctx_path)
    local case = ctx_path:gsub("/context%.json$", "")
    local ctx = read(ctx_path)
    local req = parse_request(read(case .. "/request.txt"))
    return case, {
      method = req.method, path = req.path, query = req.query,
      headers = req.headers, body = req.body,
      access_key = json_field(ctx, "access_key_id"),
      secret_key = json_field(ctx, "secret_access_key"),
      session_token = json_field(ctx, "token"),
      omit_session_token = json_field(ctx, "omit_session_token") or false,
      normalize = json_field(ctx, "normalize"),
      sign_body = json_field(ctx, "sign_body"),
      expires = json_field(ctx, "expiration_in_seconds"),
      region = json_field(ctx, "region"), service = json_field(ctx, "service"),
      time = epoch(json_field(ctx, "timestamp")),
    }
  end

  for _, ctx_path in ipairs(contexts) do
    local name = ctx_path:match("([^/]+)/context%.json$")

    it(name .. " (header)", function()
      local case, req = load(ctx_path)
      local r = signer:sign(req)
      local signed = read(case .. "/header-signed-request.txt")
      assert.are.equal(read(case .. "/header-canonical-request.txt"), r.canonical_request)
      assert.are.equal(read(case .. "/header-string-to-sign.txt"), r.string_to_sign)
      assert.are.equal(read(case .. "/header-signature.txt"), r.signature)
      assert.are.equal(header_in(signed, "Authorization"), r.authorization)
      assert_added_headers(r, signed)
    end)

    it(name .. " (query)", function()
      local case, req = load(ctx_path)
      req.presign = true
      local r = signer:sign(req)
      local creq = read(case .. "/query-canonical-request.txt")
      local sig = read(case .. "/query-signature.txt")
      assert.are.equal(creq, r.canonical_request)
      assert.are.equal(read(case .. "/query-string-to-sign.txt"), r.string_to_sign)
      assert.are.equal(sig, r.signature)
      -- the final query: the canonical one, then the signature, then an
      -- unsigned token last
      local want = creq:match("^[^\n]*\n[^\n]*\n([^\n]*)") .. "&X-Amz-Signature=" .. sig
      if req.omit_session_token and req.session_token then
        want = want .. "&X-Amz-Security-Token=" .. read(case .. "/query-signed-request.txt")
          :match("X%-Amz%-Security%-Token=([^& ]*)")
      end
      assert.are.equal(want, r.query)
      assert.are.same({}, r.headers)
    end)
  end
end)

describe("sigv4 canonical forms", function()
  local signer = core.signer()
  local function creq(fields)
    local req = {
      method = "GET", headers = { { "Host", "example.com" } },
      access_key = AK, secret_key = SK, region = REGION, service = SERVICE, time = DATE,
    }
    for k, v in pairs(fields) do req[k] = v end
    local lines = {}
    for line in (signer:sign(req).canonical_request .. "\n"):gmatch("(.-)\n") do
      lines[#lines + 1] = line
    end
    return lines
  end

  local paths = {
    { "/a/b/../c/./d", true, "/a/c/d" },
    { "/a/b/..", true, "/a/" },
    { "/..", true, "/" },
    { "", true, "/" },
    { "a/b", true, "/a/b" },
    { "/a%20b", true, "/a%2520b" },   -- non-S3 services encode twice
    { "/a%20b", false, "/a%20b" },    -- S3 keeps the escape
    { "/a b//c/", false, "/a%20b//c/" },
    { "/$&'()*+,;=:@!", true, "/%24%26%27%28%29%2A%2B%2C%3B%3D%3A%40%21" },
  }
  for _, c in ipairs(paths) do
    it(("path %q normalize=%s"):format(c[1], tostring(c[2])), function()
      assert.are.equal(c[3], creq({ path = c[1], normalize = c[2] })[2])
    end)
  end

  local queries = {
    { "b=2&a=1&a", "a=&a=1&b=2" },
    { "&&a=1&", "a=1" },
    { "x=%7e&y=%7E", "x=~&y=~" },
    { "k=a%2fb", "k=a%2Fb" },
    { "k=%zz&p=50%", "k=%25zz&p=50%25" },
    { "a=1=2", "a=1%3D2" },
    { "a=b c+d", "a=b%20c%2Bd" },          -- '+' is a literal plus, not a space
    { "a-b=1&a=2", "a=2&a-b=1" },           -- by name, then value
  }
  for _, c in ipairs(queries) do
    it(("query %q"):format(c[1]), function()
      assert.are.equal(c[2], creq({ query = c[1] })[3])
    end)
  end

  it("trims and folds header values, lower-cases names, skips Authorization", function()
    local lines = creq({ headers = {
      { "Host", "example.com" }, { "X-Pad", " \t a \t\t b \r\n  c  " },
      { "Authorization", "old" },
    } })
    assert.are.equal("x-pad:a b c", lines[6])
    assert.are.equal("host;x-amz-date;x-pad", lines[8])
  end)

  it("accepts a number as a header value", function()
    assert.are.equal("content-length:13", creq({ headers = {
      { "Host", "example.com" }, { "Content-Length", 13 } } })[4])
  end)

  it("formats epoch times in UTC", function()
    local function date(t)
      return signer:sign {
        method = "GET", headers = { { "Host", "h" } }, access_key = AK, secret_key = SK,
        region = REGION, service = SERVICE, time = t,
      }.headers[1][2]
    end
    assert.are.equal("19700101T000000Z", date(0))
    assert.are.equal("20000229T235959Z", date(951868799))
    assert.are.equal("20150830T123600Z", date(1440938160))
    assert.are.equal("20150830T123600Z", date(1440938160.0))
  end)

  it("takes the time from an x-amz-date header when time is nil", function()
    local r = signer:sign {
      method = "GET", headers = { { "Host", "h" }, { "X-Amz-Date", DATE } },
      access_key = AK, secret_key = SK, region = REGION, service = SERVICE,
    }
    assert.are.same({}, r.headers)
    assert.truthy(r.authorization:find("/20150830/", 1, true))
  end)

  it("uses payload_hash instead of hashing the body, and signs it with sign_body", function()
    local r = signer:sign {
      method = "PUT", path = "/k", headers = { { "Host", "h" } }, body = "ignored",
      payload_hash = "UNSIGNED-PAYLOAD", sign_body = true, normalize = false,
      access_key = AK, secret_key = SK, region = REGION, service = "s3", time = DATE,
    }
    assert.truthy(r.canonical_request:find("\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n", 1, true))
    assert.are.equal("UNSIGNED-PAYLOAD", r.canonical_request:match("([^\n]*)$"))
    assert.are.same({ { "X-Amz-Date", DATE }, { "X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD" } },
      r.headers)
  end)
end)

describe("sigv4 helpers", function()
  it("sha256_hex", function()
    assert.are.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      core.sha256_hex(""))
    assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      core.sha256_hex("abc"))
  end)

  it("hmac_sha256 (RFC 4231 case 2)", function()
    local mac = core.hmac_sha256("Jefe", "what do ya want for nothing?")
    assert.are.equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      (mac:gsub(".", function(c) return ("%02x"):format(c:byte()) end)))
  end)

  it("the signature is HMAC(kSigning, string_to_sign) with the documented key chain", function()
    local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
    -- AWS documentation example: date 20120215, region us-east-1, service iam
    local k = core.hmac_sha256("AWS4" .. SK, "20120215")
    k = core.hmac_sha256(k, "us-east-1")
    k = core.hmac_sha256(k, "iam")
    k = core.hmac_sha256(k, "aws4_request")
    assert.are.equal("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d", hex(k))
    local r = core.signer():sign {
      method = "GET", headers = { { "Host", "iam.amazonaws.com" } },
      access_key = AK, secret_key = SK, region = "us-east-1", service = "iam",
      time = "20120215T000000Z",
    }
    assert.are.equal(hex(core.hmac_sha256(k, r.string_to_sign)), r.signature)
  end)

  -- The signer hashes through src/sha256.c; the helpers above are OpenSSL's
  -- EVP one-shots, an independent reference. "AWS4" + a secret longer than
  -- 60 bytes is a key longer than SHA-256's block, which HMAC hashes first.
  for _, secret in ipairs { "", "s", SK, string.rep("x", 60), string.rep("y", 61), string.rep("z", 300) } do
    it("signs with a secret of " .. #secret .. " bytes as the reference HMAC chain does", function()
      local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
      local k = core.hmac_sha256("AWS4" .. secret, "20120215")
      k = core.hmac_sha256(k, "us-east-1")
      k = core.hmac_sha256(k, "iam")
      k = core.hmac_sha256(k, "aws4_request")
      local r = core.signer():sign {
        method = "POST", headers = { { "Host", "iam.amazonaws.com" } }, body = string.rep("b", 1000),
        access_key = AK, secret_key = secret, region = "us-east-1", service = "iam",
        time = "20120215T000000Z",
      }
      assert.are.equal(core.sha256_hex(r.canonical_request), r.string_to_sign:match("(%x+)$"))
      assert.are.equal(hex(core.hmac_sha256(k, r.string_to_sign)), r.signature)
    end)
  end
end)

describe("signer:sign_post", function()
  local HOST = "dynamodb.us-west-2.amazonaws.com"
  local TARGET = "DynamoDB_20120810.GetItem"
  local BODY = '{"TableName":"t","Key":{"pk":{"S":"a"}}}'
  local T = 1700000000

  local function generic(signer, token, secret, region, time)
    return signer:sign {
      method = "POST", path = "/",
      headers = {
        { "Content-Type", "application/x-amz-json-1.0" },
        { "Host", HOST },
        { "X-Amz-Target", TARGET },
      },
      body = BODY, access_key = AK, secret_key = secret or SK, session_token = token,
      region = region or "us-west-2", service = "dynamodb", time = time or T,
    }
  end

  it("matches signer:sign for the same request, without and with a token", function()
    local s = core.signer()
    for _, token in ipairs({ false, "FQoGZXIvYXdzEXAMPLE//token+/=" }) do
      token = token or nil
      local authz, date = s:sign_post(HOST, TARGET, BODY, AK, SK, token, "us-west-2",
        "dynamodb", T)
      local r = generic(s, token)
      assert.are.equal("Authorization: " .. r.authorization, authz)
      assert.are.equal("X-Amz-Date: 20231114T221320Z", date)
      assert.are.equal("X-Amz-Date: " .. r.headers[1][2], date)
      if token then
        assert.truthy(authz:find("x-amz-security-token", 1, true))
        assert.are.same({ "X-Amz-Security-Token", token }, r.headers[2])
      end
    end
  end)

  it("signs at the current time when time is nil", function()
    local s = core.signer()
    local before = os.date("!%Y%m%dT%H%M%SZ")
    local _, date = s:sign_post(HOST, TARGET, BODY, AK, SK, nil, "us-west-2", "dynamodb")
    local after = os.date("!%Y%m%dT%H%M%SZ")
    date = date:match("^X%-Amz%-Date: (%d+T%d+Z)$")
    assert.truthy(date and date >= before and date <= after, date)
  end)

  it("treats an empty session token as none", function()
    local s = core.signer()
    assert.are.equal(s:sign_post(HOST, TARGET, BODY, AK, SK, nil, "us-west-2", "dynamodb", T),
      s:sign_post(HOST, TARGET, BODY, AK, SK, "", "us-west-2", "dynamodb", T))
  end)

  it("caches keys per secret, date, region and service", function()
    local s = core.signer()
    local function post(secret, region, time)
      return (s:sign_post(HOST, TARGET, BODY, AK, secret, nil, region, "dynamodb", time))
    end
    local function fresh(secret, region, time)
      return (core.signer():sign_post(HOST, TARGET, BODY, AK, secret, nil, region,
        "dynamodb", time))
    end
    local a = post(SK, "us-west-2", T)
    local b = post(SK .. "x", "us-west-2", T)
    assert.are_not.equal(a, b)
    assert.are.equal(a, post(SK, "us-west-2", T))
    assert.are.equal(b, fresh(SK .. "x", "us-west-2", T))
    -- a new day needs a new key
    local next_day = post(SK, "us-west-2", T + 86400)
    assert.are.equal(fresh(SK, "us-west-2", T + 86400), next_day)
    -- more combinations than the cache holds, then the first again
    for i = 1, 6 do
      local region = "region-" .. i
      assert.are.equal(fresh(SK, region, T), post(SK, region, T))
    end
    assert.are.equal(a, post(SK, "us-west-2", T))
    assert.are.equal(b, post(SK .. "x", "us-west-2", T))
    -- same inputs, same output, whatever the signer has seen
    assert.are.equal("Authorization: " .. generic(s).authorization, a)
    -- a secret too long to be interned: equal strings that are different objects
    local long = string.rep("k", 60)
    local copy = string.rep("k", 30) .. string.rep("k", 30)
    assert.are.equal(fresh(long, "us-west-2", T), post(long, "us-west-2", T))
    assert.are.equal(fresh(long, "us-west-2", T), post(copy, "us-west-2", T))
    assert.are.equal(a, post(SK, "us-west-2", T))
  end)

  it("does not reveal secrets through tostring", function()
    local s = core.signer()
    s:sign_post(HOST, TARGET, BODY, AK, SK, "tok", "us-west-2", "dynamodb", T)
    local str = tostring(s)
    assert.truthy(str:match("^dynamo%.signer: "))
    assert.falsy(str:find(SK, 1, true))
  end)

  describe("bad arguments", function()
    local s = core.signer()
    local good = { HOST, TARGET, BODY, AK, SK, nil, "us-west-2", "dynamodb", T }
    local function with(i, v)
      local args = {}
      for i = 1, 9 do args[i] = good[i] end
      args[i] = v
      return function() s:sign_post(unpack(args, 1, 9)) end
    end
    local cases = {
      { 1, nil, "bad argument 'host' to 'sign_post' (string expected, got nil)" },
      { 2, 42, "bad argument 'target' to 'sign_post' (string expected, got number)" },
      { 3, {}, "bad argument 'body' to 'sign_post' (string expected, got table)" },
      { 4, nil, "bad argument 'access_key' to 'sign_post' (string expected, got nil)" },
      { 5, false, "bad argument 'secret_key' to 'sign_post' (string expected, got boolean)" },
      { 6, 1, "bad argument 'session_token' to 'sign_post' (string expected, got number)" },
      { 7, nil, "bad argument 'region' to 'sign_post' (string expected, got nil)" },
      { 8, nil, "bad argument 'service' to 'sign_post' (string expected, got nil)" },
      { 9, DATE, "bad argument 'time' to 'sign_post' (integer expected, got string)" },
      { 9, 1.5, "bad argument 'time' to 'sign_post' (number has no integer representation)" },
      { 9, 1e15, "bad argument 'time' to 'sign_post' (out of range)" },
    }
    for _, c in ipairs(cases) do
      it(c[3], function()
        assert.has_error(with(c[1], c[2]), c[3])
      end)
    end

    it("self", function()
      assert.has_error(function() s.sign_post({}, unpack(good, 1, 9)) end,
        "bad argument 'self' to 'sign_post' (dynamo.signer expected, got table)")
    end)
  end)
end)

describe("signer:sign bad arguments", function()
  local s = core.signer()
  local function req(fields)
    local r = {
      method = "GET", path = "/", headers = { { "Host", "h" } },
      access_key = AK, secret_key = SK, region = REGION, service = SERVICE, time = DATE,
    }
    for k, v in pairs(fields) do r[k] = v end
    return function() s:sign(r) end
  end
  local cases = {
    { req { method = false }, "bad argument 'method' to 'sign' (string expected, got boolean)" },
    { req { path = 1 }, "bad argument 'path' to 'sign' (string expected, got number)" },
    { req { query = {} }, "bad argument 'query' to 'sign' (string expected, got table)" },
    { req { headers = false }, "bad argument 'headers' to 'sign' (table expected, got boolean)" },
    { req { headers = { { "Host", "h" }, "x" } },
      "bad argument 'headers[2]' to 'sign' (table expected, got string)" },
    { req { headers = { { nil, "h" } } },
      "bad argument 'headers[1][1]' to 'sign' (string expected, got nil)" },
    { req { headers = { { "Host" } } },
      "bad argument 'headers[1][2]' to 'sign' (string expected, got nil)" },
    { req { headers = { { "X-Foo", "1" } } }, "bad argument 'headers' to 'sign' (no host header)" },
    { req { body = 5 }, "bad argument 'body' to 'sign' (string expected, got number)" },
    { req { payload_hash = true },
      "bad argument 'payload_hash' to 'sign' (string expected, got boolean)" },
    { req { access_key = false }, "bad argument 'access_key' to 'sign' (string expected, got boolean)" },
    { req { secret_key = false }, "bad argument 'secret_key' to 'sign' (string expected, got boolean)" },
    { req { session_token = 7 }, "bad argument 'session_token' to 'sign' (string expected, got number)" },
    { req { region = false }, "bad argument 'region' to 'sign' (string expected, got boolean)" },
    { req { service = false }, "bad argument 'service' to 'sign' (string expected, got boolean)" },
    { req { time = false }, "bad argument 'time' to 'sign' (integer or string expected, got boolean)" },
    { req { time = "2015-08-30T12:36:00Z" },
      "bad argument 'time' to 'sign' (string must be YYYYMMDDTHHMMSSZ)" },
    { req { time = 1440938161, headers = { { "Host", "h" }, { "X-Amz-Date", DATE } } },
      "bad argument 'time' to 'sign' (differs from the x-amz-date header)" },
    { req { time = false, headers = { { "Host", "h" }, { "X-Amz-Date", "yesterday" } } },
      "bad argument 'time' to 'sign' (integer or string expected, got boolean)" },
    { req { normalize = "yes" }, "bad argument 'normalize' to 'sign' (boolean expected, got string)" },
    { req { sign_body = 1 }, "bad argument 'sign_body' to 'sign' (boolean expected, got number)" },
    { req { presign = "no" }, "bad argument 'presign' to 'sign' (boolean expected, got string)" },
    { req { omit_session_token = 0 },
      "bad argument 'omit_session_token' to 'sign' (boolean expected, got number)" },
    { req { presign = true, expires = 0 },
      "bad argument 'expires' to 'sign' (must be between 1 and 604800)" },
    { req { presign = true, expires = 604801 },
      "bad argument 'expires' to 'sign' (must be between 1 and 604800)" },
    { req { presign = true, expires = "1" },
      "bad argument 'expires' to 'sign' (integer expected, got string)" },
  }
  for _, c in ipairs(cases) do
    it(c[2], function() assert.has_error(c[1], c[2]) end)
  end

  it("req", function()
    assert.has_error(function() s:sign(nil) end,
      "bad argument 'req' to 'sign' (table expected, got nil)")
  end)

  it("x-amz-date header without time", function()
    local r = {
      method = "GET", headers = { { "Host", "h" }, { "X-Amz-Date", "yesterday" } },
      access_key = AK, secret_key = SK, region = REGION, service = SERVICE,
    }
    assert.has_error(function() s:sign(r) end,
      "bad argument 'headers' to 'sign' (x-amz-date must be YYYYMMDDTHHMMSSZ)")
  end)
end)
