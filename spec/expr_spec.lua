-- dynamo.expr without a server: the exact strings, names and values each
-- builder produces through a context, tostring(), and every error.
local expr = require "dynamo.expr"
local dynamo = require "dynamo"

local attr, key, size = expr.attr, expr.key, expr.size
local all, any, none = expr.all, expr.any, expr.none
local update, if_not_exists = expr.update, expr.if_not_exists
local list_append, list_prepend = expr.list_append, expr.list_prepend

local expr_cases = require "support.expr_cases"
local compile = expr_cases.compile
local function run_cases(method, list) return expr_cases.run(method, list, it, assert) end

describe("expr.attr", function()
  local cases = {
    { "a name", "a", "#n1", { ["#n1"] = "a" }, "a" },
    { "nested names and indexes", "a.b[2].c", "#n1.#n2[2].#n3", { ["#n1"] = "a", ["#n2"] = "b", ["#n3"] = "c" }, "a.b[2].c" },
    { "indexes in a row", "l[0][10]", "#n1[0][10]", { ["#n1"] = "l" }, "l[0][10]" },
    { "leading zeros", "l[007]", "#n1[7]", { ["#n1"] = "l" }, "l[7]" },
    { "the same name twice", "a.a.b", "#n1.#n1.#n2", { ["#n1"] = "a", ["#n2"] = "b" }, "a.a.b" },
    { "any characters but . [ ]", "my-attr.x y.é€", "#n1.#n2.#n3", { ["#n1"] = "my-attr", ["#n2"] = "x y", ["#n3"] = "é€" },
      "my-attr.`x y`.é€" },
  }
  for _, c in ipairs(cases) do
    it("parses " .. c[1], function()
      local s, names, values = compile("projection", { attr(c[2]) })
      assert.are.equal(c[3], s)
      assert.are.same(c[4], names)
      assert.is_nil(values)
      assert.are.equal(c[5], tostring(attr(c[2])))
    end)
  end

  it("takes raw segments for names with dots or brackets", function()
    local p = attr { "weird.name", 2, "x[y]", "plain" }
    local s, names = compile("projection", { p })
    assert.are.equal("#n1[2].#n2.#n3", s)
    assert.are.same({ ["#n1"] = "weird.name", ["#n2"] = "x[y]", ["#n3"] = "plain" }, names)
    assert.are.equal("`weird.name`[2].`x[y]`.plain", tostring(p))
    assert.are.equal("`a b`.`back``tick`", tostring(attr { "a b", "back`tick" }))
  end)

  it("returns a path object as it is", function()
    local p = attr("a")
    assert.are.equal(p, attr(p))
    assert.is_true(expr.is_expression(p))
    assert.is_false(expr.is_expression("a"))
    assert.is_false(expr.is_expression({}))
  end)

  local errors = {
    { "", "empty path" },
    { "a..b", 'empty name at character 3 of "a..b"' },
    { ".a", 'empty name at character 1 of ".a"' },
    { "a.", 'empty name at character 3 of "a."' },
    { "[0]", 'empty name at character 1 of "[0]"' },
    { "a.[0]", 'empty name at character 3 of "a.[0]"' },
    { "a[x]", 'bad index at character 2 of "a[x]" (expected [digits])' },
    { "a[]", 'bad index at character 2 of "a[]" (expected [digits])' },
    { "a[-1]", 'bad index at character 2 of "a[-1]" (expected [digits])' },
    { "a[1", 'bad index at character 2 of "a[1" (expected [digits])' },
    { "a[1234567890]", 'bad index at character 2 of "a[1234567890]" (expected [digits])' },
    { "a]b", "unexpected ']' at character 2 of \"a]b\"" },
    { "a[0]b", "expected '.' or '[' at character 5 of \"a[0]b\"" },
    { {}, "empty path" },
    { { "" }, "segment 1 is an empty name" },
    { { 1 }, "segment 1 is an index; a path starts with a name" },
    { { "a", 1.5 }, "segment 2: name (string) or index (integer >= 0) expected, got number 1.5" },
    { { "a", -1 }, "segment 2: name (string) or index (integer >= 0) expected, got number -1" },
    { { "a", true }, "segment 2: name (string) or index (integer >= 0) expected, got boolean" },
    { 5, "path expected, got number" },
    { nil, "path expected, got nil" },
  }
  for _, c in ipairs(errors) do
    it("rejects " .. (type(c[1]) == "string" and string.format("%q", c[1]) or tostring(c[1])), function()
      assert.has_error(function() attr(c[1]) end, "bad argument #1 to 'attr' (" .. c[2] .. ")")
    end)
  end

  it("accepts a whole-number float index in raw segments", function()
    assert.are.equal("#n1[2]", (compile("projection", { attr { "a", 2.0 } })))
  end)
end)

