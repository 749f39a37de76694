-- dynamo migrate against DynamoDB Local: 20,000 items in 4 segments,
-- kill -9 midway and resume (every item migrated exactly once, none
-- lost); --dry-run; failed items; sharding across two processes with a
-- checkpoint table; --max-wcu; the progress display on a pseudo-terminal
-- and off it; bad scripts and flags.
local dynamo = require "dynamo"
local cjson = require "cjson"
local servers = require "support.servers"
local cli = require "support.cli"

local server = servers.get("local")
local db = servers.client(server)
local dir

local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

-- Items k00001..kN with n = i, written by 8 batch writers at once.
local function fill(name, n)
  local fns = {}
  for w = 1, 8 do
    fns[w] = function()
      local wr = db:batch_writer()
      for i = w, n, 8 do wr:put(name, { pk = string.format("k%05d", i), n = i }) end
      assert(wr:close())
    end
  end
  dynamo.gather(fns)
end

-- Tables made here, deleted at the end whatever happened.
local created = {}

local function new_table(prefix, n)
  local name = servers.table_name(prefix)
  servers.create_table(db, name, { sort = false })
  created[#created + 1] = name
  if n and n > 0 then fill(name, n) end
  return name
end

local function all_items(name)
  local items = {}
  for item in db:scan_items { table = name, consistent = true } do items[#items + 1] = item end
  return items
end

-- A migration script (in the test's directory) for table `name`.
local function script(file, name, body)
  return write_file(dir .. "/" .. file, string.format("return { table = %q,\n%s\n}\n", name, body))
end

-- The test migration: not idempotent, so a second application of a change
-- shows (applied == 2).
local DOUBLE = [[
  migrate = function(item)
    return { n2 = item.n * 2, applied = (item.applied or 0) + 1 }
  end,]]

local function migrate(args, opts)
  local full = { "--endpoint", server.url, "migrate" }
  for _, a in ipairs(args) do full[#full + 1] = a end
  return full, cli.run(full, { cwd = dir, env = opts and opts.env })
end

local function read_state(path)
  local text = cli.slurp(path)
  if text == "" then return nil end
  local ok, st = pcall(cjson.decode, text)
  return ok and st or nil
end

local function totals(st)
  local t = { scanned = 0, changed = 0, unchanged = 0, skipped = 0, failed = 0, done = 0, checkpointed = 0 }
  for _, s in ipairs(st.segments) do
    for k in pairs(t) do
      if type(s[k]) == "number" then t[k] = t[k] + s[k] end
    end
    if s.status == "done" then t.done = t.done + 1 end
    if (s.pages or 0) > 0 then t.checkpointed = t.checkpointed + 1 end
  end
  return t
end

-- "finished in 1.2 s: 3 scanned, 2 changed, 0 unchanged, 1 skipped (already changed), 0 failed"
local function summary(stderr)
  local verb, secs, scanned, changed, unchanged, skipped, failed = stderr:match(
    "(%a+) in ([%d.]+) s: (%d+) scanned, (%d+) %a+[%a ]-, (%d+) unchanged, (%d+) skipped %(already changed%), (%d+) failed")
  assert(verb, "no summary in:\n" .. stderr)
  return { verb = verb, seconds = tonumber(secs), scanned = tonumber(scanned), changed = tonumber(changed),
    unchanged = tonumber(unchanged), skipped = tonumber(skipped), failed = tonumber(failed) }
end

local function thousands(n)
  local s = string.format("%d", n)
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

local function read_lines(path)
  local list = {}
  for line in cli.slurp(path):gmatch("[^\n]+") do list[#list + 1] = line end
  return list
end

describe("dynamo migrate (DynamoDB Local)", function()
  setup(function() dir = cli.tempdir() end)
  teardown(function()
    for _, name in ipairs(created) do db:delete_table { TableName = name } end
    cli.cleanup(dir)
  end)

  it("resumes after kill -9 with every one of 20,000 items migrated exactly once", function()
    local N = 20000
    local name = new_table("mig_kill", N)
    local path = script("double.lua", name, DOUBLE)
    local state_path = dir .. "/double.state.json"
    local args = { "--endpoint", server.url, "migrate", path, "--segments", "4", "--writers", "8",
      "--progress", "off", "--state", state_path }

    local h = cli.spawn(args, { cwd = dir })
    local deadline = dynamo.now() + 90
    repeat
      dynamo.sleep(0.02)
      local st = read_state(state_path)
      local t = st and totals(st)
    until (t and t.changed >= N * 0.35 and t.checkpointed >= 2) or dynamo.now() > deadline
    h:kill("KILL")
    local first = h:wait()
    assert.are.equal(137, first.status, "the first run was not killed midway:\n" .. first.stderr)

    local at_kill = totals(assert(read_state(state_path)))
    assert.is_true(at_kill.changed > 0 and at_kill.changed < N, "changed at kill: " .. at_kill.changed)
    assert.is_true(at_kill.done < 4, "every segment was done at the kill")

    local second = cli.run(args, { cwd = dir })
    assert.are.equal(0, second.status, second.stderr)
    assert.matches("resuming from", second.stderr, 1, true)
    local s2 = summary(second.stderr)
    assert.are.equal("finished", s2.verb)

    local final = totals(assert(read_state(state_path)))
    assert.are.equal(N, final.scanned)
    assert.are.equal(4, final.done)
    assert.are.equal(0, final.failed)
    assert.are.equal(N, final.changed + final.skipped)
    assert.are.equal(N, at_kill.changed + s2.changed + s2.skipped)

    local items = all_items(name)
    local once, lost = 0, N - #items
    for _, item in ipairs(items) do
      assert.are.equal(1, item.applied, "item " .. item.pk .. " migrated " .. tostring(item.applied) .. " times")
      assert.are.equal(item.n * 2, item.n2)
      once = once + 1
    end
    assert.are.equal(N, once)
    assert.are.equal(0, lost)
    print(string.format("\nkill -9 after %s items (state: %s scanned, %s changed); resumed; %d items: %d migrated exactly "
      .. "once, %d lost, %d failed; first run changed %d, second run changed %d + skipped %d (interrupted writes "
      .. "already applied); total changed + skipped = %d",
      thousands(at_kill.scanned), thousands(at_kill.scanned), thousands(at_kill.changed), #items, once, lost, final.failed,
      at_kill.changed, s2.changed, s2.skipped, final.changed + final.skipped))

    -- The same command once more: nothing left to do.
    local third = cli.run(args, { cwd = dir })
    assert.are.equal(0, third.status)
    assert.matches("already finished", third.stderr, 1, true)
  end)

  it("--dry-run prints each change and writes nothing", function()
    local name = new_table("mig_dry", 30)
    local path = script("dry.lua", name, [[
  migrate = function(item)
    if item.n == 3 then return "delete" end
    if item.n % 2 == 0 then return { set = { n2 = item.n * 2, label = "even" }, remove = { "n" } } end
  end,]])
    local _, r = migrate { path, "--dry-run", "--progress", "off" }
    assert.are.equal(0, r.status, r.stderr)
    assert.matches('~ {"pk":"k00002"}\n    label: (absent) -> "even"\n    n: 2 -> (removed)\n    n2: (absent) -> 4\n', r.stdout, 1, true)
    assert.matches('- {"pk":"k00003"}  (deleted)', r.stdout, 1, true)
    local s = summary(r.stderr)
    assert.are.same({ 30, 16, 14, 0 }, { s.scanned, s.changed, s.unchanged, s.failed })
    assert.matches("(dry run, nothing written)", r.stderr, 1, true)
    local items = all_items(name)
    assert.are.equal(30, #items)
    for _, item in ipairs(items) do
      assert.is_nil(item.n2)
      assert.is_not_nil(item.n)
    end
    assert.is_false(cli.slurp(dir .. "/dry." .. name .. ".state.json") ~= "", "a dry run wrote a state file")
  end)

  it("records failed items with their errors and exits with status 2", function()
    local name = new_table("mig_fail", 40)
    local path = script("fails.lua", name, [[
  migrate = function(item)
    if item.n % 10 == 0 then error("no rule for " .. item.pk, 0) end
    if item.n == 7 then return { pk = "moved" } end
    if item.n == 9 then return { big = string.rep("x", 500 * 1024) } end
    return { checked = true }
  end,]])
    local _, r = migrate { path, "--progress", "off" }
    assert.are.equal(2, r.status, r.stderr)
    local s = summary(r.stderr)
    assert.are.same({ 40, 34, 6 }, { s.scanned, s.changed, s.failed })
    local failed_path = dir .. "/fails." .. name .. ".failed.jsonl"
    assert.matches("failed items: fails." .. name .. ".failed.jsonl", r.stderr, 1, true)
    local by_key = {}
    for _, line in ipairs(read_lines(failed_path)) do
      local rec = cjson.decode(line)
      by_key[rec.key.pk] = rec.error
    end
    for _, pk in ipairs { "k00010", "k00020", "k00030", "k00040" } do
      assert.are.same({ code = "MigrateError", message = "no rule for " .. pk }, by_key[pk])
    end
    assert.are.same({ code = "BadChange",
      message = "the change sets the key attribute 'pk' (a key cannot change in place)" }, by_key.k00007)
    assert.are.equal("ValidationException", by_key.k00009.code)
    local checked = 0
    for _, item in ipairs(all_items(name)) do
      if item.checked then checked = checked + 1 end
    end
    assert.are.equal(34, checked)
  end)

  it("--segment 1/2 and 2/2 in two processes cover the table exactly once", function()
    local N = 2000
    local name = new_table("mig_shard", N)
    local cp_table = servers.table_name("mig_cp")
    created[#created + 1] = cp_table
    local path = script("shard.lua", name, DOUBLE)
    local function args(i)
      return { "--endpoint", server.url, "migrate", path, "--segment", i .. "/2", "--segments", "2",
        "--checkpoint-table", cp_table, "--progress", "off" }
    end
    -- Both make the checkpoint table if it is missing: one does, the other waits for it.
    local a, b = cli.spawn(args(1), { cwd = dir }), cli.spawn(args(2), { cwd = dir })
    local ra, rb = a:wait(), b:wait()
    assert.are.equal(0, ra.status, ra.stderr)
    assert.are.equal(0, rb.status, rb.stderr)
    local sa, sb = summary(ra.stderr), summary(rb.stderr)
    assert.are.equal(N, sa.changed + sb.changed)
    assert.is_true(sa.changed > 0 and sb.changed > 0)
    local items = all_items(name)
    assert.are.equal(N, #items)
    for _, item in ipairs(items) do assert.are.equal(1, item.applied) end

    local f1 = dir .. "/shard." .. name .. ".1of2.state.json"
    local f2 = dir .. "/shard." .. name .. ".2of2.state.json"
    local st1, st2 = read_state(f1), read_state(f2)
    assert.are.same({ 0, 1 }, { st1.segments[1].segment, st1.segments[2].segment })
    assert.are.same({ 2, 3 }, { st2.segments[1].segment, st2.segments[2].segment })
    assert.are.equal(4, st1.total_segments)

    local r = cli.run({ "--endpoint", server.url, "status", f1, f2, "--checkpoint-table", cp_table,
      "--id", "shard." .. name })
    assert.are.equal(0, r.status, r.stderr)
    assert.matches("segments 0%-1 of 4 %(shard 1/2%)", r.stdout)
    assert.matches("segments 2%-3 of 4 %(shard 2/2%)", r.stdout)
    assert.matches("checkpoint table " .. cp_table .. ": migration shard." .. name .. ", 4 of 4 segments recorded", r.stdout, 1, true)
    local total_line = r.stdout:match("\n(total%s+4/4[^\n]*)")
    assert.is_truthy(total_line, r.stdout)
    assert.matches("total%s+4/4%s+" .. N .. "%s+" .. N .. "%s+0%s+0%s+0%s+finished", r.stdout)
    print("\n" .. r.stdout)
    -- migrate --status shows the shard's own state file.
    local _, st = migrate { path, "--segment", "2/2", "--segments", "2", "--status" }
    assert.are.equal(0, st.status, st.stderr)
    assert.matches("^shard%." .. name:gsub("%p", "%%%0") .. "%.2of2%.state%.json: migration shard%.", st.stdout)
    assert.matches("\ntotal +2/2 +%d+", st.stdout)
  end)

  it("--max-wcu holds the writes to the rate", function()
    local N = 120
    local name = new_table("mig_wcu", N)
    local path = script("slow.lua", name, DOUBLE)
    local t0 = dynamo.now()
    local _, r = migrate { path, "--segments", "2", "--max-wcu", "40", "--progress", "off" }
    local elapsed = dynamo.now() - t0
    assert.are.equal(0, r.status, r.stderr)
    assert.are.equal(N, summary(r.stderr).changed)
    -- 120 units at 40 a second, the first 40 at once: at least 2 s.
    assert.is_true(elapsed >= 1.6, string.format("took %.2f s", elapsed))
    assert.is_true(N / elapsed <= 75, string.format("%.0f writes/s", N / elapsed))
    print(string.format("\n--max-wcu 40: %d writes in %.1f s (%.0f/s)", N, elapsed, N / elapsed))
  end)

  it("shows a bar redrawn with \\r on a terminal and plain lines elsewhere", function()
    local N = 600
    local name = new_table("mig_bar", N)
    local path = script("bar.lua", name, DOUBLE)
    local out = cli.pty({ "--endpoint", server.url, "migrate", path, "--page-size", "25", "--max-wcu", "400" }, { cwd = dir })
    assert.matches("\r" .. "migrate " .. name .. " %[[#%-]+%] +%d+%% +%d+/" .. N .. " scanned  %d+ changed  %d+ unchanged  %d+ skipped  %d+ failed  %d+ items/s", out)
    local redraws = select(2, out:gsub("\r" .. "migrate ", ""))
    assert.is_true(redraws >= 2, "the bar was drawn " .. redraws .. " time(s)")
    assert.matches("\r" .. "migrate " .. name .. " %[####################%] 100%%  " .. N .. "/" .. N .. " scanned  " .. N .. " changed", out)
    assert.matches("migrate " .. name .. ": finished in", out, 1, true)

    -- Not a terminal: plain lines, no \r.
    local _, r = migrate { path, "--restart", "--page-size", "25", "--max-wcu", "400", "--progress-interval", "0.2" }
    assert.are.equal(0, r.status, r.stderr)
    assert.is_nil(r.stderr:find("\r", 1, true))
    assert.matches("migrate " .. name .. ": %d+/" .. N .. " scanned %(%d+%%%), %d+ changed, %d+ unchanged, %d+ skipped, %d+ failed, %d+ items/s", r.stderr)
  end)

  it("runs the examples: rename and backfill a GSI key, repair emails, export and import", function()
    local ex = cli.root .. "/examples/migrations/"
    local users = servers.table_name("ex_users")
    created[#created + 1] = users
    created[#created + 1] = users .. "_copy"
    local function dyn(args)
      local full = { "--endpoint", server.url }
      for _, a in ipairs(args) do full[#full + 1] = a end
      return cli.run(full, { cwd = dir })
    end
    local r = dyn { "run", ex .. "seed_users.lua", users, "300" }
    assert.are.equal(0, r.status, r.stderr)

    r = dyn { "migrate", ex .. "rename_email.lua", "--table", users, "--segments", "3", "--progress", "off" }
    assert.are.equal(0, r.status, r.stderr)
    assert.are.equal(300, summary(r.stderr).changed)
    for _, u in ipairs(all_items(users)) do
      assert.is_nil(u.mail)
      assert.are.equal("EMAIL#" .. u.email:lower(), u.gsi1pk)
    end
    -- Again: the filter leaves nothing to do.
    r = dyn { "migrate", ex .. "rename_email.lua", "--table", users, "--restart", "--progress", "off" }
    assert.are.equal(0, summary(r.stderr).changed)

    r = dyn { "migrate", ex .. "fix_emails.lua", "--table", users, "--progress", "off" }
    assert.are.equal(2, r.status, r.stderr)
    local s = summary(r.stderr)
    -- Every 10th user has one of 8 messy addresses (30 in all); 2 of the 8
    -- ("not an address", "dennis@": 6 users) cannot be repaired.
    assert.are.same({ 300, 24, 270, 6 }, { s.scanned, s.changed, s.unchanged, s.failed })
    local failed = read_lines(dir .. "/fix_emails." .. users .. ".failed.jsonl")
    assert.are.equal(6, #failed)
    assert.matches('"error":{"code":"MigrateError","message":"cannot repair the address \\"dennis@\\""}', table.concat(failed, "\n"), 1, true)
    local grace = assert(db:get_item { table = users, key = { id = "u00020" } }).Item
    assert.are.same({ "grace@navy.mil", "grace@@navy.mil", "EMAIL#grace@navy.mil" }, { grace.email, grace.email_was, grace.gsi1pk })
    r = dyn { "query", users, "--index", "by_email", "--key", "gsi1pk=EMAIL#ada.lovelace@example.com" }
    assert.are.equal(0, r.status, r.stderr)
    assert.are.equal(4, select(2, r.stdout:gsub("\n", "")))

    -- The script runs `$DYNAMO ...`: a wrapper that starts the program as the specs do.
    local wrapper = write_file(dir .. "/dynamo", "#!/bin/sh\nexec " .. cli.command({}) .. ' "$@"\n')
    os.execute("env -u LD_PRELOAD chmod +x " .. cli.q(wrapper))
    local p = assert(io.popen("cd " .. cli.q(dir) .. " && env -u LD_PRELOAD DYNAMO=" .. cli.q(wrapper)
      .. " sh " .. cli.q(ex .. "roundtrip.sh") .. " " .. users .. " --endpoint " .. server.url .. " 2>&1"))
    local out = p:read("a")
    p:close()
    assert.matches("roundtrip: " .. users .. "_copy holds the same 300 items as " .. users, out, 1, true)
  end)

  describe("refuses", function()
    local name
    setup(function() name = new_table("mig_bad", 3) end)

    local function bad_script(file, text)
      return write_file(dir .. "/" .. file, text)
    end

    it("a script with a syntax error", function()
      local path = bad_script("syntax.lua", "return { table = 'x', migrate = function(item) return item end\n")
      local _, r = migrate { path }
      assert.are.equal(65, r.status)
      assert.are.equal("dynamo migrate: " .. path .. ":2: '}' expected (to close '{' at line 1) near <eof>\n", r.stderr)
    end)

    it("a script that returns no migration", function()
      local path = bad_script("nothing.lua", "local x = 1\n")
      local _, r = migrate { path }
      assert.are.equal(65, r.status)
      assert.are.equal("dynamo migrate: " .. path .. " returns nothing and defines no function migrate "
        .. "(return { table = \"...\", migrate = function(item) ... end }, or define a global function migrate)\n", r.stderr)
      path = bad_script("number.lua", "return 42\n")
      _, r = migrate { path }
      assert.are.equal(65, r.status)
      assert.are.equal("dynamo migrate: " .. path .. " returns a number, not a migration "
        .. "(return { table = \"...\", migrate = function(item) ... end }, or define a global function migrate)\n", r.stderr)
    end)

    it("a script with an unknown field, no table, or an unknown table", function()
      local path = bad_script("field.lua", "return { tabel = 'x', migrate = function() end }\n")
      local _, r = migrate { path }
      assert.are.equal(65, r.status)
      assert.are.equal("dynamo migrate: " .. path .. ": unknown field 'tabel' in the migration "
        .. "(it has table, index, filter, names, values, consistent, migrate)\n", r.stderr)
      path = bad_script("notable.lua", "function migrate(item) end\n")
      _, r = migrate { path }
      assert.are.equal(65, r.status)
      assert.are.equal("dynamo migrate: " .. path .. " names no table (return { table = \"...\", migrate = ... } or pass --table)\n", r.stderr)
      _, r = migrate { path, "--table", "no_such_table" }
      assert.are.equal(65, r.status)
      assert.are.equal("dynamo migrate: " .. path .. ": table 'no_such_table' does not exist\n", r.stderr)
      path = bad_script("raises.lua", "error('cannot start')\n")
      _, r = migrate { path }
      assert.are.equal(65, r.status)
      assert.are.equal("dynamo migrate: " .. path .. ": the script failed while loading: " .. path .. ":1: cannot start\n", r.stderr)
    end)

    it("bad flags with exit status 64", function()
      local path = script("ok.lua", name, DOUBLE)
      local cases = {
        { { path, "--segment", "5/4" }, "dynamo migrate: bad value for --segment: I/N with 1 <= I <= N expected, got '5/4'\n" },
        { { path, "--segment", "0/4" }, "dynamo migrate: bad value for --segment: I/N with 1 <= I <= N expected, got '0/4'\n" },
        { { path, "--segmnts", "4" }, "dynamo migrate: unknown flag '--segmnts'; see dynamo migrate --help\n" },
        { { path, "--segments" }, "dynamo migrate: flag '--segments' needs a value (N)\n" },
        { { path, "--segments", "0" }, "dynamo migrate: bad value for --segments: a positive integer expected, got '0'\n" },
        { { path, "--max-wcu", "-5" }, "dynamo migrate: bad value for --max-wcu: a positive number expected, got '-5'\n" },
        { { path, "--max-wcu", "fast" }, "dynamo migrate: bad value for --max-wcu: a positive number expected, got 'fast'\n" },
        { { path, "--dry-run=yes" }, "dynamo migrate: flag '--dry-run' takes no value\n" },
        { { path, "--progress", "fancy" }, "dynamo migrate: bad value for --progress: auto, bar, lines or off expected, got 'fancy'\n" },
        { { path, "--segments", "2", "--segments", "3" }, "dynamo migrate: flag '--segments' given twice\n" },
        { {}, "dynamo migrate: missing SCRIPT; usage: dynamo migrate SCRIPT [--segments N] [--segment I/N] [--max-wcu X] [--max-rcu X] [--dry-run] [flags]\n" },
        { { path, "extra" }, "dynamo migrate: unexpected argument 'extra'; usage: dynamo migrate SCRIPT [--segments N] [--segment I/N] [--max-wcu X] [--max-rcu X] [--dry-run] [flags]\n" },
      }
      for _, c in ipairs(cases) do
        local _, r = migrate(c[1])
        assert.are.equal(c[2], r.stderr)
        assert.are.equal(64, r.status, c[2])
      end
    end)

    it("a resume with other segments than the state file's", function()
      local path = script("resume.lua", name, DOUBLE)
      local _, r = migrate { path, "--segments", "2", "--progress", "off" }
      assert.are.equal(0, r.status, r.stderr)
      local state_path = "resume." .. name .. ".state.json"
      -- Make it look unfinished, then resume with other flags.
      local st = cli.slurp(dir .. "/" .. state_path):gsub('"status":"done"', '"status":"running"', 1)
      write_file(dir .. "/" .. state_path, st)
      _, r = migrate { path, "--segments", "3", "--progress", "off" }
      assert.are.equal(64, r.status)
      assert.are.equal("dynamo migrate: the state file " .. state_path .. " is for segments 0-1 of 2 (--segments 2); "
        .. "pass the same flags to resume, --state FILE for another state file, or --restart to start over\n", r.stderr)
    end)
  end)
end)
