--- dynamo export TABLE: every item as a line of DynamoDB typed JSON,
--- exact (numbers as their N text, sets, binary, NULL, empty lists and
--- maps kept), with progress on stderr.
local dynamo = require "dynamo"
local json = require "dynamo.cli.json"
local fail = require "dynamo.cli.fail"
local progress = require "dynamo.cli.progress"

local function run(ctx, opts, a)
  local db = ctx:client()
  local desc, derr = db:describe_table { TableName = a.TABLE }
  if not desc then fail.run(tostring(derr)) end
  local out, tmp = io.stdout, nil
  if opts.out and opts.out ~= "-" then
    tmp = opts.out .. ".tmp"
    local f, err = io.open(tmp, "wb")
    if not f then fail.run("cannot write " .. err) end
    out = f
  else
    io.stdout:setvbuf("full")
  end
  local p = { TableName = a.TABLE, ConsistentRead = opts.consistent }
  local it
  if opts.segments and opts.segments > 1 then
    p.segments = opts.segments
    it = db:parallel_scan(p)
  else
    it = db:scan_items(p)
  end
  local counts = { exported = 0 }
  local show = progress.new { label = "export " .. a.TABLE, mode = opts.progress, interval = opts.progress_interval,
    total = desc.Table.ItemCount ~= 0 and desc.Table.ItemCount or nil, first = "exported" }
  local started = dynamo.now()
  while true do
    local item, err = it:next()
    if err then
      if tmp then out:close() os.remove(tmp) end
      show:finish(counts)
      fail.run("stopped after " .. counts.exported .. " items: " .. tostring(err))
    end
    if item == nil then break end
    out:write(json.encode_typed(item), "\n")
    counts.exported = counts.exported + 1
    show:update(counts)
  end
  if tmp then
    local ok, err = out:close()
    if not ok then fail.run("cannot write " .. opts.out .. ": " .. tostring(err)) end
    local renamed, rerr = os.rename(tmp, opts.out)
    if not renamed then fail.run("cannot write " .. opts.out .. ": " .. tostring(rerr)) end
  else
    out:flush()
  end
  show:finish(counts)
  io.stderr:write(string.format("export %s: %d items%s in %.1f s\n", a.TABLE, counts.exported,
    opts.out and opts.out ~= "-" and (" to " .. opts.out) or "", dynamo.now() - started))
  return 0
end

return {
  name = "export",
  summary = "write every item as DynamoDB typed JSON lines (exact)",
  usage = "dynamo export TABLE [--out FILE] [--segments N] [--consistent]",
  args = { "TABLE" },
  flags = {
    out = { kind = "string", value = "FILE", help = "write to FILE (made whole at the end: a failed export leaves no partial file) instead of stdout" },
    segments = { kind = "int", value = "N", help = "scan N segments at once" },
    consistent = { kind = "bool", help = "strongly consistent reads" },
    progress = { kind = "enum", values = { "auto", "bar", "lines", "off" }, value = "MODE", help = "auto, bar, lines or off (default auto)" },
    ["progress-interval"] = { kind = "number", value = "S", help = "seconds between progress lines when not on a terminal (default 10)" },
  },
  help = [[
Writes each item as one line of DynamoDB's typed JSON, as GetItem returns
items ({"pk": {"S": "u1"}, "n": {"N": "12.50"}, ...}): every type exactly,
38-digit numbers included. `dynamo import` reads it back.

  dynamo export users --out users.jsonl --segments 4
  dynamo export users | gzip > users.jsonl.gz]],
  run = run,
}
