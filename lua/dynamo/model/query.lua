--- Reading many instances: Model:query, Model:scan, Model:count,
--- Model:batch_get, Model:batch_write, and dynamo.collection for queries
--- across the models of one table. Iterators hand out instances and keep
--- the item iterators' promises: errors raise (or it:next() returns nil,
--- err), it:last_key() resumes.
local expr = require "dynamo.expr"

local type, pairs, ipairs, next, error, tostring, setmetatable, getmetatable =
  type, pairs, ipairs, next, error, tostring, setmetatable, getmetatable
local attr, all = expr.public.attr, expr.public.all

local M = {}
local models -- dynamo.model, set by init (it requires this file)

function M.init(m) models = m end

-- Items to instances, as an iterator object like the item iterators.
local Instances = {}
Instances.__index = Instances

function Instances:next()
  local item, err = self.items:next()
  if item == nil then
    self.done = self.items.done
    return nil, err
  end
  local model = self.pick(item)
  -- An item of another entity type (a collection without its model) is
  -- handed out as it is rather than dropped.
  if not model then return item end
  local inst, lerr = models.load(model, item, self.db, self.how)
  if not inst then
    self.err = lerr
    return nil, lerr
  end
  return inst
end

function Instances:__call()
  local v, err = self:next()
  if v == nil and err ~= nil then error(err, 2) end
  return v
end

function Instances:last_key() return self.items:last_key() end
function Instances:stats() return self.items:stats() end

-- how: what models.load needs to know about the items (partial, hidden).
local function instances(db, items, pick, how)
  return setmetatable({ db = db, items = items, pick = pick, how = how, done = false }, Instances)
end

-- Are items read this way partial (a projection, or an index that does not
-- project everything)?
local function partial(model, index, opts)
  if opts.projection then return true end
  if index == nil or index == "primary" then return false end
  local ix = model.schema.indexes[index]
  return ix ~= nil and ix.projection ~= "all"
end

