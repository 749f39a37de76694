--- Key conditions (KeyConditionExpression): eq on the partition key, and
--- optionally one of eq, lt, le, gt, ge, between, begins_with on the sort
--- key. What DynamoDB would refuse is refused here, before sending.
local node = require "dynamo.expr.node"
local show = require "dynamo.expr.show"
local condition = require "dynamo.expr.condition"
local path = require "dynamo.expr.path"

local setmetatable, type, error, pairs, ipairs = setmetatable, type, error, pairs, ipairs
local format, sort = string.format, table.sort

local M = {}

local ALLOWED = { eq = true, lt = true, le = true, gt = true, ge = true, between = true, begins_with = true }
local USE = "use eq, lt, le, gt, ge, between or begins_with"

-- The key attribute a part is about, or nil and why it is not one.
local function key_name(part)
  local a = part.a
  if node.kind(a) == "size" then return nil, "size() is not allowed in a key condition" end
  local segs = a.segs
  if #segs ~= 1 then
    return nil, format("'%s' is a nested path; a key is a top-level attribute", tostring(a))
  end
  return segs[1]
end

--- Checks a condition as a key condition. Returns its parts in the order
--- to send them (the partition key's eq first), or nil and what is wrong.
function M.check(c)
  local parts = {}
  local function collect(x)
    if x.op == "or" then return "key conditions cannot use OR" end
    if x.op == "not" then return "key conditions cannot use NOT" end
    if x.op ~= "and" then
      parts[#parts + 1] = x
      return nil
    end
    for _, y in ipairs(x.args) do
      local msg = collect(y)
      if msg then return msg end
    end
  end
  local msg = collect(c)
  if msg then return nil, msg end
  if #parts > 2 then
    return nil, format("%d conditions; a key condition has at most two (partition key and sort key)", #parts)
  end
  local names = {}
  for i, p in ipairs(parts) do
    local name, why = key_name(p)
    if not name then return nil, why end
    if not ALLOWED[p.method] then
      return nil, format("%s is not allowed in a key condition (on '%s'; %s)", p.method, show.name(name), USE)
    end
    for _, v in ipairs(p.args) do
      if node.kind(v) then
        return nil, format("key '%s' must be compared with a value, got %s", show.name(name), node.kind(v))
      end
    end
    if names[1] == name then return nil, format("two conditions on key '%s'", show.name(name)) end
    names[i] = name
  end
  local first, second = parts[1], parts[2]
  if not second then
    if first.method ~= "eq" then
      return nil, format("the partition key needs eq; '%s' uses %s", show.name(names[1]), first.method)
    end
    return parts
  end
  if first.method == "eq" then return parts end
  if second.method == "eq" then return { second, first } end
  return nil, format("one of the two keys needs eq (the partition key); '%s' uses %s and '%s' uses %s",
    show.name(names[1]), first.method, show.name(names[2]), second.method)
end

local Key = node.class("key")

function Key:emit(sink) return self.path:emit(sink) end

for name, fn in pairs(condition.methods({ "eq", "lt", "le", "gt", "ge", "between", "begins_with" },
    { left = function(self) return self.path end, key = M.check })) do
  Key[name] = fn
end

-- What a filter could do but a key condition cannot: a clear error rather
-- than "attempt to call a nil value".
for _, name in ipairs { "ne", "in_", "contains", "exists", "not_exists", "attribute_type", "size" } do
  Key[name] = function(self)
    error(format("%s is not allowed in a key condition (on key '%s'; %s; attr() makes filters)",
      name, show.name(self.path.segs[1]), USE), 2)
  end
end

--- key(name): a key attribute, by its name as it is (never parsed as a path).
function M.new(name)
  if type(name) ~= "string" or name == "" then
    local got = name == "" and "empty string" or node.describe(name)
    error("bad argument #1 to 'key' (key attribute name expected, got " .. got .. ")", 2)
  end
  return setmetatable({ path = path.raw(name) }, Key)
end

--- A key condition from a plain table {pk = v} or {pk = v, sk = w} (eq on
--- each). Returns the condition, or nil and what is wrong.
function M.from_table(t)
  local names = {}
  for k in pairs(t) do
    if type(k) ~= "string" or k == "" then
      return nil, "key names must be non-empty strings, got " .. (k == "" and "empty string" or node.describe(k))
    end
    names[#names + 1] = k
  end
  if #names == 0 then return nil, "empty key condition" end
  if #names > 2 then
    return nil, format("%d keys; a key condition has at most two (partition key and sort key)", #names)
  end
  sort(names)
  local parts = {}
  for i, k in ipairs(names) do
    local msg = node.check_value(t[k])
    if msg then return nil, format("key '%s': %s", show.name(k), msg) end
    parts[i] = condition.key_eq(path.raw(k), t[k], M.check)
  end
  if #parts == 1 then return parts[1] end
  return condition.all(parts)
end

return M
