--- Fixed credentials given as arguments.
local M = {}

local Static = {}
Static.__index = Static

-- Never show the secret: this is what tostring(provider) prints.
function Static:__tostring()
  return "dynamo.credentials.static(" .. self.creds.access_key_id .. ")"
end

function Static:get()
  return self.creds
end

--- Fixed credentials cannot be refreshed.
function Static:invalidate() end

local function check_string(t, field)
  local v = t[field]
  if type(v) ~= "string" or v == "" then
    error("bad argument 'credentials." .. field .. "' (non-empty string expected, got "
      .. (v == "" and "empty string" or type(v)) .. ")", 3)
  end
end

--- new{ access_key_id = ..., secret_access_key = ..., session_token = ... }
function M.new(t)
  check_string(t, "access_key_id")
  check_string(t, "secret_access_key")
  if t.session_token ~= nil then check_string(t, "session_token") end
  return setmetatable({
    creds = {
      access_key_id = t.access_key_id,
      secret_access_key = t.secret_access_key,
      session_token = t.session_token,
    },
  }, Static)
end

return M
