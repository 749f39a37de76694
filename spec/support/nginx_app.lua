-- The handlers of spec/support/nginx_test.conf: they run inside nginx
-- (LuaJIT) and use dynamo against DynamoDB Local; each answers JSON.
-- GET /t/<name>?args runs handlers[name](args).
local cjson = require "cjson.safe"
local dynamo = require "dynamo"

local M = {}

local CREDS = { access_key_id = "AKIDTEST", secret_access_key = "test-secret" }

local db, slow_db   -- made once per worker, in init_worker

local function client(endpoint, extra)
  local opts = { endpoint = endpoint, region = "us-east-1", credentials = CREDS }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return dynamo.new(opts)
end

-- An error value as JSON-friendly fields.
local function err_fields(err)
  if type(err) ~= "table" then return { message = tostring(err) } end
  local reasons
  if err.reasons then
    reasons = {}
    for i, r in ipairs(err.reasons) do reasons[i] = r.code or cjson.null end
  end
  return { code = err.code, message = err.message, status = err.status, retryable = err.retryable,
    reasons = reasons, text = tostring(err) }
end

function M.init_worker()
  db = client(os.getenv("DYNAMO_TEST_ENDPOINT"))
  slow_db = client(os.getenv("DYNAMO_TEST_SLOW_ENDPOINT"), { timeout = 5 })
  local test = ngx.shared.test
  -- No cosockets in init_worker: a call says to use a timer ...
  local ok, err = pcall(db.list_tables, db, {})
  test:set("init_worker", ok and "no error" or tostring(err))
  -- ... and from a timer it works.
  ngx.timer.at(0, function(premature)
    if premature then return end
    local res, lerr = db:list_tables {}
    test:set("timer", res and "ok" or tostring(lerr))
  end)
end

local handlers = {}

function handlers.create_table(a)
  local res, err = db:create_table {
    TableName = a.table,
    AttributeDefinitions = { { AttributeName = "pk", AttributeType = "S" }, { AttributeName = "sk", AttributeType = "N" } },
    KeySchema = { { AttributeName = "pk", KeyType = "HASH" }, { AttributeName = "sk", KeyType = "RANGE" } },
    BillingMode = "PAY_PER_REQUEST",
  }
  if not res then return { error = err_fields(err) } end
  local ok, werr = db:wait_for_table(a.table, { timeout = 10 })
  if not ok then return { error = err_fields(werr) } end
  return { ok = true }
end

-- put, get, update, delete of one item, then get again.
function handlers.item(a)
  local key = { pk = a.pk, sk = 1 }
  local out = {}
  local res, err = db:put_item { table = a.table, item = { pk = a.pk, sk = 1, name = "first", visits = 1 } }
  if not res then return { error = err_fields(err) } end
  res, err = db:get_item { table = a.table, key = key, consistent = true }
  if not res then return { error = err_fields(err) } end
  out.got = res.Item
  res, err = db:update_item { table = a.table, key = key,
    update = dynamo.update():set("name", "second"):add("visits", 2), return_values = "ALL_NEW" }
  if not res then return { error = err_fields(err) } end
  out.updated = res.Attributes
  res, err = db:delete_item { table = a.table, key = key, return_values = "ALL_OLD" }
  if not res then return { error = err_fields(err) } end
  out.deleted = res.Attributes
  res, err = db:get_item { table = a.table, key = key, consistent = true }
  if not res then return { error = err_fields(err) } end
  out.after_delete = res.Item == nil
  return out
end

