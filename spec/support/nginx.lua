--- A real nginx (Debian's, with libnginx-mod-http-lua and lua-resty-core)
--- for the specs: started on loopback in a temporary prefix with its own
--- configuration, stopped by PID. Also a DNS server for nginx's resolver
--- (spec/support/dns_server.js) and a small HTTP client.
---
---   local nginx = require "support.nginx"
---   local srv = nginx.start { conf = text, vars = { ENDPOINT = url }, env = { NAME = value } }
---   local status, body, headers = nginx.request(srv.url .. "/path")
---   srv:stop(); srv:errors() -> the error.log lines at level error or worse
---
--- In `conf`, ${NAME} is replaced by vars[NAME] or one of: PORT (a free
--- port, listened on by the first server block), PREFIX (the temporary
--- prefix, ends with /), ROOT (this checkout), LUA_PATH and LUA_CPATH
--- (dynamo's modules, for lua_package_path/cpath), MODULES (the
--- load_module lines). Files to put in the prefix come in opts.files
--- ({ ["name"] = text }).
local socket = require "socket"

local M = {}

M.NGINX = os.getenv("DYNAMO_NGINX") or "nginx"
M.MODULES_DIR = os.getenv("DYNAMO_NGINX_MODULES") or "/usr/lib/nginx/modules"

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Shell commands run without the sanitizer preload of an ASan test run
-- (nginx, node and the tools are not instrumented).
local function run(cmd)
  return os.execute("env -u LD_PRELOAD sh -c " .. sh_quote(cmd))
end

local function capture(cmd)
  local p = assert(io.popen("env -u LD_PRELOAD sh -c " .. sh_quote(cmd .. " 2>&1")))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok, code
end

local function root()
  local out = capture("pwd")
  return (out:gsub("%s+$", ""))
end

--- The C module for LuaJIT: build/luajit/dynamo/core.so (override the
--- directory with DYNAMO_LUAJIT_CPATH, a directory holding dynamo/core.so).
function M.luajit_cdir()
  return os.getenv("DYNAMO_LUAJIT_CPATH") or (root() .. "/build/luajit")
end

--- A free TCP port on loopback (free when asked; nothing else here takes it).
function M.free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
M.read, M.write = read, write

--- The variables every configuration gets.
function M.builtins(prefix, port)
  local r = root()
  return {
    PORT = tostring(port),
    PREFIX = prefix,
    ROOT = r,
    LUA_PATH = r .. "/lua/?.lua;" .. r .. "/lua/?/init.lua;" .. r .. "/spec/?.lua;/usr/share/lua/5.1/?.lua;;",
    LUA_CPATH = M.luajit_cdir() .. "/?.so;;",
    MODULES = "load_module " .. M.MODULES_DIR .. "/ndk_http_module.so;\n"
      .. "load_module " .. M.MODULES_DIR .. "/ngx_http_lua_module.so;",
  }
end

local function substitute(text, vars)
  return (text:gsub("%${([%w_]+)}", function(name)
    local v = vars[name]
    if v == nil then error("support.nginx: no value for ${" .. name .. "}", 0) end
    return tostring(v)
  end))
end
M.substitute = substitute

local Server = {}
Server.__index = Server

--- Sends a request; returns status, body, headers (lowercase names), or
--- nil and an error message. opts: method, body, headers, timeout (s).
function M.request(url, opts)
  opts = opts or {}
  local host, port, path = url:match("^http://([^:/]+):(%d+)(.*)$")
  assert(host, "support.nginx.request: http://host:port/... expected, got " .. url)
  if path == "" then path = "/" end
  local c = socket.tcp()
  c:settimeout(opts.timeout or 30)
  local ok, err = c:connect(host, tonumber(port))
  if not ok then return nil, "connect: " .. err end
  local body = opts.body or ""
  local lines = { (opts.method or "GET") .. " " .. path .. " HTTP/1.1", "Host: " .. host .. ":" .. port,
    "Connection: close", "Content-Length: " .. #body }
  for k, v in pairs(opts.headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  c:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. body)
  local raw, rerr, partial = c:receive("*a")
  c:close()
  raw = raw or partial
  if not raw or raw == "" then return nil, "receive: " .. tostring(rerr) end
  local head, rest = raw:match("^(.-)\r\n\r\n(.*)$")
  if not head then return nil, "malformed response: " .. raw:sub(1, 200) end
  local status = tonumber(head:match("^HTTP/1%.%d (%d+)"))
  local headers = {}
  for line in head:gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then headers[k:lower()] = v end
  end
  if (headers["transfer-encoding"] or ""):lower():find("chunked") then
    local out, pos = {}, 1
    while true do
      local size_hex, e = rest:match("^(%x+)[^\r\n]*\r\n()", pos)
      if not size_hex then break end
      local size = tonumber(size_hex, 16)
      if size == 0 then break end
      out[#out + 1] = rest:sub(e, e + size - 1)
      pos = e + size + 2
    end
    rest = table.concat(out)
  end
  return status, rest, headers
end

--- Starts nginx. opts: conf (text), vars, env (variables for nginx's
--- environment; the conf passes them on with `env NAME;`), files (more
--- files for the prefix), ready (a path to GET until it answers 200;
--- default: until the port accepts connections). Raises when it does not
--- start.
function M.start(opts)
  local so = M.luajit_cdir() .. "/dynamo/core.so"
  local f = io.open(so)
  if f then
    f:close()
  else
    error("support.nginx: no " .. so .. " (dynamo.core for LuaJIT: CMake builds it when LuaJIT's headers, "
      .. "libluajit2-5.1-dev, are installed)", 0)
  end
  local prefix = capture("mktemp -d /tmp/dynamo-nginx.XXXXXX"):gsub("%s+$", "") .. "/"
  assert(prefix:match("^/tmp/dynamo%-nginx%.[%w]+/$"), "mktemp failed: " .. prefix)
  -- Workers may run as another user (nobody, when started as root).
  run("chmod 755 " .. sh_quote(prefix) .. " && mkdir -p " .. sh_quote(prefix .. "logs") .. " "
    .. sh_quote(prefix .. "conf"))
  local port = opts.port or M.free_port()
  local vars = M.builtins(prefix, port)
  for k, v in pairs(opts.vars or {}) do vars[k] = v end
  local conf_path = prefix .. "conf/nginx.conf"
  write(conf_path, substitute(opts.conf, vars))
  for name, text in pairs(opts.files or {}) do
    local path = prefix .. name
    run("mkdir -p " .. sh_quote(path:match("^(.*)/")))
    write(path, substitute(text, vars))
  end
  local env = {}
  for k, v in pairs(opts.env or {}) do env[#env + 1] = k .. "=" .. sh_quote(v) end
  table.sort(env)
  -- The conf's pid file, else logs/nginx.pid.
  local conf_pid = (read(conf_path) or ""):match("\n%s*pid%s+([^;%s]+)%s*;")
  local pid_path = conf_pid and (conf_pid:sub(1, 1) == "/" and conf_pid or prefix .. conf_pid)
    or prefix .. "logs/nginx.pid"
  -- Daemon mode (nginx's default): the command returns once the master
  -- runs, or failed.
  local cmd = "env " .. table.concat(env, " ") .. " " .. M.NGINX .. " -p " .. sh_quote(prefix)
    .. " -c " .. sh_quote(conf_path) .. " -e " .. sh_quote(prefix .. "logs/error.log")
    .. (conf_pid and "" or (" -g " .. sh_quote("pid " .. pid_path .. ";")))
  local out, ok = capture(cmd)
  local self = setmetatable({ prefix = prefix, port = port, url = "http://127.0.0.1:" .. port,
    conf = conf_path, error_log = prefix .. "logs/error.log" }, Server)
  if not ok then
    local log = read(self.error_log) or ""
    run("rm -rf " .. sh_quote(prefix))
    error("nginx did not start (" .. cmd .. "):\n" .. out .. log, 0)
  end
  for _ = 1, 100 do
    local pid = read(pid_path)
    if pid and pid:match("^%d+") then
      self.pid = pid:match("^(%d+)")
      break
    end
    socket.sleep(0.05)
  end
  assert(self.pid, "nginx wrote no pid file")
  -- Ready: the port accepts connections (and `ready` answers 200).
  local up = false
  for _ = 1, 200 do
    if opts.ready then
      local status = M.request(self.url .. opts.ready, { timeout = 2 })
      up = status == 200
    else
      local c = socket.tcp()
      c:settimeout(0.5)
      up = c:connect("127.0.0.1", port) ~= nil
      c:close()
    end
    if up then break end
    socket.sleep(0.05)
  end
  if not up then
    self:stop()
    error("nginx did not answer on " .. self.url .. ":\n" .. (read(self.error_log) or ""), 0)
  end
  return self
end

--- The worker processes' PIDs (children of the master).
function Server:workers()
  local out = capture("pgrep -P " .. self.pid)
  local list = {}
  for pid in out:gmatch("%d+") do list[#list + 1] = pid end
  return list
end

--- The lines of error.log at level error, crit, alert or emerg (each
--- `allowed` pattern removes the lines it matches).
function Server:errors(allowed)
  local log = read(self.error_log) or ""
  local bad = {}
  for line in log:gmatch("[^\n]+") do
    if line:match("%[error%]") or line:match("%[crit%]") or line:match("%[alert%]") or line:match("%[emerg%]") then
      local ok = false
      for _, pat in ipairs(allowed or {}) do
        if line:find(pat) then ok = true end
      end
      if not ok then bad[#bad + 1] = line end
    end
  end
  return bad
end

--- Stops nginx (TERM to the master, then waits for it and its workers);
--- keeps the prefix (error.log) until cleanup().
function Server:stop()
  if not self.pid then return end
  local workers = self:workers()
  run("kill " .. self.pid .. " 2>/dev/null")
  for _ = 1, 100 do
    if not run("kill -0 " .. self.pid .. " 2>/dev/null") then break end
    socket.sleep(0.05)
  end
  if run("kill -0 " .. self.pid .. " 2>/dev/null") then
    run("kill -9 " .. self.pid .. " 2>/dev/null")
  end
  for _, w in ipairs(workers) do
    if run("kill -0 " .. w .. " 2>/dev/null") then run("kill -9 " .. w .. " 2>/dev/null") end
  end
  self.pid = nil
end

--- Removes the prefix directory.
function Server:cleanup()
  self:stop()
  if self.prefix and self.prefix:match("^/tmp/dynamo%-nginx%.[%w]+/$") then
    run("rm -rf " .. sh_quote(self.prefix))
  end
end

local dns_procs = {}

--- Starts spec/support/dns_server.js (every name is 127.0.0.1); returns
--- its port, for `resolver 127.0.0.1:<port> ipv6=off;`.
function M.start_dns()
  local f = assert(io.popen("echo $$; exec env -u LD_PRELOAD node spec/support/dns_server.js --parent-pid $PPID"))
  local p = { f = f, pid = f:read("l") }
  dns_procs[#dns_procs + 1] = p
  local line = f:read("l")
  local port = line and line:match("^listening (%d+)$")
  assert(p.pid and port, "dns server did not start: " .. tostring(line))
  return tonumber(port)
end

--- Stops the DNS servers started so far.
function M.stop_dns()
  for i = #dns_procs, 1, -1 do
    local p = dns_procs[i]
    if p.pid and p.pid:match("^%d+$") then run("kill " .. p.pid .. " 2>/dev/null") end
    p.f:close()
    dns_procs[i] = nil
  end
end

return M
