--- Credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
--- AWS_SESSION_TOKEN, read when asked (so a changed environment is seen).
local errors = require "dynamo.errors"
local args = require "dynamo.credentials.args"

local M = {}

local Env = {}
Env.__index = Env

function Env:__tostring()
  return "dynamo.credentials.env"
end

function Env:get()
  local getenv = self.getenv
  local id, secret = getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
  if not id or not secret then
    return nil, errors.new {
      code = "CredentialsNotFound",
      message = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set",
    }
  end
  return { access_key_id = id, secret_access_key = secret, session_token = getenv("AWS_SESSION_TOKEN") }
end

--- Nothing is cached: the next get() reads the environment anyway.
function Env:invalidate() end

--- env{ env= }
function M.new(opts)
  opts = args.check("dynamo.credentials.env", opts, { env = "env" })
  return setmetatable({ getenv = args.reader(opts.env), source = "environment" }, Env)
end

return M
