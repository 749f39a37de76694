--- The client: one request path for every DynamoDB operation. Methods are
--- generated from the operation table (dynamo.operations), so
--- db:put_item{...} and db:call("PutItem", {...}) are the same call.
local core = require "dynamo.core"
local api = require "dynamo.operations"
local config = require "dynamo.config"
local credentials = require "dynamo.credentials"
local errors = require "dynamo.errors"
local size = require "dynamo.size"
local keys = require "dynamo.keys"
local transports = require "dynamo.transport"
local friendly = require "dynamo.params"
local async = require "dynamo.async"
local retry = require "dynamo.retry"
local logger = require "dynamo.log"
local hooks = require "dynamo.hooks"
local stats_mod = require "dynamo.stats"
local lazy = require "dynamo.lazy"

local type, error, setmetatable, getmetatable, tostring = type, error, setmetatable, getmetatable, tostring
local now, sleep, call_deadline = async.now, async.sleep, async.deadline
local hooks_emit, record_consumed = hooks.emit, stats_mod.record
local check_params = friendly.check

-- The main thread: running() says so with a second result in 5.2+, with
-- nil in 5.1 and LuaJIT.
local running = coroutine.running
local DEBUG, INFO = logger.LEVELS.debug, logger.LEVELS.info
local DEFAULT_TIMEOUT, FIRST_ATTEMPT = 10, 1

local Client = {}
Client.__index = Client
Client.__name = "dynamo.client"

local by_name = {}
for _, op in ipairs(api.operations) do
  op.target = api.target_prefix .. "." .. op.name
  op.target_header = "X-Amz-Target: " .. op.target
  by_name[op.name] = op
end

local CONTENT_TYPE = "Content-Type: application/x-amz-json-" .. api.json_version
local SERVICE = api.service

function Client:__tostring()
  return "dynamo.client(" .. self.region .. ", " .. self.url .. ")"
end

