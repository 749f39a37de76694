--- Credentials providers. A provider is any value with a method
---   provider:get() -> { access_key_id, secret_access_key, session_token?, expiration? }
---                    or nil, err
--- (expiration in seconds since the epoch) and, optionally,
---   provider:invalidate(creds?)  the server rejected these credentials as
---                                expired: the next get() fetches new ones
--- The client asks its provider before each request, so a provider that
--- caches and refreshes temporary credentials rotates them transparently.
--- `resolve` turns the `credentials` argument of dynamo.new into a provider.
--- Nothing here does I/O until a provider's first get().
local static = require "dynamo.credentials.static"
local env = require "dynamo.credentials.env"
local chain = require "dynamo.credentials.chain"
local args = require "dynamo.credentials.args"
local web_identity = require "dynamo.credentials.web_identity"
local profile = require "dynamo.credentials.profile"
local process = require "dynamo.credentials.process"
local container = require "dynamo.credentials.container"
local imds = require "dynamo.credentials.imds"
local assume_role = require "dynamo.credentials.assume_role"
local shared = require "dynamo.credentials.shared"
local async = require "dynamo.async"

local M = {
  static = static.new,
  env = env.new,
  chain = chain.new,
  web_identity = web_identity.new,
  profile = profile.new,
  process = process.new,
  container = container.new,
  imds = imds.new,
  assume_role = assume_role.new,
  --- shared(dict_name, provider?, key?): inside nginx, credentials kept in
  --- a lua_shared_dict for every worker and refreshed in a timer.
  shared = shared.new,
}

--- The default chain, in the AWS SDKs' order: the environment, a web
--- identity token, the shared files' profile, the container endpoint, the
--- EC2 instance metadata. default{ env = } reads variables from env.
function M.default(opts)
  opts = args.check("dynamo.credentials.default", opts, { env = "env" })
  local o = { env = opts.env }
  return chain.new {
    env.new(o), web_identity.new(o), profile.new(o), container.new(o), imds.new(o),
  }
end

-- Inside nginx every client a worker makes without `credentials` shares
-- one default chain, so one cache (made on first use, never at require).
local worker_default

--- A provider for the `credentials` argument: nil -> the default chain
--- (inside nginx, one per worker); a table with access_key_id -> static;
--- anything with :get() -> itself.
function M.resolve(arg)
  if arg == nil then
    if async.nginx then
      worker_default = worker_default or M.default()
      return worker_default
    end
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
