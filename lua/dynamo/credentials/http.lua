--- The HTTP client of one credential source: a core.http client with short
--- timeouts, made on the first request (never at construction), whose
--- requests run concurrently inside dynamo.async tasks.
local core = require "dynamo.core"
local async = require "dynamo.async"

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
    local http, kind, msg = core.http(opts)
    if not http then return nil, kind, msg end
    self.http = http
  end
  return async.request(self.http, method, url, headers, body)
end

return M
