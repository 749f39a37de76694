-- dynamo.item_size, and the pre-flight check that refuses an item over
-- 400 KB before sending it, checked at the boundary against DynamoDB Local.
local dynamo = require "dynamo"
local servers = require "support.servers"
local socket = require "socket"

describe("dynamo.item_size", function()
  local cases = {
    { "a string", { s = "abc" }, 1 + 3 },
    { "multibyte string", { s = "é€" }, 1 + 5 },
    { "attribute name bytes", { ["naïve"] = "" }, 6 },
    { "integer 1 digit", { n = 7 }, 1 + 2 },
    { "integer 3 digits", { n = 123 }, 1 + 3 },
    { "trailing zeros do not count", { n = 1000000 }, 1 + 2 },
    { "float", { n = 1.25 }, 1 + 3 },
    { "boolean", { b = true }, 1 + 1 },
    { "null", { z = dynamo.null }, 1 + 1 },
    { "binary", { b = dynamo.binary("\0\1\2\3") }, 1 + 4 },
    { "empty list", { l = dynamo.list {} }, 1 + 3 },
    { "empty map", { m = {} }, 1 + 3 },
    { "list elements cost 1 byte each", { l = { "ab", "c" } }, 1 + 3 + (1 + 2) + (1 + 1) },
    { "map entries count names", { m = { xy = "z" } }, 1 + 3 + 1 + 2 + 1 },
    { "string set", { s = dynamo.set { "ab", "cde" } }, 1 + 5 },
    { "number set", { s = dynamo.set { 1, 22 } }, 1 + 2 + 2 },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      assert.are.equal(c[3], dynamo.item_size(c[2]))
    end)
  end

  it("rejects a non-table", function()
    assert.has_error(function() dynamo.item_size("x") end, "bad argument #1 to 'item_size' (table expected, got string)")
  end)
end)

describe("writes over 400 KB", function()
  local limit = 400 * 1024
  -- An item of exactly `size` bytes: pk (2) + "big" (3) + data (4) + the string.
  local function item_of(size)
    return { pk = "big", data = string.rep("x", size - 9) }
  end

  it("are refused before sending, naming where the item is", function()
    local s = assert(socket.bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    s:close()
    local db = dynamo.new { endpoint = "http://127.0.0.1:" .. port,
      credentials = { access_key_id = "a", secret_access_key = "b" } }
    local res, err = db:put_item { TableName = "t", Item = item_of(limit + 1) }
    assert.is_nil(res)
    assert.are.equal("ItemTooLarge", err.code)
    assert.are.equal("Item is 409601 bytes; DynamoDB allows 400 KB (409600 bytes)", err.message)
    assert.is_false(err.retryable)
    local res2, err2 = db:batch_write_item { RequestItems = { t = {
      { PutRequest = { Item = { pk = "small" } } }, { PutRequest = { Item = item_of(limit + 10) } } } } }
    assert.is_nil(res2)
    assert.are.equal("RequestItems.t[2].PutRequest.Item is 409610 bytes; DynamoDB allows 400 KB (409600 bytes)",
      err2.message)
  end)

  describe("on DynamoDB Local", function()
    local server = servers.get("local")
    local db = servers.client(server)
    local name = servers.table_name("size")
    setup(function() servers.create_table(db, name, { sort = false }) end)
    teardown(function() db:delete_table { TableName = name } end)

    it("an item of exactly 400 KB is accepted by the server", function()
      assert(db:put_item { TableName = name, Item = item_of(limit) })
      local got = assert(db:get_item { TableName = name, Key = { pk = "big" } })
      assert.are.equal(limit, dynamo.item_size(got.Item))
    end)

    it("one byte more is refused, naming the item's key", function()
      local res, err = db:put_item { TableName = name, Item = item_of(limit + 1) }
      assert.is_nil(res)
      assert.are.equal("ItemTooLarge", err.code)
      assert.are.equal('Item (key pk="big") is 409601 bytes; DynamoDB allows 400 KB (409600 bytes)', err.message)
    end)

    it("the server's own limit is where item_size puts it", function()
      -- UpdateItem is not pre-checked, so these reach the server's limit:
      -- "grow" (2 + 4 bytes) + data (4) + the string.
      local function grow_to(size)
        return db:update_item { TableName = name, Key = { pk = "grow" },
          UpdateExpression = "SET #d = :d", ExpressionAttributeNames = { ["#d"] = "data" },
          ExpressionAttributeValues = { [":d"] = string.rep("x", size - 10) } }
      end
      assert(grow_to(limit))
      local got = assert(db:get_item { TableName = name, Key = { pk = "grow" } })
      assert.are.equal(limit, dynamo.item_size(got.Item))
      local res, err = grow_to(limit + 1)
      assert.is_nil(res)
      assert.are.equal("ValidationException", err.code)
    end)
  end)
end)