describe("conditions", function()
  run_cases("condition", {
    { "eq", function() return attr("a"):eq(1) end, "#n1 = :v1", { ["#n1"] = "a" }, { [":v1"] = 1 }, "a = 1" },
    { "ne", function() return attr("a"):ne("x") end, "#n1 <> :v1", { ["#n1"] = "a" }, { [":v1"] = "x" }, 'a <> "x"' },
    { "lt", function() return attr("a"):lt(1) end, "#n1 < :v1", { ["#n1"] = "a" }, { [":v1"] = 1 }, "a < 1" },
    { "le", function() return attr("a"):le(1) end, "#n1 <= :v1", { ["#n1"] = "a" }, { [":v1"] = 1 }, "a <= 1" },
    { "gt", function() return attr("a"):gt(1) end, "#n1 > :v1", { ["#n1"] = "a" }, { [":v1"] = 1 }, "a > 1" },
    { "ge", function() return attr("a"):ge(1.5) end, "#n1 >= :v1", { ["#n1"] = "a" }, { [":v1"] = 1.5 }, "a >= 1.5" },
    { "a path on the right", function() return attr("a"):lt(attr("b.c")) end, "#n1 < #n2.#n3",
      { ["#n1"] = "a", ["#n2"] = "b", ["#n3"] = "c" }, nil, "a < b.c" },
    { "between", function() return attr("a"):between(1, 5) end, "#n1 BETWEEN :v1 AND :v2",
      { ["#n1"] = "a" }, { [":v1"] = 1, [":v2"] = 5 }, "a BETWEEN 1 AND 5" },
    { "between paths", function() return attr("a"):between(attr("lo"), attr("hi")) end, "#n1 BETWEEN #n2 AND #n3",
      { ["#n1"] = "a", ["#n2"] = "lo", ["#n3"] = "hi" }, nil, "a BETWEEN lo AND hi" },
    { "in_", function() return attr("a"):in_ { 1, 2, 3 } end, "#n1 IN (:v1, :v2, :v3)",
      { ["#n1"] = "a" }, { [":v1"] = 1, [":v2"] = 2, [":v3"] = 3 }, "a IN (1, 2, 3)" },
    { "in_ with a path", function() return attr("a"):in_ { attr("b"), "x" } end, "#n1 IN (#n2, :v1)",
      { ["#n1"] = "a", ["#n2"] = "b" }, { [":v1"] = "x" }, 'a IN (b, "x")' },
    { "begins_with", function() return attr("a"):begins_with("ab") end, "begins_with(#n1, :v1)",
      { ["#n1"] = "a" }, { [":v1"] = "ab" }, 'begins_with(a, "ab")' },
    { "begins_with a path", function() return attr("a"):begins_with(attr("b")) end, "begins_with(#n1, #n2)",
      { ["#n1"] = "a", ["#n2"] = "b" }, nil, "begins_with(a, b)" },
    { "contains", function() return attr("tags"):contains("x") end, "contains(#n1, :v1)",
      { ["#n1"] = "tags" }, { [":v1"] = "x" }, 'contains(tags, "x")' },
    { "exists", function() return attr("a.b"):exists() end, "attribute_exists(#n1.#n2)",
      { ["#n1"] = "a", ["#n2"] = "b" }, nil, "attribute_exists(a.b)" },
    { "not_exists", function() return attr("a"):not_exists() end, "attribute_not_exists(#n1)",
      { ["#n1"] = "a" }, nil, "attribute_not_exists(a)" },
    { "attribute_type", function() return attr("t"):attribute_type("S") end, "attribute_type(#n1, :v1)",
      { ["#n1"] = "t" }, { [":v1"] = "S" }, 'attribute_type(t, "S")' },
    { "size()", function() return size("tags"):gt(3) end, "size(#n1) > :v1",
      { ["#n1"] = "tags" }, { [":v1"] = 3 }, "size(tags) > 3" },
    { "attr():size()", function() return attr("a.b"):size():between(1, 2) end, "size(#n1.#n2) BETWEEN :v1 AND :v2",
      { ["#n1"] = "a", ["#n2"] = "b" }, { [":v1"] = 1, [":v2"] = 2 }, "size(a.b) BETWEEN 1 AND 2" },
    { "size() on the right", function() return attr("n"):eq(size("l")) end, "#n1 = size(#n2)",
      { ["#n1"] = "n", ["#n2"] = "l" }, nil, "n = size(l)" },
    { "size() in_", function() return size("l"):in_ { 1, 2 } end, "size(#n1) IN (:v1, :v2)",
      { ["#n1"] = "l" }, { [":v1"] = 1, [":v2"] = 2 }, "size(l) IN (1, 2)" },
  })

  -- all, any and none (the operators & | ~ of Lua 5.3+ are in
  -- expr_operators_spec.lua, which checks they build the same)
  describe("combined", function()
    local a, b, c = attr("a"):eq(1), attr("b"):eq(2), attr("c"):eq(3)
    run_cases("condition", {
      { "all", function() return all { a, b } end, "#n1 = :v1 AND #n2 = :v2",
        { ["#n1"] = "a", ["#n2"] = "b" }, { [":v1"] = 1, [":v2"] = 2 }, "a = 1 AND b = 2" },
      { "any", function() return any { a, b } end, "#n1 = :v1 OR #n2 = :v2",
        { ["#n1"] = "a", ["#n2"] = "b" }, { [":v1"] = 1, [":v2"] = 2 }, "a = 1 OR b = 2" },
      { "none", function() return none(a) end, "NOT #n1 = :v1", { ["#n1"] = "a" }, { [":v1"] = 1 }, "NOT a = 1" },
      { "AND of ORs in parentheses", function() return all { any { a, b }, c } end,
        "(#n1 = :v1 OR #n2 = :v2) AND #n3 = :v3",
        { ["#n1"] = "a", ["#n2"] = "b", ["#n3"] = "c" }, { [":v1"] = 1, [":v2"] = 2, [":v3"] = 3 },
        "(a = 1 OR b = 2) AND c = 3" },
      { "OR of ANDs without", function() return any { all { a, b }, c } end, "#n1 = :v1 AND #n2 = :v2 OR #n3 = :v3",
        { ["#n1"] = "a", ["#n2"] = "b", ["#n3"] = "c" }, { [":v1"] = 1, [":v2"] = 2, [":v3"] = 3 },
        "a = 1 AND b = 2 OR c = 3" },
      { "NOT of AND", function() return none(all { a, b }) end, "NOT (#n1 = :v1 AND #n2 = :v2)",
        { ["#n1"] = "a", ["#n2"] = "b" }, { [":v1"] = 1, [":v2"] = 2 }, "NOT (a = 1 AND b = 2)" },
      { "none of a list", function() return none { a, b } end, "NOT (#n1 = :v1 OR #n2 = :v2)",
        { ["#n1"] = "a", ["#n2"] = "b" }, { [":v1"] = 1, [":v2"] = 2 }, "NOT (a = 1 OR b = 2)" },
      { "NOT of NOT", function() return none(none(a)) end, "NOT (NOT #n1 = :v1)", { ["#n1"] = "a" }, { [":v1"] = 1 },
        "NOT (NOT a = 1)" },
      { "NOT inside AND", function() return all { none(a), b } end, "NOT #n1 = :v1 AND #n2 = :v2",
        { ["#n1"] = "a", ["#n2"] = "b" }, { [":v1"] = 1, [":v2"] = 2 }, "NOT a = 1 AND b = 2" },
      { "flattened chains", function() return all { a, all { b, c } } end, "#n1 = :v1 AND #n2 = :v2 AND #n3 = :v3",
        { ["#n1"] = "a", ["#n2"] = "b", ["#n3"] = "c" }, { [":v1"] = 1, [":v2"] = 2, [":v3"] = 3 },
        "a = 1 AND b = 2 AND c = 3" },
      { "between inside AND", function() return all { attr("x"):between(1, 2), b } end,
        "#n1 BETWEEN :v1 AND :v2 AND #n2 = :v2", { ["#n1"] = "x", ["#n2"] = "b" }, { [":v1"] = 1, [":v2"] = 2 },
        "x BETWEEN 1 AND 2 AND b = 2" },
    })

    it("of one condition is that condition", function()
      assert.are.equal(a, all { a })
      assert.are.equal(a, any { a })
    end)

    it("are immutable and reusable", function()
      local ab = all { a, b }
      local _ = all { ab, c }
      local _ = none(ab)
      assert.are.equal("a = 1 AND b = 2", tostring(ab))
      assert.are.equal("#n1 = :v1 AND #n2 = :v2", (compile("condition", ab)))
      assert.are.equal("#n1 = :v1 AND #n2 = :v2", (compile("condition", ab)))
    end)
  end)

  it("renders values readably in tostring", function()
    local cases = {
      { "x", '"x"' }, { 'q"\n\\', '"q\\"\\n\\\\"' }, { "\0", '"\\000"' },
      { 42, "42" }, { -1.5, "-1.5" }, { 0.1, "0.1" }, { true, "true" }, { dynamo.null, "NULL" },
      { dynamo.decimal("1.50"), "1.5" }, { dynamo.binary("ab"), 'b"ab"' },
      { dynamo.set { "a", "b" }, '<<"a", "b">>' }, { dynamo.set { 1, 2 }, "<<1, 2>>" },
      { { 1, "a" }, '[1, "a"]' }, { dynamo.list {}, "[]" }, { {}, "{}" },
      { { b = 1, a = { 2 } }, '{"a": [2], "b": 1}' }, { dynamo.map { 1 }, '{"1": 1}' },
    }
    for _, c in ipairs(cases) do
      assert.are.equal("a = " .. c[2], tostring(attr("a"):eq(c[1])))
    end
  end)

  it("shows the issue's example", function()
    assert.are.equal('a.b = "x" AND n > 1', tostring(all { attr("a.b"):eq("x"), attr("n"):gt(1) }))
  end)

  local errors = {
    { "eq without a value", function() attr("a"):eq() end, "bad argument #1 to 'eq' (value expected, got nil)" },
    { "eq with a function", function() attr("a"):eq(print) end, "bad argument #1 to 'eq' (value expected, got function)" },
    { "eq with a condition", function() attr("a"):eq(attr("b"):eq(1)) end,
      "bad argument #1 to 'eq' (value, attr() or size() expected, got condition)" },
    { "eq with arithmetic", function() attr("a"):eq(attr("b") + 1) end,
      "bad argument #1 to 'eq' (value, attr() or size() expected, got arithmetic)" },
    { "a path compared with itself", function() attr("a.b"):lt(attr("a.b")) end,
      "bad argument #1 to 'lt' ('a.b' is compared with itself; DynamoDB refuses that)" },
    { "between with itself", function() attr("a"):between(1, attr("a")) end,
      "bad argument #2 to 'between' ('a' is compared with itself; DynamoDB refuses that)" },
    { "between without a high end", function() attr("a"):between(1) end,
      "bad argument #2 to 'between' (value expected, got nil)" },
    { "an empty in_", function() attr("a"):in_ {} end, "bad argument #1 to 'in_' (empty list)" },
    { "in_ without a table", function() attr("a"):in_(1) end,
      "bad argument #1 to 'in_' (table of values expected, got number)" },
    { "in_ with a path for the list", function() attr("a"):in_(attr("b")) end,
      "bad argument #1 to 'in_' (table of values expected, got path)" },
    { "in_ with a bad item", function() attr("a"):in_ { 1, print } end,
      "bad argument #1 to 'in_' (item 2: value expected, got function)" },
    { "in_ with itself", function() attr("a"):in_ { 1, attr("a") } end,
      "bad argument #1 to 'in_' ('a' is compared with itself; DynamoDB refuses that)" },
    { "begins_with a number", function() attr("a"):begins_with(1) end,
      "bad argument #1 to 'begins_with' (string, binary or attr() expected, got number)" },
    { "begins_with size()", function() attr("a"):begins_with(size("b")) end,
      "bad argument #1 to 'begins_with' (string, binary or attr() expected, got size)" },
    { "contains size()", function() attr("a"):contains(size("b")) end,
      "bad argument #1 to 'contains' (value or attr() expected, got size)" },
    { "contains itself", function() attr("a"):contains(attr("a")) end,
      "bad argument #1 to 'contains' ('a' is compared with itself; DynamoDB refuses that)" },
    { "an unknown type", function() attr("t"):attribute_type("STRING") end,
      "bad argument #1 to 'attribute_type' (one of S, SS, N, NS, B, BS, BOOL, NULL, L, M expected, got \"STRING\")" },
    { "a type that is not a string", function() attr("t"):attribute_type(1) end,
      "bad argument #1 to 'attribute_type' (one of S, SS, N, NS, B, BS, BOOL, NULL, L, M expected, got number)" },
    { "size() of nothing", function() size() end, "bad argument #1 to 'size' (path expected, got nil)" },
    { "size() of a bad path", function() size("a..b") end,
      "bad argument #1 to 'size' (empty name at character 3 of \"a..b\")" },
    { "all of nothing", function() all {} end, "bad argument #1 to 'all' (empty list)" },
    { "all of a condition", function() all(attr("a"):eq(1)) end,
      "bad argument #1 to 'all' (table of conditions expected, got condition)" },
    { "all with a string", function() all { attr("a"):eq(1), "b = :b" } end,
      "bad argument #1 to 'all' (item 2: condition expected, got string)" },
    { "any of nothing", function() any {} end, "bad argument #1 to 'any' (empty list)" },
    { "none of a string", function() none("x") end,
      "bad argument #1 to 'none' (condition or table of conditions expected, got string)" },
    { "none of an empty list", function() none {} end, "bad argument #1 to 'none' (empty list)" },
  }
  for _, c in ipairs(errors) do
    it("rejects " .. c[1], function() assert.has_error(c[2], c[3]) end)
  end

  it("rejects an in_ of more than 100 values, and takes 100", function()
    local list = {}
    for i = 1, 100 do list[i] = i end
    local _, _, values = compile("condition", attr("a"):in_(list))
    local n = 0
    for _ in pairs(values) do n = n + 1 end
    assert.are.equal(100, n)
    list[101] = 101
    assert.has_error(function() attr("a"):in_(list) end,
      "bad argument #1 to 'in_' (101 values; DynamoDB allows at most 100)")
  end)

  it("copies the in_ list, so changing it later changes nothing", function()
    local list = { 1, 2 }
    local c = attr("a"):in_(list)
    list[3] = 3
    assert.are.equal("a IN (1, 2)", tostring(c))
  end)
end)

