-- The client: arguments, configuration, credentials, and the error values
-- for service and transport failures, against the real servers.
local dynamo = require "dynamo"
local servers = require "support.servers"
local socket = require "socket"
local fault_proxy = require "support.proxy"

local creds = { access_key_id = "AKIDTEST", secret_access_key = "test-secret" }

local run_isolated = require "support.isolated"

describe("dynamo.new", function()
  it("rejects a non-table argument", function()
    assert.has_error(function() dynamo.new(5) end, "bad argument #1 to 'dynamo.new' (table expected, got number)")
  end)

  it("names a mistyped option", function()
    assert.has_error(function() dynamo.new { region = 1 } end,
      "bad argument 'region' to 'dynamo.new' (string expected, got number)")
    assert.has_error(function() dynamo.new { region = "us-east-1", timeout = "5" } end,
      "bad argument 'timeout' to 'dynamo.new' (number expected, got string)")
  end)

  it("rejects an endpoint it cannot use", function()
    assert.has_error(function() dynamo.new { region = "us-east-1", endpoint = "localhost:8000" } end,
      "bad argument 'endpoint' to 'dynamo.new' (endpoint 'localhost:8000' is not a URL (expected e.g. http://127.0.0.1:8000))")
    assert.has_error(function() dynamo.new { region = "us-east-1", endpoint = "ftp://x" } end,
      "bad argument 'endpoint' to 'dynamo.new' (endpoint 'ftp://x' must use http or https)")
  end)

  it("rejects credentials of the wrong shape", function()
    assert.has_error(function() dynamo.new { region = "us-east-1", credentials = "key" } end,
      "bad argument 'credentials' to 'dynamo.new' (expected a table with access_key_id and "
      .. "secret_access_key, or a provider with a get method; got string)")
    assert.has_error(function()
      dynamo.new { region = "us-east-1", credentials = { access_key_id = "A", secret_access_key = "" } }
    end, "bad argument 'credentials.secret_access_key' (non-empty string expected, got empty string)")
  end)

  it("uses the public regional endpoint by default", function()
    local db = dynamo.new { region = "eu-west-1", credentials = creds }
    assert.are.equal("dynamo.client(eu-west-1, https://dynamodb.eu-west-1.amazonaws.com/)", tostring(db))
    local cn = dynamo.new { region = "cn-north-1", credentials = creds }
    assert.are.equal("dynamo.client(cn-north-1, https://dynamodb.cn-north-1.amazonaws.com.cn/)", tostring(cn))
  end)

  it("never shows secrets in tostring", function()
    local db = dynamo.new { region = "us-east-1", credentials = { access_key_id = "AKID", secret_access_key = "s3cr3t" } }
    assert.is_nil(tostring(db):find("s3cr3t", 1, true))
    assert.is_nil(tostring(db.credentials):find("s3cr3t", 1, true))
  end)

  it("requires a region when no endpoint is given", function()
    local out = run_isolated({}, [[
      local ok, e = pcall(require("dynamo").new, {})
      print(ok, e)
    ]])
    assert.matches("false\t.*dynamo.new: no region %(pass region = \"us%-east%-1\" or the like, or set AWS_REGION%)", out)
  end)

  it("reads region, endpoint and credentials from the standard variables", function()
    local server = servers.get("local")
    local out = run_isolated({
      AWS_DEFAULT_REGION = "ap-south-1", AWS_ENDPOINT_URL = server.url,
      AWS_ACCESS_KEY_ID = "AKIDENV", AWS_SECRET_ACCESS_KEY = "env-secret",
    }, [[
      local db = require("dynamo").new()
      local res, err = db:list_tables{}
      print(tostring(db), res and type(res.TableNames) or tostring(err))
    ]])
    assert.are.equal("dynamo.client(ap-south-1, " .. server.url .. "/)\ttable\n", out)
  end)

  it("prefers AWS_REGION and AWS_ENDPOINT_URL_DYNAMODB", function()
    local out = run_isolated({
      AWS_REGION = "eu-central-1", AWS_DEFAULT_REGION = "ap-south-1",
      AWS_ENDPOINT_URL = "http://127.0.0.1:1", AWS_ENDPOINT_URL_DYNAMODB = "http://127.0.0.1:2",
    }, [[print(tostring(require("dynamo").new()))]])
    assert.are.equal("dynamo.client(eu-central-1, http://127.0.0.1:2/)\n", out)
  end)

  it("returns CredentialsNotFound when there are none", function()
    local server = servers.get("local")
    local out = run_isolated({ AWS_REGION = "us-east-1", AWS_ENDPOINT_URL = server.url }, [[
      local res, err = require("dynamo").new():list_tables{}
      print(res, err.code, err.operation)
    ]])
    assert.are.equal("nil\tCredentialsNotFound\tListTables\n", out)
  end)
end)

