--- The CLI's failures and exit statuses. A command raises one of these
--- (through the helpers below) for a problem it reports and stops on;
--- cli.main turns it into one line on stderr and the status. Anything
--- else raised is a bug or a script's own error, reported the same way
--- with status 1.
---   0   success
---   1   a request or a script failed (the message says which)
---   2   the run finished but some items failed (migrate, import)
---   64  usage: an unknown command or flag, a missing or bad value
---   65  bad input: JSON that does not parse, a migration script that
---       does not load or does not describe a migration
local M = {
  OK = 0, FAILED = 1, PARTIAL = 2, USAGE = 64, DATA = 65,
}

local Failure = {}
Failure.__index = Failure
Failure.__name = "dynamo.cli.failure"
function Failure:__tostring() return self.message end

local function raise(status, message)
  error(setmetatable({ status = status, message = message }, Failure), 0)
end

--- A usage error: wrong flags or arguments (status 64).
function M.usage(message) raise(M.USAGE, message) end

--- Bad input data or a bad script (status 65).
function M.data(message) raise(M.DATA, message) end

--- A failure at run time: a request, a file (status 1).
function M.run(message) raise(M.FAILED, message) end

--- Is e a failure raised here?
function M.is_failure(e) return getmetatable(e) == Failure end

return M
