--- The state file of a migration: where each segment stands, so that a
--- run that stopped (an error, Ctrl-C, kill -9, a reboot) resumes where
--- it was. One JSON document, replaced atomically at every checkpoint:
---
---   { "format": "dynamo-migrate-state/1", "migration": "backfill.users",
---     "script": "backfill.lua", "table": "users", "index": null,
---     "total_segments": 8, "shard": "2/2",  -- --segment I/N, or absent
---     "created": "2026-11-21T10:00:00Z", "updated": "...", "runs": 2,
---     "segments": [
---       { "segment": 4, "status": "done"|"running"|"pending",
---         "last_key": {"pk": {"S": "k01234"}},   -- typed; absent when done or not begun
---         "pages": 17, "scanned": 1700, "changed": 1650, "unchanged": 40,
---         "skipped": 0, "failed": 10, "updated": "...",
---         "page": { ... } }                       -- the journal, see below
---     ] }
---
--- Keys and values are DynamoDB typed JSON, so they are exact. The
--- journal: before the writes of a page go out, the page's planned writes
--- are saved ("page": { "seq", "next", "counts", "writes", "failures" });
--- a run that finds a journal sends those writes again, each with its
--- condition, so the ones that were applied fail their condition
--- ("skipped") and the others apply: no write is lost or applied twice,
--- even if the migration function gives a different answer when called
--- again. The checkpoint after the page drops the journal.
local core = require "dynamo.core"
local files = require "dynamo.cli.files"
local fail = require "dynamo.cli.fail"

local M = {}

M.FORMAT = "dynamo-migrate-state/1"
M.COUNTS = { "scanned", "changed", "unchanged", "skipped", "failed" }

-- Where the codec finds AttributeValues in the document.
local VALUES = { ["{}"] = "V" }
local MAP = {
  segments = { ["[]"] = {
    last_key = VALUES,
    page = {
      next = VALUES,
      writes = { ["[]"] = { key = VALUES, set = VALUES, expect = VALUES } },
      failures = { ["[]"] = { key = VALUES } },
    },
  } },
}
M.MAP = MAP

local codec
local function the_codec()
  codec = codec or core.codec {}
  return codec
end

function M.now()
  return os.date("!%Y-%m-%dT%H:%M:%SZ")
end

--- A new state for meta: migration, script, table, index, total_segments,
--- shard (nil or "I/N") and segments (the segment numbers this process runs).
function M.new(meta)
  local segs = {}
  for i, n in ipairs(meta.segments) do
    local s = { segment = n, status = "pending", pages = 0 }
    for _, c in ipairs(M.COUNTS) do s[c] = 0 end
    segs[i] = s
  end
  return {
    format = M.FORMAT, migration = meta.migration, script = meta.script, table = meta.table,
    index = meta.index, total_segments = meta.total_segments, shard = meta.shard,
    created = M.now(), updated = M.now(), runs = 0, segments = segs,
  }
end

--- The state in path, or nil when there is no such file. A file that is
--- not a state file is a data failure.
function M.load(path)
  local text = files.read(path)
  if text == nil then return nil end
  local ok, st, err = pcall(the_codec().decode, the_codec(), text, MAP)
  if not ok then err = tostring(st); st = nil end
  if type(st) ~= "table" or st.format ~= M.FORMAT or type(st.segments) ~= "table" then
    fail.data("'" .. path .. "' is not a migration state file (" .. (err or "format is not " .. M.FORMAT) .. ")")
  end
  return st
end

--- Writes the state to path (atomically).
function M.save(st, path)
  st.updated = M.now()
  files.replace(path, the_codec():encode(st, MAP))
end

local function describe_segments(st)
  local list = {}
  for _, s in ipairs(st.segments) do list[#list + 1] = s.segment end
  local total = st.total_segments
  if #list == total then return total == 1 and "one segment" or "segments 0-" .. (total - 1) .. " of " .. total end
  return "segments " .. list[1] .. "-" .. list[#list] .. " of " .. total
end
M.describe_segments = describe_segments

--- Raises a usage failure when the state in path was made for another
--- migration than meta (table, index, segments).
function M.check(st, meta, path)
  local function differs(what)
    fail.usage("the state file " .. path .. " is for " .. what .. "; pass the same flags to resume, "
      .. "--state FILE for another state file, or --restart to start over")
  end
  if st.table ~= meta.table then differs("table '" .. tostring(st.table) .. "'") end
  if st.index ~= meta.index then differs(st.index and "index '" .. st.index .. "'" or "the table, not an index") end
  local same = st.total_segments == meta.total_segments and #st.segments == #meta.segments
  for i, s in ipairs(st.segments) do
    if s.segment ~= meta.segments[i] then same = false end
  end
  if not same then differs(describe_segments(st) .. " (" .. (st.shard and "--segment " .. st.shard .. ", " or "")
    .. "--segments " .. (#st.segments) .. ")") end
end

--- Sums of the counts over the segments, and how many segments are done.
function M.totals(st)
  local t = { done = 0, running = 0, pending = 0 }
  for _, c in ipairs(M.COUNTS) do t[c] = 0 end
  for _, s in ipairs(st.segments) do
    for _, c in ipairs(M.COUNTS) do t[c] = t[c] + (s[c] or 0) end
    t[s.status] = (t[s.status] or 0) + 1
  end
  return t
end

--- Is every segment done?
function M.finished(st)
  for _, s in ipairs(st.segments) do
    if s.status ~= "done" then return false end
  end
  return true
end

return M
