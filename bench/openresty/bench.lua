-- bench/openresty/bench.lua: requests per second and worker CPU per
-- request of an nginx location doing one GetItem through dynamo, measured
-- with wrk. Run by bench/openresty/run (which builds and starts DynamoDB
-- Local); arguments: the DynamoDB Local endpoint.
-- BENCH_SECONDS (default 10), BENCH_CONNECTIONS (4), BENCH_THREADS (1).
local nginx = require "support.nginx"
local dynamo = require "dynamo"
local core = require "dynamo.core"

local endpoint = assert(arg[1], "usage: bench.lua <DynamoDB Local endpoint>")
local SECONDS = tonumber(os.getenv("BENCH_SECONDS") or "10")
local CONNECTIONS = tonumber(os.getenv("BENCH_CONNECTIONS") or "4")
local THREADS = tonumber(os.getenv("BENCH_THREADS") or "1")

local function read(path)
  local f = assert(io.open(path))
  local s = f:read("a")
  f:close()
  return s
end

-- The item, in DynamoDB Local and as the canned answer.
local ITEM = {
  pk = "bench-1", name = "a benchmark item", price = 1299, stock = 42, active = true,
  tags = dynamo.set { "red", "blue" }, note = "twenty-odd bytes of text",
}
local db = dynamo.new { endpoint = endpoint, region = "us-east-1",
  credentials = { access_key_id = "AKIDBENCH", secret_access_key = "bench-secret" } }
local res, err = db:create_table {
  TableName = "bench",
  AttributeDefinitions = { { AttributeName = "pk", AttributeType = "S" } },
  KeySchema = { { AttributeName = "pk", KeyType = "HASH" } },
  BillingMode = "PAY_PER_REQUEST",
}
if not res and err.code ~= "ResourceInUseException" then error(tostring(err)) end
assert(db:wait_for_table("bench"))
assert(db:put_item { table = "bench", item = ITEM })

local stored = db:get_item { table = "bench", key = { pk = "bench-1" } }
assert(stored and stored.Item, "the item was not stored")
-- The same item as the canned responder's answer, with its checksum.
local CANNED = '{"Item":{"active":{"BOOL":true},"name":{"S":"a benchmark item"},"note":{"S":"twenty-odd bytes of text"},'
  .. '"pk":{"S":"bench-1"},"price":{"N":"1299"},"stock":{"N":"42"},"tags":{"SS":["red","blue"]}}}'
local crc = core.crc32(CANNED)

local canned = nginx.start {
  conf = read("bench/openresty/canned.conf"),
  vars = { CRC32 = string.format("%d", crc), BODY = CANNED },
}
local srv = nginx.start {
  conf = read("bench/openresty/nginx.conf"),
  vars = { LUA_PATH = nginx.builtins("", 0).LUA_PATH:gsub("/spec/%?%.lua;", "/bench/?.lua;") },
  env = { BENCH_LOCAL_ENDPOINT = endpoint, BENCH_CANNED_ENDPOINT = canned.url },
}
local ok, failure = pcall(function()
  local worker = assert(srv:workers()[1], "no worker")
  local ticks = tonumber((io.popen("getconf CLK_TCK"):read("l")))

  local function cpu()
    local stat = read("/proc/" .. worker .. "/stat")
    local rest = stat:match("%) (.*)$")
    local f = {}
    for x in rest:gmatch("%S+") do f[#f + 1] = x end
    return (tonumber(f[12]) + tonumber(f[13])) / ticks   -- utime + stime, fields 14 and 15
  end

  local function wrk(path, seconds)
    local cmd = string.format("wrk -t%d -c%d -d%ds --latency %s%s 2>&1", THREADS, CONNECTIONS, seconds, srv.url, path)
    local p = assert(io.popen(cmd))
    local out = p:read("a")
    p:close()
    return out
  end

  local rows = {}
  for _, t in ipairs {
    { path = "/baseline", name = "baseline: content_by_lua, no dynamo" },
    { path = "/canned", name = "GetItem -> canned responder" },
    { path = "/local", name = "GetItem -> DynamoDB Local" },
  } do
    local status, rbody = nginx.request(srv.url .. t.path)
    assert(status == 200, t.path .. ": " .. tostring(status) .. " " .. tostring(rbody))
    wrk(t.path, 2)   -- warm-up: JIT, connection pools, DynamoDB Local's JVM
    local before = cpu()
    local out = wrk(t.path, SECONDS)
    local used = cpu() - before
    local n = tonumber(out:match("(%d+) requests in"))
    assert(n and n > 0, "wrk: " .. out)
    local bad = tonumber(out:match("Non%-2xx or 3xx responses: (%d+)") or "0")
    local errs = out:match("Socket errors: ([^\n]+)")
    rows[#rows + 1] = {
      name = t.name, rps = tonumber(out:match("Requests/sec:%s*([%d.]+)")),
      cpu_us = used / n * 1e6, cpu_share = used / SECONDS,
      p50 = out:match("\n%s+50%%%s+(%S+)"), p99 = out:match("\n%s+99%%%s+(%S+)"),
      bad = bad + 0, errs = errs,
    }
  end

  print(string.format("nginx %s, 1 worker; wrk -t%d -c%d -d%ds (after a 2 s warm-up), keep-alive",
    (io.popen("nginx -v 2>&1"):read("l") or ""):match("nginx/(%S+)") or "?", THREADS, CONNECTIONS, SECONDS))
  print(string.format("%-38s %12s %18s %12s %9s %9s", "location", "requests/s", "worker CPU/request",
    "worker CPU", "p50", "p99"))
  for _, r in ipairs(rows) do
    print(string.format("%-38s %12.0f %15.1f us %11.0f%% %9s %9s%s", r.name, r.rps, r.cpu_us, r.cpu_share * 100,
      r.p50 or "?", r.p99 or "?", (r.bad > 0 or r.errs) and ("  (" .. r.bad .. " non-2xx" .. (r.errs and ", " .. r.errs or "") .. ")") or ""))
  end
  local errors = srv:errors()
  if #errors > 0 then
    print("error.log:")
    for _, line in ipairs(errors) do print("  " .. line) end
  end
end)
srv:cleanup()
canned:cleanup()
if not ok then error(failure, 0) end
