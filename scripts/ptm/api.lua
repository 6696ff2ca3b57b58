-- SPDX-License-Identifier: Apache-2.0
--
-- The rule API: what `require "ptm"` gives a rule file. A rule declares
-- metrics with ptm.metric while it loads; the pieces it combines (profile
-- selectors, values, filters, attribute sources) are small descriptions the
-- runtime compiles into one loop per metric. Callbacks a rule passes run once
-- per distinct input (profile, stack, function, attribute value), never once
-- per sample, and their answers are cached by index for the request.
--
-- docs/rules.md is the reference; rules/*.lua are the worked examples.
local core = require "ptm.core"
local regex = require "ptm.regex"

local M = {}

-- Descriptions made here, so a rule cannot pass a look-alike table.
-- A description is an empty proxy over its fields, so that no field can be
-- changed: ptm.leaf_function and ptm.each_function are shared by every rule.
local made = setmetatable({}, { __mode = "k" }) -- proxy -> fields
local function spec(t)
  local proxy = setmetatable({}, { __index = t, __metatable = "ptm.spec", __newindex = function()
    error("a ptm description cannot be changed", 2)
  end })
  made[proxy] = t
  return proxy
end
M._made = made

-- Selectors and values made here that read nothing of a profile view but
-- its type fields (sample_type, sample_unit, period_type, period_unit,
-- period, duration and has_sibling), change nothing and run no rule code:
-- the runtime calls them on one shared table of those fields instead of on
-- a copy of the whole view per metric (scripts/ptm/runtime.lua).
local pure = setmetatable({}, { __mode = "k" })
M._pure = pure

local function check(cond, level, fmt, ...)
  if not cond then error(string.format(fmt, ...), level + 1) end
end

-- A string test from a pattern string, a regex, or a function.
local function tester(x, what, level)
  if type(x) == "function" then return x end
  local ok, re = pcall(regex.of, x)
  check(ok, level + 1, "%s: %s", what, tostring(re))
  return function(v) return re:match(v) ~= nil end, re
end

--- Compile a regular expression (PCRE2 syntax). re:match(s) returns the
-- capture (group 1, or the whole match) or nil; re:find(s) returns a boolean.
function M.regex(pattern)
  local ok, re = pcall(regex.compile, pattern)
  check(ok, 2, "%s", tostring(re))
  return re
end

-- ---------------------------------------------------------------- profiles

local function value_matcher(x, field)
  if x == nil then return nil end
  if type(x) == "string" then
    return function(v) return v == x end
  elseif type(x) == "table" and not regex.is(x) then
    local set = {}
    for _, v in ipairs(x) do
      check(type(v) == "string", 3, "ptm.profile_type: %s list entries must be strings", field)
      set[v] = true
    end
    return function(v) return set[v] == true end
  end
  local ok, re = pcall(regex.of, x)
  check(ok, 3, "ptm.profile_type: %s: %s", field, tostring(re))
  return function(v) return re:match(v) ~= nil end
end

--- A profile selector: profiles whose sample type, sample unit, period type
-- and period unit are as given. Each field is a string (exact), a list of
-- strings (any of them), or a regex; a field left out matches anything.
function M.profile_type(t)
  check(type(t) == "table", 2, "ptm.profile_type takes a table")
  local fields = { "sample_type", "sample_unit", "period_type", "period_unit" }
  local tests = {}
  for k in pairs(t) do
    local known = false
    for _, f in ipairs(fields) do known = known or k == f end
    check(known, 2, "ptm.profile_type: unknown field '%s' (sample_type, sample_unit, period_type, period_unit)", tostring(k))
  end
  for _, f in ipairs(fields) do
    local test = value_matcher(t[f], f)
    if test then tests[#tests + 1] = { f, test } end
  end
  local selector = function(p)
    for _, ft in ipairs(tests) do
      if not ft[2](p[ft[1]]) then return false end
    end
    return true
  end
  pure[selector] = true
  return selector
end

local cpu_values = M.profile_type { sample_type = "cpu", sample_unit = "nanoseconds" }
local cpu_events = M.profile_type {
  sample_type = "samples", sample_unit = "count", period_type = "cpu", period_unit = "nanoseconds",
}

--- Selector: every CPU profile, each counted once. cpu/nanoseconds values
-- (Go, async-profiler, JFR, Rust, .NET), and samples/count with a
-- cpu/nanoseconds period (the OpenTelemetry eBPF profiler, .NET) unless the
-- same samples also come as cpu/nanoseconds (a Go pprof file holds both).
function M.cpu_profiles(p)
  if cpu_values(p) then return true end
  return cpu_events(p) and not p:has_sibling { sample_type = "cpu", sample_unit = "nanoseconds" }
end
pure[M.cpu_profiles] = true

--- Selector: allocation profiles: Go and the eBPF profiler's alloc_space,
-- .NET alloc-size, Java (JFR) alloc_in_new_tlab_bytes and
-- alloc_outside_tlab_bytes.
M.allocation_profiles = M.profile_type {
  sample_type = { "alloc_space", "alloc-size", "alloc_in_new_tlab_bytes", "alloc_outside_tlab_bytes" },
  sample_unit = { "bytes", "By" },
}

--- Value for allocation profiles: bytes, and "cumulative" for a Go heap
-- profile from runtime/pprof (duration 0: totals since the process
-- started), whose counters are set to the readings rather than added to.
function M.allocated_bytes(p)
  if p.sample_unit ~= "bytes" and p.sample_unit ~= "By" then return nil end
  if p.sample_type == "alloc_space" and p.duration == 0 then return 1, "cumulative" end
  return 1
end
pure[M.allocated_bytes] = true

-- ------------------------------------------------------------------ values

local time_units = {
  nanoseconds = 1e-9, ns = 1e-9, microseconds = 1e-6, us = 1e-6,
  milliseconds = 1e-3, ms = 1e-3, seconds = 1, s = 1,
}

--- Value: seconds. A time-valued sample type (nanoseconds, microseconds,
-- milliseconds, seconds) counts its values; a count with a time period
-- (e.g. samples/count every 10ms of cpu) counts events x period.
function M.seconds(p)
  local unit = time_units[p.sample_unit]
  if unit then return unit end
  local period_unit = time_units[p.period_unit]
  if p.sample_unit == "count" and period_unit and p.period > 0 then
    return p.period * period_unit
  end
  return nil
end

--- Value: bytes, from a sample type whose unit is bytes.
function M.bytes(p)
  if p.sample_unit == "bytes" or p.sample_unit == "By" then return 1 end
  return nil
end

--- Value: the samples' weight as it is (events, objects, ...).
function M.count(p)
  return 1
end
pure[M.seconds], pure[M.bytes], pure[M.count] = true, true, true

--- Value: what value returns (a built-in value or a function(profile)),
-- its scale times factor: for a unit (ptm.scale(ptm.seconds, 1000) gives
-- milliseconds). nil stays nil; a second result ("cumulative") is kept.
function M.scale(value, factor)
  check(type(value) == "function", 2, "ptm.scale takes a value (ptm.seconds, ... or a function(profile)) and a number")
  check(type(factor) == "number" and factor == factor, 2, "ptm.scale: the factor must be a number")
  local scaled = function(p)
    local s, how = value(p)
    if type(s) ~= "number" then return s, how end -- nil skips; others are the runtime's to refuse
    return s * factor, how
  end
  if pure[value] then pure[scaled] = true end
  return scaled
end

-- ----------------------------------------------------------------- filters

--- Keep samples whose attribute key (on the sample, else its profile, scope
-- or resource) matches pattern (a regex string, a ptm.regex, or a function
-- of the value returning a boolean). A missing attribute does not match.
function M.attribute_matches(key, pattern)
  check(type(key) == "string", 2, "ptm.attribute_matches: the key must be a string")
  local test = tester(pattern, "ptm.attribute_matches", 2)
  return spec { filter = "attribute", key = key, test = function(v) return v ~= nil and test(v) == true end }
end

--- Keep samples that have at least one attribute (on the sample, its
-- profile, scope or resource) whose value matches pattern.
function M.any_attribute_matches(pattern)
  local test = tester(pattern, "ptm.any_attribute_matches", 2)
  return spec { filter = "any_attribute", test = function(v) return v ~= nil and test(v) == true end }
end

--- Keep samples with a function anywhere on the stack whose name matches
-- pattern (or for which a function of the name returns true).
function M.any_function_matches(pattern)
  local test = tester(pattern, "ptm.any_function_matches", 2)
  return spec { filter = "any_function", test = function(v) return test(v) == true end }
end

--- Keep samples whose leaf function's name matches pattern.
function M.leaf_function_matches(pattern)
  local test = tester(pattern, "ptm.leaf_function_matches", 2)
  return spec { filter = "leaf_function", test = function(v) return test(v) == true end }
end

--- Keep samples for which any attribute value or any function name on the
-- stack matches pattern (the connector's pattern_filter).
function M.anything_matches(pattern)
  local test = tester(pattern, "ptm.anything_matches", 2)
  return spec { filter = "anything", test = function(v) return v ~= nil and test(v) == true end }
end

--- Keep samples for which fn(stack) returns true; fn runs once per distinct
-- stack of a request. The stack view is valid only during the call.
function M.stack(fn)
  check(type(fn) == "function", 2, "ptm.stack takes a function(stack)")
  return spec { filter = "stack", test = fn }
end

--- Keep samples whose attribute key passes fn(value); fn runs once per
-- distinct value (nil when the sample has none).
function M.attribute(key, fn)
  check(type(key) == "string", 2, "ptm.attribute: the key must be a string")
  check(type(fn) == "function", 2, "ptm.attribute takes a key and a function(value)")
  return spec { filter = "attribute", key = key, test = fn }
end

-- Filters that keep a sample when any of several values passes their test:
-- their opposite is "none passes", so NOT flips the verdict, not the test.
local any_kinds = { any_function = true, any_attribute = true, anything = true }

--- The opposite of a filter.
function M.NOT(filter)
  check(made[filter] and filter.filter, 2, "ptm.NOT takes a filter made by ptm")
  local copy = {}
  for k, v in pairs(made[filter]) do copy[k] = v end
  if any_kinds[filter.filter] then
    copy.negate = not filter.negate
  else
    local inner = filter.test
    copy.test = function(v) return not inner(v) end
  end
  return spec(copy)
end

-- -------------------------------------------------------------- attributes

--- Attribute source: the value of attribute key (sample, else profile,
-- scope, resource), under another name.
function M.attribute_value(key)
  check(type(key) == "string", 2, "ptm.attribute_value: the key must be a string")
  return spec { source = "attribute", key = key }
end

--- Attribute source: what pattern captures (group 1, or the whole match)
-- in the value of attribute key; nothing when it does not match.
function M.capture(key, pattern)
  check(type(key) == "string", 2, "ptm.capture: the key must be a string")
  local ok, re = pcall(regex.of, pattern)
  check(ok, 2, "ptm.capture: %s", tostring(re))
  return spec { source = "attribute", key = key, transform = function(v) return re:match(v) end }
end

--- Attribute source: fn(value) of attribute key, once per distinct value;
-- fn returns a string, number or boolean, or nil for none.
function M.from_attribute(key, fn)
  check(type(key) == "string", 2, "ptm.from_attribute: the key must be a string")
  check(type(fn) == "function", 2, "ptm.from_attribute takes a key and a function(value)")
  return spec { source = "attribute", key = key, transform = fn }
end

--- Attribute source: the first string of the request's string table that
-- pattern matches (its capture group 1, or the whole match).
function M.string_table_match(pattern)
  local ok, re = pcall(regex.of, pattern)
  check(ok, 2, "ptm.string_table_match: %s", tostring(re))
  return spec { source = "string_table", regex = re }
end

--- Attribute source: the request's string table entry at index i.
function M.string_table_index(i)
  check(type(i) == "number" and i >= 0 and i == math.floor(i), 2,
        "ptm.string_table_index takes an index >= 0")
  return spec { source = "string_table_index", index = i }
end

--- Attribute source: the leaf frame's function (the innermost inlined one).
M.leaf_function = spec { source = "leaf_function" }

--- Attribute source: every distinct function on the stack, each getting the
-- sample's whole value (inclusive, "cum" in pprof terms; recursion counts
-- once). At most one per metric.
M.each_function = spec { source = "each_function" }

--- Attribute source: fn(stack), once per distinct stack.
function M.from_stack(fn)
  check(type(fn) == "function", 2, "ptm.from_stack takes a function(stack)")
  return spec { source = "stack", fn = fn }
end

-- ----------------------------------------------------------------- metrics

local kinds = { counter = 0, gauge = 1, histogram = 2 }
local metric_fields = {
  name = "string", description = "string", unit = "string", kind = "string",
  profiles = true, value = "function", keep = true, attributes = "table",
  buckets = "table", series_limit = "number", top = "number", integer = "boolean",
  observe = "string",
}

--- Declare a metric (only while the rule file loads). Fields:
--   name         the metric's name (required)
--   description  text
--   unit         UCUM unit: "s", "By", "1", ...
--   kind         "counter" (default), "gauge" or "histogram"
--   profiles     which profiles it reads: a selector (ptm.profile_type{...} or
--                a function(profile) -> boolean), or a list of them (any)
--   value        a value: ptm.seconds, ptm.bytes, ptm.count, or a
--                function(profile) -> scale [, "cumulative"]; a sample adds
--                weight x scale. nil skips the profile. "cumulative" means
--                the profile holds running totals (Go heap profiles): the
--                counter is set to them, not added to.
--   keep         a filter or a list of filters (all must keep the sample)
--   attributes   { "key", ..., name = source, ... }
--   buckets      histogram bounds, strictly increasing
--   observe      histogram: "sample" (each sample's value, default) or
--                "event" (each event of a sample)
--   top          keep the N largest series of each profile; the rest go
--                to one series marked otel.metric.overflow=true
--   series_limit the most series the metric may hold
--   integer      encode values as integers (e.g. bytes)
function M.metric(t)
  local rule = core.loading
  check(rule ~= nil, 2, "ptm.metric can only be called while a rule file loads")
  check(type(t) == "table", 2, "ptm.metric takes a table")
  for k, v in pairs(t) do
    local want = metric_fields[k]
    check(want ~= nil, 2, "ptm.metric: unknown field '%s'", tostring(k))
    check(want == true or type(v) == want, 2, "ptm.metric: field '%s' must be a %s, got %s", k, tostring(want), type(v))
  end
  check(type(t.name) == "string" and t.name ~= "", 2, "ptm.metric: a name is required")
  check(t.kind == nil or kinds[t.kind], 2, "ptm.metric %s: kind must be counter, gauge or histogram", t.name)
  check(t.profiles ~= nil, 2, "ptm.metric %s: 'profiles' is required (which profiles it reads)", t.name)
  check(t.value ~= nil, 2, "ptm.metric %s: 'value' is required (ptm.seconds, ptm.bytes, ptm.count or a function)", t.name)
  check(t.observe == nil or t.observe == "sample" or t.observe == "event", 2,
        "ptm.metric %s: observe must be \"sample\" or \"event\"", t.name)
  local info = debug.getinfo(2, "Sl")
  -- A copy: what was checked here is what compiles, whatever the rule does
  -- to its table afterwards.
  local def = {}
  for k, v in pairs(t) do def[k] = v end
  rule.metrics[#rule.metrics + 1] = {
    def = def,
    kind = t.kind or "counter",
    kind_code = kinds[t.kind or "counter"],
    where = info and (info.short_src .. ":" .. (info.currentline or 0)) or rule.file,
  }
end

--- The connector settings (read-only): metrics.cpu.enabled, ... See
-- docs/configuration.md.
M.config = nil -- set per rule by the runtime

return M
