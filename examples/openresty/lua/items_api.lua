-- The handlers of examples/openresty/nginx.conf: a small JSON API over one
-- DynamoDB table whose key is owner (partition, string) and id (sort,
-- string); create it with `dynamo run examples/openresty/create_table.lua`.
--
--   PUT /items/<owner>/<id>   body: a JSON object  -> 201 (If-None-Match: * -> 412 if it exists)
--   GET /items/<owner>/<id>                        -> 200 the item, or 404
--   GET /items/<owner>?limit=N                     -> 200 { items = [...], next = <id or null> }
--
-- One client per worker, made in init_worker (no I/O there): requests use
-- cosockets and yield, so a slow DynamoDB answer never blocks the worker.
local cjson = require "cjson.safe"
local dynamo = require "dynamo"

local M = {}

local db
local TABLE = os.getenv("ITEMS_TABLE") or "items"

--- init_worker_by_lua: make this worker's client. Region and endpoint come
--- from AWS_REGION and AWS_ENDPOINT_URL_DYNAMODB (declared with `env` in
--- nginx.conf); credentials from the default chain, kept in the
--- dynamo_creds shared dict for every worker and refreshed in a timer.
function M.init_worker()
  db = dynamo.new {
    credentials = dynamo.credentials.shared("dynamo_creds"),
    timeout = 3,          -- seconds for one attempt
    retry = { max_time = 5 },
  }
end

-- Numbers beyond 2^53 arrive as dynamo.decimal (exact): JSON gets their text.
local function plain(v)
  if type(v) == "table" then
    local out = {}
    for k, x in pairs(v) do out[k] = plain(x) end
    return out
  elseif type(v) == "userdata" and v ~= dynamo.null then
    return tostring(v)
  end
  return v
end

local function reply(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(plain(body)))
end

-- A dynamo error value -> the HTTP answer.
local function failed(err)
  if err.code == "ConditionalCheckFailedException" then
    return reply(412, { error = err.code, message = "the item exists" })
  elseif err.code == "ResourceNotFoundException" then
    return reply(500, { error = err.code, message = "table " .. TABLE .. " does not exist" })
  end
  ngx.log(ngx.ERR, "dynamo: ", tostring(err))
  return reply(err.retryable and 503 or 502, { error = err.code, message = err.message })
end

local function put(owner, id)
  ngx.req.read_body()
  local item = cjson.decode(ngx.req.get_body_data() or "")
  if type(item) ~= "table" then return reply(400, { error = "a JSON object expected" }) end
  item.owner, item.id = owner, id
  local condition
  if ngx.var.http_if_none_match == "*" then condition = dynamo.attr("id"):not_exists() end
  local res, err = db:put_item { table = TABLE, item = item, condition = condition }
  if not res then return failed(err) end
  return reply(201, item)
end

local function get(owner, id)
  local res, err = db:get_item { table = TABLE, key = { owner = owner, id = id } }
  if not res then return failed(err) end
  if not res.Item then return reply(404, { error = "not found" }) end
  return reply(200, res.Item)
end

local function list(owner)
  local args = ngx.req.get_uri_args()
  local limit = math.min(tonumber(args.limit) or 20, 100)
  local it = db:query_items { table = TABLE, key = { owner = owner }, limit = limit,
    start = args.after and { owner = owner, id = args.after } or nil }
  local items = {}
  while true do
    local item, err = it:next()
    if err then return failed(err) end
    if item == nil then break end
    items[#items + 1] = item
  end
  local last = not it.done and it:last_key()
  return reply(200, { items = setmetatable(items, cjson.array_mt), next = last and last.id or cjson.null })
end

--- content_by_lua: routes /items/<owner>[/<id>].
function M.handle()
  local owner, id = ngx.var.uri:match("^/items/([^/]+)/([^/]+)$")
  if not owner then owner = ngx.var.uri:match("^/items/([^/]+)$") end
  if not owner then return reply(404, { error = "try /items/<owner>/<id>" }) end
  owner, id = ngx.unescape_uri(owner), id and ngx.unescape_uri(id)
  local method = ngx.req.get_method()
  if id and method == "PUT" then return put(owner, id) end
  if id and method == "GET" then return get(owner, id) end
  if not id and method == "GET" then return list(owner) end
  return reply(405, { error = "method not allowed" })
end

return M
