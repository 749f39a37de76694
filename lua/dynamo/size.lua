--- Item sizes as DynamoDB counts them, and the pre-flight check that stops
--- a write whose item is over the 400 KB limit before it is sent.
--- Rules (DynamoDB developer guide, "Item sizes"): an attribute costs the
--- UTF-8 length of its name plus its value: S its UTF-8 bytes, B its raw
--- bytes, N 1 byte plus 1 per two significant digits, BOOL and NULL 1,
--- L and M 3 bytes plus 1 per element plus the elements (names and values),
--- sets the sum of their elements.
local core = require "dynamo.core"
local errors = require "dynamo.errors"

local type, pairs, getmetatable, floor = type, pairs, getmetatable, math.floor
local math_type = require("dynamo.compat").math_type

local M = {}

M.LIMIT = 400 * 1024

local formatter   -- a codec used only to print numbers as N text, made on first use

-- Significant digits of a number's N text: no sign, point, exponent, or
-- leading and trailing zeros.
local function significant_digits(text)
  local mantissa = text:gsub("[eE].*$", ""):gsub("[-+.]", "")
  mantissa = mantissa:gsub("^0+", ""):gsub("0+$", "")
  return #mantissa
end

local function number_size(v)
  local text
  if math_type(v) == "integer" then
    text = string.format("%d", v)
  else
    formatter = formatter or core.codec {}
    text = formatter:encode(v, "V"):match('"N":"([^"]*)"') or tostring(v)
  end
  local digits = significant_digits(text)
  return 1 + floor((digits + 1) / 2)
end

local value_size

local function container_size(t, depth)
  local size = 3
  for k, v in pairs(t) do
    size = size + 1 + value_size(v, depth + 1)
    if type(k) == "string" then size = size + #k end
  end
  return size
end

function value_size(v, depth)
  if depth > 64 then error("item nested too deeply to size", 0) end
  local tv = type(v)
  if tv == "string" then return #v end
  if tv == "number" then return number_size(v) end
  if tv == "boolean" or v == core.null then return 1 end
  local mt = getmetatable(v)
  if mt == core.binary_mt then return #v[1] end
  if mt == core.set_mt then
    local size = 0
    for i = 1, #v do
      local e = v[i]
      size = size + (type(e) == "string" and #e or type(e) == "number" and number_size(e)
        or getmetatable(e) == core.binary_mt and #e[1] or value_size(e, depth + 1))
    end
    return size
  end
  if tv == "table" then return container_size(v, depth) end
  -- A decimal, a LuaJIT int64 cdata ("5LL", "5ULL"), or anything else
  -- printable as N text.
  return 1 + floor((significant_digits((tostring(v):gsub("U?LL$", ""))) + 1) / 2)
end

--- dynamo.item_size(item): the item's size in bytes as DynamoDB counts it.
function M.item_size(item)
  if type(item) ~= "table" then
    error("bad argument #1 to 'item_size' (table expected, got " .. type(item) .. ")", 2)
  end
  local size = 0
  for name, v in pairs(item) do
    size = size + #tostring(name) + value_size(v, 1)
  end
  return size
end

-- The items a write request carries, with where each sits.
local function write_items(op, params)
  local found = {}
  if op == "PutItem" then
    found[1] = { "Item", params.Item, params.TableName }
  elseif op == "BatchWriteItem" and type(params.RequestItems) == "table" then
    for tbl, requests in pairs(params.RequestItems) do
      for i, r in ipairs(requests) do
        if type(r) == "table" and type(r.PutRequest) == "table" then
          found[#found + 1] = { "RequestItems." .. tbl .. "[" .. i .. "].PutRequest.Item", r.PutRequest.Item, tbl }
        end
      end
    end
  elseif op == "TransactWriteItems" and type(params.TransactItems) == "table" then
    for i, t in ipairs(params.TransactItems) do
      if type(t) == "table" and type(t.Put) == "table" then
        found[#found + 1] = { "TransactItems[" .. i .. "].Put.Item", t.Put.Item, t.Put.TableName }
      end
    end
  end
  return found
end

-- "pk=\"a\", sk=1" for the attributes named in key_names that the item has.
local function describe_key(item, key_names)
  local parts = {}
  for _, name in ipairs(key_names) do
    local v = item[name]
    if v ~= nil then
      parts[#parts + 1] = name .. "=" .. (type(v) == "string" and string.format("%q", v) or tostring(v))
    end
  end
  return table.concat(parts, ", ")
end

--- Checks the items of a write. Callers need only call it when the encoded
--- body is over M.LIMIT: an encoded item is never smaller than its DynamoDB
--- size. `key_names(table)` returns the table's key attribute names, or
--- nil. Returns nil, or an ItemTooLarge error value.
function M.check_write(op, params, key_names)
  for _, w in ipairs(write_items(op, params)) do
    local where, item, tbl = w[1], w[2], w[3]
    if type(item) == "table" then
      local size = M.item_size(item)
      if size > M.LIMIT then
        local names = key_names and key_names(tbl)
        local key = names and describe_key(item, names) or ""
        return errors.new {
          code = "ItemTooLarge",
          message = string.format("%s%s is %d bytes; DynamoDB allows 400 KB (%d bytes)",
            where, key ~= "" and (" (key " .. key .. ")") or "", size, M.LIMIT),
          operation = op,
          retryable = false,
        }
      end
    end
  end
  return nil
end

return M
