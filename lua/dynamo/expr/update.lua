--- Update expressions: SET, REMOVE, ADD and DELETE actions, built with
--- chainable methods (u:set(p, v):remove(p2) returns u) or from a plain
--- table { set = {...}, remove = {...}, add = {...}, delete = {...} }.
--- Paths DynamoDB would refuse together (the same path twice, a path and a
--- path inside it) are refused when the action is added.
local core = require "dynamo.core"
local node = require "dynamo.expr.node"
local show = require "dynamo.expr.show"
local path = require "dynamo.expr.path"

local setmetatable, getmetatable, type, error, pairs, ipairs, select, tostring =
  setmetatable, getmetatable, type, error, pairs, ipairs, select, tostring
local format, concat, sort = string.format, table.concat, table.sort

local M = {}

local Update = node.class("update")

local VERBS = { "SET", "REMOVE", "ADD", "DELETE" }

-- What the right side of SET may be: a value, a path, arithmetic,
-- if_not_exists() or list_append().
local SET_KINDS = { path = true, arithmetic = true, if_not_exists = true, list_append = true }

local function check_set_value(v)
  local k = node.kind(v)
  if SET_KINDS[k] then return nil end
  if k then return "value, attr(), arithmetic, if_not_exists() or list_append() expected, got " .. k end
  return node.check_value(v)
end

local function is_number(v)
  return type(v) == "number" or getmetatable(v) == core.decimal_mt
end

local function check_add_value(v)
  if is_number(v) or getmetatable(v) == core.set_mt then return nil end
  return "number or set expected, got " .. node.describe(v)
end

local function check_delete_value(v)
  if getmetatable(v) == core.set_mt then return nil end
  return "set expected, got " .. node.describe(v)
end

-- Adds one action after checking its path against the paths already
-- updated. Returns nil, or what is wrong.
local function add_action(self, verb, p, value)
  for _, a in ipairs(self.actions) do
    local rel = path.relation(a.path, p)
    if rel == "same" then
      return format("path '%s' is updated twice (%s and %s)", tostring(p), a.verb, verb)
    elseif rel == "overlap" then
      return format("paths '%s' and '%s' overlap; DynamoDB updates a path or a path inside it, not both",
        tostring(a.path), tostring(p))
    elseif rel == "conflict" then
      return format("paths '%s' and '%s' conflict; an attribute is a list or a map, not both",
        tostring(a.path), tostring(p))
    end
  end
  self.actions[#self.actions + 1] = { verb = verb, path = p, value = value }
end

local function new() return setmetatable({ actions = {} }, Update) end

-- One chainable method: checks the path (argument #1) and the value
-- (argument #2, with check) and adds the action; raises at the caller.
local function method(name, verb, check)
  Update[name] = function(self, p, v)
    local pp, msg = path.coerce(p)
    if not pp then error(format("bad argument #1 to '%s' (%s)", name, msg), 2) end
    msg = check(v)
    if msg then error(format("bad argument #2 to '%s' (%s)", name, msg), 2) end
    msg = add_action(self, verb, pp, v)
    if msg then error(format("bad argument #1 to '%s' (%s)", name, msg), 2) end
    return self
  end
end

method("set", "SET", check_set_value)
method("add", "ADD", check_add_value)
method("delete", "DELETE", check_delete_value)

--- u:remove(p1, p2, ...): removes attributes or list elements.
function Update:remove(...)
  local n = select("#", ...)
  if n == 0 then error("bad argument #1 to 'remove' (path expected, got no value)", 2) end
  for i = 1, n do
    local pp, msg = path.coerce((select(i, ...)))
    if not pp then error(format("bad argument #%d to 'remove' (%s)", i, msg), 2) end
    msg = add_action(self, "REMOVE", pp)
    if msg then error(format("bad argument #%d to 'remove' (%s)", i, msg), 2) end
  end
  return self
end

--- Is the update empty (no action yet)?
function Update:is_empty() return #self.actions == 0 end

function Update:emit(sink)
  local clauses = {}
  for _, verb in ipairs(VERBS) do
    local items = {}
    for _, a in ipairs(self.actions) do
      if a.verb == verb then
        local p = a.path:emit(sink)
        if verb == "SET" then
          p = p .. " = " .. node.emit(a.value, sink)
        elseif verb ~= "REMOVE" then
          p = p .. " " .. sink:ref_value(a.value)
        end
        items[#items + 1] = p
      end
    end
    if #items > 0 then clauses[#clauses + 1] = verb .. " " .. concat(items, ", ") end
  end
  return concat(clauses, " ")
end

-- The path strings of a plain-table action, sorted so the expression is
-- the same on every run. nil and what is wrong.
local function sorted_paths(name, t)
  if type(t) ~= "table" or node.kind(t) then
    return nil, format("%s: table expected, got %s", name, node.describe(t))
  end
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then
      return nil, format("%s: path strings expected as keys, got %s", name, node.describe(k))
    end
    keys[#keys + 1] = k
  end
  sort(keys)
  return keys
end

local TABLE_ACTIONS = {
  { key = "set", verb = "SET", check = check_set_value },
  { key = "add", verb = "ADD", check = check_add_value },
  { key = "delete", verb = "DELETE", check = check_delete_value },
}
local KNOWN = { set = true, remove = true, add = true, delete = true }

-- remove = "a" or remove = {"a", attr{...}, ...}
local function table_remove(u, list)
  if type(list) == "string" or node.kind(list) == "path" then list = { list } end
  if type(list) ~= "table" or node.kind(list) then
    return "remove: path or list of paths expected, got " .. node.describe(list)
  end
  for i = 1, #list do
    local pp, msg = path.coerce(list[i])
    if not pp then return format("remove[%d]: %s", i, msg) end
    msg = add_action(u, "REMOVE", pp)
    if msg then return msg end
  end
end

--- An update from the plain-table form. Returns it, or nil and what is wrong.
function M.from_table(t)
  for k in pairs(t) do
    if not KNOWN[k] then
      return nil, format("unknown action %s (expected set, remove, add or delete)",
        type(k) == "string" and "'" .. k .. "'" or node.describe(k))
    end
  end
  local u = new()
  for _, act in ipairs(TABLE_ACTIONS) do
    local t2 = t[act.key]
    if t2 ~= nil then
      local keys, msg = sorted_paths(act.key, t2)
      if not keys then return nil, msg end
      for _, k in ipairs(keys) do
        local pp
        pp, msg = path.parse(k)
        if not pp then return nil, act.key .. ": " .. msg end
        msg = act.check(t2[k])
        if msg then return nil, format("%s[%s]: %s", act.key, show.quote(k), msg) end
        msg = add_action(u, act.verb, pp, t2[k])
        if msg then return nil, msg end
      end
    end
    if act.key == "set" and t.remove ~= nil then
      local msg = table_remove(u, t.remove)
      if msg then return nil, msg end
    end
  end
  return u
end

--- update(): an empty builder; update(t): one from the plain-table form
--- (an update passed in is returned as it is).
function M.new(t)
  if t == nil then return new() end
  if node.kind(t) == "update" then return t end
  if type(t) ~= "table" or node.kind(t) then
    error("bad argument #1 to 'update' (table expected, got " .. node.describe(t) .. ")", 2)
  end
  local u, msg = M.from_table(t)
  if not u then error("bad argument #1 to 'update' (" .. msg .. ")", 2) end
  return u
end

return M
