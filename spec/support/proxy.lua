--- Starts spec/support/fault_proxy.js in front of a real server, for tests
--- of what the client does when the network or the server misbehaves.
--- Proxies are stopped by PID with stop_all() (call it from after_each).
local M = {}

local procs = {}

-- Flags given as a table: { count = 2, after = 1, rate = 0.2, seed = 7,
-- retry_after = 300, tls_cert = path, tls_key = path, port = 0 }.
local FLAGS = {
  count = "--count", after = "--after", rate = "--rate", seed = "--seed", retry_after = "--retry-after",
  tls_cert = "--tls-cert", tls_key = "--tls-key", port = "--port",
}

local function flags(extra)
  if type(extra) ~= "table" then return extra or "" end
  local out = {}
  for k, v in pairs(extra) do
    local flag = FLAGS[k] or error("support.proxy: unknown flag '" .. tostring(k) .. "'", 3)
    out[#out + 1] = flag .. " '" .. tostring(v) .. "'"
  end
  table.sort(out)
  return table.concat(out, " ")
end

--- Starts a proxy in `mode` (a mode spec of fault_proxy.js: pass, crc32,
--- corrupt, truncate, hang, reset, reset_after, delay=<ms>, status=<code>,
--- throttle, internal, unavailable, unprocessed, echo; several as
--- "throttle@0.2,unprocessed@0.2") in front of `target`. `extra` is more
--- flags, as a string ("--count 2") or a table ({ count = 2, seed = 7 }).
--- Returns its base URL, https:// when a TLS certificate is given.
function M.start(mode, target, extra)
  extra = flags(extra)
  -- Node must not inherit the sanitizer preload of an ASan test run.
  local cmd = "echo $$; exec env -u LD_PRELOAD node spec/support/fault_proxy.js --mode '" .. mode .. "'"
    .. (target and (" --target " .. target) or "") .. " --parent-pid $PPID " .. extra
  local f = assert(io.popen(cmd))
  local p = { f = f, pid = f:read("l") }
  procs[#procs + 1] = p
  local line = f:read("l")
  local port = line and line:match("^listening (%d+)$")
  assert(p.pid and port, "fault proxy did not start (" .. cmd .. "): " .. tostring(line))
  local scheme = extra:find("--tls-cert", 1, true) and "https" or "http"
  return scheme .. "://127.0.0.1:" .. port .. "/"
end

-- {"a":1,"b":2} -> { a = 1, b = 2 } (the flat objects of GET /_faults).
local function counts(json)
  local t = {}
  for k, v in (json or ""):gmatch('"([^"]+)":(%d+)') do t[k] = tonumber(v) end
  return t
end

--- The proxy's statistics (GET /_faults): { seed, requests, passed,
--- unprocessed_items, unprocessed_keys, faults = { kind = n },
--- targets = { Operation = n } }.
function M.stats(url)
  local http = require("dynamo.core").http { verify = false, timeout = 5 }
  local status, _, body = http:request("GET", url:gsub("/$", "") .. "/_faults", {}, nil)
  http:close()
  assert(status == 200, "fault proxy stats: " .. tostring(status) .. " " .. tostring(body))
  local faults, targets = body:match('"faults":(%b{})'), body:match('"targets":(%b{})')
  local rest = body:gsub('"faults":%b{}', ""):gsub('"targets":%b{}', "")
  local s = counts(rest)
  s.faults, s.targets = counts(faults), counts(targets)
  return s
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
