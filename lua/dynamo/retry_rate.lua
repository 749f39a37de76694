--- The adaptive retry mode's client-side rate limiter, after botocore's
--- (CUBIC congestion control over a token bucket): off until the first
--- throttle; then each throttle cuts the allowed rate to 70% of what was
--- being sent, and each success grows it back along a cubic curve.
local min, max = math.min, math.max

local M = {}

local BETA, SCALE, MIN_RATE, SMOOTH, BUCKET = 0.7, 0.4, 0.5, 0.8, 0.5 -- BUCKET: seconds

local Limiter = {}
Limiter.__index = Limiter

function M.new()
  return setmetatable({
    enabled = false, fill_rate = 0, capacity = 0, max_capacity = 0, last_refill = nil,
    measured = 0, count = 0, bucket_at = nil,  -- the send rate actually seen
    last_max_rate = 0, last_throttle = 0, window = 0,
  }, Limiter)
end

function Limiter:refill(now)
  if self.last_refill then
    self.capacity = min(self.max_capacity, self.capacity + (now - self.last_refill) * self.fill_rate)
  end
  self.last_refill = now
end

--- Seconds the caller must wait before sending (it then sends).
function Limiter:acquire(now)
  if not self.enabled then return 0 end
  self:refill(now)
  if self.capacity >= 1 then
    self.capacity = self.capacity - 1
    return 0
  end
  local wait = (1 - self.capacity) / self.fill_rate
  self.capacity = self.capacity - 1   -- spoken for: the next caller waits longer
  return wait
end

-- The measured send rate, smoothed over half-second buckets.
function Limiter:measure(now)
  local bucket = math.floor(now / BUCKET) * BUCKET
  if not self.bucket_at then self.bucket_at, self.first_at = bucket, now end
  self.count = self.count + 1
  if bucket > self.bucket_at then
    local rate = self.count / (bucket - self.bucket_at)
    self.measured = rate * SMOOTH + self.measured * (1 - SMOOTH)
    self.count, self.bucket_at = 0, bucket
  end
end

-- The send rate seen so far; before the first full bucket, the average
-- since the first request (botocore would say 0, and crawl at 0.5/s).
function Limiter:seen(now)
  if self.measured > 0 then return self.measured end
  return self.count / max(now - self.first_at, 0.05)
end

--- Records a response: throttled or not.
function Limiter:update(throttled, now)
  self:measure(now)
  local seen = self:seen(now)
  local rate
  if throttled then
    local current = self.enabled and min(seen, self.fill_rate) or seen
    self.last_max_rate = current
    self.window = (self.last_max_rate * (1 - BETA) / SCALE) ^ (1 / 3)
    self.last_throttle = now
    rate = current * BETA
    self.enabled = true
  else
    if not self.enabled then return end
    local t = now - self.last_throttle - self.window
    rate = SCALE * t * t * t + self.last_max_rate
  end
  rate = min(rate, 2 * seen)
  self:refill(now)
  self.fill_rate = max(rate, MIN_RATE)
  self.max_capacity = max(self.fill_rate, 1)
  self.capacity = min(self.capacity, self.max_capacity)
end

return M
