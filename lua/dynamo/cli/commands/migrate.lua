--- dynamo migrate SCRIPT: a function applied to every item of a table,
--- resumable, parallel, rate-limited, dry-runnable (see
--- dynamo.cli.migrate.engine for the run, .state for the state file).
local dynamo = require "dynamo"
local fail = require "dynamo.cli.fail"
local progress = require "dynamo.cli.progress"
local ratelimit = require "dynamo.cli.ratelimit"
local script = require "dynamo.cli.migrate.script"
local state = require "dynamo.cli.migrate.state"
local engine = require "dynamo.cli.migrate.engine"
local failed_file = require "dynamo.cli.migrate.failed"
local checkpoints = require "dynamo.cli.migrate.checkpoints"

-- "I/N" with 1 <= I <= N.
local function parse_shard(text)
  local i, n = text:match("^(%d+)/(%d+)$")
  i, n = math.tointeger(tonumber(i)), math.tointeger(tonumber(n))
  if not i or n < 1 or i < 1 or i > n then return nil, "I/N with 1 <= I <= N" end
  return { i = i, n = n }
end

local flags = {
  segments = { kind = "int", value = "N", help = "scan N segments at once in this process (default 1)" },
  segment = { kind = "string", parse = parse_shard, value = "I/N",
    help = "run shard I of N (for several processes or machines sharing one migration); with --segments S, the scan has N x S segments and this process runs S of them" },
  ["max-wcu"] = { kind = "number", value = "X", help = "write at most X capacity units per second (as the server reports them consumed)" },
  ["max-rcu"] = { kind = "number", value = "X", help = "read at most X capacity units per second" },
  ["page-size"] = { kind = "int", value = "N", help = "items per Scan page, the unit of checkpoints (default 100)" },
  writers = { kind = "int", value = "N", help = "writes in flight per segment (default 4)" },
  state = { kind = "string", value = "FILE", help = "the state file (default: SCRIPT.TABLE[.IofN].state.json in the current directory)" },
  failed = { kind = "string", value = "FILE", help = "where failed items go, as JSON lines (default: beside the state file, .failed.jsonl)" },
  ["checkpoint-table"] = { kind = "string", value = "T", help = "also save each segment's checkpoint in DynamoDB table T (made if missing)" },
  id = { kind = "string", value = "NAME", help = "the migration's name in the checkpoint table (default: SCRIPT.TABLE)" },
  table = { kind = "string", value = "T", help = "the table to migrate, over the script's own `table`" },
  ["dry-run"] = { kind = "bool", help = "print what would change, item by item, and write nothing (no state either)" },
  restart = { kind = "bool", help = "ignore the state file and start from the beginning" },
  status = { kind = "bool", help = "show the progress recorded in the state file (and checkpoint table) and exit" },
  progress = { kind = "enum", values = { "auto", "bar", "lines", "off" }, value = "MODE",
    help = "auto (a bar on a terminal, else lines), bar, lines or off (default auto)" },
  ["progress-interval"] = { kind = "number", value = "S", help = "seconds between progress lines when not on a terminal (default 10)" },
}

local function plural(n, word)
  return n .. " " .. word
end

local function counts_text(c, dry)
  return table.concat({
    plural(c.scanned, "scanned"), plural(c.changed, dry and "would change" or "changed"),
    plural(c.unchanged, "unchanged"), plural(c.skipped, "skipped (already changed)"), plural(c.failed, "failed"),
  }, ", ")
end

