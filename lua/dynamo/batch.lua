--- Batches: db:batch_writer, db:batch_write and db:batch_get (see
--- docs/batch.md). The work is in dynamo/batch/: writer.lua, get.lua, and
--- the backoff and argument checks they share.
local writer = require "dynamo.batch.writer"
local get = require "dynamo.batch.get"

return {
  methods = {
    batch_writer = writer.batch_writer,
    batch_write = writer.batch_write,
    batch_get = get.batch_get,
  },
}