describe("operation arguments", function()
  local db = dynamo.new { region = "us-east-1", endpoint = "http://127.0.0.1:1", credentials = creds }

  it("generates one method per operation of the API", function()
    local names = dynamo.operations()
    assert.are.equal(57, #names)
    for _, name in ipairs(names) do
      local method = name:gsub("(%l)(%u)", "%1_%2"):lower()
      assert.is_function(db[method], name)
    end
  end)

  it("names a missing required argument", function()
    assert.has_error(function() db:put_item { Item = {} } end, "bad argument 'TableName' to 'put_item' (required)")
  end)

  it("names an unknown argument", function()
    assert.has_error(function() db:get_item { TableName = "t", Key = {}, Bogus = 1 } end,
      "bad argument 'Bogus' to 'get_item' (GetItem has no parameter of that name)")
  end)

  it("names an argument of the wrong type", function()
    assert.has_error(function() db:get_item { TableName = 5, Key = {} } end,
      "bad argument 'TableName' to 'get_item' (string expected, got number)")
    assert.has_error(function() db:query { TableName = "t", Limit = 1.5 } end,
      "bad argument 'Limit' to 'query' (integer expected, got non-integer number)")
  end)

  it("rejects a non-table parameter list", function()
    assert.has_error(function() db:list_tables("x") end, "bad argument #1 to 'list_tables' (table expected, got string)")
  end)

  it("explains a call made with a dot instead of a colon", function()
    assert.has_error(function() db.get_item { TableName = "t", Key = {} } end,
      "bad self to 'get_item' (call it as db:get_item{...}, with a colon)")
  end)

  it("calls any operation by name", function()
    assert.has_error(function() db:call("Nope", {}) end, "bad argument #1 to 'call' (unknown DynamoDB operation 'Nope')")
    assert.has_error(function() db:call("GetItem", {}) end, "bad argument 'TableName' to 'get_item' (required)")
  end)
end)

for _, server in ipairs(servers.list()) do
  describe("service errors on " .. server.name, function()
    local db = servers.client(server)
    local name = servers.table_name("errs")
    setup(function() servers.create_table(db, name, { sort = false }) end)
    teardown(function() db:delete_table { TableName = name } end)

    local function check_shape(err, code)
      assert.are.equal(code, err.code)
      assert.are.equal(400, err.status)
      assert.is_string(err.message)
      assert.is_string(err.request_id)
      assert.is_false(err.retryable)
      assert.is_false(err.throttle)
      assert.is_true(dynamo.is_error(err))
    end

    it("maps ConditionalCheckFailedException", function()
      assert(db:put_item { TableName = name, Item = { pk = "k" } })
      local res, err = db:put_item { TableName = name, Item = { pk = "k" }, ConditionExpression = "attribute_not_exists(pk)" }
      assert.is_nil(res)
      check_shape(err, "ConditionalCheckFailedException")
      assert.are.equal("PutItem", err.operation)
      assert.are.equal("ConditionalCheckFailedException: " .. err.message .. " (PutItem, HTTP 400, request id "
        .. err.request_id .. ")", tostring(err))
    end)

    it("maps ResourceNotFoundException", function()
      local res, err = db:get_item { TableName = "no_such_table_here", Key = { pk = "k" } }
      assert.is_nil(res)
      check_shape(err, "ResourceNotFoundException")
    end)

    it("maps ValidationException", function()
      local res, err = db:update_item { TableName = name, Key = { pk = "k" }, UpdateExpression = "SET SET" }
      assert.is_nil(res)
      check_shape(err, "ValidationException")
    end)
  end)
end

describe("transport failures", function()
  it("returns ConnectionError when nothing listens", function()
    local s = assert(socket.bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    s:close()
    local db = dynamo.new { region = "us-east-1", endpoint = "http://127.0.0.1:" .. port, credentials = creds }
    local res, err = db:list_tables {}
    assert.is_nil(res)
    assert.are.equal("ConnectionError", err.code)
    assert.is_true(err.retryable)
    assert.is_nil(err.status)
    assert.are.equal("ListTables", err.operation)
    assert.matches("127.0.0.1:" .. port, err.message, 1, true)
  end)

  it("returns TimeoutError from a server that never answers", function()
    local s = assert(socket.bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    local db = dynamo.new { region = "us-east-1", endpoint = "http://127.0.0.1:" .. port, credentials = creds, timeout = 0.3 }
    local t0 = socket.gettime()
    local res, err = db:list_tables {}
    local elapsed = socket.gettime() - t0
    s:close()
    assert.is_nil(res)
    assert.are.equal("TimeoutError", err.code)
    assert.is_true(err.retryable)
    assert.is_true(elapsed < 2, "took " .. elapsed .. " s")
  end)

  it("returns ClientClosed after close", function()
    local db = servers.client(servers.list()[1])
    assert(db:list_tables {})
    db:close()
    local res, err = db:list_tables {}
    assert.is_nil(res)
    assert.are.equal("ClientClosed", err.code)
  end)

  describe("through a fault-injecting proxy", function()
    after_each(fault_proxy.stop_all)

    local function client_via(mode)
      local url = fault_proxy.start(mode, servers.get("local").url)
      return dynamo.new { region = "us-east-1", endpoint = url:sub(1, -2), credentials = creds }
    end

    it("returns a retryable CRC32Mismatch for a corrupted response", function()
      local res, err = client_via("crc32"):list_tables {}
      assert.is_nil(res)
      assert.are.equal("CRC32Mismatch", err.code)
      assert.is_true(err.retryable)
      assert.are.equal("ListTables", err.operation)
    end)

    it("marks throttling as throttle and retryable", function()
      local res, err = client_via("status=400"):list_tables {}
      assert.is_nil(res)
      assert.are.equal("ThrottlingException", err.code)
      assert.are.equal(400, err.status)
      assert.is_true(err.throttle)
      assert.is_true(err.retryable)
    end)

    it("returns a retryable ConnectionError when the connection is reset", function()
      local res, err = client_via("reset"):list_tables {}
      assert.is_nil(res)
      assert.are.equal("ConnectionError", err.code)
      assert.is_true(err.retryable)
    end)

    it("works when the proxy passes traffic through", function()
      local res = assert(client_via("pass"):list_tables {})
      assert.is_table(res.TableNames)
    end)
  end)
end)
