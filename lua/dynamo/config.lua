--- Resolves a client's settings from its arguments and the standard AWS
--- environment variables, once, when the client is made.
local M = {}

local getenv = os.getenv

local function nonempty(v)
  if v ~= nil and v ~= "" then return v end
end

--- The region: the argument, else AWS_REGION, else AWS_DEFAULT_REGION,
--- else the `region` of the selected profile in the AWS config file.
function M.region(opts)
  return nonempty(opts.region) or nonempty(getenv("AWS_REGION")) or nonempty(getenv("AWS_DEFAULT_REGION"))
    or nonempty(require("dynamo.credentials.profile").region())
end

--- The endpoint URL: the argument, else AWS_ENDPOINT_URL_DYNAMODB, else
--- AWS_ENDPOINT_URL, else the public regional endpoint.
function M.endpoint(opts, region)
  local url = nonempty(opts.endpoint) or nonempty(getenv("AWS_ENDPOINT_URL_DYNAMODB"))
    or nonempty(getenv("AWS_ENDPOINT_URL"))
  if url then return url, true end
  local suffix = region:match("^cn%-") and "amazonaws.com.cn" or "amazonaws.com"
  return "https://dynamodb." .. region .. "." .. suffix, false
end

local default_ports = { http = 80, https = 443 }

--- Splits an endpoint URL into the URL to send to and the Host header value
--- (what the signature covers; the port is left out when it is the default).
--- Returns nil and a message for a URL dynamo cannot use.
function M.parse_endpoint(url)
  local scheme, authority, path = url:match("^(%a[%w+.-]*)://([^/?#]+)(.*)$")
  if not scheme then
    return nil, "endpoint '" .. url .. "' is not a URL (expected e.g. http://127.0.0.1:8000)"
  end
  scheme = scheme:lower()
  if not default_ports[scheme] then
    return nil, "endpoint '" .. url .. "' must use http or https"
  end
  if path ~= "" and path ~= "/" then
    return nil, "endpoint '" .. url .. "' must not have a path"
  end
  local host, port = authority:match("^(.-):(%d+)$")
  host = (host or authority):lower()
  if host:find("@", 1, true) then
    return nil, "endpoint '" .. url .. "' must not contain credentials"
  end
  port = tonumber(port)
  local header = host
  if port and port ~= default_ports[scheme] then header = host .. ":" .. port end
  return { url = scheme .. "://" .. authority .. "/", host = header, scheme = scheme }
end

return M
