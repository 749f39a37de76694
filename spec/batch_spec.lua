-- Batches: db:batch_writer, db:batch_write and db:batch_get against the real
-- servers, with failures injected by spec/support/fault_proxy.js.
local dynamo = require "dynamo"
local core = require "dynamo.core"
local api = require "dynamo.operations"
local writer = require "dynamo.batch.writer"
local keys = require "dynamo.keys"
local servers = require "support.servers"
local fault_proxy = require "support.proxy"

local creds = { access_key_id = "AKIDTEST", secret_access_key = "test-secret" }

local input_of = {}
for _, op in ipairs(api.operations) do input_of[op.name] = op.input end

-- A small deterministic generator, so the test does not touch math.random.
local function generator(seed)
  return function(n)
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n + 1
  end
end

-- Every item of a table, through all pages.
local function scan_all(db, name)
  local items, start = {}, nil
  repeat
    local res = assert(db:scan { TableName = name, ExclusiveStartKey = start, ConsistentRead = true })
    for _, item in ipairs(res.Items) do items[#items + 1] = item end
    start = res.LastEvaluatedKey
  until start == nil
  return items
end

-- Records each BatchWriteItem / BatchGetItem call a client makes (its
-- parameters, encoded body size and error) and passes it on to the server.
local function spy(db, method, op)
  local calls = {}
  local real = db[method]
  db[method] = function(self, params)
    local res, err = real(self, params)
    calls[#calls + 1] = { params = params, bytes = #self.codec:encode(params, input_of[op]), err = err }
    return res, err
  end
  return calls
end

-- A stand-in for DynamoDB's throttling, which neither test server does: a
-- transport in front of the real one that sends the server only the first
-- `keep` writes or keys of a BatchWriteItem / BatchGetItem request (for the
-- first `times` such requests; all when nil) and answers the rest as
-- UnprocessedItems / UnprocessedKeys, exactly as DynamoDB reports them.
-- Wire JSON is handled as plain JSON (no value map), so items pass as they are.
local function partial_server(server, keep, times)
  local real = servers.client(server).transport
  local json = core.codec {}
  local log = { cut = 0 }
  local transport = {}
  function transport.request(_, method, url, headers, body)
    local op
    for _, h in ipairs(headers) do op = op or h:match("^X%-Amz%-Target: DynamoDB_%d+%.(Batch%a+Item)$") end
    if not op or times == 0 then return real:request(method, url, headers, body) end
    if times then times = times - 1 end
    local req = json:decode(body)
    local names = {}
    for t in pairs(req.RequestItems) do names[#names + 1] = t end
    table.sort(names)
    local kept, cut = 0, {}
    for _, t in ipairs(names) do
      local r = req.RequestItems[t]
      local list = op == "BatchWriteItem" and r or r.Keys
      local stay, back = {}, {}
      for _, x in ipairs(list) do
        if kept < keep then kept = kept + 1; stay[#stay + 1] = x else back[#back + 1] = x end
      end
      log.cut = log.cut + #back
      if #back > 0 then
        if op == "BatchWriteItem" then
          cut[t] = back
        else
          local u = {}
          for k, v in pairs(r) do u[k] = v end
          u.Keys = back
          cut[t] = u
        end
      end
      if #stay == 0 then
        req.RequestItems[t] = nil
      elseif op == "BatchWriteItem" then
        req.RequestItems[t] = stay
      else
        r.Keys = stay
      end
    end
    local res = {}
    if next(req.RequestItems) ~= nil then
      local status, rheaders, rbody = real:request(method, url, headers, json:encode(req))
      if status ~= 200 then return status, rheaders, rbody end
      res = json:decode(rbody)
    elseif op == "BatchGetItem" then
      res.Responses = {}
    end
    res[op == "BatchWriteItem" and "UnprocessedItems" or "UnprocessedKeys"] = cut
    return 200, {}, json:encode(res)
  end
  return servers.client(server, { transport = transport }), log
end

local function count_unprocessed(unprocessed)
  local n = 0
  for _, list in pairs(unprocessed) do n = n + #list end
  return n
end

describe("batch arguments", function()
  local db = dynamo.new { region = "us-east-1", endpoint = "http://127.0.0.1:1", credentials = creds }

  it("name what is wrong with batch_writer's options", function()
    assert.has_error(function() db.batch_writer() end,
      "bad self to 'batch_writer' (call it as db:batch_writer{...}, with a colon)")
    assert.has_error(function() db:batch_writer("x") end, "bad argument #1 to 'batch_writer' (table expected, got string)")
    assert.has_error(function() db:batch_writer { deadline = "5" } end,
      "bad argument 'deadline' to 'batch_writer' (non-negative number expected, got string)")
    assert.has_error(function() db:batch_writer { deadline = -1 } end,
      "bad argument 'deadline' to 'batch_writer' (non-negative number expected, got -1)")
    assert.has_error(function() db:batch_writer { dedline = 5 } end,
      "bad argument 'dedline' to 'batch_writer' (no such option)")
    assert.has_error(function() db:batch_writer { on_progress = 1 } end,
      "bad argument 'on_progress' to 'batch_writer' (function expected, got number)")
    assert.has_error(function() db:batch_writer { return_consumed = "yes" } end,
      "bad argument 'return_consumed' to 'batch_writer' (boolean expected, got string)")
  end)

  it("name the bad argument of put and delete", function()
    local w = db:batch_writer()
    assert.has_error(function() w:put("t", "x") end, "bad argument 'item' to 'put' (table expected, got string)")
    assert.has_error(function() w:put(nil, {}) end, "bad argument 'table' to 'put' (string expected, got nil)")
    assert.has_error(function() w:put("", {}) end,
      "bad argument 'table' to 'put' (non-empty string expected, got empty string)")
    assert.has_error(function() w:delete("t") end, "bad argument 'key' to 'delete' (table expected, got nil)")
    assert.has_error(function() w:put("t", { pk = "a", n = 0 / 0 }) end,
      "bad argument 'item' to 'put' (n: NaN and infinity cannot be stored)")
    assert.has_error(function() w.put("t", {}) end,
      "bad self to 'put' (call it as w:put(table_name, item), with a colon)")
    -- Nothing was buffered, so closing sends nothing.
    assert.is_true(w:close())
    assert.is_true(w:close())
    assert.has_error(function() w:put("t", { pk = "a" }) end, "'put' on a closed batch writer")
    assert.has_error(function() w:flush() end, "'flush' on a closed batch writer")
  end)

  it("name the bad request of batch_write before sending anything", function()
    assert.has_error(function() db:batch_write("x") end, "bad argument #1 to 'batch_write' (table expected, got string)")
    assert.has_error(function() db:batch_write({}, 5) end, "bad argument #2 to 'batch_write' (table expected, got number)")
    assert.has_error(function() db:batch_write { { table = "t", put = { pk = "a" } }, "x" } end,
      "bad argument 'requests[2]' to 'batch_write' (table expected, got string)")
    assert.has_error(function() db:batch_write { { put = { pk = "a" } } } end,
      "bad argument 'requests[1].table' to 'batch_write' (string expected, got nil)")
    assert.has_error(function() db:batch_write { { table = "t" } } end,
      "bad argument 'requests[1]' to 'batch_write' (put or delete expected)")
    assert.has_error(function() db:batch_write { { table = "t", put = {}, delete = {} } } end,
      "bad argument 'requests[1]' to 'batch_write' (put or delete expected, not both)")
    assert.has_error(function() db:batch_write { { table = "t", put = "x" } } end,
      "bad argument 'requests[1].put' to 'batch_write' (table expected, got string)")
    assert.has_error(function() db:batch_write { { table = "t", put = {} }, t = {} } end,
      "bad argument #1 to 'batch_write' (a list of requests or requests by table expected, got a mix)")
    assert.has_error(function() db:batch_write { users = "x" } end,
      "bad argument 'requests.users' to 'batch_write' (table expected, got string)")
    assert.has_error(function() db:batch_write { users = { put = { id = "a" } } } end,
      "bad argument 'requests.users' to 'batch_write' (list of {put = item} or {delete = key} expected)")
    assert.has_error(function() db:batch_write { users = { { put = { id = "a" } }, { delete = 1 } } } end,
      "bad argument 'requests.users[2].delete' to 'batch_write' (table expected, got number)")
    assert.has_error(function() db:batch_write { users = { { table = "orders", put = { id = "a" } } } } end,
      "bad argument 'requests.users[1].table' to 'batch_write' (differs from the table it is listed under)")
    assert.has_error(function() db:batch_write { users = { { put = { id = 1 / 0 } } } } end,
      "bad argument 'requests.users[1].put' to 'batch_write' (id: NaN and infinity cannot be stored)")
  end)

  it("name the bad request of batch_get", function()
    assert.has_error(function() db.batch_get {} end, "bad self to 'batch_get' (call it as db:batch_get{...}, with a colon)")
    assert.has_error(function() db:batch_get() end, "bad argument #1 to 'batch_get' (table expected, got nil)")
    assert.has_error(function() db:batch_get { { id = "a" } } end,
      "bad argument #1 to 'batch_get' (keys by table name expected, got a number key)")
    assert.has_error(function() db:batch_get({}, { ordred = true }) end,
      "bad argument 'ordred' to 'batch_get' (no such option)")
    assert.has_error(function() db:batch_get({}, { ordered = 1 }) end,
      "bad argument 'ordered' to 'batch_get' (boolean expected, got number)")
    assert.has_error(function() db:batch_get { users = "a" } end,
      "bad argument 'request.users' to 'batch_get' (table expected, got string)")
    assert.has_error(function() db:batch_get { users = { { id = "a" }, "b" } } end,
      "bad argument 'request.users[2]' to 'batch_get' (table expected, got string)")
    assert.has_error(function() db:batch_get { users = { id = "a" } } end,
      "bad argument 'request.users' to 'batch_get' (list of keys or {keys = ...} expected)")
    assert.has_error(function() db:batch_get { users = { {} } } end,
      "bad argument 'request.users[1]' to 'batch_get' (key expected, got an empty table)")
    assert.has_error(function() db:batch_get { users = { { id = "a" }, { id = "b", sk = 1 } } } end,
      "bad argument 'request.users[2]' to 'batch_get' (key has attributes id, sk but the first key has id)")
    assert.has_error(function() db:batch_get { users = { keys = "a" } } end,
      "bad argument 'request.users.keys' to 'batch_get' (table expected, got string)")
    assert.has_error(function() db:batch_get { users = { keys = {}, projecton = "a" } } end,
      "bad argument 'request.users.projecton' to 'batch_get' (no such field; expected keys, projection, consistent or names)")
    assert.has_error(function() db:batch_get { users = { keys = { { id = "a" } }, projection = 5 } } end,
      "bad argument 'request.users.projection' to 'batch_get' (string or list of attribute names expected, got number)")
    assert.has_error(function() db:batch_get { users = { keys = { { id = "a" } }, projection = { "a", 2 } } } end,
      "bad argument 'request.users.projection[2]' to 'batch_get' (string expected, got number)")
    assert.has_error(function() db:batch_get { users = { keys = { { id = "a" } }, names = { ["#a"] = "a" } } } end,
      "bad argument 'request.users.names' to 'batch_get' (only used with a projection string)")
    assert.has_error(function() db:batch_get { users = { keys = {}, consistent = "yes" } } end,
      "bad argument 'request.users.consistent' to 'batch_get' (boolean expected, got string)")
    assert.has_error(function() db:batch_get { users = { { id = 0 / 0 } } } end,
      "bad argument 'request.users[1]' to 'batch_get' (id: NaN and infinity cannot be stored)")
  end)
end)

for _, server in ipairs(servers.list()) do
  describe("batches on " .. server.name, function()
    local db = servers.client(server)
    local A, B = servers.table_name("batch_a"), servers.table_name("batch_b")

    setup(function()
      servers.create_table(db, A)                    -- pk (S) + sk (N)
      servers.create_table(db, B, { sort = false })  -- pk (S) only
    end)
    teardown(function()
      db:delete_table { TableName = A }
      db:delete_table { TableName = B }
    end)
    after_each(fault_proxy.stop_all)

    -- A fresh client with no spies, to look at what the server holds.
    local function direct()
      return servers.client(server)
    end

    -- A client whose requests go through a fault proxy in `mode`. The
    -- client's own retries are off, so the faults reach the batch layer.
    local function via_proxy(mode, extra)
      local url = fault_proxy.start(mode, server.url, extra)
      return servers.client(server, { endpoint = url:sub(1, -2), retry = false })
    end

    -- Empties both tables between tests.
    local function clear()
      local d = direct()
      for _, t in ipairs { A, B } do
        local reqs = {}
        for _, item in ipairs(scan_all(d, t)) do
          reqs[#reqs + 1] = { delete = t == A and { pk = item.pk, sk = item.sk } or { pk = item.pk } }
        end
        if #reqs > 0 then assert(d:batch_write { [t] = reqs }) end
      end
    end
    before_each(clear)

    describe("batch_writer", function()
      it("writes 1,000 puts and deletes over two tables, the last write to each key winning", function()
        local rand = generator(20240607)
        local ops, expected = {}, { [A] = {}, [B] = {} }
        local function id(t, key) return t == A and key.pk .. "/" .. key.sk or key.pk end
        local function put(t, item)
          ops[#ops + 1] = { "put", t, item }
          expected[t][id(t, item)] = item.v
        end
        local function delete(t, key)
          ops[#ops + 1] = { "delete", t, key }
          expected[t][id(t, key)] = nil
        end
        -- Fixed cases first: a put twice in one request, a put then a
        -- delete in one request, and a key written again many requests later.
        put(A, { pk = "twice", sk = 1, v = 1 })
        put(A, { pk = "twice", sk = 1, v = 2 })
        put(B, { pk = "gone", v = 3 })
        delete(B, { pk = "gone" })
        put(A, { pk = "later", sk = 2, v = 5 })
        while #ops < 1000 do
          local i = #ops + 1
          if i == 900 then
            put(A, { pk = "later", sk = 2, v = i })
          elseif rand(2) == 1 then
            local key = { pk = "k" .. rand(60), sk = rand(3) }
            if rand(10) <= 3 then delete(A, key) else put(A, { pk = key.pk, sk = key.sk, v = i }) end
          else
            local key = { pk = "k" .. rand(120) }
            if rand(10) <= 3 then delete(B, key) else put(B, { pk = key.pk, v = i }) end
          end
        end

        local calls = spy(db, "batch_write_item", "BatchWriteItem")
        local progress = {}
        local w = db:batch_writer { on_progress = function(written, pending)
          progress[#progress + 1] = { written, pending }
        end }
        for _, op in ipairs(ops) do
          local ok, err = w[op[1]](w, op[2], op[3])
          assert(ok, err and tostring(err))
        end
        assert(w:close())
        db.batch_write_item = nil

        -- Every request was within the limits, with each key once.
        local superseded = 0
        for _, call in ipairs(calls) do
          assert.is_nil(call.err)
          local n, seen = 0, {}
          for t, reqs in pairs(call.params.RequestItems) do
            for _, r in ipairs(reqs) do
              local k = r.PutRequest and r.PutRequest.Item or r.DeleteRequest.Key
              local key = t .. ":" .. id(t, k)
              assert.is_nil(seen[key], "key sent twice in one request: " .. key)
              seen[key] = true
              n = n + 1
            end
          end
          assert.is_true(n <= 25)
          superseded = superseded + 25 - n
        end
        assert.is_true(superseded > 0, "the data had no duplicates within a request")
        assert.are.same({ 1000, 0 }, progress[#progress])
        assert.are.equal(1000, w.written)

        local d = direct()
        for _, t in ipairs { A, B } do
          local actual = {}
          for _, item in ipairs(scan_all(d, t)) do actual[id(t, item)] = item.v end
          assert.are.same(expected[t], actual)
        end
        assert.are.equal(2, expected[A]["twice/1"])
        assert.are.equal(900, expected[A]["later/2"])
        assert.is_nil(expected[B].gone)
      end)

      it("reports the capacity consumed with return_consumed", function()
        local w = db:batch_writer { return_consumed = true }
        for i = 1, 3 do assert(w:put(A, { pk = "c" .. i, sk = 1 })) end
        assert(w:put(B, { pk = "c" }))
        assert.is_true(w:close())
        assert.is_true(w.consumed[A] >= 3)
        assert.is_true(w.consumed[B] >= 1)
      end)

      -- A client through a fault proxy that already knows the tables' key
      -- schemas, so that the injected faults hit BatchWriteItem itself.
      local function via_proxy_known(mode, extra)
        local c = via_proxy(mode, extra)
        assert(keys.names(db, A) and keys.names(db, B))
        c.key_schemas = db.key_schemas
        return c
      end

      it("retries retryable failures until the items are written", function()
        local c = via_proxy_known("status=500", "--count 3")
        local calls = spy(c, "batch_write_item", "BatchWriteItem")
        local w = c:batch_writer { deadline = 10 }
        for i = 1, 30 do assert(w:put(A, { pk = "r" .. i, sk = i })) end
        assert.is_true(w:close())
        local failed = 0
        for _, call in ipairs(calls) do
          if call.err then
            failed = failed + 1
            assert.is_true(call.err.retryable)
          end
        end
        assert.are.equal(3, failed)
        assert.are.equal(2 + 3, #calls)
        assert.are.equal(30, #scan_all(direct(), A))
      end)

      it("retries what DynamoDB leaves unprocessed", function()
        local c, log = partial_server(server, 10, 2)
        local calls = spy(c, "batch_write_item", "BatchWriteItem")
        local w = c:batch_writer()
        for i = 1, 60 do assert(w:put(A, { pk = "u" .. i, sk = i })) end
        assert.is_true(w:close())
        assert.are.equal(15 + 5, log.cut)
        -- The first request had 25 writes; the second resent the 15 not done.
        local function sent(call)
          local pks = {}
          for _, r in ipairs(call.params.RequestItems[A]) do pks[#pks + 1] = r.PutRequest.Item.pk end
          return table.concat(pks, " ")
        end
        assert.are.equal(3 + 1 + 1, #calls)   -- 25 (10 done), 15 (10 done), 5; 25; 10
        local first = {}
        for i = 11, 25 do first[#first + 1] = "u" .. i end
        assert.are.equal(table.concat(first, " "), sent(calls[2]))
        assert.are.equal(60, #scan_all(direct(), A))
      end)

      it("returns exactly the writes still unprocessed at the deadline", function()
        local c = partial_server(server, 1)
        local w = c:batch_writer { deadline = 0.3 }
        local items = {}
        for i = 1, 30 do
          items[i] = { pk = "p" .. i, sk = i }
          w:put(A, items[i])
        end
        local ok, err = w:close()
        assert.is_nil(ok)
        assert.are.equal("UnprocessedItems", err.code)
        assert.is_true(err.retryable)
        local present, unsent = {}, {}
        for _, item in ipairs(scan_all(direct(), A)) do present[item.pk] = true end
        for _, r in ipairs(err.unprocessed[A]) do unsent[r.put.pk] = r.put end
        local n = count_unprocessed(err.unprocessed)
        assert.are.equal(n .. " items not written: still unprocessed when the deadline of 0.3 s passed", err.message)
        assert.is_true(n >= 30 - 12 and n < 30, n .. " unprocessed")
        for i, item in ipairs(items) do
          assert.is_true(present[item.pk] ~= (unsent[item.pk] ~= nil), "item " .. i)
          if unsent[item.pk] then assert.are.equal(item, unsent[item.pk]) end
        end
      end)

      it("retries a DescribeTable that fails on the way", function()
        local c = via_proxy("status=503", "--count 2")
        local calls = spy(c, "describe_table", "DescribeTable")
        local w = c:batch_writer()
        for i = 1, 3 do assert(w:put(A, { pk = "r" .. i, sk = i })) end
        assert.is_true(w:close())
        assert.are.equal(3, #calls)
        assert.are.equal(3, #scan_all(direct(), A))
      end)

      it("returns every write not done when failures outlast the deadline", function()
        local c = via_proxy_known("status=400")
        local calls = spy(c, "batch_write_item", "BatchWriteItem")
        local w = c:batch_writer { deadline = 0.3 }
        local items = {}
        local t0 = core.now()
        for i = 1, 30 do
          items[i] = { pk = "d" .. i, sk = i }
          local ok, err = w:put(A, items[i])
          -- The 25th put sends a request; from then on puts report the failure.
          if i < 25 then assert.is_true(ok) else assert.is_nil(ok); assert.are.equal("ThrottlingException", err.code) end
        end
        local ok, err = w:close()
        assert.is_true(core.now() - t0 < 2)
        assert.is_nil(ok)
        assert.are.equal("ThrottlingException", err.code)
        assert.is_true(err.throttle)
        assert.is_true(err.retryable)
        assert.is_true(dynamo.is_error(err))
        assert.are.equal("30 items not written: injected (still failing when the deadline of 0.3 s passed)", err.message)
        assert.is_true(#calls > 1, "no retry was made")
        assert.are.equal(30, #err.unprocessed[A])
        for i, r in ipairs(err.unprocessed[A]) do assert.are.equal(items[i], r.put) end
        assert.are.same({}, scan_all(direct(), A))
        -- Closing again gives the same answer.
        local ok2, err2 = w:close()
        assert.is_nil(ok2)
        assert.are.equal(err, err2)
      end)

      it("returns exactly the writes not done when the server goes away mid-way", function()
        local c = via_proxy("pass")
        local w = c:batch_writer { deadline = 0.3 }
        local items = {}
        for i = 1, 60 do
          items[i] = { pk = "m" .. i, sk = i }
          assert(w:put(A, items[i]))
        end
        fault_proxy.stop_all()   -- requests 1 and 2 (50 puts) went through
        for i = 61, 100 do
          items[i] = { pk = "m" .. i, sk = i }
          w:put(A, items[i])
        end
        local ok, err = w:close()
        assert.is_nil(ok)
        assert.are.equal("ConnectionError", err.code)
        assert.are.equal("50 items not written: ", err.message:sub(1, 22))

        local present, unsent = {}, {}
        for _, item in ipairs(scan_all(direct(), A)) do present[item.pk] = true end
        for _, r in ipairs(err.unprocessed[A]) do unsent[r.put.pk] = true end
        assert.are.equal(50, count_unprocessed(err.unprocessed))
        for i, item in ipairs(items) do
          -- Each write is in exactly one place: the table or err.unprocessed.
          assert.is_true(present[item.pk] ~= unsent[item.pk], "item " .. i)
        end
        for i = 1, 50 do assert.is_true(present["m" .. i]) end
        -- err.unprocessed has batch_write's shape: sending it again finishes the job.
        assert.is_truthy(db:batch_write(err.unprocessed))
        assert.are.equal(100, #scan_all(direct(), A))
      end)

      it("stops at a non-retryable error and returns the rest of the buffer with it", function()
        local w = db:batch_writer()
        local items = {}
        for i = 1, 60 do
          items[i] = { pk = "n" .. i, sk = i }
          assert(w:put(A, items[i]))
        end
        local lost = { pk = "x" }
        assert(w:put("no_such_table_here", lost))
        local results = {}
        for i = 61, 100 do
          items[i] = { pk = "n" .. i, sk = i }
          results[#results + 1] = w:put(A, items[i]) or false
        end
        assert.is_false(results[#results])
        local ok, err = w:close()
        assert.is_nil(ok)
        assert.are.equal("ResourceNotFoundException", err.code)
        assert.is_false(err.retryable)
        assert.are.equal("51 items not written: ", err.message:sub(1, 22))
        assert.are.same({ { put = lost } }, err.unprocessed.no_such_table_here)
        assert.are.equal(lost, err.unprocessed.no_such_table_here[1].put)
        assert.are.equal(50, #err.unprocessed[A])
        for j, r in ipairs(err.unprocessed[A]) do assert.are.equal(items[50 + j], r.put) end
        assert.are.equal(50, #scan_all(direct(), A))
      end)

      it("returns the writes of a request the server rejects", function()
        local w = db:batch_writer()
        assert(w:put(A, { pk = "ok", sk = 1 }))
        assert(w:put(A, { pk = 1, sk = 1 }))   -- pk is a string attribute
        assert(w:delete(B, { pk = "b" }))
        local ok, err = w:close()
        assert.is_nil(ok)
        assert.are.equal("ValidationException", err.code)
        assert.are.equal(400, err.status)
        assert.are.same({ { put = { pk = "ok", sk = 1 } }, { put = { pk = 1, sk = 1 } } }, err.unprocessed[A])
        assert.are.same({ { delete = { pk = "b" } } }, err.unprocessed[B])
      end)

      it("refuses a put without its key attributes", function()
        local w = db:batch_writer()
        assert(w:put(A, { pk = "a" }))
        local ok, err = w:close()
        assert.is_nil(ok)
        assert.are.equal("ValidationException", err.code)
        assert.are.equal("1 item not written: a put to table '" .. A .. "' lacks the key attribute 'sk'", err.message)
      end)

      it("splits requests at the byte limit", function()
        local saved = writer.MAX_BYTES
        writer.MAX_BYTES = 3000
        local calls = spy(db, "batch_write_item", "BatchWriteItem")
        local ok, err = pcall(function()
          -- Two 1,200-byte items fit in 3,000 bytes; three do not.
          local w = db:batch_writer()
          for i = 1, 10 do assert(w:put(A, { pk = "s" .. i, sk = i, pad = string.rep("x", 1200) })) end
          assert.is_true(w:close())
        end)
        writer.MAX_BYTES = saved
        db.batch_write_item = nil
        assert(ok, err)
        assert.are.equal(5, #calls)
        for _, call in ipairs(calls) do assert.is_true(call.bytes <= 3000, call.bytes .. " bytes") end
        assert.are.equal(10, #scan_all(direct(), A))
      end)

      it("keeps requests under DynamoDB's 16 MB", function()
        -- Control characters take 6 bytes each in JSON: a 390,000-byte string
        -- is 2.3 MB on the wire, so 7 such items are over 16 MB together.
        local big = string.rep("\1", 390000)
        local calls = spy(db, "batch_write_item", "BatchWriteItem")
        local w = db:batch_writer()
        for i = 1, 7 do assert(w:put(A, { pk = "big" .. i, sk = i, blob = big })) end
        local ok, err = w:close()
        db.batch_write_item = nil
        assert(ok, err and tostring(err))
        assert.are.equal(2, #calls)
        assert.is_true(calls[1].bytes + calls[2].bytes > 16 * 1000 * 1000)
        for _, call in ipairs(calls) do assert.is_true(call.bytes <= 16 * 1000 * 1000) end
        local keys = {}
        for i = 1, 7 do keys[i] = { pk = "big" .. i, sk = i } end
        local res = assert(db:batch_get { [A] = { keys = keys, projection = { "pk" } } })
        assert.are.equal(7, #res[A])
      end)
    end)

    describe("batch_write", function()
      it("takes a list of requests", function()
        local res = assert(db:batch_write {
          { table = A, put = { pk = "l1", sk = 1, v = "a" } },
          { table = B, put = { pk = "l2", v = "b" } },
          { table = A, put = { pk = "l3", sk = 3 } },
          { table = A, delete = { pk = "l3", sk = 3 } },
        })
        assert.are.equal(4, res.written)
        assert.is_nil(res.consumed)
        local d = direct()
        assert.are.same({ { pk = "l1", sk = 1, v = "a" } }, scan_all(d, A))
        assert.are.same({ { pk = "l2", v = "b" } }, scan_all(d, B))
      end)

      it("takes requests by table", function()
        local puts = {}
        for i = 1, 40 do puts[i] = { put = { pk = "t" .. i, sk = i } } end
        local res = assert(db:batch_write({ [A] = puts, [B] = { { put = { pk = "t" } }, { delete = { pk = "t" } } } },
          { return_consumed = true }))
        assert.are.equal(42, res.written)
        assert.is_true(res.consumed[A] >= 40)
        assert.are.equal(40, #scan_all(direct(), A))
        assert.are.same({}, scan_all(direct(), B))
      end)

      it("returns what it could not write", function()
        local res, err = db:batch_write({ no_such_table_here = { { delete = { pk = "a" } } } }, { deadline = 0 })
        assert.is_nil(res)
        assert.are.equal("ResourceNotFoundException", err.code)
        assert.are.same({ no_such_table_here = { { delete = { pk = "a" } } } }, err.unprocessed)
      end)
    end)

    describe("batch_get", function()
      -- The data, and a request with duplicates and missing keys.
      local aputs, bputs, akeys, bkeys = {}, {}, {}, {}
      for i = 1, 200 do aputs[i] = { put = { pk = "u" .. i, sk = i % 3, v = i } } end
      for i = 1, 40 do bputs[i] = { put = { pk = "b" .. i, v = i, w = "extra" } } end
      for i = 1, 210 do akeys[i] = { pk = "u" .. i, sk = i % 3 } end   -- 201..210 missing
      for i = 1, 20 do akeys[#akeys + 1] = { pk = "u" .. i, sk = i % 3 } end
      for i = 1, 45 do bkeys[i] = { pk = "b" .. i } end                 -- 41..45 missing
      bkeys[46] = { pk = "b1" }
      -- before_each empties the tables: each test puts the data back first.
      local function load()
        assert(db:batch_write { [A] = aputs, [B] = bputs })
      end
      -- The v an ordered result should hold for position i of akeys.
      local function want_a(i)
        local n = tonumber(akeys[i].pk:sub(2))
        return n <= 200 and n or false
      end

      it("reads 255 distinct keys of two tables in three requests, in order", function()
        load()
        local calls = spy(db, "batch_get_item", "BatchGetItem")
        local res = assert(db:batch_get({
          [A] = akeys,
          [B] = { keys = bkeys, projection = { "v" }, consistent = true },
        }, { ordered = true }))
        db.batch_get_item = nil

        assert.are.equal(3, #calls)
        for _, call in ipairs(calls) do
          local n, seen = 0, {}
          for t, r in pairs(call.params.RequestItems) do
            for _, k in ipairs(r.Keys) do
              local id = t .. ":" .. k.pk .. "/" .. tostring(k.sk)
              assert.is_nil(seen[id], "duplicate key in a request: " .. id)
              seen[id], n = true, n + 1
            end
          end
          assert.is_true(n <= 100)
        end

        assert.are.equal(#akeys, #res[A])
        for i in ipairs(akeys) do
          local want, got = want_a(i), res[A][i]
          if want then
            assert.are.same({ pk = akeys[i].pk, sk = akeys[i].sk, v = want }, got)
          else
            assert.is_false(got)
          end
        end
        assert.are.equal(res[A][1], res[A][211])   -- a duplicate gets the same item
        assert.are.equal(#bkeys, #res[B])
        for i, key in ipairs(bkeys) do
          local n = tonumber(key.pk:sub(2))
          -- The projection asked for v; the key comes too, w does not.
          if n <= 40 then assert.are.same({ pk = key.pk, v = n }, res[B][i]) else assert.is_false(res[B][i]) end
        end
      end)

      it("returns the items found by table when not ordered", function()
        load()
        local res = assert(db:batch_get {
          [A] = akeys,
          [B] = { keys = bkeys, projection = "#v", names = { ["#v"] = "v" } },
        })
        assert.are.equal(200, #res[A])
        local seen = {}
        for _, item in ipairs(res[A]) do
          assert.are.equal("u" .. item.v, item.pk)
          assert.is_nil(seen[item.v])
          seen[item.v] = true
        end
        assert.are.equal(40, #res[B])
        for _, item in ipairs(res[B]) do
          assert.are.same({ pk = "b" .. item.v, v = item.v }, item)
        end
      end)

      it("retries retryable failures", function()
        load()
        local c = via_proxy("status=503", "--count 2")
        local res = assert(c:batch_get({ [B] = bkeys }, { ordered = true }))
        assert.are.equal(46, #res[B])
        assert.are.equal(40, #(assert(c:batch_get { [B] = bkeys })[B]))
      end)

      it("returns the keys not read when failures outlast the deadline", function()
        load()
        local c = via_proxy("status=503")
        local projection = { "v" }
        local res, err = c:batch_get({ [A] = akeys, [B] = { keys = bkeys, projection = projection } }, { deadline = 0.2 })
        assert.is_nil(res)
        assert.are.equal("ThrottlingException", err.code)
        assert.are.equal("255 keys not read: injected (still failing when the deadline of 0.2 s passed)", err.message)
        -- Each distinct key once, as the caller's own table, in the request's shape.
        assert.are.equal(210, #err.unprocessed[A])
        for i = 1, 210 do assert.are.equal(akeys[i], err.unprocessed[A][i]) end
        assert.are.equal(45, #err.unprocessed[B].keys)
        assert.are.equal(projection, err.unprocessed[B].projection)
        assert.are.same({ [A] = {}, [B] = {} }, err.partial)
        -- Which can be sent again as it is.
        res = assert(db:batch_get(err.unprocessed))
        assert.are.equal(200, #res[A])
        assert.are.equal(40, #res[B])
      end)

      it("asks again for the keys DynamoDB leaves unprocessed", function()
        load()
        local c, log = partial_server(server, 30, 3)
        local res = assert(c:batch_get({ [A] = akeys, [B] = { keys = bkeys, projection = { "v" } } }, { ordered = true }))
        assert.are.equal(70 + 40 + 10, log.cut)
        assert.are.equal(#akeys, #res[A])
        for i in ipairs(akeys) do
          local want = want_a(i)
          if want then assert.are.equal(want, res[A][i].v) else assert.is_false(res[A][i]) end
        end
        for i, key in ipairs(bkeys) do
          local n = tonumber(key.pk:sub(2))
          if n <= 40 then assert.are.same({ pk = key.pk, v = n }, res[B][i]) else assert.is_false(res[B][i]) end
        end
      end)

      it("returns exactly the keys still unprocessed at the deadline, with what was read", function()
        load()
        local c = partial_server(server, 1)
        local res, err = c:batch_get({ [A] = akeys, [B] = bkeys }, { deadline = 0.2 })
        assert.is_nil(res)
        assert.are.equal("UnprocessedKeys", err.code)
        local unsent = {}
        for _, key in ipairs(err.unprocessed[A]) do unsent[key.pk] = true end
        local read = 210 - #err.unprocessed[A]
        assert.is_true(read >= 1 and read < 10, read .. " read")
        assert.are.equal(45, #err.unprocessed[B])
        assert.are.equal((255 - read) .. " keys not read: still unprocessed when the deadline of 0.2 s passed", err.message)
        -- The keys read are the first ones; those that exist are in err.partial.
        for i = 1, 210 do assert.are.equal(i > read, unsent["u" .. i] == true, "key " .. i) end
        assert.are.equal(read, #err.partial[A])
        for _, item in ipairs(err.partial[A]) do assert.is_nil(unsent[item.pk]) end
        assert.are.same({}, err.partial[B])
      end)

      it("returns the keys with a non-retryable error", function()
        local res, err = db:batch_get { no_such_table_here = { { pk = "a" }, { pk = "b" } } }
        assert.is_nil(res)
        assert.are.equal("ResourceNotFoundException", err.code)
        assert.are.same({ no_such_table_here = { { pk = "a" }, { pk = "b" } } }, err.unprocessed)
      end)

      it("returns empty lists for tables with no keys", function()
        assert.are.same({ [A] = {} }, assert(db:batch_get { [A] = {} }))
        assert.are.same({}, assert(db:batch_get {}))
      end)
    end)
  end)
end
