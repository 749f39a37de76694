--- When to send a failed request again, and after how long.
---
--- Modes (dynamo.new{ retry = { mode = ... } }):
---   standard  the default: 3 attempts, full-jitter exponential backoff
---             (throttles from 25 ms, other errors from 200 ms, at most
---             20 s a wait), and a retry quota that stops retry storms
---             when the service is down (throttles do not drain it: for
---             DynamoDB they are cheap and capacity refills every ms).
---   legacy    DynamoDB's classic policy: 10 attempts, 50 ms doubling, no jitter.
---   adaptive  standard, plus a client-side rate limiter that slows the
---             send rate when throttled and recovers on success (CUBIC, as
---             botocore's adaptive mode).
--- max_attempts and max_time (a budget in seconds for all attempts and
--- waits) apply to every mode. x-amz-retry-after (ms) is honoured.
local rate_limiter = require "dynamo.retry_rate"
local clock = require("dynamo.async").now

local type, error, tostring, random, min, max = type, error, tostring, math.random, math.min, math.max
local math_type = require("dynamo.compat").math_type

local M = {}

local MODES = {
  standard = { max_attempts = 3, base = 0.2, throttle_base = 0.025, max_backoff = 20, jitter = true, quota = true },
  legacy = { max_attempts = 10, base = 0.05, throttle_base = 0.05, max_backoff = 20, jitter = false },
  adaptive = { max_attempts = 3, base = 0.2, throttle_base = 0.025, max_backoff = 20, jitter = true, quota = true,
    rate_limit = true },
}

-- The retry quota (the AWS SDKs' standard mode): a retry costs tokens, a
-- success gives some back; an empty bucket means fail fast.
local QUOTA, RETRY_COST, TIMEOUT_COST, SUCCESS_REFUND = 500, 5, 10, 1

local Policy = {}
Policy.__index = Policy

local function check_number(opts, name, min_value, integer)
  local v = opts[name]
  if v == nil then return end
  local ok = type(v) == "number" and v >= min_value and v == v
  if integer then ok = ok and math_type(v) == "integer" end
  if not ok then
    error("bad argument 'retry." .. name .. "' to 'dynamo.new' (" .. (integer and "integer" or "number")
      .. " >= " .. min_value .. " expected, got " .. (type(v) == "number" and tostring(v) or type(v)) .. ")", 4)
  end
end

--- A policy from the `retry` option of dynamo.new (nil, false or a table).
function M.new(opts)
  if opts == false then opts = { max_attempts = 1 } end
  opts = opts or {}
  if type(opts) ~= "table" then
    error("bad argument 'retry' to 'dynamo.new' (table or false expected, got " .. type(opts) .. ")", 3)
  end
  for k in pairs(opts) do
    if not ({ mode = 1, max_attempts = 1, max_time = 1, base = 1, throttle_base = 1, max_backoff = 1 })[k] then
      error("bad argument 'retry' to 'dynamo.new' (unknown option '" .. tostring(k) .. "')", 3)
    end
  end
  local mode = opts.mode or "standard"
  local defaults = MODES[mode]
  if not defaults then
    error("bad argument 'retry.mode' to 'dynamo.new' (\"standard\", \"legacy\" or \"adaptive\" expected, got "
      .. (type(mode) == "string" and ("\"" .. mode .. "\"") or type(mode)) .. ")", 3)
  end
  check_number(opts, "max_attempts", 1, true)
  for _, name in ipairs { "max_time", "base", "throttle_base", "max_backoff" } do check_number(opts, name, 0) end
  local p = setmetatable({ mode = mode, quota = defaults.quota and QUOTA or nil }, Policy)
  for k, v in pairs(defaults) do
    if k ~= "quota" then p[k] = opts[k] == nil and v or opts[k] end
  end
  p.max_time = opts.max_time
  if defaults.rate_limit then p.limiter = rate_limiter.new() end
  return p
end

--- Seconds to wait before sending (the adaptive mode's rate limit), or 0.
--- now: the clock (dynamo.now) when the caller has it.
function Policy:before_send(now)
  return self.limiter and self.limiter:acquire(now or clock()) or 0
end

--- Records an attempt's outcome (err nil on success). spent: the quota
--- this call's retries took, given back when it succeeds at last.
function Policy:record(err, spent, now)
  if self.limiter then self.limiter:update(err ~= nil and err.throttle, now or clock()) end
  local quota = self.quota
  if not err and quota then
    quota = quota + (spent > 0 and spent or SUCCESS_REFUND)
    self.quota = quota < QUOTA and quota or QUOTA
  end
end

--- Seconds to wait before attempt `attempt + 1` after err and the quota
--- that retry costs, or nil and why it must not be retried. started: when
--- the call began.
function Policy:delay(err, attempt, started, now)
  if not err.retryable then return nil, "not retryable" end
  if attempt >= self.max_attempts then return nil, "attempts exhausted" end
  local base = err.throttle and self.throttle_base or self.base
  local ceiling = min(self.max_backoff, base * 2 ^ (attempt - 1))
  local wait = self.jitter and random() * ceiling or ceiling
  if type(err.retry_after) == "number" then wait = max(wait, min(err.retry_after, self.max_backoff)) end
  if self.max_time and now + wait - started > self.max_time then return nil, "time budget spent" end
  local cost = 0
  if self.quota and not err.throttle then
    cost = err.code == "TimeoutError" and TIMEOUT_COST or RETRY_COST
    if self.quota < cost then return nil, "retry quota exhausted" end
    self.quota = self.quota - cost
  end
  return wait, cost
end

return M
