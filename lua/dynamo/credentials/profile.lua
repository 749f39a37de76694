--- Credentials from the shared files: AWS_SHARED_CREDENTIALS_FILE (default
--- ~/.aws/credentials, sections "[name]") and AWS_CONFIG_FILE (default
--- ~/.aws/config, sections "[profile name]" and "[default]"), profile
--- AWS_PROFILE (default "default"). A profile's settings are both files'
--- sections merged, the credentials file winning. In each profile, first
--- match wins:
---   role_arn + source_profile           STS AssumeRole, signed with the
---                                       source profile's credentials (which
---                                       may be a role again, or this very
---                                       profile's static keys)
---   role_arn + web_identity_token_file  STS AssumeRoleWithWebIdentity
---   aws_access_key_id + aws_secret_access_key (+ aws_session_token)
---   credential_process                  see process.lua
--- role_session_name, external_id and duration_seconds go to STS. The files
--- are read on the first get() and again on each refresh or invalidate().
local errors = require "dynamo.errors"
local args = require "dynamo.credentials.args"
local ini = require "dynamo.credentials.ini"
local sts = require "dynamo.credentials.sts"
local process = require "dynamo.credentials.process"
local web_identity = require "dynamo.credentials.web_identity"
local refreshing = require "dynamo.credentials.refreshing"

local M = {}

local function not_found(message)
  return nil, errors.new { code = "CredentialsNotFound", message = message }
end

local function failure(message)
  return nil, errors.new { code = "CredentialsError", message = message }
end

-- "~/x" -> "$HOME/x" (nil without HOME).
local function expand(getenv, path)
  if path:match("^~/") or path == "~" then
    local home = getenv("HOME")
    return home and home .. path:sub(2)
  end
  return path
end

-- The paths of the two files (either may be nil when HOME is unset).
local function paths(getenv)
  local cred = getenv("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
  local conf = getenv("AWS_CONFIG_FILE") or "~/.aws/config"
  return expand(getenv, cred), expand(getenv, conf)
end

-- Reads both files: { credentials = sections|nil, config = sections|nil,
-- where = "path or path" }, or nil, err when a file exists but cannot be read.
local function load(getenv)
  local files, where = {}, {}
  local cred_path, conf_path = paths(getenv)
  for _, f in ipairs { { "credentials", cred_path }, { "config", conf_path } } do
    local kind, path = f[1], f[2]
    if path then
      where[#where + 1] = path
      local sections, err = ini.read(path)
      if sections then
        files[kind] = sections
      elseif err ~= "missing" then
        return failure("cannot read the shared " .. kind .. " file (" .. err .. ")")
      end
    end
  end
  files.where = table.concat(where, " or ")
  return files
end

-- The config file's section of profile `name`.
local function config_section(conf, name)
  if not conf then return nil end
  if name == "default" and conf.default then return conf.default end
  for section, props in pairs(conf) do
    if section:match("^profile%s+(.-)$") == name then return props end
  end
end

-- The merged settings of profile `name`, or nil when neither file has it.
local function settings(files, name)
  local from_config = config_section(files.config, name)
  local from_credentials = files.credentials and files.credentials[name]
  if not from_config and not from_credentials then return nil end
  local p = {}
  for k, v in pairs(from_config or {}) do if v ~= "" then p[k] = v end end
  for k, v in pairs(from_credentials or {}) do if v ~= "" then p[k] = v end end
  return p
end

local function static_keys(p, name)
  local id, secret = p.aws_access_key_id, p.aws_secret_access_key
  if id and secret then
    return { access_key_id = id, secret_access_key = secret, session_token = p.aws_session_token }
  end
  if id or secret then
    return failure("profile '" .. name .. "' has " .. (id and "aws_access_key_id but no aws_secret_access_key"
      or "aws_secret_access_key but no aws_access_key_id"))
  end
end

-- Credentials of profile `name` (whose settings are p); `seen` holds the
-- profiles already on the way (source_profile loops).
local function resolve(ctx, files, name, p, seen)
  local who = "profile '" .. name .. "'"
  if p.role_arn then
    local role = {
      role_arn = p.role_arn,
      session_name = p.role_session_name or sts.session_name(),
      external_id = p.external_id,
      duration = tonumber(p.duration_seconds),
    }
    local src = p.source_profile
    if src then
      local creds, err
      if src == name then
        creds, err = static_keys(p, name)
        if not creds and not err then
          return failure(who .. " is its own source_profile but has no aws_access_key_id")
        end
      else
        if seen[src] then return failure(who .. ": source_profile '" .. src .. "' makes a loop") end
        local sp = settings(files, src)
        if not sp then
          return failure(who .. ": source_profile '" .. src .. "' not found in " .. files.where)
        end
        seen[src] = true
        creds, err = resolve(ctx, files, src, sp, seen)
      end
      if not creds then
        if err.code == "CredentialsNotFound" then
          return failure(who .. ": source_profile '" .. src .. "' has no credentials")
        end
        return nil, err
      end
      return sts.assume_role(ctx, creds, role)
    elseif p.web_identity_token_file then
      local file = expand(ctx.getenv, p.web_identity_token_file)
      if not file then return failure(who .. ": web_identity_token_file starts with ~ but HOME is not set") end
      role.token_file = file
      return web_identity.fetch(ctx, who, role)
    elseif p.credential_source then
      return failure(who .. ": credential_source is not supported (use source_profile)")
    end
    return failure(who .. " has role_arn but neither source_profile nor web_identity_token_file")
  end
  local creds, err = static_keys(p, name)
  if creds or err then return creds, err end
  if p.credential_process then
    return process.run(p.credential_process, "credential_process of " .. who)
  end
  return not_found(who .. " has no credentials")
end

--- The name of the profile in use: the argument, else AWS_PROFILE, else "default".
local function selected(getenv, profile)
  return profile or getenv("AWS_PROFILE") or "default", profile ~= nil or getenv("AWS_PROFILE") ~= nil
end

--- The region of the selected profile in the config file, or nil.
--- env: as the constructors' env option (nil: the process environment).
--- Reads the file on every call.
function M.region(env)
  local getenv = args.reader(env)
  local name = selected(getenv)
  local _, conf_path = paths(getenv)
  if not conf_path then return nil end
  local conf = ini.read(conf_path)
  local p = config_section(conf, name)
  return p and p.region ~= "" and p.region or nil
end

local OPTIONS = { env = "env", profile = "string" }

--- profile{ profile=, env= }: the profile's credentials (profile defaults
--- to AWS_PROFILE, then "default").
function M.new(opts)
  opts = args.check("dynamo.credentials.profile", opts, OPTIONS)
  local getenv = args.reader(opts.env)
  local ctx = sts.context(getenv)
  local provider
  provider = refreshing.new("dynamo.credentials.profile", "profile", function()
    local name, explicit = selected(getenv, opts.profile)
    provider.detail = name
    local files, err = load(getenv)
    if not files then return nil, err end
    if files.where == "" then
      return not_found("no shared credentials or config file (HOME is not set)")
    end
    if not files.credentials and not files.config then
      return not_found("no " .. files.where)
    end
    local p = settings(files, name)
    if not p then
      local msg = "no profile '" .. name .. "' in " .. files.where
      if explicit then return failure(msg) end
      return not_found(msg)
    end
    local own = config_section(files.config, name)
    ctx.region = getenv("AWS_REGION") or getenv("AWS_DEFAULT_REGION") or (own and own.region ~= "" and own.region or nil)
    return resolve(ctx, files, name, p, { [name] = true })
  end)
  return provider
end

return M
