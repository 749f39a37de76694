#!/usr/bin/env dynamo run
-- Returns "arg[0]|the arguments, comma-separated" (tests/test_runtime.c).
return arg[0] .. "|" .. table.concat({ ... }, ",")
