--- Credentials from the container credentials endpoint (ECS task roles,
--- EKS Pod Identity):
---   AWS_CONTAINER_CREDENTIALS_RELATIVE_URI  a path on http://169.254.170.2
---   AWS_CONTAINER_CREDENTIALS_FULL_URI      a whole URL: https to any host,
---       http only to a loopback address or to 169.254.170.2, 169.254.170.23
---       or [fd00:ec2::23]
---   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE  sent as the Authorization header,
---       read again on every fetch; wins over
---   AWS_CONTAINER_AUTHORIZATION_TOKEN
--- The endpoint answers JSON { AccessKeyId, SecretAccessKey, Token, Expiration }.
--- One attempt, 1 s to connect, 2 s in all; never through a proxy.
local core = require "dynamo.core"
local errors = require "dynamo.errors"
local args = require "dynamo.credentials.args"
local http = require "dynamo.credentials.http"
local refreshing = require "dynamo.credentials.refreshing"
local document = require "dynamo.credentials.document"

local M = {}

local ECS_HOST = "http://169.254.170.2"

local allowed_http_hosts = {
  ["localhost"] = true, ["[::1]"] = true,
  ["169.254.170.2"] = true, ["169.254.170.23"] = true, ["[fd00:ec2::23]"] = true,
}

local function failure(message, status)
  return nil, errors.new { code = "CredentialsError", message = message, status = status }
end

-- The URL to ask, or nil, err.
local function endpoint(getenv)
  local relative = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
  if relative then
    if relative:sub(1, 1) ~= "/" then relative = "/" .. relative end
    return ECS_HOST .. relative
  end
  local full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
  if not full then
    return nil, errors.new {
      code = "CredentialsNotFound",
      message = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set",
    }
  end
  local scheme, authority = full:match("^(%a[%w+.-]*)://([^/?#]*)")
  scheme = scheme and scheme:lower()
  if scheme == "https" then return full end
  if scheme ~= "http" then
    return failure("container: AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http or https URL")
  end
  local host = authority:gsub("^.*@", ""):gsub(":%d*$", ""):lower()
  if allowed_http_hosts[host] or host:match("^127%.%d+%.%d+%.%d+$") then return full end
  return failure("container: AWS_CONTAINER_CREDENTIALS_FULL_URI may use http only to a loopback address, "
    .. "169.254.170.2, 169.254.170.23 or fd00:ec2::23 (got host '" .. host .. "'); use https")
end

-- The Authorization header value (nil for none), or nil, err.
local function token(getenv)
  local path = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
  local value
  if path then
    local f, msg = io.open(path, "rb")
    value = f and f:read("a")
    if f then f:close() end
    if not value then
      return failure("container: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (" .. tostring(msg) .. ")")
    end
    value = value:gsub("%s+$", "")
  else
    value = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
  end
  if value and value:find("[\r\n%z]") then
    return failure("container: the authorization token contains a line break or a zero byte")
  end
  return value ~= "" and value or nil
end

local function fetch(getenv, client)
  local url, err = endpoint(getenv)
  if not url then return nil, err end
  local auth, terr = token(getenv)
  if terr then return nil, terr end
  local headers = { "Accept: application/json" }
  if auth then headers[2] = "Authorization: " .. auth end
  local status, rheaders, body = client:request("GET", url, headers)
  if not status then
    local e = errors.transport(nil, rheaders, body)
    e.message = "container: cannot reach " .. url .. ": " .. e.message
    return nil, e
  end
  if status ~= 200 then
    return failure("container: " .. url .. " answered HTTP " .. status, status)
  end
  local creds, bad = document.parse(core.codec {}:decode(body))
  if bad == "keys" then
    return failure("container: " .. url .. " answered without AccessKeyId and SecretAccessKey", status)
  elseif bad then
    return failure("container: " .. url .. " answered a bad Expiration", status)
  end
  return creds
end

--- container{ env= }
function M.new(opts)
  opts = args.check("dynamo.credentials.container", opts, { env = "env" })
  local getenv = args.reader(opts.env)
  local client = http.new(function()
    return { connect_timeout = 1, timeout = 2, proxy = "", cafile = getenv("AWS_CA_BUNDLE") }
  end)
  return refreshing.new("dynamo.credentials.container", "container", function()
    return fetch(getenv, client)
  end)
end

return M
