--- Files the CLI keeps: read whole, replaced atomically (a temporary file
--- renamed over the old one, so a reader, or a run killed mid-write,
--- sees the old content or the new, never half of either).
local fail = require "dynamo.cli.fail"

local M = {}

--- The content of path, or nil when it does not exist (a failure for
--- any other error).
function M.read(path)
  local f, err, code = io.open(path, "rb")
  if not f then
    if code == 2 then return nil end
    fail.run("cannot read " .. err)
  end
  local text = f:read("a")
  f:close()
  return text
end

--- Replaces path's content with text, atomically.
function M.replace(path, text)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then fail.run("cannot write " .. err) end
  local ok, werr = f:write(text)
  if ok then ok, werr = f:close() else f:close() end
  if not ok then fail.run("cannot write " .. tmp .. ": " .. tostring(werr)) end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then fail.run("cannot replace " .. path .. ": " .. tostring(rerr)) end
end

--- Does path exist?
function M.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- The path without its directory and the given extension.
function M.basename(path, ext)
  local base = path:match("([^/]+)$") or path
  if ext and base:sub(-#ext) == ext then base = base:sub(1, -#ext - 1) end
  return base
end

--- Is stderr (fd 2) a terminal? DYNAMO_PROGRESS=bar|lines|off overrides
--- what the progress display makes of it.
function M.stderr_is_tty()
  return os.execute("test -t 2") == true
end

return M
