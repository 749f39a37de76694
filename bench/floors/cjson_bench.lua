--- bench/floors/cjson_bench.lua: the codec floor of the benchmark suite,
--- lua-cjson in Lua 5.4 on the same bytes and the same requests as w1, w2.
---
---   lua5.4 bench/floors/cjson_bench.lua cjson w1|w2 DATADIR
---
--- w1: cjson.decode of the page (AttributeValues stay wrapped: N as text,
---     B as base64; the work dynamo does on top is unwrapping, exact
---     numbers and base64).
--- w2: cjson.encode of the 40 BatchWriteItem bodies in wrapped form, as
---     cjson.decode read them from the page.
local cjson = require "cjson"
local runner = require "runner"

local a = runner.args("cjson_bench.lua cjson w1|w2 DATADIR")
local page = runner.page(a.data)

local workloads = {}

function workloads.w1()
  return runner.repeat_timed(function()
    if #cjson.decode(page).Items ~= 1000 then runner.die("the page decoded to the wrong count") end
  end, 3, runner.reps(20))
end

function workloads.w2()
  local items = cjson.decode(page).Items
  local bodies = {}
  for k = 0, 39 do
    local requests = {}
    for i = 1, 25 do requests[i] = { PutRequest = { Item = items[25 * k + i] } } end
    bodies[k + 1] = { RequestItems = { bench = requests } }
  end
  local encode = cjson.encode
  return runner.repeat_timed(function()
    for k = 1, 40 do
      if #encode(bodies[k]) == 0 then runner.die("empty body") end
    end
  end, 2, runner.reps(10))
end

local run = workloads[a.workload] or runner.die("no workload " .. a.workload)
local result = run()
result.n = 1000
runner.emit(result)
