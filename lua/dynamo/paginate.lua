--- Iterators over paginated results: Query and Scan follow
--- LastEvaluatedKey, PartiQL follows NextToken.
---
---   for item in db:query_items{ table = "orders", key = { customer = "c1" } } do ... end
---
--- An error never looks like the end: calling the iterator raises the
--- error value (a dynamo error table; catch it with pcall), and
--- it:next() returns nil, err instead. After the loop (or a break),
--- it:last_key() is where to resume, and it.done says all was read.
local keys = require "dynamo.keys"
local friendly = require "dynamo.params"
local api = require "dynamo.operations"
local lazy = require "dynamo.lazy"

local type, error, setmetatable, pairs = type, error, setmetatable, pairs
local math_type = require("dynamo.compat").math_type

local M = { methods = {} }

local ops = {}
for _, op in ipairs(api.operations) do ops[op.name] = op end

-- Options the iterators take for themselves; everything else is sent.
local own = { limit = true, page_size = true, start = true }

-- Splits the caller's options into the iterator's and the request's
-- (translated to AWS names, so builders are compiled once).
local function prepare(method, op, opts, level)
  if type(opts) ~= "table" then
    error("bad argument #1 to '" .. method .. "' (table expected, got " .. type(opts) .. ")", level + 1)
  end
  local params, mine = {}, {}
  for k, v in pairs(opts) do
    if own[k] then mine[k] = v else params[k] = v end
  end
  for _, name in ipairs { "limit", "page_size" } do
    local v = mine[name]
    if v ~= nil and (math_type(v) ~= "integer" or v < 1) then
      error("bad argument '" .. name .. "' to '" .. method .. "' (positive integer expected, got "
        .. (type(v) == "number" and tostring(v) or type(v)) .. ")", level + 1)
    end
  end
  local view = setmetatable({}, { __index = op })
  view.method = method
  params = friendly.translate(view, params, level + 1)
  if params.Limit and mine.page_size then
    error("bad argument 'page_size' to '" .. method .. "' (given twice, also as 'Limit')", level + 1)
  end
  mine.page_size = mine.page_size or params.Limit
  return params, mine
end

--- A cursor walks the pages of one request stream (one Query, one Scan
--- segment, one PartiQL statement) and remembers where it stands.
local Cursor = {}
Cursor.__index = Cursor

-- lazy: decode each item when it is taken (dynamo.lazy), for iterators
-- that hand out items rather than pages.
local function new_cursor(db, op, params, mine, token_field, lazy_items)
  local c = setmetatable({
    db = db, op = op, params = params, token_field = token_field,
    lazy = lazy_items and lazy.output(op) ~= nil,
    limit = mine.limit, page_size = mine.page_size,
    taken = 0, pos = 0, count = 0, pages = 0, scanned = 0,
    stopped = false,   -- the limit was reached (more may remain)
  }, Cursor)
  c.from = mine.start
  if c.from == nil then
    c.from = params[token_field == "NextToken" and "NextToken" or "ExclusiveStartKey"]
  end
  c.first = c.from
  return c
end

-- Asks for the page after the last one fetched. Returns the page and
-- the position it was fetched from, or nil, err. Fetching may run ahead
-- of consuming (parallel scan), so the cursor's position moves only in
-- accept().
function Cursor:fetch()
  local p = {}
  for k, v in pairs(self.params) do p[k] = v end
  p[self.token_field == "NextToken" and "NextToken" or "ExclusiveStartKey"] = self.from
  local want = self.page_size
  -- Without a filter every evaluated item is returned, so asking for no
  -- more than are still wanted ends the last page exactly at the limit.
  if self.limit and not p.FilterExpression then
    local left = self.limit - self.taken
    if not want or left < want then want = left end
  end
  p.Limit = want
  local res, err
  if self.lazy then
    res, err = lazy.call(self.db, self.op.name, p)
  else
    res, err = self.db:call(self.op.name, p)
  end
  if not res then return nil, err end
  local from = self.from
  self.pages = self.pages + 1
  self.scanned = self.scanned + (res.ScannedCount or 0)
  self.from = res[self.token_field == "NextToken" and "NextToken" or "LastEvaluatedKey"]
  self.fetched_all = self.from == nil
  return res, from
end

-- Makes a fetched page the current one.
function Cursor:accept(page, from)
  self.items = page.Items or {}
  self.count = #self.items
  self.current = nil
  if self.lazy then
    self.read = lazy.reader(self.db.codec, self.op, page)
    -- One incremental GC step per page: the items handed out from the
    -- last page are garbage now, and without it the collector waits for
    -- the heap to double before it starts (20,000 items: 13 MB of growth
    -- instead of 9.5).
    collectgarbage("step", 0)
  end
  self.pos = 0
  self.cut = nil
  self.page_from = from
  self.page_next = page[self.token_field == "NextToken" and "NextToken" or "LastEvaluatedKey"]
  self.last_page = self.page_next == nil
