-- Fails with a plain error when given more than two arguments
-- (tests/test_runtime.c checks the code, message and traceback).
local function check(n)
  if n > 2 then error("too many arguments: " .. n) end
  return n
end
return check(select("#", ...))
