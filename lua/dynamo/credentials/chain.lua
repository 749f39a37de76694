--- Tries providers in order and keeps the first that answers.
local errors = require "dynamo.errors"

local M = {}

local Chain = {}
Chain.__index = Chain

function Chain:__tostring()
  local names = {}
  for i, p in ipairs(self.providers) do names[i] = tostring(p) end
  return "dynamo.credentials.chain(" .. table.concat(names, ", ") .. ")"
end

function Chain:get()
  if self.found then
    return self.found:get()
  end
  local tried = {}
  for _, p in ipairs(self.providers) do
    local creds, err = p:get()
    if creds then
      self.found = p
      return creds
    end
    tried[#tried + 1] = tostring(p) .. ": " .. (err and err.message or "no credentials")
  end
  return nil, errors.new {
    code = "CredentialsNotFound",
    message = "no credentials found; tried " .. table.concat(tried, "; "),
  }
end

function M.new(providers)
  return setmetatable({ providers = providers }, Chain)
end

return M
