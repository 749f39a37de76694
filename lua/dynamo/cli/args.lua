--- Command-line parsing: flags (--name VALUE, --name=VALUE, booleans
--- --name) before, between and after positional arguments; "--" ends
--- the flags. A command describes its own (see commands/*.lua):
---   args  = { "TABLE", "KEY_JSON", "FILE?" (optional), "STATEFILE..." (one or
---           more), "STATEFILE?..." (any number) }
---   rest  = true: everything after the positional arguments is passed on
---           untouched (dynamo run SCRIPT args...)
---   flags = { ["max-wcu"] = { kind = "number", value = "X", help = "..." }, ... }
--- Kinds: bool, string, int (>= 1), number (> 0), enum (values = {...}),
--- or a parse function(text) -> value | nil, "what was expected".
--- many = true collects repeats in a list. Mistakes raise usage failures.
local fail = require "dynamo.cli.fail"

local M = {}

--- The flags every command takes.
M.GLOBAL = {
  endpoint = { kind = "string", value = "URL", help = "the DynamoDB endpoint (default: AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, else the region's)" },
  region = { kind = "string", value = "R", help = "the AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, else the profile's)" },
  profile = { kind = "string", value = "P", help = "use the credentials and region of this shared-config profile (default: AWS_PROFILE, else the credential chain)" },
  ["log-level"] = { kind = "enum", values = { "off", "error", "warn", "info", "debug" }, value = "L",
    help = "log requests to stderr: off, error, warn, info or debug (default: DYNAMO_LOG, else off)" },
  help = { kind = "bool", help = "show this help" },
}

local function check_value(flag, spec, text)
  local kind = spec.kind
  local function bad(expected)
    fail.usage("bad value for --" .. flag .. ": " .. expected .. " expected, got '" .. text .. "'")
  end
  if type(spec.parse) == "function" then
    local v, expected = spec.parse(text)
    if v == nil then bad(expected) end
    return v
  elseif kind == "string" then
    if text == "" then bad("a non-empty value") end
    return text
  elseif kind == "int" then
    local n = math.tointeger(tonumber(text))
    if not n or n < (spec.min or 1) or not text:match("^%d+$") then
      bad(spec.min == 0 and "a whole number" or "a positive integer")
    end
    return n
  elseif kind == "number" then
    local n = tonumber(text)
    if not n or not (n > 0) or n == math.huge then bad("a positive number") end
    return n
  elseif kind == "enum" then
    for _, v in ipairs(spec.values) do
      if v == text then return v end
    end
    local list = table.concat(spec.values, ", ", 1, #spec.values - 1) .. " or " .. spec.values[#spec.values]
    bad(list)
  end
  error("flag --" .. flag .. " has an unknown kind " .. tostring(kind))
end

--- The spec of flag `name` for a command (its own, else a global one).
local function find(cmd, name)
  return cmd and cmd.flags and cmd.flags[name] or M.GLOBAL[name]
end

--- Parses argv[first..] for cmd (nil: before any command, global flags
--- only, stopping at the first positional argument). Returns opts (flag
--- values by name with "-" as "_", positional arguments in opts.args,
--- pass-through arguments in opts.rest) and the index where parsing stopped.
function M.parse(argv, first, cmd, into)
  local opts = into or { args = {} }
  local npos = cmd and cmd.args and #cmd.args or 0
  local i, flags_done = first, false
  while i <= #argv do
    local a = argv[i]
    if not flags_done and a == "--" then
      flags_done = true
      i = i + 1
    elseif not flags_done and (a:sub(1, 2) == "--" or a == "-h") then
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      if a == "-h" then name = "help" elseif not name then name = a:sub(3) end
      local spec = find(cmd, name)
      if not spec then
        fail.usage("unknown flag '--" .. name .. "'; see dynamo " .. (cmd and cmd.name .. " " or "") .. "--help")
      end
      local key = name:gsub("%-", "_")
      if spec.kind == "bool" then
        if value ~= nil then fail.usage("flag '--" .. name .. "' takes no value") end
        value = true
      else
        if value == nil then
          value = argv[i + 1]
          if value == nil or value:sub(1, 2) == "--" then
            fail.usage("flag '--" .. name .. "' needs a value (" .. (spec.value or "VALUE") .. ")")
          end
          i = i + 1
        end
        value = check_value(name, spec, value)
      end
      if spec.many then
        opts[key] = opts[key] or {}
        table.insert(opts[key], value)
      elseif opts[key] ~= nil then
        fail.usage("flag '--" .. name .. "' given twice")
      else
        opts[key] = value
      end
      i = i + 1
    else
      if not cmd then return opts, i end
      local list = opts.args
      list[#list + 1] = a
      i = i + 1
      if cmd.rest and #list == npos then
        opts.rest = table.move(argv, i, #argv, 1, {})
        return opts, #argv + 1
      end
    end
  end
  return opts, i
end

--- Checks the positional arguments against cmd.args: raises a usage
--- failure for a missing or an extra one. Returns them by name.
function M.positional(cmd, opts)
  local got, named = opts.args, {}
  local usage = "usage: " .. cmd.usage
  local i = 1
  for _, spec in ipairs(cmd.args or {}) do
    local name, mark = spec:match("^(.-)([?.]*)$")
    local optional = mark:find("?", 1, true)
    if mark:find("...", 1, true) then
      if got[i] == nil and not optional then fail.usage("missing " .. name .. "; " .. usage) end
      named[name] = table.move(got, i, #got, 1, {})
      i = #got + 1
    else
      if got[i] == nil and not optional then fail.usage("missing " .. name .. "; " .. usage) end
      named[name] = got[i]
      i = i + 1
    end
  end
  if got[i] ~= nil then
    fail.usage("unexpected argument '" .. got[i] .. "'; " .. usage)
  end
  return named
end

return M
