--- The HTTP client of one credential source: a transport (libcurl, or
--- cosockets inside nginx) with short timeouts, made on the first request
--- (never at construction), whose requests run concurrently inside
--- dynamo.async tasks.
local async = require "dynamo.async"
local core = require "dynamo.core"
local transports = require "dynamo.transport"

local M = {}

local Http = {}
Http.__index = Http

--- opts: core.http options (connect_timeout, timeout, proxy, cafile, ...),
--- or a function returning them, called when the client is made.
function M.new(opts)
  return setmetatable({ opts = opts }, Http)
end

--- Returns status, headers (lowercase names), body, or nil, kind, message.
function Http:request(method, url, headers, body)
  if not self.http then
    local opts = self.opts
    if type(opts) == "function" then opts = opts() end
    if async.nginx then
      -- Cosockets; the trusted CAs are nginx's lua_ssl_trusted_certificate.
      opts = { connect_timeout = opts.connect_timeout, timeout = opts.timeout }
    end
    local http, kind, msg = transports.new(opts)
    if not http then return nil, kind, msg end
    self.http = http
  end
  local status, rheaders, rbody = self.http:request(method, url, headers, body)
  -- libcurl's transport gives the raw header block.
  if status and type(rheaders) == "string" then rheaders = core.http_headers(rheaders) end
  return status, rheaders, rbody
end

return M