end

--- The next item of the current page, or nil when it is used up, or
--- nil, err when a lazily decoded item is not valid.
function Cursor:take()
  local pos = self.pos + 1
  if pos > self.count then return nil end
  local item, err
  local read = self.read
  if read then
    item, err = read(pos)
    if item == nil then return nil, err end
    self.current = item
  else
    item = self.items[pos]
  end
  self.pos = pos
  local taken = self.taken + 1
  self.taken = taken
  if self.limit and taken >= self.limit then self.stopped = true end
  return item
end

--- Was everything read (the last page fetched and used up)?
function Cursor:finished()
  return self.pos >= self.count and self.last_page == true and not self.cut
end

--- Where to resume: the key after which nothing was taken.
function Cursor:last_key()
  local items = self.items
  if not items then return self.first end          -- nothing taken yet
  if self.pos >= #items and not self.cut then return self.page_next end
  if self.pos == 0 then return self.page_from end
  if self.token_field == "NextToken" then
    return nil, "a PartiQL statement can resume only at a page boundary"
  end
  local names, err = keys.names(self.db, self.params.TableName, self.params.IndexName)
  if not names then return nil, err end
  return keys.of(self.lazy and self.current or items[self.pos], names)
end

-- The iterator object: callable (raises on error), or :next() (values).
local Iterator = {}
Iterator.__index = Iterator

function Iterator:__call()
  local item, err = self:next()
  if item == nil and err ~= nil then error(err, 2) end
  return item
end

--- One item, or nil at the end, or nil, err.
function Iterator:next()
  if self.err then return nil, self.err end
  local c = self.cursor
  while true do
    if c.stopped then break end
    local item, err = c:take()
    if item ~= nil then
      -- finished() only once the page is used up: the usual item is not the last
      self.done = c.pos >= c.count and c:finished()
      return item
    end
    if err then
      self.err = err
      return nil, err
    end
    if c.last_page then break end
    local page, from = c:fetch()
    if not page then
      self.err = from
      return nil, from
    end
    c:accept(page, from)
  end
  self.done = c:finished()
  return nil
end

--- Where a later run can resume (pass it as `start`); nil before the
--- first item when starting from the beginning. it.done is true when
--- everything was read: then there is nothing to resume.
function Iterator:last_key()
  return self.cursor:last_key()
end

--- Pages fetched so far, and items the server evaluated (ScannedCount).
function Iterator:stats()
  return { pages = self.cursor.pages, scanned = self.cursor.scanned, items = self.cursor.taken }
end

local function items_of(method, op_name, token_field)
  local op = ops[op_name]
  return function(db, opts)
    local params, mine = prepare(method, op, opts, 2)
    local it = setmetatable({ done = false }, Iterator)
    it.cursor = new_cursor(db, op, params, mine, token_field, true)
    return it
  end
end

-- Pages instead of items: each step yields a whole response.
local Pages = setmetatable({}, { __index = Iterator })
Pages.__index = Pages
Pages.__call = Iterator.__call

function Pages:next()
  if self.err then return nil, self.err end
  local c = self.cursor
  if c.last_page or c.stopped then
    self.done = c:finished()
    return nil
  end
  local page, from = c:fetch()
  if not page then
    self.err = from
    return nil, from
  end
  c:accept(page, from)
  local n = #c.items
  if c.limit and c.taken + n >= c.limit then
    -- A filtered page can hold more than are still wanted: cut it, and
    -- last_key() then points at the last item kept.
    n = c.limit - c.taken
    if n < #c.items then
      local kept = {}
      for i = 1, n do kept[i] = c.items[i] end
      local copy = {}
      for k, v in pairs(page) do copy[k] = v end
      copy.Items, copy.Count = kept, n
      c.items, c.count, page = kept, n, copy
      c.cut = true
    end
    c.stopped = true
  end
  c.pos = n
  c.taken = c.taken + n
  self.done = c:finished()
  return page
end

local function pages_of(method, op_name, token_field)
  local op = ops[op_name]
  return function(db, opts)
    local params, mine = prepare(method, op, opts, 2)
    local it = setmetatable({ done = false }, Pages)
    it.cursor = new_cursor(db, op, params, mine, token_field)
    return it
  end
end

M.methods.query_items = items_of("query_items", "Query", "LastEvaluatedKey")
M.methods.scan_items = items_of("scan_items", "Scan", "LastEvaluatedKey")
M.methods.query_pages = pages_of("query_pages", "Query", "LastEvaluatedKey")
M.methods.scan_pages = pages_of("scan_pages", "Scan", "LastEvaluatedKey")
M.methods.execute = items_of("execute", "ExecuteStatement", "NextToken")
M.methods.execute_pages = pages_of("execute_pages", "ExecuteStatement", "NextToken")

M.Cursor = Cursor
M.prepare = prepare
M.new_cursor = new_cursor

return M
