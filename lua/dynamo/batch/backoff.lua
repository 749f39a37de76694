--- Retry pacing for the batch operations: exponential backoff with full
--- jitter (a random wait in [0, min(CAP, BASE * 2^attempt)) seconds), bounded
--- by a deadline. Full jitter spreads the retries of many clients throttled
--- at the same moment instead of sending them back in step.
local core = require "dynamo.core"
local async = require "dynamo.async"

local random, min = math.random, math.min

local M = {
  BASE = 0.05,   -- seconds: the first retry waits up to 50 ms
  CAP = 5,       -- seconds: no single wait is longer
}

--- A retry clock that allows retries until `seconds` from now.
function M.start(seconds)
  return { ends = core.now() + seconds, attempt = 0, seconds = seconds }
end

--- Waits before the next attempt and returns true; returns false at once
--- when that wait would end past the deadline (so no time is spent on a
--- wait that cannot be followed by an attempt).
function M.wait(clock)
  local delay = random() * min(M.CAP, M.BASE * 2 ^ clock.attempt)
  if core.now() + delay >= clock.ends then return false end
  clock.attempt = clock.attempt + 1
  async.sleep(delay)
  return true
end

return M
