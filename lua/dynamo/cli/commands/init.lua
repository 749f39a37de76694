--- The commands, in the order --help lists them. Each is a table:
---   name, summary, usage, args, rest, flags, help (see dynamo.cli.args),
---   run(ctx, opts, positional) -> exit status
local M = { list = {}, by_name = {} }

local files = { "run", "shell", "tables", "items", "read", "export", "import", "migrate", "status" }

local loaded = false

--- Loads the command modules (on first use, not at require time).
function M.load()
  if loaded then return M end
  loaded = true
  for _, f in ipairs(files) do
    local mod = require("dynamo.cli.commands." .. f)
    local cmds = mod.command and { mod.command } or mod.name and { mod } or mod
    for _, cmd in ipairs(cmds) do
      M.list[#M.list + 1] = cmd
      M.by_name[cmd.name] = cmd
    end
  end
  return M
end

return M
