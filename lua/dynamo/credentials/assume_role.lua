--- Credentials of an IAM role from STS AssumeRole, signed with the
--- credentials of another provider (the source).
local args = require "dynamo.credentials.args"
local sts = require "dynamo.credentials.sts"
local refreshing = require "dynamo.credentials.refreshing"

local M = {}

local OPTIONS = {
  role_arn = "string", source = "provider", session_name = "string", external_id = "string",
  duration = "number", region = "string", env = "env",
}

--- assume_role{ role_arn=, source=, session_name=, external_id=, duration=,
--- region=, env= }: source defaults to the default chain.
function M.new(opts)
  opts = args.check("dynamo.credentials.assume_role", opts, OPTIONS, { "role_arn" })
  local getenv = args.reader(opts.env)
  local source = opts.source
  local ctx = sts.context(getenv, sts.region(getenv, opts.region))
  return refreshing.new("dynamo.credentials.assume_role", "assume role", function()
    source = source or require("dynamo.credentials").default { env = opts.env }
    local creds, err = source:get()
    if not creds then return nil, err end
    return sts.assume_role(ctx, creds, {
      role_arn = opts.role_arn,
      session_name = opts.session_name or sts.session_name(),
      external_id = opts.external_id,
      duration = opts.duration,
    })
  end)
end

return M
