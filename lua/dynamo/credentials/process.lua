--- Credentials printed by a command (the `credential_process` of a profile):
--- it runs through the shell and must exit 0 and print JSON
---   { "Version": 1, "AccessKeyId": ..., "SecretAccessKey": ...,
---     "SessionToken": ..., "Expiration": "2024-05-01T12:34:56Z" }
--- (SessionToken and Expiration optional; without Expiration the
--- credentials are kept until invalidated). Its stderr is left alone.
--- Messages never show the command (it may hold a secret) or its output.
--- The command blocks the program while it runs, also inside tasks.
local core = require "dynamo.core"
local errors = require "dynamo.errors"
local refreshing = require "dynamo.credentials.refreshing"
local timestamp = require "dynamo.credentials.timestamp"

local M = {}

-- Lua 5.1 and LuaJIT: close() on a pipe says nothing of the exit status,
-- so the shell prints it after the command's output.
local STATUS_LINE = _VERSION == "Lua 5.1"

local function fail(who, what)
  return nil, errors.new { code = "CredentialsError", message = who .. " " .. what }
end

--- Runs cmd; `who` names it in messages ("credential_process of profile 'x'").
function M.run(cmd, who)
  if STATUS_LINE then cmd = "(\n" .. cmd .. "\n)\nprintf '\\n#dynamo-status %d' $?" end
  local f, msg = io.popen(cmd, "r")
  if not f then return fail(who, "could not start (" .. tostring(msg) .. ")") end
  local out = f:read("*a")
  local ok, how, code = f:close()
  if STATUS_LINE then
    local status
    out, status = out:match("^(.-)\n#dynamo%-status (%d+)$")
    code = tonumber(status)
    if not code then return fail(who, "did not finish") end
    ok, how = code == 0, "exit"
  end
  if not ok then
    if how == "signal" then return fail(who, "was killed by signal " .. tostring(code)) end
    return fail(who, "exited with status " .. tostring(code))
  end
  local t = core.codec {}:decode(out or "")
  if type(t) ~= "table" then return fail(who, "did not print a JSON object") end
  if t.Version ~= 1 then
    -- Shows a number only: any text might be a secret.
    return fail(who, "printed Version " .. (type(t.Version) == "number" and tostring(t.Version) or type(t.Version))
      .. " (expected 1)")
  end
  for _, field in ipairs { "AccessKeyId", "SecretAccessKey" } do
    if type(t[field]) ~= "string" or t[field] == "" then return fail(who, "printed no " .. field) end
  end
  if t.SessionToken ~= nil and type(t.SessionToken) ~= "string" then
    return fail(who, "printed a SessionToken that is not a string")
  end
  local expiration
  if t.Expiration ~= nil then
    expiration = timestamp.parse(t.Expiration)
    if not expiration then return fail(who, "printed an Expiration that is not an ISO 8601 time") end
  end
  return {
    access_key_id = t.AccessKeyId,
    secret_access_key = t.SecretAccessKey,
    session_token = t.SessionToken ~= "" and t.SessionToken or nil,
    expiration = expiration,
  }
end

--- process(cmd): a provider running cmd whenever it needs credentials.
function M.new(cmd)
  if type(cmd) ~= "string" or cmd == "" then
    error("bad argument #1 to 'dynamo.credentials.process' (non-empty string expected, got "
      .. (cmd == "" and "empty string" or type(cmd)) .. ")", 2)
  end
  return refreshing.new("dynamo.credentials.process", "credential_process", function()
    return M.run(cmd, "credential_process")
  end)
end

return M
