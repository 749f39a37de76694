--- dynamo tables / describe: what tables there are, and one in detail.
local output = require "dynamo.cli.output"
local fail = require "dynamo.cli.fail"

local tables = {
  name = "tables",
  summary = "list the tables (a JSON array of names)",
  usage = "dynamo tables",
  args = {},
  flags = {},
  help = [[
Prints every table name of the account and region as a JSON array,
following ListTables' pages.

  dynamo tables --region eu-west-1]],
  run = function(ctx)
    local db = ctx:client()
    local names, start = setmetatable({}, require("dynamo.core").list_mt), nil
    repeat
      local res, err = db:list_tables { ExclusiveStartTableName = start }
      if not res then fail.run(tostring(err)) end
      for _, n in ipairs(res.TableNames or {}) do names[#names + 1] = n end
      start = res.LastEvaluatedTableName
    until start == nil
    output.document(names)
    return 0
  end,
}

local describe = {
  name = "describe",
  summary = "print a table's description (DescribeTable) as JSON",
  usage = "dynamo describe TABLE",
  args = { "TABLE" },
  flags = {},
  help = [[
Prints the table's description as DescribeTable returns it (key schema,
indexes, item count, status, ...), as an indented JSON document.

  dynamo describe users]],
  run = function(ctx, _, a)
    local res, err = ctx:client():describe_table { TableName = a.TABLE }
    if not res then fail.run(tostring(err)) end
    output.document(res.Table)
    return 0
  end,
}

return { tables, describe }