describe("values and names", function()
  it("share one placeholder per distinct name and scalar", function()
    local c = all { attr("a"):eq("x"), attr("b.a"):eq("x"), attr("c"):in_ { "x", 1, 1, true, true } }
    local s, names, values = compile("condition", c)
    assert.are.equal("#n1 = :v1 AND #n2.#n1 = :v1 AND #n3 IN (:v1, :v2, :v2, :v3, :v3)", s)
    assert.are.same({ ["#n1"] = "a", ["#n2"] = "b", ["#n3"] = "c" }, names)
    assert.are.same({ [":v1"] = "x", [":v2"] = 1, [":v3"] = true }, values)
  end)

  it("keep integer, float, string and boolean apart", function()
    local s, _, values = compile("condition", attr("a"):in_ { 1, 1.0, 1.5, "1", true, "true", 1.5, "1" })
    if jit then
      -- LuaJIT: 1 and 1.0 are the same number
      assert.are.equal("#n1 IN (:v1, :v1, :v2, :v3, :v4, :v5, :v2, :v3)", s)
      assert.are.same({ 1, 1.5, "1", true, "true" },
        { values[":v1"], values[":v2"], values[":v3"], values[":v4"], values[":v5"] })
      return
    end
    assert.are.equal("#n1 IN (:v1, :v2, :v3, :v4, :v5, :v6, :v3, :v4)", s)
    assert.are.equal("integer", math.type(values[":v1"]))
    assert.are.equal("float", math.type(values[":v2"]))
    assert.are.same({ 1, 1.0, 1.5, "1", true, "true" },
      { values[":v1"], values[":v2"], values[":v3"], values[":v4"], values[":v5"], values[":v6"] })
  end)

  it("share NULL, and decimals by their text", function()
    local d1, d2 = dynamo.decimal("1.50"), dynamo.decimal("1.5")
    local s, _, values = compile("condition", attr("a"):in_ { dynamo.null, dynamo.null, d1, d2, dynamo.decimal("2") })
    assert.are.equal("#n1 IN (:v1, :v1, :v2, :v2, :v3)", s)
    assert.are.equal(dynamo.null, values[":v1"])
    assert.are.equal(d1, values[":v2"])
  end)

  it("share tables, sets and binary values only when they are the same object", function()
    local t, s1, b = { 1 }, dynamo.set { "x" }, dynamo.binary("b")
    local s, _, values = compile("condition",
      attr("a"):in_ { t, t, { 1 }, s1, s1, dynamo.set { "x" }, b, b, dynamo.binary("b") })
    assert.are.equal("#n1 IN (:v1, :v1, :v2, :v3, :v3, :v4, :v5, :v5, :v6)", s)
    assert.are.equal(t, values[":v1"])
    assert.are.equal(s1, values[":v3"])
    assert.are.equal(b, values[":v5"])
    assert.is_true(dynamo.is_set(values[":v4"]))
  end)

  it("never become part of the expression, whatever they are", function()
    -- A sample of DynamoDB's 573 reserved words, and characters an
    -- expression could not spell.
    local words = { "name", "size", "status", "data", "date", "year", "key", "value", "values", "type", "user",
      "order", "count", "comment", "timestamp", "level", "group", "table", "index", "update", "delete", "set",
      "add", "remove", "and", "or", "not", "between", "in", "by", "from", "select", "where", "ttl", "zone",
      "a-b", "a b", "a:b", "a#b", "#n1", ":v1", "(x)", "é", "a\nb", "=", "" }
    for _, w in ipairs(words) do
      if w ~= "" then
        local s, names, values = compile("condition", attr { w }:eq(w))
        assert.are.equal("#n1 = :v1", s)
        assert.are.same({ ["#n1"] = w }, names)
        assert.are.same({ [":v1"] = w }, values)
      end
    end
  end)

  it("skip placeholders the caller already uses, and merge the caller's", function()
    local ctx = expr.context({ ["#n1"] = "mine", ["#n3"] = "x" }, { [":v1"] = 7, [":v2"] = 8 })
    local s = ctx:condition(all { attr("a.b.c"):eq(1), attr("#n1"):eq(2) })
    assert.are.equal("#n2.#n4.#n5 = :v3 AND #n6 = :v4", s)
    assert.are.same({ ["#n1"] = "mine", ["#n2"] = "a", ["#n3"] = "x", ["#n4"] = "b", ["#n5"] = "c", ["#n6"] = "#n1" },
      ctx:names())
    assert.are.same({ [":v1"] = 7, [":v2"] = 8, [":v3"] = 1, [":v4"] = 2 }, ctx:values())
  end)

  it("return new tables, and nil when there are none", function()
    local given = { ["#x"] = "x" }
    local ctx = expr.context(given)
    assert.are.same({ ["#x"] = "x" }, ctx:names())
    assert.are_not.equal(given, ctx:names())
    assert.is_nil(ctx:values())
    ctx:condition(attr("y"):exists())
    assert.are.same({ ["#x"] = "x" }, given)
    assert.is_nil(expr.context():names())
    assert.is_nil(expr.context({}, {}):values())
  end)

  it("are shared by every expression of one context", function()
    local ctx = expr.context()
    local u = ctx:update(update():set("n", attr("n") + 1))
    local c = ctx:condition(all { attr("n"):lt(10), attr("n"):ne(1) })
    local p = ctx:projection { "n", "m" }
    assert.are.equal("SET #n1 = #n1 + :v1", u)
    assert.are.equal("#n1 < :v2 AND #n1 <> :v1", c)
    assert.are.equal("#n1, #n2", p)
    assert.are.same({ ["#n1"] = "n", ["#n2"] = "m" }, ctx:names())
    assert.are.same({ [":v1"] = 1, [":v2"] = 10 }, ctx:values())
  end)
end)

