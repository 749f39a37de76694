--- The credentials in a JSON credentials document, the shape the container
--- endpoint and instance metadata answer: AccessKeyId, SecretAccessKey,
--- Token, Expiration (ISO 8601).
local timestamp = require "dynamo.credentials.timestamp"

local type = type

local M = {}

--- Returns the credentials, or nil and what is wrong: "keys" (no key pair)
--- or "expiration" (an Expiration that is not a time).
function M.parse(t)
  if type(t) ~= "table" or type(t.AccessKeyId) ~= "string" or type(t.SecretAccessKey) ~= "string" then
    return nil, "keys"
  end
  local expiration
  if t.Expiration ~= nil then
    expiration = timestamp.parse(t.Expiration)
    if not expiration then return nil, "expiration" end
  end
  return {
    access_key_id = t.AccessKeyId,
    secret_access_key = t.SecretAccessKey,
    session_token = type(t.Token) == "string" and t.Token ~= "" and t.Token or nil,
    expiration = expiration,
  }
end

return M
