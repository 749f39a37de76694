--- dynamo run SCRIPT [args...]: a Lua script with dynamo and a ready db.
local script_env = require "dynamo.cli.script_env"
local fail = require "dynamo.cli.fail"

return {
  name = "run",
  summary = "run a Lua script with dynamo and a ready client (db)",
  usage = "dynamo run [--traceback] SCRIPT [args...]",
  args = { "SCRIPT" },
  rest = true,
  flags = {
    traceback = { kind = "bool", help = "after a script's error, print where it happened (a Lua traceback)" },
  },
  help = [[
Runs the Lua 5.4 script with the globals `dynamo` (the module) and `db` (a
client made from the flags, on first use). Its arguments are in `arg`
(arg[0] is the script) and in `...`. Everything after SCRIPT is the
script's, flags too. An error in the script prints one line (a dynamo error
value as its text: code, message, operation) and the status is 1; a script
that returns an integer makes that the exit status.

  dynamo run fix.lua users 2026-01-01
  dynamo --endpoint http://127.0.0.1:8000 run seed.lua]],
  run = function(ctx, opts, a)
    local env = script_env.new(ctx, a.SCRIPT, opts.rest)
    local chunk, err = loadfile(a.SCRIPT, "t", env)
    if not chunk then fail.data(err) end
    local trace
    local res = table.pack(xpcall(chunk, function(e)
      if opts.traceback then trace = debug.traceback("", 2) end
      return e
    end, table.unpack(opts.rest or {})))
    if not res[1] then
      local e = res[2]
      if require("dynamo.cli.fail").is_failure(e) then error(e, 0) end
      io.stderr:write("dynamo run: ", script_env.message(e), "\n")
      if trace then io.stderr:write(trace:gsub("^\n", ""), "\n") end
      return 1
    end
    if math.type(res[2]) == "integer" then return res[2] end
    return 0
  end,
}
