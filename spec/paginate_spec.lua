-- dynamo.paginate: query_items, scan_items, query_pages, scan_pages, execute
-- and execute_pages against the real servers: every item exactly once, the
-- total limit, resuming with last_key(), and failures that never look like
-- the end (a fault proxy, spec/support/fault_proxy.js, in front of the real
-- server answers one chosen request).
local dynamo = require "dynamo"
local servers = require "support.servers"
local fault_proxy = require "support.proxy"

local creds = { access_key_id = "AKIDTEST", secret_access_key = "test-secret" }

-- Wraps db's transport: keeps each request body in rec.bodies, and sends
-- request number n to rec.divert[n] (a URL) instead of the server.
local function record(db)
  local real = db.transport
  local rec = { bodies = {}, divert = {} }
  db.transport = {
    request = function(_, method, url, headers, body)
      local n = #rec.bodies + 1
      rec.bodies[n] = body
      return real:request(method, rec.divert[n] or url, headers, body)
    end,
    close = function() real:close() end,
  }
  return rec
end

local function sks(items)
  local out = {}
  for i, item in ipairs(items) do out[i] = item.sk end
  return out
end

local function range(a, b, step)
  local out = {}
  for i = a, b, step or 1 do out[#out + 1] = i end
  return out
end

-- Every item of an iterator, as a list.
local function collect(it, stop_after)
  local out = {}
  for item in it do
    out[#out + 1] = item
    if stop_after and #out == stop_after then break end
  end
  return out
end

-- "pk/sk" identities, to compare scans whose order is the server's.
local function ids(items, into)
  into = into or {}
  for _, item in ipairs(items) do
    local id = item.pk .. "/" .. item.sk
    assert(not into[id], "item " .. id .. " returned twice")
    into[id] = true
  end
  return into
end

local function count(set)
  local n = 0
  for _ in pairs(set) do n = n + 1 end
  return n
end

for _, server in ipairs(servers.list()) do
  describe("iterators on " .. server.name, function()
    local db = servers.client(server)
    local name = servers.table_name("pages")
    local Q -- the query of partition "a", with raw expression strings

    setup(function()
      servers.create_table(db, name, {
        AttributeDefinitions = {
          { AttributeName = "pk", AttributeType = "S" },
          { AttributeName = "sk", AttributeType = "N" },
          { AttributeName = "g", AttributeType = "S" },
        },
        GlobalSecondaryIndexes = { {
          IndexName = "by_g",
          KeySchema = { { AttributeName = "g", KeyType = "HASH" }, { AttributeName = "sk", KeyType = "RANGE" } },
          Projection = { ProjectionType = "ALL" },
        } },
      })
      for _, pk in ipairs { "a", "b" } do
        for sk = 1, 25 do
          assert(db:put_item { TableName = name, Item = { pk = pk, sk = sk, odd = sk % 2, g = "all" } })
        end
      end
    end)
    teardown(function()
      db:delete_table { TableName = name }
      fault_proxy.stop_all()
    end)

    -- The query options for partition "a" plus `extra`.
    Q = function(extra)
      local q = { table = name, KeyConditionExpression = "pk = :p", ExpressionAttributeValues = { [":p"] = "a" },
        consistent = true }
      for k, v in pairs(extra or {}) do q[k] = v end
      return q
    end

    describe("query_items", function()
      it("returns every item once, in order, over several pages", function()
        local it = db:query_items(Q { page_size = 4 })
        assert.are.same(range(1, 25), sks(collect(it)))
        assert.are.same({ pages = 7, scanned = 25, items = 25 }, it:stats())
        assert.is_true(it.done)
        assert.is_nil(it:last_key())
      end)

      it("reads in reverse with forward = false", function()
        assert.are.same(range(25, 1, -1), sks(collect(db:query_items(Q { page_size = 10, forward = false }))))
      end)

      it("takes the key condition as a friendly key table", function()
        local it = db:query_items { table = name, key = { pk = "b" }, page_size = 10, consistent = true }
        local items = collect(it)
        assert.are.same(range(1, 25), sks(items))
        assert.are.equal("b", items[25].pk)
        assert.are.equal(3, it:stats().pages)
      end)

      it("stops at limit, fetching no more pages than it needs", function()
        local c = servers.client(server)
        local rec = record(c)
        local it = c:query_items(Q { page_size = 4, limit = 10 })
        assert.are.same(range(1, 10), sks(collect(it)))
        assert.are.equal(3, it:stats().pages)
        assert.are.equal(3, #rec.bodies)
        assert.is_truthy(rec.bodies[3]:find('"Limit":2', 1, true), rec.bodies[3])
        -- Stopped by the limit with items left: not done, and resumable.
        assert.is_false(it.done)

        local it8 = db:query_items(Q { page_size = 4, limit = 8 })
        assert.are.same(range(1, 8), sks(collect(it8)))
        assert.are.equal(2, it8:stats().pages)

        local it5 = db:query_items(Q { limit = 5 })
        assert.are.same(range(1, 5), sks(collect(it5)))
        assert.are.same({ pages = 1, scanned = 5, items = 5 }, it5:stats())
      end)

      it("resumes after a break in the middle of a page", function()
        local it = db:query_items(Q { page_size = 4 })
        local first = collect(it, 6)
        assert.are.same(range(1, 6), sks(first))
        assert.is_false(it.done)
        assert.are.same({ pk = "a", sk = 6 }, it:last_key())
        local rest = db:query_items(Q { page_size = 4, start = it:last_key() })
        assert.are.same(range(7, 25), sks(collect(rest)))
      end)

      it("resumes after a break at the end of a page", function()
        local it = db:query_items(Q { page_size = 4 })
        assert.are.same(range(1, 8), sks(collect(it, 8)))
        assert.are.same({ pk = "a", sk = 8 }, it:last_key())
        assert.are.same(range(9, 25), sks(collect(db:query_items(Q { start = it:last_key() }))))
      end)

      it("resumes after limit", function()
        local it = db:query_items(Q { page_size = 4, limit = 10 })
        assert.are.same(range(1, 10), sks(collect(it)))
        local rest = db:query_items(Q { page_size = 4, start = it:last_key() })
        assert.are.same(range(11, 25), sks(collect(rest)))
        assert.are.equal(4, rest:stats().pages)
      end)

      it("is not done when limit stopped it before the end (docs: done once everything was read)", function()
        local it = db:query_items(Q { page_size = 4, limit = 10 })
        assert.are.equal(10, #collect(it))
        assert.is_false(it.done)
        local pages = db:query_pages(Q { page_size = 4, limit = 10 })
        for _ in pages do end
        assert.is_false(pages.done)
        -- A limit past the end reads everything: done.
        local all = db:query_items(Q { limit = 30 })
        assert.are.equal(25, #collect(all))
        assert.is_true(all.done)
      end)

      it("walks the whole partition in runs of limit = 3 without losing or repeating an item", function()
        local all, start, runs = {}, nil, 0
        repeat
          runs = runs + 1
          local it = db:query_items(Q { limit = 3, start = start })
          for item in it do all[#all + 1] = item.sk end
          start = it:last_key()
        until start == nil or runs > 20
        assert.are.same(range(1, 25), all)
      end)

      it("knows where it stands before the first item", function()
        local it = db:query_items(Q { page_size = 4 })
        assert.is_nil(it:last_key())
        local from = { pk = "a", sk = 20 }
        local it2 = db:query_items(Q { page_size = 4, start = from })
        assert.are.same(from, it2:last_key())
        assert.are.same(range(21, 25), sks(collect(it2)))
        -- the AWS name is a start position too
        assert.are.same(range(21, 25), sks(collect(db:query_items(Q { ExclusiveStartKey = from }))))
      end)

      it("with a filter, limit counts the items returned", function()
        local q = Q { page_size = 4, limit = 5, filter = "odd = :one" }
        q.ExpressionAttributeValues = { [":p"] = "a", [":one"] = 1 }
        local it = db:query_items(q)
        assert.are.same({ 1, 3, 5, 7, 9 }, sks(collect(it)))
        assert.are.equal(3, it:stats().pages)
        assert.are.same({ pk = "a", sk = 9 }, it:last_key())
        local q2 = Q { page_size = 4, filter = "odd = :one", start = it:last_key() }
        q2.ExpressionAttributeValues = q.ExpressionAttributeValues
        assert.are.same(range(11, 25, 2), sks(collect(db:query_items(q2))))
      end)

      it("resumes an index query in the middle of a page with the index and table keys", function()
        local function iq(extra)
          local q = { table = name, index = "by_g", key_condition = "g = :g", values = { [":g"] = "all" } }
          for k, v in pairs(extra) do q[k] = v end
          return q
        end
        local it = db:query_items(iq { page_size = 4 })
        local first = collect(it, 6)
        local key = it:last_key()
        assert.are.same({ g = "all", sk = first[6].sk, pk = first[6].pk }, key)
        local seen = ids(first)
        ids(collect(db:query_items(iq { page_size = 4, start = key })), seen)
        assert.are.equal(50, count(seen))
      end)

      it("takes the AWS Limit as the page size", function()
        local it = db:query_items(Q { Limit = 10 })
        assert.are.equal(25, #collect(it))
        assert.are.equal(3, it:stats().pages)
      end)
    end)

    describe("scan_items", function()
      it("returns every item exactly once over several pages", function()
        local it = db:scan_items { table = name, page_size = 7, consistent = true }
        local seen = ids(collect(it))
        assert.are.equal(50, count(seen))
        assert.are.same({ pages = 8, scanned = 50, items = 50 }, it:stats())
        assert.is_true(it.done)
      end)

      it("stops at limit and resumes after a break", function()
        local it = db:scan_items { table = name, page_size = 5, limit = 13 }
        local first = collect(it)
        assert.are.equal(13, #first)
        assert.are.equal(3, it:stats().pages)
        local seen = ids(first)
        local it2 = db:scan_items { table = name, page_size = 5, start = it:last_key() }
        local second = collect(it2, 9)
        ids(second, seen)
        ids(collect(db:scan_items { table = name, page_size = 5, start = it2:last_key() }), seen)
        assert.are.equal(50, count(seen))
      end)

      it("with a filter and a limit", function()
        local opts = { table = name, page_size = 10, limit = 4, filter = "pk = :b AND odd = :one",
          values = { [":b"] = "b", [":one"] = 1 } }
        local it = db:scan_items(opts)
        local first = collect(it)
        assert.are.equal(4, #first)
        local seen = ids(first)
        opts.limit, opts.start = nil, it:last_key()
        ids(collect(db:scan_items(opts)), seen)
        assert.are.equal(13, count(seen))
        for id in pairs(seen) do assert.matches("^b/%d*[13579]$", id) end
      end)
    end)

    describe("query_pages and scan_pages", function()
      it("yield whole pages", function()
        local sizes, all = {}, {}
        local it = db:query_pages(Q { page_size = 4 })
        for page in it do
          sizes[#sizes + 1] = #page.Items
          assert.are.equal(#page.Items, page.Count)
          for _, item in ipairs(page.Items) do all[#all + 1] = item.sk end
        end
        assert.are.same({ 4, 4, 4, 4, 4, 4, 1 }, sizes)
        assert.are.same(range(1, 25), all)
        assert.is_true(it.done)
        assert.are.equal(7, it:stats().pages)
      end)

      it("stop at limit and resume", function()
        local it = db:query_pages(Q { page_size = 4, limit = 10 })
        local sizes = {}
        for page in it do sizes[#sizes + 1] = #page.Items end
        assert.are.same({ 4, 4, 2 }, sizes)
        local rest = {}
        for page in db:query_pages(Q { page_size = 4, start = it:last_key() }) do
          for _, item in ipairs(page.Items) do rest[#rest + 1] = item.sk end
        end
        assert.are.same(range(11, 25), rest)
      end)

      it("cut a filtered page at limit and resume after its last item", function()
        local q = Q { page_size = 4, limit = 3, filter = "odd = :one" }
        q.ExpressionAttributeValues = { [":p"] = "a", [":one"] = 1 }
        local it = db:query_pages(q)
        local pages = {}
        for page in it do pages[#pages + 1] = { sks(page.Items), page.Count } end
        assert.are.same({ { { 1, 3 }, 2 }, { { 5 }, 1 } }, pages)
        assert.are.same({ pk = "a", sk = 5 }, it:last_key())
        q.limit, q.start = nil, it:last_key()
        assert.are.same(range(7, 25, 2), sks(collect(db:query_items(q))))
      end)

      it("scan_pages covers the table", function()
        local seen, n = {}, 0
        for page in db:scan_pages { table = name, page_size = 20 } do
          n = n + 1
          ids(page.Items, seen)
        end
        assert.are.equal(3, n)
        assert.are.equal(50, count(seen))
      end)
    end)

    describe("a failure in the middle", function()
      -- Without the client's retries, so the fault reaches the iterator.
      local function failing_client(mode)
        local c = servers.client(server, { retry = false })
        local rec = record(c)
        rec.divert[3] = fault_proxy.start(mode, server.url)
        return c
      end

      it("raises the error value from the for loop (status 500 on the third page)", function()
        local c = failing_client("status=500")
        local it = c:query_items(Q { page_size = 4 })
        local seen = {}
        local ok, err = pcall(function()
          for item in it do seen[#seen + 1] = item.sk end
        end)
        assert.is_false(ok)
        assert.is_true(dynamo.is_error(err))
        assert.are.equal("ThrottlingException", err.code)
        assert.are.equal(500, err.status)
        assert.are.equal("Query", err.operation)
        assert.are.same(range(1, 8), seen)
        assert.is_false(it.done)
        -- It stays failed, and :next() hands the same error back as a value.
        local item, again = it:next()
        assert.is_nil(item)
        assert.are.equal(err, again)
        assert.has_error(function() it() end, err)
        -- Nothing was lost: resuming where it stopped gives the rest.
        assert.are.same({ pk = "a", sk = 8 }, it:last_key())
        assert.are.same(range(9, 25), sks(collect(db:query_items(Q { start = it:last_key() }))))
      end)

      it("returns nil, err from next() (connection reset on the third page)", function()
        local c = failing_client("reset")
        local it = c:scan_items { table = name, page_size = 5 }
        local n = 0
        local item, err
        repeat
          item, err = it:next()
          if item then n = n + 1 end
        until item == nil
        assert.are.equal(10, n)
        assert.is_true(dynamo.is_error(err))
        assert.are.equal("ConnectionError", err.code)
        assert.are.equal("Scan", err.operation)
        assert.is_false(it.done)
      end)

      it("raises from a pages iterator too", function()
        local c = failing_client("status=500")
        local it = c:query_pages(Q { page_size = 4 })
        local pages = 0
        local ok, err = pcall(function() for _ in it do pages = pages + 1 end end)
        assert.is_false(ok)
        assert.are.equal("ThrottlingException", err.code)
        assert.are.equal(2, pages)
        local page, again = it:next()
        assert.is_nil(page)
        assert.are.equal(err, again)
        assert.is_false(it.done)
      end)

      it("raises when the table disappears between pages", function()
        local other = servers.table_name("gone")
        servers.create_table(db, other, { sort = false })
        for i = 1, 12 do assert(db:put_item { TableName = other, Item = { pk = "k" .. i } }) end
        local it = db:scan_items { table = other, page_size = 5 }
        local n = 0
        local ok, err = pcall(function()
          for _ in it do
            n = n + 1
            if n == 5 then assert(db:delete_table { TableName = other }) end
          end
        end)
        assert.is_false(ok)
        assert.are.equal("ResourceNotFoundException", err.code)
        assert.are.equal(5, n)
      end)
    end)

    if server.supports.ExecuteStatement then
      describe("execute (PartiQL)", function()
        local stmt = function() return 'SELECT * FROM "' .. name .. '" WHERE pk = ?' end

        it("follows NextToken, and DynamoDB Local honours Limit as the page size", function()
          local it = db:execute { statement = stmt(), parameters = { "a" }, page_size = 4 }
          assert.are.same(range(1, 25), sks(collect(it)))
          assert.are.equal(7, it:stats().pages)
          assert.is_true(it.done)
        end)

        it("stops at limit and resumes at a page boundary with last_key", function()
          local it = db:execute { statement = stmt(), parameters = { "a" }, page_size = 4, limit = 10 }
          assert.are.same(range(1, 10), sks(collect(it)))
          assert.are.equal(3, it:stats().pages)
          local token = it:last_key()
          assert.is_string(token)
          local rest = db:execute { statement = stmt(), parameters = { "a" }, start = token }
          assert.are.same(range(11, 25), sks(collect(rest)))
        end)

        it("cannot resume in the middle of a page", function()
          local it = db:execute { statement = stmt(), parameters = { "a" }, page_size = 4 }
          collect(it, 6)
          assert.are.same({ nil, "a PartiQL statement can resume only at a page boundary" }, { it:last_key() })
          local it2 = db:execute { statement = stmt(), parameters = { "a" }, page_size = 4 }
          collect(it2, 8)
          assert.is_string(it2:last_key())
          assert.are.same(range(9, 25), sks(collect(db:execute {
            statement = stmt(), parameters = { "a" }, start = it2:last_key() })))
        end)

        it("starts from a NextToken given by its own name", function()
          local first = assert(db:execute_statement { statement = stmt(), parameters = { "a" }, limit = 3 })
          assert.are.same({ 1, 2, 3 }, sks(first.Items))
          local rest = db:execute { statement = stmt(), parameters = { "a" }, next_token = first.NextToken }
          assert.are.same(range(4, 25), sks(collect(rest)))
          local raw = db:execute { Statement = stmt(), Parameters = { "a" }, NextToken = first.NextToken }
          assert.are.same(range(4, 25), sks(collect(raw)))
        end)

        it("execute_pages yields pages", function()
          local sizes = {}
          for page in db:execute_pages { statement = stmt(), parameters = { "b" }, page_size = 10 } do
            sizes[#sizes + 1] = #page.Items
          end
          assert.are.same({ 10, 10, 5 }, sizes)
        end)
      end)
    end
  end)
end

describe("iterator arguments", function()
  local db = dynamo.new { region = "us-east-1", endpoint = "http://127.0.0.1:1", credentials = creds }

  it("are checked when the iterator is made", function()
    assert.has_error(function() db:query_items("t") end, "bad argument #1 to 'query_items' (table expected, got string)")
    assert.has_error(function() db:scan_pages() end, "bad argument #1 to 'scan_pages' (table expected, got nil)")
    assert.has_error(function() db:query_items { table = "t", limit = 0 } end,
      "bad argument 'limit' to 'query_items' (positive integer expected, got 0)")
    assert.has_error(function() db:scan_items { table = "t", page_size = 1.5 } end,
      "bad argument 'page_size' to 'scan_items' (positive integer expected, got 1.5)")
    assert.has_error(function() db:execute { statement = "x", limit = "3" } end,
      "bad argument 'limit' to 'execute' (positive integer expected, got string)")
    assert.has_error(function() db:query_items { table = "t", page_size = 3, Limit = 3 } end,
      "bad argument 'page_size' to 'query_items' (given twice, also as 'Limit')")
    assert.has_error(function() db:scan_items { table = "t", bogus = 1 } end,
      "bad argument 'bogus' to 'scan_items' (Scan has no parameter of that name)")
    assert.has_error(function() db:query_pages { table = "t", segment = 1 } end,
      "bad argument 'segment' to 'query_pages' (Query has no parameter of that name)")
  end)

  it("point argument errors at the caller's line", function()
    local function at(line, msg, fn)
      local ok, err = pcall(fn)
      assert.is_false(ok)
      assert.are.equal("spec/paginate_spec.lua:" .. line .. ": " .. msg, err)
    end
    local function here() return debug.getinfo(2, "l").currentline end
    at(here(), "bad argument 'bogus' to 'scan_items' (Scan has no parameter of that name)", function() db:scan_items { table = "t", bogus = 1 } end)
    at(here(), "bad argument 'limit' to 'query_items' (positive integer expected, got -1)", function() db:query_items { table = "t", limit = -1 } end)
    at(here(), "bad argument 'key' to 'query_items' (key condition, table or string expected, got number)", function() db:query_items { table = "t", key = 5 } end)
    at(here(), "bad argument 'filter' to 'scan_pages' (condition or string expected, got boolean)", function() db:scan_pages { table = "t", filter = true } end)
  end)

  it("report a failing first request as an error, not as an empty result", function()
    local it = db:scan_items { table = "t" }
    local ok, err = pcall(function() for _ in it do end end)
    assert.is_false(ok)
    assert.are.equal("ConnectionError", err.code)
    assert.is_false(it.done)
  end)
end)

describe("item iterators decode each item as it is handed out", function()
  local PAGE = '{"Items":[{"pk":{"S":"a"}},{"pk":{"S":1}},{"pk":{"S":"c"}}],"Count":3,"ScannedCount":3}'

  local function canned_db(body)
    return dynamo.new { endpoint = "http://127.0.0.1:9", region = "us-east-1", credentials = creds,
      transport = { request = function() return 200, {}, body end } }
  end

  it("hand out the items before a bad one, then raise InvalidResponse naming it", function()
    local it = canned_db(PAGE):scan_items { table = "t" }
    assert.same({ pk = "a" }, it())
    local ok, err = pcall(it)
    assert.is_false(ok)
    assert.equal("InvalidResponse", err.code)
    assert.matches("^undecodable response body: Items%[2%]: pk: S value must be a string at byte %d+$", err.message)
    local item, again = it:next()
    assert.is_nil(item)
    assert.equal(err, again)
  end)

  it("decode pages whole in the *_pages iterators, so a bad item fails the page", function()
    local it = canned_db(PAGE):scan_pages { table = "t" }
    local page, err = it:next()
    assert.is_nil(page)
    assert.equal("InvalidResponse", err.code)
    assert.matches("^undecodable response body: Items%[2%]%.pk: S value must be a string", err.message)
  end)

  it("show a response hook the page's Items as positions in the response text", function()
    local db = canned_db('{"Items":[{"pk":{"S":"a"}},{"pk":{"S":"b"}}],"Count":2}')
    local seen
    db:on("response", function(info) seen = info.result.Items end)
    local items = collect(db:scan_items { table = "t" })
    assert.same({ { pk = "a" }, { pk = "b" } }, items)
    assert.same({ 11, 28 }, seen)
  end)
end)
