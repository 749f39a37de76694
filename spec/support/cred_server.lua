--- Starts spec/support/cred_server.js (the container endpoint, IMDSv2 and
--- STS on one loopback port) for the credentials specs, and talks to its
--- control endpoints. Stop it by PID with server:stop() (from teardown).
--- Also: scratch directories for shared files, token files and scripts.
local core = require "dynamo.core"

local M = {}

local codec = core.codec {}
local http -- made on first use

local Server = {}
Server.__index = Server

--- Starts a server; returns it (server.url is http://127.0.0.1:<port>, no slash).
function M.start()
  -- Node must not inherit the sanitizer preload of an ASan test run.
  local cmd = "echo $$; exec env -u LD_PRELOAD node spec/support/cred_server.js --parent-pid $PPID"
  local f = assert(io.popen(cmd))
  local pid = f:read("l")
  local line = f:read("l")
  local port = line and line:match("^listening (%d+)$")
  assert(pid and port, "cred_server did not start (" .. cmd .. "): " .. tostring(line))
  http = http or assert(core.http { timeout = 5, proxy = "" })
  return setmetatable({ f = f, pid = pid, url = "http://127.0.0.1:" .. port }, Server)
end

function Server:stop()
  if self.pid and self.pid:match("^%d+$") then os.execute("kill " .. self.pid .. " 2>/dev/null") end
  self.f:close()
  self.pid = nil
end

local function call(self, method, path, body)
  local status, _, rbody = http:request(method, self.url .. path, { "Content-Type: application/json" }, body)
  assert(status == 200, "cred_server " .. path .. ": " .. tostring(status) .. " " .. tostring(rbody))
  return rbody
end

--- Merges settings (see cred_server.js): ctl{ expires_in = 120 }.
function Server:ctl(settings) call(self, "POST", "/_control", codec:encode(settings)) end

--- Forgets settings and counters.
function Server:reset() call(self, "POST", "/_reset", "") end

--- How many requests of a kind arrived (container, imds_token, imds_role,
--- imds, sts_web, sts_assume).
function Server:count(kind) return tonumber(call(self, "GET", "/_count?kind=" .. kind)) end

--- The last request of a kind: { method, url, headers = {lowercase}, params }.
function Server:last(kind) return codec:decode(call(self, "GET", "/_last?kind=" .. kind)) end

--- A scratch directory; dir:write(name, text[, mode]) -> path; dir:remove().
function M.tmpdir()
  local path = os.tmpname()
  os.remove(path)
  assert(os.execute("mkdir -m 700 '" .. path .. "'"))
  return {
    path = path,
    write = function(self, name, text, mode)
      local p = self.path .. "/" .. name
      local f = assert(io.open(p, "w"))
      f:write(text)
      f:close()
      if mode then assert(os.execute("chmod " .. mode .. " '" .. p .. "'")) end
      return p
    end,
    remove = function(self) os.execute("rm -rf '" .. self.path .. "'") end,
  }
end

return M