-- One attempt: credentials, signature, transport, decoding. Returns the
-- decoded response and the HTTP status, or nil and an error value; and
-- the credentials used.
local function send(self, op, body, timeout, lazy_output)
  local creds, cerr = self.credentials:get()
  if not creds then
    cerr.operation = cerr.operation or op.name
    return nil, cerr
  end
  local token = creds.session_token

  -- Outside coroutines (where no task can run), the libcurl transport's
  -- client is called directly, and signs and sends in one call: the same
  -- blocking request, a layer less. As nothing else can send meanwhile, one
  -- headers table serves every call.
  local transport, status, rheaders, rbody = self.transport, nil, nil, nil
  local direct = transport.direct
  local co, main = running()
  if direct and (main or co == nil) then
    local headers = self.direct_headers
    headers[2] = op.target_header
    status, rheaders, rbody = direct:post_signed(self.signer, self.host, op.target, body, creds.access_key_id,
      creds.secret_access_key, token, self.region, SERVICE, self.url, headers, timeout) -- signed now
  else
    local authorization, date = self.signer:sign_post(self.host, op.target, body, creds.access_key_id,
      creds.secret_access_key, token, self.region, SERVICE) -- signed now
    status, rheaders, rbody = transport:request("POST", self.url, { CONTENT_TYPE, op.target_header,
      self.host_header, date, authorization, token and ("X-Amz-Security-Token: " .. token) or nil }, body, timeout)
  end
  if not status then
    return nil, errors.transport(op.name, rheaders, rbody), creds
  end
  if status == 200 then
    -- "{}", a write's usual answer, is an empty table whatever the operation.
    local result, derr
    if rbody == "{}" then
      result = {}
    else
      result, derr = self.codec:decode(rbody, lazy_output or op.output)
    end
    if result == nil then
      return nil, errors.bad_response(op.name, status, rheaders, "undecodable response body: " .. derr), creds
    end
    if lazy_output then result[lazy.RESPONSE] = { body = rbody, headers = rheaders } end
    return result, status, creds
  end
  -- An error body that is not JSON (a proxy's HTML page, say) still yields
  -- an error value from the status and headers.
  local decoded = self.codec:decode(rbody, api.error_values)
  return nil, errors.service(op.name, status, rheaders, decoded), creds
end

local function log_line(op, table_name, what, attempts, started)
  return string.format("%s%s %s, %d attempt%s, %.1f ms", op.name, table_name and (" " .. table_name) or "",
    what, attempts, attempts == 1 and "" or "s", (now() - started) * 1000)
end

-- The request path: encode, then attempts (send, and on a retryable error
-- wait as the retry policy says). Returns the decoded response, or nil and
-- an error value carrying attempts and retry_delay.
local function invoke(self, op, params, lazy_output)
  if getmetatable(self) ~= Client then
    error("bad self to '" .. op.method .. "' (call it as db:" .. op.method .. "{...}, with a colon)", 3)
  end
  -- Level 4: check <- invoke <- method <- the caller's line.
  params = check_params(op, params, 4)
  local hooks_of = self.hooks -- a list per event: info is built only for a hook
  if hooks_of.request[1] then
    local info = { operation = op.name, table = params.TableName, params = params }
    hooks_emit(hooks_of, "request", info)
    params = info.params
  end
  local table_name = params.TableName
  local body = self.codec:encode(params, op.input)
  if #body > size.LIMIT then
    local err = size.check_write(op.name, params, function(tbl) return (keys.names(self, tbl)) end)
    if err then return nil, err end
  end

  local policy, stats, log, limiter = self.retry, self.stats, self.log, self.retry.limiter
  local started = now()
  -- The end of the time budget (retry.max_time), or of an enclosing
  -- deadline (a batch's), whichever comes first.
  local deadline = policy.max_time and started + policy.max_time
  local outer = call_deadline()
  if outer and (not deadline or outer < deadline) then deadline = outer end
  local attempt, waited, spent, refreshed = 0, 0, 0, false
  while true do
    attempt = attempt + 1
    if limiter then -- the adaptive mode's rate limit
      local hold = policy:before_send()
      if hold > 0 then
        sleep(hold)
        waited = waited + hold
      end
    end
    -- No attempt outlives the deadline, but the first always gets a fair
    -- chance (up to a second) however late the call starts.
    local timeout
    if deadline then
      local floor = attempt == 1 and FIRST_ATTEMPT or 0.001
      timeout = math.min(self.timeout, math.max(deadline - now(), floor))
    end
    local result, status, creds = send(self, op, body, timeout, lazy_output)
    stats.requests = stats.requests + 1
    local err = not result and status or nil
    policy:record(err, spent)
    if result then
      if result.ConsumedCapacity then record_consumed(stats, result.ConsumedCapacity) end
      if log.rank >= DEBUG then log:log("debug", log_line(op, table_name, "200", attempt, started)) end
      if hooks_of.response[1] then
        hooks_emit(hooks_of, "response", { operation = op.name, table = table_name, result = result,
          status = status, attempts = attempt, duration = now() - started })
      end
      return result
    end

    err.attempts = attempt
    local delay, cost
    if err.code == "ExpiredTokenException" then
      -- Refresh the credentials once and try again at once; a second
      -- ExpiredToken means the source itself hands out stale ones.
      if not refreshed and self.credentials.invalidate then
        refreshed = true
        self.credentials:invalidate(creds) -- unless another task already refreshed them
        delay, cost = 0, 0
      end
    else
      delay, cost = policy:delay(err, attempt, started, now())
    end
    if delay and deadline and now() + delay >= deadline then delay = nil end
    if not delay then
      err.retry_delay = waited
      stats.errors = stats.errors + 1
      if log.rank >= DEBUG then
        log:log("debug", log_line(op, table_name, "failed: " .. tostring(err), attempt, started))
      end
      if hooks_of.error[1] then
        hooks_emit(hooks_of, "error", { operation = op.name, table = table_name, error = err,
          attempts = attempt, duration = now() - started })
      end
      return nil, err
    end
    stats.retries = stats.retries + 1
    spent = spent + cost
    if log.rank >= INFO then
      log:log("info", string.format("%s%s: %s; retrying in %.0f ms (attempt %d)", op.name,
        table_name and (" " .. table_name) or "", err.code, delay * 1000, attempt + 1))
    end
    if hooks_of.retry[1] then
      hooks_emit(hooks_of, "retry", { operation = op.name, table = table_name, error = err, attempt = attempt,
        delay = delay, total_delay = waited + delay })
    end
    if delay > 0 then sleep(delay) end
    waited = waited + delay
  end
end

for _, op in ipairs(api.operations) do
  Client[op.method] = function(self, params)
    -- Not a tail call: argument errors count this frame to reach the caller.
    local res, err = invoke(self, op, params)
    return res, err
  end
end

--- db:call("PutItem", params): any operation by its DynamoDB name.
function Client:call(name, params)
  local op = by_name[name]
  if not op then
    error("bad argument #1 to 'call' (unknown DynamoDB operation '" .. tostring(name) .. "')", 2)
  end
  local res, err = invoke(self, op, params)
  return res, err
end

-- db:call with the page's Items left undecoded, for the item iterators.
function lazy.call(db, name, params)
  local op = by_name[name]
  local res, err = invoke(db, op, params, lazy.output(op))
  return res, err
end

-- Methods built on the request path, each in its own module: iterators,
-- batches, transactions, waiters.
for _, name in ipairs { "dynamo.paginate", "dynamo.parallel", "dynamo.batch", "dynamo.transact", "dynamo.waiters", "dynamo.model.transaction" } do
  for method, fn in pairs(require(name).methods) do Client[method] = fn end
end

--- db:on(event, fn): a hook on the request path ("request", "response",
--- "retry", "error"; see dynamo.hooks). Returns fn.
function Client:on(event, fn)
  return hooks.on(self.hooks, event, fn)
end

--- db:off(event, fn): removes a hook; true if it was there.
function Client:off(event, fn)
  return hooks.off(self.hooks, event, fn)
end

--- Releases the connection. Later calls return a ClientClosed error.
function Client:close()
  if self.transport.close then self.transport:close() end
end

local M = {}

local number_modes = { exact = true, float = true, decimal = true }

local function opt(opts, name, want)
  local v = opts[name]
  if v ~= nil and type(v) ~= want then
    error("bad argument '" .. name .. "' to 'dynamo.new' (" .. want .. " expected, got " .. type(v) .. ")", 3)
  end
  return v
end

--- dynamo.new{ region=, endpoint=, credentials=, numbers=, timeout=, connect_timeout=, retry=, log=,
---             verify=, cafile=, capath=, proxy=, transport=, pool_size=, keepalive_timeout= }
--- (the last two: the keep-alive pool inside nginx, docs/openresty.md)
function M.new(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    error("bad argument #1 to 'dynamo.new' (table expected, got " .. type(opts) .. ")", 2)
  end
  for _, name in ipairs { "region", "endpoint", "numbers", "cafile", "capath", "proxy" } do
    opt(opts, name, "string")
  end
  for _, name in ipairs { "timeout", "connect_timeout" } do opt(opts, name, "number") end
  opt(opts, "verify", "boolean")
  opt(opts, "tcp_keepalive", "boolean")
  if opts.numbers ~= nil and not number_modes[opts.numbers] then
    error("bad argument 'numbers' to 'dynamo.new' (\"exact\", \"float\" or \"decimal\" expected, got \""
      .. opts.numbers .. "\")", 2)
  end

  local region = config.region(opts)
  local url, custom = config.endpoint(opts, region or "us-east-1")
  if not region then
    if not custom then
      error("dynamo.new: no region (pass region = \"us-east-1\" or the like, or set AWS_REGION)", 2)
    end
    -- Local emulators accept any region; sign for the common default.
    region = "us-east-1"
  end
  local endpoint, msg = config.parse_endpoint(url)
  if not endpoint then
    error("bad argument 'endpoint' to 'dynamo.new' (" .. msg .. ")", 2)
  end

  local transport = opts.transport
  if transport == nil then
    -- libcurl, or cosockets inside nginx (dynamo.transport.ngx).
    local kind, msg
    transport, kind, msg = transports.new {
      timeout = opts.timeout,
      connect_timeout = opts.connect_timeout,
      verify = opts.verify,
      tcp_keepalive = opts.tcp_keepalive,
      cafile = opts.cafile,
      capath = opts.capath,
      proxy = opts.proxy,
      pool_size = opts.pool_size,
      keepalive_timeout = opts.keepalive_timeout,
    }
    if not transport then
      error("dynamo.new: cannot start the HTTP client (" .. kind .. "): " .. msg, 2)
    end
  elseif type(transport) ~= "table" and type(transport) ~= "userdata" or not transport.request then
    error("bad argument 'transport' to 'dynamo.new' (expected an object with a request method)", 2)
  end

  local host_header = "Host: " .. endpoint.host
  return setmetatable({
    region = region,
    url = endpoint.url,
    host = endpoint.host,
    host_header = host_header,
    -- send()'s for the blocking client; [2] is the call's X-Amz-Target
    direct_headers = { CONTENT_TYPE, false, host_header },
    codec = core.codec { numbers = opts.numbers },
    signer = core.signer(),
    credentials = credentials.resolve(opts.credentials),
    transport = transport,
    key_schemas = {},
    retry = retry.new(opts.retry),
    timeout = opts.timeout or DEFAULT_TIMEOUT,
    log = logger.new(opts.log),
    hooks = hooks.new(),
    stats = stats_mod.new(),
  }, Client)
end

M.Client = Client

return M
