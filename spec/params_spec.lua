-- dynamo.params: friendly snake_case parameters beside the AWS names. Each
-- name is checked twice: in the request body the client sends (through a
-- recording transport around the real one) and by what the real server did.
local dynamo = require "dynamo"
local friendly = require "dynamo.params"
local api = require "dynamo.operations"
local servers = require "support.servers"

local creds = { access_key_id = "AKIDTEST", secret_access_key = "test-secret" }

local op_by_method = {}
for _, op in ipairs(api.operations) do op_by_method[op.method] = op end

-- Wraps db's transport so every request body is kept in rec.bodies.
local function record(db)
  local real = db.transport
  local rec = { bodies = {} }
  db.transport = {
    request = function(_, method, url, headers, body)
      rec.bodies[#rec.bodies + 1] = body
      rec.last = body
      return real:request(method, url, headers, body)
    end,
    close = function() real:close() end,
  }
  return rec
end

-- Asserts the last request body contains each JSON fragment.
local function sent(rec, ...)
  for _, fragment in ipairs { ... } do
    assert(rec.last:find(fragment, 1, true), "request body lacks " .. fragment .. ": " .. rec.last)
  end
end

local function deep_copy(v, seen)
  if type(v) ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local out = {}
  seen[v] = out
  for k, x in pairs(v) do out[deep_copy(k, seen)] = deep_copy(x, seen) end
  return setmetatable(out, getmetatable(v))
end

local function sks(items)
  local out = {}
  for i, item in ipairs(items or {}) do out[i] = item.sk end
  return out
end

for _, server in ipairs(servers.list()) do
  describe("friendly parameters on " .. server.name, function()
    local db = servers.client(server)
    local rec = record(db)
    local name = servers.table_name("params")

    setup(function()
      servers.create_table(servers.client(server), name, {
        AttributeDefinitions = {
          { AttributeName = "pk", AttributeType = "S" },
          { AttributeName = "sk", AttributeType = "N" },
          { AttributeName = "g", AttributeType = "S" },
        },
        GlobalSecondaryIndexes = { {
          IndexName = "by_g",
          KeySchema = { { AttributeName = "g", KeyType = "HASH" }, { AttributeName = "sk", KeyType = "RANGE" } },
          Projection = { ProjectionType = "ALL" },
        } },
      })
      for i = 1, 6 do
        assert(db:put_item { TableName = name, Item = { pk = "q", sk = i, odd = i % 2, g = i <= 3 and "low" or "high" } })
      end
    end)
    teardown(function() db:delete_table { TableName = name } end)

    local function read(pk, sk)
      local res = assert(db:get_item { TableName = name, Key = { pk = pk, sk = sk }, ConsistentRead = true })
      return res.Item
    end

    it("get_item: table, key, projection, names, consistent, return_consumed", function()
      assert(db:put_item { TableName = name, Item = { pk = "g", sk = 1, v = "one", w = 2 } })
      local res = assert(db:get_item {
        table = name, key = { pk = "g", sk = 1 }, projection = "#v, pk", names = { ["#v"] = "v" },
        consistent = true, return_consumed = true,
      })
      sent(rec, '"TableName":"' .. name .. '"', '"Key":{', '"ProjectionExpression":"#v, pk"',
        '"ExpressionAttributeNames":{"#v":"v"}', '"ConsistentRead":true', '"ReturnConsumedCapacity":"TOTAL"')
      assert.are.same({ pk = "g", v = "one" }, res.Item)
      assert.are.equal(name, res.ConsumedCapacity.TableName)
      assert.is_number(res.ConsumedCapacity.CapacityUnits)
    end)

    it("put_item: item, condition, values, return_values in lower case, return_consumed and return_metrics", function()
      assert(db:put_item { table = name, item = { pk = "p", sk = 1, v = 1 } })
      assert.are.same({ pk = "p", sk = 1, v = 1 }, read("p", 1))
      local res = assert(db:put_item {
        table = name, item = { pk = "p", sk = 1, v = 2 },
        condition = "#v = :one", names = { ["#v"] = "v" }, values = { [":one"] = 1 },
        return_values = "all_old", return_consumed = "indexes", return_metrics = true,
      })
      sent(rec, '"Item":{', '"ConditionExpression":"#v = :one"', '"ExpressionAttributeValues":{":one":{"N":"1"}}',
        '"ReturnValues":"ALL_OLD"', '"ReturnConsumedCapacity":"INDEXES"', '"ReturnItemCollectionMetrics":"SIZE"')
      assert.are.same({ pk = "p", sk = 1, v = 1 }, res.Attributes)
      assert.are.equal(name, res.ConsumedCapacity.TableName)
      assert.are.same({ pk = "p", sk = 1, v = 2 }, read("p", 1))
    end)

    it("put_item: return_values_on_failure in lower case", function()
      assert(db:put_item { table = name, item = { pk = "f", sk = 1, v = 1 } })
      local res, err = db:put_item {
        table = name, item = { pk = "f", sk = 1, v = 9 }, condition = "v = :two", values = { [":two"] = 2 },
        return_values_on_failure = "all_old",
      }
      sent(rec, '"ReturnValuesOnConditionCheckFailure":"ALL_OLD"')
      assert.is_nil(res)
      assert.are.equal("ConditionalCheckFailedException", err.code)
      if server.id == "local" then -- dynalite accepts the member but returns no item
        assert.are.same({ pk = "f", sk = 1, v = 1 }, err.Item)
      end
      assert.are.same({ pk = "f", sk = 1, v = 1 }, read("f", 1))
    end)

    it("update_item: key, update, condition, names, values, return_values", function()
      assert(db:put_item { TableName = name, Item = { pk = "u", sk = 1, n = 1 } })
      local res = assert(db:update_item {
        table = name, key = { pk = "u", sk = 1 }, update = "SET #n = #n + :inc, tag = :t",
        condition = "attribute_exists(pk)", names = { ["#n"] = "n" }, values = { [":inc"] = 5, [":t"] = "x" },
        return_values = "updated_new",
      })
      sent(rec, '"UpdateExpression":"SET #n = #n + :inc, tag = :t"', '"ConditionExpression":"attribute_exists(pk)"',
        '"ReturnValues":"UPDATED_NEW"')
      assert.are.same({ n = 6, tag = "x" }, res.Attributes)
      assert.are.same({ pk = "u", sk = 1, n = 6, tag = "x" }, read("u", 1))
      local res2 = assert(db:update_item {
        table = name, key = { pk = "u", sk = 1 }, update = "REMOVE tag", return_values = "All_Old",
      })
      sent(rec, '"ReturnValues":"ALL_OLD"')
      assert.are.same({ pk = "u", sk = 1, n = 6, tag = "x" }, res2.Attributes)
      assert.are.same({ pk = "u", sk = 1, n = 6 }, read("u", 1))
    end)

    it("delete_item: key, condition, values, return_values", function()
      assert(db:put_item { TableName = name, Item = { pk = "d", sk = 1, v = 3 } })
      local res = assert(db:delete_item {
        table = name, key = { pk = "d", sk = 1 }, condition = "v = :v", values = { [":v"] = 3 },
        return_values = "all_old",
      })
      assert.are.same({ pk = "d", sk = 1, v = 3 }, res.Attributes)
      assert.is_nil(read("d", 1))
    end)

    it("query: key as a string, forward, limit, start, consistent, return_consumed", function()
      local res = assert(db:query {
        table = name, key = "pk = :p", values = { [":p"] = "q" }, forward = false, limit = 3, consistent = true,
        return_consumed = true,
      })
      sent(rec, '"KeyConditionExpression":"pk = :p"', '"ScanIndexForward":false', '"Limit":3', '"ConsistentRead":true')
      assert.are.same({ 6, 5, 4 }, sks(res.Items))
      assert.are.same({ pk = "q", sk = 4 }, res.LastEvaluatedKey)
      assert.are.equal(name, res.ConsumedCapacity.TableName)
      local rest = assert(db:query {
        table = name, key_condition = "pk = :p", values = { [":p"] = "q" }, forward = false,
        start = res.LastEvaluatedKey,
      })
      sent(rec, '"ExclusiveStartKey":{')
      assert.are.same({ 3, 2, 1 }, sks(rest.Items))
    end)

    it("query: filter, projection, names, select in lower case", function()
      local res = assert(db:query {
        table = name, key_condition = "pk = :p AND sk > :s", filter = "#o = :one", projection = "sk",
        names = { ["#o"] = "odd" }, values = { [":p"] = "q", [":s"] = 1, [":one"] = 1 },
      })
      sent(rec, '"FilterExpression":"#o = :one"', '"ProjectionExpression":"sk"')
      assert.are.same({ { sk = 3 }, { sk = 5 } }, res.Items)
      local count = assert(db:query { table = name, key = "pk = :p", values = { [":p"] = "q" }, select = "count" })
      sent(rec, '"Select":"COUNT"')
      assert.are.equal(6, count.Count)
      assert.is_nil(count.Items)
    end)

    it("query: index", function()
      local res = assert(db:query { table = name, index = "by_g", key = "g = :g", values = { [":g"] = "high" } })
      sent(rec, '"IndexName":"by_g"')
      assert.are.same({ 4, 5, 6 }, sks(res.Items))
    end)

    it("query: key as a table of equalities (an expression builder)", function()
      local res = assert(db:query { table = name, key = { pk = "q" }, consistent = true })
      assert.are.same({ 1, 2, 3, 4, 5, 6 }, sks(res.Items))
      local both = assert(db:query { table = name, key = { pk = "q", sk = 4 } })
      assert.are.same({ 4 }, sks(both.Items))
      -- A builder's placeholders never collide with the caller's own.
      local filtered = assert(db:query {
        table = name, key = { pk = "q" }, filter = "odd = :v1", values = { [":v1"] = 0 },
      })
      assert.are.same({ 2, 4, 6 }, sks(filtered.Items))
      -- The AWS member may hold the builder too.
      local raw = assert(db:query { TableName = name, KeyConditionExpression = { pk = "q" }, Limit = 2 })
      assert.are.same({ 1, 2 }, sks(raw.Items))
    end)

    it("scan: segment, segments, filter, values, select, limit, start, index", function()
      local seen = {}
      for segment = 0, 1 do
        local res = assert(db:scan {
          table = name, segment = segment, segments = 2, filter = "pk = :p", values = { [":p"] = "q" },
          consistent = true,
        })
        sent(rec, '"Segment":' .. segment, '"TotalSegments":2')
        for _, item in ipairs(res.Items) do
          assert.is_nil(seen[item.sk])
          seen[item.sk] = true
        end
      end
      assert.are.same({ true, true, true, true, true, true }, seen)

      local first = assert(db:scan { table = name, limit = 2, projection = "pk, sk" })
      assert.are.equal(2, #first.Items)
      assert.is_table(first.LastEvaluatedKey)
      local second = assert(db:scan { table = name, limit = 2, start = first.LastEvaluatedKey })
      assert.are.equal(2, #second.Items)
      assert.are_not.same(first.Items[1], second.Items[1])

      local count = assert(db:scan { table = name, index = "by_g", select = "Count" })
      sent(rec, '"Select":"COUNT"', '"IndexName":"by_g"')
      assert.are.equal(6, count.Count)
    end)

    it("compiles builders in friendly and AWS members, beside the caller's own placeholders", function()
      local attr = dynamo.attr
      assert(db:put_item { table = name, item = { pk = "bld", sk = 1, n = 1, tag = "x" },
        condition = attr("pk"):not_exists() })
      -- A builder (friendly member) beside a raw string using the caller's #n1 and :v1.
      local res = assert(db:update_item {
        table = name, key = { pk = "bld", sk = 1 },
        update = dynamo.update():set("n", attr("n") + 1):set("m", 7):remove("tag"),
        condition = "#n1 = :v1", names = { ["#n1"] = "n" }, values = { [":v1"] = 1 },
        return_values = "all_new",
      })
      assert.are.same({ pk = "bld", sk = 1, n = 2, m = 7 }, res.Attributes)
      -- A builder in an AWS member.
      local res2 = assert(db:update_item {
        TableName = name, Key = { pk = "bld", sk = 1 },
        UpdateExpression = dynamo.update():remove("m"), ConditionExpression = attr("n"):eq(2),
        ReturnValues = "ALL_NEW",
      })
      assert.are.same({ pk = "bld", sk = 1, n = 2 }, res2.Attributes)
      local got = assert(db:get_item { table = name, key = { pk = "bld", sk = 1 }, projection = { "n" } })
      assert.are.same({ n = 2 }, got.Item)
      local q = assert(db:query { table = name, key = dynamo.all { dynamo.key("pk"):eq("q"), dynamo.key("sk"):between(2, 4) },
        filter = attr("odd"):eq(1) })
      assert.are.same({ 3 }, sks(q.Items))
      assert.has_error(function() db:put_item { table = name, item = { pk = "bld", sk = 2 }, condition = 5 } end)
    end)

    it("keeps working with the AWS names", function()
      assert(db:put_item { TableName = name, Item = { pk = "raw", sk = 1, v = 1 }, ReturnValues = "NONE" })
      local res = assert(db:update_item {
        TableName = name, Key = { pk = "raw", sk = 1 }, UpdateExpression = "SET v = :v",
        ExpressionAttributeValues = { [":v"] = 2 }, ReturnValues = "ALL_NEW",
      })
      assert.are.same({ pk = "raw", sk = 1, v = 2 }, res.Attributes)
      local q = assert(db:query {
        TableName = name, KeyConditionExpression = "pk = :p", ExpressionAttributeValues = { [":p"] = "raw" },
        ReturnConsumedCapacity = "TOTAL",
      })
      assert.are.same({ { pk = "raw", sk = 1, v = 2 } }, q.Items)
      assert(db:delete_item { TableName = name, Key = { pk = "raw", sk = 1 } })
      assert.is_nil(read("raw", 1))
    end)

    it("treats an AWS enum member the same whether or not a friendly name is beside it", function()
      -- All AWS names: sent as given. One friendly name beside it: upper-cased.
      local aws_only = db:put_item { TableName = name, Item = { pk = "case", sk = 1 }, ReturnValues = "all_old" }
      local mixed = db:put_item { table = name, Item = { pk = "case", sk = 1 }, ReturnValues = "all_old" }
      assert.are.equal(mixed ~= nil, aws_only ~= nil)
    end)

    it("mixes friendly and AWS names for different members", function()
      assert(db:put_item { table = name, Item = { pk = "mix", sk = 1, v = 1 } })
      local res = assert(db:get_item { TableName = name, key = { pk = "mix", sk = 1 }, ConsistentRead = true,
        projection = "v" })
      assert.are.same({ v = 1 }, res.Item)
    end)

    if server.supports.ExecuteStatement then
      it("execute_statement: statement, parameters, limit, next_token, consistent, return_consumed", function()
        local stmt = 'SELECT * FROM "' .. name .. '" WHERE pk = ?'
        local first = assert(db:execute_statement {
          statement = stmt, parameters = { "q" }, limit = 4, consistent = true, return_consumed = true,
        })
        sent(rec, '"Statement":"SELECT * FROM \\"' .. name .. '\\" WHERE pk = ?"', '"Parameters":[{"S":"q"}]',
          '"Limit":4', '"ConsistentRead":true', '"ReturnConsumedCapacity":"TOTAL"')
        assert.are.same({ 1, 2, 3, 4 }, sks(first.Items))
        assert.is_string(first.NextToken)
        local rest = assert(db:execute_statement { statement = stmt, parameters = { "q" }, next_token = first.NextToken })
        sent(rec, '"NextToken":"' .. first.NextToken .. '"')
        assert.are.same({ 5, 6 }, sks(rest.Items))
      end)

      it("execute_statement: return_values_on_failure in lower case", function()
        assert(db:put_item { TableName = name, Item = { pk = "x", sk = 1, v = 1 } })
        local res, err = db:execute_statement {
          statement = 'UPDATE "' .. name .. '" SET v = 5 WHERE pk = ? AND sk = ? AND v = ?',
          parameters = { "x", 1, 2 }, return_values_on_failure = "all_old",
        }
        sent(rec, '"ReturnValuesOnConditionCheckFailure":"ALL_OLD"')
        assert.is_nil(res)
        assert.are.equal("ConditionalCheckFailedException", err.code)
        assert.are.same({ pk = "x", sk = 1, v = 1 }, err.Item)
      end)
    end
  end)
end

describe("friendly parameters", function()
  local db = dynamo.new { region = "us-east-1", endpoint = "http://127.0.0.1:1", credentials = creds }

  -- Every pair of a friendly name and the AWS member it stands for, with
  -- an operation that has the member, and a value of the right type.
  local pairs_to_check = {
    { "get_item", "table", "TableName", "t" },
    { "get_item", "key", "Key", {} },
    { "get_item", "consistent", "ConsistentRead", true },
    { "get_item", "projection", "ProjectionExpression", "a" },
    { "get_item", "names", "ExpressionAttributeNames", {} },
    { "put_item", "item", "Item", {} },
    { "put_item", "condition", "ConditionExpression", "a = b" },
    { "put_item", "values", "ExpressionAttributeValues", {} },
    { "put_item", "return_values", "ReturnValues", "NONE" },
    { "put_item", "return_consumed", "ReturnConsumedCapacity", "TOTAL" },
    { "put_item", "return_metrics", "ReturnItemCollectionMetrics", "SIZE" },
    { "put_item", "return_values_on_failure", "ReturnValuesOnConditionCheckFailure", "NONE" },
    { "update_item", "update", "UpdateExpression", "SET a = b" },
    { "query", "key", "KeyConditionExpression", "a = :a" },
    { "query", "key_condition", "KeyConditionExpression", "a = :a" },
    { "query", "forward", "ScanIndexForward", true },
    { "query", "index", "IndexName", "i" },
    { "query", "select", "Select", "COUNT" },
    { "query", "start", "ExclusiveStartKey", {} },
    { "scan", "filter", "FilterExpression", "a = b" },
    { "scan", "limit", "Limit", 1 },
    { "scan", "segment", "Segment", 0 },
    { "scan", "segments", "TotalSegments", 1 },
    { "execute_statement", "statement", "Statement", "SELECT" },
    { "execute_statement", "parameters", "Parameters", {} },
    { "execute_statement", "next_token", "NextToken", "t" },
    { "transact_write_items", "token", "ClientRequestToken", "t" },
  }

  it("raises for a member given twice, naming the friendly name and the AWS one", function()
    for _, case in ipairs(pairs_to_check) do
      local method, short, aws, value = case[1], case[2], case[3], case[4]
      local others = {}
      for member in pairs(op_by_method[method].members) do
        if member ~= aws then others[#others + 1] = member end
      end
      table.sort(others)
      -- Tables of several sizes, so pairs() meets the two names in both orders.
      for extra = 0, 6 do
        local params = { [short] = value, [aws] = value }
        for j = 1, math.min(extra, #others) do params[others[j]] = "x" end
        assert.has_error(function() db[method](db, params) end,
          "bad argument '" .. short .. "' to '" .. method .. "' (given twice, also as '" .. aws .. "')")
      end
    end
  end)

  it("raises for an unknown name, naming it", function()
    assert.has_error(function() db:get_item { table = "t", key = {}, tabel = "x" } end,
      "bad argument 'tabel' to 'get_item' (GetItem has no parameter of that name)")
    assert.has_error(function() db:scan { table = "t", key = { pk = "x" } } end,
      "bad argument 'key' to 'scan' (Scan has no parameter of that name)")
    assert.has_error(function() db:get_item { table = "t", key = {}, update = "SET a = b" } end,
      "bad argument 'update' to 'get_item' (GetItem has no parameter of that name)")
    assert.has_error(function() db:put_item { table = "t", item = {}, page_size = 3 } end,
      "bad argument 'page_size' to 'put_item' (PutItem has no parameter of that name)")
    assert.has_error(function() db:get_item { table = "t", key = {}, [1] = "x" } end,
      "bad argument '1' to 'get_item' (GetItem has no parameter of that name)")
  end)

  it("still checks required members and types after translation", function()
    assert.has_error(function() db:get_item { key = {} } end, "bad argument 'TableName' to 'get_item' (required)")
    assert.has_error(function() db:get_item { table = "t", key = {}, consistent = "yes" } end,
      "bad argument 'ConsistentRead' to 'get_item' (boolean expected, got string)")
  end)

  -- Runs fn (whose call of db is on line `line` of this file) and asserts
  -- the error names that line and reads `msg`.
  local function raises_at(line, msg, fn)
    local ok, err = pcall(fn)
    assert.is_false(ok)
    assert.are.equal("spec/params_spec.lua:" .. line .. ": " .. msg, err)
  end
  local function here() return debug.getinfo(2, "l").currentline end

  it("points argument errors at the caller's line", function()
    raises_at(here(), "bad argument 'bogus' to 'put_item' (PutItem has no parameter of that name)", function() db:put_item { table = "t", item = {}, bogus = 1 } end)
    raises_at(here(), "bad argument 'Bogus' to 'get_item' (GetItem has no parameter of that name)", function() db:get_item { TableName = "t", Key = {}, Bogus = 1 } end)
    raises_at(here(), "bad argument 'TableName' to 'put_item' (string expected, got number)", function() db:put_item { TableName = 5, Item = {} } end)
    raises_at(here(), "bad argument 'TableName' to 'put_item' (required)", function() db:put_item { item = {} } end)
    raises_at(here(), "bad argument #1 to 'put_item' (table expected, got number)", function() db:put_item(5) end)
    raises_at(here(), "bad argument 'TableName' to 'put_item' (required)", function() db:call("PutItem", { Item = {} }) end)
    raises_at(here(), "bad argument 'condition' to 'put_item' (condition or string expected, got number)", function() db:put_item { table = "t", item = {}, condition = 5 } end)
  end)

  it("never modifies the caller's parameters", function()
    local item = { pk = "a", sk = 1 }
    local params = {
      table = "t", item = item, condition = "attribute_not_exists(pk)", return_values = "all_old",
      return_consumed = true, names = { ["#a"] = "a" }, values = { [":b"] = 1 },
    }
    local before = deep_copy(params)
    local out = friendly.translate(op_by_method.put_item, params)
    assert.are.same(before, params)
    assert.are.equal(item, params.item)
    assert.are_not.equal(params, out)
    assert.are.same({
      TableName = "t", Item = item, ConditionExpression = "attribute_not_exists(pk)", ReturnValues = "ALL_OLD",
      ReturnConsumedCapacity = "TOTAL", ExpressionAttributeNames = { ["#a"] = "a" },
      ExpressionAttributeValues = { [":b"] = 1 },
    }, out)
    -- Through a real call too (the call fails to connect; the table stays as it was).
    local res, err = db:put_item(params)
    assert.is_nil(res)
    assert.are.equal("ConnectionError", err.code)
    assert.are.same(before, params)
  end)

  it("returns AWS-only parameters as they are", function()
    local params = { TableName = "t", Key = { pk = "a" } }
    assert.are.equal(params, friendly.translate(op_by_method.get_item, params))
  end)

  it("maps each AWS member back to its friendly name", function()
    assert.are.equal("table", friendly.friendly_name("TableName"))
    assert.are.equal("key", friendly.friendly_name("KeyConditionExpression"))
    assert.are.equal("key", friendly.friendly_name("Key"))
    assert.are.equal("condition", friendly.friendly_name("ConditionExpression"))
    assert.are.equal("Bogus", friendly.friendly_name("Bogus"))
  end)
end)
