-- Makes table DEST with the key schema and indexes of SOURCE (on-demand
-- billing) and waits until it is active; a DEST that exists is left as it is.
--   dynamo run examples/migrations/copy_table.lua SOURCE DEST
local source, dest = ...
assert(source and dest, "usage: dynamo run copy_table.lua SOURCE DEST")
local t = assert(db:describe_table { TableName = source }).Table

local function indexes(list)
  if not list or #list == 0 then return nil end
  local out = {}
  for i, ix in ipairs(list) do
    out[i] = { IndexName = ix.IndexName, KeySchema = ix.KeySchema, Projection = ix.Projection }
  end
  return out
end

local res, err = db:create_table {
  TableName = dest, BillingMode = "PAY_PER_REQUEST",
  AttributeDefinitions = t.AttributeDefinitions, KeySchema = t.KeySchema,
  GlobalSecondaryIndexes = indexes(t.GlobalSecondaryIndexes),
  LocalSecondaryIndexes = indexes(t.LocalSecondaryIndexes),
}
if not res and err.code ~= "ResourceInUseException" then error(err) end
assert(db:wait_for_table(dest, { timeout = 300 }))
