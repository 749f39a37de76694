-- Quickstart: create a table, write a batch, read, query, update with a
-- condition, run a transaction, scan in parallel, and clean up.
-- Run it against DynamoDB Local with `.ci/demo`, or against AWS with your
-- usual AWS_REGION and credentials variables set.
local dynamo = require "dynamo"
local attr = dynamo.attr

local db = dynamo.new {
  endpoint = os.getenv("DYNAMO_ENDPOINT"),   -- nil: the regional AWS endpoint
  region = os.getenv("AWS_REGION") or "us-east-1",
}

-- Errors are values: every call returns a result, or nil and an error.
local function check(res, err)
  if not res then error(tostring(err), 2) end
  return res
end

local orders = "quickstart_orders"

check(db:create_table {
  TableName = orders,
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
check(db:wait_for_table(orders, { interval = 0.1 }))
print("created table " .. orders)

-- A batch writer sends 25 items per request and retries what DynamoDB
-- leaves unprocessed; close() says whether everything was written.
local w = db:batch_writer()
for i = 1, 60 do
  w:put(orders, {
    customer = i % 3 == 0 and "ada" or "grace",
    order_no = i,
    total = 19.5 * i,
    items = { "keyboard", "mouse" },
    shipping = { express = i % 2 == 0, note = dynamo.null },
  })
end
check(w:close())
print("wrote 60 orders in batches")

local got = check(db:get_item { table = orders, key = { customer = "ada", order_no = 6 } })
print(string.format("order 6: total %s, express %s, items %s",
  got.Item.total, tostring(got.Item.shipping.express), table.concat(got.Item.items, ", ")))

-- Iterators follow every page; `limit` is the number of items wanted in all.
local it = db:query_items {
  table = orders,
  key = dynamo.key("customer"):eq("ada") & dynamo.key("order_no"):ge(30),
  filter = attr("shipping.express"):eq(true),
  page_size = 5,
  limit = 4,
}
for order in it do print(string.format("  ada #%d  %.2f", order.order_no, order.total)) end
print("resume key after 4 orders: order_no " .. it:last_key().order_no)

-- Updates and conditions are built, not typed: names and values become
-- placeholders, so reserved words like "status" are safe.
local res = check(db:update_item {
  table = orders,
  key = { customer = "ada", order_no = 3 },
  update = dynamo.update()
    :set("status", "shipped")
    :set("total", attr("total") + 5)
    :set("items", dynamo.list_append("items", { "cable" })),
  condition = attr("status"):not_exists(),
  return_values = "all_new",
})
print(string.format("order 3: %s, total %.2f, %d items", res.Attributes.status, res.Attributes.total,
  #res.Attributes.items))

-- The same condition fails the second time: an error value with a code.
local _, err = db:update_item {
  table = orders, key = { customer = "ada", order_no = 3 },
  update = { set = { status = "shipped" } }, condition = attr("status"):not_exists(),
}
print("second update: " .. err.code)

-- A transaction: all or nothing, with the reason per action when cancelled.
local _, terr = db:transact_write {
  { update = { table = orders, key = { customer = "ada", order_no = 6 }, update = { set = { status = "packed" } } } },
  { check = { table = orders, key = { customer = "ada", order_no = 3 }, condition = attr("status"):eq("lost") } },
}
print(string.format("transaction: %s (action 1: %s, action 2: %s)", terr.code, terr.reasons[1].code,
  terr.reasons[2].code))

-- A parallel scan: 4 segments at once over one connection pool.
local count, sum = 0, 0
for order in db:parallel_scan { table = orders, segments = 4, page_size = 10 } do
  count, sum = count + 1, sum + order.total
end
print(string.format("parallel scan: %d orders, %.2f in total", count, sum))

check(db:delete_table { TableName = orders })
check(db:wait_for_table_gone(orders, { interval = 0.1 }))
print("deleted table " .. orders)
