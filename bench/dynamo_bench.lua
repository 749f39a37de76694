--- bench/dynamo_bench.lua: dynamo's runner in the benchmark suite.
---
---   lua5.4 bench/dynamo_bench.lua LAYER WORKLOAD DATADIR [ENDPOINT [TABLE]]
---
--- LAYER codec:  w1, w2 with the codec alone (core.codec), the figures the
---               targets compare with cjson (bench/floors/cjson_bench.lua).
--- LAYER client: every workload through db:... (dynamo.new); w1 and w2 with
---               a canned in-process transport, so they measure the whole
---               request path (parameters, encoding, signing, crc32,
---               decoding) without a network, as the peers' runners do.
--- Prints one JSON line; docs/performance.md describes each workload.
local dynamo = require "dynamo"
local core = require "dynamo.core"
local api = require "dynamo.operations"
local runner = require "runner"

local a = runner.args("dynamo_bench.lua codec|client WORKLOAD DATADIR [ENDPOINT [TABLE]]")
local die = runner.die
local format = string.format

local function operation(name)
  for _, op in ipairs(api.operations) do
    if op.name == name then return op end
  end
  die("no operation " .. name)
end

-- The page and its items, read only by the workloads that use them: w5
-- measures memory, which a live page would distort.
local codec = core.codec()
local page, items = nil, nil
local function load_page()
  page = runner.page(a.data)
  items = assert(codec:decode(page, operation("Query").output)).Items
end

-- The 40 BatchWriteItem inputs of w2, 25 items each.
local function batch_inputs()
  local inputs = {}
  for k = 0, 39 do
    local requests = {}
    for i = 1, 25 do requests[i] = { PutRequest = { Item = items[25 * k + i] } } end
    inputs[k + 1] = { RequestItems = { bench = requests } }
  end
  return inputs
end

local function check_page(res)
  if #res.Items ~= 1000 then die(format("the page decoded to %d items", #res.Items)) end
end

---------------------------------------------------------------------------
-- The codec alone.

local codec_workloads = {}

function codec_workloads.w1()
  load_page()
  local map = operation("Query").output
  return runner.repeat_timed(function()
    check_page(assert(codec:decode(page, map)))
  end, 3, runner.reps(20))
end

function codec_workloads.w2()
  load_page()
  local map, inputs = operation("BatchWriteItem").input, batch_inputs()
  return runner.repeat_timed(function()
    for k = 1, 40 do
      if #codec:encode(inputs[k], map) == 0 then die("empty body") end
    end
  end, 2, runner.reps(10))
end

---------------------------------------------------------------------------
-- Through the client.

local CREDENTIALS = { access_key_id = "AKIDBENCH", secret_access_key = "bench" }

-- A transport answering every request with body, as the libcurl one would
-- after reading it off the wire (the crc32 check included).
local function canned(body)
  local crc = core.crc32(body)
  return {
    request = function(_, _, _, _, request_body)
      if #request_body == 0 then die("empty request body") end
      if core.crc32(body) ~= crc then die("crc32") end
      return 200, { ["x-amz-crc32"] = format("%d", crc), ["x-amzn-requestid"] = "canned" }, body
    end,
  }
end

local function client(opts)
  opts.region, opts.credentials = "us-east-1", CREDENTIALS
  return dynamo.new(opts)
end

local function must(res, err)
  if res == nil then die(err) end
  return res
end

local client_workloads = {}

function client_workloads.w1()
  load_page()
  local db = client { endpoint = "http://canned.invalid", transport = canned(page) }
  local params = { TableName = "bench", KeyConditionExpression = "pk = :pk",
    ExpressionAttributeValues = { [":pk"] = "CUSTOMER#000001" } }
  return runner.repeat_timed(function()
    check_page(must(db:query(params)))
  end, 3, runner.reps(20))
end

function client_workloads.w2()
  load_page()
  local db = client { endpoint = "http://canned.invalid", transport = canned('{"UnprocessedItems":{}}') }
  local inputs = batch_inputs()
  return runner.repeat_timed(function()
    for k = 1, 40 do must(db:batch_write_item(inputs[k])) end
  end, 2, runner.reps(10))
