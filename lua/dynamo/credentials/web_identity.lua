--- Credentials for a web identity token (an OIDC token file, as EKS IRSA
--- mounts it) from STS AssumeRoleWithWebIdentity:
--- AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN, optional AWS_ROLE_SESSION_NAME.
--- The token file is read again on every fetch (it rotates).
local errors = require "dynamo.errors"
local args = require "dynamo.credentials.args"
local sts = require "dynamo.credentials.sts"
local refreshing = require "dynamo.credentials.refreshing"

local M = {}

--- Reads the token and calls STS; `who` names the configuration in messages
--- ("web identity", "profile 'x'"). p = { role_arn, token_file, session_name? }.
function M.fetch(ctx, who, p)
  local f, msg = io.open(p.token_file, "rb")
  local token = f and f:read("a")
  if f then f:close() end
  if not token then
    return nil, errors.new {
      code = "CredentialsError",
      message = who .. ": cannot read the web identity token file (" .. (msg or p.token_file) .. ")",
    }
  end
  token = token:gsub("%s+$", "")
  if token == "" then
    return nil, errors.new {
      code = "CredentialsError",
      message = who .. ": the web identity token file " .. p.token_file .. " is empty",
    }
  end
  return sts.assume_role_with_web_identity(ctx, {
    role_arn = p.role_arn, token = token, session_name = p.session_name or sts.session_name(),
  })
end

local OPTIONS = { env = "env", role_arn = "string", token_file = "string", session_name = "string", region = "string" }

--- web_identity{ role_arn=, token_file=, session_name=, region=, env= }:
--- missing options come from AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE,
--- AWS_ROLE_SESSION_NAME (read when credentials are first asked for).
function M.new(opts)
  opts = args.check("dynamo.credentials.web_identity", opts, OPTIONS)
  local getenv = args.reader(opts.env)
  local ctx = sts.context(getenv, sts.region(getenv, opts.region))
  return refreshing.new("dynamo.credentials.web_identity", "web identity", function()
    local token_file = opts.token_file or getenv("AWS_WEB_IDENTITY_TOKEN_FILE")
    local role_arn = opts.role_arn or getenv("AWS_ROLE_ARN")
    if not token_file or not role_arn then
      return nil, errors.new {
        code = "CredentialsNotFound",
        message = "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not both set",
      }
    end
    return M.fetch(ctx, "web identity", {
      role_arn = role_arn, token_file = token_file,
      session_name = opts.session_name or getenv("AWS_ROLE_SESSION_NAME"),
    })
  end)
end

return M
