--- dynamo query / scan: items as JSON lines.
local dynamo = require "dynamo"
local output = require "dynamo.cli.output"
local json = require "dynamo.cli.json"
local fail = require "dynamo.cli.fail"

local TYPED = { kind = "bool", help = "print items in DynamoDB's typed JSON instead of plain JSON" }

-- Prints every item of an iterator, one line each; an error stops with status 1.
local function print_all(it, typed)
  io.stdout:setvbuf("full")
  while true do
    local item, err = it:next()
    if err then
      io.stdout:flush()
      fail.run(tostring(err))
    end
    if item == nil then break end
    output.item(item, typed)
  end
  io.stdout:flush()
  return 0
end

-- "name=value" (value a string) or a JSON object: equality conditions.
local function parse_key(list)
  local key = {}
  for _, text in ipairs(list) do
    if text:match("^%s*{") then
      local v, err = json.decode(text)
      if v == nil then fail.data("--key: " .. err) end
      if type(v) ~= "table" or getmetatable(v) ~= nil then fail.data("--key: a JSON object expected") end
      for k, x in pairs(v) do key[k] = x end
    else
      local name, value = text:match("^([^=]+)=(.*)$")
      if not name then
        fail.usage("bad value for --key: NAME=VALUE or a JSON object expected, got '" .. text .. "'")
      end
      key[name] = value
    end
  end
  return key
end

local query = {
  name = "query",
  summary = "print the items of a Query as JSON lines",
  usage = "dynamo query TABLE --key KEY [--begins-with NAME=PREFIX] [--index I] [--limit N] [--desc] [--consistent] [--typed]",
  args = { "TABLE" },
  flags = {
    key = { kind = "string", many = true, value = "KEY",
      help = "the key to match: NAME=VALUE (a string) or a JSON object of equality conditions, e.g. '{\"pk\": \"u1\", \"sk\": 5}'; repeatable" },
    ["begins-with"] = { kind = "string", value = "NAME=PREFIX", help = "the sort key begins with PREFIX" },
    index = { kind = "string", value = "I", help = "query this index" },
    limit = { kind = "int", value = "N", help = "print at most N items" },
    desc = { kind = "bool", help = "in descending sort-key order" },
    consistent = { kind = "bool", help = "strongly consistent reads" },
    typed = TYPED,
  },
  help = [[
Prints every item whose key matches, one JSON object per line, following
the pages.

  dynamo query orders --key customer=c1
  dynamo query orders --key '{"customer": "c1"}' --begins-with at=2026- --desc --limit 10
  dynamo query users --index by_email --key email=ada@example.com]],
  run = function(ctx, opts, a)
    if not opts.key then fail.usage("missing --key; usage: dynamo query TABLE --key KEY [flags]") end
    local eq = parse_key(opts.key)
    local cond
    for name, value in pairs(eq) do
      local c = dynamo.key(name):eq(value)
      cond = cond and (cond & c) or c
    end
    if not cond then fail.usage("--key names no attribute") end
    if opts.begins_with then
      local name, prefix = opts.begins_with:match("^([^=]+)=(.*)$")
      if not name then
        fail.usage("bad value for --begins-with: NAME=PREFIX expected, got '" .. opts.begins_with .. "'")
      end
      cond = cond & dynamo.key(name):begins_with(prefix)
    end
    local db = ctx:client()
    local it = db:query_items { TableName = a.TABLE, IndexName = opts.index, key = cond,
      ScanIndexForward = not opts.desc, ConsistentRead = opts.consistent, limit = opts.limit }
    return print_all(it, opts.typed)
  end,
}

local scan = {
  name = "scan",
  summary = "print every item of a table as JSON lines",
  usage = "dynamo scan TABLE [--limit N] [--segments N] [--index I] [--consistent] [--typed]",
  args = { "TABLE" },
  flags = {
    limit = { kind = "int", value = "N", help = "print at most N items" },
    segments = { kind = "int", value = "N", help = "scan N segments at once (a parallel scan; items come in no particular order)" },
    index = { kind = "string", value = "I", help = "scan this index" },
    consistent = { kind = "bool", help = "strongly consistent reads" },
    typed = TYPED,
  },
  help = [[
Prints every item, one JSON object per line.

  dynamo scan users --limit 10
  dynamo scan events --segments 8 > events.jsonl
  dynamo scan users --typed | head -1]],
  run = function(ctx, opts, a)
    local db = ctx:client()
    local p = { TableName = a.TABLE, IndexName = opts.index, ConsistentRead = opts.consistent, limit = opts.limit }
    local it
    if opts.segments and opts.segments > 1 then
      p.segments = opts.segments
      it = db:parallel_scan(p)
    else
      it = db:scan_items(p)
    end
    return print_all(it, opts.typed)
  end,
}

return { query, scan }
