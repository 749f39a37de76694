--- The libcurl transport adapter: one core.http client (its keep-alive
--- connection for blocking calls, its settings for concurrent ones), with
--- requests made inside a dynamo.gather task run concurrently.
local core = require "dynamo.core"
local async = require "dynamo.async"

local Curl = {}
Curl.__index = Curl

--- opts: the core.http options (timeout, connect_timeout, verify, cafile,
--- capath, proxy). Returns the transport or nil, kind, message.
function Curl.new(opts)
  local http, kind, msg = core.http(opts)
  if not http then return nil, kind, msg end
  return setmetatable({ http = http }, Curl)
end

--- timeout: seconds for this request, when shorter than the client's.
function Curl:request(method, url, headers, body, timeout)
  return async.request(self.http, method, url, headers, body, timeout)
end

function Curl:stats() return self.http:stats() end

function Curl:close() self.http:close() end

return Curl
