--- dynamo shell: an interactive prompt with dynamo and a ready db.
local dynamo = require "dynamo"
local core = require "dynamo.core"
local json = require "dynamo.cli.json"
local script_env = require "dynamo.cli.script_env"

-- How a result prints: strings as they are, dynamo error values as their
-- text, items and other plain data as one line of JSON, the rest through
-- tostring.
local function show(v)
  if v == nil then return "nil" end
  if type(v) == "string" then return v end
  if dynamo.is_error(v) then return tostring(v) end
  if type(v) == "table" then
    local mt = getmetatable(v)
    if mt == nil or mt == core.list_mt or mt == core.map_mt or mt == core.set_mt or mt == core.binary_mt then
      local ok, text = pcall(json.encode, v)
      if ok then return text end
    end
    return tostring(v)
  end
  local ok, text = pcall(json.encode, v)
  return ok and text or tostring(v)
end

return {
  name = "shell",
  summary = "an interactive Lua prompt with dynamo and a ready client (db)",
  usage = "dynamo shell",
  args = {},
  flags = {},
  help = [[
Reads Lua from stdin a line at a time, with `dynamo` and `db` (a client
made from the flags) as globals. Each line is evaluated as `return <line>`
first (so expressions print their values), else as a statement; results
print as JSON (items, responses) or as text (error values). A line that
leaves a statement open continues on the next. `exit`, `quit` or end of
input (Ctrl-D) leaves. Errors print on stderr and the prompt goes on.

  $ dynamo --endpoint http://127.0.0.1:8000 shell
  dynamo> db:get_item { table = "users", key = { id = "u1" } }
  {"Item":{"id":"u1","name":"Ada"}}
  dynamo> for u in db:scan_items { table = "users" } do print(u.id) end]],
  run = function(ctx)
    local env = script_env.new(ctx, "shell", {})
    local interactive = os.execute("test -t 0") == true
    local buffer = ""
    while true do
      if interactive then
        io.stdout:write(buffer == "" and "dynamo> " or ">> ")
        io.stdout:flush()
      end
      local line = io.stdin:read("L")
      if line == nil then break end
      if buffer == "" and (line:match("^%s*exit%s*$") or line:match("^%s*quit%s*$")) then break end
      buffer = buffer .. line
      local chunk, err = load("return " .. buffer, "=shell", "t", env)
      if not chunk then chunk, err = load(buffer, "=shell", "t", env) end
      -- An open statement ("... <eof>") reads on; anything else is done.
      if chunk or not err:match("<eof>$") then
        buffer = ""
        if not chunk then
          io.stderr:write("error: ", err, "\n")
        else
          local res = table.pack(pcall(chunk))
          if not res[1] then
            io.stderr:write("error: ", script_env.message(res[2]), "\n")
          elseif res.n > 1 then
            -- Trailing nils left out (db:put_item's `res, nil`), but a lone nil shows.
            local last = res.n
            while last > 2 and res[last] == nil do last = last - 1 end
            local parts = {}
            for i = 2, last do parts[#parts + 1] = show(res[i]) end
            io.stdout:write(table.concat(parts, "\t"), "\n")
          end
          io.stdout:flush()
        end
      end
    end
    if interactive then io.stdout:write("\n") end
    return 0
  end,
}
