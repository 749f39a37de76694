--- The libcurl transport adapter: one core.http client (its keep-alive
--- connection for blocking calls, its settings for concurrent ones), with
--- requests made inside a dynamo.gather task run concurrently.
local core = require "dynamo.core"
local async = require "dynamo.async"

local Curl = {}
Curl.__index = Curl

-- A blocking libcurl call inside an nginx worker would stall every request
-- of that worker: inside nginx dynamo uses dynamo.transport.ngx.
local function refuse_in_nginx(level)
  if async.nginx then
    error("dynamo: the libcurl transport cannot run inside an nginx worker (it would block the worker); "
      .. "dynamo.new picks the cosocket transport (dynamo.transport.ngx) there", level + 1)
  end
end

--- opts: the core.http options (timeout, connect_timeout, verify, cafile,
--- capath, proxy). Returns the transport or nil, kind, message. Raises
--- inside an nginx worker.
function Curl.new(opts)
  refuse_in_nginx(2)
  local http, kind, msg = core.http(opts)
  if not http then return nil, kind, msg end
  -- direct: the core.http client, which a caller outside any task may call
  -- itself (request would block the same way, one Lua layer later; and
  -- this transport is never made inside nginx).
  return setmetatable({ http = http, direct = http }, Curl)
end

--- timeout: seconds for this request, when shorter than the client's.
--- Returns status, the raw header block (core.http_headers makes it a
--- table; only errors need one), body; or nil, kind, message.
function Curl:request(method, url, headers, body, timeout)
  refuse_in_nginx(2)
  return async.request(self.http, method, url, headers, body, timeout)
end

function Curl:stats() return self.http:stats() end

function Curl:close() self.http:close() end

return Curl
