-- A syntax error on line 2 (tests/test_runtime.c).
local x = = 1
return x