-- The segment numbers this process runs.
local function my_segments(opts)
  local per = opts.segments or 1
  local shard = opts.segment
  local total = per * (shard and shard.n or 1)
  local first = shard and (shard.i - 1) * per or 0
  local list = {}
  for s = first, first + per - 1 do list[#list + 1] = s end
  return list, total
end

local function run(ctx, opts, a)
  local spec = script.load(a.SCRIPT, ctx, {})
  local table_name = opts.table or spec.table
  if not table_name then
    fail.data(a.SCRIPT .. " names no table (return { table = \"...\", migrate = ... } or pass --table)")
  end
  local segs, total = my_segments(opts)
  local shard = opts.segment and (opts.segment.i .. "/" .. opts.segment.n) or nil
  local base = spec.name .. "." .. table_name .. (shard and ("." .. opts.segment.i .. "of" .. opts.segment.n) or "")
  local state_path = opts.state or base .. ".state.json"
  local failed_path = opts.failed or (state_path:gsub("%.state%.json$", ""):gsub("%.json$", "") .. ".failed.jsonl")
  local id = opts.id or (spec.name .. "." .. table_name)
  local label = "migrate " .. table_name

  if opts.status then
    local status = require "dynamo.cli.commands.status"
    return status.show(ctx, { state_path }, { checkpoint_table = opts.checkpoint_table, id = id })
  end

  -- Retries enough to ride out throttling on a long run.
  local db = ctx:client({ retry = { max_attempts = 10 } }, "migrate")
  local desc, derr = db:describe_table { TableName = table_name }
  if not desc then
    if derr.code == "ResourceNotFoundException" then
      fail.data(a.SCRIPT .. ": table '" .. table_name .. "' does not exist")
    end
    fail.run("cannot describe table '" .. table_name .. "': " .. tostring(derr))
  end
  local key_names, kerr = require("dynamo.keys").names(db, table_name)
  if not key_names then fail.run("cannot read the key of table '" .. table_name .. "': " .. tostring(kerr)) end
  if spec.index then
    local ok = false
    for _, list in ipairs { desc.Table.GlobalSecondaryIndexes or {}, desc.Table.LocalSecondaryIndexes or {} } do
      for _, ix in ipairs(list) do if ix.IndexName == spec.index then ok = true end end
    end
    if not ok then fail.data(a.SCRIPT .. ": table '" .. table_name .. "' has no index '" .. spec.index .. "'") end
  end

  local meta = { migration = id, script = a.SCRIPT, table = table_name, index = spec.index,
    total_segments = total, segments = segs, shard = shard }
  local st, resumed
  if opts.dry_run then
    st = state.new(meta)
  else
    if not opts.restart then st = state.load(state_path) end
    if st then
      state.check(st, meta, state_path)
      resumed = true
      if state.finished(st) then
        io.stderr:write(label, ": already finished (", state_path, "): ", counts_text(state.totals(st)),
          "; --restart runs it again\n")
        return 0
      end
    else
      st = state.new(meta)
    end
  end

  local cp
  if opts.checkpoint_table and not opts.dry_run then
    local err
    cp, err = checkpoints.open(db, opts.checkpoint_table, id, true)
    if not cp then fail.run("checkpoint table '" .. opts.checkpoint_table .. "': " .. tostring(err)) end
    if not resumed then
      -- No local state: take over what another machine recorded.
      local saved, lerr = cp:load()
      if not saved then fail.run("checkpoint table '" .. opts.checkpoint_table .. "': " .. tostring(lerr)) end
      local took = 0
      for _, seg in ipairs(st.segments) do
        local item = saved[seg.segment]
        if item and item.total_segments == total and not opts.restart then
          seg.status, seg.last_key, seg.pages = item.status, item.last_key, item.pages or 0
          for _, c in ipairs(state.COUNTS) do seg[c] = item[c] or 0 end
          took = took + 1
        end
      end
      if took > 0 then
        resumed = true
        io.stderr:write(label, ": resuming ", took, " segment(s) from checkpoint table '", opts.checkpoint_table, "'\n")
      end
    end
  end

  local before = state.totals(st)
  if resumed then
    io.stderr:write(label, ": resuming from ", state_path, " (", before.done, " of ", #st.segments,
      " segments done, ", before.scanned, " items scanned before)\n")
  end
  if not opts.dry_run then
    st.runs = (st.runs or 0) + 1
    state.save(st, state_path)
  end

  -- The total for the bar and the ETA: this process's share of the table.
  local item_count = desc.Table.ItemCount
  local expected = item_count and item_count > 0 and math.ceil(item_count * #segs / total) or nil
  local counts = { scanned = 0, changed = 0, unchanged = 0, skipped = 0, failed = 0 }
  local show = progress.new {
    label = label .. (opts.dry_run and " (dry run)" or ""), mode = opts.progress, interval = opts.progress_interval,
    total = expected, base = before.scanned,
    fields = { "changed", "unchanged", "skipped", "failed" },
  }
  local failed = not opts.dry_run and failed_file.new(failed_path, not resumed) or nil
  if failed then failed:reset() end
  local dry_out
  if opts.dry_run then
    io.stdout:setvbuf("full")
    dry_out = function(lines)
      if show.mode == "bar" then io.stderr:write("\r\27[K") end
      io.stdout:write(table.concat(lines, "\n"), "\n")
      if show.mode == "bar" then io.stdout:flush() end
    end
  end

  local started = dynamo.now()
  local E = {
    db = db, table = table_name, index = spec.index, filter = spec.filter, names = spec.names,
    values = spec.values, consistent = spec.consistent, migrate = spec.migrate, key_names = key_names,
    total_segments = total, page_size = opts.page_size or 100, writers = opts.writers or 4,
    dry_run = opts.dry_run, out = dry_out, state = not opts.dry_run and st or nil, state_path = state_path,
    checkpoints = cp, failed = failed, read = ratelimit.new(opts.max_rcu), write = ratelimit.new(opts.max_wcu),
    progress = show, counts = counts, segs = st.segments,
  }
  local stopped = engine.run(E)
  if failed then failed:close() end
  io.stdout:flush()
  show:finish(counts)

  local elapsed = dynamo.now() - started
  local lines = {}
  local verb = #stopped > 0 and "stopped" or "finished"
  lines[#lines + 1] = string.format("%s%s: %s in %.1f s: %s", label, opts.dry_run and " (dry run, nothing written)" or "",
    verb, elapsed, counts_text(counts, opts.dry_run))
  if E.replayed > 0 then
    lines[#lines + 1] = "  " .. E.replayed .. " write(s) of interrupted pages sent again (applied ones count as skipped)"
  end
  if not opts.dry_run then
    local t = state.totals(st)
    if resumed then lines[#lines + 1] = "  all runs: " .. counts_text(t) end
    lines[#lines + 1] = string.format("  segments done: %d of %d; state: %s", t.done, #st.segments, state_path)
    if failed and failed.count > 0 then
      lines[#lines + 1] = "  failed items: " .. failed_path
    end
  end
  for _, s in ipairs(stopped) do
    lines[#lines + 1] = string.format("  segment %d stopped: %s", s.segment, tostring(s.err))
  end
  if #stopped > 0 then
    lines[#lines + 1] = "  run the same command again to resume"
  end
  io.stderr:write(table.concat(lines, "\n"), "\n")
  if #stopped > 0 then return fail.FAILED end
  if counts.failed > 0 then return fail.PARTIAL end
  return 0
end

return {
  name = "migrate",
  summary = "apply a Lua function to every item of a table: resumable, parallel, rate-limited",
  usage = "dynamo migrate SCRIPT [--segments N] [--segment I/N] [--max-wcu X] [--max-rcu X] [--dry-run] [flags]",
  args = { "SCRIPT" },
  flags = flags,
  help = [[
SCRIPT returns the migration:

  return {
    table = "users",
    migrate = function(item)
      if item.mail then return { set = { email = item.mail }, remove = { "mail" } } end
    end,
  }

The function gets each item and returns nothing (no change), a table of
attributes to set, { set = {...}, remove = {...} }, or "delete". Each change
is written with a condition that the attributes it touches still hold the
values read, so nothing written in between is overwritten and no change is
applied twice. Progress is checkpointed after every page in the state file:
run the same command again after a failure or kill -9 and it resumes.
Failed items go to a JSON-lines file; the status is 2 when any failed.

  dynamo migrate backfill.lua --segments 8 --max-wcu 500
  dynamo migrate backfill.lua --dry-run | less
  dynamo migrate backfill.lua --segment 1/4 --segments 4 --checkpoint-table migrations
  dynamo migrate backfill.lua --status]],
  run = run,
}
