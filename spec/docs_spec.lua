-- Documentation coverage: every public function has a section in docs/
-- with a Lua example that mentions it, and every example compiles.
local dynamo = require "dynamo"
local client = require "dynamo.client"

local function read(path)
  local f = assert(io.open(path))
  local s = f:read("a")
  f:close()
  return s
end

-- Every page under docs/.
local docs
do
  local pages = {}
  local ls = assert(io.popen("ls docs/*.md"))
  for path in ls:lines() do pages[#pages + 1] = read(path) end
  ls:close()
  docs = table.concat(pages, "\n")
end

-- The text of each "### <title>" section, up to the next heading.
local sections = {}
do
  local pos = 1
  while true do
    local s, e, title = docs:find("\n### ([^\n]+)\n", pos)
    if not s then break end
    local next_heading = docs:find("\n#", e) or #docs
    sections[#sections + 1] = { title = title, body = docs:sub(e + 1, next_heading) }
    pos = e
  end
end

-- The section whose title is `name` or starts with `name(`.
local function section(name)
  for _, sec in ipairs(sections) do
    local t = sec.title
    if t == name or t:sub(1, #name + 1) == name .. "(" then return sec.body end
  end
end

local public = {}
for k, v in pairs(dynamo) do
  if type(v) == "function" or k == "null" then public[#public + 1] = "dynamo." .. k end
end
for k, v in pairs(dynamo.credentials) do
  if type(v) == "function" then public[#public + 1] = "dynamo.credentials." .. k end
end
for k, v in pairs(client.Client) do
  if type(v) == "function" and not k:match("^__") then public[#public + 1] = "db:" .. k end
end
table.sort(public)

describe("docs", function()
  it("cover a known number of public functions", function()
    -- Client: 57 operations + call + close, 7 iterators, 6 batch and waiter
    -- methods, 2 transactions + the model transaction, on + off. Module: 11
    -- functions and null, gather, sleep, now, with_deadline, 11 expression
    -- builders, model and collection. 12 credentials functions.
    assert.are.equal((57 + 2 + 7 + 6 + 3 + 2) + (12 + 4 + 11 + 2) + 12, #public)
  end)

  for _, name in ipairs(public) do
    it("document " .. name .. " with an example", function()
      local body = section(name)
      assert(body, "no '### " .. name .. "' section in docs/")
      local example = body:match("```lua\n(.-)```")
      assert(example, "the section on " .. name .. " has no lua example")
      local short = name:match("[.:]([%w_]+)$")
      assert(example:find(short, 1, true), "the example for " .. name .. " does not use it")
    end)
  end

  it("have examples that compile", function()
    local n = 0
    for code in docs:gmatch("```lua\n(.-)```") do
      n = n + 1
      assert(load(code, "example", "t"), "example does not compile:\n" .. code)
    end
    assert.is_true(n >= #public)
  end)
end)
