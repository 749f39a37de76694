-- bench/parallel_scan.lua: a 4-segment parallel scan against a single scan
-- of the same 20,000 items on DynamoDB Local. Prints the wall time of each
-- (median and min-max over interleaved rounds) and their ratio. Figures
-- only: exits non-zero when a scan returns the wrong items, never for speed.
--
--   lua5.4 bench/parallel_scan.lua ENDPOINT [items] [rounds]
local dynamo = require "dynamo"
local async = require "dynamo.async"

local endpoint = assert(arg[1], "usage: parallel_scan.lua ENDPOINT [items] [rounds]")
local n_items = tonumber(arg[2]) or 20000
local rounds = tonumber(arg[3]) or 5

local db = dynamo.new { endpoint = endpoint, region = "us-east-1",
  credentials = { access_key_id = "AKIDBENCH", secret_access_key = "bench" } }
local table_name = "bench_scan_" .. os.time()

assert(db:create_table {
  TableName = table_name, BillingMode = "PAY_PER_REQUEST",
  AttributeDefinitions = { { AttributeName = "pk", AttributeType = "S" } },
  KeySchema = { { AttributeName = "pk", KeyType = "HASH" } },
})
assert(db:wait_for_table(table_name, { interval = 0.05 }))

-- Fixed data: ~200-byte items.
local pad = string.rep("x", 160)
local writers = {}
for w = 0, 7 do
  writers[#writers + 1] = function()
    for start = w * 25, n_items - 1, 8 * 25 do
      local requests = {}
      for i = start, math.min(start + 24, n_items - 1) do
        requests[#requests + 1] = { PutRequest = { Item = { pk = string.format("item%06d", i), n = i, pad = pad } } }
      end
      local res, err = db:batch_write_item { RequestItems = { [table_name] = requests } }
      assert(res, err and tostring(err))
      assert(next(res.UnprocessedItems or {}) == nil, "unprocessed items while loading")
    end
  end
end
local t0 = dynamo.now()
dynamo.gather(writers)
io.write(string.format("loaded %d items in %.2f s\n", n_items, dynamo.now() - t0))

local function check(count, sum)
  local want = n_items * (n_items - 1) // 2
  if count ~= n_items or sum ~= want then
    error(string.format("scan returned %d items (sum %d), expected %d (sum %d)", count, sum, n_items, want))
  end
end

local function single()
  local count, sum = 0, 0
  for item in db:scan_items { table = table_name } do count, sum = count + 1, sum + item.n end
  check(count, sum)
end

local function parallel()
  local count, sum = 0, 0
  for item in db:parallel_scan { table = table_name, segments = 4 } do count, sum = count + 1, sum + item.n end
  check(count, sum)
end

local times = { single = {}, parallel = {} }
for _ = 1, rounds do
  for _, name in ipairs { "single", "parallel" } do
    collectgarbage()
    local t = dynamo.now()
    if name == "single" then single() else parallel() end
    table.insert(times[name], dynamo.now() - t)
  end
end

local function median(list)
  table.sort(list)
  return list[(#list + 1) // 2], list[1], list[#list]
end
local sm, smin, smax = median(times.single)
local pm, pmin, pmax = median(times.parallel)
io.write(string.format("single scan     %7.3f s  (min %.3f, max %.3f)\n", sm, smin, smax))
io.write(string.format("parallel scan 4 %7.3f s  (min %.3f, max %.3f)\n", pm, pmin, pmax))
io.write(string.format("ratio parallel/single: %.2f (%.2fx faster), %d rounds, %d items\n", pm / sm, sm / pm, rounds, n_items))
db:delete_table { TableName = table_name }
