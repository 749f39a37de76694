--- Validation of a model's values: every failing field found in one pass,
--- each with its path ("email", "address.city", "tags[2]"), returned as
--- one ValidationError. Values are checked as the Lua side holds them,
--- before any `set` transform.
local core = require "dynamo.core"
local errors = require "dynamo.errors"
local fields = require "dynamo.model.fields"

local type, pairs, ipairs, tostring, getmetatable = type, pairs, ipairs, tostring, getmetatable
local format, concat, sort = string.format, table.concat, table.sort
local null, decimal_mt = core.null, core.decimal_mt
local types = fields.types

local M = {}

local function add(problems, path, message)
  problems[#problems + 1] = { path = path, message = message }
end

--- The one error value for a list of problems:
---   "User: 2 invalid fields: email: does not match the pattern; address.city: required"
--- how (optional): code (default "ValidationError"), what (default
--- "invalid"), message (replaces the generated one).
function M.error(model, problems, how)
  how = how or {}
  local parts = {}
  for i, p in ipairs(problems) do parts[i] = p.path .. ": " .. p.message end
  return errors.new {
    code = how.code or "ValidationError",
    message = how.message or format("%s: %d %s field%s: %s", model, #problems, how.what or "invalid",
      #problems == 1 and "" or "s", concat(parts, "; ")),
    problems = problems,
    retryable = false,
  }
end

local function number_text(v)
  if type(v) == "number" and fields.is_integer(v) then return format("%d", v) end
  return tostring(v)
end

-- A number to compare with min and max (decimals compare as floats here:
-- bounds are Lua numbers).
local function comparable(v)
  if getmetatable(v) == decimal_mt then return v:tonumber() end
  return v
end

local function check_length(spec, v, path, problems)
  local n, len = types[spec.type].size(v), spec.length
  local unit = spec.type == "string" and " characters" or spec.type == "binary" and " bytes" or ""
  if type(len) == "number" then
    if n ~= len then add(problems, path, format("length must be %d%s", len, unit)) end
  elseif len[1] and n < len[1] then
    add(problems, path, format("length must be at least %d%s", len[1], unit))
  elseif len[2] and n > len[2] then
    add(problems, path, format("length must be at most %d%s", len[2], unit))
  end
end

local check_fields

-- One present value (not nil, not null) against its spec.
local function check_value(spec, v, path, problems, top)
  local msg, i = types[spec.type].check(v, spec)
  if msg then
    add(problems, i and path .. "[" .. i .. "]" or path, msg)
    return
  end
  local before = #problems
  if spec.min and comparable(v) < spec.min then add(problems, path, "must be at least " .. number_text(spec.min)) end
  if spec.max and comparable(v) > spec.max then add(problems, path, "must be at most " .. number_text(spec.max)) end
  if spec.length then check_length(spec, v, path, problems) end
  if spec.pattern and not v:find(spec.pattern) then add(problems, path, "does not match the pattern") end
  local pad = fields.pad_problem(spec, v)
  if pad then add(problems, path, pad) end
  if spec.of then
    for k = 1, #v do check_value(spec.of, v[k], path .. "[" .. k .. "]", problems, top) end
  end
  if spec.fields then check_fields(spec.fields, v, path .. ".", problems, "create", top) end
  -- Custom checks only see values of the right shape.
  if spec.validate and #problems == before then
    local ok, why = spec.validate(v, top)
    if not ok then add(problems, path, why ~= nil and tostring(why) or "is invalid") end
  end
end

-- The fields of a record (the model's, or a map's nested ones), by name.
function check_fields(specs, values, prefix, problems, mode, top)
  local names, seen = {}, {}
  for name in pairs(specs) do names[#names + 1], seen[name] = name, true end
  for name in pairs(values) do
    if not seen[name] then names[#names + 1] = name end
  end
  sort(names, function(a, b) return tostring(a) < tostring(b) end)
  for _, name in ipairs(names) do
    local spec, v, path = specs[name], values[name], prefix .. tostring(name)
    if not spec then
      add(problems, path, "unknown field")
    elseif v == nil or v == null then
      -- A partial change may leave a field out, not remove a required one.
      if spec.required and (mode == "create" or v == null) then add(problems, path, "required") end
    else
      check_value(spec, v, path, problems, top)
    end
  end
end

--- true, or nil and a ValidationError listing every problem. mode "create"
--- checks a whole record (required fields too); "update" a partial change
--- set (only the fields in it; dynamo.null there removes a field).
function M.check(s, values, mode)
  local problems = {}
  check_fields(s.fields, values, "", problems, mode, values)
  if #problems == 0 then return true end
  return nil, M.error(s.name, problems)
end

return M
