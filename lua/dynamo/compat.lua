--- What the library needs from Lua 5.3+ that LuaJIT (Lua 5.1 with
--- extensions, what OpenResty and nginx's Lua module run) lacks, in one
--- place. In 5.4 these are the standard functions; in LuaJIT, stand-ins.
--- LuaJIT has no integer subtype: there a whole number within 2^53 counts
--- as an integer (the range a double holds exactly; dynamo.core decodes
--- an N beyond it as a dynamo.decimal).
local type, select, floor, char = type, select, math.floor, string.char

local M = {}

local LIMIT = 2 ^ 53

--- math.type: "integer", "float" or nil.
M.math_type = math.type or function(v)
  if type(v) ~= "number" then return nil end
  if v == floor(v) and v >= -LIMIT and v <= LIMIT then return "integer" end
  return "float"
end

--- math.tointeger: the number as an integer, or nil when it is not one.
M.tointeger = math.tointeger or function(v)
  if M.math_type(v) == "integer" then return v end
  return nil
end

M.unpack = table.unpack or unpack

--- table.pack.
M.pack = table.pack or function(...) return { n = select("#", ...), ... } end

--- utf8.char for one code point (0 to 0x10FFFF).
M.utf8_char = utf8 and utf8.char or function(cp)
  if cp < 0x80 then return char(cp) end
  if cp < 0x800 then return char(0xC0 + floor(cp / 0x40), 0x80 + cp % 0x40) end
  if cp < 0x10000 then
    return char(0xE0 + floor(cp / 0x1000), 0x80 + floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
  end
  return char(0xF0 + floor(cp / 0x40000), 0x80 + floor(cp / 0x1000) % 0x40,
    0x80 + floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

return M
