--- Concurrency without threads: tasks are coroutines, and a request made
--- inside a task starts a libcurl transfer on one shared multi handle and
--- yields; the scheduler resumes the task when its transfer finishes.
--- Outside a task every call blocks as usual, so the same client code
--- runs either way.
---
---   local a, b = dynamo.gather(function() return db:get_item{...} end,
---                              function() return db:get_item{...} end)
---
--- The C core never calls back into Lua: it only starts transfers and
--- reports which have finished (core.multi).
local core = require "dynamo.core"

local coroutine, type, error, select, pcall = coroutine, type, error, select, pcall
local compat = require "dynamo.compat"
local pack, unpack = compat.pack, compat.unpack

local M = {}

-- What a task yields to its scheduler. Anything else is a mistake: a
-- task's own coroutine.yield has nowhere to go.
local PAUSE = {}

local driver       -- the core.multi every task's transfers run on, made on first use
local waiting = {} -- transfer id -> the task waiting for it
local task_of = setmetatable({}, { __mode = "k" }) -- coroutine -> its task

local Scheduler = {}
Scheduler.__index = Scheduler

local function new_scheduler()
  return setmetatable({ ready = {}, blocked = {}, sleepers = {}, live = 0 }, Scheduler)
end

--- Starts fn(...) as a task of this scheduler; returns the task, whose
--- fields ok/results (or error) are set when it finishes.
function Scheduler:spawn(fn, ...)
  local task = { sched = self, args = pack(...) }
  task.co = coroutine.create(function(...) return fn(...) end)
  task_of[task.co] = task
  self.live = self.live + 1
  self.ready[#self.ready + 1] = task
  return task
end

local function resume(task)
  local args = task.args
  task.args = nil
  local res = pack(coroutine.resume(task.co, unpack(args, 1, args.n)))
  if coroutine.status(task.co) == "dead" then
    task.done = true
    task.sched.live = task.sched.live - 1
    if res[1] then
      task.results = pack(select(2, unpack(res, 1, res.n)))
    else
      task.failed, task.error = true, res[2]   -- error(nil) is an error too
    end
  elseif res[2] ~= PAUSE then
    -- The task yielded on its own: there is no one to hand the value to.
    task.done = true
    task.sched.live = task.sched.live - 1
    task.failed = true
    task.error = "a task of dynamo.gather called coroutine.yield itself (use a plain function)"
  end
end

-- Moves blocked tasks whose condition now holds, and sleepers whose time
-- has come, to the ready queue. Returns the seconds until the next sleeper.
function Scheduler:wake()
  local still = {}
  for _, task in ipairs(self.blocked) do
    if task.until_() then
      task.until_, task.args = nil, { n = 0 }
      self.ready[#self.ready + 1] = task
    else
      still[#still + 1] = task
    end
  end
  self.blocked = still
  local now, next_at, sleeping = core.now(), nil, {}
  for _, task in ipairs(self.sleepers) do
    if task.wake_at <= now then
      task.args = { n = 0 }
      self.ready[#self.ready + 1] = task
    else
      sleeping[#sleeping + 1] = task
      if not next_at or task.wake_at < next_at then next_at = task.wake_at end
    end
  end
  self.sleepers = sleeping
  return next_at and next_at - now
end

--- Runs tasks until done() is true (or no task is left).
function Scheduler:run_until(done)
  while not done() and self.live > 0 do
    local ready = self.ready
    self.ready = {}
    for _, task in ipairs(ready) do resume(task) end
    local until_sleeper = self:wake()
    if #self.ready == 0 and not done() and self.live > 0 then
      local in_flight = driver and driver:stats().active > 0
      if in_flight then
        -- A transfer finishing may belong to another scheduler's task
        -- (a nested one): each goes back to its own scheduler.
        for _, id in ipairs(driver:wait(until_sleeper)) do
          local task = waiting[id]
          waiting[id] = nil
          if task then
            task.args = pack(task.transfer:result())
            task.transfer = nil
            task.sched.ready[#task.sched.ready + 1] = task
          end
        end
      elseif until_sleeper then
        core.sleep(until_sleeper)
      elseif #self.blocked > 0 then
        error("dynamo.gather: every task waits for another: deadlock", 0)
      end
      self:wake()
    end
  end
end

--- The task running now, or nil outside any task.
local function current()
  local co = coroutine.running()
  return co and task_of[co]
end

--- Blocks the caller until cond() holds: a task yields to its scheduler
--- (which runs sched's other tasks meanwhile); code outside any task runs
--- sched itself.
local function block_until(sched, cond)
  if cond() then return end
  local task = current()
  if task then
    task.until_ = cond
    task.sched.blocked[#task.sched.blocked + 1] = task
    coroutine.yield(PAUSE)
  else
    sched:run_until(cond)
  end
end

--- The scheduler to spawn work into: the caller's own when it is a task
--- (nested gathers share it), else a fresh one.
function M.scheduler()
  local task = current()
  return task and task.sched or new_scheduler()
end

M.block_until = block_until
M.current = current

--- Sends an HTTP request through http (a core.http client): concurrently
--- when called inside a task, blocking otherwise. timeout (seconds,
--- optional) replaces the client's for this request. Returns what
--- http:request returns.
function M.request(http, method, url, headers, body, timeout)
  local task = current()
  if not task then return http:request(method, url, headers, body, timeout) end
  if not driver then
    local kind, msg
    driver, kind, msg = core.multi()
    if not driver then return nil, kind, msg end
  end
  local transfer, kind, msg = http:start(driver, method, url, headers, body, timeout)
  if not transfer then return nil, kind, msg end
  task.transfer = transfer
  waiting[transfer:id()] = task
  return coroutine.yield(PAUSE)
end

--- Waits `seconds`: other tasks run meanwhile when called inside a task.
function M.sleep(seconds)
  if type(seconds) ~= "number" or not (seconds >= 0) then
    error("bad argument 'seconds' to 'sleep' (non-negative number expected, got "
      .. (type(seconds) == "number" and tostring(seconds) or type(seconds)) .. ")", 2)
  end
  local task = current()
  if not task then return core.sleep(seconds) end
  task.wake_at = core.now() + seconds
  local s = task.sched.sleepers
  s[#s + 1] = task
  coroutine.yield(PAUSE)
end

M.now = core.now

-- Deadlines by coroutine (the main one included): a bound on everything
-- the request path does for the code running there. LuaJIT's main thread
-- has no coroutine object: MAIN stands for it.
local deadlines = setmetatable({}, { __mode = "k" })
local MAIN = {}
local active = 0 -- with_deadline calls under way, in any coroutine

--- Runs fn(...) with every call it makes bounded by `at` (a time on
--- M.now's clock): no retry starts past it and no attempt outlives it.
--- Nested deadlines keep the earlier one. Returns what fn returns.
function M.with_deadline(at, fn, ...)
  local co = coroutine.running() or MAIN
  local outer = deadlines[co]
  if outer and outer < at then at = outer end
  deadlines[co] = at
  active = active + 1
  local res = pack(pcall(fn, ...))
  active = active - 1
  deadlines[co] = outer
  if not res[1] then error(res[2], 0) end
  return unpack(res, 2, res.n)
end

--- The deadline of the running code, or nil.
function M.deadline()
  if active == 0 then return nil end -- every request asks: spare it the lookup
  return deadlines[coroutine.running() or MAIN]
end

--- dynamo.gather(f1, f2, ...) or dynamo.gather{f1, f2, ...}: runs the
--- functions concurrently and returns their first results in order. When
--- any raises, the others still finish, then the first error is raised.
function M.gather(...)
  local fns = ...
  if type(fns) ~= "table" then fns = pack(...) end
  local n = fns.n or #fns
  for i = 1, n do
    if type(fns[i]) ~= "function" then
      error("bad argument #" .. i .. " to 'gather' (function expected, got " .. type(fns[i]) .. ")", 2)
    end
  end
  local sched = M.scheduler()
  local tasks = {}
  for i = 1, n do tasks[i] = sched:spawn(fns[i]) end
  local function all_done()
    for _, t in ipairs(tasks) do
      if not t.done then return false end
    end
    return true
  end
  M.block_until(sched, all_done)
  local results = {}
  for i, t in ipairs(tasks) do
    if t.failed then error(t.error, 0) end
    results[i] = t.results[1]
  end
  return unpack(results, 1, n)
end

-- Inside nginx, tasks are light threads, waits are ngx.sleep and
-- semaphores, and requests go over cosockets: dynamo.async_ngx replaces
-- current, scheduler, block_until, sleep and request (and sets M.nginx).
M.nginx = false
if type(ngx) == "table" and type(ngx.get_phase) == "function" then
  require("dynamo.async_ngx").install(M)
end

return M
