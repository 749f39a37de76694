-- dynamo.credentials: the default chain (order, laziness, the "nothing
-- found" error, stopping at a broken source), the cache in front of every
-- temporary source (refresh before expiry, keeping good credentials when a
-- refresh fails, invalidate), coalesced fetches from concurrent tasks, the
-- process environment, and secrets kept out of messages. Against the
-- loopback credential server (spec/support/cred_server.js).
local dynamo = require "dynamo"
local credentials = dynamo.credentials
local refreshing = require "dynamo.credentials.refreshing"
local support = require "support.cred_server"

local ROLE_ARN = "arn:aws:iam::123456789012:role/web"

local run_isolated = require "support.isolated"

local function failure(p)
  local creds, err = p:get()
  assert.is_nil(creds)
  assert.is_true(dynamo.is_error(err), "not an error value: " .. tostring(err))
  return err
end

describe("dynamo.credentials", function()
  local server, dir, wit, credfile

  setup(function()
    server = support.start()
    dir = support.tmpdir()
    wit = dir:write("wit", "chain-jwt-secret")
    credfile = dir:write("credentials", "[default]\naws_access_key_id = AKIDPROFILE\n"
      .. "aws_secret_access_key = profile-secret\naws_session_token = profile-token-secret\n")
  end)
  teardown(function()
    server:stop()
    dir:remove()
  end)
  before_each(function() server:reset() end)

  -- Every source configured, each answering with its own keys.
  local function everything()
    return {
      AWS_ACCESS_KEY_ID = "AKIDENV", AWS_SECRET_ACCESS_KEY = "env-secret",
      AWS_WEB_IDENTITY_TOKEN_FILE = wit, AWS_ROLE_ARN = ROLE_ARN, AWS_ENDPOINT_URL_STS = server.url,
      AWS_SHARED_CREDENTIALS_FILE = credfile, AWS_CONFIG_FILE = dir.path .. "/no-config",
      AWS_CONTAINER_CREDENTIALS_FULL_URI = server.url .. "/container/creds",
      AWS_EC2_METADATA_SERVICE_ENDPOINT = server.url,
    }
  end

  local function requests()
    local n = 0
    for _, kind in ipairs { "sts_web", "sts_assume", "container", "imds_token", "imds_role", "imds" } do
      n = n + server:count(kind)
    end
    return n
  end

  describe("default chain", function()
    it("takes the environment, then web identity, a profile, the container, instance metadata", function()
      local env = everything()
      local function first() return credentials.default { env = env }:get().access_key_id end
      assert.are.equal("AKIDENV", first())
      assert.are.equal(0, requests())
      env.AWS_ACCESS_KEY_ID = nil
      assert.are.equal("ASIAWEB1", first())
      env.AWS_WEB_IDENTITY_TOKEN_FILE = nil
      assert.are.equal("AKIDPROFILE", first())
      env.AWS_SHARED_CREDENTIALS_FILE = dir.path .. "/no-credentials"
      assert.are.equal("ASIACONTAINER1", first())
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI = nil
      assert.are.equal("ASIAIMDS1", first())
      assert.are.equal(1, server:count("sts_web"))
      assert.are.equal(1, server:count("container"))
      assert.are.equal(1, server:count("imds"))
    end)

    it("lists every source it tried and why when there are none", function()
      local err = failure(credentials.default { env = {
        HOME = dir.path .. "/home", AWS_EC2_METADATA_DISABLED = "true",
      } })
      assert.are.equal("CredentialsNotFound", err.code)
      assert.are.equal("no credentials found; tried "
        .. "environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set); "
        .. "web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not both set); "
        .. "profile (no " .. dir.path .. "/home/.aws/credentials or " .. dir.path .. "/home/.aws/config); "
        .. "container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set); "
        .. "instance metadata (disabled by AWS_EC2_METADATA_DISABLED)", err.message)
    end)

    it("lists why instance metadata is missing", function()
      local err = failure(credentials.default { env = { AWS_EC2_METADATA_SERVICE_ENDPOINT = "http://127.0.0.1:1" } })
      assert.are.equal("CredentialsNotFound", err.code)
      assert.matches("; instance metadata %(no instance metadata service at http://127%.0%.0%.1:1 %(.+%)%)$", err.message)
    end)

    it("stops at a source that is configured but fails", function()
      local env = everything()
      env.AWS_ACCESS_KEY_ID = nil
      env.AWS_WEB_IDENTITY_TOKEN_FILE = dir.path .. "/missing-token"
      local err = failure(credentials.default { env = env })
      assert.are.equal("CredentialsError", err.code)
      assert.are.equal("web identity: cannot read the web identity token file (" .. dir.path
        .. "/missing-token: No such file or directory)", err.message)
      assert.are.equal(0, requests())
    end)

    it("keeps the source it found, and forwards invalidate to it", function()
      local env = everything()
      env.AWS_ACCESS_KEY_ID, env.AWS_WEB_IDENTITY_TOKEN_FILE = nil, nil
      env.AWS_SHARED_CREDENTIALS_FILE = dir.path .. "/no-credentials"
      local chain = credentials.default { env = env }
      assert.are.equal("ASIACONTAINER1", chain:get().access_key_id)
      env.AWS_ACCESS_KEY_ID = "AKIDLATE"
      assert.are.equal("ASIACONTAINER1", chain:get().access_key_id)
      chain:invalidate()
      assert.are.equal("ASIACONTAINER2", chain:get().access_key_id)
      assert.are.equal(2, server:count("container"))
      assert.are.equal("dynamo.credentials.chain(dynamo.credentials.env, dynamo.credentials.web_identity, "
        .. "dynamo.credentials.profile(default), dynamo.credentials.container(ASIACONTAINER2), dynamo.credentials.imds)",
        tostring(chain))
    end)

    it("skips a provider of its own that answers a plain message", function()
      local mine = { get = function() return nil, "vault is sealed" end }
      local chain = credentials.chain { mine, credentials.env { env = {} } }
      local err = failure(chain)
      assert.are.equal("no credentials found; tried " .. tostring(mine) .. " (vault is sealed); "
        .. "environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set)", err.message)
      chain:invalidate() -- nothing found: nothing to forward to
    end)
  end)

  describe("cache", function()
    local function imds() return credentials.imds { env = { AWS_EC2_METADATA_SERVICE_ENDPOINT = server.url } } end

    it("keeps credentials while more than 5 minutes remain", function()
      local p = imds()
      local c = p:get()
      assert.are.equal(c, p:get())
      assert.are.equal(c, p:get())
      assert.are.equal(1, server:count("imds"))
      assert.are.equal(1, server:count("imds_token"))
    end)

    it("refreshes credentials with less than 5 minutes left, before they expire", function()
      server:ctl { expires_in = 240 }
      local p = imds()
      local first = p:get()
      assert.is_true(first.expiration > os.time() + 200)
      local second = p:get()
      assert.are.equal("ASIAIMDS2", second.access_key_id)
      assert.are.equal(2, server:count("imds"))
    end)

    it("keeps still-valid credentials when a refresh fails, and tries again later", function()
      server:ctl { expires_in = 240 }
      local p = imds()
      assert.are.equal("ASIAIMDS1", p:get().access_key_id)
      server:ctl { fail = { imds = { status = 500, count = 1 } } }
      assert.are.equal("ASIAIMDS1", p:get().access_key_id)
      assert.are.equal(2, server:count("imds"))
      -- no new attempt right away
      assert.are.equal("ASIAIMDS1", p:get().access_key_id)
      assert.are.equal(2, server:count("imds"))
      -- "later" comes at once when the pause is 0
      local pause = refreshing.RETRY_AFTER
      refreshing.RETRY_AFTER = 0
      local ok, c = pcall(p.get, p)
      refreshing.RETRY_AFTER = pause
      assert(ok, c)
      assert.are.equal("ASIAIMDS3", c.access_key_id)
    end)

    it("returns the error when the old credentials are about to expire", function()
      server:ctl { expires_in = 30 }
      local p = imds()
      assert.are.equal("ASIAIMDS1", p:get().access_key_id)
      server:ctl { fail = { imds = { status = 500, count = 1 } } }
      local err = failure(p)
      assert.are.equal("instance metadata: the credentials of role 'dynamo-test-role' answered HTTP 500", err.message)
      assert.are.equal("ASIAIMDS3", p:get().access_key_id)
    end)

    it("fetches again after invalidate()", function()
      local p = imds()
      local first = p:get()
      assert.are.equal(first, p:get())
      assert.are.equal(1, server:count("imds"))
      p:invalidate()
      local second = p:get()
      assert.are.equal("ASIAIMDS2", second.access_key_id)
      assert.are.equal(2, server:count("imds"))
      -- a set that is no longer the cached one: nothing to drop
      p:invalidate(first)
      assert.are.equal(second, p:get())
      assert.are.equal(2, server:count("imds"))
      p:invalidate(second)
      assert.are.equal("ASIAIMDS3", p:get().access_key_id)
    end)

    it("does not fall back to invalidated credentials when the refresh fails", function()
      local p = imds()
      assert(p:get())
      p:invalidate()
      server:ctl { fail = { imds = { status = 500, count = 1 } } }
      assert.are.equal("CredentialsError", failure(p).code)
    end)
  end)

  describe("concurrent get()", function()
    local function ask(p, n)
      local fns = {}
      for i = 1, n do
        fns[i] = function()
          local c, err = p:get()
          return c and c.access_key_id or tostring(err)
        end
      end
      return { dynamo.gather(fns) }
    end

    it("makes one instance metadata fetch for 8 tasks", function()
      local p = credentials.imds { env = { AWS_EC2_METADATA_SERVICE_ENDPOINT = server.url } }
      local got = ask(p, 8)
      assert.are.equal(8, #got)
      for i = 1, 8 do assert.are.equal("ASIAIMDS1", got[i]) end
      assert.are.equal(1, server:count("imds_token"))
      assert.are.equal(1, server:count("imds_role"))
      assert.are.equal(1, server:count("imds"))
    end)

    it("makes one refresh for 8 tasks", function()
      server:ctl { expires_in = 240 }
      local p = credentials.container { env = { AWS_CONTAINER_CREDENTIALS_FULL_URI = server.url .. "/container/c" } }
      assert(p:get())
      local got = ask(p, 8)
      for i = 1, 8 do assert.are.equal("ASIACONTAINER2", got[i]) end
      assert.are.equal(2, server:count("container"))
    end)

    it("makes one STS call for 8 tasks through the default chain", function()
      local env = everything()
      env.AWS_ACCESS_KEY_ID = nil
      local got = ask(credentials.default { env = env }, 8)
      for i = 1, 8 do assert.are.equal("ASIAWEB1", got[i]) end
      assert.are.equal(1, server:count("sts_web"))
    end)

    it("gives every waiting task the error of the one fetch", function()
      server:ctl { fail = { imds = { status = 500, count = 8 } } }
      local got = ask(credentials.imds { env = { AWS_EC2_METADATA_SERVICE_ENDPOINT = server.url } }, 8)
      for i = 1, 8 do
        assert.are.equal("CredentialsError: instance metadata: the credentials of role 'dynamo-test-role' "
          .. "answered HTTP 500 (HTTP 500)", got[i])
      end
      assert.are.equal(1, server:count("imds"))
    end)
  end)

  describe("in the process environment", function()
    it("the default chain reads os.getenv", function()
      local out = run_isolated({
        AWS_PROFILE = "dev", AWS_SHARED_CREDENTIALS_FILE = dir:write("iso-credentials",
          "[dev]\naws_access_key_id = AKIDISO\naws_secret_access_key = iso-secret\n"),
        AWS_EC2_METADATA_DISABLED = "true",
      }, [[print(require("dynamo.credentials").default():get().access_key_id)]])
      assert.are.equal("AKIDISO\n", out)
    end)

    it("dynamo.new asks no source; the first request does", function()
      local env = {
        AWS_REGION = "us-east-1", AWS_ENDPOINT_URL_DYNAMODB = server.url .. "/",
        AWS_CONTAINER_CREDENTIALS_FULL_URI = server.url .. "/container/creds",
        AWS_EC2_METADATA_SERVICE_ENDPOINT = server.url,
      }
      local out = run_isolated(env, [[require("dynamo").new(); print("made")]])
      assert.are.equal("made\n", out)
      assert.are.equal(0, requests())
      -- The credential server is no DynamoDB: the request fails after signing.
      out = run_isolated(env, [[
        local res, err = require("dynamo").new():list_tables {}
        print(res, err and err.status)
      ]])
      assert.are.equal("nil\t400\n", out)
      assert.are.equal(1, server:count("container"))
      assert.are.equal(0, server:count("imds_token"))
    end)

    it("profile.region reads AWS_PROFILE and AWS_CONFIG_FILE", function()
      local out = run_isolated({
        AWS_PROFILE = "eu", AWS_CONFIG_FILE = dir:write("iso-config", "[profile eu]\nregion = eu-central-1\n"),
      }, [[print(require("dynamo.credentials.profile").region())]])
      assert.are.equal("eu-central-1\n", out)
    end)
  end)

  describe("secrets", function()
    -- Everything secret the sources see or hand out in these tests.
    local secrets = {
      "env-secret", "profile-secret", "profile-token-secret", "chain-jwt-secret", "container-auth-secret",
      "proc-secret-leak", "secret-", "token-",
    }
    local function clean(s, what)
      for _, secret in ipairs(secrets) do
        assert.is_nil(s:find(secret, 1, true), what .. " shows '" .. secret .. "': " .. s)
      end
    end

    it("never appear in tostring() of a provider", function()
      server:ctl { secrets = {} }
      local env = everything()
      env.AWS_CONTAINER_AUTHORIZATION_TOKEN = "container-auth-secret"
      local providers = {
        credentials.env { env = env },
        credentials.static { access_key_id = "AKIDSTATIC", secret_access_key = "env-secret", session_token = "token-x" },
        credentials.web_identity { env = env },
        credentials.profile { env = env },
        credentials.container { env = env },
        credentials.imds { env = env },
        credentials.assume_role { role_arn = ROLE_ARN, source = credentials.env { env = env }, env = env },
        credentials.process("echo '{\"Version\":1,\"AccessKeyId\":\"AKIDP\",\"SecretAccessKey\":\"secret-p\","
          .. "\"SessionToken\":\"token-p\"}'"),
        credentials.default { env = env },
      }
      for i, p in ipairs(providers) do
        clean(tostring(p), "provider " .. i .. " before get")
        local c = assert(p:get())
        assert.is_string(c.secret_access_key)
        clean(tostring(p), "provider " .. i)
        -- env reads anew each time, and the chain found env: neither has a set to show
        if i > 1 and i < #providers then assert.is_truthy(tostring(p):find(c.access_key_id, 1, true), tostring(p)) end
      end
    end)

    it("never appear in error messages", function()
      local scripts = {
        dir:write("leak-exit.sh", "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"proc-secret-leak\"}'\nexit 1\n", "755"),
        dir:write("leak-json.sh", "#!/bin/sh\necho '{\"Version\":1,\"SecretAccessKey\":\"proc-secret-leak\",'\n", "755"),
        dir:write("leak-date.sh", "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"proc-secret-leak\",\"Expiration\":\"proc-secret-leak\"}'\n", "755"),
      }
      local config = dir:write("leak-config", ("[profile role]\nrole_arn = " .. ROLE_ARN .. "\nsource_profile = default\n"
        .. "[profile p1]\ncredential_process = S1 --key proc-secret-leak\n[profile p2]\ncredential_process = S2\n"
        .. "[profile p3]\ncredential_process = S3\n"):gsub("S(%d)", function(i) return scripts[tonumber(i)] end))
      server:ctl { container_token = "something-else", web_identity_token = "something-else",
        secrets = { AKIDPROFILE = "wrong" } }
      local env = {
        AWS_SHARED_CREDENTIALS_FILE = credfile, AWS_CONFIG_FILE = config, AWS_ENDPOINT_URL_STS = server.url,
        AWS_WEB_IDENTITY_TOKEN_FILE = wit, AWS_ROLE_ARN = ROLE_ARN,
        AWS_CONTAINER_CREDENTIALS_FULL_URI = server.url .. "/container/creds",
        AWS_CONTAINER_AUTHORIZATION_TOKEN = "container-auth-secret",
      }
      local function with(extra)
        local t = {}
        for k, v in pairs(env) do t[k] = v end
        for k, v in pairs(extra) do t[k] = v end
        return t
      end
      local failing = {
        credentials.web_identity { env = env },
        credentials.container { env = env },
        credentials.container { env = with { AWS_CONTAINER_AUTHORIZATION_TOKEN = "container-auth-secret\nx" } },
        credentials.profile { env = with { AWS_PROFILE = "role" } },
        credentials.profile { env = with { AWS_PROFILE = "p1" } },
        credentials.profile { env = with { AWS_PROFILE = "p2" } },
        credentials.profile { env = with { AWS_PROFILE = "p3" } },
        credentials.assume_role { role_arn = ROLE_ARN, env = env, source = credentials.profile { env = env } },
        credentials.default { env = with { AWS_WEB_IDENTITY_TOKEN_FILE = "", AWS_PROFILE = "p1" } },
      }
      for i, p in ipairs(failing) do
        local err = failure(p)
        clean(err.message, "error " .. i)
        clean(tostring(err), "error " .. i)
        clean(tostring(p), "provider " .. i)
      end
    end)
  end)
end)
