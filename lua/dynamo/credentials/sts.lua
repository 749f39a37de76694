--- The two STS calls the credential sources need, over the Query API
--- (form-encoded POST, XML answer): AssumeRoleWithWebIdentity (unsigned)
--- and AssumeRole (SigV4-signed with the source credentials, service "sts").
---
--- Endpoint: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else
--- https://sts.<region>.amazonaws.com (.com.cn in China).
local core = require "dynamo.core"
local errors = require "dynamo.errors"
local config = require "dynamo.config"
local http = require "dynamo.credentials.http"
local timestamp = require "dynamo.credentials.timestamp"
local utf8_char = require("dynamo.compat").utf8_char

local M = {}

local VERSION = "2011-06-15"

--- A context for STS calls: getenv (a reader from args.reader) and region
--- (a string, or a function returning one, asked at call time).
function M.context(getenv, region)
  return {
    getenv = getenv,
    region = region,
    http = http.new(function()
      return { connect_timeout = 2, timeout = 5, cafile = getenv("AWS_CA_BUNDLE") }
    end),
  }
end

local function endpoint(ctx, region)
  local getenv = ctx.getenv
  local url = getenv("AWS_ENDPOINT_URL_STS") or getenv("AWS_ENDPOINT_URL")
  if not url then
    url = "https://sts." .. region .. (region:match("^cn%-") and ".amazonaws.com.cn" or ".amazonaws.com")
  end
  local ep, msg = config.parse_endpoint(url)
  if not ep then
    return nil, errors.new { code = "CredentialsError", message = "STS " .. msg }
  end
  return ep
end

local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(ch) return string.format("%%%02X", ch:byte()) end))
end

local function form(params)
  local out = {}
  for i, kv in ipairs(params) do out[i] = kv[1] .. "=" .. encode(kv[2]) end
  return table.concat(out, "&")
end

local entities = { lt = "<", gt = ">", amp = "&", quot = '"', apos = "'" }

local function unescape(s)
  return (s:gsub("&(#?x?)(%w+);", function(kind, v)
    if kind == "" then return entities[v] end
    local n = tonumber(v, kind == "#x" and 16 or 10)
    return n and n < 0x110000 and utf8_char(n) or nil
  end))
end

-- The text of the first <name> element in xml (namespaces prefixes aside).
local function element(xml, name)
  local v = xml:match("<" .. name .. "%f[%s>][^>]*>(.-)</" .. name .. ">")
  return v and unescape(v)
end

local function parse_error(action, status, headers, body)
  local code = element(body, "Code")
  local message = element(body, "Message")
  return errors.new {
    code = code or "CredentialsError",
    message = message or ("STS " .. action .. " answered HTTP " .. status),
    status = status,
    request_id = element(body, "RequestId") or headers["x-amzn-requestid"],
    operation = action,
    retryable = status >= 500 or code == "IDPCommunicationError" or code == "Throttling",
  }
end

local function parse_credentials(action, status, headers, body)
  local creds = element(body, "Credentials")
  local c = creds and {
    access_key_id = element(creds, "AccessKeyId"),
    secret_access_key = element(creds, "SecretAccessKey"),
    session_token = element(creds, "SessionToken"),
    expiration = timestamp.parse(element(creds, "Expiration")),
  }
  if not (c and c.access_key_id and c.secret_access_key and c.session_token and c.expiration) then
    return nil, errors.new {
      code = "CredentialsError",
      message = "STS " .. action .. " answered without complete credentials",
      status = status,
      request_id = headers["x-amzn-requestid"],
      operation = action,
    }
  end
  return c
end

-- Sends one Query API call; `creds` (or nil) signs it.
local function call(ctx, action, params, creds)
  local region = ctx.region
  if type(region) == "function" then region = region() end
  region = region or "us-east-1"
  local ep, err = endpoint(ctx, region)
  if not ep then return nil, err end
  table.insert(params, 1, { "Action", action })
  table.insert(params, 2, { "Version", VERSION })
  local body = form(params)
  local ctype = "application/x-www-form-urlencoded; charset=utf-8"
  local headers = { "Host: " .. ep.host, "Content-Type: " .. ctype }
  if creds then
    ctx.signer = ctx.signer or core.signer()
    local signed = ctx.signer:sign {
      method = "POST", path = "/", headers = { { "Host", ep.host }, { "Content-Type", ctype } },
      body = body, access_key = creds.access_key_id, secret_key = creds.secret_access_key,
      session_token = creds.session_token, region = region, service = "sts",
      time = os.time(),
    }
    for _, h in ipairs(signed.headers) do headers[#headers + 1] = h[1] .. ": " .. h[2] end
    headers[#headers + 1] = "Authorization: " .. signed.authorization
  end
  local status, rheaders, rbody = ctx.http:request("POST", ep.url, headers, body)
  if not status then
    local e = errors.transport(action, rheaders, rbody)
    e.message = "cannot reach STS at " .. ep.url .. ": " .. e.message
    return nil, e
  end
  if status ~= 200 then return nil, parse_error(action, status, rheaders, rbody) end
  return parse_credentials(action, status, rheaders, rbody)
end

--- AssumeRoleWithWebIdentity: p = { role_arn, session_name, token }.
function M.assume_role_with_web_identity(ctx, p)
  return call(ctx, "AssumeRoleWithWebIdentity", {
    { "RoleArn", p.role_arn }, { "RoleSessionName", p.session_name }, { "WebIdentityToken", p.token },
  })
end

--- AssumeRole with `creds`: p = { role_arn, session_name, external_id?, duration? }.
function M.assume_role(ctx, creds, p)
  local params = { { "RoleArn", p.role_arn }, { "RoleSessionName", p.session_name } }
  if p.external_id then params[#params + 1] = { "ExternalId", p.external_id } end
  if p.duration then params[#params + 1] = { "DurationSeconds", tostring(p.duration) } end
  return call(ctx, "AssumeRole", params, creds)
end

--- The region to call STS in, as a function asked at call time: `region`,
--- else AWS_REGION, else AWS_DEFAULT_REGION, else the profile's (config
--- file), else nil (us-east-1).
function M.region(getenv, region)
  return function()
    return region or getenv("AWS_REGION") or getenv("AWS_DEFAULT_REGION")
      or require("dynamo.credentials.profile").region(getenv)
  end
end

--- The default RoleSessionName.
function M.session_name()
  return "dynamo-session-" .. os.time()
end

return M
