--- The --help texts, made from the commands' own descriptions.
local args = require "dynamo.cli.args"

local M = {}

local WIDTH = 80

-- Wraps text to the width, each line after the first indented by `indent`.
local function wrap(text, indent, first_width)
  local lines, line, width = {}, "", first_width
  for word in text:gmatch("%S+") do
    if line ~= "" and #line + 1 + #word > width then
      lines[#lines + 1] = line
      line, width = word, WIDTH - indent
    else
      line = line == "" and word or line .. " " .. word
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n" .. string.rep(" ", indent))
end

local function flag_lines(flags, out)
  local names = {}
  for name in pairs(flags) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local f = flags[name]
    local left = "  --" .. name .. (f.kind ~= "bool" and " " .. (f.value or "VALUE") or "")
    local pad = 26
    if #left >= pad - 1 then
      out[#out + 1] = left
      left = ""
    end
    out[#out + 1] = left .. string.rep(" ", pad - #left) .. wrap(f.help or "", pad, WIDTH - pad)
  end
end

--- The help of the program: commands and global flags.
function M.program(commands)
  local out = {
    "dynamo: DynamoDB from the command line. Everyday commands with JSON in and out,",
    "Lua scripts and a shell with a ready client, export and import, and resumable,",
    "parallel, rate-limited migrations.",
    "",
    "usage: dynamo [global flags] COMMAND [arguments] [flags]",
    "",
    "commands:",
  }
  for _, cmd in ipairs(commands.list) do
    out[#out + 1] = "  " .. cmd.name .. string.rep(" ", 10 - #cmd.name) .. cmd.summary
  end
  out[#out + 1] = ""
  out[#out + 1] = "global flags (before or after the command):"
  flag_lines(args.GLOBAL, out)
  out[#out + 1] = ""
  out[#out + 1] = "Credentials come from the AWS chain (AWS_ACCESS_KEY_ID, web identity, profiles,"
  out[#out + 1] = "container, instance metadata). dynamo COMMAND --help describes a command;"
  out[#out + 1] = "docs/cli.md has everything. Exit status: 0 ok, 1 failed, 2 some items failed,"
  out[#out + 1] = "64 usage error, 65 bad input or script."
  return table.concat(out, "\n") .. "\n"
end

--- The help of one command.
function M.command(cmd)
  local out = { "usage: " .. cmd.usage, "", cmd.summary:sub(1, 1):upper() .. cmd.summary:sub(2) .. ".", "" }
  out[#out + 1] = cmd.help
  if next(cmd.flags or {}) then
    out[#out + 1] = ""
    out[#out + 1] = "flags:"
    flag_lines(cmd.flags, out)
  end
  out[#out + 1] = ""
  out[#out + 1] = "global flags: --endpoint URL, --region R, --profile P, --log-level L, --help"
  return table.concat(out, "\n") .. "\n"
end

return M
