--- db:batch_get(request, opts): items by key from any number of tables, in
--- BatchGetItem requests of at most 100 distinct keys. What DynamoDB leaves
--- unprocessed is asked again with backoff until the deadline; what is
--- still missing then comes back in err.unprocessed, never silently.
local errors = require "dynamo.errors"
local keys = require "dynamo.keys"
local backoff = require "dynamo.batch.backoff"
local async = require "dynamo.async"
local args = require "dynamo.batch.args"

local type, pairs, ipairs, next, pcall, tostring, error = type, pairs, ipairs, next, pcall, tostring, error
local sort, concat = table.sort, table.concat

local M = {
  MAX_KEYS = 100,   -- DynamoDB's limit of keys per BatchGetItem request
}

local ITEM = { ["{}"] = "V" }
local DEFAULT_DEADLINE = 60
local OPTIONS = { ordered = "boolean", deadline = "seconds" }
local FIELDS = { keys = true, projection = true, consistent = true, names = true }

local FN = "batch_get"

local function sorted_names(key)
  local names = {}
  for n in pairs(key) do names[#names + 1] = n end
  sort(names)
  return names
end

-- Checks one key; the first fixes the attribute names every other key of
-- the table must have (DynamoDB would refuse the request otherwise).
local function check_key(db, spec, key, path, level)
  args.want(FN, path, key, "table", level + 1)
  for n in pairs(key) do
    if type(n) ~= "string" then
      args.bad(FN, path, "key attribute names must be strings, got " .. type(n), level + 1)
    end
  end
  if next(key) == nil then args.bad(FN, path, "key expected, got an empty table", level + 1) end
  local ok, msg = pcall(db.codec.encode, db.codec, key, ITEM)
  if not ok then args.bad(FN, path, tostring(msg), level + 1) end
  local names = sorted_names(key)
  if not spec.key_names then
    spec.key_names = names
  elseif concat(names, ", ") ~= concat(spec.key_names, ", ") then
    args.bad(FN, path, "key has attributes " .. concat(names, ", ") .. " but the first key has "
      .. concat(spec.key_names, ", "), level + 1)
  end
end

-- ProjectionExpression and ExpressionAttributeNames for a table. The key
-- attributes are always projected too: results are matched to keys by them.
local function projection(spec, path, level)
  local p, given = spec.projection, spec.names
  if p == nil then
    if given ~= nil then args.bad(FN, path .. ".names", "only used with a projection string", level + 1) end
    return
  end
  local names, present, parts = {}, {}, {}
  if type(p) == "string" then
    if given ~= nil then
      args.want(FN, path .. ".names", given, "table", level + 1)
      for k, v in pairs(given) do names[k] = v end
    end
    -- Top-level attributes named by the expression, directly or through #names.
    for token in p:gmatch("[^,]+") do
      token = token:match("^%s*(.-)%s*$")
      present[names[token] or token] = true
    end
    parts[1] = p
  elseif type(p) == "table" and p[1] ~= nil then
    if given ~= nil then args.bad(FN, path .. ".names", "only used with a projection string", level + 1) end
    for i, n in ipairs(p) do
      args.want(FN, path .. ".projection[" .. i .. "]", n, "string", level + 1)
      names["#p" .. i] = n
      parts[i] = "#p" .. i
      present[n] = true
    end
  else
    args.bad(FN, path .. ".projection", "string or list of attribute names expected, got "
      .. (type(p) == "table" and next(p) == nil and "an empty table" or type(p)), level + 1)
  end
  local k = 0
  for _, n in ipairs(spec.key_names or {}) do
    if not present[n] then
      repeat k = k + 1 until names["#k" .. k] == nil
      names["#k" .. k] = n
      parts[#parts + 1] = "#k" .. k
    end
  end
  spec.params.ProjectionExpression = concat(parts, ", ")
  if next(names) ~= nil then spec.params.ExpressionAttributeNames = names end
end

-- One table of the request: { t, form, keys (the caller's), ids (per
-- position), key_names, params (per-table request members) }.
local function table_spec(db, t, v, level)
  local path = "request." .. t
  args.want(FN, path, v, "table", level + 1)
  local spec = { t = t, ids = {}, params = {} }
  local list, lpath = v, path
  if v.keys ~= nil then
    for f in pairs(v) do
      if not FIELDS[f] then
        args.bad(FN, path .. "." .. tostring(f), "no such field; expected keys, projection, consistent or names", level + 1)
      end
    end
    spec.form, spec.projection, spec.names = "spec", v.projection, v.names
    lpath = path .. ".keys"
    list = args.want(FN, lpath, v.keys, "table", level + 1)
    if v.consistent ~= nil then
      spec.params.ConsistentRead = args.want(FN, path .. ".consistent", v.consistent, "boolean", level + 1)
    end
  else
    spec.form = "list"
  end
  local n = 0
  for _ in pairs(list) do n = n + 1 end
  if n ~= #list then
    args.bad(FN, lpath, "list of keys" .. (spec.form == "list" and " or {keys = ...}" or "") .. " expected", level + 1)
  end
  for i, key in ipairs(list) do check_key(db, spec, key, lpath .. "[" .. i .. "]", level + 1) end
  spec.keys = list
  projection(spec, path, level + 1)
  for i, key in ipairs(list) do spec.ids[i] = keys.identity(key, spec.key_names) end
  return spec
end

-- The keys of `spec` listed back in the shape the caller gave them.
local function shaped(spec, list)
  if spec.form == "list" then return list end
  return { keys = list, projection = spec.projection, consistent = spec.params.ConsistentRead, names = spec.names }
end

local function plural(n)
  return n == 1 and "1 key" or n .. " keys"
end

-- The error for keys not read: `left` are the pending entries, `cause` the
-- last error (nil when the deadline passed with keys still unprocessed).
local function failure(specs, found, cause, left, deadline)
  local by_table = {}
  for _, e in ipairs(left) do
    local list = by_table[e.spec.t]
    if not list then
      list = {}
      by_table[e.spec.t] = list
    end
    list[#list + 1] = e.key
  end
  local unprocessed, partial = {}, {}
  for _, spec in ipairs(specs) do
    if by_table[spec.t] then unprocessed[spec.t] = shaped(spec, by_table[spec.t]) end
    partial[spec.t] = found[spec.t].list
  end
  local err
  if cause then
    local reason = cause.message or cause.code
    if cause.retryable then reason = reason .. " (still failing when the deadline of " .. deadline .. " s passed)" end
    err = errors.new {
      code = cause.code, message = plural(#left) .. " not read: " .. reason,
      status = cause.status, request_id = cause.request_id, operation = cause.operation or "BatchGetItem",
      retryable = cause.retryable, throttle = cause.throttle, cause = cause,
    }
  else
    err = errors.new {
      code = "UnprocessedKeys", operation = "BatchGetItem", retryable = true,
      message = plural(#left) .. " not read: still unprocessed when the deadline of " .. deadline .. " s passed",
    }
  end
  err.unprocessed, err.partial = unprocessed, partial
  return err
end

local function request(pending)
  local items = {}
  for _, e in ipairs(pending) do
    local r = items[e.spec.t]
    if not r then
      r = { Keys = {} }
      for k, v in pairs(e.spec.params) do r[k] = v end
      items[e.spec.t] = r
    end
    r.Keys[#r.Keys + 1] = e.key
  end
  return { RequestItems = items }
end

-- Records the items of a response; returns the entries of `pending` that
-- it lists as UnprocessedKeys (a listed key matching none sent is kept as
-- the server's copy rather than lost).
local function receive(by_table, found, pending, res)
  for t, items in pairs(type(res.Responses) == "table" and res.Responses or {}) do
    local spec, f = by_table[t], found[t]
    if spec and f then
      for _, item in ipairs(items) do
        local id = keys.identity(item, spec.key_names)
        if f.by_id[id] == nil then
          f.by_id[id] = item
          f.list[#f.list + 1] = item
        end
      end
    end
  end
  local listed, back = type(res.UnprocessedKeys) == "table" and res.UnprocessedKeys or {}, {}
  for t, r in pairs(listed) do
    local spec = by_table[t]
    for _, key in ipairs(spec and type(r) == "table" and r.Keys or {}) do
      local id = keys.identity(key, spec.key_names)
      back[t .. "\0" .. id] = { spec = spec, id = id, key = key }
    end
  end
  local left = {}
  for _, e in ipairs(pending) do
    local k = e.spec.t .. "\0" .. e.id
    if back[k] then
      back[k] = nil
      left[#left + 1] = e
    end
  end
  for _, e in pairs(back) do left[#left + 1] = e end
  return left
end

--- db:batch_get(request, opts)
function M.batch_get(db, req, opts)
  args.client(FN, db, "{...}", 2)
  if type(req) ~= "table" then
    error("bad argument #1 to 'batch_get' (table expected, got " .. type(req) .. ")", 2)
  end
  opts = args.options(FN, opts, 2, OPTIONS, 2)
  local names = {}
  for t in pairs(req) do
    if type(t) ~= "string" then
      error("bad argument #1 to 'batch_get' (keys by table name expected, got a " .. type(t) .. " key)", 2)
    end
    names[#names + 1] = t
  end
  sort(names)
  local specs, by_table, found, queue = {}, {}, {}, {}
  for i, t in ipairs(names) do
    local spec = table_spec(db, t, req[t], 2)
    specs[i], by_table[t], found[t] = spec, spec, { by_id = {}, list = {} }
    -- Each distinct key once: DynamoDB refuses duplicates in a request.
    local seen = {}
    for j, key in ipairs(spec.keys) do
      local id = spec.ids[j]
      if not seen[id] then
        seen[id] = true
        queue[#queue + 1] = { spec = spec, id = id, key = key }
      end
    end
  end

  local deadline = opts.deadline or DEFAULT_DEADLINE
  local next_key = 1
  while next_key <= #queue do
    local pending = {}
    for i = next_key, math.min(#queue, next_key + M.MAX_KEYS - 1) do pending[#pending + 1] = queue[i] end
    next_key = next_key + #pending
    local clock = backoff.start(deadline)
    while #pending > 0 do
      local res, err = async.with_deadline(clock.ends, db.batch_get_item, db, request(pending))
      if res then pending = receive(by_table, found, pending, res) end
      if #pending > 0 and not ((res or err.retryable) and backoff.wait(clock)) then
        for i = next_key, #queue do pending[#pending + 1] = queue[i] end
        return nil, failure(specs, found, err, pending, deadline)
      end
    end
  end

  local out = {}
  for _, spec in ipairs(specs) do
    local f = found[spec.t]
    if opts.ordered then
      local list = {}
      for i, id in ipairs(spec.ids) do
        local item = f.by_id[id]
        if item == nil then item = false end
        list[i] = item
      end
      out[spec.t] = list
    else
      out[spec.t] = f.list
    end
  end
  return out
end

return M
