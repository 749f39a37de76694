--- The migration engine: each segment of the Scan is a dynamo.async task
--- (all of them in one dynamo.gather) that reads a page, asks the
--- migration function about each item, saves the page's planned writes
--- (the journal), sends them (several at once; the segments' writes run
--- concurrently too), then checkpoints: its position and counts in the
--- state file (and the checkpoint table). Reads and writes draw on the
--- --max-rcu / --max-wcu buckets, charged what the server says it
--- consumed; an empty bucket makes only the waiting task sleep.
---
--- Counts: scanned (every item the server read, those a filter left out
--- included); then, per item the function saw: changed (written),
--- unchanged (nothing to change),
--- skipped (the conditional write found the item already changed: by an
--- earlier run of this migration, or by someone else since it was read),
--- failed (the function raised, its answer cannot be applied, or the write
--- was refused; each goes to the failed-items file). A write that fails
--- with a retryable error (throttling, network) after the client's
--- retries stops its segment instead, journal kept, so that the next run
--- sends it again.
local dynamo = require "dynamo"
local change = require "dynamo.cli.migrate.change"
local state = require "dynamo.cli.migrate.state"
local ratelimit = require "dynamo.cli.ratelimit"
local script_env = require "dynamo.cli.script_env"

local M = {}

local function add_counts(into, from)
  for _, c in ipairs(state.COUNTS) do into[c] = (into[c] or 0) + (from[c] or 0) end
end

-- A write's capacity when the server does not say (a failed condition):
-- one unit per KB of the item, as DynamoDB charges.
local function estimate(plan)
  local ok, size = pcall(dynamo.item_size, plan.expect or {})
  return ok and math.max(1, math.ceil(size / 1024)) or 1
end

