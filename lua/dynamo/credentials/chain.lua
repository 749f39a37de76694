--- Tries providers in order, on the first get(), and keeps the first that
--- answers. A provider that answers CredentialsNotFound is skipped; any
--- other error (a source that is configured but fails) stops the search
--- and is returned, so a broken source never falls through to another
--- identity. When every provider is skipped, the error lists each one and
--- why.
local errors = require "dynamo.errors"

local M = {}

local Chain = {}
Chain.__index = Chain

function Chain:__tostring()
  local names = {}
  for i, p in ipairs(self.providers) do names[i] = tostring(p) end
  return "dynamo.credentials.chain(" .. table.concat(names, ", ") .. ")"
end

-- The label of a provider in the "tried" list.
local function label(p)
  return type(p) == "table" and type(p.source) == "string" and p.source or tostring(p)
end

function Chain:get()
  local found = self.found
  if found then
    return found:get()
  end
  local tried = {}
  for _, p in ipairs(self.providers) do
    local creds, err = p:get()
    if creds then
      self.found = p
      return creds
    end
    if errors.is_error(err) and err.code ~= "CredentialsNotFound" then
      return nil, err
    end
    local why = errors.is_error(err) and err.message or (err ~= nil and tostring(err)) or "no credentials"
    tried[#tried + 1] = label(p) .. " (" .. why .. ")"
  end
  return nil, errors.new {
    code = "CredentialsNotFound",
    message = "no credentials found; tried " .. table.concat(tried, "; "),
  }
end

--- Forwards to the provider that answered (see refreshing.lua).
function Chain:invalidate(creds)
  local found = self.found
  if found and found.invalidate then found:invalidate(creds) end
end

function M.new(providers)
  if type(providers) ~= "table" then
    error("bad argument #1 to 'dynamo.credentials.chain' (table expected, got " .. type(providers) .. ")", 2)
  end
  for i, p in ipairs(providers) do
    if (type(p) ~= "table" and type(p) ~= "userdata") or type(p.get) ~= "function" then
      error("bad argument #1 to 'dynamo.credentials.chain' (element " .. i
        .. " is not a provider with a get method)", 2)
    end
  end
  return setmetatable({ providers = providers }, Chain)
end

return M
