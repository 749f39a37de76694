-- HTTPS endpoints: the fault proxy (spec/support/fault_proxy.js) serves TLS
-- with a self-signed certificate made here with openssl, in front of
-- DynamoDB Local. Verification is on by default; cafile, capath and
-- verify = false are the ways to accept such a certificate.
local servers = require "support.servers"
local proxy = require "support.proxy"

-- Runs a shell command; the tools must not inherit an ASan run's preload.
local function sh(cmd)
  local ok = os.execute("env -u LD_PRELOAD sh -c '" .. cmd:gsub("'", "'\\''") .. "' >/dev/null 2>&1")
  assert(ok, "failed: " .. cmd)
end

-- A self-signed certificate and key for `cn` with subjectAltName `san`.
local function certificate(dir, base, cn, san)
  sh(string.format("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=%s -addext "
    .. "'subjectAltName=%s' -keyout %s/%s.key -out %s/%s.pem", cn, san, dir, base, dir, base))
  return dir .. "/" .. base .. ".pem", dir .. "/" .. base .. ".key"
end

describe("TLS", function()
  local server = servers.get("local")
  local dir, cert, key, other_cert, other_key, capath

  setup(function()
    local p = assert(io.popen("env -u LD_PRELOAD mktemp -d"))
    dir = p:read("l")
    p:close()
    assert(dir and dir:match("^/[%w/._-]+$"), "mktemp -d failed")
    cert, key = certificate(dir, "loopback", "127.0.0.1", "IP:127.0.0.1,DNS:localhost")
    other_cert, other_key = certificate(dir, "other", "other.example", "DNS:other.example")
    -- A CA directory: certificates under their subject-hash names.
    capath = dir .. "/ca"
    sh("mkdir " .. capath .. " && cp " .. cert .. " " .. capath .. "/ && openssl rehash " .. capath)
  end)
  teardown(function()
    proxy.stop_all()
    if dir then os.execute("rm -rf '" .. dir .. "'") end
  end)
  after_each(proxy.stop_all)

  -- An https:// proxy in front of DynamoDB Local with `c`/`k`.
  local function https_proxy(c, k)
    local url = proxy.start("pass", server.url, { tls_cert = c or cert, tls_key = k or key })
    assert.are.equal("https://", url:sub(1, 8))
    return url
  end

  local function client(url, opts)
    opts = opts or {}
    opts.endpoint = url:sub(1, -2)
    return servers.client(server, opts)
  end

  local function refused(url, opts)
    local db = client(url, opts)
    local seen = 0
    db:on("retry", function() seen = seen + 1 end)
    local res, err = db:list_tables {}
    assert.is_nil(res)
    assert.are.equal("TLSError", err.code)
    assert.is_false(err.retryable)
    assert.are.equal(1, err.attempts)
    assert.are.equal(0, seen)
    assert.are.equal("ListTables", err.operation)
    assert.is_nil(err.status)
    local hostport = url:match("^https://([^/]+)/$")
    assert.matches("request to " .. hostport .. " failed: ", err.message, 1, true)
    return err
  end

  it("refuses a self-signed certificate by default, naming host:port", function()
    local url = https_proxy()
    refused(url)
    assert.are.equal(0, proxy.stats(url).requests)   -- nothing was sent
  end)

  it("accepts it once its CA is configured with cafile", function()
    local url = https_proxy()
    local res = assert(client(url, { cafile = cert }):list_tables {})
    assert.is_table(res.TableNames)
    assert.are.equal(1, proxy.stats(url).requests)
  end)

  it("accepts it with capath, a directory of hashed CA certificates", function()
    local url = https_proxy()
    local res = assert(client(url, { capath = capath }):list_tables {})
    assert.is_table(res.TableNames)
  end)

  it("accepts the certificate's DNS name too", function()
    local url = https_proxy():gsub("127%.0%.0%.1", "localhost")
    assert(client(url, { cafile = cert }):list_tables {})
  end)

  it("accepts any certificate with verify = false (for testing only)", function()
    local url = https_proxy()
    assert(client(url, { verify = false }):list_tables {})
    local other = https_proxy(other_cert, other_key)
    assert(client(other, { verify = false }):list_tables {})
  end)

  it("refuses a certificate for another name, even with its CA", function()
    local url = https_proxy(other_cert, other_key)
    refused(url, { cafile = other_cert })
    assert.are.equal(0, proxy.stats(url).requests)
  end)

  it("refuses a certificate that another CA file does not vouch for", function()
    refused(https_proxy(), { cafile = other_cert })
  end)

  it("returns TLSError for a CA file it cannot read", function()
    refused(https_proxy(), { cafile = dir .. "/missing.pem" })
  end)

  it("runs the pleasant layer over TLS: a batch write read back", function()
    local url = https_proxy()
    local db = client(url, { cafile = cert })
    local name = servers.table_name("tls")
    servers.create_table(db, name, { sort = false })
    finally(function() db:delete_table { TableName = name } end)
    local requests = {}
    for i = 1, 60 do requests[i] = { put = { pk = "k" .. i, i = i } } end
    assert.are.equal(60, assert(db:batch_write { [name] = requests }).written)
    local res = assert(db:scan { TableName = name, ConsistentRead = true, Select = "COUNT" })
    assert.are.equal(60, res.Count)
  end)
end)
