--- dynamo.async inside nginx. nginx already runs every request, timer and
--- light thread as a coroutine and resumes it when its I/O is done, so here
--- a task is a light thread (ngx.thread.spawn), a wait is ngx.sleep or a
--- semaphore, and requests go over cosockets (dynamo.transport.ngx).
--- dynamo.async installs this when it is loaded inside nginx (the `ngx`
--- table with ngx.get_phase is there); nothing else changes for the code
--- above it: gather, parallel scan, the batch helpers and the credential
--- cache run the same.
---
--- Every coroutine nginx runs counts as a task (M.current() is never nil
--- in a request or timer), so two requests asking for credentials at
--- once share one fetch.
local coroutine, type, error, select, pcall, pairs, next = coroutine, type, error, select, pcall, pairs, next
local setmetatable, tostring, min = setmetatable, tostring, math.min
local unpack = table.unpack or unpack

local M = {}

-- The phases whose code may use cosockets, ngx.sleep and ngx.thread.spawn.
local COSOCKETS = {
  rewrite = true, server_rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true,
}

--- Raises unless the running phase allows cosockets. `what` says what was
--- attempted ("send a DynamoDB request").
function M.check_phase(what)
  local phase = ngx.get_phase()
  if COSOCKETS[phase] then return end
  local advice
  if phase == "init" then
    advice = "create clients here, and make requests from a timer started in init_worker_by_lua*: "
      .. "ngx.timer.at(0, function(premature) ... end)"
  else
    advice = "run it in a timer instead: ngx.timer.at(0, function(premature) ... end)"
  end
  error("dynamo: cannot " .. what .. " in nginx's " .. phase .. " phase, which allows no cosockets; "
    .. advice, 0)
end
local check_phase = M.check_phase

local function pack(...)
  return { n = select("#", ...), ... }
end

-- Tasks by coroutine: the light threads spawned here, and every other
-- coroutine that asks (requests, timers), made on first use. A task never
-- refers to its coroutine, so the weak keys do let it go.
local task_of = setmetatable({}, { __mode = "k" })

-- Coroutines blocked in block_until -> { cond, sema, posted }.
local waiting = setmetatable({}, { __mode = "k" })

-- Light threads by the coroutine that spawned them, until reaped: only
-- that parent may ngx.thread.wait them, and a finished thread stays a
-- zombie until it does (or the parent ends).
local children = setmetatable({}, { __mode = "k" })

--- Wakes the blocked coroutines whose condition now holds. Called at every
--- point where a dynamo coroutine is about to yield (a request, a sleep, a
--- block, a task's end): what it changed since its last yield is then
--- visible to the others. A coroutine that changes state and yields some
--- other way is noticed by the waiters' polling, a little later.
function M.wake()
  if next(waiting) == nil then return end
  for _, w in pairs(waiting) do
    if not w.posted and w.cond() then
      w.posted = true
      w.sema:post(1)
    end
  end
end
local wake = M.wake

local function reap(co)
  local list = children[co]
  if not list then return end
  local keep = {}
  for i = 1, #list do
    local t = list[i]
    if t.done then
      ngx.thread.wait(t.thread)   -- a zombie: returns at once
      t.thread = nil
    else
      keep[#keep + 1] = t
    end
  end
  children[co] = #keep > 0 and keep or nil
end

local Scheduler = {}
Scheduler.__index = Scheduler

-- One for the worker: nginx does the scheduling.
local SCHED = setmetatable({}, Scheduler)

local function run(task, fn, args)
  task_of[coroutine.running()] = task
  local res = pack(pcall(fn, unpack(args, 1, args.n)))
  task.done = true
  if res[1] then
    task.results = pack(select(2, unpack(res, 1, res.n)))
  else
    task.failed, task.error = true, res[2]
  end
  wake()
end

--- Starts fn(...) as a light thread; returns the task, whose fields
--- done, results (or failed and error) are set when it ends. The thread
--- runs at once until its first wait.
function Scheduler:spawn(fn, ...)
  check_phase("start a dynamo task")
  local task = { sched = self }
  local thread, err = ngx.thread.spawn(run, task, fn, pack(...))
  if not thread then error("dynamo: ngx.thread.spawn failed: " .. tostring(err), 2) end
  if not task.done then
    task.thread = thread
    local parent = coroutine.running()
    local list = children[parent]
    if not list then
      list = {}
      children[parent] = list
    end
    list[#list + 1] = task
  else
    ngx.thread.wait(thread)
  end
  return task
end

--- The running coroutine's task (made for it when it has none).
function M.current()
  local co = coroutine.running()
  if not co then return nil end
  local task = task_of[co]
  if not task then
    task = { sched = SCHED }
    task_of[co] = task
  end
  return task
end

function M.scheduler()
  return SCHED
end

-- Polling bounds: a waiter re-checks its condition at least this often
-- (doubling from the first to the second) in case no wake() told it.
local POLL_FIRST, POLL_MAX = 0.005, 0.1
local semaphore   -- ngx.semaphore, loaded on first use

--- Yields until cond() holds; other requests and tasks run meanwhile.
function M.block_until(_, cond)
  local co = coroutine.running()
  if cond() then
    if children[co] then reap(co) end
    return
  end
  check_phase("wait for a dynamo task")
  wake()
  semaphore = semaphore or require "ngx.semaphore"
  local w = { cond = cond, sema = semaphore.new(0) }
  waiting[co] = w
  local pause = POLL_FIRST
  local ok, res = pcall(function()
    while not cond() do
      w.posted = false
      local got, err = w.sema:wait(pause)
      if not got and err ~= "timeout" then ngx.sleep(pause) end
      pause = min(pause * 2, POLL_MAX)
    end
  end)
  waiting[co] = nil
  if not ok then error(res, 0) end
  if children[co] then reap(co) end
end

--- Waits `seconds` (ngx.sleep): other requests and tasks run meanwhile.
function M.sleep(seconds)
  if type(seconds) ~= "number" or not (seconds >= 0) then
    error("bad argument 'seconds' to 'sleep' (non-negative number expected, got "
      .. (type(seconds) == "number" and tostring(seconds) or type(seconds)) .. ")", 2)
  end
  check_phase("sleep")
  wake()
  ngx.sleep(seconds)
end

--- libcurl would block the whole worker: inside nginx requests go through
--- dynamo.transport.ngx, never a core.http client.
function M.request()
  error("dynamo: libcurl (core.http) cannot be used inside nginx: it would block the worker; "
    .. "dynamo.new picks the cosocket transport here (leave out the transport option)", 2)
end

--- Replaces the scheduling functions of dynamo.async (the table `async`).
function M.install(async)
  async.nginx = true
  async.current = M.current
  async.scheduler = M.scheduler
  async.block_until = M.block_until
  async.sleep = M.sleep
  async.request = M.request
end

return M
