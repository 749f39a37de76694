--- Credentials providers. A provider is any value with a method
---   provider:get() -> { access_key_id, secret_access_key, session_token?, expiration? }
---                    or nil, err
--- The client asks its provider before each request, so a provider that
--- caches and refreshes temporary credentials rotates them transparently.
--- `resolve` turns the `credentials` argument of dynamo.new into a provider.
local static = require "dynamo.credentials.static"
local env = require "dynamo.credentials.env"
local chain = require "dynamo.credentials.chain"

local M = {
  static = static.new,
  env = env.new,
  chain = chain.new,
}

--- The default chain: the environment. Later links (profiles, web identity,
--- container and instance metadata) plug in here.
function M.default()
  return chain.new { env.new() }
end

--- A provider for the `credentials` argument: nil -> the default chain; a
--- table with access_key_id -> static; anything with :get() -> itself.
function M.resolve(arg)
  if arg == nil then
    return M.default()
  end
  if type(arg) == "table" and arg.access_key_id ~= nil then
    return static.new(arg)
  end
  if (type(arg) == "table" or type(arg) == "userdata") and type(arg.get) == "function" then
    return arg
  end
  error("bad argument 'credentials' to 'dynamo.new' (expected a table with access_key_id and "
    .. "secret_access_key, or a provider with a get method; got " .. type(arg) .. ")", 3)
end

return M
