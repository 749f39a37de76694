--- Reads the AWS shared config and credentials files (an INI dialect):
--- "[section]" lines, "key = value" lines, "#" and ";" comments (whole
--- lines, or after a blank at the end of a line). Keys are lowercased;
--- indented lines continue the previous value (sub-properties, kept raw).
local M = {}

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

local function strip_comment(s)
  return (s:gsub("%s[#;].*$", ""))
end

--- The sections of the file at path: name -> { key = value }.
--- Returns nil, "missing" when there is no such file, nil, message when
--- it cannot be read.
function M.read(path)
  local f, msg, errno = io.open(path, "r")
  if not f then
    if errno == 2 then return nil, "missing" end
    return nil, msg
  end
  local text, rerr = f:read("a")
  f:close()
  if not text then return nil, path .. ": " .. tostring(rerr) end
  local sections, current, last_key = {}, nil, nil
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    line = line:gsub("\r$", "")
    local first = line:sub(1, 1)
    if line:match("^%s*$") or line:match("^%s*[#;]") then
      -- blank or comment
    elseif first == " " or first == "\t" then
      if current and last_key then
        current[last_key] = current[last_key] .. "\n" .. trim(line)
      end
    elseif first == "[" then
      local name = strip_comment(line):match("^%[(.*)%]%s*$")
      if name then
        name = trim(name)
        current = sections[name] or {}
        sections[name] = current
      else
        current = nil -- a malformed section line: ignore what follows
      end
      last_key = nil
    elseif current then
      local k, v = line:match("^([^=]-)%s*=%s*(.*)$")
      if k and k ~= "" then
        last_key = trim(k):lower()
        current[last_key] = trim(strip_comment(v))
      end
    end
  end
  return sections
end

return M
