-- The workload .ci/valgrind runs under memcheck with the release build:
-- every path of dynamo.core that allocates, including the ones that raise
-- (a raised error must free or hand to the GC every buffer it leaves), then
-- a normal end, where lua5.4 closes the state and every finalizer runs.
-- Arguments: response bodies to decode (the decode fuzzer's seed corpus).
-- Prints one line per part; an unexpected result is an error (exit 1).
local core = require "dynamo.core"
local dynamo = require "dynamo"
local api = require "dynamo.operations"
local socket = require "socket"

local V = "V"
local ITEM = { ["{}"] = V }
local maps = { false, api.error_values, V }
for _, op in ipairs(api.operations) do
  if op.name == "GetItem" or op.name == "Query" or op.name == "BatchGetItem" then
    maps[#maps + 1] = op.output
  end
end
local exact, float = core.codec(), core.codec { numbers = "float" }

-- Decoding: every corpus file with every map in both modes; valid
-- responses, malformed JSON and bad AttributeValues alike.
local decoded, failed = 0, 0
for _, path in ipairs(arg) do
  local f = assert(io.open(path, "rb"))
  local body = f:read("a")
  f:close()
  for _, codec in ipairs { exact, float } do
    for _, map in ipairs(maps) do
      local v, err = codec:decode(body, map or nil)
      if v ~= nil then decoded = decoded + 1
      elseif type(err) == "string" then failed = failed + 1
      else error("decode of " .. path .. " gave neither a value nor a message") end
    end
  end
end
local bad = {
  '{"Item":{"a":{"S":"x"}', '{"Item":{"a":{"N":"1.2.3"}}}', '{"Item":{"a":{"B":"###"}}}',
  '{"Item":{"a":{"S":"x","N":"1"}}}', '{"Item":{"a":{"X":"1"}}}', '{"Item":{"a":{"SS":[1]}}}',
  '{"Item":{"a":{"L":[{"M":{"b":{"NS":["1","1e999"]}}}]}}}', '[' .. ("["):rep(2000),
  '"\\ud800"', '"\255"', '{"a":1,}', "",
}
for _, body in ipairs(bad) do
  for _, codec in ipairs { exact, float } do
    local v, err = codec:decode(body, { Item = ITEM })
    assert(v == nil and type(err) == "string", "bad input decoded: " .. body)
    failed = failed + 1
  end
end
print(("decode: %d values, %d error messages"):format(decoded, failed))

-- Encoding: values that work, and errors that raise mid-way through a
-- nested value (the scratch buffers belong to the codec; nothing leaks).
local item = {
  id = "u1", n = 42, f = 1.5, big = 2 ^ 70, t = true, none = core.null,
  bin = dynamo.binary("\0\1\2\255"), ss = dynamo.set { "a", "b" }, ns = dynamo.set { 1, 2.5 },
  bs = setmetatable({ "\0", "\1", binary = true }, core.set_mt),
  list = { 1, "two", { three = 3 } }, empty = dynamo.list(), m = dynamo.map(),
}
for _ = 1, 50 do
  local json = exact:encode({ TableName = "t", Item = item }, { Item = ITEM })
  assert(exact:decode(json, { Item = ITEM }))
end
local function deep(n) local t = "leaf"; for _ = 1, n do t = { t } end; return t end
local cycle = {}; cycle.self = { back = cycle }
local raising = {
  { "bad UTF-8", { a = { b = { "ok", "\255\254" } } } },
  { "deep nesting", { a = deep(100) } },
  { "a function", { a = { 1, 2, print } } },
  { "a cycle", { a = cycle } },
  { "NaN", { a = { 0 / 0 } } },
  { "a sparse list", { a = { [1] = 1, [3] = 3 } } },
  { "an empty set", { a = dynamo.set {} }, av_only = true },  -- plain JSON: []
}
local raised = 0
for _, case in ipairs(raising) do
  for _, map in ipairs { { Item = ITEM }, not case.av_only and "plain" } do
    if map then
      local ok, err = pcall(exact.encode, exact, { Item = case[2] }, map ~= "plain" and map or nil)
      assert(not ok and type(err) == "string", "encoding " .. case[1] .. " did not raise")
      raised = raised + 1
    end
  end
end
print(("encode: %d cases raised as they should"):format(raised))

-- Signing: header and query signatures, the POST fast path, and a raise.
local signer = core.signer()
for i = 1, 20 do
  local r = signer:sign {
    method = "GET", path = "/a/./b/../c", query = "x=1&y=%41&x=0",
    headers = { { "Host", "example.amazonaws.com" }, { "X-Amz-Meta", "  a   b  " } },
    body = "payload", access_key = "AKIDEXAMPLE", secret_key = "secret" .. (i % 6),
    session_token = i % 2 == 0 and "token" or nil, presign = i % 3 == 0,
    region = "us-east-1", service = "dynamodb", time = 1700000000 + i,
  }
  assert(r.signature and r.canonical_request)
  assert(signer:sign_post("dynamodb.us-east-1.amazonaws.com", "DynamoDB_20120810.GetItem",
    '{"TableName":"t"}', "AKID", "secret", nil, "us-east-1", "dynamodb", 1700000000 + i))
end
assert(not pcall(signer.sign, signer, { method = "GET", access_key = "AKID" }))
assert(#core.sha256_hex("abc") == 64 and #core.hmac_sha256("k", "m") == 32)
print("sign: 42 signatures, 1 raised")

-- A request to a loopback port nobody listens on: a free port, closed.
local s = assert(socket.bind("127.0.0.1", 0))
local _, port = s:getsockname()
s:close()
local db = dynamo.new { endpoint = "http://127.0.0.1:" .. port, connect_timeout = 2, timeout = 5,
  credentials = { access_key_id = "AKID", secret_access_key = "secret" } }
for _ = 1, 3 do
  local res, err = db:get_item { TableName = "users", Key = { id = "u1" } }
  assert(res == nil and err.code == "ConnectionError", "expected ConnectionError, got " .. tostring(err))
end
db:close()
local res, err = db:put_item { TableName = "users", Item = { id = "u1" } }
assert(res == nil and err.code == "ClientClosed", tostring(err))
print("http: refused connection as ConnectionError (x3), then ClientClosed")

-- Concurrent transfers (core.multi): refused ones through dynamo.gather,
-- a multi closed with transfers in flight, and transfers left to the GC.
-- With the test servers running, successful ones too.
local async = require "dynamo.async"
local failures = { async.gather(function() return select(2, db:get_item { TableName = "t", Key = { id = "a" } }) end,
  function() return select(2, dynamo.new { endpoint = "http://127.0.0.1:" .. port,
    credentials = { access_key_id = "AKID", secret_access_key = "secret" } }:list_tables {}) end) }
assert(#failures == 2 and failures[1].code == "ClientClosed" and failures[2].code == "ConnectionError")
local http, m = core.http {}, core.multi()
local inflight = {}
for i = 1, 3 do inflight[i] = assert(http:start(m, "POST", "http://127.0.0.1:" .. port, { "A: b" }, "{}")) end
m:close()
assert(inflight[1]:result() == nil)
for _ = 1, 3 do http:start(core.multi(), "GET", "http://127.0.0.1:" .. port) end
local env = io.open(os.getenv("DYNAMO_SERVERS_ENV") or ".cache/servers.env")
local ok_requests = 0
if env then
  local url = env:read("a"):match("DYNAMO_TEST_LOCAL=(%S+)")
  env:close()
  local live = url and dynamo.new { endpoint = url, credentials = { access_key_id = "AKID", secret_access_key = "s" } }
  if live and live:list_tables {} then
    local fns = {}
    for i = 1, 8 do fns[i] = function() return assert(live:list_tables {}) end end
    ok_requests = #{ async.gather(fns) }
  end
end
collectgarbage()
print(("multi: 2 failures through gather, 3 aborted by close, %d concurrent requests"):format(ok_requests))

-- Unreferenced clients, codecs and signers are left to the GC and to
-- lua_close at exit.
for _ = 1, 5 do core.codec(); core.signer(); dynamo.new { endpoint = "http://127.0.0.1:1" } end
collectgarbage()
print("valgrind workload done")
