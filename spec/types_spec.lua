-- dynamo.list, map, binary and set: constructors, set methods, and what
-- the codec makes of them.
local dynamo = require "dynamo"
local core = require "dynamo.core"

local codec = core.codec {}

describe("dynamo.set", function()
  it("drops duplicates, as DynamoDB refuses them", function()
    local s = dynamo.set { "a", "b", "a", "c", "b" }
    assert.are.same({ "a", "b", "c" }, { s[1], s[2], s[3], s[4] })
    assert.are.equal(3, #s)
    local n = dynamo.set { 1, 2.0, 2, 1 }
    assert.are.equal(2, #n)
    local b = dynamo.set { dynamo.binary("x"), dynamo.binary("x"), dynamo.binary("y") }
    assert.are.equal(2, #b)
  end)

  it("tests membership", function()
    local s = dynamo.set { "admin", "dev" }
    assert.is_true(s:has("dev"))
    assert.is_false(s:has("ops"))
    assert.is_true(dynamo.set { 1, 2 }:has(2.0))
    assert.is_true(dynamo.set { dynamo.binary("\0\1") }:has(dynamo.binary("\0\1")))
    assert.is_true(dynamo.set { dynamo.binary("\0\1") }:has("\0\1"))
  end)

  it("adds, removes and iterates", function()
    local s = dynamo.set { "a" }:add("b"):add("a"):add("c"):remove("a")
    local seen = {}
    for v in s:values() do seen[#seen + 1] = v end
    assert.are.same({ "b", "c" }, seen)
    assert.has_error(function() s:add(nil) end, "bad argument #1 to 'add' (value expected)")
  end)

  it("is how decoded sets behave", function()
    local item = codec:decode('{"Item":{"r":{"SS":["x","y"]},"n":{"NS":["1","2.5"]},"b":{"BS":["AAE="]}}}',
      { Item = { ["{}"] = "V" } }).Item
    assert.is_true(dynamo.is_set(item.r))
    assert.is_true(item.r:has("y"))
    assert.is_true(item.n:has(2.5))
    assert.is_true(item.b:has("\0\1"))
    local n = 0
    for _ in item.r:values() do n = n + 1 end
    assert.are.equal(2, n)
  end)

  it("rejects a non-table", function()
    assert.has_error(function() dynamo.set("a") end, "bad argument #1 to 'set' (table expected, got string)")
  end)
end)

describe("markers", function()
  local cases = {
    { "empty list", dynamo.list {}, '{"L":[]}' },
    { "empty map", dynamo.map {}, '{"M":{}}' },
    { "plain empty table", {}, '{"M":{}}' },
    { "binary", dynamo.binary("\0\1\2"), '{"B":"AAEC"}' },
    { "null", dynamo.null, '{"NULL":true}' },
    { "string set", dynamo.set { "a" }, '{"SS":["a"]}' },
  }
  for _, c in ipairs(cases) do
    it("encode " .. c[1], function()
      assert.are.equal(c[3], codec:encode(c[2], "V"))
    end)
  end

  it("reject wrong arguments", function()
    assert.has_error(function() dynamo.list(1) end, "bad argument #1 to 'list' (table expected, got number)")
    assert.has_error(function() dynamo.map("x") end, "bad argument #1 to 'map' (table expected, got string)")
    assert.has_error(function() dynamo.binary({}) end, "bad argument #1 to 'binary' (string expected, got table)")
  end)

  it("null is cjson.null", function()
    assert.are.equal(require("cjson").null, dynamo.null)
  end)
end)
