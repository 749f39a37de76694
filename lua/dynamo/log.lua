--- The logger: levels, silent by default. What it is given never holds
--- secrets: the request path logs operation, table, status, attempts and
--- duration, never headers, bodies or credentials.
---   dynamo.new{ log = "debug" }                              -- to stderr
---   dynamo.new{ log = { level = "info", sink = function(level, message, fields) ... end } }
---   DYNAMO_LOG=debug lua5.4 script.lua                       -- the same, from the environment
local type, error, tostring, date = type, error, tostring, os.date

local M = {}

local LEVELS = { off = 0, error = 1, warn = 2, info = 3, debug = 4 }
M.LEVELS = LEVELS

local Logger = {}
Logger.__index = Logger

local function stderr_sink(level, message)
  io.stderr:write(date("!%Y-%m-%dT%H:%M:%SZ"), " dynamo ", level, ": ", message, "\n")
end

--- Would a message at `level` be written?
function Logger:enabled(level)
  return LEVELS[level] <= self.rank
end

--- Writes message (with its fields table, for structured sinks) at level.
function Logger:log(level, message, fields)
  if LEVELS[level] <= self.rank then self.sink(level, message, fields or {}) end
end

local function bad(msg)
  error("bad argument 'log' to 'dynamo.new' (" .. msg .. ")", 4)
end

local function level_of(name)
  if LEVELS[name] == nil then
    bad("level \"off\", \"error\", \"warn\", \"info\" or \"debug\" expected, got "
      .. (type(name) == "string" and ("\"" .. name .. "\"") or type(name)))
  end
  return LEVELS[name]
end

--- A logger from the `log` option: nil (DYNAMO_LOG, else off), a level
--- name, or { level =, sink = function(level, message, fields) }.
function M.new(opt, getenv)
  if opt == nil then opt = (getenv or os.getenv)("DYNAMO_LOG") or "off" end
  local sink, level = stderr_sink, opt
  if type(opt) == "table" then
    level = opt.level or "info"
    if opt.sink ~= nil and type(opt.sink) ~= "function" then bad("sink: function expected, got " .. type(opt.sink)) end
    sink = opt.sink or stderr_sink
  elseif type(opt) ~= "string" then
    bad("level name or table expected, got " .. type(opt))
  end
  return setmetatable({ rank = level_of(level), level = level, sink = sink }, Logger)
end

function Logger:__tostring()
  return "dynamo.log(" .. tostring(self.level) .. ")"
end

return M
