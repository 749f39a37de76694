-- Every DynamoDB operation, called through its generated method against
-- each real server. Operations a server implements are exercised for real;
-- the others must reach the server and come back as its
-- UnknownOperationException error value. Each outcome is recorded in
-- .cache/operations-coverage.tsv, which `.ci/test` prints as a table.
local dynamo = require "dynamo"
local servers = require "support.servers"
local api = require "dynamo.operations"

local coverage = {}

local function record(op, server, outcome)
  coverage[#coverage + 1] = op .. "\t" .. server.id .. "\t" .. outcome
end

local function ok(res, err)
  assert(res, err and tostring(err))
  return res
end

local function find(list, value)
  for _, v in ipairs(list) do if v == value then return true end end
  return false
end

-- Exercises, in order, for the operations a server supports.
local scenarios = {
  { "CreateTable", function(db, ctx)
    local res = ok(db:create_table {
      TableName = ctx.table,
      AttributeDefinitions = { { AttributeName = "pk", AttributeType = "S" }, { AttributeName = "sk", AttributeType = "N" } },
      KeySchema = { { AttributeName = "pk", KeyType = "HASH" }, { AttributeName = "sk", KeyType = "RANGE" } },
      ProvisionedThroughput = { ReadCapacityUnits = 5, WriteCapacityUnits = 5 },
    })
    assert.are.equal(ctx.table, res.TableDescription.TableName)
  end },
  { "DescribeTable", function(db, ctx)
    local t = servers.wait_active(db, ctx.table)
    assert.are.equal("ACTIVE", t.TableStatus)
    assert.are.equal(5, t.ProvisionedThroughput.ReadCapacityUnits)
    ctx.arn = t.TableArn
  end },
  { "ListTables", function(db, ctx)
    local res = ok(db:list_tables {})
    assert.is_true(find(res.TableNames, ctx.table))
  end },
  { "PutItem", function(db, ctx)
    ok(db:put_item { TableName = ctx.table, Item = ctx.item })
    local res = ok(db:put_item { TableName = ctx.table, Item = ctx.item, ReturnValues = "ALL_OLD" })
    assert.are.same(ctx.item, res.Attributes)
  end },
  { "GetItem", function(db, ctx)
    local res = ok(db:get_item { TableName = ctx.table, Key = { pk = "a", sk = 1 }, ConsistentRead = true })
    assert.are.same(ctx.item, res.Item)
    local none = ok(db:get_item { TableName = ctx.table, Key = { pk = "nobody", sk = 1 } })
    assert.is_nil(none.Item)
  end },
  { "UpdateItem", function(db, ctx)
    local res = ok(db:update_item {
      TableName = ctx.table, Key = { pk = "a", sk = 1 },
      UpdateExpression = "SET #c = if_not_exists(#c, :zero) + :one",
      ExpressionAttributeNames = { ["#c"] = "count" },
      ExpressionAttributeValues = { [":zero"] = 0, [":one"] = 1 },
      ReturnValues = "UPDATED_NEW",
    })
    assert.are.same({ count = 1 }, res.Attributes)
  end },
  { "BatchWriteItem", function(db, ctx)
    local puts = {}
    for i = 2, 4 do puts[#puts + 1] = { PutRequest = { Item = { pk = "a", sk = i, n = i * 10 } } } end
    puts[#puts + 1] = { PutRequest = { Item = { pk = "b", sk = 1 } } }
    local res = ok(db:batch_write_item { RequestItems = { [ctx.table] = puts } })
    assert.are.same({}, res.UnprocessedItems)
  end },
  { "BatchGetItem", function(db, ctx)
    local res = ok(db:batch_get_item { RequestItems = { [ctx.table] = {
      Keys = { { pk = "a", sk = 2 }, { pk = "a", sk = 3 } }, ConsistentRead = true } } })
    local items = res.Responses[ctx.table]
    table.sort(items, function(x, y) return x.sk < y.sk end)
    assert.are.same({ { pk = "a", sk = 2, n = 20 }, { pk = "a", sk = 3, n = 30 } }, items)
  end },
  { "Query", function(db, ctx)
    local page = ok(db:query {
      TableName = ctx.table, KeyConditionExpression = "pk = :p AND sk > :s",
      ExpressionAttributeValues = { [":p"] = "a", [":s"] = 1 }, Limit = 2,
    })
    assert.are.equal(2, #page.Items)
    assert.are.same({ pk = "a", sk = 3 }, page.LastEvaluatedKey)
    local rest = ok(db:query {
      TableName = ctx.table, KeyConditionExpression = "pk = :p AND sk > :s",
      ExpressionAttributeValues = { [":p"] = "a", [":s"] = 1 }, ExclusiveStartKey = page.LastEvaluatedKey,
    })
    assert.are.same({ { pk = "a", sk = 4, n = 40 } }, rest.Items)
  end },
  { "Scan", function(db, ctx)
    local res = ok(db:scan { TableName = ctx.table, FilterExpression = "n >= :m",
      ExpressionAttributeValues = { [":m"] = 30 } })
    assert.are.equal(2, res.Count)
  end },
  { "TransactWriteItems", function(db, ctx)
    ok(db:transact_write_items { TransactItems = {
      { Put = { TableName = ctx.table, Item = { pk = "t", sk = 1, v = "one" } } },
      { ConditionCheck = { TableName = ctx.table, Key = { pk = "a", sk = 2 }, ConditionExpression = "attribute_exists(pk)" } },
    } })
    local res, err = db:transact_write_items { TransactItems = {
      { Put = { TableName = ctx.table, Item = { pk = "t", sk = 2 } } },
      { ConditionCheck = { TableName = ctx.table, Key = { pk = "a", sk = 2 }, ConditionExpression = "n = :x",
        ExpressionAttributeValues = { [":x"] = 999 }, ReturnValuesOnConditionCheckFailure = "ALL_OLD" } },
    } }
    assert.is_nil(res)
    assert.are.equal("TransactionCanceledException", err.code)
    assert.are.equal("None", err.CancellationReasons[1].Code)
    assert.are.equal("ConditionalCheckFailed", err.CancellationReasons[2].Code)
    assert.are.same({ pk = "a", sk = 2, n = 20 }, err.CancellationReasons[2].Item)
  end },
  { "TransactGetItems", function(db, ctx)
    local res = ok(db:transact_get_items { TransactItems = {
      { Get = { TableName = ctx.table, Key = { pk = "t", sk = 1 } } },
      { Get = { TableName = ctx.table, Key = { pk = "a", sk = 2 } } },
    } })
    assert.are.same({ pk = "t", sk = 1, v = "one" }, res.Responses[1].Item)
    assert.are.same({ pk = "a", sk = 2, n = 20 }, res.Responses[2].Item)
  end },
  { "ExecuteStatement", function(db, ctx)
    local res = ok(db:execute_statement {
      Statement = 'SELECT * FROM "' .. ctx.table .. '" WHERE pk = ? AND sk = ?', Parameters = { "a", 3 } })
    assert.are.same({ { pk = "a", sk = 3, n = 30 } }, res.Items)
  end },
  { "BatchExecuteStatement", function(db, ctx)
    local res = ok(db:batch_execute_statement { Statements = {
      { Statement = 'SELECT * FROM "' .. ctx.table .. '" WHERE pk = ? AND sk = ?', Parameters = { "a", 4 } },
      { Statement = 'SELECT * FROM "' .. ctx.table .. '" WHERE pk = ? AND sk = ?', Parameters = { "a", 2 } },
    } })
    assert.are.same({ pk = "a", sk = 4, n = 40 }, res.Responses[1].Item)
    assert.are.same({ pk = "a", sk = 2, n = 20 }, res.Responses[2].Item)
  end },
  { "ExecuteTransaction", function(db, ctx)
    local res = ok(db:execute_transaction { TransactStatements = {
      { Statement = 'UPDATE "' .. ctx.table .. '" SET v = ? WHERE pk = ? AND sk = ?', Parameters = { "two", "t", 1 } },
    } })
    -- DynamoDB answers one empty entry per write statement; DynamoDB Local none.
    assert.is_table(res.Responses)
    for _, r in ipairs(res.Responses) do assert.are.same({}, r) end
    local got = ok(db:get_item { TableName = ctx.table, Key = { pk = "t", sk = 1 } })
    assert.are.equal("two", got.Item.v)
  end },
  { "DeleteItem", function(db, ctx)
    local res = ok(db:delete_item { TableName = ctx.table, Key = { pk = "b", sk = 1 }, ReturnValues = "ALL_OLD" })
    assert.are.same({ pk = "b", sk = 1 }, res.Attributes)
    local gone = ok(db:get_item { TableName = ctx.table, Key = { pk = "b", sk = 1 } })
    assert.is_nil(gone.Item)
  end },
  { "UpdateTable", function(db, ctx)
    local res = ok(db:update_table { TableName = ctx.table,
      ProvisionedThroughput = { ReadCapacityUnits = 7, WriteCapacityUnits = 5 } })
    assert.are.equal(ctx.table, res.TableDescription.TableName)
    local t = servers.wait_active(db, ctx.table)
    assert.are.equal(7, t.ProvisionedThroughput.ReadCapacityUnits)
  end },
  { "UpdateTimeToLive", function(db, ctx)
    local res = ok(db:update_time_to_live { TableName = ctx.table,
      TimeToLiveSpecification = { Enabled = true, AttributeName = "expires" } })
    assert.are.same({ Enabled = true, AttributeName = "expires" }, res.TimeToLiveSpecification)
    ctx.ttl_enabled = true
  end },
  { "DescribeTimeToLive", function(db, ctx)
    local res = ok(db:describe_time_to_live { TableName = ctx.table })
    local want = ctx.ttl_enabled and "ENABLED" or "DISABLED"
    assert.are.equal(want, res.TimeToLiveDescription.TimeToLiveStatus)
  end },
  { "DescribeLimits", function(db)
    local res = ok(db:describe_limits {})
    assert.is_true(res.TableMaxReadCapacityUnits > 0)
  end },
  { "TagResource", function(db, ctx)
    ok(db:tag_resource { ResourceArn = ctx.arn, Tags = { { Key = "team", Value = "core" }, { Key = "env", Value = "test" } } })
  end },
  { "ListTagsOfResource", function(db, ctx)
    local res = ok(db:list_tags_of_resource { ResourceArn = ctx.arn })
    table.sort(res.Tags, function(x, y) return x.Key < y.Key end)
    assert.are.same({ { Key = "env", Value = "test" }, { Key = "team", Value = "core" } }, res.Tags)
  end },
  { "UntagResource", function(db, ctx)
    ok(db:untag_resource { ResourceArn = ctx.arn, TagKeys = { "env" } })
    local res = ok(db:list_tags_of_resource { ResourceArn = ctx.arn })
    assert.are.same({ { Key = "team", Value = "core" } }, res.Tags)
  end },
  { "DeleteTable", function(db, ctx)
    local res = ok(db:delete_table { TableName = ctx.table })
    assert.are.equal(ctx.table, res.TableDescription.TableName)
  end },
}

local exercised = {}
for _, s in ipairs(scenarios) do exercised[s[1]] = true end

-- Placeholder arguments that satisfy the client's own checks, for
-- operations the server will refuse as unknown before validating them.
local placeholder = { string = "placeholder", table = {}, integer = 1, number = 1, boolean = true }
local ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/placeholder"

local function placeholder_params(op)
  local params = {}
  for _, name in ipairs(op.required) do
    params[name] = name:match("Arn$") and ARN or placeholder[op.members[name]]
  end
  return params
end

for _, server in ipairs(servers.list()) do
  describe("operations on " .. server.name, function()
    local db = servers.client(server)
    local ctx = {
      table = servers.table_name("ops"),
      item = { pk = "a", sk = 1, name = "Ada", score = 1.5, big = 9007199254740993, tags = { "x", "y" },
        profile = { age = 36, active = true, nothing = dynamo.null, langs = { "lua", "c" } } },
    }

    for _, s in ipairs(scenarios) do
      local name, fn = s[1], s[2]
      if server.supports[name] then
        it(name .. " works", function()
          fn(db, ctx)
          record(name, server, "exercised")
        end)
      end
    end

    for _, op in ipairs(api.operations) do
      if not server.supports[op.name] then
        it(op.name .. " reaches the server, which refuses it as unknown", function()
          local res, err = db[op.method](db, placeholder_params(op))
          assert.is_nil(res)
          assert.are.equal("UnknownOperationException", err.code)
          assert.are.equal(400, err.status)
          assert.are.equal(op.name, err.operation)
          record(op.name, server, "unknown to server")
        end)
      end
    end

    it("every supported operation has a scenario", function()
      for name in pairs(server.supports) do
        assert(exercised[name], name .. " is supported by " .. server.name .. " but not exercised")
      end
    end)
  end)
end

describe("operation coverage", function()
  it("calls every operation of the API on every server", function()
    local seen = {}
    for _, line in ipairs(coverage) do
      local op, server = line:match("^(%S+)\t(%S+)")
      seen[op .. "@" .. server] = true
    end
    for _, server in ipairs(servers.list()) do
      for _, op in ipairs(api.operations) do
        assert(seen[op.name .. "@" .. server.id], op.name .. " was not called on " .. server.name)
      end
    end
    local f = assert(io.open(".cache/operations-coverage.tsv", "w"))
    f:write(table.concat(coverage, "\n"), "\n")
    f:close()
  end)
end)
