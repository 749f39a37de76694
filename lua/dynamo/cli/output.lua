--- What commands print: items as JSON lines (plain or typed) and other
--- results as JSON documents on stdout; notes on stderr.
local json = require "dynamo.cli.json"
local fail = require "dynamo.cli.fail"

local M = {}

--- Writes one item (or nil as null) as a line: plain JSON, or typed JSON
--- when typed is true.
function M.item(item, typed)
  local ok, text
  if item == nil then
    ok, text = true, "null"
  elseif typed then
    ok, text = pcall(json.encode_typed, item)
  else
    ok, text = pcall(json.encode, item)
  end
  if not ok then fail.run("cannot write an item as JSON: " .. tostring(text)) end
  io.stdout:write(text, "\n")
end

--- Writes a value as an indented JSON document.
function M.document(v)
  io.stdout:write(json.encode(v, true), "\n")
end

--- A line on stderr.
function M.note(line)
  io.stderr:write(line, "\n")
end

--- Reads an argument that holds JSON: the text itself, or stdin for "-"
--- (or a file for "@path"). Returns the text.
function M.input(arg, what)
  if arg == "-" then return io.stdin:read("a") end
  if arg:sub(1, 1) == "@" then
    local f, err = io.open(arg:sub(2), "rb")
    if not f then fail.run("cannot read " .. what .. ": " .. err) end
    local text = f:read("a")
    f:close()
    return text
  end
  return arg
end

--- The item or key that JSON text holds (plain, or typed with typed =
--- true): a table; a data failure names `what` and the problem.
function M.parse_item(text, what, typed)
  local v, err
  if typed then v, err = json.decode_typed(text) else v, err = json.decode(text) end
  if v == nil then fail.data(what .. ": " .. err) end
  if type(v) ~= "table" or getmetatable(v) ~= nil then
    fail.data(what .. ": a JSON object expected")
  end
  return v
end

return M
