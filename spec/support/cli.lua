--- Runs the dynamo program from the specs: the C program when it is
--- built (an executable file `dynamo` or `bin/dynamo` in the build
--- directory this busted run loads dynamo.core from, so an ASan run uses
--- build-asan's; DYNAMO_CLI="command" picks another), else the development
--- launcher `lua5.4 bin/dynamo.lua`. The child gets the test servers'
--- credentials and region and the Lua paths of this busted run.
local M = {}

local root
do
  local p = assert(io.popen("pwd"))
  root = p:read("l")
  p:close()
end
M.root = root

--- Quotes a string for sh.
function M.q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
local q = M.q

local function is_program(path)
  return os.execute("test -f " .. q(path) .. " && test -x " .. q(path)) == true
end

-- The build directory of the dynamo.core this run loads (cpath "<dir>/?.so").
local function build_dir()
  for entry in package.cpath:gmatch("[^;]+") do
    local d = entry:match("^(.*)/%?%.so$")
    if d and io.open(d .. "/dynamo/core.so") then
      if d:sub(1, 1) ~= "/" then d = root .. "/" .. d:gsub("^%./", "") end
      return d
    end
  end
  return root .. "/build"
end

--- The command that starts the program (already quoted for sh).
function M.program()
  -- DYNAMO_CLI is sh text: "lua5.4 /path/bin/dynamo.lua" tests the launcher.
  local chosen = os.getenv("DYNAMO_CLI")
  if chosen and chosen ~= "" then return chosen end
  local dir = build_dir()
  for _, path in ipairs { dir .. "/dynamo", dir .. "/bin/dynamo" } do
    if is_program(path) then return q(path) end
  end
  return "lua5.4 " .. q(root .. "/bin/dynamo.lua")
end

-- The environment: test credentials, a region, no profile or endpoint of
-- the user's, the Lua paths of this run.
local function env_prefix(extra)
  local vars = {
    AWS_ACCESS_KEY_ID = "AKIDTEST", AWS_SECRET_ACCESS_KEY = "test-secret", AWS_REGION = "us-east-1",
    LUA_PATH = package.path, LUA_CPATH = package.cpath,
    -- Named again so that a wrapper started without it (M.pty) passes it on.
    LD_PRELOAD = os.getenv("LD_PRELOAD") or false,
  }
  -- In the ASan run, LeakSanitizer itself crashes at exit in some of these
  -- short processes ("Tracer caught signal 11" while it walks a dlopen'd
  -- library's thread-local storage: GCC 12's LSan with glibc 2.36; whether
  -- it happens depends on the memory layout, not on what the program did).
  -- The children keep ASan's memory checks but not the leak check; the
  -- busted process and valgrind check the core for leaks.
  local asan = os.getenv("ASAN_OPTIONS")
  if asan then vars.ASAN_OPTIONS = asan .. ":detect_leaks=0" end
  for k, v in pairs(extra or {}) do vars[k] = v end
  local parts = { "env", "-u AWS_PROFILE", "-u AWS_SESSION_TOKEN", "-u AWS_ENDPOINT_URL", "-u AWS_ENDPOINT_URL_DYNAMODB",
    "-u DYNAMO_PROGRESS", "-u DYNAMO_LOG" }
  local names = {}
  for k in pairs(vars) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    if vars[k] ~= false then parts[#parts + 1] = k .. "=" .. q(vars[k]) end
  end
  return table.concat(parts, " ")
end

--- The whole command line for args (a list of strings), as sh text.
function M.command(args, opts)
  opts = opts or {}
  local parts = { env_prefix(opts.env), M.program() }
  for _, a in ipairs(args) do parts[#parts + 1] = q(a) end
  return table.concat(parts, " ")
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end
M.slurp = slurp

local function tmpname()
  local p = os.tmpname()
  return p
end

--- Runs the program with args; opts.stdin (text), opts.cwd, opts.env.
--- Returns { status =, stdout =, stderr = }.
function M.run(args, opts)
  opts = opts or {}
  local out, err, input = tmpname(), tmpname(), tmpname()
  local f = assert(io.open(input, "wb"))
  f:write(opts.stdin or "")
  f:close()
  local cmd = M.command(args, opts) .. " <" .. q(input) .. " >" .. q(out) .. " 2>" .. q(err)
  if opts.cwd then cmd = "cd " .. q(opts.cwd) .. " && " .. cmd end
  local _, _, status = os.execute(cmd)
  local res = { status = status, stdout = slurp(out), stderr = slurp(err) }
  os.remove(out)
  os.remove(err)
  os.remove(input)
  return res
end

--- Starts the program in the background (stdout and stderr to files).
--- Returns a handle: h.pid, h:kill(signal), h:wait() -> { status, stdout, stderr }.
function M.spawn(args, opts)
  opts = opts or {}
  local out, err = tmpname(), tmpname()
  local inner = "echo $$; exec " .. M.command(args, opts) .. " </dev/null >" .. q(out) .. " 2>" .. q(err)
  if opts.cwd then inner = "cd " .. q(opts.cwd) .. " && " .. inner end
  -- (stderr off for the shell itself: no "Killed" notice in the test output)
  local p = assert(io.popen("exec 2>/dev/null; sh -c " .. q(inner) .. "; echo exit:$?", "r"))
  local pid = assert(tonumber(p:read("l")), "no pid from the spawned program")
  local h = { pid = pid }
  function h.kill(_, signal)
    os.execute("kill -" .. (signal or "KILL") .. " " .. pid)
  end
  function h.wait()
    local rest = p:read("a")
    p:close()
    local status = tonumber(rest:match("exit:(%d+)"))
    local res = { status = status, stdout = slurp(out), stderr = slurp(err) }
    os.remove(out)
    os.remove(err)
    return res
  end
  return h
end

--- Runs the program on a pseudo-terminal (util-linux `script`), so that
--- it sees a terminal on stdin, stdout and stderr. Returns everything the
--- terminal got (stdout and stderr together, \n as \r\n).
function M.pty(args, opts)
  opts = opts or {}
  -- `script` itself runs without the sanitizers' preload (it is not ours
  -- to check); the program gets it back through its env prefix.
  local cmd = "env -u LD_PRELOAD script -qfec " .. q(M.command(args, opts)) .. " /dev/null"
  if opts.cwd then cmd = "cd " .. q(opts.cwd) .. " && " .. cmd end
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

--- A fresh temporary directory (removed by M.cleanup). The tools run
--- without the sanitizers' preload: they are not ours to check.
function M.tempdir()
  local p = assert(io.popen("env -u LD_PRELOAD mktemp -d"))
  local dir = p:read("l")
  p:close()
  assert(dir and dir:match("^/[%w/._-]+$"), "mktemp -d failed")
  return dir
end

function M.cleanup(dir)
  if dir and dir:match("^/tmp/") then os.execute("env -u LD_PRELOAD rm -rf " .. q(dir)) end
end

return M
