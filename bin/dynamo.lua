#!/usr/bin/env lua5.4
-- The dynamo program for a checkout, until the C program (build/dynamo)
-- is built: the Lua modules from ./lua, dynamo.core from ./build (after
-- LUA_CPATH's own entries when that is set, e.g. to an ASan build).
--   lua5.4 bin/dynamo.lua --help
local root = (arg and arg[0] or ""):match("^(.*)/bin/[^/]*$") or "."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
if os.getenv("LUA_CPATH_5_4") or os.getenv("LUA_CPATH") then
  package.cpath = package.cpath .. ";" .. root .. "/build/?.so"
else
  package.cpath = root .. "/build/?.so;" .. package.cpath
end
os.exit(require("dynamo.cli").main({ ... }), true)
