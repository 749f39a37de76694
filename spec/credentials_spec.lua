-- dynamo.credentials: each source on its own, against the loopback
-- credential server (spec/support/cred_server.js): environment, web
-- identity (STS AssumeRoleWithWebIdentity), shared-file profiles (static
-- keys, credential_process, role_arn via STS AssumeRole), container
-- endpoint, EC2 instance metadata (IMDSv2). Environment values come in
-- through each constructor's `env` table; credentials_chain_spec.lua covers
-- the chain, caching, refreshing, coalescing and the process environment.
local dynamo = require "dynamo"
local credentials = dynamo.credentials
local profile = require "dynamo.credentials.profile"
local timestamp = require "dynamo.credentials.timestamp"
local support = require "support.cred_server"

local ROLE_ARN = "arn:aws:iam::123456789012:role/app"

-- Calls p:get(), which must fail; returns the error value.
local function failure(p)
  local creds, err = p:get()
  assert.is_nil(creds)
  assert.is_true(dynamo.is_error(err), "not an error value: " .. tostring(err))
  return err
end

local function near(expected, actual)
  assert.is_true(math.abs(expected - actual) <= 5, "expected about " .. expected .. ", got " .. tostring(actual))
end

describe("dynamo.credentials", function()
  local server, dir

  setup(function()
    server = support.start()
    dir = support.tmpdir()
  end)
  teardown(function()
    server:stop()
    dir:remove()
  end)
  before_each(function() server:reset() end)

  describe("constructors", function()
    it("check their arguments", function()
      assert.has_error(function() credentials.imds("x") end,
        "bad argument #1 to 'dynamo.credentials.imds' (table expected, got string)")
      assert.has_error(function() credentials.container { endpoint = "x" } end,
        "bad argument #1 to 'dynamo.credentials.container' (unknown option 'endpoint')")
      assert.has_error(function() credentials.web_identity { role_arn = 5 } end,
        "bad argument 'role_arn' to 'dynamo.credentials.web_identity' (non-empty string expected, got number)")
      assert.has_error(function() credentials.profile { env = "HOME=/x" } end,
        "bad argument 'env' to 'dynamo.credentials.profile' (table or function expected, got string)")
      assert.has_error(function() credentials.assume_role { source = credentials.env() } end,
        "bad argument 'role_arn' to 'dynamo.credentials.assume_role' (required)")
      assert.has_error(function() credentials.assume_role { role_arn = ROLE_ARN, source = {} } end,
        "bad argument 'source' to 'dynamo.credentials.assume_role' (provider with a get method expected, got table)")
      assert.has_error(function() credentials.assume_role { role_arn = ROLE_ARN, duration = -1 } end,
        "bad argument 'duration' to 'dynamo.credentials.assume_role' (positive number expected, got -1)")
      assert.has_error(function() credentials.process("") end,
        "bad argument #1 to 'dynamo.credentials.process' (non-empty string expected, got empty string)")
      assert.has_error(function() credentials.default { profile = "x" } end,
        "bad argument #1 to 'dynamo.credentials.default' (unknown option 'profile')")
      assert.has_error(function() credentials.chain { credentials.env(), 5 } end,
        "bad argument #1 to 'dynamo.credentials.chain' (element 2 is not a provider with a get method)")
    end)

    it("do no I/O: nothing is asked until get()", function()
      local env = {
        AWS_CONTAINER_CREDENTIALS_FULL_URI = server.url .. "/container/creds",
        AWS_EC2_METADATA_SERVICE_ENDPOINT = server.url,
        AWS_ENDPOINT_URL_STS = server.url,
        AWS_WEB_IDENTITY_TOKEN_FILE = dir:write("wit-io", "jwt"), AWS_ROLE_ARN = ROLE_ARN,
      }
      credentials.default { env = env }
      credentials.container { env = env }
      credentials.imds { env = env }
      credentials.web_identity { env = env }
      credentials.assume_role { role_arn = ROLE_ARN, env = env }
      for _, kind in ipairs { "container", "imds_token", "sts_web", "sts_assume" } do
        assert.are.equal(0, server:count(kind))
      end
      assert.are.equal("ASIACONTAINER1", credentials.container { env = env }:get().access_key_id)
    end)
  end)

  describe("timestamp.parse", function()
    local cases = {
      { "2040-01-01T00:00:00Z", 2208988800 },
      { "1970-01-01T00:00:00Z", 0 },
      { "2024-02-29T12:34:56Z", 1709210096 },
      { "2024-02-29T12:34:56.789Z", 1709210096 },
      { "2024-02-29T14:34:56+02:00", 1709210096 },
      { "2024-02-29T07:34:56-0500", 1709210096 },
      { "2024-02-29 12:34:56z", 1709210096 },
      { "2024-02-29", nil },
      { "2024-13-01T00:00:00Z", nil },
      { "2024-01-01T00:00:00", nil },
      { "yesterday", nil },
    }
    for _, c in ipairs(cases) do
      it(c[1], function() assert.are.equal(c[2], timestamp.parse(c[1])) end)
    end
  end)

  describe("env", function()
    it("reads the three variables when asked", function()
      local env = { AWS_ACCESS_KEY_ID = "AKIDENV", AWS_SECRET_ACCESS_KEY = "env-secret" }
      local p = credentials.env { env = env }
      assert.are.same({ access_key_id = "AKIDENV", secret_access_key = "env-secret" }, p:get())
      env.AWS_SESSION_TOKEN = "env-token"
      assert.are.equal("env-token", p:get().session_token)
      p:invalidate()
      assert.are.equal("AKIDENV", p:get().access_key_id)
      assert.are.equal("dynamo.credentials.env", tostring(p))
    end)

    it("takes a reader function and counts empty values as unset", function()
      local p = credentials.env { env = function(name) return name == "AWS_ACCESS_KEY_ID" and "AKIDFN" or "" end }
      local err = failure(p)
      assert.are.equal("CredentialsNotFound", err.code)
      assert.are.equal("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set", err.message)
    end)
  end)

  describe("static", function()
    it("has an invalidate that changes nothing", function()
      local p = credentials.static { access_key_id = "AKIDSTATIC", secret_access_key = "static-secret" }
      local c = p:get()
      p:invalidate(c)
      assert.are.equal(c, p:get())
      assert.are.equal("dynamo.credentials.static(AKIDSTATIC)", tostring(p))
    end)
  end)

  describe("web_identity", function()
    local function env(extra)
      local t = {
        AWS_WEB_IDENTITY_TOKEN_FILE = dir:write("wit", "wit-secret-jwt\n"),
        AWS_ROLE_ARN = ROLE_ARN, AWS_ROLE_SESSION_NAME = "my-session",
        AWS_ENDPOINT_URL_STS = server.url,
      }
      for k, v in pairs(extra or {}) do t[k] = v or nil end
      return t
    end

    it("calls AssumeRoleWithWebIdentity, unsigned, with the token file's content", function()
      server:ctl { web_identity_token = "wit-secret-jwt" }
      local p = credentials.web_identity { env = env() }
      assert.are.equal("dynamo.credentials.web_identity", tostring(p))
      local c = assert(p:get())
      assert.are.equal("ASIAWEB1", c.access_key_id)
      assert.are.equal("secret-web-1", c.secret_access_key)
      assert.are.equal("token-web-1", c.session_token)
      near(os.time() + 3600, c.expiration)
      assert.are.equal("dynamo.credentials.web_identity(ASIAWEB1)", tostring(p))
      local req = server:last("sts_web")
      assert.are.same({
        Action = "AssumeRoleWithWebIdentity", Version = "2011-06-15", RoleArn = ROLE_ARN,
        RoleSessionName = "my-session", WebIdentityToken = "wit-secret-jwt",
      }, req.params)
      assert.are.equal("POST", req.method)
      assert.are.equal("application/x-www-form-urlencoded; charset=utf-8", req.headers["content-type"])
      assert.is_nil(req.headers.authorization)
      -- cached
      assert.are.equal(c, p:get())
      assert.are.equal(1, server:count("sts_web"))
    end)

    it("takes its settings as options, with a default session name and AWS_ENDPOINT_URL", function()
      local p = credentials.web_identity {
        role_arn = "arn:aws:iam::123456789012:role/opt", token_file = dir:write("wit-opt", "jwt-opt"),
        env = { AWS_ENDPOINT_URL = server.url },
      }
      assert.are.equal("ASIAWEB1", p:get().access_key_id)
      local params = server:last("sts_web").params
      assert.are.equal("arn:aws:iam::123456789012:role/opt", params.RoleArn)
      assert.are.equal("jwt-opt", params.WebIdentityToken)
      assert.matches("^dynamo%-session%-%d+$", params.RoleSessionName)
    end)

    it("reads the token file again on each fetch", function()
      local path = dir:write("wit-rotating", "jwt-one")
      local p = credentials.web_identity { env = env { AWS_WEB_IDENTITY_TOKEN_FILE = path } }
      assert(p:get())
      dir:write("wit-rotating", "jwt-two")
      p:invalidate()
      assert.are.equal("ASIAWEB2", p:get().access_key_id)
      assert.are.equal("jwt-two", server:last("sts_web").params.WebIdentityToken)
    end)

    it("returns STS's error code and message", function()
      server:ctl { web_identity_token = "the-right-one" }
      local err = failure(credentials.web_identity { env = env() })
      assert.are.equal("InvalidIdentityToken", err.code)
      assert.are.equal("Incorrect token audience", err.message)
      assert.are.equal(400, err.status)
      assert.are.equal("AssumeRoleWithWebIdentity", err.operation)
      assert.matches("^%x+%-", err.request_id)
      assert.are.equal("InvalidIdentityToken: Incorrect token audience (AssumeRoleWithWebIdentity, HTTP 400, request id "
        .. err.request_id .. ")", tostring(err))
    end)

    it("is not found without both variables, and fails on a missing token file", function()
      local err = failure(credentials.web_identity { env = env { AWS_ROLE_ARN = false } })
      assert.are.equal("CredentialsNotFound", err.code)
      assert.are.equal("AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not both set", err.message)
      local missing = dir.path .. "/no-such-token"
      err = failure(credentials.web_identity { env = env { AWS_WEB_IDENTITY_TOKEN_FILE = missing } })
      assert.are.equal("CredentialsError", err.code)
      assert.are.equal("web identity: cannot read the web identity token file (" .. missing
        .. ": No such file or directory)", err.message)
      err = failure(credentials.web_identity { env = env { AWS_WEB_IDENTITY_TOKEN_FILE = dir:write("wit-empty", "\n") } })
      assert.are.equal("web identity: the web identity token file " .. dir.path .. "/wit-empty is empty", err.message)
      assert.are.equal(0, server:count("sts_web"))
    end)

    it("reports an STS it cannot reach", function()
      local err = failure(credentials.web_identity { env = env { AWS_ENDPOINT_URL_STS = "http://127.0.0.1:1" } })
      assert.are.equal("ConnectionError", err.code)
      assert.are.equal("AssumeRoleWithWebIdentity", err.operation)
      local prefix = "cannot reach STS at http://127.0.0.1:1/: "
      assert.are.equal(prefix, err.message:sub(1, #prefix))
    end)
  end)

  describe("profile", function()
    local credfile, conffile, wit

    setup(function()
      wit = dir:write("profile-wit", "profile-jwt")
      dir:write("proc.sh", [[#!/bin/sh
echo '{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "proc-secret",'
echo ' "SessionToken": "proc-token", "Expiration": "2040-01-01T00:00:00Z"}'
]], "755")
      dir:write("fail.sh", "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"proc-secret-leak\"}'\nexit 3\n", "755")
      dir:write("bad.sh", "#!/bin/sh\necho '{\"Version\": 1, \"SecretAccessKey\": \"proc-secret-leak\"'\n", "755")
      dir:write("v2.sh", "#!/bin/sh\necho '{\"Version\": 2, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"proc-secret-leak\"}'\n", "755")
      dir:write("nokey.sh", "#!/bin/sh\necho '{\"Version\": 1, \"SecretAccessKey\": \"proc-secret-leak\"}'\n", "755")
      credfile = dir:write("credentials", [[
# the shared credentials file
[default]
aws_access_key_id = AKIDPROFILE
aws_secret_access_key = profile-secret-default

[dev]
aws_access_key_id=AKIDDEV
aws_secret_access_key=profile-secret-dev
aws_session_token = profile-token-dev   ; a comment

[base]
aws_access_key_id = AKIDBASE
aws_secret_access_key = profile-secret-base

[half]
aws_access_key_id = AKIDHALF
]])
      conffile = dir:write("config", ([[
[default]
region = eu-west-1

[profile cfg]
aws_access_key_id = AKIDCFG
aws_secret_access_key = profile-secret-cfg
region = ap-south-1

[cfgplain]
aws_access_key_id = AKIDPLAIN
aws_secret_access_key = profile-secret-plain

[profile dev]
aws_access_key_id = AKIDDEVCONFIG
aws_secret_access_key = profile-secret-devconfig
region = us-west-2

[profile proc]
credential_process = DIR/proc.sh
[profile proc-fail]
credential_process = DIR/fail.sh
[profile proc-bad]
credential_process = DIR/bad.sh
[profile proc-v2]
credential_process = DIR/v2.sh
[profile proc-nokey]
credential_process = DIR/nokey.sh

[profile role]
role_arn = arn:aws:iam::123456789012:role/app
source_profile = base
role_session_name = app-session
external_id = ext-123

[profile chained]
role_arn = arn:aws:iam::123456789012:role/second
source_profile = role

[profile self]
role_arn = arn:aws:iam::123456789012:role/self
source_profile = self
aws_access_key_id = AKIDSELF
aws_secret_access_key = profile-secret-self

[profile loop-a]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = loop-b
[profile loop-b]
role_arn = arn:aws:iam::123456789012:role/b
source_profile = loop-a

[profile orphan]
role_arn = arn:aws:iam::123456789012:role/orphan
source_profile = nowhere

[profile webid]
role_arn = arn:aws:iam::123456789012:role/web
web_identity_token_file = WIT
role_session_name = web-session

[profile nocreds]
region = sa-east-1
]]):gsub("DIR", dir.path):gsub("WIT", wit))
    end)

    local function env(name, extra)
      local t = {
        AWS_SHARED_CREDENTIALS_FILE = credfile, AWS_CONFIG_FILE = conffile,
        AWS_PROFILE = name, AWS_ENDPOINT_URL_STS = server.url,
      }
      for k, v in pairs(extra or {}) do t[k] = v end
      return t
    end

    local function get(name, extra)
      return credentials.profile { env = env(name, extra) }:get()
    end

    it("reads static keys of the default profile", function()
      local p = credentials.profile { env = env(nil) }
      assert.are.equal("dynamo.credentials.profile", tostring(p))
      assert.are.same({ access_key_id = "AKIDPROFILE", secret_access_key = "profile-secret-default" }, p:get())
      assert.are.equal("dynamo.credentials.profile(default, AKIDPROFILE)", tostring(p))
    end)

    it("selects AWS_PROFILE, the credentials file winning over the config file", function()
      assert.are.same({ access_key_id = "AKIDDEV", secret_access_key = "profile-secret-dev",
        session_token = "profile-token-dev" }, get("dev"))
    end)

    it("takes the profile option over AWS_PROFILE", function()
      local p = credentials.profile { profile = "cfg", env = env("dev") }
      assert.are.equal("AKIDCFG", p:get().access_key_id)
    end)

    it("reads '[profile name]' sections of the config file, not '[name]'", function()
      assert.are.equal("AKIDCFG", get("cfg").access_key_id)
      local c, err = get("cfgplain")
      assert.is_nil(c)
      assert.are.equal("CredentialsError", err.code)
      assert.are.equal("no profile 'cfgplain' in " .. credfile .. " or " .. conffile, err.message)
    end)

    it("finds ~/.aws/credentials and ~/.aws/config under HOME", function()
      local home = support.tmpdir()
      os.execute("mkdir '" .. home.path .. "/.aws'")
      home:write(".aws/credentials", "[default]\naws_access_key_id = AKIDHOME\naws_secret_access_key = home-secret\n")
      home:write(".aws/config", "[profile other]\nregion = eu-north-1\n")
      local p = credentials.profile { env = { HOME = home.path } }
      assert.are.equal("AKIDHOME", p:get().access_key_id)
      assert.are.equal("eu-north-1", profile.region { HOME = home.path, AWS_PROFILE = "other" })
      home:remove()
    end)

    it("is not found when the default profile or its credentials are missing", function()
      local err = failure(credentials.profile { env = { HOME = dir.path .. "/nowhere" } })
      assert.are.equal("CredentialsNotFound", err.code)
      assert.are.equal("no " .. dir.path .. "/nowhere/.aws/credentials or " .. dir.path .. "/nowhere/.aws/config",
        err.message)
      err = failure(credentials.profile { env = { AWS_CONFIG_FILE = conffile, AWS_SHARED_CREDENTIALS_FILE = dir.path .. "/x" } })
      assert.are.equal("CredentialsNotFound", err.code)
      assert.are.equal("profile 'default' has no credentials", err.message)
      err = failure(credentials.profile { env = {} })
      assert.are.equal("CredentialsNotFound", err.code)
      assert.are.equal("no shared credentials or config file (HOME is not set)", err.message)
      err = failure(credentials.profile { env = env("nocreds") })
      assert.are.equal("CredentialsNotFound", err.code)
      assert.are.equal("profile 'nocreds' has no credentials", err.message)
    end)

    it("fails for a named profile that does not exist, or half a key pair", function()
      local err = failure(credentials.profile { env = env("nope") })
      assert.are.equal("CredentialsError", err.code)
      assert.are.equal("no profile 'nope' in " .. credfile .. " or " .. conffile, err.message)
      err = failure(credentials.profile { env = env("half") })
      assert.are.equal("profile 'half' has aws_access_key_id but no aws_secret_access_key", err.message)
    end)

    it("runs credential_process", function()
      assert.are.same({ access_key_id = "AKIDPROC", secret_access_key = "proc-secret", session_token = "proc-token",
        expiration = 2208988800 }, get("proc"))
    end)

    it("names the profile when credential_process fails, never echoing its output", function()
      local cases = {
        { "proc-fail", "credential_process of profile 'proc-fail' exited with status 3" },
        { "proc-bad", "credential_process of profile 'proc-bad' did not print a JSON object" },
        { "proc-v2", "credential_process of profile 'proc-v2' printed Version 2 (expected 1)" },
        { "proc-nokey", "credential_process of profile 'proc-nokey' printed no AccessKeyId" },
      }
      for _, c in ipairs(cases) do
        local err = failure(credentials.profile { env = env(c[1]) })
        assert.are.equal("CredentialsError", err.code)
        assert.are.equal(c[2], err.message)
        assert.is_nil(tostring(err):find("proc-secret-leak", 1, true))
      end
    end)

    it("assumes role_arn with the source_profile's keys (SigV4, service sts)", function()
      server:ctl { secrets = { AKIDBASE = "profile-secret-base" } }
      local c = assert(get("role"))
      assert.are.equal("ASIAROLE1", c.access_key_id)
      assert.are.equal("secret-role-1", c.secret_access_key)
      assert.are.equal("token-role-1", c.session_token)
      near(os.time() + 3600, c.expiration)
      local req = server:last("sts_assume")
      assert.are.same({
        Action = "AssumeRole", Version = "2011-06-15", RoleArn = "arn:aws:iam::123456789012:role/app",
        RoleSessionName = "app-session", ExternalId = "ext-123",
      }, req.params)
      assert.matches("^AWS4%-HMAC%-SHA256 Credential=AKIDBASE/%d+/us%-east%-1/sts/aws4_request, SignedHeaders=",
        req.headers.authorization)
      assert.is_nil(req.headers["x-amz-security-token"])
    end)

    it("signs for the region of AWS_REGION", function()
      get("role", { AWS_REGION = "ca-central-1" })
      assert.matches("Credential=AKIDBASE/%d+/ca%-central%-1/sts/aws4_request",
        server:last("sts_assume").headers.authorization)
    end)

    it("chains roles, each signed with the credentials before it", function()
      server:ctl { secrets = { AKIDBASE = "profile-secret-base", ASIAROLE1 = "secret-role-1" } }
      assert.are.equal("ASIAROLE2", get("chained").access_key_id)
      local req = server:last("sts_assume")
      assert.are.equal("arn:aws:iam::123456789012:role/second", req.params.RoleArn)
      assert.matches("Credential=ASIAROLE1/", req.headers.authorization)
      assert.are.equal("token-role-1", req.headers["x-amz-security-token"])
    end)

    it("uses a profile's own keys when it is its own source_profile", function()
      server:ctl { secrets = { AKIDSELF = "profile-secret-self" } }
      assert.are.equal("ASIAROLE1", get("self").access_key_id)
    end)

    it("returns STS's error for AssumeRole", function()
      server:ctl { secrets = { AKIDBASE = "not-the-secret" } }
      local err = failure(credentials.profile { env = env("role") })
      assert.are.equal("SignatureDoesNotMatch", err.code)
      assert.are.equal("The request signature we calculated does not match the signature you provided.", err.message)
      assert.are.equal(403, err.status)
      assert.are.equal("AssumeRole", err.operation)
      server:ctl { secrets = {}, fail = { sts_assume = { status = 403, count = 1, code = "AccessDenied",
        message = "User: base is not authorized to perform: sts:AssumeRole" } } }
      err = failure(credentials.profile { env = env("role") })
      assert.are.equal("AccessDenied", err.code)
      assert.are.equal("User: base is not authorized to perform: sts:AssumeRole", err.message)
    end)

    it("reports source_profile loops and missing source profiles", function()
      local err = failure(credentials.profile { env = env("loop-a") })
      assert.are.equal("CredentialsError", err.code)
      assert.are.equal("profile 'loop-b': source_profile 'loop-a' makes a loop", err.message)
      err = failure(credentials.profile { env = env("orphan") })
      assert.are.equal("profile 'orphan': source_profile 'nowhere' not found in " .. credfile .. " or " .. conffile,
        err.message)
      assert.are.equal(0, server:count("sts_assume"))
    end)

    it("assumes role_arn with web_identity_token_file", function()
      assert.are.equal("ASIAWEB1", get("webid").access_key_id)
      local params = server:last("sts_web").params
      assert.are.equal("arn:aws:iam::123456789012:role/web", params.RoleArn)
      assert.are.equal("profile-jwt", params.WebIdentityToken)
      assert.are.equal("web-session", params.RoleSessionName)
    end)

    describe("region", function()
      it("is the selected profile's region in the config file", function()
        assert.are.equal("eu-west-1", profile.region { AWS_CONFIG_FILE = conffile })
        assert.are.equal("ap-south-1", profile.region { AWS_CONFIG_FILE = conffile, AWS_PROFILE = "cfg" })
        assert.are.equal("us-west-2", profile.region(function(name)
          return ({ AWS_CONFIG_FILE = conffile, AWS_PROFILE = "dev" })[name]
        end))
        assert.is_nil(profile.region { AWS_CONFIG_FILE = conffile, AWS_PROFILE = "cfgplain" })
        assert.is_nil(profile.region { AWS_CONFIG_FILE = dir.path .. "/none" })
        assert.is_nil(profile.region {})
      end)
    end)
  end)

  describe("process", function()
    it("runs a command and keeps credentials without Expiration", function()
      local path = dir:write("plain.sh", "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKIDCMD\",\"SecretAccessKey\":\"cmd-secret\"}'\n", "755")
      local p = credentials.process(path)
      assert.are.same({ access_key_id = "AKIDCMD", secret_access_key = "cmd-secret" }, p:get())
      assert.are.equal("dynamo.credentials.process(AKIDCMD)", tostring(p))
    end)

    it("fails without echoing the command or its output", function()
      local err = failure(credentials.process("exit 7 # --token cmd-secret-arg"))
      assert.are.equal("CredentialsError", err.code)
      assert.are.equal("credential_process exited with status 7", err.message)
      err = failure(credentials.process("echo '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
        .. "\"Expiration\":\"soon\"}'"))
      assert.are.equal("credential_process printed an Expiration that is not an ISO 8601 time", err.message)
    end)
  end)

  describe("container", function()
    local function env(extra)
      local t = { AWS_CONTAINER_CREDENTIALS_FULL_URI = server.url .. "/container/creds" }
      for k, v in pairs(extra or {}) do t[k] = v end
      return t
    end

    it("fetches from AWS_CONTAINER_CREDENTIALS_FULL_URI", function()
      local p = credentials.container { env = env() }
      local c = assert(p:get())
      assert.are.equal("ASIACONTAINER1", c.access_key_id)
      assert.are.equal("secret-container-1", c.secret_access_key)
      assert.are.equal("token-container-1", c.session_token)
      near(os.time() + 3600, c.expiration)
      assert.are.equal("dynamo.credentials.container(ASIACONTAINER1)", tostring(p))
      assert.are.equal("GET", server:last("container").method)
      assert.is_nil(server:last("container").headers.authorization)
    end)

    it("sends AWS_CONTAINER_AUTHORIZATION_TOKEN as the Authorization header", function()
      server:ctl { container_token = "container-auth-secret" }
      local p = credentials.container { env = env { AWS_CONTAINER_AUTHORIZATION_TOKEN = "container-auth-secret" } }
      assert.are.equal("ASIACONTAINER1", p:get().access_key_id)
      assert.are.equal("container-auth-secret", server:last("container").headers.authorization)
      local err = failure(credentials.container { env = env { AWS_CONTAINER_AUTHORIZATION_TOKEN = "wrong-token" } })
      assert.are.equal("CredentialsError", err.code)
      assert.are.equal("container: " .. server.url .. "/container/creds answered HTTP 401", err.message)
      assert.are.equal(401, err.status)
    end)

    it("prefers AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE and reads it on every fetch", function()
      local path = dir:write("container-token", "file-token-1\n")
      server:ctl { container_token = "file-token-1" }
      local p = credentials.container { env = env {
        AWS_CONTAINER_AUTHORIZATION_TOKEN = "env-token", AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = path,
      } }
      assert.are.equal("ASIACONTAINER1", p:get().access_key_id)
      dir:write("container-token", "file-token-2")
      server:ctl { container_token = "file-token-2" }
      p:invalidate()
      assert.are.equal("ASIACONTAINER2", p:get().access_key_id)
      assert.are.equal("file-token-2", server:last("container").headers.authorization)
      os.remove(path)
      p:invalidate()
      local err = failure(p)
      assert.are.equal("container: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (" .. path
        .. ": No such file or directory)", err.message)
    end)

    it("refuses a token with a line break", function()
      local err = failure(credentials.container { env = env { AWS_CONTAINER_AUTHORIZATION_TOKEN = "a\r\nX-Evil: 1" } })
      assert.are.equal("container: the authorization token contains a line break or a zero byte", err.message)
      assert.are.equal(0, server:count("container"))
    end)

    it("allows http only to loopback and the ECS and EKS addresses", function()
      local port = server.url:match(":(%d+)$")
      local p = credentials.container { env = env { AWS_CONTAINER_CREDENTIALS_FULL_URI = "http://localhost:" .. port .. "/container/x" } }
      assert.are.equal("ASIACONTAINER1", p:get().access_key_id)
      for _, url in ipairs { "http://example.com/creds", "http://169.254.170.3/creds", "http://10.0.0.1:80/x" } do
        local err = failure(credentials.container { env = env { AWS_CONTAINER_CREDENTIALS_FULL_URI = url } })
        assert.are.equal("CredentialsError", err.code)
        assert.are.equal("container: AWS_CONTAINER_CREDENTIALS_FULL_URI may use http only to a loopback address, "
          .. "169.254.170.2, 169.254.170.23 or fd00:ec2::23 (got host '" .. url:match("//([^:/]+)") .. "'); use https",
          err.message)
      end
      local err = failure(credentials.container { env = env { AWS_CONTAINER_CREDENTIALS_FULL_URI = "ftp://x/y" } })
      assert.are.equal("container: AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http or https URL", err.message)
    end)

    it("asks 169.254.170.2 for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, briefly", function()
      -- Off ECS nothing answers there (or a sandbox's filter does).
      local t0 = dynamo.now()
      local err = failure(credentials.container { env = {
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = "/v2/credentials/abc",
        AWS_CONTAINER_CREDENTIALS_FULL_URI = server.url .. "/container/ignored",
      } })
      assert.is_true(dynamo.now() - t0 < 2.5)
      assert.is_truthy(err.message:find(" http://169.254.170.2/v2/credentials/abc", 1, true), err.message)
      assert.are.equal(0, server:count("container"))
    end)

    it("is not found without either variable", function()
      local err = failure(credentials.container { env = {} })
      assert.are.equal("CredentialsNotFound", err.code)
      assert.are.equal("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set",
        err.message)
    end)
  end)

  describe("imds", function()
    local function env() return { AWS_EC2_METADATA_SERVICE_ENDPOINT = server.url } end

    it("gets a token, the role name, then the role's credentials (IMDSv2)", function()
      local p = credentials.imds { env = env() }
      local c = assert(p:get())
      assert.are.equal("ASIAIMDS1", c.access_key_id)
      assert.are.equal("secret-imds-1", c.secret_access_key)
      assert.are.equal("token-imds-1", c.session_token)
      near(os.time() + 3600, c.expiration)
      local put = server:last("imds_token")
      assert.are.equal("PUT", put.method)
      assert.are.equal("21600", put.headers["x-aws-ec2-metadata-token-ttl-seconds"])
      local role = server:last("imds_role")
      assert.are.equal("/latest/meta-data/iam/security-credentials/", role.url)
      local get = server:last("imds")
      assert.are.equal("/latest/meta-data/iam/security-credentials/dynamo-test-role", get.url)
      assert.are.equal(role.headers["x-aws-ec2-metadata-token"], get.headers["x-aws-ec2-metadata-token"])
      assert.is_string(get.headers["x-aws-ec2-metadata-token"])
      assert.are.equal("dynamo.credentials.imds(ASIAIMDS1)", tostring(p))
    end)

    it("takes the endpoint with a trailing slash", function()
      local p = credentials.imds { env = { AWS_EC2_METADATA_SERVICE_ENDPOINT = server.url .. "/" } }
      assert.are.equal("ASIAIMDS1", p:get().access_key_id)
    end)

    it("is turned off by AWS_EC2_METADATA_DISABLED", function()
      local e = env()
      e.AWS_EC2_METADATA_DISABLED = "TRUE"
      local err = failure(credentials.imds { env = e })
      assert.are.equal("CredentialsNotFound", err.code)
      assert.are.equal("disabled by AWS_EC2_METADATA_DISABLED", err.message)
      assert.are.equal(0, server:count("imds_token"))
    end)

    it("takes a refused token request as no instance metadata", function()
      server:ctl { fail = { imds_token = { status = 403, count = 1 } } }
      local err = failure(credentials.imds { env = env() })
      assert.are.equal("CredentialsNotFound", err.code)
      assert.are.equal("no instance metadata service at " .. server.url .. " (the token request answered HTTP 403)",
        err.message)
      assert.are.equal(0, server:count("imds_role"))
    end)

    it("is not found on an instance without a role", function()
      server:ctl { role = dynamo.null }
      local err = failure(credentials.imds { env = env() })
      assert.are.equal("CredentialsNotFound", err.code)
      assert.are.equal("no IAM role is attached to this instance", err.message)
    end)

    it("reports a failing credentials request", function()
      server:ctl { fail = { imds = { status = 500, count = 1 } } }
      local err = failure(credentials.imds { env = env() })
      assert.are.equal("CredentialsError", err.code)
      assert.are.equal("instance metadata: the credentials of role 'dynamo-test-role' answered HTTP 500", err.message)
      assert.are.equal(500, err.status)
    end)

    it("(the server) refuses metadata GETs without a valid token", function()
      local http = require("dynamo.core").http { proxy = "" }
      local path = server.url .. "/latest/meta-data/iam/security-credentials/"
      assert.are.equal(401, (http:request("GET", path)))
      assert.are.equal(401, (http:request("GET", path, { "X-aws-ec2-metadata-token: made-up" })))
    end)

    it("fails fast when nothing listens", function()
      local t0 = dynamo.now()
      local err = failure(credentials.imds { env = { AWS_EC2_METADATA_SERVICE_ENDPOINT = "http://127.0.0.1:1" } })
      local took = dynamo.now() - t0
      assert.is_true(took < 1.5, "took " .. took .. " s")
      assert.are.equal("CredentialsNotFound", err.code)
      local prefix = "no instance metadata service at http://127.0.0.1:1 ("
      assert.are.equal(prefix, err.message:sub(1, #prefix))
    end)

    it("gives up on a silent token request after about a second", function()
      server:ctl { hang = { imds_token = true } }
      local t0 = dynamo.now()
      local err = failure(credentials.imds { env = env() })
      local took = dynamo.now() - t0
      assert.is_true(took < 1.5 and took > 0.8, "took " .. took .. " s")
      assert.are.equal("CredentialsNotFound", err.code)
    end)
  end)
end)
