--- Runs Lua code in a process with a clean environment (only PATH, the
--- Lua paths and the sanitizer settings kept) plus `env`; returns its
--- output. For behaviour that depends on the process environment. The
--- interpreter is the one running the specs: lua5.4, or luajit.
return function(env, code)
  local vars = {}
  for k, v in pairs(env) do vars[#vars + 1] = k .. "='" .. v .. "'" end
  local keep = {}
  for _, k in ipairs { "PATH", "LUA_PATH", "LUA_CPATH", "LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS" } do
    local v = os.getenv(k)
    if v then keep[#keep + 1] = k .. "='" .. v .. "'" end
  end
  local lpath = package.path:gsub("'", "")
  local cpath = package.cpath:gsub("'", "")
  local cmd = string.format("env -i %s %s LUA_PATH='%s' LUA_CPATH='%s' %s -e %q 2>&1",
    table.concat(keep, " "), table.concat(vars, " "), lpath, cpath, jit and "luajit" or "lua5.4", code)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end
