--- db:batch_writer(opts) and db:batch_write(requests, opts): puts and
--- deletes across tables, sent as BatchWriteItem requests. The promise:
--- every write is either done or handed back in err.unprocessed; none is
--- ever dropped.
local errors = require "dynamo.errors"
local keys = require "dynamo.keys"
local backoff = require "dynamo.batch.backoff"
local async = require "dynamo.async"
local args = require "dynamo.batch.args"

local type, pairs, ipairs, next, pcall, tostring, error = type, pairs, ipairs, next, pcall, tostring, error
local getmetatable, setmetatable, sort = getmetatable, setmetatable, table.sort

local M = {
  -- DynamoDB's limits per BatchWriteItem request. Bytes are counted as
  -- encoded JSON, which is never smaller than what DynamoDB counts, and
  -- 16 MB as 16 * 10^6. Tests lower these to exercise the splitting.
  MAX_ITEMS = 25,
  MAX_BYTES = 16 * 1000 * 1000,
}

-- JSON bytes around the items: the request's envelope, a table's
-- "name":[...], an entry's {"PutRequest":{"Item":...}}, (rounded up).
local REQUEST_OVERHEAD, TABLE_OVERHEAD, ENTRY_OVERHEAD = 128, 8, 32
-- The value map to encode one item on its own, to learn its size.
local ITEM = { ["{}"] = "V" }
local DEFAULT_DEADLINE = 60
local OPTIONS = { deadline = "seconds", on_progress = "function", return_consumed = "boolean" }

local Writer = {}
Writer.__index = Writer
Writer.__name = "dynamo.batch_writer"

