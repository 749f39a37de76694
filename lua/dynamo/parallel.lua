--- db:parallel_scan{ table = "t", segments = 4 }: the segments of a Scan
--- run at once (as dynamo.async tasks) and items are handed out as their
--- pages arrive. Each segment keeps its own resume position.
---
--- Memory stays flat: a segment fetches its next page only while its
--- previous one is being consumed (at most one page ahead).
local async = require "dynamo.async"
local paginate = require "dynamo.paginate"
local api = require "dynamo.operations"

local type, error, setmetatable = type, error, setmetatable
local math_type = require("dynamo.compat").math_type

local M = { methods = {} }

local scan_op
for _, op in ipairs(api.operations) do
  if op.name == "Scan" then scan_op = op end
end

local Parallel = {}
Parallel.__index = Parallel

-- One segment's task: fetch pages while the consumer keeps up.
local function run_segment(it, seg)
  local c = seg.cursor
  while not it.closed and not c.fetched_all do
    async.block_until(it.sched, function() return it.closed or seg.ahead == nil end)
    if it.closed then return end
    local page, from = c:fetch()
    if not page then
      it.err = it.err or from
      return
    end
    seg.ahead, seg.ahead_from = page, from
  end
end

-- Is some segment's item or page ready, or is there nothing to wait for?
local function ready(it)
  if it.err or it.closed then return true end
  local all_done = true
  for _, seg in ipairs(it.segs) do
    local c = seg.cursor
    if seg.ahead or c.pos < c.count then return true end
    if not c.fetched_all then all_done = false end
  end
  return all_done
end

--- One item, or nil at the end, or nil, err.
function Parallel:next()
  if not self.sched then self:start() end
  while true do
    if self.err then return nil, self.err end
    if self.closed or (self.limit and self.taken >= self.limit) then break end
    local n = #self.segs
    for i = 1, n do
      -- Round-robin, so no segment starves the others.
      local seg = self.segs[(self.turn + i - 1) % n + 1]
      local c = seg.cursor
      if c.pos >= c.count and seg.ahead then
        c:accept(seg.ahead, seg.ahead_from)
        seg.ahead = nil
      end
      local item, err = c:take()
      if err then
        self.err = err
        return nil, err
      end
      if item ~= nil then
        self.turn = (self.turn + i) % n
        self.taken = self.taken + 1
        return item
      end
    end
    if ready(self) and not self.err then
      local left = false
      for _, seg in ipairs(self.segs) do
        if seg.ahead then left = true end
      end
      if not left then break end
    else
      async.block_until(self.sched, function() return ready(self) end)
    end
  end
  self.done = self:all_read()
  self:close()
  return nil
end

--- Was every segment read to its end?
function Parallel:all_read()
  for _, seg in ipairs(self.segs) do
    if seg.ahead or not seg.cursor:finished() then return false end
  end
  return true
end

function Parallel:__call()
  local item, err = self:next()
  if item == nil and err ~= nil then error(err, 2) end
  return item
end

--- Resume positions, one per segment (pass as `start`): a key, false
--- for a finished segment, nil for one not begun. Field n = segments.
function Parallel:last_keys()
  local out = { n = #self.segs }
  for i, seg in ipairs(self.segs) do
    local c = seg.cursor
    if c:finished() then
      out[i] = false
    else
      out[i] = c:last_key()
    end
  end
  return out
end

-- Spawns the segments' tasks into the scheduler of whoever reads first:
-- the enclosing gather's when read inside a task, else a private one.
function Parallel:start()
  self.sched = async.scheduler()
  for _, seg in ipairs(self.segs) do
    if not seg.cursor.fetched_all then self.sched:spawn(run_segment, self, seg) end
  end
end

--- Stops the segments still fetching (a loop that breaks early should
--- call it; Lua 5.4 for loops do it themselves).
function Parallel:close()
  self.closed = true
end
Parallel.__close = Parallel.close

function Parallel:stats()
  local pages, scanned = 0, 0
  for _, seg in ipairs(self.segs) do
    pages, scanned = pages + seg.cursor.pages, scanned + seg.cursor.scanned
  end
  return { pages = pages, scanned = scanned, items = self.taken, segments = #self.segs }
end

function M.methods.parallel_scan(db, opts)
  if type(opts) ~= "table" then
    error("bad argument #1 to 'parallel_scan' (table expected, got " .. type(opts) .. ")", 2)
  end
  local segments = opts.segments
  if math_type(segments) ~= "integer" or segments < 1 or segments > 1000000 then
    error("bad argument 'segments' to 'parallel_scan' (integer from 1 to 1000000 expected, got "
      .. (type(segments) == "number" and tostring(segments) or type(segments)) .. ")", 2)
  end
  local start = opts.start
  if start ~= nil and type(start) ~= "table" then
    error("bad argument 'start' to 'parallel_scan' (table of per-segment keys expected, got "
      .. type(start) .. ")", 2)
  end
  local rest = {}
  for k, v in pairs(opts) do
    if k ~= "segments" and k ~= "start" and k ~= "limit" then rest[k] = v end
  end
  local params, mine = paginate.prepare("parallel_scan", scan_op, rest, 2)
  local limit = opts.limit
  if limit ~= nil and (math_type(limit) ~= "integer" or limit < 1) then
    error("bad argument 'limit' to 'parallel_scan' (positive integer expected, got " .. tostring(limit) .. ")", 2)
  end

  local it = setmetatable({ segs = {}, taken = 0, turn = 0, limit = limit, done = false }, Parallel)
  for i = 1, segments do
    local p = {}
    for k, v in pairs(params) do p[k] = v end
    p.Segment, p.TotalSegments = i - 1, segments
    local from = start and start[i]
    local c = paginate.new_cursor(db, scan_op, p, { page_size = mine.page_size, start = from or nil },
      "LastEvaluatedKey", true)
    if from == false then c.fetched_all, c.last_page = true, true end -- finished in an earlier run
    it.segs[i] = { cursor = c }
  end
  return it, nil, nil, it
end

return M
