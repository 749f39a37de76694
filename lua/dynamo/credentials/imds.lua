--- Credentials of the EC2 instance's role from the instance metadata
--- service, IMDSv2 only:
---   PUT /latest/api/token  (X-aws-ec2-metadata-token-ttl-seconds: 21600)
---   GET /latest/meta-data/iam/security-credentials/        -> the role name
---   GET /latest/meta-data/iam/security-credentials/<role>  -> JSON credentials
--- the GETs with X-aws-ec2-metadata-token. A token request that fails in any
--- way means "no instance metadata here" (CredentialsNotFound), so off EC2
--- this costs one connection attempt: 1 s to connect, 1 s per request, no
--- retries, never through a proxy.
--- AWS_EC2_METADATA_DISABLED=true turns it off; AWS_EC2_METADATA_SERVICE_ENDPOINT
--- replaces http://169.254.169.254.
local core = require "dynamo.core"
local errors = require "dynamo.errors"
local args = require "dynamo.credentials.args"
local http = require "dynamo.credentials.http"
local refreshing = require "dynamo.credentials.refreshing"
local document = require "dynamo.credentials.document"

local M = {}

local DEFAULT_ENDPOINT = "http://169.254.169.254"
local CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/"

local function not_found(message)
  return nil, errors.new { code = "CredentialsNotFound", message = message }
end

local function failure(message, status)
  return nil, errors.new { code = "CredentialsError", message = message, status = status }
end

local function fetch(getenv, client)
  local disabled = getenv("AWS_EC2_METADATA_DISABLED")
  if disabled and disabled:lower() == "true" then
    return not_found("disabled by AWS_EC2_METADATA_DISABLED")
  end
  local base = (getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT") or DEFAULT_ENDPOINT):gsub("/+$", "")

  local status, headers, body = client:request("PUT", base .. "/latest/api/token",
    { "X-aws-ec2-metadata-token-ttl-seconds: 21600" }, "")
  if status ~= 200 then
    local why = status and ("the token request answered HTTP " .. status) or body
    return not_found("no instance metadata service at " .. base .. " (" .. tostring(why) .. ")")
  end
  if body == "" or body:find("[\r\n%z]") then
    return not_found("no instance metadata service at " .. base .. " (the token request answered no usable token)")
  end
  local auth = { "X-aws-ec2-metadata-token: " .. body }

  status, headers, body = client:request("GET", base .. CREDENTIALS_PATH, auth)
  if not status then
    local e = errors.transport(nil, headers, body)
    e.message = "instance metadata: " .. e.message
    return nil, e
  end
  if status == 404 then return not_found("no IAM role is attached to this instance") end
  if status ~= 200 then
    return failure("instance metadata: the role name request answered HTTP " .. status, status)
  end
  local role = body:match("^%s*([^\r\n]-)%s*$") or body:match("^%s*([^\r\n]-)%s*[\r\n]")
  if not role or role == "" then return not_found("no IAM role is attached to this instance") end
  if not role:match("^[%w+=,.@_-]+$") then
    return failure("instance metadata: the role name request answered a name that is not a role name", status)
  end

  status, headers, body = client:request("GET", base .. CREDENTIALS_PATH .. role, auth)
  if not status then
    local e = errors.transport(nil, headers, body)
    e.message = "instance metadata: " .. e.message
    return nil, e
  end
  if status ~= 200 then
    return failure("instance metadata: the credentials of role '" .. role .. "' answered HTTP " .. status, status)
  end
  local t = core.codec {}:decode(body)
  local creds, bad = document.parse(t)
  if bad == "keys" or (type(t) == "table" and t.Code ~= nil and t.Code ~= "Success") then
    return failure("instance metadata: no usable credentials for role '" .. role .. "'"
      .. (type(t) == "table" and type(t.Code) == "string" and (" (Code " .. t.Code:sub(1, 64) .. ")") or ""), status)
  elseif bad then
    return failure("instance metadata: a bad Expiration for role '" .. role .. "'", status)
  end
  return creds
end

--- imds{ env= }
function M.new(opts)
  opts = args.check("dynamo.credentials.imds", opts, { env = "env" })
  local getenv = args.reader(opts.env)
  local client = http.new { connect_timeout = 1, timeout = 1, proxy = "" }
  return refreshing.new("dynamo.credentials.imds", "instance metadata", function()
    return fetch(getenv, client)
  end)
end

return M
