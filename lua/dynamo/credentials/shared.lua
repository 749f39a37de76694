--- Credentials shared by every nginx worker through a lua_shared_dict, and
--- refreshed ahead of time in a timer.
---
---   lua_shared_dict dynamo_creds 1m;                      -- nginx.conf, http block
---   local db = dynamo.new { region = "eu-west-1",
---     credentials = dynamo.credentials.shared("dynamo_creds") }  -- the default chain
---   -- or: dynamo.credentials.shared("dynamo_creds", some_provider, "key")
---
--- get() answers from the dict while the credentials there have more than
--- REFRESH_BEFORE seconds left. With less (but more than MARGIN) it still
--- answers at once and starts one refresh in a timer (ngx.timer.at), at
--- most one per RETRY_AFTER seconds across all workers (a lock in the
--- dict). Only when there are none, or they are about to expire, does a
--- request wait for the provider; within a worker such waits share one
--- fetch (the provider's own cache coalesces them).
---
--- The dict holds the secret key and token in nginx's shared memory, which
--- only nginx's own processes can read. Works inside nginx only.
local refreshing = require "dynamo.credentials.refreshing"

local type, error, tostring, tonumber, setmetatable, pcall = type, error, tostring, tonumber, setmetatable, pcall
local match, format, huge = string.match, string.format, math.huge

local M = {}

local Shared = {}
Shared.__index = Shared

function Shared:__tostring()
  return "dynamo.credentials.shared(" .. self.dict_name .. ", " .. tostring(self.provider) .. ")"
end

-- One line per field; no field holds a newline.
local function encode(c)
  return format("1\n%s\n%s\n%s\n%s", c.access_key_id, c.secret_access_key, c.session_token or "",
    c.expiration and format("%.0f", c.expiration) or "")
end

local function decode(raw)
  local ak, sk, token, exp = match(raw, "^1\n([^\n]*)\n([^\n]*)\n([^\n]*)\n([^\n]*)$")
  if not ak then return nil end
  return {
    access_key_id = ak, secret_access_key = sk,
    session_token = token ~= "" and token or nil,
    expiration = exp ~= "" and tonumber(exp) or nil,
  }
end

local function left(c)
  return c.expiration and c.expiration - ngx.time() or huge
end

-- Stores credentials in the dict until they expire.
local function store(self, c)
  local ttl = 0
  if c.expiration then
    ttl = c.expiration - ngx.time()
    if ttl < 1 then return end
  end
  local ok, err = self.dict:set(self.key, encode(c), ttl)
  if not ok then
    ngx.log(ngx.WARN, "dynamo: cannot store credentials in lua_shared_dict ", self.dict_name, ": ", err)
  end
end

local function refresh(premature, self)
  if premature then return end
  local ok, got = pcall(self.provider.get, self.provider)
  if ok and got then
    store(self, got)
  elseif not ok then
    ngx.log(ngx.ERR, "dynamo: the credentials refresh raised an error: ", tostring(got))
  end
  -- A failed refresh is tried again when the lock expires.
end

-- Starts a refresh in a timer unless one ran lately (in any worker).
local function refresh_soon(self)
  if not self.dict:add(self.lock_key, true, refreshing.RETRY_AFTER) then return end
  local ok, err = ngx.timer.at(0, refresh, self)
  if not ok then
    ngx.log(ngx.WARN, "dynamo: cannot start a credentials refresh timer: ", err)
    self.dict:delete(self.lock_key)
  end
end

function Shared:get()
  local raw = self.dict:get(self.key)
  local c
  if raw then
    if raw == self.raw then
      c = self.decoded
    else
      c = decode(raw)
      self.raw, self.decoded = raw, c
    end
  end
  if c then
    local rest = left(c)
    if rest > refreshing.REFRESH_BEFORE then return c end
    if rest > refreshing.MARGIN then
      refresh_soon(self)
      return c
    end
  end
  local got, err = self.provider:get()
  if not got then return nil, err end
  store(self, got)
  return got
end

--- The server said these credentials expired: drops them from the dict
--- (when they are still the ones there) and from the provider's cache.
function Shared:invalidate(creds)
  local raw = self.dict:get(self.key)
  local c = raw and decode(raw)
  if c and (creds == nil or c.access_key_id == creds.access_key_id) then
    self.dict:delete(self.key)
  end
  self.raw, self.decoded = nil, nil
  if self.provider.invalidate then self.provider:invalidate(creds) end
end

--- dict_name: a lua_shared_dict; provider: where credentials come from
--- (default: the default chain, one per worker); key: the dict key, when
--- several providers share one dict (default "default").
function M.new(dict_name, provider, key)
  if type(dict_name) ~= "string" then
    error("bad argument #1 to 'dynamo.credentials.shared' (lua_shared_dict name expected, got "
      .. type(dict_name) .. ")", 2)
  end
  if type(ngx) ~= "table" or type(ngx.shared) ~= "table" then
    error("dynamo.credentials.shared: works inside nginx only (it keeps credentials in a lua_shared_dict)", 2)
  end
  local dict = ngx.shared[dict_name]
  if not dict then
    error("dynamo.credentials.shared: no lua_shared_dict named '" .. dict_name .. "' (add `lua_shared_dict "
      .. dict_name .. " 1m;` to nginx.conf's http block)", 2)
  end
  if provider == nil then
    provider = require("dynamo.credentials").resolve(nil)
  elseif (type(provider) ~= "table" and type(provider) ~= "userdata") or type(provider.get) ~= "function" then
    error("bad argument #2 to 'dynamo.credentials.shared' (provider with a get method expected, got "
      .. type(provider) .. ")", 2)
  end
  if key ~= nil and type(key) ~= "string" then
    error("bad argument #3 to 'dynamo.credentials.shared' (string expected, got " .. type(key) .. ")", 2)
  end
  key = "dynamo:credentials:" .. (key or "default")
  return setmetatable({
    dict_name = dict_name, dict = dict, provider = provider,
    key = key, lock_key = key .. ":refreshing",
  }, Shared)
end

M.Shared = Shared
M._encode, M._decode = encode, decode

return M
