-- Makes a `users` table to try the migrations on: key `id`, a global
-- secondary index `by_email` on `gsi1pk`, and users written the old way
-- (the address in `mail`) and the new way (`email`), some of the
-- addresses malformed.
--   dynamo --endpoint http://127.0.0.1:8000 run examples/migrations/seed_users.lua [TABLE] [COUNT]
local name, count = ...
name = name or "users"
count = math.tointeger(tonumber(count)) or 1000

local res, err = db:create_table {
  TableName = name, BillingMode = "PAY_PER_REQUEST",
  AttributeDefinitions = { { AttributeName = "id", AttributeType = "S" },
    { AttributeName = "gsi1pk", AttributeType = "S" } },
  KeySchema = { { AttributeName = "id", KeyType = "HASH" } },
  GlobalSecondaryIndexes = { { IndexName = "by_email",
    KeySchema = { { AttributeName = "gsi1pk", KeyType = "HASH" } },
    Projection = { ProjectionType = "ALL" } } },
}
if not res and err.code ~= "ResourceInUseException" then error(err) end
assert(db:wait_for_table(name, { timeout = 120 }))

-- Addresses as people type them: most fine, some repairable, a few not.
local messy = {
  "  Ada.Lovelace@Example.COM ", "grace@@navy.mil", "alan(at)bletchley.uk", "edsger@gmial.com",
  "barbara [at] mit.edu", "ken@bell..labs.com", "not an address", "dennis@",
}
local w = db:batch_writer()
for i = 1, count do
  local address = i % 10 == 0 and messy[(i // 10 - 1) % #messy + 1] or ("user" .. i .. "@example.com")
  local user = { id = string.format("u%05d", i), name = "User " .. i, visits = i % 17 }
  if i % 3 == 0 then
    user.email = address                              -- the new attribute, no index key yet
  else
    user.mail = address                               -- the old attribute
  end
  w:put(name, user)
end
assert(w:close())
print(string.format("%s: %d users", name, count))
