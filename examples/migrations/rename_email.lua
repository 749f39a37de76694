-- A schema migration: rename the attribute `mail` to `email`, and backfill
-- the key of the global secondary index `by_email` (gsi1pk =
-- "EMAIL#<address in lower case>") on every user that lacks it.
--
--   dynamo migrate examples/migrations/rename_email.lua --dry-run | head
--   dynamo migrate examples/migrations/rename_email.lua --segments 4 --max-wcu 200
--
-- Each change is written with a condition that `mail`, `email` and
-- `gsi1pk` still hold what was read, so a user who changes their address
-- meanwhile is not overwritten (that item counts as skipped; run the
-- migration again to pick it up). Running it again changes nothing more:
-- the filter leaves out the users already migrated.
local attr = dynamo.attr

return {
  table = "users",
  -- Only the users that need it (the scan still reads every item, but the
  -- function and the progress see only these).
  filter = attr("mail"):exists() | attr("gsi1pk"):not_exists(),
  migrate = function(user)
    local email = user.email or user.mail
    local change = { set = {}, remove = {} }
    if user.mail ~= nil then
      change.set.email = email
      change.remove[1] = "mail"
    end
    if type(email) == "string" and email ~= "" then
      change.set.gsi1pk = "EMAIL#" .. email:lower()
    end
    return change
  end,
}
