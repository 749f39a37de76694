--- dynamo import TABLE FILE: the items of a typed JSON-lines file (as
--- `dynamo export` writes it) put through batch writers, with progress
--- and resume. The file is read in blocks of lines; several writers take
--- blocks in turn; the state file records how many lines from the start
--- are safely written (every block up to there flushed), so --resume
--- skips exactly those. Puts overwrite, so writing a line twice is
--- harmless: importing again gives the same table.
local dynamo = require "dynamo"
local json = require "dynamo.cli.json"
local fail = require "dynamo.cli.fail"
local files = require "dynamo.cli.files"
local progress = require "dynamo.cli.progress"
local core = require "dynamo.core"

local FORMAT = "dynamo-import-state/1"
local BLOCK = 1000

local codec
local function state_codec()
  codec = codec or core.codec {}
  return codec
end

local function load_state(path)
  local text = files.read(path)
  if not text then return nil end
  local st = state_codec():decode(text)
  if type(st) ~= "table" or st.format ~= FORMAT then
    fail.data("'" .. path .. "' is not an import state file")
  end
  return st
end

local function count_lines(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local n, last = 0, nil
  while true do
    local chunk = f:read(1 << 20)
    if not chunk then break end
    local _, c = chunk:gsub("\n", "")
    n, last = n + c, chunk
  end
  f:close()
  if last and last:sub(-1) ~= "\n" then n = n + 1 end
  return n
end

local function run(ctx, opts, a)
  local path, table_name = a.FILE, a.TABLE
  local stdin = path == "-"
  if stdin and opts.resume then fail.usage("--resume needs a FILE (not stdin)") end
  local state_path = opts.state or (not stdin and path .. "." .. table_name .. ".import.json") or nil
  local skip = 0
  if opts.resume then
    local st = load_state(state_path)
    if not st then fail.run("no state file " .. state_path .. " to resume from") end
    if st.table ~= table_name or st.file ~= path then
      fail.usage("the state file " .. state_path .. " is for importing " .. tostring(st.file) .. " into '"
        .. tostring(st.table) .. "'")
    end
    if st.done then
      io.stderr:write("import ", table_name, ": already done (", state_path, ": ", st.lines, " lines)\n")
      return 0
    end
    skip = st.lines
  end
  local input = io.stdin
  if not stdin then
    local f, err = io.open(path, "rb")
    if not f then fail.run("cannot read " .. err) end
    input = f
  end
  local db = ctx:client()
  local total = not stdin and count_lines(path) or nil
  local counts = { imported = 0 }
  local show = progress.new { label = "import " .. table_name, mode = opts.progress, interval = opts.progress_interval,
    total = total, base = skip, first = "imported", unit = "lines" }

  local line_no = 0
  for _ = 1, skip do
    if not input:read("L") then break end
    line_no = line_no + 1
  end
  local started = dynamo.now()
  local st = { format = FORMAT, file = path, table = table_name, lines = line_no, items = 0, done = false }
  local function save()
    if state_path then
      st.updated = os.date("!%Y-%m-%dT%H:%M:%SZ")
      files.replace(state_path, state_codec():encode(st))
    end
  end
  save()

  -- Blocks: read in order by whichever writer is free; done[i] marks a
  -- flushed block; the frontier is the end of the first run of done blocks.
  local blocks, next_block, eof, problem = {}, 1, false, nil
  local function read_block()
    if eof or problem then return nil end
    local items, first = {}, line_no + 1
    while #items < BLOCK do
      local line = input:read("L")
      if not line then eof = true break end
      line_no = line_no + 1
      if line:find("%S") then
        local item, err = json.decode_typed(line)
        if item == nil or type(item) ~= "table" then
          problem = problem or { status = fail.DATA, message = path .. ":" .. line_no .. ": " .. tostring(err or "not an item") }
          eof = true
          line_no = line_no - 1   -- the block ends before the bad line
          break
        end
        items[#items + 1] = item
      end
    end
    local b = { first = first, last = line_no, items = items, index = next_block }
    blocks[next_block] = b
    next_block = next_block + 1
    return b
  end
  local frontier = 1
  local function advance()
    local moved = false
    while blocks[frontier] and blocks[frontier].done do
      st.lines = blocks[frontier].last
      st.items = st.items + #blocks[frontier].items
      blocks[frontier] = nil
      frontier = frontier + 1
      moved = true
    end
    if moved then save() end
  end
  local function writer()
    local seen = 0
    local w = db:batch_writer { on_progress = function(written)
      counts.imported = counts.imported + (written - seen)
      seen = written
      show:update(counts)
    end }
    while not problem do
      local b = read_block()
      if not b then break end
      for _, item in ipairs(b.items) do
        if not w:put(table_name, item) then break end
      end
      local ok, err = w:flush()
      if not ok then
        problem = problem or { status = fail.FAILED, message = "lines " .. b.first .. "-" .. b.last .. ": " .. tostring(err) }
        break
      end
      b.done = true
      advance()
      show:update(counts)
    end
    w:close()
  end
  local fns = {}
  for i = 1, opts.writers or 4 do fns[i] = writer end
  local ok, err = pcall(dynamo.gather, fns)
  if not stdin then input:close() end
  if not ok then
    problem = problem or { status = fail.FAILED, message = fail.is_failure(err) and err.message or tostring(err) }
  end
  show:finish(counts)
  if problem then
    io.stderr:write(string.format("import %s: stopped: %s\n  %d lines safely written%s\n", table_name, problem.message,
      st.lines, state_path and ("; --resume continues from there (state: " .. state_path .. ")") or ""))
    return problem.status
  end
  st.done = true
  save()
  io.stderr:write(string.format("import %s: %d items from %s in %.1f s\n", table_name, counts.imported,
    stdin and "stdin" or path, dynamo.now() - started))
  return 0
end

return {
  name = "import",
  summary = "put the items of a typed JSON-lines file (from export); resumable",
  usage = "dynamo import TABLE FILE [--resume] [--state FILE] [--writers N]",
  args = { "TABLE", "FILE" },
  flags = {
    resume = { kind = "bool", help = "continue after the lines the state file records as written" },
    state = { kind = "string", value = "FILE", help = "the state file (default FILE.TABLE.import.json)" },
    writers = { kind = "int", value = "N", help = "batch writers at once (default 4); blocks of lines are written concurrently, so when a file has several lines for one key, --writers 1 makes the last one win" },
    progress = { kind = "enum", values = { "auto", "bar", "lines", "off" }, value = "MODE", help = "auto, bar, lines or off (default auto)" },
    ["progress-interval"] = { kind = "number", value = "S", help = "seconds between progress lines when not on a terminal (default 10)" },
  },
  help = [[
Puts every item of FILE (one typed JSON item per line, as `dynamo export`
writes; - for stdin) into TABLE through batch writers: 25 items a request,
unprocessed items retried. The state file records how many lines from the
start are safely written; after a failure or a kill, --resume continues
from there. Re-importing is harmless anyway: puts overwrite.

  dynamo import users_copy users.jsonl
  dynamo import users_copy users.jsonl --resume]],
  run = run,
}