end

-- w3 keeps its item only.
local function first_item()
  load_page()
  local item = runner.w3_item(items)
  page, items = nil, nil
  collectgarbage("collect")
  return item
end

local function sequential(call)
  local r = runner.repeat_timed(call, 50, 1000)
  r.n, r.reps = r.reps, nil
  return r
end

function client_workloads.w3get()
  local db, item = client { endpoint = a.endpoint }, first_item()
  local params = { TableName = "bench", Key = { pk = item.pk, sk = item.sk } }
  return sequential(function()
    if not must(db:get_item(params)).Item then die("GetItem found no item") end
  end)
end

function client_workloads.w3put()
  local db = client { endpoint = a.endpoint }
  local params = { TableName = "bench", Item = first_item() }
  return sequential(function() must(db:put_item(params)) end)
end

local function scan_count(db, tbl)
  local n = 0
  for _ in db:scan_items { TableName = tbl } do n = n + 1 end
  return n
end

local function expect(what, got, want)
  if got ~= want then die(format("%s: %d items, expected %d", what, got, want)) end
end

function client_workloads.w4()
  local db, tbl = client { endpoint = a.endpoint }, a.table
  must(db:create_table { TableName = tbl, BillingMode = "PAY_PER_REQUEST",
    AttributeDefinitions = { { AttributeName = "pk", AttributeType = "S" }, { AttributeName = "sk", AttributeType = "S" } },
    KeySchema = { { AttributeName = "pk", KeyType = "HASH" }, { AttributeName = "sk", KeyType = "RANGE" } } })
  must(db:wait_for_table(tbl, { interval = 0.05 }))
  load_page()
  local all = runner.w4_items(items)
  page, items = nil, nil
  local result = {}
  local function phase(name, n, fn)
    local wall, cpu = runner.time(fn)
    result[name] = { wall = wall, cpu = cpu, n = n }
  end

  phase("write", #all, function()
    local w = db:batch_writer()
    for i = 1, #all do w:put(tbl, all[i]) end
    must(w:close())
  end)
  phase("scan", #all, function() expect("scan", scan_count(db, tbl), #all) end)
  phase("pscan", #all, function()
    local n = 0
    for _ in db:parallel_scan { TableName = tbl, segments = 4 } do n = n + 1 end
    expect("parallel scan", n, #all)
  end)
  phase("get", 2000, function()
    for i = 0, 19990, 10 do
      local res = must(db:get_item { TableName = tbl, Key = { pk = format("ITEM#%05d", i), sk = "A" } })
      if not res.Item then die("GetItem found no item " .. i) end
    end
  end)
  if os.getenv("BENCH_KEEP_TABLE") ~= "1" then must(db:delete_table { TableName = tbl }) end
  return result
end

local function memory(keep)
  local db, tbl = client { endpoint = a.endpoint }, a.table
  must(db:scan { TableName = tbl, Limit = 1 })
  collectgarbage("collect")
  local base = runner.memory()
  runner.reset_peak()
  local kept, n = {}, 0
  local wall, cpu = runner.time(function()
    for item in db:scan_items { TableName = tbl } do
      n = n + 1
      if keep then kept[n] = item end
    end
  end)
  local _, peak = runner.memory()
  expect("scan", n, 20000)
  return { base_kb = base, peak_kb = peak, growth_kb = math.max(0, peak - base), n = n, wall = wall, cpu = cpu }
end

function client_workloads.w5iter() return memory(false) end
function client_workloads.w5collect() return memory(true) end

---------------------------------------------------------------------------

local layers = { codec = codec_workloads, client = client_workloads }
local workloads = layers[a.layer] or die("unknown layer " .. a.layer)
local run = workloads[a.workload] or die(format("layer %s has no workload %s", a.layer, a.workload))
local ok, result = xpcall(run, debug.traceback)
if not ok then die(result) end
result.n = result.n or (a.workload:match("^w[12]$") and 1000 or nil)
runner.emit(result)
