-- SPDX-License-Identifier: Apache-2.0
--
-- The connector settings as rules see them: ptm.config (read-only), and the
-- filters and attributes the configuration asks for (process_filter,
-- thread_filter, pattern_filter, attributes), made with the same rule API
-- as everything else so they run on the same machinery.
local core = require "ptm.core"
local api = require "ptm.api"
local model = require "ptm.model"

local M = {}

local function readonly(t)
  if type(t) ~= "table" then return t end
  return setmetatable({}, {
    __index = function(_, k) return readonly(t[k]) end,
    __newindex = function() error("ptm.config is read-only", 2) end,
    __pairs = function()
      return function(_, k)
        local k2, v = next(t, k)
        if k2 ~= nil then return k2, readonly(v) end
      end, nil, nil
    end,
    __metatable = "ptm.config",
  })
end
M.readonly = readonly

-- A test that passes when any of the patterns matches.
local function any_pattern(patterns)
  local res = {}
  for _, p in ipairs(patterns) do res[#res + 1] = api.regex(p) end
  return function(v)
    for _, re in ipairs(res) do
      if re:match(v) ~= nil then return true end
    end
    return false
  end
end

local function patterns_of(f)
  if not f or not f.enabled then return nil end
  local list = {}
  for _, p in ipairs(f.patterns or {}) do list[#list + 1] = p end
  if #list == 0 and f.pattern and f.pattern ~= "" then list[1] = f.pattern end
  return #list > 0 and list or nil
end

--- The filters of the configuration: process_filter over
-- process.executable.name, thread_filter over thread.name, pattern_filter
-- over every attribute value and every function name on the stack.
function M.configured_filters()
  local s = core.settings
  local list = {}
  local p = patterns_of(s.process_filter)
  if p then list[#list + 1] = api.attribute_matches("process.executable.name", any_pattern(p)) end
  p = patterns_of(s.thread_filter)
  if p then list[#list + 1] = api.attribute_matches("thread.name", any_pattern(p)) end
  p = patterns_of(s.pattern_filter)
  if p then list[#list + 1] = api.anything_matches(any_pattern(p)) end
  return list
end

--- t (a metric's attributes) with the configured attributes added; a
-- configured attribute replaces one of the same name.
function M.configured_attributes(t)
  local out = {}
  for k, v in pairs(t or {}) do out[k] = v end
  for _, a in ipairs(core.settings.attributes or {}) do
    for k, v in pairs(out) do
      if type(k) == "number" and v == a.key then out[k] = nil end
    end
    if a.type == "regex" and a.source and a.source ~= "" then
      out[a.key] = api.capture(a.source, a.value)
    elseif a.type == "regex" then
      out[a.key] = api.string_table_match(a.value)
    elseif a.type == "string_table" then
      out[a.key] = api.string_table_index(a.index or tonumber(a.value) or 0)
    else
      out[a.key] = a.value
    end
  end
  -- compact the array part after removals
  local compact = {}
  for k, v in pairs(out) do
    if type(k) ~= "number" then compact[k] = v end
  end
  for i = 1, table.maxn(out) do
    if out[i] ~= nil then compact[#compact + 1] = out[i] end
  end
  return compact
end

local table_matches = setmetatable({}, { __mode = "k" }) -- regex -> { batch -> value }

--- The value of a per-request constant source for profile p (cdata).
function M.const_source(src, m, p)
  local b = m.batches.data[p.batch]
  if src.source == "string_table_index" then
    if src.index >= b.strings.len then return nil end
    local s = model.string(b.strings.off + src.index)
    return s ~= "" and s or nil
  end
  local cache = table_matches[src.regex]
  if not cache or cache.run ~= model.run_id() then
    cache = { run = model.run_id() }
    table_matches[src.regex] = cache
  end
  local v = cache[p.batch]
  if v == nil then
    v = false
    for i = 1, b.strings.len - 1 do
      local hit = src.regex:match(model.string(b.strings.off + i))
      if hit then v = hit break end
    end
    cache[p.batch] = v
  end
  return v or nil
end

return M