-- The query iterator across pages (page_size 3), and it:last_key().
function handlers.query(a)
  local n = tonumber(a.n)
  for i = 1, n do
    local res, err = db:put_item { table = a.table, item = { pk = a.pk, sk = i, v = "x" .. i } }
    if not res then return { error = err_fields(err) } end
  end
  local it = db:query_items { table = a.table, key = { pk = a.pk }, page_size = 3 }
  local sks = {}
  for item in it do sks[#sks + 1] = item.sk end
  local stats = it:stats()
  local back = {}
  for item in db:query_items { table = a.table, key = { pk = a.pk }, forward = false, limit = 2 } do
    back[#back + 1] = item.sk
  end
  return { sks = sks, pages = stats.pages, done = it.done, back = back }
end

-- The batch writer, then batch_get of the same keys (ordered).
function handlers.batch(a)
  local n = tonumber(a.n)
  local w = db:batch_writer { deadline = 30 }
  for i = 1, n do
    assert(w:put(a.table, { pk = a.pk, sk = i, v = i * 2 }))
  end
  local ok, err = w:close()
  if not ok then return { error = err_fields(err) } end
  local keys = {}
  for i = 1, n do keys[i] = { pk = a.pk, sk = i } end
  keys[n + 1] = { pk = a.pk, sk = n + 1000 }   -- missing
  local got, gerr = db:batch_get({ [a.table] = keys }, { ordered = true })
  if not got then return { error = err_fields(gerr) } end
  local list, sum, missing = got[a.table], 0, 0
  for i = 1, #list do
    if list[i] then sum = sum + list[i].v else missing = missing + 1 end
  end
  return { written = w.written, read = #list - missing, missing = missing, sum = sum }
end

-- A transaction that succeeds, then one whose condition fails.
function handlers.transact(a)
  local ok, err = db:transact_write {
    { put = { table = a.table, item = { pk = a.pk, sk = 1, stock = 5 } } },
    { put = { table = a.table, item = { pk = a.pk, sk = 2, stock = 0 } } },
  }
  if not ok then return { error = err_fields(err) } end
  local got, gerr = db:transact_get {
    { get = { table = a.table, key = { pk = a.pk, sk = 1 } } },
    { get = { table = a.table, key = { pk = a.pk, sk = 2 } } },
  }
  if not got then return { error = err_fields(gerr) } end
  local _, failed = db:transact_write {
    { update = { table = a.table, key = { pk = a.pk, sk = 1 }, update = dynamo.update():add("stock", -1) } },
    { update = { table = a.table, key = { pk = a.pk, sk = 2 }, update = dynamo.update():add("stock", -1),
                 condition = dynamo.attr("stock"):gt(0) } },
  }
  local after = db:get_item { table = a.table, key = { pk = a.pk, sk = 1 }, consistent = true }
  return { stocks = { got[1].stock, got[2].stock }, failed = err_fields(failed), stock_after = after.Item.stock }
end

-- A failed condition comes back as an error value.
function handlers.conditional(a)
  local item = { pk = a.pk, sk = 1 }
  assert(db:put_item { table = a.table, item = item })
  local res, err = db:put_item { table = a.table, item = item, condition = dynamo.attr("pk"):not_exists() }
  return { res = res ~= nil, error = err_fields(err), is_error = dynamo.is_error(err) }
end

-- Parallel scan (light threads) and dynamo.gather.
function handlers.parallel(a)
  local n = tonumber(a.n)
  local w = db:batch_writer {}
  for i = 1, n do w:put(a.table, { pk = a.pk .. "-" .. i, sk = i }) end
  assert(w:close())
  local it = db:parallel_scan { table = a.table, segments = tonumber(a.segments), page_size = 7 }
  local seen, count = {}, 0
  for item in it do
    if item.pk:sub(1, #a.pk + 1) == a.pk .. "-" then
      seen[item.sk] = true
      count = count + 1
    end
  end
  local distinct = 0
  for _ in pairs(seen) do distinct = distinct + 1 end
  local started = ngx.now()
  local r1, r2, r3 = dynamo.gather(
    function() return db:get_item { table = a.table, key = { pk = a.pk .. "-1", sk = 1 } } end,
    function() return db:get_item { table = a.table, key = { pk = a.pk .. "-2", sk = 2 } } end,
    function() dynamo.sleep(0.2); return "slept" end)
  ngx.update_time()
  local ok, gerr = pcall(dynamo.gather, function() error("boom") end, function() return 1 end)
  return { count = count, distinct = distinct, all_read = it:all_read(),
    gathered = { r1.Item.sk, r2.Item.sk, r3 }, gather_seconds = ngx.now() - started,
    gather_error = not ok and tostring(gerr) or nil, segments = it:stats().segments }
end

-- One GetItem through the client behind the delaying proxy, and a fast one.
function handlers.slow(a)
  local started = ngx.now()
  local res, err = slow_db:get_item { table = a.table, key = { pk = "nothing", sk = 0 } }
  ngx.update_time()
  return { ok = res ~= nil, error = err and err_fields(err), seconds = ngx.now() - started }
end

function handlers.fast(a)
  local started = ngx.now()
  local res, err = db:get_item { table = a.table, key = { pk = "nothing", sk = 0 } }
  ngx.update_time()
  return { ok = res ~= nil, error = err and err_fields(err), seconds = ngx.now() - started }
end

-- The transport on its own, against the canned responder.
function handlers.transport(a)
  local transport = require "dynamo.transport.ngx"
  local t = transport.new { timeout = tonumber(a.timeout) or 5 }
  local url = "http://127.0.0.1:" .. os.getenv("DYNAMO_TEST_CANNED_PORT") .. "/" .. a.what
  local out = {}
  for i = 1, tonumber(a.times) or 1 do
    local status, headers, body = t:request(a.method or "POST", url, { "X-Amz-Target: x" }, a.body or "{}")
    out[i] = status and { status = status, headers = headers, body = body }
      or { kind = headers, message = body }
  end
  return { results = out, stats = t:stats() }
end

-- Keep-alive: the connections the client opened for its requests so far.
function handlers.stats()
  return db.transport:stats()
end

-- Credentials from a counting provider through the shared dict.
local fetches = 0
local function slow_provider(lifetime)
  return {
    get = function()
      fetches = fetches + 1
      ngx.sleep(0.5)   -- a slow source
      return { access_key_id = "AKIDTEST", secret_access_key = "test-secret",
        session_token = "token" .. fetches, expiration = ngx.time() + lifetime }
    end,
  }
end

function handlers.creds(a)
  local lifetime = tonumber(a.lifetime)
  local key = a.key
  if a.reset then fetches = 0 end
  local provider = dynamo.credentials.shared("dynamo_creds", slow_provider(lifetime), key)
  local c = client(os.getenv("DYNAMO_TEST_ENDPOINT"), { credentials = provider })
  local started = ngx.now()
  local res, err = c:list_tables {}
  ngx.update_time()
  local seconds = ngx.now() - started
  return { ok = res ~= nil, error = err and err_fields(err), seconds = seconds, fetches = fetches,
    token = provider:get().session_token }
end

function handlers.creds_fetches()
  ngx.sleep(1)   -- let a refresh timer finish
  return { fetches = fetches, token = ngx.shared.dynamo_creds:get("dynamo:credentials:" .. "refresh")
    and dynamo.credentials.shared("dynamo_creds", slow_provider(1), "refresh"):get().session_token }
end

-- Concurrent requests whose credentials need a refresh share one fetch.
function handlers.coalesce()
  local refreshing = require "dynamo.credentials.refreshing"
  local n = 0
  local provider = refreshing.new("test", "test", function()
    n = n + 1
    ngx.sleep(0.2)
    return { access_key_id = "AKIDTEST", secret_access_key = "test-secret", expiration = ngx.time() + 3600 }
  end)
  local c = client(os.getenv("DYNAMO_TEST_ENDPOINT"), { credentials = provider })
  local function call() local res, err = c:list_tables {}; return res and "ok" or tostring(err) end
  local results = { dynamo.gather(call, call, call, call, call) }
  return { fetches = n, results = results }
end

-- dynamo.new without credentials: one default chain per worker.
function handlers.default_chain()
  local a = dynamo.new { endpoint = os.getenv("DYNAMO_TEST_ENDPOINT"), region = "us-east-1" }
  local b = dynamo.new { endpoint = os.getenv("DYNAMO_TEST_ENDPOINT"), region = "us-east-1" }
  return { same = a.credentials == b.credentials, transport = tostring(a.transport) }
end

-- The libcurl transport refuses inside a worker.
function handlers.curl()
  local ok, err = pcall(require("dynamo.transport.curl").new, {})
  local ok2, err2 = pcall(require("dynamo.async").request, nil, "GET", "http://127.0.0.1/", {})
  return { ok = ok, error = tostring(err), async_ok = ok2, async_error = tostring(err2) }
end

function handlers.shared_timer()
  return { timer = ngx.shared.test:get("timer"), init_worker = ngx.shared.test:get("init_worker"),
    log = ngx.shared.test:get("log") }
end

-- TLS through the fault proxy (https, a certificate for "localhost").
function handlers.tls(a)
  local c = client("https://" .. a.host .. ":" .. os.getenv("DYNAMO_TEST_TLS_PORT"), { retry = { max_attempts = 1 } })
  local res, err = c:list_tables {}
  return { ok = res ~= nil, error = err and err_fields(err), stats = c.transport:stats() }
end

-- A request that cannot finish within its timeout (the proxy in front
-- never answers) comes back as TimeoutError.
function handlers.timeout()
  local c = client(os.getenv("DYNAMO_TEST_HANG_ENDPOINT"), { timeout = 0.3, retry = { max_attempts = 1 } })
  local started = ngx.now()
  local res, err = c:list_tables {}
  ngx.update_time()
  return { ok = res ~= nil, error = err and err_fields(err), seconds = ngx.now() - started }
end

function M.handle()
  local name = ngx.var.uri:match("/([%w_]+)$")
  local h = handlers[name]
  if not h then return ngx.exit(404) end
  local ok, out = pcall(h, ngx.req.get_uri_args())
  if not ok then
    ngx.status = 500
    out = { raised = tostring(out) }
  end
  ngx.say(cjson.encode(out))
end

-- Calls from phases without cosockets.
function M.from_header_filter()
  local ok, err = pcall(db.get_item, db, { table = "t", key = { pk = "x", sk = 1 } })
  ngx.header["X-Dynamo-Error"] = ok and "no error" or tostring(err)
end

function M.from_log()
  local ok, err = pcall(db.get_item, db, { table = "t", key = { pk = "x", sk = 1 } })
  ngx.shared.test:set("log", ok and "no error" or tostring(err))
end

function M.from_set()
  local ok, err = pcall(db.get_item, db, { table = "t", key = { pk = "x", sk = 1 } })
  return ok and "no error" or tostring(err)
end

-- The canned responder: a GetItem answer with its x-amz-crc32, in one
-- piece or chunked, with a wrong CRC, or closing the connection.
local ITEM = '{"Item":{"pk":{"S":"canned"},"sk":{"N":"1"},"name":{"S":"a canned item"}}}'

function M.canned()
  local what = ngx.var.uri:sub(2)
  -- Which connection carried the request: keep-alive shows as a repeat.
  ngx.header["X-Connection"] = ngx.var.connection
  ngx.header["x-amz-crc32"] = what == "badcrc" and "12345" or tostring(ngx.crc32_long(ITEM))
  ngx.header["x-amzn-requestid"] = "canned"
  ngx.header["X-Twice"] = { "one", "two" }
  if what == "chunked" then
    -- No Content-Length, flushed in pieces: nginx sends it chunked.
    for i = 1, #ITEM, 10 do
      ngx.print(ITEM:sub(i, i + 9))
      ngx.flush(true)
    end
    return
  end
  if what == "close" then
    ngx.header["Connection"] = "close"
  end
  ngx.header["Content-Length"] = #ITEM
  ngx.print(ITEM)
end

return M
