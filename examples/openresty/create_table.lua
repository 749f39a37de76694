-- Creates the example's table (key: owner, id; on-demand billing):
--   dynamo run examples/openresty/create_table.lua [name]      (default: items)
local name = ... or "items"
local res, err = db:create_table {
  table = name,
  AttributeDefinitions = { { AttributeName = "owner", AttributeType = "S" }, { AttributeName = "id", AttributeType = "S" } },
  KeySchema = { { AttributeName = "owner", KeyType = "HASH" }, { AttributeName = "id", KeyType = "RANGE" } },
  BillingMode = "PAY_PER_REQUEST",
}
if not res and err.code ~= "ResourceInUseException" then error(err) end
assert(db:wait_for_table(name))
print("table " .. name .. " is ACTIVE")
