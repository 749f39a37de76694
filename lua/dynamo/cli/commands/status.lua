--- dynamo status STATEFILE...: where a migration stands, per segment,
--- from its state files (one per process or machine) and, with
--- --checkpoint-table, from the checkpoint table.
local json = require "dynamo.cli.json"
local fail = require "dynamo.cli.fail"
local state = require "dynamo.cli.migrate.state"
local checkpoints = require "dynamo.cli.migrate.checkpoints"

local M = {}

local COLUMNS = { "scanned", "changed", "unchanged", "skipped", "failed" }

local function row(cells)
  return string.format("%-9s %-8s %9s %9s %9s %9s %9s  %s", table.unpack(cells))
end

local function key_text(seg)
  if seg.status == "done" then return "-" end
  if seg.last_key == nil then return "(start)" end
  local ok, text = pcall(json.encode, seg.last_key)
  return ok and text or "?"
end

-- The table of segments for one source (a state file or the checkpoint table).
local function show_segments(title, segs, total_segments)
  local out = { title, row { "segment", "status", "scanned", "changed", "unchanged", "skipped", "failed", "position" } }
  local sum = { done = 0 }
  for _, c in ipairs(COLUMNS) do sum[c] = 0 end
  for _, s in ipairs(segs) do
    local cells = { s.segment .. "/" .. total_segments, s.status .. (s.page and "*" or "") }
    for _, c in ipairs(COLUMNS) do
      cells[#cells + 1] = tostring(s[c] or 0)
      sum[c] = sum[c] + (s[c] or 0)
    end
    cells[#cells + 1] = key_text(s)
    if s.status == "done" then sum.done = sum.done + 1 end
    out[#out + 1] = row(cells)
  end
  local cells = { "total", sum.done .. "/" .. #segs }
  for _, c in ipairs(COLUMNS) do cells[#cells + 1] = tostring(sum[c]) end
  cells[#cells + 1] = sum.done == #segs and "finished" or ""
  out[#out + 1] = row(cells)
  return table.concat(out, "\n")
end

--- Prints the status of state files `paths` (and the checkpoint table
--- opts.checkpoint_table for migration opts.id). Returns the exit status.
function M.show(ctx, paths, opts)
  local blocks, as_json = {}, {}
  for _, path in ipairs(paths) do
    local st = state.load(path)
    if not st then fail.run("no state file " .. path .. " (the migration has not run with these flags here)") end
    local journal = false
    for _, s in ipairs(st.segments) do if s.page then journal = true end end
    blocks[#blocks + 1] = show_segments(string.format("%s: migration %s, table %s%s, %s%s; updated %s, %d run(s)",
      path, st.migration, st.table, st.index and (" index " .. st.index) or "",
      state.describe_segments(st), st.shard and (" (shard " .. st.shard .. ")") or "", st.updated, st.runs or 0),
      st.segments, st.total_segments)
      .. (journal and "\n  * a page was being written when the run stopped; the next run sends its writes again" or "")
    as_json[#as_json + 1] = st
  end
  if opts.checkpoint_table then
    if not opts.id then fail.usage("--checkpoint-table needs --id (the migration's name)") end
    local db = ctx:client()
    local cp, err = checkpoints.open(db, opts.checkpoint_table, opts.id)
    local saved
    if cp then saved, err = cp:load() end
    if not saved then fail.run("checkpoint table '" .. opts.checkpoint_table .. "': " .. tostring(err)) end
    local segs, total = {}, 0
    for _, item in pairs(saved) do
      segs[#segs + 1] = item
      total = item.total_segments or total
    end
    table.sort(segs, function(x, y) return x.segment < y.segment end)
    if #segs == 0 then
      blocks[#blocks + 1] = "checkpoint table " .. opts.checkpoint_table .. ": nothing recorded for " .. opts.id
    else
      blocks[#blocks + 1] = show_segments(string.format("checkpoint table %s: migration %s, %d of %d segments recorded",
        opts.checkpoint_table, opts.id, #segs, total), segs, total)
    end
  end
  if opts.json then
    for _, st in ipairs(as_json) do io.stdout:write(json.encode(st), "\n") end
  else
    io.stdout:write(table.concat(blocks, "\n\n"), "\n")
  end
  return 0
end

M.command = {
  name = "status",
  summary = "show a migration's progress per segment, from state files",
  usage = "dynamo status STATEFILE... [--checkpoint-table T --id NAME] [--json]",
  args = { "STATEFILE?..." },
  flags = {
    ["checkpoint-table"] = { kind = "string", value = "T", help = "also show what the checkpoint table T holds" },
    id = { kind = "string", value = "NAME", help = "the migration's name in the checkpoint table (SCRIPT.TABLE unless migrate had --id)" },
    json = { kind = "bool", help = "print each state file as one line of JSON instead" },
  },
  help = [[
Shows, for each state file (one per process of a sharded migration), every
segment: done, running or pending, its counts and its position (the key
after which it resumes). With --checkpoint-table, also the checkpoints all
machines saved there.

  dynamo status backfill.users.1of2.state.json backfill.users.2of2.state.json
  dynamo status --checkpoint-table migrations --id backfill.users]],
  run = function(ctx, opts, a)
    local paths = a.STATEFILE or {}
    if #paths == 0 and not opts.checkpoint_table then
      fail.usage("missing STATEFILE; usage: dynamo status STATEFILE... [--checkpoint-table T --id NAME] [--json]")
    end
    return M.show(ctx, paths, { checkpoint_table = opts.checkpoint_table, id = opts.id, json = opts.json })
  end,
}

return M