describe("raw expression strings", function()
  it("pass through unchanged with the caller's names and values", function()
    local ctx = expr.context({ ["#s"] = "status" }, { [":a"] = "active" })
    assert.are.equal("#s = :a", ctx:condition("#s = :a"))
    assert.are.equal("pk = :a", ctx:key_condition("pk = :a"))
    assert.are.equal("SET #s = :a", ctx:update("SET #s = :a"))
    assert.are.equal("#s, other", ctx:projection("#s, other"))
    assert.are.same({ ["#s"] = "status" }, ctx:names())
    assert.are.same({ [":a"] = "active" }, ctx:values())
  end)

  it("are refused when empty", function()
    assert.has_error(function() expr.context():condition("") end, "bad argument #1 to 'condition' (empty expression)")
  end)
end)

describe("the 4 KB limit", function()
  -- Names and values do not count, only the expression with its
  -- placeholders: build a long one from many conditions.
  local function conditions(n)
    local list = {}
    for i = 1, n do list[i] = attr("a" .. i):eq(i) end
    return all(list)
  end

  it("is checked on the final string of a builder", function()
    local function length(n) return #conditions(n):emit(expr.context()) end
    local n = 1
    while length(n) <= 4096 do n = n + 1 end
    assert.are.equal(length(n - 1), #compile("condition", conditions(n - 1)))
    assert.has_error(function() compile("condition", conditions(n)) end,
      "bad argument #1 to 'condition' (expression is " .. length(n) .. " bytes; DynamoDB allows at most 4096)")
  end)

  it("applies to raw strings and every kind of expression", function()
    local long = "#a = :a" .. string.rep(" ", 4089)
    assert.are.equal(long, expr.context():condition(long))
    long = long .. " "
    assert.has_error(function() expr.context():condition(long) end,
      "bad argument #1 to 'condition' (expression is 4097 bytes; DynamoDB allows at most 4096)")
    local paths = {}
    for i = 1, 700 do paths[i] = "p" .. i end
    assert.has_error(function() expr.context():projection(paths) end,
      "bad argument #1 to 'projection' (expression is 4790 bytes; DynamoDB allows at most 4096)")
  end)

  it("names the argument and level the caller chooses", function()
    local ok, err = pcall(function() expr.context():update("", "'update' to 'update_item'", 2) end)
    assert.is_false(ok)
    assert.matches("expr_spec.lua:%d+: bad argument 'update' to 'update_item' %(empty expression%)$", err)
  end)
end)

describe("key conditions", function()
  run_cases("key_condition", {
    { "eq on the partition key", function() return key("pk"):eq("u1") end, "#n1 = :v1",
      { ["#n1"] = "pk" }, { [":v1"] = "u1" }, 'pk = "u1"' },
    { "eq on both", function() return all { key("pk"):eq("u1"), key("sk"):eq(5) } end, "#n1 = :v1 AND #n2 = :v2",
      { ["#n1"] = "pk", ["#n2"] = "sk" }, { [":v1"] = "u1", [":v2"] = 5 }, 'pk = "u1" AND sk = 5' },
    { "lt", function() return all { key("pk"):eq("u1"), key("sk"):lt(5) } end, "#n1 = :v1 AND #n2 < :v2",
      { ["#n1"] = "pk", ["#n2"] = "sk" }, { [":v1"] = "u1", [":v2"] = 5 } },
    { "le", function() return all { key("pk"):eq("u1"), key("sk"):le(5) } end, "#n1 = :v1 AND #n2 <= :v2",
      { ["#n1"] = "pk", ["#n2"] = "sk" }, { [":v1"] = "u1", [":v2"] = 5 } },
    { "gt", function() return all { key("pk"):eq("u1"), key("sk"):gt(5) } end, "#n1 = :v1 AND #n2 > :v2",
      { ["#n1"] = "pk", ["#n2"] = "sk" }, { [":v1"] = "u1", [":v2"] = 5 } },
    { "ge", function() return all { key("pk"):eq("u1"), key("sk"):ge(5) } end, "#n1 = :v1 AND #n2 >= :v2",
      { ["#n1"] = "pk", ["#n2"] = "sk" }, { [":v1"] = "u1", [":v2"] = 5 } },
    { "between", function() return all { key("pk"):eq("u1"), key("sk"):between(1, 9) } end,
      "#n1 = :v1 AND #n2 BETWEEN :v2 AND :v3", { ["#n1"] = "pk", ["#n2"] = "sk" },
      { [":v1"] = "u1", [":v2"] = 1, [":v3"] = 9 }, 'pk = "u1" AND sk BETWEEN 1 AND 9' },
    { "begins_with", function() return all { key("pk"):eq("u1"), key("sk"):begins_with("order#") } end,
      "#n1 = :v1 AND begins_with(#n2, :v2)", { ["#n1"] = "pk", ["#n2"] = "sk" },
      { [":v1"] = "u1", [":v2"] = "order#" }, 'pk = "u1" AND begins_with(sk, "order#")' },
    { "the sort key written first", function() return all { key("sk"):begins_with("o"), key("pk"):eq("u1") } end,
      "#n1 = :v1 AND begins_with(#n2, :v2)", { ["#n1"] = "pk", ["#n2"] = "sk" }, { [":v1"] = "u1", [":v2"] = "o" } },
    { "all{}", function() return all { key("pk"):eq("u1"), key("sk"):gt(1) } end, "#n1 = :v1 AND #n2 > :v2",
      { ["#n1"] = "pk", ["#n2"] = "sk" }, { [":v1"] = "u1", [":v2"] = 1 } },
    { "a key name with a dot, as it is", function() return key("user.id"):eq(1) end, "#n1 = :v1",
      { ["#n1"] = "user.id" }, { [":v1"] = 1 }, "`user.id` = 1" },
    { "attr() conditions", function() return all { attr("pk"):eq("u1"), attr("sk"):lt(3) } end,
      "#n1 = :v1 AND #n2 < :v2", { ["#n1"] = "pk", ["#n2"] = "sk" }, { [":v1"] = "u1", [":v2"] = 3 } },
    { "a plain table", function() return { pk = "u1" } end, "#n1 = :v1", { ["#n1"] = "pk" }, { [":v1"] = "u1" } },
    { "a plain table of two", function() return { sk = 5, pk = "u1" } end, "#n1 = :v1 AND #n2 = :v2",
      { ["#n1"] = "pk", ["#n2"] = "sk" }, { [":v1"] = "u1", [":v2"] = 5 } },
  })

  local errors = {
    { "a key without a name", function() key() end, "bad argument #1 to 'key' (key attribute name expected, got nil)" },
    { "a key with an empty name", function() key("") end,
      "bad argument #1 to 'key' (key attribute name expected, got empty string)" },
    { "contains on a key", function() key("sk"):contains("x") end,
      "contains is not allowed in a key condition (on key 'sk'; use eq, lt, le, gt, ge, between or begins_with; attr() makes filters)" },
    { "in_ on a key", function() key("sk"):in_ { 1 } end,
      "in_ is not allowed in a key condition (on key 'sk'; use eq, lt, le, gt, ge, between or begins_with; attr() makes filters)" },
    { "exists on a key", function() key("sk"):exists() end,
      "exists is not allowed in a key condition (on key 'sk'; use eq, lt, le, gt, ge, between or begins_with; attr() makes filters)" },
    { "ne on a key", function() key("sk"):ne(1) end,
      "ne is not allowed in a key condition (on key 'sk'; use eq, lt, le, gt, ge, between or begins_with; attr() makes filters)" },
    { "size of a key", function() key("sk"):size() end,
      "size is not allowed in a key condition (on key 'sk'; use eq, lt, le, gt, ge, between or begins_with; attr() makes filters)" },
    { "a key compared with a path", function() key("sk"):lt(attr("x")) end,
      "bad argument #1 to 'lt' (value expected, got path)" },
    { "begins_with a number", function() key("sk"):begins_with(5) end,
      "bad argument #1 to 'begins_with' (string, binary or attr() expected, got number)" },
    { "any{} of a key and a filter", function() any { attr("x"):eq(1), key("sk"):eq(2) } end,
      "bad argument #1 to 'any' (key conditions cannot use OR)" },
    { "any{} of keys", function() any { key("pk"):eq(1), key("sk"):eq(2) } end,
      "bad argument #1 to 'any' (key conditions cannot use OR)" },
    { "none() of a key", function() none(key("pk"):eq(1)) end, "bad argument #1 to 'none' (key conditions cannot use NOT)" },
    { "two non-eq conditions", function() all { key("pk"):lt(1), key("sk"):gt(2) } end,
      "bad argument #1 to 'all' (one of the two keys needs eq (the partition key); 'pk' uses lt and 'sk' uses gt)" },
    { "two conditions on one key", function() all { key("sk"):gt(1), key("sk"):lt(9) } end,
      "bad argument #1 to 'all' (two conditions on key 'sk')" },
    { "three keys in all{}", function() all { key("a"):eq(1), key("b"):eq(2), key("c"):eq(3) } end,
      "bad argument #1 to 'all' (3 conditions; a key condition has at most two (partition key and sort key))" },
  }
  for _, c in ipairs(errors) do
    it("rejects " .. c[1], function() assert.has_error(c[2], c[3]) end)
  end

  -- Caught when the condition is turned into a KeyConditionExpression.
  local compile_errors = {
    { "one non-eq condition", key("sk"):begins_with("x"), "the partition key needs eq; 'sk' uses begins_with" },
    { "a filter operator", all { attr("pk"):eq(1), attr("sk"):contains("x") },
      "contains is not allowed in a key condition (on 'sk'; use eq, lt, le, gt, ge, between or begins_with)" },
    { "ne", attr("pk"):ne(1), "ne is not allowed in a key condition (on 'pk'; use eq, lt, le, gt, ge, between or begins_with)" },
    { "OR", any { attr("pk"):eq(1), attr("sk"):eq(2) }, "key conditions cannot use OR" },
    { "NOT inside AND", all { attr("pk"):eq(1), none(attr("sk"):eq(2)) }, "key conditions cannot use NOT" },
    { "a nested path", attr("pk.x"):eq(1), "'pk.x' is a nested path; a key is a top-level attribute" },
    { "size()", size("pk"):eq(1), "size() is not allowed in a key condition" },
    { "a path operand", attr("pk"):eq(attr("other")), "key 'pk' must be compared with a value, got path" },
    { "a key mixed with a filter", all { key("pk"):eq(1), attr("x"):eq(2), attr("y"):eq(3) },
      "3 conditions; a key condition has at most two (partition key and sort key)" },
    { "the same key twice", all { attr("pk"):eq(1), attr("pk"):eq(2) }, "two conditions on key 'pk'" },
    { "an empty table", {}, "empty key condition" },
    { "a table of three", { a = 1, b = 2, c = 3 }, "3 keys; a key condition has at most two (partition key and sort key)" },
    { "a table with an array part", { "u1" }, "key names must be non-empty strings, got number" },
    { "a table with a bad value", { pk = print }, "key 'pk': value expected, got function" },
    { "an update", update():set("a", 1), "key condition, table or string expected, got update" },
    { "a key alone", key("pk"), "key condition, table or string expected, got key" },
  }
  for _, c in ipairs(compile_errors) do
    it("rejects " .. c[1] .. " when compiled", function()
      assert.has_error(function() compile("key_condition", c[2]) end,
        "bad argument #1 to 'key_condition' (" .. c[3] .. ")")
    end)
  end
end)

describe("updates", function()
  run_cases("update", {
    { "set", function() return update():set("a.b", 1) end, "SET #n1.#n2 = :v1",
      { ["#n1"] = "a", ["#n2"] = "b" }, { [":v1"] = 1 }, "SET a.b = 1" },
    { "set a list element", function() return update():set("l[1]", "x") end, "SET #n1[1] = :v1",
      { ["#n1"] = "l" }, { [":v1"] = "x" }, 'SET l[1] = "x"' },
    { "set from another attribute", function() return update():set("a", attr("b")) end, "SET #n1 = #n2",
      { ["#n1"] = "a", ["#n2"] = "b" }, nil, "SET a = b" },
    { "increment", function() return update():set("n", attr("n") + 1) end, "SET #n1 = #n1 + :v1",
      { ["#n1"] = "n" }, { [":v1"] = 1 }, "SET n = n + 1" },
    { "a number on the left", function() return update():set("n", 10 - attr("n")) end, "SET #n1 = :v1 - #n1",
      { ["#n1"] = "n" }, { [":v1"] = 10 }, "SET n = 10 - n" },
    { "difference of attributes", function() return update():set("d", attr("n") - attr("m")) end,
      "SET #n1 = #n2 - #n3", { ["#n1"] = "d", ["#n2"] = "n", ["#n3"] = "m" }, nil, "SET d = n - m" },
    { "if_not_exists", function() return update():set("n", if_not_exists("n", 0)) end,
      "SET #n1 = if_not_exists(#n1, :v1)", { ["#n1"] = "n" }, { [":v1"] = 0 }, "SET n = if_not_exists(n, 0)" },
    { "if_not_exists + 1", function() return update():set("n", if_not_exists("n", 0) + 1) end,
      "SET #n1 = if_not_exists(#n1, :v1) + :v2", { ["#n1"] = "n" }, { [":v1"] = 0, [":v2"] = 1 },
      "SET n = if_not_exists(n, 0) + 1" },
    { "list_append", function() return update():set("l", list_append("l", { 3, 4 })) end,
      "SET #n1 = list_append(#n1, :v1)", { ["#n1"] = "l" }, { [":v1"] = { 3, 4 } }, "SET l = list_append(l, [3, 4])" },
    { "list_prepend", function() return update():set("l", list_prepend("l", { 0 })) end,
      "SET #n1 = list_append(:v1, #n1)", { ["#n1"] = "l" }, { [":v1"] = { 0 } }, "SET l = list_append([0], l)" },
    { "list_append onto if_not_exists", function()
      return update():set("l", list_append(if_not_exists("l", {}), { "x" }))
    end, "SET #n1 = list_append(if_not_exists(#n1, :v1), :v2)", { ["#n1"] = "l" },
      { [":v1"] = dynamo.list {}, [":v2"] = { "x" } }, 'SET l = list_append(if_not_exists(l, []), ["x"])' },
    { "remove", function() return update():remove("old", "l[2]") end, "REMOVE #n1, #n2[2]",
      { ["#n1"] = "old", ["#n2"] = "l" }, nil, "REMOVE old, l[2]" },
    { "add", function() return update():add("count", 1) end, "ADD #n1 :v1", { ["#n1"] = "count" }, { [":v1"] = 1 },
      "ADD count 1" },
    { "delete", function() return update():delete("tags", dynamo.set { "a" }) end, "DELETE #n1 :v1",
      { ["#n1"] = "tags" }, { [":v1"] = dynamo.set { "a" } }, 'DELETE tags <<"a">>' },
    { "every action, clauses in order", function()
      return update():delete("tags", dynamo.set { "x" }):add("count", 1):remove("old", "other")
        :set("n", attr("n") + 1):set("a.b", 1)
    end, "SET #n1 = #n1 + :v1, #n2.#n3 = :v1 REMOVE #n4, #n5 ADD #n6 :v1 DELETE #n7 :v2",
      { ["#n1"] = "n", ["#n2"] = "a", ["#n3"] = "b", ["#n4"] = "old", ["#n5"] = "other", ["#n6"] = "count", ["#n7"] = "tags" },
      { [":v1"] = 1, [":v2"] = dynamo.set { "x" } },
      'SET n = n + 1, a.b = 1 REMOVE old, other ADD count 1 DELETE tags <<"x">>' },
    { "sibling paths", function() return update():set("a.b", 1):set("a.c", 2):set("l[0]", 3):remove("l[1]") end,
      "SET #n1.#n2 = :v1, #n1.#n3 = :v2, #n4[0] = :v3 REMOVE #n4[1]",
      { ["#n1"] = "a", ["#n2"] = "b", ["#n3"] = "c", ["#n4"] = "l" }, { [":v1"] = 1, [":v2"] = 2, [":v3"] = 3 } },
    { "the plain-table form", function()
      return { set = { ["a.b"] = 1, n = attr("n") + 1 }, remove = { "old" }, add = { count = 1 }, delete = { tags = dynamo.set { 1 } } }
    end, "SET #n1.#n2 = :v1, #n3 = #n3 + :v1 REMOVE #n4 ADD #n5 :v1 DELETE #n6 :v2",
      { ["#n1"] = "a", ["#n2"] = "b", ["#n3"] = "n", ["#n4"] = "old", ["#n5"] = "count", ["#n6"] = "tags" },
      { [":v1"] = 1, [":v2"] = dynamo.set { 1 } } },
    { "a plain-table remove of one path", function() return { remove = "old" } end, "REMOVE #n1", { ["#n1"] = "old" } },
  })

  it("update(t) builds from the plain-table form, and tostring shows it", function()
    local u = update { set = { z = 1, a = "x" }, remove = { "r" } }
    assert.are.equal('SET a = "x", z = 1 REMOVE r', tostring(u))
    assert.are.equal(u, update(u))
    assert.are.equal("", tostring(update()))
  end)

  it("builders chain and return themselves", function()
    local u = update()
    assert.are.equal(u, u:set("a", 1))
    assert.are.equal(u, u:remove("b"))
    assert.are.equal(u, u:add("c", 1))
    assert.are.equal(u, u:delete("d", dynamo.set { 1 }))
  end)

  it("compile the same way every time", function()
    local u = update():set("n", attr("n") + 1)
    assert.are.equal((compile("update", u)), (compile("update", u)))
  end)

  local errors = {
    { "set without a path", function() update():set(nil, 1) end, "bad argument #1 to 'set' (path expected, got nil)" },
    { "set of a bad path", function() update():set("a[", 1) end,
      "bad argument #1 to 'set' (bad index at character 2 of \"a[\" (expected [digits]))" },
    { "set without a value", function() update():set("a") end, "bad argument #2 to 'set' (value expected, got nil)" },
    { "set to a condition", function() update():set("a", attr("b"):eq(1)) end,
      "bad argument #2 to 'set' (value, attr(), arithmetic, if_not_exists() or list_append() expected, got condition)" },
    { "set to size()", function() update():set("a", size("b")) end,
      "bad argument #2 to 'set' (value, attr(), arithmetic, if_not_exists() or list_append() expected, got size)" },
    { "the same path set twice", function() update():set("a.b", 1):set("a.b", 2) end,
      "bad argument #1 to 'set' (path 'a.b' is updated twice (SET and SET))" },
    { "a path set and removed", function() update():set("a", 1):remove("x", "a") end,
      "bad argument #2 to 'remove' (path 'a' is updated twice (SET and REMOVE))" },
    { "overlapping paths", function() update():set("a", 1):set("a.b", 2) end,
      "bad argument #1 to 'set' (paths 'a' and 'a.b' overlap; DynamoDB updates a path or a path inside it, not both)" },
    { "overlapping the other way", function() update():remove("l[1].x"):add("l[1]", 1) end,
      "bad argument #1 to 'add' (paths 'l[1].x' and 'l[1]' overlap; DynamoDB updates a path or a path inside it, not both)" },
    { "conflicting paths", function() update():set("m.x", 1):set("m[0]", 2) end,
      "bad argument #1 to 'set' (paths 'm.x' and 'm[0]' conflict; an attribute is a list or a map, not both)" },
    { "remove of nothing", function() update():remove() end, "bad argument #1 to 'remove' (path expected, got no value)" },
    { "remove of a number", function() update():remove("a", 1) end, "bad argument #2 to 'remove' (path expected, got number)" },
    { "add of a string", function() update():add("n", "1") end, "bad argument #2 to 'add' (number or set expected, got string)" },
    { "add of a list", function() update():add("n", { 1 }) end, "bad argument #2 to 'add' (number or set expected, got table)" },
    { "delete of a number", function() update():delete("s", 1) end, "bad argument #2 to 'delete' (set expected, got number)" },
    { "two + in one value", function() return attr("n") + 1 + 2 end,
      "bad operand to '+' (DynamoDB allows one + or - per value)" },
    { "+ of a string", function() return attr("n") + "1" end,
      "bad operand to '+' (number, attr() or if_not_exists() expected, got string)" },
    { "- of size()", function() return attr("n") - size("l") end,
      "bad operand to '-' (number, attr() or if_not_exists() expected, got size)" },
    { "if_not_exists without a value", function() if_not_exists("n") end,
      "bad argument #2 to 'if_not_exists' (value expected, got nil)" },
    { "if_not_exists of a bad path", function() if_not_exists("", 1) end,
      "bad argument #1 to 'if_not_exists' (empty path)" },
    { "if_not_exists with arithmetic", function() if_not_exists("n", attr("m") + 1) end,
      "bad argument #2 to 'if_not_exists' (value expected, got arithmetic)" },
    { "list_append of a string", function() list_append("l", "x") end,
      "bad argument #2 to 'list_append' (list, attr() or if_not_exists() expected, got string)" },
    { "list_append of a map", function() list_append("l", { a = 1 }) end,
      "bad argument #2 to 'list_append' (list, attr() or if_not_exists() expected, got map)" },
    { "list_append of a set", function() list_append("l", dynamo.set { 1 }) end,
      "bad argument #2 to 'list_append' (list, attr() or if_not_exists() expected, got set)" },
    { "list_append to a bad path", function() list_append(5, { 1 }) end,
      "bad argument #1 to 'list_append' (path expected, got number)" },
    { "list_prepend of a number", function() list_prepend("l", 1) end,
      "bad argument #2 to 'list_prepend' (list, attr() or if_not_exists() expected, got number)" },
    { "update of a string", function() update("SET a = :a") end, "bad argument #1 to 'update' (table expected, got string)" },
    { "an unknown action", function() update { sett = {} } end,
      "bad argument #1 to 'update' (unknown action 'sett' (expected set, remove, add or delete))" },
    { "a table action that is not a table", function() update { set = "a" } end,
      "bad argument #1 to 'update' (set: table expected, got string)" },
    { "an array in set", function() update { set = { 1 } } end,
      "bad argument #1 to 'update' (set: path strings expected as keys, got number)" },
    { "a bad path key", function() update { add = { ["a..b"] = 1 } } end,
      "bad argument #1 to 'update' (add: empty name at character 3 of \"a..b\")" },
    { "a bad value in the table form", function() update { delete = { s = { 1 } } } end,
      "bad argument #1 to 'update' (delete[\"s\"]: set expected, got table)" },
    { "a bad remove list", function() update { remove = 5 } end,
      "bad argument #1 to 'update' (remove: path or list of paths expected, got number)" },
    { "a bad remove item", function() update { remove = { "a", "" } } end,
      "bad argument #1 to 'update' (remove[2]: empty path)" },
    { "overlap in the table form", function() update { set = { a = 1, ["a.b"] = 2 } } end,
      "bad argument #1 to 'update' (paths 'a' and 'a.b' overlap; DynamoDB updates a path or a path inside it, not both)" },
    { "one path in two actions of the table form", function() update { set = { a = 1 }, remove = { "a" } } end,
      "bad argument #1 to 'update' (path 'a' is updated twice (SET and REMOVE))" },
  }
  for _, c in ipairs(errors) do
    it("rejects " .. c[1], function() assert.has_error(c[2], c[3]) end)
  end

  local compile_errors = {
    { "an empty builder", update(), "empty update (no set, remove, add or delete)" },
    { "an empty table", {}, "empty update (no set, remove, add or delete)" },
    { "a table with a bad action", { set = { a = print } }, "set[\"a\"]: value expected, got function" },
    { "a condition", attr("a"):eq(1), "update, table or string expected, got condition" },
    { "a number", 5, "update, table or string expected, got number" },
  }
  for _, c in ipairs(compile_errors) do
    it("rejects " .. c[1] .. " when compiled", function()
      assert.has_error(function() compile("update", c[2]) end, "bad argument #1 to 'update' (" .. c[3] .. ")")
    end)
  end
end)

describe("projections", function()
  run_cases("projection", {
    { "a list of paths", function() return { "a", "b.c", "l[0]" } end, "#n1, #n2.#n3, #n4[0]",
      { ["#n1"] = "a", ["#n2"] = "b", ["#n3"] = "c", ["#n4"] = "l" } },
    { "shared names", function() return { "a.x", "b.x", "a.y" } end, "#n1.#n2, #n3.#n2, #n1.#n4",
      { ["#n1"] = "a", ["#n2"] = "x", ["#n3"] = "b", ["#n4"] = "y" } },
    { "attr() objects", function() return { attr { "odd.name" }, attr("n") } end, "#n1, #n2",
      { ["#n1"] = "odd.name", ["#n2"] = "n" } },
    { "projection()", function() return expr.projection { "a", "b[1].c" } end, "#n1, #n2[1].#n3",
      { ["#n1"] = "a", ["#n2"] = "b", ["#n3"] = "c" }, nil, "a, b[1].c" },
  })

  local errors = {
    { "an empty list", {}, "empty list" },
    { "a string in projection()", "a, b", "list of paths expected, got string" },
    { "a bad path", { "a", "b..c" }, 'item 2: empty name at character 3 of "b..c"' },
    { "a number", { "a", 1 }, "item 2: path expected, got number" },
    { "a path listed twice", { "a", "b", "a" }, "item 3: 'a' is listed twice" },
    { "overlapping paths", { "a.b", "a" }, "item 2: paths 'a.b' and 'a' overlap; list one or the other" },
    { "conflicting paths", { "m.x", "m[0]" }, "item 2: paths 'm.x' and 'm[0]' conflict; an attribute is a list or a map, not both" },
  }
  for _, c in ipairs(errors) do
    it("rejects " .. c[1], function()
      assert.has_error(function() expr.projection(c[2]) end, "bad argument #1 to 'projection' (" .. c[3] .. ")")
      if type(c[2]) == "table" then
        assert.has_error(function() compile("projection", c[2]) end, "bad argument #1 to 'projection' (" .. c[3] .. ")")
      end
    end)
  end
end)

describe("contexts", function()
  it("reject what is not a builder or a string", function()
    assert.has_error(function() compile("condition", { a = 1 }) end,
      "bad argument #1 to 'condition' (condition or string expected, got table)")
    assert.has_error(function() compile("condition", update():set("a", 1)) end,
      "bad argument #1 to 'condition' (condition or string expected, got update)")
    assert.has_error(function() compile("condition", nil) end,
      "bad argument #1 to 'condition' (condition or string expected, got nil)")
    assert.has_error(function() expr.context("x") end, "bad argument #1 to 'context' (table or nil expected, got string)")
    assert.has_error(function() expr.context(nil, 1) end, "bad argument #2 to 'context' (table or nil expected, got number)")
  end)
end)

describe("errors", function()
  -- The "file:line:" prefix names the caller's line, not the library's.
  local cases = {
    { "attr", function() attr("") end },
    { "a method", function() attr("a"):eq() end },
    { "arithmetic", function() return attr("a") + "x" end },
    { "all", function() all {} end },
    { "none", function() none(1) end },
    { "key", function() key(1) end },
    { "a key method", function() key("k"):contains(1) end },
    { "size", function() size(1) end },
    { "update", function() update(1) end },
    { "a chained update", function() update():set("a", 1):set("a", 2) end },
    { "remove", function() update():remove(1) end },
    { "if_not_exists", function() if_not_exists(1, 1) end },
    { "list_append", function() list_append(1, {}) end },
    { "list_prepend", function() list_prepend(1, {}) end },
    { "list_append's list", function() list_append("l", 1) end },
    { "projection", function() expr.projection {} end },
    { "a context", function() expr.context():condition(1) end },
  }
  for _, c in ipairs(cases) do
    it("point at the caller for " .. c[1], function()
      local ok, err = pcall(c[2])
      assert.is_false(ok)
      assert.matches("^[^:]*expr_spec%.lua:%d+: ", err)
    end)
  end
end)

describe("expr.public", function()
  it("lists the functions for end users", function()
    local names = {}
    for name, fn in pairs(expr.public) do
      assert.are.equal("function", type(fn))
      assert.are.equal(expr[name], fn)
      names[#names + 1] = name
    end
    table.sort(names)
    assert.are.same({ "all", "any", "attr", "if_not_exists", "key", "list_append", "list_prepend", "none",
      "projection", "size", "update" }, names)
  end)
end)
