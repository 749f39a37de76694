--- Checkpoints in a DynamoDB table (--checkpoint-table T), beside the
--- local state file: one item per migration and segment, so that the
--- machines sharing a migration (--segment I/N) show their progress in
--- one place (`dynamo status --checkpoint-table T --id ID`), and a shard
--- can resume on another machine that lacks its state file.
---
--- The table: partition key "migration" (S), sort key "segment" (N);
--- made on first use (on-demand billing). An item:
---   { migration = "backfill.users", segment = 4, total_segments = 8,
---     status = "running", last_key = { pk = "k01234" },  -- the key itself (a map)
---     pages, scanned, changed, unchanged, skipped, failed, updated, host }
--- The journal of an interrupted page stays in the local file only: a
--- shard resumed from the table reads that page again, where writes the
--- first machine applied are no-ops or fail their conditions.
local state = require "dynamo.cli.migrate.state"

local M = {}

local Table = {}
Table.__index = Table

-- This machine's name, for the checkpoints (HOSTNAME is rarely exported).
local hostname
local function host()
  if hostname == nil then
    hostname = os.getenv("HOSTNAME") or false
    if not hostname then
      local f = io.open("/etc/hostname")
      hostname = f and f:read("l") or false
      if f then f:close() end
    end
  end
  return hostname or nil
end

--- The checkpoint table `name` for migration `id`; made if missing when
--- `create` is true (two processes making it at once is fine). Returns
--- it, or nil, err.
function M.open(db, name, id, create)
  local res, err = db:describe_table { TableName = name }
  if not res then
    if err.code ~= "ResourceNotFoundException" or not create then return nil, err end
    local ok, cerr = db:create_table {
      TableName = name, BillingMode = "PAY_PER_REQUEST",
      AttributeDefinitions = { { AttributeName = "migration", AttributeType = "S" },
        { AttributeName = "segment", AttributeType = "N" } },
      KeySchema = { { AttributeName = "migration", KeyType = "HASH" },
        { AttributeName = "segment", KeyType = "RANGE" } },
    }
    if not ok and cerr.code ~= "ResourceInUseException" then return nil, cerr end
    local _, werr = db:wait_for_table(name, { timeout = 120, interval = 0.5 })
    if werr then return nil, werr end
  end
  return setmetatable({ db = db, name = name, id = id }, Table)
end

--- Saves a segment's checkpoint (its state-file entry).
function Table:save(seg, total_segments)
  local item = {
    migration = self.id, segment = seg.segment, total_segments = total_segments,
    status = seg.status, last_key = seg.last_key, pages = seg.pages,
    updated = state.now(), host = host(),
  }
  for _, c in ipairs(state.COUNTS) do item[c] = seg[c] end
  return self.db:put_item { TableName = self.name, Item = item }
end

--- Every segment's checkpoint of this migration: { [segment] = item }.
function Table:load()
  local out = {}
  local it = self.db:query_items { TableName = self.name, key = { migration = self.id }, ConsistentRead = true }
  while true do
    local item, err = it:next()
    if err then return nil, err end
    if item == nil then break end
    out[math.tointeger(item.segment) or item.segment] = item
  end
  return out
end

return M
