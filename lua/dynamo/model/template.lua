--- Key templates: "USER#${id}", "ORDER#${date}#${order_id}", a constant
--- "PROFILE", or exactly "${id}". Parsed once; then rendered from field
--- texts, parsed back from a stored key, or cut to a prefix for
--- begins_with. Knows nothing of field types: callers pass texts.
local type, ipairs, concat = type, ipairs, table.concat
local format = string.format

local M = {}

local function escape(s) return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end

--- Parses a template. Returns { text, parts, fields, exact }: parts are
--- literal strings and { field = name } references in order, fields the
--- names in order, exact the name when the template is exactly "${name}".
--- Or nil and what is wrong.
function M.parse(text)
  if text == "" then return nil, "empty template" end
  local parts, fields, seen, pos = {}, {}, {}, 1
  while true do
    local open = text:find("${", pos, true)
    if not open then
      if pos <= #text then parts[#parts + 1] = text:sub(pos) end
      break
    end
    local close = text:find("}", open + 2, true)
    if not close then return nil, format("unclosed '${' at character %d", open) end
    local name = text:sub(open + 2, close - 1)
    if not name:match("^[%a_][%w_]*$") then
      return nil, format("bad field reference '${%s}' (a field name expected)", name)
    end
    if seen[name] then return nil, format("field '%s' appears twice", name) end
    -- Two references side by side could not be told apart when parsing back.
    if open == pos and #fields > 0 then
      return nil, format("fields '%s' and '%s' need a separator between them", fields[#fields], name)
    end
    if open > pos then parts[#parts + 1] = text:sub(pos, open - 1) end
    parts[#parts + 1] = { field = name }
    fields[#fields + 1] = name
    seen[name] = true
    pos = close + 1
  end
  local exact = #parts == 1 and type(parts[1]) == "table" and parts[1].field or nil
  local pat = {}
  for i, p in ipairs(parts) do pat[i] = type(p) == "string" and escape(p) or "(.-)" end
  return { text = text, parts = parts, fields = fields, exact = exact, pattern = "^" .. concat(pat) .. "$" }
end

--- The rendered string, text_of(name) giving each field's text (nil when
--- missing). Or nil and the list of missing field names.
function M.render(t, text_of)
  local out, missing = {}, {}
  for i, p in ipairs(t.parts) do
    if type(p) == "string" then
      out[i] = p
    else
      local s = text_of(p.field)
      if s == nil then missing[#missing + 1] = p.field else out[i] = s end
    end
  end
  if #missing > 0 then return nil, missing end
  return concat(out)
end

--- The field texts in a stored string: { name = text }, or nil when the
--- string does not have the template's shape. When a value holds the text
--- that follows it, the first match wins ("A#${a}#${b}" reads "A#x#y#z" as
--- a = "x", b = "y#z").
function M.parse_back(t, s)
  if type(s) ~= "string" then return nil end
  if #t.fields == 0 then return s == t.text and {} or nil end
  local caps = { s:match(t.pattern) }
  if #caps == 0 then return nil end
  local out = {}
  for i, name in ipairs(t.fields) do out[name] = caps[i] end
  return out
end

--- For a key condition on a sort key: "eq", the whole string when every
--- field has a text; else "begins_with" and the prefix up to the last given
--- field's text (the constant before the first field when none is given;
--- "" when there is none). Or nil, "gap", and the names given after a
--- missing one (a prefix cannot skip a field).
function M.prefix(t, text_of)
  local out, cut, missing, after = {}, 0, nil, {}
  for _, p in ipairs(t.parts) do
    if type(p) == "string" then
      if not missing then out[#out + 1] = p end
      if not missing and cut == 0 and #out == 1 then cut = 1 end
    else
      local s = text_of(p.field)
      if missing then
        if s ~= nil then after[#after + 1] = p.field end
      elseif s == nil then
        missing = p.field
      else
        out[#out + 1] = s
        cut = #out
      end
    end
  end
  if not missing then return "eq", concat(out) end
  if #after > 0 then return nil, "gap", missing, after end
  return "begins_with", concat(out, "", 1, cut)
end

return M
