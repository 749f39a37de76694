--- dynamo get / put / delete: one item by its key, as JSON.
local output = require "dynamo.cli.output"
local json = require "dynamo.cli.json"
local fail = require "dynamo.cli.fail"

local TYPED = { kind = "bool", help = "items and keys in DynamoDB's typed JSON ({\"S\": ...}) instead of plain JSON" }

-- The request's result, or a stop with its error (status 1).
local function must(res, err)
  if not res then fail.run(tostring(err)) end
  return res
end

local get = {
  name = "get",
  summary = "print one item, by its key",
  usage = "dynamo get TABLE KEY_JSON [--consistent] [--typed]",
  args = { "TABLE", "KEY_JSON" },
  flags = {
    consistent = { kind = "bool", help = "a strongly consistent read" },
    typed = TYPED,
  },
  help = [[
Prints the item as one line of JSON, or null when there is none.
KEY_JSON is the key as a JSON object; - reads it from stdin, @FILE from a file.

  dynamo get users '{"id": "u1"}'
  dynamo get orders '{"customer": "c1", "at": 20260101}' --consistent]],
  run = function(ctx, opts, a)
    local key = output.parse_item(output.input(a.KEY_JSON, "KEY_JSON"), "KEY_JSON", opts.typed)
    local db = ctx:client()
    local res = must(db:get_item { TableName = a.TABLE, Key = key, ConsistentRead = opts.consistent })
    output.item(res.Item, opts.typed)
    return 0
  end,
}

local put = {
  name = "put",
  summary = "write items (a JSON object, or - for JSON lines on stdin)",
  usage = "dynamo put TABLE ITEM_JSON|- [--if-absent] [--typed]",
  args = { "TABLE", "ITEM_JSON" },
  flags = {
    ["if-absent"] = { kind = "bool", help = "write only where no item has the key (a conditional put); an existing item is reported and left alone" },
    typed = TYPED,
  },
  help = [[
Writes the item, replacing any with the same key; prints nothing.
With - the items come from stdin: one JSON object after another (JSON lines,
as `dynamo scan` prints them); @FILE reads them from a file.

  dynamo put users '{"id": "u1", "name": "Ada", "tags": {"$set": ["admin"]}}'
  dynamo scan users | dynamo put users_copy -]],
  run = function(ctx, opts, a)
    local text = output.input(a.ITEM_JSON, "ITEM_JSON")
    local items
    if opts.typed then
      items = {}
      local n = 0
      for line in text:gmatch("[^\n]+") do
        if line:find("%S") then
          n = n + 1
          items[#items + 1] = output.parse_item(line, "ITEM_JSON (item " .. n .. ")", true)
        end
      end
    else
      local err
      items, err = json.decode_all(text)
      if not items then fail.data("ITEM_JSON: " .. err) end
    end
    if #items == 0 then fail.data("ITEM_JSON: no item given") end
    for i, item in ipairs(items) do
      if type(item) ~= "table" or getmetatable(item) ~= nil then
        fail.data("ITEM_JSON: " .. (#items > 1 and "item " .. i .. " is not a JSON object" or "a JSON object expected"))
      end
    end
    local db = ctx:client()
    local condition, names
    if opts.if_absent then
      local key_names, err = require("dynamo.keys").names(db, a.TABLE)
      if not key_names then fail.run(tostring(err)) end
      condition, names = "attribute_not_exists(#k)", { ["#k"] = key_names[1] }
    end
    for i, item in ipairs(items) do
      local res, err = db:put_item { TableName = a.TABLE, Item = item,
        ConditionExpression = condition, ExpressionAttributeNames = names }
      if not res then
        if err.code == "ConditionalCheckFailedException" and opts.if_absent then
          fail.run("an item with that key exists in '" .. a.TABLE .. "'" .. (#items > 1 and " (item " .. i .. ")" or ""))
        end
        fail.run((#items > 1 and "item " .. i .. ": " or "") .. tostring(err))
      end
    end
    return 0
  end,
}

local delete = {
  name = "delete",
  summary = "delete one item, by its key; prints what was deleted",
  usage = "dynamo delete TABLE KEY_JSON [--typed]",
  args = { "TABLE", "KEY_JSON" },
  flags = { typed = TYPED },
  help = [[
Deletes the item and prints it as it was (one line of JSON), or null when
there was none.

  dynamo delete users '{"id": "u1"}']],
  run = function(ctx, opts, a)
    local key = output.parse_item(output.input(a.KEY_JSON, "KEY_JSON"), "KEY_JSON", opts.typed)
    local db = ctx:client()
    local res = must(db:delete_item { TableName = a.TABLE, Key = key, ReturnValues = "ALL_OLD" })
    output.item(res.Attributes, opts.typed)
    return 0
  end,
}

return { get, put, delete }
