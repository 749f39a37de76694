--- A token bucket in capacity units per second, driven by what the
--- server reports as consumed: take() waits while the bucket is empty
--- (with dynamo.sleep, so inside a task the other tasks run meanwhile),
--- spend(units) takes what a request consumed (the bucket may go into
--- debt, which the next callers wait off). Over any stretch of time the
--- units spent stay within rate x time + one second's burst + what the
--- requests in flight consume.
local async = require "dynamo.async"

local M = {}

local Bucket = {}
Bucket.__index = Bucket

--- A bucket of `rate` units per second (nil: no limit; every call is free).
function M.new(rate)
  local burst = rate and math.max(rate, 1)
  return setmetatable({ rate = rate, burst = burst, tokens = burst, at = async.now(), spent = 0, waited = 0 }, Bucket)
end

function Bucket:refill()
  local now = async.now()
  self.tokens = math.min(self.burst, self.tokens + (now - self.at) * self.rate)
  self.at = now
end

--- Waits until the bucket holds a token.
function Bucket:take()
  if not self.rate then return end
  self:refill()
  while self.tokens <= 0 do
    local wait = (-self.tokens) / self.rate + 0.005
    async.sleep(wait)
    self.waited = self.waited + wait
    self:refill()
  end
end

--- Takes `units` consumed by a request.
function Bucket:spend(units)
  units = tonumber(units) or 0
  self.spent = self.spent + units
  if not self.rate then return end
  self:refill()
  self.tokens = self.tokens - units
end

--- The capacity units a response reports (ConsumedCapacity, a table or a
--- list of them), or nil.
function M.consumed(res)
  local cc = type(res) == "table" and res.ConsumedCapacity
  if type(cc) ~= "table" then return nil end
  if cc.CapacityUnits then return cc.CapacityUnits end
  local sum
  for _, c in ipairs(cc) do sum = (sum or 0) + (c.CapacityUnits or 0) end
  return sum
end

return M
