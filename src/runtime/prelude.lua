-- The runtime's Lua side, built into libdynamo (not a module: runtime.c
-- runs it once per runtime and keeps the table it returns in the
-- registry). The lazy globals `dynamo` and `db`, the client made from the
-- settings, checks of settings, host errors, and the text form of values.
local M = {}

local type, tostring, pcall, rawget, rawset, error = type, tostring, pcall, rawget, rawset, error
local getenv = os.getenv

local json -- a plain-JSON codec, made on first use
local function codec()
  json = json or require("dynamo.core").codec()
  return json
end

local function nonempty(v)
  if v ~= nil and v ~= "" then return v end
end

local LEVELS = { off = true, error = true, warn = true, info = true, debug = true }

local KEYS = { endpoint = true, region = true, profile = true, log_level = true }

--- A setting's problem as a message, or nil when key and value (nil:
--- removing the setting) are fine.
function M.check(key, value)
  if not KEYS[key] then
    return "unknown setting '" .. key .. "' (endpoint, region, profile or log_level)"
  elseif value == nil then
    return nil
  elseif key == "endpoint" then
    local ok, msg = require("dynamo.config").parse_endpoint(value)
    if not ok then return msg end
  elseif key == "log_level" then
    if not LEVELS[value] then
      return "log_level must be \"off\", \"error\", \"warn\", \"info\" or \"debug\", not \"" .. value .. "\""
    end
  end
end

--- The client the settings describe. With a profile: that profile's
--- credentials only, and its region unless a region is set or in the
--- environment (as the AWS CLI's --profile). sink: the host's log sink, or
--- nil for dynamo's default (stderr).
function M.client(config, sink)
  local dynamo = require "dynamo"
  local opts = { endpoint = config.endpoint, region = config.region }
  local profile = config.profile
  if profile then
    opts.credentials = dynamo.credentials.profile { profile = profile }
    opts.region = opts.region or nonempty(getenv("AWS_REGION")) or nonempty(getenv("AWS_DEFAULT_REGION"))
      or require("dynamo.credentials.profile").region(function(name)
        if name == "AWS_PROFILE" then return profile end
        return getenv(name)
      end)
  end
  if sink then
    opts.log = { level = config.log_level or "info", sink = sink }
  else
    opts.log = config.log_level
  end
  return dynamo.new(opts)
end

--- Makes `dynamo` and `db` globals of G that appear on first use. state:
--- { config = host.config, sink = the host's log sink or nil }. Returns
--- reset(): the settings changed, so the next use of `db` makes a new
--- client (one a script keeps in a local goes on working).
function M.install(G, state)
  local made
  setmetatable(G, { __index = function(t, k)
    if k == "dynamo" then
      local d = require "dynamo"
      rawset(t, k, d)
      return d
    elseif k == "db" then
      local ok, c = pcall(M.client, state.config, state.sink)
      if not ok then
        -- Point at the script's line that used `db`.
        error("db: " .. tostring(c):gsub("^[^\n]-:%d+: ", ""), 2)
      end
      made = c
      rawset(t, k, c)
      return c
    end
  end })
  return function()
    if made ~= nil and rawget(G, "db") == made then rawset(G, "db", nil) end
    made = nil
  end
end

--- The text of a value that is not nil, a string, a number or a boolean:
--- tables (and dynamo.null) as JSON when they can be, else tostring.
function M.text(v)
  if type(v) == "table" or v == require("dynamo.core").null then
    local c = codec()
    local ok, s = pcall(c.encode, c, v)
    if ok then return s end
  end
  return tostring(v)
end

--- A JSON text as a Lua value: true, value; or false, message.
function M.decode(s)
  local c = codec()
  local v, msg = c:decode(s)
  if v == nil then return false, msg end
  return true, v
end

--- The error value a failed host function gives its caller.
function M.host_error(name, code, message)
  return require("dynamo.errors").new { code = code, message = message, operation = "host." .. name }
end

--- The code and message of a script's error value. The message handler
--- already turned everything but tables with a string `code` into a
--- message with a traceback.
function M.describe(e)
  if type(e) == "table" and type(rawget(e, "code")) == "string" then
    local mt = getmetatable(e)
    if type(mt) == "table" and mt.__tostring then return e.code, tostring(e) end
    return e.code, type(e.message) == "string" and e.message or e.code
  end
  return "ScriptError", tostring(e)
end

return M
