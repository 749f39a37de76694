--- Starts spec/support/fault_proxy.js in front of a real server, for tests
--- of what the client does when the network or the server misbehaves.
--- Proxies are stopped by PID with stop_all() (call it from after_each).
local M = {}

local procs = {}

--- Starts a proxy in `mode` (pass, crc32, hang, reset, delay=<ms>,
--- status=<code>, echo) in front of `target`; returns its base URL.
function M.start(mode, target, extra)
  -- Node must not inherit the sanitizer preload of an ASan test run.
  local cmd = "echo $$; exec env -u LD_PRELOAD node spec/support/fault_proxy.js --mode " .. mode
    .. (target and (" --target " .. target) or "") .. " --parent-pid $PPID " .. (extra or "")
  local f = assert(io.popen(cmd))
  local p = { f = f, pid = f:read("l") }
  procs[#procs + 1] = p
  local line = f:read("l")
  local port = line and line:match("^listening (%d+)$")
  assert(p.pid and port, "fault proxy did not start (" .. cmd .. "): " .. tostring(line))
  return "http://127.0.0.1:" .. port .. "/"
end

--- Stops every proxy started so far.
function M.stop_all()
  for i = #procs, 1, -1 do
    local p = procs[i]
    if p.pid and p.pid:match("^%d+$") then os.execute("kill " .. p.pid .. " 2>/dev/null") end
    p.f:close()
    procs[i] = nil
  end
end

return M
