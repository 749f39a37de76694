-- dynamo.expr's condition operators c1 & c2, c1 | c2 and ~c: Lua 5.3+
-- syntax, so this file is for Lua 5.4 only (LuaJIT cannot parse it;
-- .ci/luajit leaves it out). all, any and none do the same everywhere and
-- are tested in expr_spec.lua; the first cases here check they agree.
local expr = require "dynamo.expr"

local attr, key = expr.attr, expr.key
local all, any, none = expr.all, expr.any, expr.none

local expr_cases = require "support.expr_cases"
local compile = expr_cases.compile
local function run_cases(method, list) return expr_cases.run(method, list, it, assert) end

describe("condition operators", function()
  local a, b, c = attr("a"):eq(1), attr("b"):eq(2), attr("c"):eq(3)
  run_cases("condition", {
    { "&", function() return a & b end, "#n1 = :v1 AND #n2 = :v2",
      { ["#n1"] = "a", ["#n2"] = "b" }, { [":v1"] = 1, [":v2"] = 2 }, "a = 1 AND b = 2" },
    { "|", function() return a | b end, "#n1 = :v1 OR #n2 = :v2",
      { ["#n1"] = "a", ["#n2"] = "b" }, { [":v1"] = 1, [":v2"] = 2 }, "a = 1 OR b = 2" },
    { "~", function() return ~a end, "NOT #n1 = :v1", { ["#n1"] = "a" }, { [":v1"] = 1 }, "NOT a = 1" },
    { "AND of ORs in parentheses", function() return (a | b) & c end, "(#n1 = :v1 OR #n2 = :v2) AND #n3 = :v3",
      { ["#n1"] = "a", ["#n2"] = "b", ["#n3"] = "c" }, { [":v1"] = 1, [":v2"] = 2, [":v3"] = 3 },
      "(a = 1 OR b = 2) AND c = 3" },
    { "OR of ANDs without", function() return a & b | c end, "#n1 = :v1 AND #n2 = :v2 OR #n3 = :v3",
      { ["#n1"] = "a", ["#n2"] = "b", ["#n3"] = "c" }, { [":v1"] = 1, [":v2"] = 2, [":v3"] = 3 },
      "a = 1 AND b = 2 OR c = 3" },
    { "NOT of AND", function() return ~(a & b) end, "NOT (#n1 = :v1 AND #n2 = :v2)",
      { ["#n1"] = "a", ["#n2"] = "b" }, { [":v1"] = 1, [":v2"] = 2 }, "NOT (a = 1 AND b = 2)" },
    { "NOT of NOT", function() return ~~a end, "NOT (NOT #n1 = :v1)", { ["#n1"] = "a" }, { [":v1"] = 1 },
      "NOT (NOT a = 1)" },
    { "NOT inside AND", function() return ~a & b end, "NOT #n1 = :v1 AND #n2 = :v2",
      { ["#n1"] = "a", ["#n2"] = "b" }, { [":v1"] = 1, [":v2"] = 2 }, "NOT a = 1 AND b = 2" },
    { "flattened chains", function() return a & b & c end, "#n1 = :v1 AND #n2 = :v2 AND #n3 = :v3",
      { ["#n1"] = "a", ["#n2"] = "b", ["#n3"] = "c" }, { [":v1"] = 1, [":v2"] = 2, [":v3"] = 3 },
      "a = 1 AND b = 2 AND c = 3" },
    { "between inside AND", function() return attr("x"):between(1, 2) & b end,
      "#n1 BETWEEN :v1 AND :v2 AND #n2 = :v2", { ["#n1"] = "x", ["#n2"] = "b" }, { [":v1"] = 1, [":v2"] = 2 },
      "x BETWEEN 1 AND 2 AND b = 2" },
  })

  it("give the same expressions as the function forms (LuaJIT has no & | ~)", function()
    local pairs_ = {
      { all { a, b }, a & b },
      { any { a, b }, a | b },
      { none(a), ~a },
      { all { any { a, b }, c }, (a | b) & c },
      { any { all { a, b }, c }, a & b | c },
      { none(all { a, b }), ~(a & b) },
      { none { a, b }, ~(a | b) },
      { all { a, all { b, c } }, a & b & c },
    }
    for i, p in ipairs(pairs_) do
      assert.are.equal(compile("condition", p[2]), compile("condition", p[1]), "case " .. i)
      assert.are.equal(tostring(p[2]), tostring(p[1]), "case " .. i)
    end
    assert.are.equal(a, all { a })
    assert.are.equal(a, any { a })
  end)

  it("make immutable and reusable conditions", function()
    local ab = a & b
    local _ = ab & c
    local _ = ~ab
    assert.are.equal("a = 1 AND b = 2", tostring(ab))
    assert.are.equal("#n1 = :v1 AND #n2 = :v2", (compile("condition", ab)))
    assert.are.equal("#n1 = :v1 AND #n2 = :v2", (compile("condition", ab)))
  end)

  it("show the issue's example", function()
    assert.are.equal('a.b = "x" AND n > 1', tostring(attr("a.b"):eq("x") & attr("n"):gt(1)))
  end)

  local errors = {
    { "& with a number", function() return attr("a"):eq(1) & 2 end, "bad operand to '&' (condition expected, got number)" },
    { "& with a path", function() return attr("a") & attr("b"):eq(1) end,
      "bad operand to '&' (condition expected, got path)" },
    { "| with a string", function() return "x" | attr("b"):eq(1) end, "bad operand to '|' (condition expected, got string)" },
  }
  for _, e in ipairs(errors) do
    it("reject " .. e[1], function() assert.has_error(e[2], e[3]) end)
  end

  it("point at the caller's line in errors", function()
    local ok, err = pcall(function() return attr("a"):eq(1) & 1 end)
    assert.is_false(ok)
    assert.matches("^[^:]*expr_operators_spec%.lua:%d+: ", err)
  end)
end)

