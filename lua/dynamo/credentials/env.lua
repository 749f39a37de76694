--- Credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
--- AWS_SESSION_TOKEN, read when asked (so a changed environment is seen).
local errors = require "dynamo.errors"

local M = {}

local Env = {}
Env.__index = Env

function Env:__tostring()
  return "dynamo.credentials.env"
end

local function var(name)
  local v = os.getenv(name)
  if v ~= nil and v ~= "" then return v end
end

function Env:get()
  local id, secret = var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")
  if not id or not secret then
    return nil, errors.new {
      code = "CredentialsNotFound",
      message = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set",
    }
  end
  return { access_key_id = id, secret_access_key = secret, session_token = var("AWS_SESSION_TOKEN") }
end

function M.new()
  return setmetatable({}, Env)
end

return M
