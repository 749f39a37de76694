--- The cache in front of every source of temporary credentials.
---
--- refreshing.new(name, source, fetch) -> provider
---   fetch() -> { access_key_id, secret_access_key, session_token?, expiration? }
---              or nil, err. expiration is seconds since the epoch (nil: never).
---
--- provider:get() returns the cached credentials while more than
--- REFRESH_BEFORE seconds of them remain, and fetches new ones otherwise.
--- When that refresh fails but the old ones still have more than MARGIN
--- seconds, it keeps them and tries again RETRY_AFTER seconds later; past
--- that margin the error is returned.
---
--- Refreshes are coalesced: while one dynamo.async task fetches, every other
--- task that asks waits for that same fetch (outside tasks nothing runs
--- concurrently). provider:invalidate() drops the cached credentials (the
--- server said they expired), so the next get() fetches.
local async = require "dynamo.async"
local errors = require "dynamo.errors"

local os_time = os.time

local M = {
  REFRESH_BEFORE = 300,
  MARGIN = 60,
  RETRY_AFTER = 10,
}

local Refreshing = {}
Refreshing.__index = Refreshing

-- The source, a detail (such as the profile name) and the access key id;
-- never the secret or the token.
function Refreshing:__tostring()
  local parts = {}
  if self.detail then parts[1] = self.detail end
  if self.creds then parts[#parts + 1] = self.creds.access_key_id end
  if #parts == 0 then return self.name end
  return self.name .. "(" .. table.concat(parts, ", ") .. ")"
end

local function left(c, now)
  return c.expiration == nil and math.huge or c.expiration - now
end

function Refreshing:get()
  local now = os_time()
  local c = self.creds
  if c then
    local rest = left(c, now)
    if rest > M.REFRESH_BEFORE then return c end
    -- A refresh failed a moment ago: keep the old ones for a while.
    if rest > M.MARGIN and self.failed_at and now < self.failed_at + M.RETRY_AFTER then return c end
  end

  local task = async.current()
  local flight = self.flight
  if flight then
    if not flight.sched or flight.task == task then
      -- Only the fetch itself can ask now (outside tasks nothing else runs).
      return nil, errors.new {
        code = "CredentialsError",
        message = self.name .. ": asked for credentials while fetching them (a provider loop)",
      }
    end
    async.block_until(flight.sched, function() return flight.done end)
    if flight.creds then return flight.creds end
    return nil, flight.err
  end

  flight = { task = task, sched = task and task.sched }
  self.flight = flight
  local ok, got, err = pcall(self.fetch)
  self.flight = nil
  flight.done = true
  if not ok then
    flight.err = errors.new { code = "CredentialsError", message = self.name .. ": the fetch raised an error" }
    error(got, 0)
  end
  if got then
    self.creds, self.failed_at = got, nil
    flight.creds = got
    return got
  end
  -- Still the same credentials (not invalidated meanwhile) and still good
  -- for more than the margin: keep using them, try again later.
  if c and self.creds == c and left(c, os_time()) > M.MARGIN then
    self.failed_at = os_time()
    flight.creds = c
    return c
  end
  flight.err = err
  return nil, err
end

--- Forgets the cached credentials so the next get() fetches. With an
--- argument, only when those are still the cached ones (so a task that saw
--- an old set expire does not throw away a set another task just fetched).
function Refreshing:invalidate(creds)
  if creds == nil or creds == self.creds then
    self.creds, self.failed_at = nil, nil
  end
end

--- name: what tostring shows ("dynamo.credentials.imds"); source: the short
--- label of the chain's "tried" list ("instance metadata").
function M.new(name, source, fetch)
  return setmetatable({ name = name, source = source, fetch = fetch }, Refreshing)
end

M.Refreshing = Refreshing

return M
