--- The dynamo command-line program:
---   dynamo [global flags] COMMAND [arguments] [flags]
--- cli.main(argv) runs one command and returns its exit status; the
--- dynamo program (and bin/dynamo.lua in a checkout) exits with it.
--- Commands are in dynamo/cli/commands/; docs/cli.md documents them.
local fail = require "dynamo.cli.fail"
local args = require "dynamo.cli.args"

local M = {}

-- Runs argv; raises failures (see dynamo.cli.fail).
local function dispatch(argv, state)
  local commands = require("dynamo.cli.commands").load()
  local help = require "dynamo.cli.help"
  local opts, i = args.parse(argv, 1, nil, { args = {} })
  local name = argv[i]
  if name == "help" then
    name = argv[i + 1]
    if name == nil then
      io.stdout:write(help.program(commands))
      return 0
    end
    opts.help, i = true, i + 1
  end
  if name == nil then
    if opts.help then
      io.stdout:write(help.program(commands))
      return 0
    end
    io.stderr:write(help.program(commands))
    return fail.USAGE
  end
  local cmd = commands.by_name[name]
  if not cmd then fail.usage("unknown command '" .. name .. "'; see dynamo --help") end
  state.command = cmd.name
  -- --help anywhere after the command wins over any other mistake (but
  -- not among a script's own arguments).
  if not cmd.rest then
    for j = i + 1, #argv do
      if argv[j] == "--" then break end
      if argv[j] == "--help" or argv[j] == "-h" then opts.help = true end
    end
  end
  if opts.help then
    io.stdout:write(help.command(cmd))
    return 0
  end
  args.parse(argv, i + 1, cmd, opts)
  if opts.help then
    io.stdout:write(help.command(cmd))
    return 0
  end
  local positional = args.positional(cmd, opts)
  local ctx = require("dynamo.cli.context").new(opts)
  return cmd.run(ctx, opts, positional)
end

--- Runs the command line (a list of strings, or the strings themselves)
--- and returns the exit status. Problems print one line on stderr:
--- "dynamo COMMAND: what went wrong".
function M.main(...)
  local argv = ...
  if type(argv) ~= "table" then argv = { ... } end
  local state = {}
  local ok, status = xpcall(dispatch, function(e)
    if fail.is_failure(e) then return e end
    local dynamo = require "dynamo"
    if dynamo.is_error(e) then return { status = fail.FAILED, message = tostring(e) } end
    -- Ctrl-C in lua5.4 (the launcher): whatever was running stops; state
    -- files are replaced atomically, so a migration resumes as after a kill.
    if type(e) == "string" and e:match("interrupted!$") then return { status = 130, message = "interrupted" } end
    return { status = fail.FAILED, message = "internal error: " .. tostring(e), trace = debug.traceback("", 2) }
  end, argv, state)
  io.stdout:flush()
  if ok then
    if math.type(status) ~= "integer" then status = 0 end
    return status
  end
  io.stderr:write("dynamo", state.command and " " .. state.command or "", ": ", status.message, "\n")
  if status.trace and os.getenv("DYNAMO_TRACEBACK") then io.stderr:write(status.trace, "\n") end
  return status.status
end

return M
