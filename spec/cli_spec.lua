-- The dynamo program's everyday commands against DynamoDB Local: JSON in
-- and out, export then import reproducing a table exactly (every type),
-- import --resume, run and shell, --help, and bad input giving exact
-- errors and exit statuses.
local dynamo = require "dynamo"
local servers = require "support.servers"
local cli = require "support.cli"

local server = servers.get("local")
local db = servers.client(server)

local function dyn(args, opts)
  local full = { "--endpoint", server.url }
  for _, a in ipairs(args) do full[#full + 1] = a end
  return cli.run(full, opts)
end

-- Tables made here, deleted at the end whatever happened.
local created = {}
local function new_table(prefix, extra)
  local name = servers.table_name(prefix)
  servers.create_table(db, name, extra or { sort = false })
  created[#created + 1] = name
  return name
end

local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

local function lines(text)
  local list = {}
  for line in text:gmatch("[^\n]+") do list[#list + 1] = line end
  return list
end

-- A value as canonical typed text: maps by sorted key, sets sorted, so
-- that two equal items give the same text whatever the order of their
-- maps' keys.
local core = require "dynamo.core"
local codec = core.codec {}
local function canon(v)
  local mt = getmetatable(v)
  if type(v) ~= "table" or mt == core.binary_mt then
    return codec:encode({ v = v }, { ["{}"] = "V" }):sub(6, -2)
  end
  local parts = {}
  if mt == core.set_mt then
    for i = 1, #v do parts[i] = canon(v.binary and dynamo.binary(v[i]) or v[i]) end
    table.sort(parts)
    return "set(" .. table.concat(parts, ",") .. ")"
  end
  if mt == core.list_mt or #v > 0 then
    for i = 1, #v do parts[i] = canon(v[i]) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  for k, x in pairs(v) do parts[#parts + 1] = k .. "=" .. canon(x) end
  table.sort(parts)
  return "{" .. table.concat(parts, ",") .. "}"
end

-- Every item of a table, canonical and sorted: equal for two tables
-- exactly when they hold the same items.
local function snapshot(name)
  local out = {}
  for item in db:scan_items { table = name, consistent = true } do out[#out + 1] = canon(item) end
  table.sort(out)
  return out
end

describe("dynamo (the program) on DynamoDB Local", function()
  local name, dir
  setup(function()
    dir = cli.tempdir()
    name = new_table("cli")
  end)
  teardown(function()
    for _, t in ipairs(created) do db:delete_table { TableName = t } end
    cli.cleanup(dir)
  end)

  describe("--help", function()
    it("lists the commands and global flags", function()
      local r = cli.run { "--help" }
      assert.are.equal(0, r.status)
      assert.are.equal("", r.stderr)
      assert.matches("usage: dynamo [global flags] COMMAND [arguments] [flags]", r.stdout, 1, true)
      for _, cmd in ipairs { "run", "shell", "tables", "describe", "get", "put", "delete", "query", "scan",
        "export", "import", "migrate", "status" } do
        assert.matches("\n  " .. cmd .. " +%S", r.stdout)
      end
      for _, flag in ipairs { "--endpoint URL", "--region R", "--profile P", "--log-level L", "--help" } do
        assert.matches("\n  " .. flag, r.stdout, 1, true)
      end
      assert.are.same(r, cli.run { "help" })
    end)

    it("describes every command", function()
      for _, cmd in ipairs { "run", "shell", "tables", "describe", "get", "put", "delete", "query", "scan",
        "export", "import", "migrate", "status" } do
        local r = cli.run { cmd, "--help" }
        assert.are.equal(0, r.status)
        assert.matches("^usage: dynamo " .. cmd, r.stdout)
        local tail = "\nglobal flags: --endpoint URL, --region R, --profile P, --log-level L, --help\n"
        assert.are.equal(tail, r.stdout:sub(-#tail))
        assert.are.same(r, cli.run { "help", cmd })
      end
      local r = cli.run { "migrate", "--help" }
      for _, flag in ipairs { "--segments N", "--segment I/N", "--max-wcu X", "--max-rcu X", "--dry-run", "--state FILE",
        "--failed FILE", "--checkpoint-table T", "--status", "--restart", "--progress MODE", "--progress-interval S" } do
        assert.matches("\n  " .. flag, r.stdout, 1, true)
      end
      -- --help wins over any other mistake on the line.
      assert.are.equal(0, cli.run({ "migrate", "--bogus", "--help" }).status)
    end)
  end)

  describe("everyday commands", function()
    it("put, get, delete with plain JSON, exact numbers and tagged types", function()
      local item = '{"b":{"$binary":"AAEC"},"big":12345678901234567890123456789012345678,"f":0.1,'
        .. '"l":[1,"x",null,true,[],{}],"m":{"$map":{"$set":"literal"}},"ns":{"$set":[1,2.5]},"pk":"u1",'
        .. '"ss":{"$set":["a","b"]},"t":"caf\\u00e9 \\"q\\""}'
      local r = dyn { "put", name, item }
      assert.are.equal(0, r.status, r.stderr)
      assert.are.equal("", r.stdout)
      r = dyn { "get", name, '{"pk": "u1"}' }
      assert.are.equal(0, r.status, r.stderr)
      assert.are.equal('{"b":{"$binary":"AAEC"},"big":12345678901234567890123456789012345678,"f":0.1,'
        .. '"l":[1,"x",null,true,[],{}],"m":{"$map":{"$set":"literal"}},"ns":{"$set":[1,2.5]},"pk":"u1",'
        .. '"ss":{"$set":["a","b"]},"t":"café \\"q\\""}\n', r.stdout)
      -- What the library reads is what the JSON said.
      local got = assert(db:get_item { table = name, key = { pk = "u1" } }).Item
      assert.are.equal("12345678901234567890123456789012345678", tostring(got.big))
      assert.are.equal("\0\1\2", got.b[1])
      assert.is_true(got.ss:has("a") and got.ss:has("b"))
      assert.are.equal("literal", got.m["$set"])

      r = dyn { "get", name, '{"pk": {"S": "u1"}}', "--typed" }
      assert.are.equal(0, r.status, r.stderr)
      assert.matches('"big":{"N":"12345678901234567890123456789012345678"}', r.stdout, 1, true)
      assert.matches('"b":{"B":"AAEC"}', r.stdout, 1, true)

      r = dyn { "get", name, '{"pk": "nobody"}' }
      assert.are.same({ 0, "null\n", "" }, { r.status, r.stdout, r.stderr })

      r = dyn { "delete", name, '{"pk": "u1"}' }
      assert.are.equal(0, r.status, r.stderr)
      assert.matches('^{"b":{"$binary":"AAEC"}', r.stdout)
      r = dyn { "delete", name, '{"pk": "u1"}' }
      assert.are.same({ 0, "null\n" }, { r.status, r.stdout })
    end)

    it("put - reads JSON lines from stdin; --if-absent refuses to overwrite", function()
      local r = dyn({ "put", name, "-" }, { stdin = '{"pk":"s1","n":1}\n{"pk":"s2","n":2}\n\n{"pk":"s3","n":3}\n' })
      assert.are.equal(0, r.status, r.stderr)
      for i = 1, 3 do
        assert.are.equal(i, assert(db:get_item { table = name, key = { pk = "s" .. i } }).Item.n)
      end
      r = dyn { "put", name, '{"pk":"s1","n":100}', "--if-absent" }
      assert.are.equal(1, r.status)
      assert.are.equal("dynamo put: an item with that key exists in '" .. name .. "'\n", r.stderr)
      assert.are.equal(1, assert(db:get_item { table = name, key = { pk = "s1" } }).Item.n)
      r = dyn { "put", name, '{"pk":"s9","n":9}', "--if-absent" }
      assert.are.equal(0, r.status, r.stderr)
    end)

    it("tables, describe, scan and query", function()
      local r = dyn { "tables" }
      assert.are.equal(0, r.status, r.stderr)
      local names = assert(require("dynamo.cli.json").decode(r.stdout))
      local found = false
      for _, n in ipairs(names) do if n == name then found = true end end
      assert.is_true(found, r.stdout)

      r = dyn { "describe", name }
      assert.are.equal(0, r.status, r.stderr)
      assert.matches('\n  "TableName": "' .. name .. '",?\n', r.stdout)
      assert.matches('"KeySchema": [\n    {\n      "AttributeName": "pk",\n      "KeyType": "HASH"\n    }\n  ]', r.stdout, 1, true)

      r = dyn { "scan", name }
      assert.are.equal(0, r.status, r.stderr)
      local got = lines(r.stdout)
      table.sort(got)
      assert.are.same({ '{"n":1,"pk":"s1"}', '{"n":2,"pk":"s2"}', '{"n":3,"pk":"s3"}', '{"n":9,"pk":"s9"}' }, got)
      r = dyn { "scan", name, "--segments", "3" }
      local par = lines(r.stdout)
      table.sort(par)
      assert.are.same(got, par)
      r = dyn { "scan", name, "--limit", "2", "--typed" }
      assert.are.equal(2, #lines(r.stdout))
      assert.matches('^{.*"pk":{"S":"s%d"}', r.stdout)

      r = dyn { "query", name, "--key", "pk=s2" }
      assert.are.same({ 0, '{"n":2,"pk":"s2"}\n' }, { r.status, r.stdout })
      r = dyn { "query", name, "--key", '{"pk": "s3"}' }
      assert.are.same({ 0, '{"n":3,"pk":"s3"}\n' }, { r.status, r.stdout })
    end)

    it("--log-level debug logs each request on stderr", function()
      local r = dyn { "--log-level", "debug", "get", name, '{"pk":"s1"}' }
      assert.are.equal(0, r.status, r.stderr)
      assert.matches("dynamo debug: GetItem " .. name .. " 200, 1 attempt, [%d.]+ ms\n", r.stderr)
      r = dyn { "get", name, '{"pk":"s1"}', "--log-level=off" }
      assert.are.equal("", r.stderr)
    end)

    it("query with --begins-with, --desc and --limit on a sort key", function()
      local t = new_table("cliq", { AttributeDefinitions = {
        { AttributeName = "pk", AttributeType = "S" }, { AttributeName = "sk", AttributeType = "S" } },
        KeySchema = { { AttributeName = "pk", KeyType = "HASH" }, { AttributeName = "sk", KeyType = "RANGE" } } })
      for _, sk in ipairs { "2025-12", "2026-01", "2026-02", "2026-03" } do
        assert(db:put_item { table = t, item = { pk = "c1", sk = sk } })
      end
      local r = dyn { "query", t, "--key", "pk=c1", "--begins-with", "sk=2026-", "--desc", "--limit", "2" }
      assert.are.equal(0, r.status, r.stderr)
      assert.are.equal('{"pk":"c1","sk":"2026-03"}\n{"pk":"c1","sk":"2026-02"}\n', r.stdout)
    end)
  end)

  describe("export and import", function()
    it("reproduce a table exactly, every type included", function()
      local src, dst = new_table("cli_src"), new_table("cli_dst")
      local items = {
        { pk = "all", s = "text é", n38 = dynamo.decimal("12345678901234567890123456789012345678"),
          tiny = dynamo.decimal("1E-130"), neg = -42, f = 0.1, b = dynamo.binary("\0\1\255"),
          ss = dynamo.set { "a", "b" }, ns = dynamo.set { 1, dynamo.decimal("2.25"), dynamo.decimal("99999999999999999999999999999999999999") },
          bs = dynamo.set { dynamo.binary("x"), dynamo.binary("\0") }, yes = true, no = false, z = dynamo.null,
          l = { 1, "two", { three = 3 }, dynamo.list {}, {} }, m = { inner = { deep = { 1, 2 } }, e = {} },
          el = dynamo.list {}, em = {} },
      }
      for i = 1, 60 do items[#items + 1] = { pk = string.format("p%03d", i), n = i * 1.5, tag = "t" .. i % 7 } end
      assert(db:batch_write((function()
        local list = {}
        for i, it in ipairs(items) do list[i] = { table = src, put = it } end
        return list
      end)()))
      local file = dir .. "/export.jsonl"
      local r = dyn { "export", src, "--out", file, "--segments", "2", "--progress", "off" }
      assert.are.equal(0, r.status, r.stderr)
      assert.matches("^export " .. src .. ": 61 items to " .. file .. " in [%d.]+ s\n$", r.stderr)
      local exported = cli.slurp(file)
      assert.are.equal(61, #lines(exported))
      assert.matches('"n38":{"N":"12345678901234567890123456789012345678"}', exported, 1, true)
      assert.matches('"el":{"L":[]}', exported, 1, true)
      assert.matches('"em":{"M":{}}', exported, 1, true)
      assert.matches('"z":{"NULL":true}', exported, 1, true)

      r = dyn { "import", dst, file, "--progress", "off" }
      assert.are.equal(0, r.status, r.stderr)
      assert.matches("^import " .. dst .. ": 61 items from " .. file .. " in [%d.]+ s\n$", r.stderr)
      local a, b = snapshot(src), snapshot(dst)
      assert.are.equal(61, #a)
      assert.are.same(a, b)

      -- To stdout too.
      r = dyn { "export", src, "--progress", "off" }
      assert.are.equal(61, #lines(r.stdout))
    end)

    it("import stops at a bad line and --resume continues after the lines safely written", function()
      local dst = new_table("cli_imp")
      local good, all = {}, {}
      for i = 1, 1500 do
        local line = string.format('{"pk":{"S":"r%04d"},"n":{"N":"%d"}}', i, i)
        good[i] = line
        all[i] = i == 1200 and '{"pk":{"S":"r1200"},"n":{"N":"not a number"}}' or line
      end
      local file = write_file(dir .. "/imp.jsonl", table.concat(all, "\n") .. "\n")
      local r = dyn { "import", dst, file, "--writers", "1", "--progress", "off" }
      assert.are.equal(65, r.status)
      assert.are.equal("import " .. dst .. ": stopped: " .. file .. ":1200: n: invalid number \"not a number\" at byte 30\n"
        .. "  1199 lines safely written; --resume continues from there (state: " .. file .. "." .. dst .. ".import.json)\n", r.stderr)
      write_file(file, table.concat(good, "\n") .. "\n")
      r = dyn { "import", dst, file, "--resume", "--progress", "lines", "--progress-interval", "0.01" }
      assert.are.equal(0, r.status, r.stderr)
      assert.matches("import " .. dst .. ": %d+/1500 imported", r.stderr)
      assert.matches("import " .. dst .. ": 301 items from " .. file, r.stderr, 1, true)
      local n = 0
      for _ in db:scan_items { table = dst } do n = n + 1 end
      assert.are.equal(1500, n)
      r = dyn { "import", dst, file, "--resume" }
      assert.are.equal(0, r.status)
      assert.are.equal("import " .. dst .. ": already done (" .. file .. "." .. dst .. ".import.json: 1500 lines)\n", r.stderr)
    end)
  end)

  describe("run", function()
    it("runs a script with dynamo, db, arg and ...", function()
      local path = write_file(dir .. "/script.lua", string.format([[
local t, who = ...
assert(arg[0]:match("script%%.lua$") and arg[1] == t and arg[2] == who)
assert(db:put_item { table = t, item = { pk = "run-" .. who, via = dynamo._VERSION } })
local got = db:get_item { table = t, key = { pk = "run-" .. who } }
print(got.Item.pk, #arg)
]]))
      local r = dyn { "run", path, name, "ada" }
      assert.are.equal(0, r.status, r.stderr)
      assert.are.equal("run-ada\t2\n", r.stdout)
    end)

    it("reports a script's error in one line, with status 1", function()
      local path = write_file(dir .. "/boom.lua", "local x = nil\nerror('boom: ' .. tostring(x))\n")
      local r = dyn { "run", path }
      assert.are.same({ 1, "", "dynamo run: " .. path .. ":2: boom: nil\n" }, { r.status, r.stdout, r.stderr })
      -- A dynamo error value reads as its text.
      path = write_file(dir .. "/dynerr.lua", "local res, err = db:get_item { table = 'no_such_table', key = { pk = 'x' } }\nerror(err)\n")
      r = dyn { "run", path }
      assert.are.equal(1, r.status)
      assert.matches("^dynamo run: ResourceNotFoundException: Cannot do operations on a non%-existent table %(GetItem, HTTP 400, request id [%w-]+%)\n$", r.stderr)
      -- --traceback says where.
      r = dyn { "run", "--traceback", dir .. "/boom.lua" }
      assert.matches("stack traceback:", r.stderr, 1, true)
      -- A returned integer is the exit status.
      path = write_file(dir .. "/seven.lua", "return 7\n")
      assert.are.equal(7, dyn({ "run", path }).status)
      -- A script that does not compile.
      path = write_file(dir .. "/syntax.lua", "print('a'\n")
      r = dyn { "run", path }
      assert.are.same({ 65, "dynamo run: " .. path .. ":2: ')' expected (to close '(' at line 1) near <eof>\n" }, { r.status, r.stderr })
      r = dyn { "run", dir .. "/missing.lua" }
      assert.are.same({ 65, "dynamo run: cannot open " .. dir .. "/missing.lua: No such file or directory\n" }, { r.status, r.stderr })
    end)
  end)

  describe("shell", function()
    it("evaluates lines with a ready db and prints results as JSON", function()
      local input = table.concat({
        "1 + 1",
        string.format("db:put_item { table = %q, item = { pk = 'sh1', n = 5, tags = dynamo.set { 'x' } } }", name),
        string.format("db:get_item { table = %q, key = { pk = 'sh1' } }", name),
        "x = 40",
        "x + 2, 'text', nil",
        "for i = 1, 2 do",
        "  print('loop', i)",
        "end",
        "error('oops')",
        string.format("select(2, db:get_item { table = 'no_such_table', key = { pk = 'x' } })", name),
        "exit",
        "print('not reached')",
      }, "\n") .. "\n"
      local r = dyn({ "shell" }, { stdin = input })
      assert.are.equal(0, r.status, r.stderr)
      local out = lines(r.stdout)
      assert.are.equal("2", out[1])
      assert.are.equal("{}", out[2])
      assert.are.equal('{"Item":{"n":5,"pk":"sh1","tags":{"$set":["x"]}}}', out[3])
      assert.are.equal("42\ttext", out[4])
      assert.are.equal("loop\t1", out[5])
      assert.are.equal("loop\t2", out[6])
      assert.matches("^ResourceNotFoundException: Cannot do operations on a non%-existent table", out[7])
      assert.are.equal(7, #out)
      assert.are.equal("error: shell:1: oops\n", r.stderr)
      -- End of input leaves too.
      r = dyn({ "shell" }, { stdin = "2 * 21\n" })
      assert.are.same({ 0, "42\n" }, { r.status, r.stdout })
    end)
  end)

  describe("refuses bad input", function()
    it("with exact messages and exit statuses", function()
      local cases = {
        { { "bogus" }, 64, "dynamo: unknown command 'bogus'; see dynamo --help\n" },
        { { "--regoin", "x", "tables" }, 64, "dynamo: unknown flag '--regoin'; see dynamo --help\n" },
        { { "--endpoint" }, 64, "dynamo: flag '--endpoint' needs a value (URL)\n" },
        { { "scan" }, 64, "dynamo scan: missing TABLE; usage: dynamo scan TABLE [--limit N] [--segments N] [--index I] [--consistent] [--typed]\n" },
        { { "scan", name, "--limit", "0" }, 64, "dynamo scan: bad value for --limit: a positive integer expected, got '0'\n" },
        { { "scan", name, "--segmnts", "2" }, 64, "dynamo scan: unknown flag '--segmnts'; see dynamo scan --help\n" },
        { { "get", name }, 64, "dynamo get: missing KEY_JSON; usage: dynamo get TABLE KEY_JSON [--consistent] [--typed]\n" },
        { { "get", name, "{}", "extra" }, 64, "dynamo get: unexpected argument 'extra'; usage: dynamo get TABLE KEY_JSON [--consistent] [--typed]\n" },
        { { "get", name, '{"pk":' }, 65, "dynamo get: KEY_JSON: invalid JSON at byte 7: unexpected end\n" },
        { { "get", name, '[1]' }, 65, "dynamo get: KEY_JSON: a JSON object expected\n" },
        { { "put", name, '"text"' }, 65, "dynamo put: ITEM_JSON: a JSON object expected\n" },
        { { "put", name, '{"pk":"x1"} [2]' }, 65, "dynamo put: ITEM_JSON: item 2 is not a JSON object\n" },
        { { "put", name, '{"pk":"a","s":{"$set":[1,"x"]}}' }, 65, "dynamo put: ITEM_JSON: invalid JSON at byte 31: \"$set\" elements are all of one type\n" },
        { { "put", name, '{"pk":"a","n":1e999}' }, 65, "dynamo put: ITEM_JSON: invalid JSON at byte 15: number out of range \"1e999\"\n" },
        { { "query", name }, 64, "dynamo query: missing --key; usage: dynamo query TABLE --key KEY [flags]\n" },
        { { "query", name, "--key", "pk" }, 64, "dynamo query: bad value for --key: NAME=VALUE or a JSON object expected, got 'pk'\n" },
        { { "--log-level", "loud", "tables" }, 64, "dynamo: bad value for --log-level: off, error, warn, info or debug expected, got 'loud'\n" },
        { { "import", name, "-", "--resume" }, 64, "dynamo import: --resume needs a FILE (not stdin)\n" },
        { { "status" }, 64, "dynamo status: missing STATEFILE; usage: dynamo status STATEFILE... [--checkpoint-table T --id NAME] [--json]\n" },
      }
      for _, c in ipairs(cases) do
        local r = dyn(c[1])
        assert.are.equal(c[3], r.stderr)
        assert.are.equal(c[2], r.status, c[3])
      end
      -- A table that does not exist is a failed request (status 1).
      local r = dyn { "get", "no_such_table", '{"pk":"a"}' }
      assert.are.equal(1, r.status)
      assert.matches("^dynamo get: ResourceNotFoundException: Cannot do operations on a non%-existent table %(GetItem", r.stderr)
    end)

  end)

  describe("configuration", function()
    it("without a region, says where one comes from", function()
      local r = cli.run({ "tables" }, { env = { AWS_REGION = false, AWS_DEFAULT_REGION = false, AWS_CONFIG_FILE = "/nonexistent",
        HOME = "/nonexistent" } })
      assert.are.same({ 64, "dynamo tables: no region: pass --region, set AWS_REGION, or give the profile a region\n" },
        { r.status, r.stderr })
    end)

    it("takes its defaults from host.config inside the dynamo program, under the flags", function()
      local context = require "dynamo.cli.context"
      rawset(_G, "host", { config = { endpoint = server.url, region = "eu-west-1", profile = "", log_level = "warn" } })
      local ok, ctx = pcall(context.new, { region = "us-east-1" })
      rawset(_G, "host", nil)
      assert(ok, ctx)
      assert.are.same({ server.url, "us-east-1", nil, "warn" }, { ctx.endpoint, ctx.region, ctx.profile, ctx.log_level })
      local client = ctx:client()
      assert.are.equal(server.url .. "/", client.url)
      assert.are.equal("us-east-1", client.region)
      assert.are.equal("warn", client.log.level)
      -- Without host, nothing changes.
      ctx = context.new {}
      assert.are.same({}, { ctx.endpoint, ctx.region, ctx.profile, ctx.log_level })
    end)

    it("takes the endpoint, region and credentials from a profile and the flags", function()
      local home = cli.tempdir()
      os.execute("env -u LD_PRELOAD mkdir -p " .. cli.q(home .. "/.aws"))
      write_file(home .. "/.aws/config", "[profile local]\nregion = us-east-1\n")
      write_file(home .. "/.aws/credentials", "[local]\naws_access_key_id = AKIDTEST\naws_secret_access_key = test-secret\n")
      local env = { HOME = home, AWS_REGION = false, AWS_ACCESS_KEY_ID = "WRONG", AWS_SECRET_ACCESS_KEY = "wrong" }
      -- The profile's keys (DynamoDB Local keeps one database per key id and
      -- region, so the table is only visible with the right ones).
      local r = cli.run({ "--endpoint", server.url, "get", name, '{"pk":"s2"}', "--profile", "local" }, { env = env })
      assert.are.same({ 0, '{"n":2,"pk":"s2"}\n' }, { r.status, r.stdout }, r.stderr)
      r = cli.run({ "--endpoint", server.url, "--profile", "nobody", "tables" }, { env = env })
      assert.are.equal(1, r.status)
      assert.matches("no profile 'nobody'", r.stderr, 1, true)
      cli.cleanup(home)
    end)
  end)
end)
