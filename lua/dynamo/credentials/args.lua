--- Argument checks shared by the provider constructors, and the `env`
--- option: where a provider reads its environment variables.
---   env = nil        the process environment (os.getenv)
---   env = { ... }    this table is the whole environment (os.getenv is not asked)
---   env = function   called with a variable's name, returns its value or nil
--- Empty values count as unset, as in the AWS SDKs.
local M = {}

local getenv = os.getenv

local function nonempty(v)
  if type(v) == "string" and v ~= "" then return v end
end

--- A reader name -> value (nil when unset or empty) for an `env` option.
function M.reader(env)
  if env == nil then
    return function(name) return nonempty(getenv(name)) end
  elseif type(env) == "table" then
    return function(name) return nonempty(env[name]) end
  else
    return function(name) return nonempty(env(name)) end
  end
end

-- What each kind of option accepts.
local kinds = {
  string = function(v) return type(v) == "string" and v ~= "", "non-empty string" end,
  number = function(v) return type(v) == "number" and v > 0, "positive number" end,
  env = function(v) return type(v) == "table" or type(v) == "function", "table or function" end,
  provider = function(v)
    return (type(v) == "table" or type(v) == "userdata") and type(v.get) == "function",
      "provider with a get method"
  end,
}

--- Checks the options table of constructor `fn` against `spec`
--- (option name -> kind; `required` lists names that must be present).
--- Raises for a mistake, at the level of the constructor's caller.
--- Returns the options (an empty table for nil).
function M.check(fn, opts, spec, required)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    error("bad argument #1 to '" .. fn .. "' (table expected, got " .. type(opts) .. ")", 3)
  end
  for name, v in pairs(opts) do
    local kind = spec[name]
    if not kind then
      error("bad argument #1 to '" .. fn .. "' (unknown option '" .. tostring(name) .. "')", 3)
    end
    local ok, want = kinds[kind](v)
    if not ok then
      local got = type(v)
      if v == "" then got = "empty string" elseif kind == "number" and type(v) == "number" then got = tostring(v) end
      error("bad argument '" .. name .. "' to '" .. fn .. "' (" .. want .. " expected, got " .. got .. ")", 3)
    end
  end
  for _, name in ipairs(required or {}) do
    if opts[name] == nil then
      error("bad argument '" .. name .. "' to '" .. fn .. "' (required)", 3)
    end
  end
  return opts
end

return M
