-- The example host's script (examples/embed/host.c runs it). It asks the
-- host which table to use, creates it when missing, records a few visits
-- with an atomic counter, tells the host what it does, and returns a
-- summary, which the host prints as JSON.
--   host.table_name()   the table (the host decides: EXAMPLE_TABLE or "embed_example")
--   host.notify(text)   prints a line on the host's side
--   db, dynamo          the runtime's client and module, ready to use
local who = ... or "ada"
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
  host.notify("created table " .. name)
elseif err then
  error(err)   -- the host gets err.code and the message
end

local attr = dynamo.attr
for i = 1, 3 do
  local res = assert(db:update_item {
    table = name, key = { id = who },
    update = dynamo.update():set("visits", dynamo.if_not_exists("visits", 0) + 1):set("last", os.time()),
    return_values = "UPDATED_NEW",
  })
  host.notify(("visit %d recorded for %s (visits = %d)"):format(i, who, res.Attributes.visits))
end

-- A conditional write that must fail: the item exists.
local ok, cerr = db:put_item { table = name, item = { id = who }, condition = attr("id"):not_exists() }
host.notify("a second create of " .. who .. " is refused: " .. (ok and "no?" or cerr.code))

local item = assert(db:get_item { table = name, key = { id = who }, consistent = true }).Item
return { table = name, id = item.id, visits = item.visits }
