-- A data fix: repair malformed email addresses (stray spaces and capitals,
-- "(at)", a doubled "@", a doubled dot, a misspelt gmail.com), keep the
-- old value in `email_was`, and move the index key `gsi1pk` along. An
-- address that cannot be repaired raises: that user goes to the
-- failed-items file (with the message), to be fixed by hand, and the run
-- ends with status 2.
--
--   dynamo migrate examples/migrations/fix_emails.lua --dry-run
--   dynamo migrate examples/migrations/fix_emails.lua --segments 4
--   jq -r '.key.id + "  " + .error.message' fix_emails.users.failed.jsonl
local VALID = "^[%w._%%+-]+@[%w-]+%.[%w.-]*%w$"

local function repair(address)
  local e = address:gsub("^%s+", ""):gsub("%s+$", ""):lower()
  e = e:gsub("%s*%(at%)%s*", "@"):gsub("%s*%[at%]%s*", "@"):gsub("@@+", "@")
  e = e:gsub("%.%.+", ".")
  e = e:gsub("@gmial%.com$", "@gmail.com"):gsub("@gmail%.con$", "@gmail.com")
  if e:match(VALID) and not e:find("..", 1, true) then return e end
end

return {
  table = "users",
  filter = dynamo.attr("email"):exists(),
  migrate = function(user)
    local address = user.email
    if type(address) ~= "string" then return end
    local fixed = repair(address)
    if not fixed then
      error(string.format("cannot repair the address %q", address), 0)
    end
    if fixed == address then return end   -- nothing to fix
    return { email = fixed, email_was = address, gsi1pk = "EMAIL#" .. fixed }
  end,
}
