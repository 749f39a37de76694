--- Items as JSON on the command line, both ways, exactly.
---
--- Plain JSON (the default): S is a string, N a number written with its
--- exact digits (38-digit numbers survive), BOOL true/false, NULL null,
--- L an array, M an object. The types JSON lacks are tagged objects:
---   B            {"$binary": "<base64>"}
---   SS, NS, BS   {"$set": ["a", "b"]}, {"$set": [1, 2]}, {"$set": [{"$binary": "..."}]}
---   an M whose only key is "$binary", "$set" or "$map": {"$map": {...}}
--- Numbers read from JSON follow dynamo's exact mode: an integer when it
--- is one and fits in 64 bits, a float when the float is exactly that
--- decimal, else a dynamo.decimal.
---
--- Typed JSON (--typed, export and import): DynamoDB's own AttributeValue
--- JSON ({"pk": {"S": "a"}, "n": {"N": "1.5"}}), through the C codec.
local core = require "dynamo.core"

local type, getmetatable, setmetatable, tostring, concat, sort = type, getmetatable, setmetatable, tostring, table.concat, table.sort
local math_type = math.type

local M = {}

local codec -- made on first use (no work at require time)
local function the_codec()
  if not codec then codec = core.codec {} end
  return codec
end

--- The value map of one item (a map of AttributeValues) for the codec.
M.ITEM = { ["{}"] = "V" }

local TAGS = { ["$binary"] = true, ["$set"] = true, ["$map"] = true }

local function base64(bytes)
  return the_codec():encode(setmetatable({ bytes }, core.binary_mt)):sub(2, -2)
end

---------------------------------------------------------------- encoding

local encode_value

local function is_list(t, mt)
  if mt == core.list_mt then return true end
  if mt == core.map_mt then return false end
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

