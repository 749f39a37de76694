--- Argument checks shared by the batch methods. They raise (a wrong
--- argument is the caller's mistake) with the argument named. `level` is
--- what the function calling a check would pass to error() itself to point
--- at the right line; each function that passes it on adds one.
local type, error, pairs, tostring = type, error, pairs, tostring

local M = {}

local function bad(fn, name, msg, level)
  error("bad argument '" .. name .. "' to '" .. fn .. "' (" .. msg .. ")", level + 1)
end
M.bad = bad

function M.want(fn, name, value, want, level)
  if type(value) ~= want then
    bad(fn, name, want .. " expected, got " .. type(value), level + 1)
  end
  return value
end

--- Checks the options table `opts` (argument number `argn`) against `spec`
--- (name -> "boolean", "function" or "seconds") and returns it ({} for
--- nil). Unknown names raise, so a misspelt option is not silently ignored.
function M.options(fn, opts, argn, spec, level)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error("bad argument #" .. argn .. " to '" .. fn .. "' (table expected, got " .. type(opts) .. ")", level + 1)
  end
  for name, v in pairs(opts) do
    local want = type(name) == "string" and spec[name]
    if not want then
      bad(fn, tostring(name), "no such option", level + 1)
    elseif want == "seconds" then
      if type(v) ~= "number" or not (v >= 0) then
        bad(fn, name, "non-negative number expected, got " .. (type(v) == "number" and tostring(v) or type(v)), level + 1)
      end
    elseif type(v) ~= want then
      bad(fn, name, want .. " expected, got " .. type(v), level + 1)
    end
  end
  return opts
end

--- Raises unless `db` is a client (a call with a dot passes the argument
--- as self).
function M.client(fn, db, example, level)
  if type(db) ~= "table" or type(db.batch_write_item) ~= "function" then
    error("bad self to '" .. fn .. "' (call it as db:" .. fn .. example .. ", with a colon)", level + 1)
  end
end

return M