describe("key condition operators", function()
  run_cases("key_condition", {
    { "eq on both", function() return key("pk"):eq("u1") & key("sk"):eq(5) end, "#n1 = :v1 AND #n2 = :v2",
      { ["#n1"] = "pk", ["#n2"] = "sk" }, { [":v1"] = "u1", [":v2"] = 5 }, 'pk = "u1" AND sk = 5' },
    { "lt", function() return key("pk"):eq("u1") & key("sk"):lt(5) end, "#n1 = :v1 AND #n2 < :v2",
      { ["#n1"] = "pk", ["#n2"] = "sk" }, { [":v1"] = "u1", [":v2"] = 5 } },
    { "between", function() return key("pk"):eq("u1") & key("sk"):between(1, 9) end,
      "#n1 = :v1 AND #n2 BETWEEN :v2 AND :v3", { ["#n1"] = "pk", ["#n2"] = "sk" },
      { [":v1"] = "u1", [":v2"] = 1, [":v3"] = 9 }, 'pk = "u1" AND sk BETWEEN 1 AND 9' },
    { "the sort key written first", function() return key("sk"):begins_with("o") & key("pk"):eq("u1") end,
      "#n1 = :v1 AND begins_with(#n2, :v2)", { ["#n1"] = "pk", ["#n2"] = "sk" }, { [":v1"] = "u1", [":v2"] = "o" } },
    { "attr() conditions", function() return attr("pk"):eq("u1") & attr("sk"):lt(3) end,
      "#n1 = :v1 AND #n2 < :v2", { ["#n1"] = "pk", ["#n2"] = "sk" }, { [":v1"] = "u1", [":v2"] = 3 } },
  })

  local errors = {
    { "OR of keys", function() return key("pk"):eq(1) | key("sk"):eq(2) end,
      "bad operand to '|' (key conditions cannot use OR)" },
    { "OR of a key and a filter", function() return attr("x"):eq(1) | key("sk"):eq(2) end,
      "bad operand to '|' (key conditions cannot use OR)" },
    { "NOT of a key", function() return ~key("pk"):eq(1) end, "bad operand to '~' (key conditions cannot use NOT)" },
    { "two non-eq conditions", function() return key("pk"):lt(1) & key("sk"):gt(2) end,
      "bad operand to '&' (one of the two keys needs eq (the partition key); 'pk' uses lt and 'sk' uses gt)" },
    { "two conditions on one key", function() return key("sk"):gt(1) & key("sk"):lt(9) end,
      "bad operand to '&' (two conditions on key 'sk')" },
    { "three keys", function() return key("a"):eq(1) & key("b"):eq(2) & key("c"):eq(3) end,
      "bad operand to '&' (3 conditions; a key condition has at most two (partition key and sort key))" },
  }
  for _, e in ipairs(errors) do
    it("reject " .. e[1], function() assert.has_error(e[2], e[3]) end)
  end

  local compile_errors = {
    { "a filter operator", attr("pk"):eq(1) & attr("sk"):contains("x"),
      "contains is not allowed in a key condition (on 'sk'; use eq, lt, le, gt, ge, between or begins_with)" },
    { "OR", attr("pk"):eq(1) | attr("sk"):eq(2), "key conditions cannot use OR" },
    { "NOT inside AND", attr("pk"):eq(1) & ~attr("sk"):eq(2), "key conditions cannot use NOT" },
    { "a key mixed with a filter", key("pk"):eq(1) & attr("x"):eq(2) & attr("y"):eq(3),
      "3 conditions; a key condition has at most two (partition key and sort key)" },
    { "the same key twice", attr("pk"):eq(1) & attr("pk"):eq(2), "two conditions on key 'pk'" },
  }
  for _, e in ipairs(compile_errors) do
    it("reject " .. e[1] .. " when compiled", function()
      assert.has_error(function() compile("key_condition", e[2]) end,
        "bad argument #1 to 'key_condition' (" .. e[3] .. ")")
    end)
  end
end)