-- The physical index name for a model's index (nil: the table).
local function index_name(model, index, method)
  if index == nil or index == "primary" then return nil end
  local ix = model.schema.indexes[index]
  if not ix then
    local names = {}
    for n in pairs(model.schema.indexes) do names[#names + 1] = "'" .. n .. "'" end
    table.sort(names)
    error("bad argument #1 to '" .. model.name .. ":" .. method .. "' (no index '" .. tostring(index)
      .. "'; the model has " .. (#names > 0 and table.concat(names, ", ") or "none") .. ")", 4)
  end
  return ix.name
end

-- The filter that keeps only this model's items (and the caller's filter).
local function entity_filter(model, filter)
  local e = model.schema.entity_attribute
  local mine = e and attr { e }:eq(model.name) or nil
  if mine and filter then return all { mine, filter } end
  return mine or filter
end

local ITER_OPTS = { filter = 1, limit = 1, page_size = 1, start = 1, forward = 1, consistent = 1, db = 1,
  projection = 1, all_types = 1, hidden = 1 }

local function check_opts(model, method, opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error("bad argument #3 to '" .. model.name .. ":" .. method .. "' (table expected, got " .. type(opts) .. ")", 3)
  end
  for k in pairs(opts) do
    if not ITER_OPTS[k] then
      error("bad argument #3 to '" .. model.name .. ":" .. method .. "' (unknown option '" .. tostring(k) .. "')", 3)
    end
  end
  return opts
end

-- The Query parameters for a model, an index and key fields.
local function query_params(model, index, fields, opts, method)
  local physical = index_name(model, index, method)
  local ok, cond = pcall(model.schema.key_condition, model.schema, index ~= "primary" and index or nil, fields or {})
  if not ok then
    error("bad argument #2 to '" .. model.name .. ":" .. method .. "' (" .. tostring(cond):gsub("^[^:]*:%d+: ", "") .. ")", 3)
  end
  return {
    table = model.schema.table, index = physical, key = cond,
    filter = opts.all_types and opts.filter or entity_filter(model, opts.filter),
    limit = opts.limit, page_size = opts.page_size, start = opts.start, forward = opts.forward,
    consistent = opts.consistent, projection = opts.projection,
  }
end

--- Model:query(index, fields, opts): instances whose key (of the table, or
--- of the named index) matches fields: the partition template must be
--- complete; a sort template given only its leading fields becomes a
--- begins_with. opts: filter, limit, page_size, start, forward, consistent.
function M.query(model, index, fields, opts)
  opts = check_opts(model, "query", opts)
  local db = models.client(model, opts, "query")
  local items = db:query_items(query_params(model, index, fields, opts, "query"))
  return instances(db, items, function() return model end,
    { partial = partial(model, index, opts), hidden = opts.hidden })
end

--- Model:scan(opts): every instance of the model in its table.
function M.scan(model, opts)
  opts = check_opts(model, "scan", opts)
  local db = models.client(model, opts, "scan")
  local items = db:scan_items {
    table = model.schema.table, filter = entity_filter(model, opts.filter), limit = opts.limit,
    page_size = opts.page_size, start = opts.start, consistent = opts.consistent,
  }
  return instances(db, items, function() return model end, { hidden = opts.hidden })
end

--- Model:count(index, fields, opts): how many items match (Select COUNT
--- over every page); a scan count with no index and no fields.
function M.count(model, index, fields, opts)
  opts = check_opts(model, "count", opts)
  local db = models.client(model, opts, "count")
  local pages
  if index == nil and fields == nil then
    pages = db:scan_pages { table = model.schema.table, filter = entity_filter(model, opts.filter), select = "COUNT",
      consistent = opts.consistent }
  else
    local p = query_params(model, index, fields, opts, "count")
    p.select = "COUNT"
    pages = db:query_pages(p)
  end
  local n = 0
  while true do
    local page, err = pages:next()
    if err then return nil, err end
    if not page then return n end
    n = n + (page.Count or 0)
  end
end

--- Model:batch_get(list_of_key_fields, opts): instances in input order,
--- false where no item exists; or nil, err (err.unprocessed as batch_get's).
function M.batch_get(model, list, opts)
  opts = opts or {}
  if type(list) ~= "table" then
    error("bad argument #1 to '" .. model.name .. ":batch_get' (list of keys expected, got " .. type(list) .. ")", 2)
  end
  local db = models.client(model, opts, "batch_get")
  local keys = {}
  for i, fields in ipairs(list) do
    local key, kerr = model.schema:key(fields)
    if not key then error("bad argument #1 to '" .. model.name .. ":batch_get' (keys[" .. i .. "]: " .. kerr.message .. ")", 2) end
    keys[i] = key
  end
  local res, err = db:batch_get({ [model.schema.table] = { keys = keys, consistent = opts.consistent } }, { ordered = true })
  if not res then return nil, err end
  local out = {}
  for i, item in ipairs(res[model.schema.table]) do
    if item then
      local inst, lerr = models.load(model, item, db, { hidden = opts.hidden })
      if not inst then return nil, lerr end
      out[i] = inst
    else
      out[i] = false
    end
  end
  return out
end

--- Model:batch_write{ save = { instances }, delete = { instances or key fields } }:
--- new instances are validated and written whole (puts: no condition, no
--- version check, as BatchWriteItem allows none). true, or nil, err.
function M.batch_write(model, ops, opts)
  opts = opts or {}
  if type(ops) ~= "table" then
    error("bad argument #1 to '" .. model.name .. ":batch_write' (table expected, got " .. type(ops) .. ")", 2)
  end
  local db = models.client(model, opts, "batch_write")
  local s = model.schema
  local instance = require "dynamo.model.instance"
  local requests, finish = {}, {}
  for i, inst in ipairs(ops.save or {}) do
    if not instance.state[inst] or instance.state[inst].model ~= model then
      error("bad argument #1 to '" .. model.name .. ":batch_write' (save[" .. i .. "]: an instance of " .. model.name .. " expected)", 2)
    end
    local st = instance.state[inst]
    if st.partial or (not st.new and not st.with_hidden and next(s.fields) and M.has_hidden(s)) then
      error("bad argument #1 to '" .. model.name .. ":batch_write' (save[" .. i .. "]: " .. tostring(inst)
        .. " was read without all its fields; a batch put would drop the others)", 2)
    end
    local values = instance.values(inst)
    s:defaults(values, st.new and "create" or "update", os.time())
    if s.version_field then values[s.version_field] = (values[s.version_field] or 0) + 1 end
    local valid, verr = s:validate(values, "create")
    if not valid then return nil, verr end
    local ok, cerr = models.count_up(model, values, db)
    if not ok then return nil, cerr end
    local item, ierr = s:to_item(values)
    if not item then return nil, ierr end
    requests[#requests + 1] = { put = item }
    finish[#finish + 1] = function()
      for k, v in pairs(values) do inst[k] = v end
      instance.state[inst].loaded, instance.state[inst].new = instance.copy(values), false
    end
  end
  for i, target in ipairs(ops.delete or {}) do
    local st = instance.state[target]
    local key, kerr = s:key(st and (st.loaded or instance.values(target)) or target)
    if not key then error("bad argument #1 to '" .. model.name .. ":batch_write' (delete[" .. i .. "]: " .. kerr.message .. ")", 2) end
    requests[#requests + 1] = { delete = key }
  end
  if #requests == 0 then return true end
  local res, err = db:batch_write({ [s.table] = requests }, { deadline = opts.deadline })
  if not res then return nil, err end
  for _, f in ipairs(finish) do f() end
  return true
end

--- Does the schema have hidden fields?
function M.has_hidden(s)
  for _, f in pairs(s.fields) do
    if f.hidden then return true end
  end
  return false
end

-- ---- collections ------------------------------------------------------------------

local Collection = {}
Collection.__index = Collection

--- dynamo.collection{ Model, ... }: the models of one table, for queries
--- that return items of several of them (an order with its lines).
function M.collection(list)
  if type(list) ~= "table" or #list == 0 then
    error("bad argument #1 to 'dynamo.collection' (list of models expected)", 2)
  end
  local by_name, tbl = {}, list[1].schema.table
  for i, m in ipairs(list) do
    if getmetatable(m) ~= models.Model then
      error("bad argument #1 to 'dynamo.collection' (item " .. i .. " is not a model)", 2)
    end
    if m.schema.table ~= tbl then
      error("bad argument #1 to 'dynamo.collection' (" .. m.name .. " is in table " .. m.schema.table
        .. ", " .. list[1].name .. " in " .. tbl .. ")", 2)
    end
    if not m.schema.entity_attribute then
      error("bad argument #1 to 'dynamo.collection' (" .. m.name .. " stores no entity attribute)", 2)
    end
    by_name[m.name] = m
  end
  return setmetatable({ models = list, by_name = by_name }, Collection)
end

--- collection:query(index, fields, opts): the items of every model in
--- the partition that fields name (of the table, or of the index with
--- that name), each as an instance of its own model; items of a type the
--- collection does not know are handed out as plain items. The partition
--- comes from the first model that has the index and can build it from
--- fields, so the models must agree on their partition templates.
function Collection:query(index, fields, opts)
  local first = self.models[1]
  opts = check_opts(first, "query", opts)
  local db = models.client(first, opts, "query")
  local part, value, physical, why
  for _, m in ipairs(self.models) do
    local s = m.schema
    if index == nil or s.indexes[index] then
      part, value = s:partition(index, fields or {})
      if part then
        physical = index and s.indexes[index].name
        break
      end
      why = value
    end
  end
  if not part then
    error("bad argument #2 to 'query' (" .. (why and why.message or ("no model of the collection has index '"
      .. tostring(index) .. "'")) .. ")", 2)
  end
  local e = first.schema.entity_attribute
  local by_name = self.by_name
  local items = db:query_items {
    table = first.schema.table, index = physical, key = expr.public.key(part):eq(value), filter = opts.filter,
    limit = opts.limit, page_size = opts.page_size, start = opts.start, forward = opts.forward,
    consistent = opts.consistent,
  }
  return instances(db, items, function(item) return by_name[item[e]] end, { hidden = opts.hidden,
    partial = opts.projection ~= nil or (index ~= nil and first.schema.indexes[index] ~= nil
      and first.schema.indexes[index].projection ~= "all") })
end

return M
