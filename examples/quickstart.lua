-- Quickstart: create a table, write, read, query and clean up.
-- Run it against DynamoDB Local with `.ci/demo`, or against AWS with your
-- usual AWS_REGION and credentials variables set.
local dynamo = require "dynamo"

local db = dynamo.new {
  endpoint = os.getenv("DYNAMO_ENDPOINT"),   -- nil: the regional AWS endpoint
  region = os.getenv("AWS_REGION") or "us-east-1",
}

-- Errors are values: every call returns a result, or nil and an error.
local function check(res, err)
  if not res then error(tostring(err), 2) end
  return res
end

local table_name = "quickstart_orders"

check(db:create_table {
  TableName = table_name,
  AttributeDefinitions = {
    { AttributeName = "customer", AttributeType = "S" },
    { AttributeName = "order_no", AttributeType = "N" },
  },
  KeySchema = {
    { AttributeName = "customer", KeyType = "HASH" },
    { AttributeName = "order_no", KeyType = "RANGE" },
  },
  BillingMode = "PAY_PER_REQUEST",
})
print("created table " .. table_name)

for i = 1, 3 do
  check(db:put_item {
    TableName = table_name,
    Item = {
      customer = "ada",
      order_no = i,
      total = 19.5 * i,
      items = { "keyboard", "mouse" },
      shipping = { express = i == 2, note = dynamo.null },
    },
  })
end
print("wrote 3 orders")

local got = check(db:get_item { TableName = table_name, Key = { customer = "ada", order_no = 2 } })
print(string.format("order 2: total %s, express %s, items %s",
  got.Item.total, tostring(got.Item.shipping.express), table.concat(got.Item.items, ", ")))

local page = check(db:query {
  TableName = table_name,
  KeyConditionExpression = "customer = :c AND order_no >= :n",
  ExpressionAttributeValues = { [":c"] = "ada", [":n"] = 2 },
})
print(string.format("query found %d orders:", page.Count))
for _, item in ipairs(page.Items) do
  print(string.format("  #%d  %.2f", item.order_no, item.total))
end

-- A failed condition comes back as an error value with a code.
local res, err = db:put_item {
  TableName = table_name,
  Item = { customer = "ada", order_no = 1 },
  ConditionExpression = "attribute_not_exists(customer)",
}
print("conditional put: " .. (res and "written" or err.code))

check(db:delete_table { TableName = table_name })
print("deleted table " .. table_name)
