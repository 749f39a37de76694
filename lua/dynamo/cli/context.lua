--- Where a command's settings come from, and its client. Each setting is
--- the flag, else the embedding program's host.config (when the dynamo
--- program runs the CLI, `host` is a global), else what dynamo.new reads
--- from the environment (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB, ...,
--- AWS_PROFILE and the credential chain).
local dynamo = require "dynamo"
local fail = require "dynamo.cli.fail"

local M = {}

local Context = {}
Context.__index = Context

local function nonempty(v)
  if type(v) == "string" and v ~= "" then return v end
end

--- host.config of the embedding program, or an empty table.
local function host_config()
  local host = rawget(_G, "host")
  local config = type(host) == "table" and rawget(host, "config")
  return type(config) == "table" and config or {}
end

--- A context from the parsed global flags (endpoint, region, profile, log_level).
function M.new(opts)
  local hc = host_config()
  local self = setmetatable({
    endpoint = opts.endpoint or nonempty(hc.endpoint),
    region = opts.region or nonempty(hc.region),
    profile = opts.profile or nonempty(hc.profile),
    log_level = opts.log_level or nonempty(hc.log_level),
    clients = {},
  }, Context)
  return self
end

-- The credentials and region for an explicit profile: that profile's
-- keys (as the AWS CLI, --profile wins over AWS_ACCESS_KEY_ID), and its
-- region when neither a flag nor the environment names one.
local function profile_settings(self)
  local profile = require "dynamo.credentials.profile"
  local name = self.profile
  local creds = dynamo.credentials.profile { profile = name }
  local region = self.region or nonempty(os.getenv("AWS_REGION")) or nonempty(os.getenv("AWS_DEFAULT_REGION"))
  if not region then
    region = profile.region(function(var)
      if var == "AWS_PROFILE" then return name end
      return nonempty(os.getenv(var))
    end)
  end
  return creds, region
end

--- The options dynamo.new gets (extra: more of them, e.g. retry).
function Context:options(extra)
  local o = { endpoint = self.endpoint, region = self.region, log = self.log_level }
  if self.profile then o.credentials, o.region = profile_settings(self) end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

--- The client (one per set of extra options, made on first use). A
--- configuration dynamo.new refuses (no region) is a usage failure.
function Context:client(extra, label)
  label = label or "default"
  local db = self.clients[label]
  if db then return db end
  local ok, res = pcall(dynamo.new, self:options(extra))
  if not ok then
    local msg = tostring(res):gsub("^[^:]*:%d+: ", ""):gsub("^dynamo%.new: ", "")
    if msg:match("^no region") then
      msg = "no region: pass --region, set AWS_REGION, or give the profile a region"
    end
    fail.usage(msg)
  end
  self.clients[label] = res
  return res
end

return M
