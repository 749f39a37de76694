--- bench/runner.lua: what the Lua runners of the benchmark suite share.
---
--- A runner measures one workload for one client in a fresh process and
--- prints one JSON line (docs/performance.md describes the workloads and
--- the line). This module reads the arguments and the page, times a
--- function, reads the process's memory and writes the line.
local cjson = require "cjson"

local M = {}

local clock = os.clock   -- the process's CPU time (user + system)

--- The runner's arguments: layer, workload, data directory, endpoint, table.
function M.args(usage)
  local a = { layer = arg[1], workload = arg[2], data = arg[3], endpoint = arg[4], table = arg[5] }
  if not (a.layer and a.workload and a.data) then
    io.stderr:write("usage: ", usage, "\n")
    os.exit(2)
  end
  return a
end

function M.die(msg)
  io.stderr:write(arg and arg[0] or "runner", ": ", tostring(msg), "\n")
  os.exit(1)
end

--- The repetitions for a workload: BENCH_REPS when set (quick runs).
function M.reps(default)
  return tonumber(os.getenv("BENCH_REPS") or "") or default
end

--- The Query page's bytes.
function M.page(data)
  local f, err = io.open(data .. "/page.json", "rb")
  if not f then M.die(err) end
  local page = f:read("a")
  f:close()
  return page
end

local wall_clock
--- Seconds of wall time and of CPU time fn took.
function M.time(fn, ...)
  wall_clock = wall_clock or require("dynamo").now
  local w0, c0 = wall_clock(), clock()
  fn(...)
  return wall_clock() - w0, clock() - c0
end

--- Calls fn reps times after warm warm-up calls; per call wall and CPU.
function M.repeat_timed(fn, warm, reps)
  for _ = 1, warm do fn() end
  local wall, cpu = M.time(function()
    for _ = 1, reps do fn() end
  end)
  return { wall = wall / reps, cpu = cpu / reps, reps = reps }
end

--- VmRSS and VmHWM of this process, in kB.
function M.memory()
  local f = assert(io.open("/proc/self/status", "r"))
  local status = f:read("a")
  f:close()
  return tonumber(status:match("VmRSS:%s*(%d+)")), tonumber(status:match("VmHWM:%s*(%d+)"))
end

-- The attributes of a page item that w4 and w5 store: ~330 bytes with S,
-- N (integers and decimals), BOOL, NULL, SS and M three deep. The whole
-- 1 KB item makes DynamoDB Local scan 30 times slower (its numbers of 38
-- digits), which would time the emulator instead of the clients.
M.W4_ATTRIBUTES = { "status", "created_at", "subtotal", "gift", "coupon", "tags", "shipping" }

--- Page item 1 as w3 reads and writes it: its key and the W4_ATTRIBUTES.
--- (The whole 1.1 KB item would make w3 a decoding benchmark, which w1 is:
--- in dynamo it decodes in ~13 us, more than half the floor's request.)
function M.w3_item(items)
  local t = { pk = items[1].pk, sk = items[1].sk }
  for _, name in ipairs(M.W4_ATTRIBUTES) do t[name] = items[1][name] end
  return t
end

--- The 20,000 items of w4: the W4_ATTRIBUTES of page item (i % 1000) + 1
--- under key ("ITEM#%05d" % i, "A").
function M.w4_items(items)
  local out = {}
  for i = 0, 19999 do
    local base, t = items[i % #items + 1], {}
    for _, name in ipairs(M.W4_ATTRIBUTES) do t[name] = base[name] end
    t.pk, t.sk = string.format("ITEM#%05d", i), "A"
    out[i + 1] = t
  end
  return out
end

--- Resets VmHWM to the current RSS, so the next peak is the workload's own.
function M.reset_peak()
  local f = assert(io.open("/proc/self/clear_refs", "w"))
  assert(f:write("5"))
  f:close()
end

function M.emit(result)
  io.write(cjson.encode(result), "\n")
end

return M
