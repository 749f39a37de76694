--- bench/suite.lua: the benchmark suite's driver (bench/run starts it).
---
---   lua5.4 bench/suite.lua LOCAL_ENDPOINT
---
--- 1. Writes the data into .cache/bench/data: the Query page (fixed seed,
---    bench/gen_page.lua), the GetItem and PutItem bodies dynamo sends for
---    w3 (for the libcurl floor) and the canned GetItem answer.
--- 2. Starts the canned responder (Debian's nginx, bench/canned.conf) and
---    measures its ceiling with wrk; loads the 20,000 items w5 scans into
---    DynamoDB Local.
--- 3. Runs BENCH_ROUNDS (default 5) rounds; in each, every workload for
---    every client, each in a fresh process, in an order that rotates from
---    round to round. Progress goes to stderr.
--- 4. Prints one table: median and min-max over the rounds, and the ratios
---    of medians against the floors and the peers, with each target.
--- Environment (bench/run sets them): LUA_PATH and LUA_CPATH for dynamo,
--- BENCH_NODE_MODULES (the AWS SDK), BENCH_PYTHON (Debian's python3 with
--- python3-boto3), BENCH_CURL_FLOOR (bench/floors/curl_floor.c built).
local cjson = require "cjson"
local dynamo = require "dynamo"
local core = require "dynamo.core"
local api = require "dynamo.operations"
local gen = require "gen_page"
local nginx = require "support.nginx"
local runner = require "runner"

local format = string.format
local LOCAL = arg[1] or os.getenv("BENCH_REPORT") == "1" or runner.die("usage: suite.lua LOCAL_ENDPOINT")
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS") or "") or 5
local DATA = ".cache/bench/data"
local W5_TABLE = "bench_w5"

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function env(name)
  return os.getenv(name) or runner.die(name .. " is not set (run bench/run)")
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  assert(f:write(text))
  assert(f:close())
end

---------------------------------------------------------------------------
-- Clients and workloads.

local lua = "lua5.4"
local node = "env NODE_PATH=" .. sh_quote(env("BENCH_NODE_MODULES")) .. " node --expose-gc bench/peers/sdk_bench.js"
local python = sh_quote(env("BENCH_PYTHON")) .. " bench/peers/boto3_bench.py"

local CLIENTS = {
  cjson = { label = "cjson (floor)", cmd = lua .. " bench/floors/cjson_bench.lua cjson" },
  curl = { label = "libcurl POST loop (floor)", cmd = sh_quote(env("BENCH_CURL_FLOOR")) .. " curl" },
  dynamo_codec = { label = "dynamo codec", cmd = lua .. " bench/dynamo_bench.lua codec" },
  dynamo = { label = "dynamo", cmd = lua .. " bench/dynamo_bench.lua client" },
  boto3_client = { label = "boto3 client", cmd = python .. " client" },
  boto3_resource = { label = "boto3 resource", cmd = python .. " resource" },
  js_client = { label = "JS SDK v3 client", cmd = node .. " client" },
  js_lib = { label = "JS SDK v3 lib-dynamodb", cmd = node .. " lib" },
}

local PEERS = { "boto3_client", "boto3_resource", "js_client", "js_lib" }
local function with_peers(...)
  local list = { ... }
  for _, peer in ipairs(PEERS) do list[#list + 1] = peer end
  return list
end

-- pin: run the client on CPU 0, where the canned responder's worker is.
-- A request-response loop costs a client about twice the CPU when the
-- scheduler puts it on the other core than the responder, and it places a
-- small process and a big one differently: unpinned, the same run gave
-- the libcurl floor 20 us and dynamo 76 us (pinned together: 19 and 35).
local WORKLOADS = {
  { id = "w1", clients = with_peers("cjson", "dynamo_codec", "dynamo") },
  { id = "w2", clients = with_peers("cjson", "dynamo_codec", "dynamo") },
  { id = "w3get", clients = with_peers("curl", "dynamo"), endpoint = "canned", pin = true },
  { id = "w3put", clients = with_peers("curl", "dynamo"), endpoint = "canned", pin = true },
  { id = "w4", clients = with_peers("dynamo"), endpoint = "local" },
  { id = "w5iter", clients = with_peers("dynamo"), endpoint = "local", table = W5_TABLE },
  { id = "w5collect", clients = with_peers("dynamo"), endpoint = "local", table = W5_TABLE },
}

local BY_ID = {}
for _, w in ipairs(WORKLOADS) do BY_ID[w.id] = w end

---------------------------------------------------------------------------
-- Data.

local function operation(name)
  for _, op in ipairs(api.operations) do
    if op.name == name then return op end
  end
  runner.die("no operation " .. name)
end

local function write_data()
  os.execute("mkdir -p " .. DATA)
  local page = gen.page()
  write(DATA .. "/page.json", page)
  local codec = core.codec()
  local items = assert(codec:decode(page, operation("Query").output)).Items
  local item = runner.w3_item(items)
  write(DATA .. "/get_request.json", codec:encode({ TableName = "bench", Key = { pk = item.pk, sk = item.sk } },
    operation("GetItem").input))
  write(DATA .. "/put_request.json", codec:encode({ TableName = "bench", Item = item }, operation("PutItem").input))
  return { items = items,
    get_body = codec:encode({ Item = item }, operation("GetItem").output) }
end

-- Inside an nginx quoted string a backslash escapes the next character
-- (\n is a newline), and a $ starts a variable, which JSON cannot avoid.
local function nginx_string(s)
  if s:find("$", 1, true) then runner.die("the canned body holds a '$', which nginx would expand") end
  return (s:gsub("[\\']", "\\%0"))
end

local function start_canned(data)
  local f = assert(io.open("bench/canned.conf"))
  local conf = f:read("a")
  f:close()
  return nginx.start { conf = conf, vars = {
    GET_BODY = nginx_string(data.get_body), GET_CRC32 = format("%d", core.crc32(data.get_body)),
    EMPTY_CRC32 = format("%d", core.crc32("{}")),
  } }
end

-- The responder's own ceiling: wrk on one connection, the same POST.
local function wrk_ceiling(url, target, body_file)
  local f = assert(io.open(body_file, "rb"))
  local body = f:read("a")
  f:close()
  local script = DATA .. "/wrk_" .. target .. ".lua"
  write(script, format("wrk.method = 'POST'\nwrk.body = %q\nwrk.headers['Content-Type'] = "
    .. "'application/x-amz-json-1.0'\nwrk.headers['X-Amz-Target'] = 'DynamoDB_20120810.%s'\n", body, target))
  local p = assert(io.popen(format("wrk -t1 -c1 -d3s -s %s %s 2>&1", sh_quote(script), sh_quote(url))))
  local out = p:read("a")
  p:close()
  local rate = tonumber(out:match("Requests/sec:%s*([%d.]+)"))
  if not rate then runner.die("wrk printed no rate:\n" .. out) end
  return rate
end

local function load_w5_table(items)
  local db = dynamo.new { endpoint = LOCAL, region = "us-east-1",
    credentials = { access_key_id = "AKIDBENCH", secret_access_key = "bench" } }
  db:delete_table { TableName = W5_TABLE }
  assert(db:wait_for_table_gone(W5_TABLE, { interval = 0.05 }))
  assert(db:create_table { TableName = W5_TABLE, BillingMode = "PAY_PER_REQUEST",
    AttributeDefinitions = { { AttributeName = "pk", AttributeType = "S" }, { AttributeName = "sk", AttributeType = "S" } },
    KeySchema = { { AttributeName = "pk", KeyType = "HASH" }, { AttributeName = "sk", KeyType = "RANGE" } } })
  assert(db:wait_for_table(W5_TABLE, { interval = 0.05 }))
  local w = db:batch_writer()
  for _, item in ipairs(runner.w4_items(items)) do w:put(W5_TABLE, item) end
  assert(w:close())
  return db
end

---------------------------------------------------------------------------
-- Rounds.

local function run_one(client, workload, endpoint, tbl, pin)
  local errfile = DATA .. "/stderr.txt"
  local cmd = format("%s%s %s %s %s%s 2>%s", pin and "taskset -c 0 " or "", CLIENTS[client].cmd, workload, DATA,
    endpoint or "", endpoint and tbl and " " .. tbl or "", sh_quote(errfile))
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok = p:close()
  local line = out:match("([^\n]+)\n?$")
  local decoded = ok and line and cjson.decode(line)
  if not decoded then
    local f = io.open(errfile)
    runner.die(format("%s failed:\n%s\n%s", cmd, out, f and f:read("a") or ""))
  end
  return decoded
end

local function rotate(list, by)
  local out = {}
  for i = 1, #list do out[i] = list[(i - 1 + by) % #list + 1] end
  return out
end

local function run_rounds(endpoints)
  local results = {}
  for _, w in ipairs(WORKLOADS) do
    results[w.id] = {}
    for _, c in ipairs(w.clients) do results[w.id][c] = {} end
  end
  local started = dynamo.now()
  for round = 1, ROUNDS do
    for _, w in ipairs(WORKLOADS) do
      for _, c in ipairs(rotate(w.clients, round - 1)) do
        io.stderr:write(format("\r\27[Kround %d/%d  %-9s %-16s  (%.0f s)", round, ROUNDS, w.id, c, dynamo.now() - started))
        local tbl = w.endpoint == "local" and (w.table or format("bench_%s_%d", c, round)) or nil
        local list = results[w.id][c]
        list[#list + 1] = run_one(c, w.id, endpoints[w.endpoint], tbl, w.pin)
      end
    end
  end
  io.stderr:write(format("\r\27[K%d rounds in %.0f s\n", ROUNDS, dynamo.now() - started))
  return results
end

---------------------------------------------------------------------------
-- The table.

local function stats_of(list, get)
  local xs = {}
  for i, r in ipairs(list) do xs[i] = get(r) end
  table.sort(xs)
  local n = #xs
  local median = n % 2 == 1 and xs[(n + 1) // 2] or (xs[n // 2] + xs[n // 2 + 1]) / 2
  return { median = median, min = xs[1], max = xs[n] }
end

local function cell(s, scale, digits)
  local f = "%." .. digits .. "f"
  return format(f .. " [" .. f .. "-" .. f .. "]", s.median * scale, s.min * scale, s.max * scale)
end

local lines = {}
local function out(...) lines[#lines + 1] = format(...) end

local checks = {}
local function target(name, value, op, limit, unit)
  local met = op == "<=" and value <= limit or op == ">=" and value >= limit
  checks[#checks + 1] = format("%-52s %8.2f%s  target %s %g%s  %s", name, value, unit or "", op, limit, unit or "",
    met and "met" or "MISSED")
  return met
end

local function metric(results, w, c, get)
  return stats_of(results[w][c], get)
end

local function cpu(r) return r.cpu end
local function wall(r) return r.wall end

-- W1 and W2: time per page / per 40 requests, against cjson.
local function codec_section(results, w, title, floor_label)
  out("%s", title)
  out("  %-28s %-24s %-24s %s", "", "wall ms", "cpu ms", "cpu x " .. floor_label)
  local floor = metric(results, w, "cjson", cpu).median
  for _, c in ipairs(BY_ID[w].clients) do
    local cw, cc = metric(results, w, c, wall), metric(results, w, c, cpu)
    out("  %-28s %-24s %-24s %.2f", CLIENTS[c].label, cell(cw, 1e3, 2), cell(cc, 1e3, 2), cc.median / floor)
  end
  return metric(results, w, "dynamo_codec", cpu).median / floor
end

local function per_request_section(results, w, title, ceiling)
  out("%s", title)
  out("  %-28s %-24s %-24s %s", "", "wall us/request", "cpu us/request", "cpu x floor")
  local floor = metric(results, w, "curl", cpu).median
  for _, c in ipairs(BY_ID[w].clients) do
    local cw, cc = metric(results, w, c, wall), metric(results, w, c, cpu)
    out("  %-28s %-24s %-24s %.2f", CLIENTS[c].label, cell(cw, 1e6, 1), cell(cc, 1e6, 1), cc.median / floor)
  end
  out("  %-28s %-24s (wrk -c1, %.0f requests/s)", "nginx ceiling", format("%.1f", 1e6 / ceiling), ceiling)
  return metric(results, w, "dynamo", cpu).median / floor
end

local PHASES = {
  { id = "write", title = "batch-write 20,000" }, { id = "scan", title = "scan 20,000" },
  { id = "pscan", title = "parallel scan, 4 segments" }, { id = "get", title = "2,000 GetItem" },
}

local function w4_section(results)
  out("W4 end to end on DynamoDB Local (20,000 items of ~330 bytes)")
  local ratios = {}
  for _, phase in ipairs(PHASES) do
    out("  %-28s %-24s %-24s %s", phase.title, "items/s", "cpu us/item", "cpu x dynamo")
    local function per_item(r) return r[phase.id].cpu / r[phase.id].n end
    local function rate(r) return r[phase.id].n / r[phase.id].wall end
    local mine = metric(results, "w4", "dynamo", per_item).median
    local best_peer, best_js_wall = math.huge, math.huge
    for _, c in ipairs(BY_ID.w4.clients) do
      local ci, cr = metric(results, "w4", c, per_item), metric(results, "w4", c, rate)
      out("  %-28s %-24s %-24s %.2f", "  " .. CLIENTS[c].label, cell(cr, 1, 0), cell(ci, 1e6, 1), ci.median / mine)
      if c ~= "dynamo" then best_peer = math.min(best_peer, ci.median) end
      if c:match("^js_") then
        best_js_wall = math.min(best_js_wall, metric(results, "w4", c, function(r) return r[phase.id].wall end).median)
      end
    end
    ratios[phase.id] = { cpu = best_peer / mine,
      wall = metric(results, "w4", "dynamo", function(r) return r[phase.id].wall end).median / best_js_wall }
  end
  return ratios
end

local function w5_section(results)
  out("W5 memory, scanning the 20,000 items of W4 on DynamoDB Local")
  out("  %-28s %-24s %-24s %s", "", "RSS before, MB", "peak RSS, MB", "growth, MB")
  local growth = {}
  for _, w in ipairs({ "w5iter", "w5collect" }) do
    out("  %s", w == "w5iter" and "iterating, keeping nothing" or "collecting into one list")
    growth[w] = {}
    for _, c in ipairs(BY_ID[w].clients) do
      local base = metric(results, w, c, function(r) return r.base_kb end)
      local peak = metric(results, w, c, function(r) return r.peak_kb end)
      local grow = metric(results, w, c, function(r) return r.growth_kb end)
      out("  %-28s %-24s %-24s %s", "  " .. CLIENTS[c].label, cell(base, 1 / 1024, 1), cell(peak, 1 / 1024, 1),
        cell(grow, 1 / 1024, 1))
      growth[w][c] = grow.median / 1024
    end
  end
  return growth
end

local function report(results, ceilings)
  out("dynamo benchmark suite: %d rounds, a fresh process per client, workload and round;", ROUNDS)
  out("figures are median [min-max] over the rounds; ratios are of medians from this run.")
  out("")
  local w1 = codec_section(results, "w1", "W1 decode: a 1 MB Query page, 1,000 items -> native values", "cjson")
  out("")
  local w2 = codec_section(results, "w2", "W2 encode: 1,000 native items -> 40 BatchWriteItem bodies", "cjson")
  out("")
  local get = per_request_section(results, "w3get", "W3 1,000 sequential GetItem (a ~330-byte item), canned nginx responder", ceilings.get)
  out("")
  local put = per_request_section(results, "w3put", "W3 1,000 sequential PutItem, canned nginx responder",
    ceilings.put)
  out("")
  local w4 = w4_section(results)
  out("")
  local w5 = w5_section(results)
  out("")
  target("W1 dynamo decode / cjson.decode (cpu)", w1, "<=", 0.8, "x")
  target("W2 dynamo encode / cjson.encode (cpu)", w2, "<=", 1.0, "x")
  target("W3 GetItem cpu per request / libcurl floor", get, "<=", 1.5, "x")
  target("W3 PutItem cpu per request / libcurl floor", put, "<=", 1.5, "x")
  target("W4 write: best peer cpu per item / dynamo's", w4.write.cpu, ">=", 4, "x")
  target("W4 scan: best peer cpu per item / dynamo's", w4.scan.cpu, ">=", 4, "x")
  target("W4 parallel scan wall / JS SDK's (faster layer)", w4.pscan.wall, "<=", 1.0, "x")
  target("W5 iterating: RSS growth", w5.w5iter.dynamo, "<=", 10, " MB")
  local least_peer = math.huge
  for _, c in ipairs(PEERS) do least_peer = math.min(least_peer, w5.w5collect[c]) end
  target("W5 collecting: dynamo growth / least of peers", w5.w5collect.dynamo / least_peer, "<=", 1.0, "x")
  out("Targets")
  for _, c in ipairs(checks) do out("  %s", c) end
  print(table.concat(lines, "\n"))
end

---------------------------------------------------------------------------

-- The figures of a run are kept in RESULTS, and BENCH_REPORT=1 prints the
-- table from them again without running anything.
local RESULTS = ".cache/bench/results.json"

local function measure()
  local data = write_data()
  io.stderr:write("starting the canned responder and loading the w5 table ...\n")
  local canned = start_canned(data)
  local ok, err = xpcall(function()
    local ceilings = { get = wrk_ceiling(canned.url, "GetItem", DATA .. "/get_request.json"),
      put = wrk_ceiling(canned.url, "PutItem", DATA .. "/put_request.json") }
    for _, pid in ipairs(canned:workers()) do
      assert(os.execute("taskset -pc 0 " .. pid .. " >/dev/null"), "taskset failed")
    end
    local db = load_w5_table(data.items)
    local results = run_rounds { canned = canned.url, ["local"] = LOCAL }
    db:delete_table { TableName = W5_TABLE }
    write(RESULTS, cjson.encode { results = results, ceilings = ceilings, rounds = ROUNDS })
  end, debug.traceback)
  canned:stop()
  if not ok then runner.die(err) end
end

if os.getenv("BENCH_REPORT") ~= "1" then measure() end
local f = io.open(RESULTS) or runner.die("no " .. RESULTS .. ": run the suite first")
local saved = cjson.decode(f:read("a"))
f:close()
ROUNDS = saved.rounds
local ok, err = xpcall(report, debug.traceback, saved.results, saved.ceilings)
if not ok then runner.die(err) end
