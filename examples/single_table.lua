-- A shop in one table (single-table design): users, orders and order lines.
--   table "shop_example": pk / sk
--   gsi1: gsi1pk / gsi1sk  -- users by email; an order with its lines (a collection)
--   gsi2: gsi2pk / gsi2sk  -- orders by status and day (sparse: only orders)
-- Run it against DynamoDB Local with `.ci/demo`, or with DYNAMO_ENDPOINT set.
local dynamo = require "dynamo"
local attr = dynamo.attr

local db = dynamo.new {
  endpoint = os.getenv("DYNAMO_ENDPOINT"),
  region = os.getenv("AWS_REGION") or "us-east-1",
}
local TABLE = "shop_example"

local function check(res, err)
  if res == nil and err ~= nil then error(tostring(err), 2) end
  return res
end

local User = dynamo.model {
  name = "User", table = TABLE, db = db,
  keys = { pk = "USER#${id}", sk = "PROFILE" },
  indexes = {
    by_email = { type = "gsi", name = "gsi1", keys = { gsi1pk = "EMAIL#${email}", gsi1sk = "USER" } },
  },
  fields = {
    id = { type = "string", required = true, immutable = true },
    email = { type = "string", required = true, pattern = "^[^@]+@[^@]+%.[^@]+$", set = string.lower },
    name = { type = "string", required = true, length = { 1, 80 } },
    address = { type = "map", fields = {
      city = { type = "string", required = true },
      zip = { type = "string", pattern = "^%d+$" },
    } },
    order_count = { type = "integer", default = 0, min = 0 },
    tags = { type = "string_set" },
    version = { type = "version" },
    created = { type = "timestamp", auto = "create" },
    updated = { type = "timestamp", auto = "update" },
  },
}

local Order = dynamo.model {
  name = "Order", table = TABLE, db = db,
  keys = { pk = "USER#${user_id}", sk = "ORDER#${order_id}" },
  indexes = {
    -- "#ORDER" sorts before "LINE#...": the order comes first in its collection.
    lines = { type = "gsi", name = "gsi1", keys = { gsi1pk = "ORDER#${order_id}", gsi1sk = "#ORDER" } },
    by_status = { type = "gsi", name = "gsi2", keys = { gsi2pk = "STATUS#${status}", gsi2sk = "${placed_on}#${order_id}" } },
  },
  fields = {
    user_id = { type = "string", required = true, immutable = true },
    order_id = { type = "integer", auto_increment = true, pad = 8 },
    status = { type = "enum", values = { "pending", "paid", "shipped" }, default = "pending" },
    placed_on = { type = "string", required = true, pattern = "^%d%d%d%d%-%d%d%-%d%d$" },
    total = { type = "number", default = 0, min = 0 },
    version = { type = "version" },
  },
}

local OrderLine = dynamo.model {
  name = "OrderLine", table = TABLE, db = db,
  keys = { pk = "USER#${user_id}", sk = "ORDER#${order_id}#LINE#${line_no}" },
  indexes = {
    lines = { type = "gsi", name = "gsi1", keys = { gsi1pk = "ORDER#${order_id}", gsi1sk = "LINE#${line_no}" } },
  },
  fields = {
    user_id = { type = "string", required = true },
    order_id = { type = "integer", required = true, pad = 8 },
    line_no = { type = "integer", required = true, pad = 3 },
    sku = { type = "string", required = true },
    qty = { type = "integer", required = true, min = 1 },
    price = { type = "number", required = true, min = 0 },
  },
}

-- The table, with every index of the three models (a leftover from an
-- interrupted run is dropped first).
if db:delete_table { TableName = TABLE } then check(db:wait_for_table_gone(TABLE, { interval = 0.1 })) end
check(User:create_table { models = { Order, OrderLine } })
print("created table " .. TABLE .. " (gsi1, gsi2)")

-- Validation lists every problem at once, before anything is sent.
local _, verr = User:new { id = "u0", email = "not-an-email", name = "", address = { zip = "9x" } }:save()
print("invalid user: " .. verr.message)

-- Users; the email is lower-cased by the field's setter.
local ada = User:new { id = "ada", email = "Ada@Example.com", name = "Ada", address = { city = "London" },
  tags = dynamo.set { "vip" } }
check(ada:save())
check(User:new { id = "grace", email = "grace@example.com", name = "Grace", address = { city = "Arlington" } }:save())
print(string.format("saved users; ada: order_count %d (default), version %d", ada.order_count, ada.version))

-- The key attributes come from templates: look at the stored item.
local raw = check(db:get_item { table = TABLE, key = { pk = "USER#ada", sk = "PROFILE" } }).Item
print(string.format("stored: pk=%s sk=%s gsi1pk=%s gsi1sk=%s _type=%s", raw.pk, raw.sk, raw.gsi1pk, raw.gsi1sk, raw._type))

-- Query an index by fields.
for u in User:query("by_email", { email = "grace@example.com" }) do print("by email: " .. u.name) end

