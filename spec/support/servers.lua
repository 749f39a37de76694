--- The real DynamoDB servers the specs run against, as started by
--- `.ci/servers start` (endpoints in .cache/servers.env). With no servers
--- this raises, so a spec can never pass by testing nothing.
local dynamo = require "dynamo"

local M = {}

-- What each implementation supports, by operation name, as probed from the
-- servers themselves (see docs/operations.md).
local profiles = {
  ["local"] = {
    name = "DynamoDB Local",
    supports = {
      BatchExecuteStatement = true, BatchGetItem = true, BatchWriteItem = true, CreateTable = true,
      DeleteItem = true, DeleteTable = true, DescribeLimits = true, DescribeTable = true,
      DescribeTimeToLive = true, ExecuteStatement = true, ExecuteTransaction = true, GetItem = true,
      ListTables = true, PutItem = true, Query = true, Scan = true, TransactGetItems = true,
      TransactWriteItems = true, UpdateItem = true, UpdateTable = true, UpdateTimeToLive = true,
    },
  },
  dynalite = {
    name = "dynalite",
    supports = {
      BatchGetItem = true, BatchWriteItem = true, CreateTable = true, DeleteItem = true,
      DeleteTable = true, DescribeTable = true, DescribeTimeToLive = true, GetItem = true,
      ListTables = true, ListTagsOfResource = true, PutItem = true, Query = true, Scan = true,
      TagResource = true, UntagResource = true, UpdateItem = true, UpdateTable = true,
    },
  },
}

local function read_env()
  local path = os.getenv("DYNAMO_SERVERS_ENV") or ".cache/servers.env"
  local f = io.open(path)
  if not f then
    error("no test servers: " .. path .. " is missing (run `.ci/servers start` or `.ci/test`)", 0)
  end
  local env = {}
  for line in f:lines() do
    local k, v = line:match("^([%w_]+)=(.*)$")
    if k then env[k] = v end
  end
  f:close()
  return env
end

--- The running servers: { id, name, url, supports = { OpName = true } }.
function M.list()
  local env = read_env()
  local list = {}
  for _, id in ipairs { "local", "dynalite" } do
    local url = env["DYNAMO_TEST_" .. id:upper()]
    if url then
      local p = profiles[id]
      list[#list + 1] = { id = id, name = p.name, url = url, supports = p.supports }
    end
  end
  if #list == 0 then error("no test servers listed in .cache/servers.env", 0) end
  return list
end

--- One server by id ("local" or "dynalite"); raises when it is not running.
function M.get(id)
  for _, s in ipairs(M.list()) do
    if s.id == id then return s end
  end
  error("test server '" .. id .. "' is not running", 0)
end

local test_credentials = { access_key_id = "AKIDTEST", secret_access_key = "test-secret" }

--- A client for a server.
function M.client(server, opts)
  opts = opts or {}
  opts.endpoint = opts.endpoint or server.url
  opts.region = opts.region or "us-east-1"
  opts.credentials = opts.credentials or test_credentials
  return dynamo.new(opts)
end

local counter = 0
--- A table name no other test uses.
function M.table_name(prefix)
  counter = counter + 1
  return string.format("%s_%d_%d_%d", prefix or "t", os.time() % 100000, math.random(1, 1e6), counter)
end

--- Creates a table with a string partition key `pk` and a number sort key
--- `sk` (unless sort = false) and waits until it is ACTIVE.
function M.create_table(db, name, extra)
  local params = {
    TableName = name,
    AttributeDefinitions = { { AttributeName = "pk", AttributeType = "S" } },
    KeySchema = { { AttributeName = "pk", KeyType = "HASH" } },
    BillingMode = "PAY_PER_REQUEST",
  }
  if not (extra and extra.sort == false) then
    params.AttributeDefinitions[2] = { AttributeName = "sk", AttributeType = "N" }
    params.KeySchema[2] = { AttributeName = "sk", KeyType = "RANGE" }
  end
  for k, v in pairs(extra or {}) do
    if k ~= "sort" then params[k] = v end
  end
  local res, err = db:create_table(params)
  assert(res, err and tostring(err))
  M.wait_active(db, name)
  return res
end

--- Polls DescribeTable until the table is ACTIVE (at most 10 s).
function M.wait_active(db, name)
  local socket = require "socket"
  for _ = 1, 200 do
    local res, err = db:describe_table { TableName = name }
    assert(res, err and tostring(err))
    if res.Table.TableStatus == "ACTIVE" then return res.Table end
    socket.sleep(0.05)
  end
  error("table " .. name .. " did not become ACTIVE within 10 s")
end

return M
