--- Loading a migration script. The script returns a table
---   { table = "users",             -- the table to migrate (or --table)
---     index = "by_email",          -- optional: scan this index instead
---     filter = dynamo.attr("email"):exists(),  -- optional: a builder or an expression string
---     names = {...}, values = {...},           -- optional: for a string filter
---     consistent = true,           -- optional: strongly consistent scans
---     migrate = function(item) return change end }
--- or just the function, or defines a global function `migrate`. It runs
--- with the globals of `dynamo run` (dynamo, db, arg).
local fail = require "dynamo.cli.fail"
local script_env = require "dynamo.cli.script_env"

local M = {}

local FIELDS = {
  table = "string", index = "string", filter = "filter", names = "table", values = "table",
  consistent = "boolean", migrate = "function",
}
local FIELD_LIST = "table, index, filter, names, values, consistent, migrate"

local FORM = "return { table = \"...\", migrate = function(item) ... end }, or define a global function migrate"

--- Loads the script at path. Returns the migration: { table, index,
--- filter, names, values, consistent, migrate, name }. Raises a data
--- failure naming the script and the problem.
function M.load(path, ctx, args)
  local env = script_env.new(ctx, path, args)
  local chunk, err = loadfile(path, "t", env)
  if not chunk then fail.data(err) end
  local ok, ret = pcall(chunk, table.unpack(args or {}))
  if not ok then
    if fail.is_failure(ret) then error(ret, 0) end
    fail.data(path .. ": the script failed while loading: " .. script_env.message(ret))
  end
  local spec
  if type(ret) == "table" and getmetatable(ret) == nil then
    spec = ret
  elseif type(ret) == "function" then
    spec = { migrate = ret }
  elseif ret == nil and type(rawget(env, "migrate")) == "function" then
    spec = { migrate = rawget(env, "migrate") }
  elseif ret == nil then
    fail.data(path .. " returns nothing and defines no function migrate (" .. FORM .. ")")
  else
    fail.data(path .. " returns a " .. type(ret) .. ", not a migration (" .. FORM .. ")")
  end
  local out = {}
  for k, v in pairs(spec) do
    local want = FIELDS[k]
    if not want then
      fail.data(path .. ": unknown field '" .. tostring(k) .. "' in the migration (it has " .. FIELD_LIST .. ")")
    end
    if want == "filter" then
      if type(v) ~= "string" and type(v) ~= "table" then
        fail.data(path .. ": filter is a " .. type(v) .. " (a condition builder, e.g. dynamo.attr(\"x\"):exists(), or an expression string expected)")
      end
    elseif type(v) ~= want then
      fail.data(path .. ": " .. k .. " is a " .. type(v) .. " (" .. want .. " expected)")
    end
    out[k] = v
  end
  if not out.migrate then
    if type(rawget(env, "migrate")) == "function" then
      out.migrate = rawget(env, "migrate")
    else
      fail.data(path .. " gives no migrate function (" .. FORM .. ")")
    end
  end
  if (out.names or out.values) and type(out.filter) ~= "string" then
    fail.data(path .. ": names and values go with a filter expression string")
  end
  out.name = require("dynamo.cli.files").basename(path, ".lua")
  return out
end

return M
