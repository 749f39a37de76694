--- Pages whose items are decoded one at a time, for the item iterators.
---
--- A response decoded with lazy.output(op) has Items as the byte position
--- of each item in the response text (core codec's "@" value map), and the
--- text itself under the key lazy.RESPONSE. An iterator then holds one
--- page's text (at most 1 MB) and the item it hands out, not a page of
--- tables, which take several times the text's size: scanning a table of
--- any size keeps memory flat.
local api = require "dynamo.operations"
local errors = require "dynamo.errors"

local M = {}

--- The key of the response text and request id in a lazily decoded page.
M.RESPONSE = setmetatable({}, { __tostring = function() return "dynamo.lazy.RESPONSE" end })

local outputs, item_maps = {}, {}
for _, op in ipairs(api.operations) do
  local items = type(op.output) == "table" and op.output.Items
  if type(items) == "table" and items["[]"] then
    local lazy = {}
    for k, v in pairs(op.output) do lazy[k] = v end
    lazy.Items = { ["[]"] = "@" }
    outputs[op.name], item_maps[op.name] = lazy, items["[]"]
  end
end

--- lazy.call(db, operation_name, params): db:call, the response decoded
--- with lazy.output; set by dynamo.client, which owns the request path.
M.call = nil

--- The output value map that leaves op's Items undecoded, or nil when
--- op's output has no Items.
function M.output(op)
  return outputs[op.name]
end

--- A reader of a lazily decoded page of op: read(i) is item i, or nil and
--- an error value (the page's text is not valid there). What every item
--- needs is looked up once here, not per item.
function M.reader(codec, op, page)
  local response, map, positions = page[M.RESPONSE], item_maps[op.name], page.Items
  local body, decode_at = response.body, codec.decode_at
  return function(i)
    local item, msg = decode_at(codec, body, map, positions[i])
    if item == nil then
      return nil, errors.bad_response(op.name, 200, response.headers,
        "undecodable response body: Items[" .. i .. "]: " .. msg)
    end
    return item
  end
end

return M
