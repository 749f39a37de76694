--- The one error shape. Every I/O failure in dynamo is a value built here:
--   err.code        e.g. "ConditionalCheckFailedException", "ConnectionError"
--   err.message     human-readable text
--   err.status      HTTP status (nil when no response arrived)
--   err.request_id  the server's request id (nil when no response arrived)
--   err.retryable   true when sending the same request again may succeed
--   err.throttle    true for throttling errors
--   err.operation   the DynamoDB operation, e.g. "PutItem"
--   err.attempts    how many times the request was sent (set by the client)
--   err.retry_delay seconds spent waiting between those attempts
-- Service errors keep any extra fields of the error body (for example
-- err.CancellationReasons of TransactionCanceledException, also given as
-- err.reasons = { { code =, message =, item = }, ... }, one per action).
local M = {}

local Error = {}
Error.__index = Error
Error.__name = "dynamo.error"

function Error:__tostring()
  local where = {}
  if self.operation then where[#where + 1] = self.operation end
  if self.status then where[#where + 1] = "HTTP " .. self.status end
  if self.request_id then where[#where + 1] = "request id " .. self.request_id end
  local s = self.code .. ": " .. (self.message or "")
  if #where > 0 then s = s .. " (" .. table.concat(where, ", ") .. ")" end
  return s
end

M.Error = Error

-- Codes DynamoDB documents as throttling.
local throttles = {
  ProvisionedThroughputExceededException = true,
  ThrottlingException = true,
  RequestLimitExceeded = true,
}

-- Other service codes for which a retry may succeed.
local transient = {
  InternalServerError = true,
  InternalFailure = true,
  ServiceUnavailable = true,
  TransactionInProgressException = true,
  TransactionConflictException = true,
  -- Temporary credentials just expired: a refresh and retry can succeed.
  ExpiredTokenException = true,
}

--- Is `e` an error value made here?
function M.is_error(e)
  return getmetatable(e) == Error
end

--- Makes an error value from its fields (code and message required).
function M.new(fields)
  fields.throttle = fields.throttle or throttles[fields.code] or false
  if fields.retryable == nil then
    fields.retryable = fields.throttle or transient[fields.code] or false
  end
  return setmetatable(fields, Error)
end

-- Transport failure kinds (from the transports) to codes.
local transport_codes = {
  connect = { "ConnectionError", true },
  timeout = { "TimeoutError", true },
  io = { "ConnectionError", true },
  tls = { "TLSError", false },
  crc32 = { "CRC32Mismatch", true },
  url = { "InvalidEndpoint", false },
  closed = { "ClientClosed", false },
}

--- A failure to exchange bytes with the server.
function M.transport(operation, kind, message)
  local t = transport_codes[kind] or { "TransportError", true }
  return M.new { code = t[1], message = message, retryable = t[2], operation = operation }
end

-- "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException" -> the part after '#'.
local function short_code(type_name)
  return type_name and (type_name:match("#([^#:]+)") or type_name:match("^([^:]+)")) or nil
end

-- A transport gives the response headers as a table of lower-case names,
-- or as the raw header block (the libcurl one: a success never reads them).
-- dynamo.core is required here, when needed: this module is a leaf.
local function header_table(headers)
  if type(headers) == "string" then return require("dynamo.core").http_headers(headers) end
  return headers or {}
end

--- A service error from an HTTP status, response headers (see
--- header_table) and the decoded body (a table, or nil when the body was
--- not JSON).
function M.service(operation, status, headers, body)
  headers = header_table(headers)
  local fields = {}
  if type(body) == "table" then
    for k, v in pairs(body) do fields[k] = v end
  end
  fields.code = short_code(fields.__type) or short_code(headers["x-amzn-errortype"])
    or (status >= 500 and "InternalServerError" or "HttpError")
  fields.message = fields.message or fields.Message or ("HTTP status " .. status)
  fields.__type, fields.Message = nil, nil
  fields.status = status
  fields.request_id = headers["x-amzn-requestid"]
  -- How long the server asks us to wait, in ms on the wire; seconds here.
  local after = tonumber(headers["x-amz-retry-after"])
  if after and after >= 0 then fields.retry_after = after / 1000 end
  fields.operation = operation
  -- TransactionCanceledException: one reason per action, in order.
  if type(fields.CancellationReasons) == "table" then
    local reasons = {}
    for i, r in ipairs(fields.CancellationReasons) do
      reasons[i] = { code = r.Code, message = r.Message, item = r.Item }
    end
    fields.reasons = reasons
  end
  if status >= 500 and fields.retryable == nil then
    fields.retryable = true
  end
  return M.new(fields)
end

--- A response that arrived but could not be understood.
function M.bad_response(operation, status, headers, message)
  return M.new {
    code = "InvalidResponse",
    message = message,
    status = status,
    request_id = header_table(headers)["x-amzn-requestid"],
    operation = operation,
    retryable = status ~= nil and status >= 500,
  }
end

return M
