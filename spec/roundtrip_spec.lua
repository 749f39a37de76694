-- Property test: random nested values (fixed seed) go through put_item to
-- each real server and come back unchanged via get_item. And the numbers
-- the issue names round-trip exactly through DynamoDB Local.
local dynamo = require "dynamo"
local core = require "dynamo.core"
local servers = require "support.servers"

-- xorshift64*: the same sequence on every machine, independent of math.random.
local function prng(seed)
  local x = seed
  return function(n)   -- an integer in 1..n
    x = x ~ (x >> 12); x = x ~ (x << 25); x = x ~ (x >> 27)
    local r = (x * 2685821657736338717) >> 1
    return r % n + 1
  end
end

local CHARS = { "a", "b", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\0", "é", "€", "😀", "日本", "\u{7f}" }

local function generator(rand)
  local gen
  local function str(max)
    local parts = {}
    for i = 1, rand(max + 1) - 1 do parts[i] = CHARS[rand(#CHARS)] end
    return table.concat(parts)
  end
  local function digits(n)
    local t = { tostring(rand(9)) }
    for i = 2, n do t[i] = tostring(rand(10) - 1) end
    return table.concat(t)
  end
  local function number()
    local k = rand(5)
    if k == 1 then return rand(2001) - 1001 end
    if k == 2 then return (rand(2) == 1 and -1 or 1) * (rand(1 << 40) << rand(22)) end
    if k == 3 then return (rand(2000001) - 1000001) / (10 ^ rand(12)) end
    if k == 4 then return tonumber(digits(rand(17)) .. "e" .. (rand(80) - 40)) end
    return dynamo.decimal((rand(2) == 1 and "-" or "") .. digits(rand(38)) .. "E" .. (rand(150) - 100))
  end
  local function bytes(max)
    local t = {}
    for i = 1, rand(max + 1) - 1 do t[i] = string.char(rand(256) - 1) end
    return table.concat(t)
  end
  local function set()
    local k, t = rand(3), {}
    for i = 1, rand(5) do
      t[i] = k == 1 and ("s" .. str(6)) or k == 2 and number() or dynamo.binary("b" .. bytes(6))
    end
    return dynamo.set(t)
  end
  function gen(depth)
    local k = rand(depth >= 3 and 8 or 11)
    if k == 1 then return str(12) end
    if k == 2 or k == 3 then return number() end
    if k == 4 then return rand(2) == 1 end
    if k == 5 then return dynamo.null end
    if k == 6 then return dynamo.binary(bytes(12)) end
    if k == 7 or k == 8 then return set() end
    if k == 9 or k == 10 then
      local t = {}
      for i = 1, rand(5) - 1 do t[i] = gen(depth + 1) end
      return #t == 0 and dynamo.list {} or t
    end
    local t = {}
    for _ = 1, rand(5) - 1 do t["k" .. str(5)] = gen(depth + 1) end
    return t
  end
  return gen
end

-- A canonical text for a value: sets sorted, numbers as exact decimals,
-- lists and maps told apart the way the codec tells them apart.
local norm
local function sorted_join(list) table.sort(list) return table.concat(list, ",") end
function norm(v)
  local tv = type(v)
  if tv == "string" then return string.format("S%q", v) end
  if tv == "boolean" then return "BOOL:" .. tostring(v) end
  if v == dynamo.null then return "NULL" end
  if tv == "number" or (tv == "userdata" and getmetatable(v) ~= nil and getmetatable(v).__name == "dynamo.decimal") then
    return "N:" .. tostring(dynamo.decimal(v))
  end
  local mt = getmetatable(v)
  if mt == core.binary_mt then return string.format("B%q", v[1]) end
  if mt == core.set_mt then
    -- A decoded BS holds plain byte strings and says binary = true.
    local parts = {}
    for i = 1, #v do
      local e = v[i]
      parts[i] = v.binary and type(e) == "string" and string.format("B%q", e) or norm(e)
    end
    return "SET{" .. sorted_join(parts) .. "}"
  end
  local is_list = mt == core.list_mt or (mt ~= core.map_mt and v[1] ~= nil)
  if is_list then
    local parts = {}
    for i = 1, #v do parts[i] = norm(v[i]) end
    return "L[" .. table.concat(parts, ",") .. "]"
  end
  local parts = {}
  for k, x in pairs(v) do parts[#parts + 1] = string.format("%q", k) .. "=" .. norm(x) end
  return "M{" .. sorted_join(parts) .. "}"
end

for _, server in ipairs(servers.list()) do
  describe("round trips on " .. server.name, function()
    local db = servers.client(server)
    local name = servers.table_name("rt")
    setup(function() servers.create_table(db, name, { sort = false }) end)
    teardown(function() db:delete_table { TableName = name } end)

    it("300 random nested items come back unchanged", function()
      local gen = generator(prng(20261121))
      for i = 1, 300 do
        local item = { pk = "item" .. i }
        for j = 1, (i % 6) + 1 do item["a" .. j] = gen(1) end
        local ok, err = db:put_item { TableName = name, Item = item }
        assert(ok, "item " .. i .. ": " .. tostring(err))
        local got = assert(db:get_item { TableName = name, Key = { pk = item.pk }, ConsistentRead = true })
        assert.are.equal(norm(item), norm(got.Item), "item " .. i)
      end
    end)
  end)
end

describe("exact numbers through DynamoDB Local", function()
  local db = servers.client(servers.get("local"))
  local name = servers.table_name("num")
  setup(function() servers.create_table(db, name, { sort = false }) end)
  teardown(function() db:delete_table { TableName = name } end)

  local cases = {
    { "38 digits", dynamo.decimal("12345678901234567890123456789012345678"), "12345678901234567890123456789012345678" },
    { "tiny negative", dynamo.decimal("-0.00000000000000000000000000000000000001"), "-0.00000000000000000000000000000000000001" },
    { "2^53 + 1", 9007199254740993, "9007199254740993" },
    { "1E+125", dynamo.decimal("1E+125"), "1E+125" },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      assert(db:put_item { TableName = name, Item = { pk = c[1], n = c[2] } })
      local got = assert(db:get_item { TableName = name, Key = { pk = c[1] } }).Item.n
      assert.is_true(dynamo.decimal(got):eq(dynamo.decimal(c[3])), tostring(got))
      if math.type(c[2]) == "integer" then
        assert.are.equal(c[2], got)
        assert.are.equal("integer", math.type(got))
      end
    end)
  end
end)

describe("number modes of a client", function()
  local server = servers.get("local")
  local name = servers.table_name("modes")
  local db = servers.client(server)
  setup(function()
    servers.create_table(db, name, { sort = false })
    assert(db:put_item { TableName = name, Item = { pk = "n", small = 7, half = 0.5,
      long = dynamo.decimal("3.14159265358979323846264338327950288") } })
  end)
  teardown(function() db:delete_table { TableName = name } end)

  local function get(numbers)
    local c = servers.client(server, { numbers = numbers })
    return assert(c:get_item { TableName = name, Key = { pk = "n" } }).Item
  end

  it("exact: integers, exact floats, decimals for the rest", function()
    local item = get(nil)
    assert.are.equal("integer", math.type(item.small))
    assert.are.equal(0.5, item.half)
    assert.are.equal("3.14159265358979323846264338327950288", tostring(item.long))
  end)

  it("float: plain Lua numbers", function()
    local item = get("float")
    assert.are.equal("float", math.type(item.long))
    assert.are.equal(7, item.small)
  end)

  it("decimal: every N a dynamo.decimal", function()
    local item = get("decimal")
    assert.are.equal("7", tostring(item.small))
    assert.are.equal("0.5", tostring(item.half))
    assert.is_true(item.small:eq(7))
  end)

  it("rejects an unknown mode, naming the option", function()
    assert.has_error(function() dynamo.new { endpoint = server.url, numbers = "big" } end,
      "bad argument 'numbers' to 'dynamo.new' (\"exact\", \"float\" or \"decimal\" expected, got \"big\")")
  end)
end)
