--- The failed-items file: one JSON object per line for each item a
--- migration could not change,
---   {"segment": 3, "page": 12, "key": {"pk": "k00017"},
---    "error": {"code": "MigrateError", "message": "fix.lua:7: bad email"}}
--- The key is plain JSON (exact; see dynamo.cli.json). Codes: MigrateError
--- (the function raised), BadChange (its answer cannot be applied), or the
--- DynamoDB error of the write (ValidationException, ...). A page that
--- was interrupted by a kill can list its failures twice.
local json = require "dynamo.cli.json"
local fail = require "dynamo.cli.fail"

local M = {}

-- A JSON string for text that may not be valid UTF-8.
local function quote(s)
  local ok, q = pcall(json.quote, s)
  return ok and q or json.quote((s:gsub("[\128-\255]", "?")))
end

local File = {}
File.__index = File

--- The file at path; fresh = true empties it (a run from the start),
--- else lines are added to what is there. Opened on the first failure.
function M.new(path, fresh)
  return setmetatable({ path = path, fresh = fresh, count = 0 }, File)
end

--- Adds failures: a list of { key =, code =, message = } for segment/page.
function File:add(segment, page, list)
  if #list == 0 then return end
  if not self.f then
    local f, err = io.open(self.path, self.fresh and "w" or "a")
    if not f then fail.run("cannot write the failed-items file: " .. err) end
    self.f = f
  end
  for _, e in ipairs(list) do
    local ok, key = pcall(json.encode, e.key)
    if not ok then key = quote(tostring(e.key)) end
    self.f:write('{"segment":', segment, ',"page":', page, ',"key":', key,
      ',"error":{"code":', quote(e.code or "Error"), ',"message":', quote(e.message or ""), "}}\n")
    self.count = self.count + 1
  end
  self.f:flush()
end

--- Empties the file now (a run from the start that has no failures
--- must not leave an earlier run's behind).
function File:reset()
  if self.fresh then
    local f = io.open(self.path, "r")
    if f then
      f:close()
      local w = io.open(self.path, "w")
      if w then w:close() end
    end
  end
end

function File:close()
  if self.f then self.f:close() self.f = nil end
end

return M