-- A write as kept inside: table, "put" or "delete", the caller's item or
-- key, its size in request bytes, and (once known) its key identity.
-- Raises for a bad argument: what cannot be encoded is found here, at the
-- caller's line, not in the middle of a flush.
local function prepare(db, fn, t, kind, value, tname, vname, level)
  if type(t) ~= "string" then
    args.bad(fn, tname, "string expected, got " .. type(t), level + 1)
  elseif t == "" then
    args.bad(fn, tname, "non-empty string expected, got empty string", level + 1)
  end
  args.want(fn, vname, value, "table", level + 1)
  local ok, json = pcall(db.codec.encode, db.codec, value, ITEM)
  if not ok then args.bad(fn, vname, tostring(json), level + 1) end
  return { t = t, kind = kind, value = value, bytes = #json + ENTRY_OVERHEAD }
end

-- "table\0key identity": equal for two writes exactly when DynamoDB sees
-- the same item. Needs the table's key names (DescribeTable, cached).
local function identify(db, e)
  local names, err = keys.names(db, e.t)
  if not names then return nil, err end
  for _, n in ipairs(names) do
    if e.value[n] == nil then
      return nil, errors.new {
        code = "ValidationException",
        message = "a " .. e.kind .. " to table '" .. e.t .. "' lacks the key attribute '" .. n .. "'",
        operation = "BatchWriteItem",
        retryable = false,
      }
    end
  end
  return e.t .. "\0" .. keys.identity(e.value, names)
end

-- Takes the next request's writes from the front of the buffer: at most
-- MAX_ITEMS distinct keys and MAX_BYTES. A later write to a key already in
-- the request replaces the earlier one in place (last write wins: DynamoDB
-- refuses two writes to one key in one request). Returns the writes, or
-- nil, err with the buffer untouched.
local function take(w)
  local buf = w.buf
  local chunk = { superseded = 0 }
  local at, tables, bytes, n, used = {}, {}, REQUEST_OVERHEAD, 0, 0
  for i = 1, #buf do
    local e = buf[i]
    if not e.id then
      local id, err = identify(w.db, e)
      if not id then return nil, err end
      e.id = id
    end
    local j = at[e.id]
    if j then
      local grown = bytes - chunk[j].bytes + e.bytes
      if grown > M.MAX_BYTES then break end
      chunk[j], bytes = e, grown
      chunk.superseded = chunk.superseded + 1
    else
      local add = e.bytes + (tables[e.t] and 0 or TABLE_OVERHEAD + #e.t)
      if n == M.MAX_ITEMS or n > 0 and bytes + add > M.MAX_BYTES then break end
      n = n + 1
      chunk[n], at[e.id], tables[e.t], bytes = e, n, true, bytes + add
    end
    used = i
  end
  local rest, rest_bytes = {}, 0
  for i = used + 1, #buf do
    rest[#rest + 1] = buf[i]
    rest_bytes = rest_bytes + buf[i].bytes
  end
  w.buf, w.bytes = rest, rest_bytes
  return chunk
end

local function request(pending, consumed)
  local items = {}
  for _, e in ipairs(pending) do
    local list = items[e.t]
    if not list then
      list = {}
      items[e.t] = list
    end
    list[#list + 1] = e.kind == "put" and { PutRequest = { Item = e.value } } or { DeleteRequest = { Key = e.value } }
  end
  return { RequestItems = items, ReturnConsumedCapacity = consumed and "TOTAL" or nil }
end

-- The writes of `pending` that the response lists in UnprocessedItems, in
-- the caller's order. A listed write that matches none sent (a server
-- bug) is kept as the server's copy rather than lost.
local function unprocessed(db, pending, listed)
  local left = {}
  if type(listed) ~= "table" or next(listed) == nil then return left end
  local sent = {}
  for _, e in ipairs(pending) do sent[e.id] = e end
  local back, strays = {}, {}
  for t, reqs in pairs(listed) do
    local names = keys.names(db, t)
    for _, r in ipairs(reqs) do
      local kind, value = "put", r.PutRequest and r.PutRequest.Item
      if value == nil then kind, value = "delete", r.DeleteRequest and r.DeleteRequest.Key end
      local id = names and value and t .. "\0" .. keys.identity(value, names)
      if id and sent[id] then
        back[id] = true
      else
        strays[#strays + 1] = { t = t, kind = kind, value = value, bytes = 0, id = id or {} }
      end
    end
  end
  for _, e in ipairs(pending) do
    if back[e.id] then left[#left + 1] = e end
  end
  for _, e in ipairs(strays) do left[#left + 1] = e end
  return left
end

local function add_consumed(w, res)
  for _, c in ipairs(type(res.ConsumedCapacity) == "table" and res.ConsumedCapacity or {}) do
    if c.TableName and c.CapacityUnits then
      w.consumed[c.TableName] = (w.consumed[c.TableName] or 0) + c.CapacityUnits
    end
  end
end

local function plural(n)
  return n == 1 and "1 item" or n .. " items"
end

-- err.unprocessed gets one more write, in the shape the caller gave it.
local function hand_back(w, e)
  local list = w.err.unprocessed[e.t]
  if not list then
    list = {}
    w.err.unprocessed[e.t] = list
  end
  list[#list + 1] = { [e.kind] = e.value }
  w.unsent = w.unsent + 1
  w.err.message = plural(w.unsent) .. " not written: " .. w.reason
end

-- Stops the writer: the writes of the failed request and everything
-- buffered go to err.unprocessed, and so do all later writes, so that
-- close() returns every write not done. `cause` is nil when the deadline
-- passed with writes still unprocessed.
local function fail(w, cause, pending)
  local err
  if cause then
    w.reason = cause.message or cause.code
    if cause.retryable then
      w.reason = w.reason .. " (still failing when the deadline of " .. w.deadline .. " s passed)"
    end
    err = errors.new {
      code = cause.code, status = cause.status, request_id = cause.request_id,
      operation = cause.operation or "BatchWriteItem",
      retryable = cause.retryable, throttle = cause.throttle, cause = cause, attempts = cause.attempts,
    }
  else
    w.reason = "still unprocessed when the deadline of " .. w.deadline .. " s passed"
    err = errors.new { code = "UnprocessedItems", operation = "BatchWriteItem", retryable = true }
  end
  err.unprocessed = {}
  w.err, w.unsent = err, 0
  local buf = w.buf
  w.buf, w.bytes = {}, 0
  for _, e in ipairs(pending or {}) do hand_back(w, e) end
  for _, e in ipairs(buf) do hand_back(w, e) end
  if w.unsent == 0 then err.message = "0 items not written: " .. w.reason end
  return nil, err
end

-- Sends one request's worth from the buffer and retries what comes back
-- (UnprocessedItems, retryable errors) with backoff until the deadline.
-- The next request starts only when this one is done, so writes to one key
-- land in the order they were made.
local function send(w)
  local clock = backoff.start(w.deadline)
  local chunk, err
  repeat
    chunk, err = take(w)
    if not chunk and not (err.retryable and backoff.wait(clock)) then return fail(w, err) end
  until chunk
  local pending = chunk
  while true do
    local res
    -- The deadline bounds the client's own retries inside the call too.
    res, err = async.with_deadline(clock.ends, w.db.batch_write_item, w.db, request(pending, w.return_consumed))
    if res then
      add_consumed(w, res)
      local left = unprocessed(w.db, pending, res.UnprocessedItems)
      w.written = w.written + #pending - #left
      if #left == 0 then w.written = w.written + chunk.superseded end
      pending = left
      if w.on_progress then w.on_progress(w.written, #pending + #w.buf) end
      if #pending == 0 then return true end
      if not backoff.wait(clock) then return fail(w, nil, pending) end
    elseif not (err.retryable and backoff.wait(clock)) then
      return fail(w, err, pending)
    end
  end
end

-- Buffers a prepared write; sends full requests as the buffer fills.
local function add(w, e)
  if w.err then
    hand_back(w, e)
    return nil, w.err
  end
  w.buf[#w.buf + 1] = e
  w.bytes = w.bytes + e.bytes
  while #w.buf >= M.MAX_ITEMS or w.bytes >= M.MAX_BYTES do
    local ok, err = send(w)
    if not ok then return nil, err end
  end
  return true
end

local function check_self(w, fn, example)
  if getmetatable(w) ~= Writer then
    error("bad self to '" .. fn .. "' (call it as w:" .. fn .. example .. ", with a colon)", 3)
  end
  if w.closed then error("'" .. fn .. "' on a closed batch writer", 3) end
end

--- w:put(table_name, item): buffers a put. Returns true, or nil, err when
--- the writer has failed (err as from close).
function Writer:put(t, item)
  check_self(self, "put", "(table_name, item)")
  return add(self, prepare(self.db, "put", t, "put", item, "table", "item", 2))
end

--- w:delete(table_name, key): buffers a delete.
function Writer:delete(t, key)
  check_self(self, "delete", "(table_name, key)")
  return add(self, prepare(self.db, "delete", t, "delete", key, "table", "key", 2))
end

--- w:flush(): sends everything buffered. true, or nil, err.
function Writer:flush()
  check_self(self, "flush", "()")
  if self.err then return nil, self.err end
  while #self.buf > 0 do
    local ok, err = send(self)
    if not ok then return nil, err end
  end
  return true
end

--- w:close(): flushes and ends the writer. true, or nil, err with
--- err.unprocessed = every write not done. Closing again returns the same.
function Writer:close()
  if getmetatable(self) ~= Writer then
    error("bad self to 'close' (call it as w:close(), with a colon)", 2)
  end
  if not self.closed then
    self.result, self.close_err = self:flush()
    self.closed = true
  end
  return self.result, self.close_err
end

local function new(db, opts)
  return setmetatable({
    db = db,
    deadline = opts.deadline or DEFAULT_DEADLINE,
    on_progress = opts.on_progress,
    return_consumed = opts.return_consumed,
    buf = {}, bytes = 0,
    written = 0,     -- writes done (a write replaced by a later one to its key counts as done)
    consumed = {},   -- capacity units by table, with return_consumed
  }, Writer)
end

--- db:batch_writer(opts)
function M.batch_writer(db, opts)
  args.client("batch_writer", db, "{...}", 2)
  return new(db, args.options("batch_writer", opts, 1, OPTIONS, 2))
end

-- One write of db:batch_write's argument, checked and prepared.
local function entry(db, r, path, t, level)
  if type(r) ~= "table" then args.bad("batch_write", path, "table expected, got " .. type(r), level + 1) end
  if r.put ~= nil and r.delete ~= nil then
    args.bad("batch_write", path, "put or delete expected, not both", level + 1)
  elseif r.put == nil and r.delete == nil then
    args.bad("batch_write", path, "put or delete expected", level + 1)
  end
  local kind = r.put ~= nil and "put" or "delete"
  return prepare(db, "batch_write", t, kind, r[kind], path .. ".table", path .. "." .. kind, level + 1)
end

-- db:batch_write's argument, all checked before anything is sent: a list
-- { {table = t, put = item}, ... } or, by table, { t = { {put = item}, ... } }.
local function entries(db, requests, level)
  local list, n = {}, 0
  for _ in pairs(requests) do n = n + 1 end
  if requests[1] ~= nil then
    if n ~= #requests then
      error("bad argument #1 to 'batch_write' (a list of requests or requests by table expected, got a mix)", level + 1)
    end
    for i, r in ipairs(requests) do
      local path = "requests[" .. i .. "]"
      list[i] = entry(db, r, path, type(r) == "table" and r.table or nil, level + 1)
    end
    return list
  end
  local names = {}
  for t, reqs in pairs(requests) do
    if type(t) ~= "string" then
      error("bad argument #1 to 'batch_write' (a list of requests or requests by table expected, got a "
        .. type(t) .. " key)", level + 1)
    end
    local path = "requests." .. t
    args.want("batch_write", path, reqs, "table", level + 1)
    if next(reqs) ~= nil and reqs[1] == nil then
      args.bad("batch_write", path, "list of {put = item} or {delete = key} expected", level + 1)
    end
    names[#names + 1] = t
  end
  sort(names)
  for _, t in ipairs(names) do
    for i, r in ipairs(requests[t]) do
      local path = "requests." .. t .. "[" .. i .. "]"
      if type(r) == "table" and r.table ~= nil and r.table ~= t then
        args.bad("batch_write", path .. ".table", "differs from the table it is listed under", level + 1)
      end
      list[#list + 1] = entry(db, r, path, t, level + 1)
    end
  end
  return list
end

--- db:batch_write(requests, opts): the writer in one call. Returns
--- { written = n, consumed = {...}? }, or nil, err as from w:close().
function M.batch_write(db, requests, opts)
  args.client("batch_write", db, "{...}", 2)
  if type(requests) ~= "table" then
    error("bad argument #1 to 'batch_write' (table expected, got " .. type(requests) .. ")", 2)
  end
  opts = args.options("batch_write", opts, 2, OPTIONS, 2)
  local list = entries(db, requests, 2)
  local w = new(db, opts)
  -- A failure stops sending; later writes still go to err.unprocessed.
  for _, e in ipairs(list) do add(w, e) end
  local ok, err = w:close()
  if not ok then return nil, err end
  return { written = w.written, consumed = opts.return_consumed and w.consumed or nil }
end

return M
