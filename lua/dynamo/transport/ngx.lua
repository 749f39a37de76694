--- The cosocket transport: HTTP/1.1 over ngx.socket.tcp, for code running
--- inside nginx (OpenResty, or nginx with its Lua module). A request yields
--- to nginx while it waits, so the worker goes on serving other requests.
---
--- Same interface as dynamo.transport.curl:
---   t:request(method, url, headers, body, timeout)
---     -> status, headers (lowercase names; repeats joined with ", "), body
---     -> nil, kind, message   kind: connect, timeout, tls, url, io, crc32, closed
---
--- Connections go back to nginx's keep-alive pool only after the whole body
--- was read and when the response allows it. The pool is keyed by
--- everything that affects the session: host, port, TLS, SNI and the
--- verify flag. TLS certificates are checked against nginx's
--- lua_ssl_trusted_certificate (with lua_ssl_verify_depth): see
--- docs/openresty.md. Nothing here touches ngx at require time.
local core = require "dynamo.core"
local async_ngx = require "dynamo.async_ngx"

local type, error, tostring, tonumber, setmetatable = type, error, tostring, tonumber, setmetatable
local concat, min, floor = table.concat, math.min, math.floor
local byte, find, lower, match, sub = string.byte, string.find, string.lower, string.match, string.sub

local check_phase, wake = async_ngx.check_phase, async_ngx.wake

local M = {
  DEFAULT_TIMEOUT = 10,          -- seconds for a whole request (as the libcurl transport)
  DEFAULT_CONNECT_TIMEOUT = 1,   -- seconds for connect and the TLS handshake
  DEFAULT_POOL_SIZE = 64,        -- idle keep-alive connections per pool, per worker
  DEFAULT_KEEPALIVE_TIMEOUT = 60, -- seconds an idle pooled connection is kept
}

local Ngx = {}
Ngx.__index = Ngx
Ngx.__name = "dynamo.transport.ngx"

local function bad(name, msg)
  error("bad argument '" .. name .. "' to 'dynamo.transport.ngx.new' (" .. msg .. ")", 3)
end

local function seconds(opts, name, default)
  local v = opts[name]
  if v == nil then return default end
  if type(v) ~= "number" or not (v > 0) then
    bad(name, "positive number expected, got " .. (type(v) == "number" and tostring(v) or type(v)))
  end
  return v
end

