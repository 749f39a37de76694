-- The handlers of bench/openresty/nginx.conf: one GetItem through dynamo
-- per request, against DynamoDB Local or the canned responder, and a
-- baseline without dynamo. One client per target and worker, made in
-- init_worker.
local dynamo = require "dynamo"

local M = {}

local clients = {}
local KEY = { pk = "bench-1" }

function M.init_worker()
  local creds = { access_key_id = "AKIDBENCH", secret_access_key = "bench-secret" }
  for name, var in pairs { ["local"] = "BENCH_LOCAL_ENDPOINT", canned = "BENCH_CANNED_ENDPOINT" } do
    clients[name] = dynamo.new { endpoint = os.getenv(var), region = "us-east-1", credentials = creds }
  end
end

function M.get(name)
  local res, err = clients[name]:get_item { table = "bench", key = KEY }
  if not res or not res.Item then
    ngx.status = 500
    ngx.say(tostring(err or "no item"))
    return
  end
  ngx.say(res.Item.name)
end

return M
