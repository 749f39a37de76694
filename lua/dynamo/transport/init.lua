--- The transport for where the code runs: cosockets inside nginx (libcurl
--- there would block the worker), libcurl everywhere else.
---   transport.new(opts) -> transport, or nil, kind, message
--- opts are dynamo.new's transport options: timeout, connect_timeout,
--- verify, tcp_keepalive, cafile, capath, proxy, and the keep-alive pool's
--- pool_size and keepalive_timeout, which only nginx's transport has (the
--- libcurl one keeps one connection per client; they are ignored there, so
--- one configuration serves both).
local async = require "dynamo.async"

local M = {}

local NGINX_ONLY = { pool_size = true, keepalive_timeout = true }

function M.new(opts)
  if async.nginx then return require("dynamo.transport.ngx").new(opts) end
  local curl_opts = {}
  for k, v in pairs(opts or {}) do
    if not NGINX_ONLY[k] then curl_opts[k] = v end
  end
  return require("dynamo.transport.curl").new(curl_opts)
end

return M