--- opts: timeout, connect_timeout (seconds), verify (default true),
--- tcp_keepalive, pool_size, keepalive_timeout (seconds idle), user_agent.
--- cafile, capath and proxy have no cosocket equivalent: inside nginx the
--- trusted CAs come from lua_ssl_trusted_certificate, and a proxy is not
--- supported (an empty proxy string, meaning none, is accepted).
function M.new(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    error("bad argument #1 to 'dynamo.transport.ngx.new' (table expected, got " .. type(opts) .. ")", 2)
  end
  for _, name in ipairs { "cafile", "capath" } do
    if opts[name] ~= nil then
      bad(name, "inside nginx the trusted certificates are nginx's lua_ssl_trusted_certificate")
    end
  end
  if opts.proxy ~= nil and opts.proxy ~= "" then
    bad("proxy", "HTTP proxies are not supported inside nginx")
  end
  for _, name in ipairs { "verify", "tcp_keepalive" } do
    if opts[name] ~= nil and type(opts[name]) ~= "boolean" then
      bad(name, "boolean expected, got " .. type(opts[name]))
    end
  end
  local pool_size = opts.pool_size or M.DEFAULT_POOL_SIZE
  if type(pool_size) ~= "number" or pool_size < 1 or floor(pool_size) ~= pool_size then
    bad("pool_size", "positive integer expected, got " .. tostring(pool_size))
  end
  if opts.user_agent ~= nil and (type(opts.user_agent) ~= "string" or find(opts.user_agent, "[\r\n%z]")) then
    bad("user_agent", "string without CR or LF expected")
  end
  return setmetatable({
    timeout = seconds(opts, "timeout", M.DEFAULT_TIMEOUT),
    connect_timeout = seconds(opts, "connect_timeout", M.DEFAULT_CONNECT_TIMEOUT),
    keepalive_ms = floor(seconds(opts, "keepalive_timeout", M.DEFAULT_KEEPALIVE_TIMEOUT) * 1000),
    verify = opts.verify ~= false,
    tcp_keepalive = opts.tcp_keepalive == true,
    pool_size = pool_size,
    user_agent = opts.user_agent and ("User-Agent: " .. opts.user_agent),
    urls = {},      -- url -> its parsed target (the client sends to one or two)
    nurls = 0,
    connects = 0,   -- connections opened (not taken from the pool)
    requests = 0,
  }, Ngx)
end

local DEFAULT_PORTS = { http = 80, https = 443 }

-- "https://host:port/path?q" -> the target: host, port, tls, the request
-- path, the Host header, the pool key; or nil and a message.
local function parse_url(self, url)
  local scheme, authority, path = match(url, "^(%a[%w+.-]*)://([^/?#]*)([^#]*)")
  if not scheme then return nil, "not an http or https URL" end
  scheme = lower(scheme)
  local default_port = DEFAULT_PORTS[scheme]
  if not default_port then return nil, "only http and https are supported" end
  if find(authority, "@", 1, true) then return nil, "credentials in the URL are not supported" end
  local host, port = match(authority, "^%[([%x:.]+)%]:?(%d*)$")   -- [IPv6]:port
  if not host then host, port = match(authority, "^([^:]+):?(%d*)$") end
  if not host or host == "" then return nil, "no host" end
  port = port ~= "" and tonumber(port) or default_port
  if port < 1 or port > 65535 then return nil, "port out of range" end
  if path == "" then path = "/" elseif byte(path) == 63 then path = "/" .. path end -- "?..."
  if find(path, "[%s%z]") then return nil, "spaces or control characters in the path" end
  local tls = scheme == "https"
  local ip = match(host, "^[%d.]+$") or find(host, ":", 1, true)
  local sni = tls and not ip and host or nil
  local key = "dynamo|" .. host .. ":" .. port
  if tls then key = key .. "|tls|" .. (sni or "") .. "|" .. (self.verify and "verify" or "noverify") end
  local hostport = find(host, ":", 1, true) and ("[" .. host .. "]") or host
  if port ~= default_port then hostport = hostport .. ":" .. port end
  return {
    host = host, port = port, tls = tls, sni = sni, path = path,
    host_header = "Host: " .. hostport,
    connect_opts = { pool = key, pool_size = self.pool_size },
  }
end

local function target_of(self, url)
  local t = self.urls[url]
  if t then return t end
  if type(url) ~= "string" then
    error("bad argument 'url' to 'request' (string expected, got " .. type(url) .. ")", 3)
  end
  local msg
  t, msg = parse_url(self, url)
  if not t then return nil, msg end
  if self.nurls < 32 then
    self.urls[url] = t
    self.nurls = self.nurls + 1
  end
  return t
end

local function ms(s)
  local v = floor(s * 1000 + 0.5)
  return v > 0 and v or 1
end

-- Builds the request as a table of strings (sock:send takes it as is).
-- Raises for what the caller got wrong, as the libcurl transport does.
local function build(self, t, method, headers, body)
  if type(method) ~= "string" or not find(method, "^[%w!#$%%&'*+.^_`|~-]+$") then
    error("bad argument 'method' to 'request' (HTTP method token expected)", 3)
  end
  if body ~= nil and type(body) ~= "string" then
    error("bad argument 'body' to 'request' (string expected, got " .. type(body) .. ")", 3)
  end
  local req = { method, " ", t.path, " HTTP/1.1\r\n" }
  local n, has_host = 4, false
  if headers ~= nil then
    if type(headers) ~= "table" then
      error("bad argument 'headers' to 'request' (table expected, got " .. type(headers) .. ")", 3)
    end
    for i = 1, #headers do
      local h = headers[i]
      if type(h) ~= "string" then
        error("bad argument 'headers[" .. i .. "]' to 'request' (string expected, got " .. type(h) .. ")", 3)
      end
      if find(h, "\n", 1, true) or find(h, "\r", 1, true) or find(h, "\0", 1, true) then
        error("bad argument 'headers[" .. i .. "]' to 'request' (header contains CR, LF or a zero byte)", 3)
      end
      local c = byte(h)
      if (c == 72 or c == 104) and lower(sub(h, 1, 5)) == "host:" then has_host = true end
      req[n + 1], req[n + 2], n = h, "\r\n", n + 2
    end
  end
  if not has_host then req[n + 1], req[n + 2], n = t.host_header, "\r\n", n + 2 end
  if self.user_agent then req[n + 1], req[n + 2], n = self.user_agent, "\r\n", n + 2 end
  if body or method == "POST" or method == "PUT" or method == "PATCH" then
    req[n + 1], req[n + 2], req[n + 3], n = "Content-Length: ", tostring(body and #body or 0), "\r\n", n + 3
  end
  req[n + 1] = "\r\n"
  if body and #body > 0 then req[n + 2] = body end
  return req
end

local SP, TAB = 32, 9
local MAX_HEAD = 65536

-- The response head (without its final CRLF CRLF) -> status, headers
-- (lowercase names, values trimmed, repeats joined with ", "), whether the
-- connection may be kept; or nil, message. Plain finds and byte tests
-- only: LuaJIT compiles them (patterns it does not).
local function parse_head(head)
  local n = #head
  local e = find(head, "\r\n", 1, true) or n + 1
  local status = tonumber(sub(head, 10, 12))
  if sub(head, 1, 5) ~= "HTTP/" or byte(head, 7) ~= 46 or byte(head, 9) ~= SP or not status
    or e < 13 or (e > 13 and byte(head, 13) ~= SP) then
    return nil, "malformed status line: " .. sub(head, 1, min(e - 1, 60))
  end
  local http11 = byte(head, 6) == 49 and byte(head, 8) == 49   -- "1.1"
  local headers = {}
  local pos = e + 2
  while pos <= n do
    local le = find(head, "\r\n", pos, true) or n + 1
    local colon = find(head, ":", pos, true)
    local first = byte(head, pos)
    -- Skipped: lines without a colon, folded lines (a leading space).
    if colon and colon < le and colon > pos and first ~= SP and first ~= TAB then
      local name = lower(sub(head, pos, colon - 1))
      local vs, ve = colon + 1, le - 1
      while vs <= ve and (byte(head, vs) == SP or byte(head, vs) == TAB) do vs = vs + 1 end
      while ve >= vs and (byte(head, ve) == SP or byte(head, ve) == TAB) do ve = ve - 1 end
      local value = sub(head, vs, ve)
      local old = headers[name]
      headers[name] = old and (old .. ", " .. value) or value
    end
    pos = le + 2
  end
  local conn = headers.connection
  conn = conn and lower(conn)
  local keep
  if http11 then
    keep = not (conn and find(conn, "close", 1, true))
  else
    keep = conn ~= nil and find(conn, "keep-alive", 1, true) ~= nil
  end
  return status, headers, keep
end

-- Reads the response head. Returns status, headers, keep-alive allowed, or
-- nil, err (the socket's error or a message).
local function read_head(sock)
  local head, err = sock:receiveuntil("\r\n\r\n")()
  if not head then return nil, err end
  if #head > MAX_HEAD then return nil, "response head longer than " .. MAX_HEAD .. " bytes" end
  return parse_head(head)
end

-- A chunked body, read to its end (trailers included).
local function read_chunked(sock)
  local parts, n = {}, 0
  while true do
    local line, err = sock:receive("*l")
    if not line then return nil, err end
    local size = tonumber(match(line, "^%s*(%x+)"), 16)
    if not size then return nil, "malformed chunk size line: " .. sub(line, 1, 40) end
    if size == 0 then break end
    local data
    data, err = sock:receive(size)
    if not data then return nil, err end
    n = n + 1
    parts[n] = data
    data, err = sock:receive(2)
    if not data then return nil, err end
    if data ~= "\r\n" then return nil, "malformed chunk end" end
  end
  repeat -- trailers
    local line, err = sock:receive("*l")
    if not line then return nil, err end
  until line == ""
  return n == 1 and parts[1] or concat(parts)
end

-- Reads the body the head announces. Returns body, whether the connection
-- can be reused, or nil, err.
local function read_body(sock, method, status, headers, keep)
  if method == "HEAD" or status == 204 or status == 304 or status < 200 then return "", keep end
  local te = headers["transfer-encoding"]
  if te and lower(te) ~= "identity" then
    if not find(lower(te), "chunked%s*$") then return nil, "unsupported transfer-encoding: " .. te end
    local body, err = read_chunked(sock)
    if not body then return nil, err end
    return body, keep
  end
  local cl = headers["content-length"]
  if cl then
    local len = match(cl, "^%d+$") and tonumber(cl)
    if not len then return nil, "malformed content-length: " .. cl end
    if len == 0 then return "", keep end
    local body, err = sock:receive(len)
    if not body then return nil, err end
    return body, keep
  end
  -- No length: the body runs to the end of the connection.
  local body, err = sock:receive("*a")
  if not body then return nil, err end
  return body, false
end

local crc32 = core.crc32

-- nil when the x-amz-crc32 header is absent or matches, else the message.
local function crc_mismatch(headers, body)
  local want = headers["x-amz-crc32"]
  if not want then return nil end
  local got = crc32(body)
  if match(want, "^%d+$") and tonumber(want) == got then return nil end
  return "response CRC32 mismatch: header says " .. want .. ", body has " .. string.format("%.0f", got)
end

local function failure(url, what, err)
  if err == "timeout" then return nil, "timeout", "request to " .. url .. " failed: " .. what .. " timed out" end
  return nil, "io", "request to " .. url .. " failed: " .. what .. ": " .. tostring(err)
end

-- One exchange on one connection. Returns status, headers, body; or nil,
-- kind, message, retry (true when a pooled connection turned out to be
-- closed by the server before it answered: sending again is safe).
local function exchange(self, t, url, method, req, deadline)
  local sock = ngx.socket.tcp()
  local total = deadline - ngx.now()
  sock:settimeouts(ms(min(self.connect_timeout, total)), ms(total), ms(total))
  local ok, err = sock:connect(t.host, t.port, t.connect_opts)
  if not ok then
    if err == "timeout" then
      return nil, "timeout", "request to " .. url .. " failed: connecting to " .. t.host .. ":" .. t.port .. " timed out"
    end
    local hint = ""
    if find(err, "no resolver defined", 1, true) then
      hint = " (add a resolver directive to nginx.conf, e.g. `resolver 127.0.0.53;`)"
    end
    return nil, "connect", "request to " .. url .. " failed: cannot connect to " .. t.host .. ":" .. t.port
      .. ": " .. err .. hint
  end
  local reused = sock:getreusedtimes() > 0
  if not reused then
    self.connects = self.connects + 1
    if self.tcp_keepalive then sock:setoption("keepalive", true) end
    if t.tls then
      ok, err = sock:sslhandshake(false, t.sni, self.verify)   -- false: no session object
      if not ok then
        sock:close()
        if err == "timeout" then
          return nil, "timeout", "request to " .. url .. " failed: the TLS handshake timed out"
        end
        local hint = ""
        if self.verify and find(err, "certificate", 1, true) and not find(err, "host mismatch", 1, true) then
          hint = " (the trusted CAs are nginx's lua_ssl_trusted_certificate; see docs/openresty.md)"
        end
        return nil, "tls", "request to " .. url .. " failed: TLS handshake: " .. err .. hint
      end
    end
    total = deadline - ngx.now()
    if total <= 0 then
      sock:close()
      return nil, "timeout", "request to " .. url .. " failed: timed out while connecting"
    end
    sock:settimeouts(ms(total), ms(total), ms(total))
  end

  ok, err = sock:send(req)
  if not ok then
    sock:close()
    if reused and err ~= "timeout" then return nil, "io", err, true end
    return failure(url, "sending the request", err)
  end
  local status, headers, keep = read_head(sock)
  if not status then
    sock:close()
    err = headers
    if reused and (err == "closed" or err == "connection reset by peer") then return nil, "io", err, true end
    if err == "closed" then err = "the server closed the connection before answering" end
    return failure(url, "reading the response head", err)
  end
  while status >= 100 and status < 200 and status ~= 101 do   -- 100 Continue and the like
    status, headers, keep = read_head(sock)
    if not status then
      sock:close()
      return failure(url, "reading the response head", headers)
    end
  end
  local body
  body, keep = read_body(sock, method, status, headers, keep)
  if not body then
    sock:close()
    err = keep
    if err == "closed" then err = "the server closed the connection before the body was complete" end
    return failure(url, "reading the response body", err)
  end
  if keep then
    sock:setkeepalive(self.keepalive_ms, self.pool_size)
  else
    sock:close()
  end
  if method ~= "HEAD" then
    local msg = crc_mismatch(headers, body)
    if msg then return nil, "crc32", msg end
  end
  return status, headers, body
end

--- Sends one request. timeout (seconds, optional) bounds this request
--- when shorter than the transport's. Raises outside the phases that
--- allow cosockets (with the advice to use ngx.timer.at).
function Ngx:request(method, url, headers, body, timeout)
  check_phase("send a DynamoDB request")
  if self.closed then return nil, "closed", "the HTTP client is closed" end
  if timeout ~= nil and (type(timeout) ~= "number" or not (timeout > 0)) then
    error("bad argument 'timeout' to 'request' (positive number expected, got "
      .. (type(timeout) == "number" and tostring(timeout) or type(timeout)) .. ")", 2)
  end
  local t, msg = target_of(self, url)
  if not t then return nil, "url", "bad URL '" .. tostring(url) .. "': " .. msg end
  local req = build(self, t, method, headers, body)
  wake()   -- tasks blocked on what this coroutine changed may run while it waits
  local deadline = ngx.now() + (timeout and min(timeout, self.timeout) or self.timeout)
  self.requests = self.requests + 1
  local status, rheaders, rbody, retry
  for _ = 1, 3 do
    status, rheaders, rbody, retry = exchange(self, t, url, method, req, deadline)
    if not retry then break end
    -- A pooled connection the server had closed: try a fresh one.
    status, rheaders, rbody = nil, "io", "request to " .. url .. " failed: " .. tostring(rbody)
  end
  return status, rheaders, rbody
end

--- { connects = connections opened, requests = requests sent } (this
--- worker's, for this transport).
function Ngx:stats()
  return { connects = self.connects, requests = self.requests }
end

--- Later requests return nil, "closed". Pooled connections stay in
--- nginx's pool (it closes them when idle).
function Ngx:close()
  self.closed = true
end

function Ngx:__tostring()
  return "dynamo.transport.ngx (" .. (self.closed and "closed" or "open") .. ")"
end

M.Ngx = Ngx
-- For the specs (table-driven, under any Lua).
M._parse_head, M._parse_url, M._build = parse_head, parse_url, build

return M
