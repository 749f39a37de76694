-- Writes and reads an item on DynamoDB through the global `db`, in the
-- table the host names (host.table_name()), creating the table first when
-- it is missing. Arguments: the item's id and a number. Returns
-- "id,count,note" as read back. Used by tests/test_dynamodb.c.
local id, count = ...
local name = assert(host.table_name())

local _, err = db:describe_table { table = name }
if err and err.code == "ResourceNotFoundException" then
  assert(db:create_table {
    TableName = name,
    AttributeDefinitions = { { AttributeName = "id", AttributeType = "S" } },
    KeySchema = { { AttributeName = "id", KeyType = "HASH" } },
    BillingMode = "PAY_PER_REQUEST",
  })
  assert(db:wait_for_table(name))
elseif err then
  error(err)
end

assert(db:put_item { table = name, item = { id = id, count = math.tointeger(tonumber(count)), note = "from C" } })
local res = assert(db:get_item { table = name, key = { id = id }, consistent = true })
return res.Item.id .. "," .. res.Item.count .. "," .. res.Item.note