local function newline(out, pretty, depth)
  if pretty then out[#out + 1] = "\n" .. string.rep("  ", depth) end
end

local function encode_table(t, out, pretty, depth, path)
  local mt = getmetatable(t)
  local c = the_codec()
  if mt == core.binary_mt then
    out[#out + 1] = '{"$binary":"' .. base64(t[1]) .. '"}'
    return
  elseif mt == core.set_mt then
    local parts = {}
    for i = 1, #t do
      local v = t[i]
      if t.binary and type(v) == "string" then v = setmetatable({ v }, core.binary_mt) end
      local sub = {}
      encode_value(v, sub, false, 0, path)
      parts[i] = concat(sub)
    end
    out[#out + 1] = '{"$set":[' .. concat(parts, ",") .. "]}"
    return
  elseif mt ~= nil and mt ~= core.list_mt and mt ~= core.map_mt then
    error((path ~= "" and path .. ": " or "") .. "cannot write " .. tostring(t) .. " as JSON", 0)
  end
  if depth > 64 then error(path .. ": nested too deeply (a cycle?)", 0) end
  if is_list(t, mt) then
    if #t == 0 then out[#out + 1] = "[]" return end
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then out[#out + 1] = "," end
      newline(out, pretty, depth + 1)
      encode_value(t[i], out, pretty, depth + 1, path .. "[" .. i .. "]")
    end
    newline(out, pretty, depth)
    out[#out + 1] = "]"
    return
  end
  local keys, only = {}, nil
  for k in pairs(t) do
    if type(k) ~= "string" then
      error((path ~= "" and path .. ": " or "") .. "a table with a " .. type(k) .. " key is neither a list nor a map", 0)
    end
    keys[#keys + 1] = k
    only = k
  end
  if #keys == 0 then out[#out + 1] = "{}" return end
  sort(keys)
  local wrap = #keys == 1 and TAGS[only]
  if wrap then out[#out + 1] = '{"$map":' end
  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    if i > 1 then out[#out + 1] = "," end
    newline(out, pretty, depth + 1)
    out[#out + 1] = c:encode(k)
    out[#out + 1] = pretty and ": " or ":"
    encode_value(t[k], out, pretty, depth + 1, path == "" and k or path .. "." .. k)
  end
  newline(out, pretty, depth)
  out[#out + 1] = "}"
  if wrap then out[#out + 1] = "}" end
end

function encode_value(v, out, pretty, depth, path)
  local tv = type(v)
  if tv == "string" or tv == "number" then
    local ok, s = pcall(the_codec().encode, the_codec(), v)
    if not ok then error((path ~= "" and path .. ": " or "") .. tostring(s), 0) end
    out[#out + 1] = s
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif v == core.null or v == nil then
    out[#out + 1] = "null"
  elseif tv == "userdata" and getmetatable(v) == core.decimal_mt then
    out[#out + 1] = tostring(v)
  elseif tv == "table" then
    encode_table(v, out, pretty, depth, path)
  else
    error((path ~= "" and path .. ": " or "") .. "cannot write a " .. tv .. " as JSON", 0)
  end
end

--- Plain JSON text of a value (see the header for the mapping), keys in
--- order; pretty = true indents by two spaces. Raises "<path>: <what>"
--- for what JSON cannot hold.
function M.encode(v, pretty)
  local out = {}
  encode_value(v, out, pretty, 0, "")
  return concat(out)
end

--- Typed JSON (DynamoDB's AttributeValue JSON) of an item or key.
function M.encode_typed(item)
  return the_codec():encode(item, M.ITEM)
end

---------------------------------------------------------------- decoding

local Reader = {}
Reader.__index = Reader

local function bad(r, what)
  error({ json = "invalid JSON at byte " .. r.pos .. ": " .. what }, 0)
end

function Reader:skip()
  self.pos = self.text:find("[^ \t\r\n]", self.pos) or #self.text + 1
end

local read_value

local function read_string(r)
  local text, start = r.text, r.pos
  local p, escaped = start + 1, false
  while true do
    local q = text:find('["\\]', p)
    if not q then bad(r, "unterminated string") end
    if text:sub(q, q) == '"' then
      r.pos = q + 1
      local token = text:sub(start, q)
      if not escaped then
        local raw = token:sub(2, -2)
        if raw:find("[%z\1-\31]") then bad(r, "control character in a string") end
        if not utf8.len(raw) then bad(r, "a string is not valid UTF-8") end
        return raw
      end
      local v, err = the_codec():decode(token)
      if v == nil then
        r.pos = start
        bad(r, (err:gsub("^invalid JSON at byte %d+: ", "")))
      end
      return v
    end
    escaped = true
    p = q + 2
  end
end

local function read_number(r)
  local text, p = r.text, r.pos
  local s, e = text:find("^-?%d+", p)
  if not s then bad(r, "unexpected '" .. text:sub(p, p) .. "'") end
  local e2 = select(2, text:find("^%.%d+", e + 1))
  if e2 then e = e2 end
  e2 = select(2, text:find("^[eE][-+]?%d+", e + 1))
  if e2 then e = e2 end
  local token = text:sub(p, e)
  local n = math_type(tonumber(token)) == "integer" and tonumber(token) or nil
  if n == nil then
    local v, err = the_codec():decode('{"N":"' .. token .. '"}', "V")
    if v == nil then bad(r, (err:gsub(" at byte %d+$", ""))) end
    n = v
  end
  r.pos = e + 1
  return n
end

-- A tagged object back to its value; others unchanged.
local function untag(r, obj, n, only)
  if n ~= 1 or not TAGS[only] then return obj end
  local v = obj[only]
  if only == "$map" then
    if type(v) ~= "table" or getmetatable(v) == core.list_mt then bad(r, '"$map" holds an object') end
    return v
  elseif only == "$binary" then
    if type(v) ~= "string" then bad(r, '"$binary" holds a base64 string') end
    local b, err = the_codec():decode('{"B":' .. the_codec():encode(v) .. '}', "V")
    if b == nil then bad(r, '"$binary": ' .. (err:gsub(" at byte %d+$", ""))) end
    return b
  else
    if type(v) ~= "table" or getmetatable(v) ~= core.list_mt or #v == 0 then
      bad(r, '"$set" holds a non-empty array')
    end
    local kind
    for _, e in ipairs(v) do
      local k = type(e) == "string" and "S" or getmetatable(e) == core.binary_mt and "B"
        or (type(e) == "number" or getmetatable(e) == core.decimal_mt) and "N" or nil
      if not k then bad(r, '"$set" elements are strings, numbers or {"$binary": ...}') end
      if kind and k ~= kind then bad(r, '"$set" elements are all of one type') end
      kind = k
    end
    return require("dynamo.types").set(setmetatable(v, nil))
  end
end

function read_value(r, depth, raw)
  if depth > 200 then bad(r, "nested too deeply") end
  r:skip()
  local text, p = r.text, r.pos
  local c = text:sub(p, p)
  if c == "{" then
    local obj, n, only = {}, 0   -- only: the last key read, the tag when n == 1
    r.pos = p + 1
    r:skip()
    if text:sub(r.pos, r.pos) == "}" then
      r.pos = r.pos + 1
      return obj
    end
    while true do
      r:skip()
      if text:sub(r.pos, r.pos) ~= '"' then bad(r, "object key expected") end
      local k = read_string(r)
      r:skip()
      if text:sub(r.pos, r.pos) ~= ":" then bad(r, "':' expected") end
      r.pos = r.pos + 1
      if obj[k] ~= nil then bad(r, "key '" .. k .. "' given twice") end
      -- The object inside "$map" is a map as it stands, tags or not.
      obj[k] = read_value(r, depth + 1, k == "$map")
      n, only = n + 1, k
      r:skip()
      local d = text:sub(r.pos, r.pos)
      r.pos = r.pos + 1
      if d == "}" then return raw and obj or untag(r, obj, n, only) end
      if d ~= "," then r.pos = r.pos - 1; bad(r, "',' or '}' expected") end
    end
  elseif c == "[" then
    local arr = setmetatable({}, core.list_mt)
    r.pos = p + 1
    r:skip()
    if text:sub(r.pos, r.pos) == "]" then
      r.pos = r.pos + 1
      return arr
    end
    while true do
      arr[#arr + 1] = read_value(r, depth + 1)
      r:skip()
      local d = text:sub(r.pos, r.pos)
      r.pos = r.pos + 1
      if d == "]" then return arr end
      if d ~= "," then r.pos = r.pos - 1; bad(r, "',' or ']' expected") end
    end
  elseif c == '"' then
    return read_string(r)
  elseif c == "t" and text:sub(p, p + 3) == "true" then
    r.pos = p + 4
    return true
  elseif c == "f" and text:sub(p, p + 4) == "false" then
    r.pos = p + 5
    return false
  elseif c == "n" and text:sub(p, p + 3) == "null" then
    r.pos = p + 4
    return core.null
  elseif c == "" then
    bad(r, "unexpected end")
  end
  return read_number(r)
end

-- pcall for the reader's own errors only.
local function protect(fn, ...)
  local ok, v = pcall(fn, ...)
  if ok then return v end
  if type(v) == "table" and v.json then return nil, v.json end
  error(v, 0)
end

--- One plain JSON value from text (nothing else but whitespace around
--- it): the value, or nil, "invalid JSON at byte N: what".
function M.decode(text)
  return protect(function()
    local r = setmetatable({ text = text, pos = 1 }, Reader)
    local v = read_value(r, 0)
    r:skip()
    if r.pos <= #text then bad(r, "unexpected text after the value") end
    return v
  end)
end

--- Every plain JSON value in text, one after another (JSON lines, or
--- documents separated by whitespace): a list, or nil, message.
function M.decode_all(text)
  return protect(function()
    local r = setmetatable({ text = text, pos = 1 }, Reader)
    local list = {}
    r:skip()
    while r.pos <= #text do
      list[#list + 1] = read_value(r, 0)
      r:skip()
    end
    return list
  end)
end

--- An item or key from typed JSON: the value, or nil, message.
function M.decode_typed(text)
  local ok, v, err = pcall(the_codec().decode, the_codec(), text, M.ITEM)
  if not ok then return nil, tostring(v) end
  return v, err
end

--- A JSON string literal (quotes and escapes) for text.
function M.quote(s)
  return the_codec():encode(s)
end

return M