-- Orders and their lines in one transaction per order: the order ids come
-- from an atomic counter; the user's order count goes up with them.
local function place(user, day, lines)
  local order = Order:new { user_id = user.id, placed_on = day }
  local total = 0
  for _, l in ipairs(lines) do total = total + l.qty * l.price end
  order.total = total
  check(db:transaction(function(tx)
    tx:save(order)
    for i, l in ipairs(lines) do
      tx:save(OrderLine:new { user_id = user.id, order_id = order.order_id, line_no = i, sku = l.sku, qty = l.qty, price = l.price })
    end
    tx:update(user, { order_count = user.order_count + 1 })
  end))
  return order
end
local o1 = place(ada, "2026-11-20", { { sku = "pen", qty = 3, price = 1.5 }, { sku = "ink", qty = 1, price = 7 } })
local o2 = place(ada, "2026-11-21", { { sku = "paper", qty = 2, price = 4.25 } })
place(User:get { id = "grace" }, "2026-11-21", { { sku = "lamp", qty = 1, price = 30 } })
print(string.format("placed orders %d and %d for ada (order_count now %d)", o1.order_id, o2.order_id, ada.order_count))

-- The table's own key: ada's orders, newest first (lines share the
-- partition; the model's entity filter leaves them out).
for o in Order:query(nil, { user_id = "ada" }, { forward = false }) do
  print(string.format("  order %d on %s: %.2f (%s)", o.order_id, o.placed_on, o.total, o.status))
end

-- gsi2 by status and day (begins_with from the leading field).
local pending = Order:count("by_status", { status = "pending", placed_on = "2026-11-21" })
print("pending orders placed on 2026-11-21: " .. pending)

-- A collection: one order with its lines, each as an instance of its model.
for x in dynamo.collection({ Order, OrderLine }):query("lines", { order_id = o1.order_id }) do
  if x.model == Order then
    print(string.format("order %d: total %.2f", x.order_id, x.total))
  else
    print(string.format("  line %d: %d x %s at %.2f", x.line_no, x.qty, x.sku, x.price))
  end
end

-- Change tracking: a loaded order sends only what changed.
local sent
db:on("request", function(info) if info.operation == "UpdateItem" then sent = info.params end end)
local order = check(Order:get { user_id = "ada", order_id = o1.order_id })
order.status = "paid"
check(order:save())
-- The expression as sent, with its placeholders filled in.
local shown = sent.UpdateExpression:gsub("#n%d+", sent.ExpressionAttributeNames)
  :gsub(":v%d+", function(v) return ("%q"):format(tostring(sent.ExpressionAttributeValues[v])) end)
print("save after changing status sent: " .. shown)
local status_key = check(db:get_item { table = TABLE, key = order:key() }).Item.gsi2pk
print("its gsi2pk is recomputed: " .. status_key)

-- Optimistic locking: a second copy, now stale, cannot overwrite.
local stale = check(Order:get { user_id = "ada", order_id = o2.order_id })
local fresh = check(Order:get { user_id = "ada", order_id = o2.order_id })
fresh.status = "paid"
check(fresh:save())
stale.total = 0
local _, conflict = stale:save()
print("stale save: " .. conflict.code .. ": " .. conflict.message)

-- A transaction cancelled by one condition: nothing is written, and the
-- reason points at the instance.
local grace = check(User:get { id = "grace" })
local _, terr = db:transaction(function(tx)
  tx:update(grace, { name = "Grace Hopper" })
  tx:check(order, attr("status"):eq("shipped"))
end)
for _, r in ipairs(terr.reasons) do
  print(string.format("  reason: %s -> %s", tostring(r.instance), r.code))
end
print("grace's name is still: " .. check(User:get { id = "grace" }).name)

-- Lazy migration: items written by an older version of the model (one
-- "full_name" attribute) are migrated as they load.
check(db:put_item { table = TABLE, item = { pk = "USER#old", sk = "PROFILE", _type = "User", id = "old",
  email = "old@example.com", full_name = "Alan Turing", address = { city = "Wilmslow" }, order_count = 0,
  version = 1, _v = 1 } })
local User2 = dynamo.model {
  name = "User", table = TABLE, db = db, version = 2, write_migrated = true,
  keys = { pk = "USER#${id}", sk = "PROFILE" },
  fields = {
    id = { type = "string", required = true }, email = { type = "string", required = true },
    name = { type = "string", required = true }, address = { type = "map" },
    order_count = { type = "integer" }, tags = { type = "string_set" }, version = { type = "version" },
    created = { type = "timestamp" }, updated = { type = "timestamp" },
  },
  migrations = {
    [1] = function(item)
      item.name, item.full_name = item.full_name, nil
      return item
    end,
  },
}
local old = check(User2:get { id = "old" })
local stored = check(db:get_item { table = TABLE, key = { pk = "USER#old", sk = "PROFILE" } }).Item
print(string.format("migrated on load: name %q; written back at _v=%d, full_name %s", old.name, stored._v,
  tostring(stored.full_name)))

check(User:delete_table())
print("deleted table " .. TABLE)