-- Sends a page's writes, E.writers at a time. Adds the outcomes to
-- `counts` and write failures to `failures`. Returns nil, or the
-- retryable error that stopped a write (the page is then not done).
local function apply(E, page, counts, failures)
  local writes, i, stop = page.writes or {}, 0, nil
  local function worker()
    while not stop do
      i = i + 1
      local plan = writes[i]
      if not plan then return end
      local method, params = change.request(plan, E.table, E.key_names)
      E.write:take()
      local res, err = E.db[method](E.db, params)
      E.write:spend(ratelimit.consumed(res) or estimate(plan))
      if res then
        counts.changed = counts.changed + 1
        E.counts.changed = E.counts.changed + 1
      elseif err.code == "ConditionalCheckFailedException" then
        counts.skipped = counts.skipped + 1
        E.counts.skipped = E.counts.skipped + 1
      elseif err.retryable then
        stop = stop or err
      else
        counts.failed = counts.failed + 1
        E.counts.failed = E.counts.failed + 1
        failures[#failures + 1] = { key = plan.key, code = err.code, message = err.message }
      end
      E.progress:update(E.counts)
    end
  end
  local n = math.min(E.writers, #writes)
  if n > 0 then
    local fns = {}
    for w = 1, n do fns[w] = worker end
    dynamo.gather(fns)
  end
  return stop
end

-- Ends a page: its failures to the failed-items file, its counts and
-- position to the segment, the state saved (journal dropped), the
-- checkpoint table told.
local function checkpoint(E, seg, page, counts, failures)
  if E.failed then
    local all = {}
    for _, f in ipairs(page.failures or {}) do all[#all + 1] = f end
    for _, f in ipairs(failures) do all[#all + 1] = f end
    E.failed:add(seg.segment, page.seq, all)
  end
  add_counts(seg, counts)
  seg.pages = page.seq
  seg.last_key = page.next
  seg.status = page.next == nil and "done" or "running"
  seg.page = nil
  seg.updated = state.now()
  if E.state then state.save(E.state, E.state_path) end
  if E.checkpoints then
    local ok, err = E.checkpoints:save(seg, E.total_segments)
    if not ok and not E.warned then
      E.warned = true
      io.stderr:write("dynamo migrate: cannot save checkpoints to table '", E.checkpoints.name, "': ",
        tostring(err), " (the state file has them)\n")
    end
  end
end

-- The counts a page starts with: what was decided before any write.
local function page_counts(page)
  local c = { scanned = 0, changed = 0, unchanged = 0, skipped = 0, failed = 0 }
  for k, v in pairs(page.counts or {}) do c[k] = v end
  return c
end

-- Sends the writes of a page and checkpoints it; false, err when a
-- retryable error stopped it.
local function finish_page(E, seg, page)
  local counts, failures = page_counts(page), {}
  local stop = apply(E, page, counts, failures)
  if stop then return false, stop end
  checkpoint(E, seg, page, counts, failures)
  return true
end

-- What the migration function makes of one page's items: the page with
-- its planned writes, failures and counts.
local function plan_page(E, seg, res)
  local items = res.Items or {}
  -- Scanned: every item the server read, those a filter left out included.
  local scanned = math.max(res.ScannedCount or 0, #items)
  local page = { seq = seg.pages + 1, next = res.LastEvaluatedKey, writes = {}, failures = {},
    counts = { scanned = scanned, unchanged = 0, failed = 0 } }
  E.counts.scanned = E.counts.scanned + scanned
  for _, item in ipairs(items) do
    local ok, ret = pcall(E.migrate, change.copy(item))
    local plan, why, code
    if ok then
      plan, why = change.plan(item, ret, E.key_names)
      code = "BadChange"
    else
      why, code = script_env.message(ret), "MigrateError"
    end
    if plan then
      page.writes[#page.writes + 1] = plan
      if E.dry_run then E.out(change.diff(plan)) end
    elseif why then
      local key = {}
      for _, k in ipairs(E.key_names) do key[k] = item[k] end
      page.failures[#page.failures + 1] = { key = key, code = code, message = why }
      page.counts.failed = page.counts.failed + 1
      E.counts.failed = E.counts.failed + 1
      if E.dry_run then E.out({ "! " .. change.show_key(key) .. "  " .. code .. ": " .. why }) end
    else
      page.counts.unchanged = page.counts.unchanged + 1
      E.counts.unchanged = E.counts.unchanged + 1
    end
  end
  if #page.failures == 0 then page.failures = nil end
  return page
end

-- One segment, from where its state says to its end.
local function run_segment(E, seg)
  if seg.status == "done" then return end
  if seg.page and not E.dry_run then
    -- A journal: the page a killed run was writing. Send its writes again.
    local page = seg.page
    E.counts.scanned = E.counts.scanned + (page.counts and page.counts.scanned or 0)
    E.counts.unchanged = E.counts.unchanged + (page.counts and page.counts.unchanged or 0)
    E.counts.failed = E.counts.failed + (page.counts and page.counts.failed or 0)
    E.replayed = E.replayed + #(page.writes or {})
    local ok, err = finish_page(E, seg, page)
    if not ok then return err end
  end
  while seg.status ~= "done" do
    if E.abort then return E.abort end
    E.read:take()
    local res, err = E.db:scan {
      TableName = E.table, IndexName = E.index, filter = E.filter,
      ExpressionAttributeNames = E.names, ExpressionAttributeValues = E.values,
      ConsistentRead = E.consistent or nil, Segment = seg.segment, TotalSegments = E.total_segments,
      ExclusiveStartKey = seg.last_key, Limit = E.page_size, ReturnConsumedCapacity = "TOTAL",
    }
    if not res then return err end
    E.read:spend(ratelimit.consumed(res) or 0)
    local page = plan_page(E, seg, res)
    E.progress:update(E.counts)
    if E.dry_run then
      E.counts.changed = E.counts.changed + #page.writes
      seg.pages, seg.last_key = page.seq, page.next
      seg.status = page.next == nil and "done" or "running"
    elseif #page.writes == 0 then
      checkpoint(E, seg, page, page_counts(page), {})
    else
      seg.page = page
      state.save(E.state, E.state_path)   -- the journal, before any write
      local ok, stop = finish_page(E, seg, page)
      if not ok then return stop end
    end
  end
end

--- Runs the segments E.segs (state-file entries) to their ends, all at
--- once. E: db, table, index, filter, names, values, consistent, migrate,
--- key_names, total_segments, page_size, writers, dry_run, out (prints a
--- dry run's lines), state, state_path, checkpoints, failed, read and
--- write (buckets), progress, counts (this run's, updated as it goes).
--- Returns the list of segments that stopped: { { segment =, err = } }.
function M.run(E)
  E.replayed = 0
  local stopped = {}
  local tasks = {}
  for i, seg in ipairs(E.segs) do
    tasks[i] = function()
      -- A segment that raises (a bug: the function's own errors are caught
      -- per item) stops the others at their next page, each checkpointed.
      local ok, err = pcall(run_segment, E, seg)
      if not ok then
        E.abort = E.abort or "stopped because segment " .. seg.segment .. " failed"
        err = "internal error: " .. tostring(err)
      end
      if err then stopped[#stopped + 1] = { segment = seg.segment, err = err } end
    end
  end
  dynamo.gather(tasks)
  table.sort(stopped, function(a, b) return a.segment < b.segment end)
  return stopped
end

return M
