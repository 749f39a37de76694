--- Progress on stderr while a long command runs (migrate, export, import).
--- On a terminal: one line redrawn in place with \r, at most ten times a
--- second: a bar, the counts, the rate and the time left. Elsewhere
--- (a log file, CI): a plain line every `interval` seconds. Modes: "bar",
--- "lines", "off", or "auto" (bar when stderr is a terminal, else lines;
--- DYNAMO_PROGRESS=bar|lines|off decides instead).
local async = require "dynamo.async"
local files = require "dynamo.cli.files"

local M = {}

local Progress = {}
Progress.__index = Progress

local REDRAW = 0.1

--- The mode to use for `wanted` ("auto" or a mode); the terminal check is
--- made once per process.
local tty
function M.mode(wanted)
  if wanted and wanted ~= "auto" then return wanted end
  local env = os.getenv("DYNAMO_PROGRESS")
  if env == "bar" or env == "lines" or env == "off" then return env end
  if tty == nil then tty = files.stderr_is_tty() end
  return tty and "bar" or "lines"
end

--- opts: label ("migrate users"), mode, interval (seconds between plain
--- lines, default 10), total (items expected, for the bar and the ETA;
--- nil when unknown), base (items done by earlier runs), unit ("items"),
--- fields: the counts shown after the first, in order ({ "changed", ... }),
--- first: the count that measures progress ("scanned").
function M.new(opts)
  local now = async.now()
  return setmetatable({
    label = opts.label, mode = M.mode(opts.mode), interval = opts.interval or 10,
    total = opts.total, base = opts.base or 0, first = opts.first or "scanned",
    fields = opts.fields or {}, unit = opts.unit or "items",
    started = now, drawn_at = -math.huge, line_at = now, out = opts.out or io.stderr, width = 0,
  }, Progress)
end

local function clock(seconds)
  seconds = math.floor(seconds + 0.5)
  if seconds >= 3600 then
    return string.format("%d:%02d:%02d", seconds // 3600, seconds % 3600 // 60, seconds % 60)
  end
  return string.format("%d:%02d", seconds // 60, seconds % 60)
end

-- Rate (per second, this run) and seconds left (nil when unknown).
function Progress:pace(counts)
  local elapsed = async.now() - self.started
  local n = counts[self.first] or 0
  local rate = elapsed > 0 and n / elapsed or 0
  local eta
  if self.total and rate > 0 then
    local left = self.total - self.base - n
    if left < 0 then left = 0 end
    eta = left / rate
  end
  return rate, eta, elapsed
end

function Progress:bar_line(counts)
  local n = self.base + (counts[self.first] or 0)
  local rate, eta = self:pace(counts)
  local parts = {}
  if self.total and self.total > 0 then
    local frac = math.min(n / self.total, 1)
    local fill = math.floor(frac * 20 + 0.5)
    parts[#parts + 1] = string.format("[%s%s] %3d%%", string.rep("#", fill), string.rep("-", 20 - fill), math.floor(frac * 100))
    parts[#parts + 1] = string.format("%d/%d %s", n, self.total, self.first)
  else
    parts[#parts + 1] = string.format("%d %s", n, self.first)
  end
  for _, f in ipairs(self.fields) do
    parts[#parts + 1] = string.format("%d %s", counts[f] or 0, f)
  end
  parts[#parts + 1] = string.format("%.0f %s/s", rate, self.unit)
  if eta then parts[#parts + 1] = "ETA " .. clock(eta) end
  return self.label .. " " .. table.concat(parts, "  ")
end

function Progress:plain_line(counts)
  local n = self.base + (counts[self.first] or 0)
  local rate, eta = self:pace(counts)
  local head = string.format("%d %s", n, self.first)
  if self.total and self.total > 0 then
    head = string.format("%d/%d %s (%d%%)", n, self.total, self.first, math.floor(math.min(n / self.total, 1) * 100))
  end
  local parts = { head }
  for _, f in ipairs(self.fields) do
    parts[#parts + 1] = string.format("%d %s", counts[f] or 0, f)
  end
  parts[#parts + 1] = string.format("%.0f %s/s", rate, self.unit)
  if eta then parts[#parts + 1] = string.format("ETA %s", clock(eta)) end
  return self.label .. ": " .. table.concat(parts, ", ")
end

--- Shows counts if it is time to (call it as often as you like).
function Progress:update(counts, force)
  if self.mode == "off" then return end
  local now = async.now()
  if self.mode == "bar" then
    if force or now - self.drawn_at >= REDRAW then
      self.drawn_at = now
      local line = self:bar_line(counts)
      -- \r back to the start, the line, and clear what a longer one left.
      self.out:write("\r", line, "\27[K")
      self.out:flush()
      self.width = #line
    end
  elseif force or now - self.line_at >= self.interval then
    self.line_at = now
    self.out:write(self:plain_line(counts), "\n")
    self.out:flush()
  end
end

--- The last redraw, and the end of the bar's line (before a summary).
function Progress:finish(counts)
  if self.mode == "bar" then
    self:update(counts, true)
    self.out:write("\n")
    self.out:flush()
  end
end

M.clock = clock

return M
