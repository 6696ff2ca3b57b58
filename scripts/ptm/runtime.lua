-- SPDX-License-Identifier: Apache-2.0
--
-- The trusted runtime: loads rule files into their sandboxes, compiles their
-- metrics into plans, and converts a decoded model. C enters here once per
-- request (run); the loop over profiles, and each plan's loop over samples,
-- run here over FFI views of the model. A rule that fails is reported with
-- its file and line, counted, and skipped for that profile; the other rules
-- and the data go on.
local ffi = require "ptm.ffi"
local core = require "ptm.core"
local api = require "ptm.api"
local model = require "ptm.model"
local plans_mod = require "ptm.plan"
local sandbox = require "ptm.sandbox"
local scratch = require "ptm.scratch"
local settings_mod = require "ptm.settings"
local views = require "ptm.views"

local M = {}

local plans = {}        -- every compiled plan, in load order
local rules = {}        -- name -> { name, file, metrics = n, errors = n }
local rule_order = {}
local messages = {}     -- recent error messages (bounded)
local MAX_MESSAGES = 64
local log_fn = function(_, text) io.stderr:write(text, "\n") end

-- From the host (engine/lua/runtime.c): the error handler of protected
-- calls, which also ends a time-limited section (debug.traceback without
-- the host), and the memory limit, for messages.
local handler = debug.traceback
local memory_limit

-- Time-limited sections (engine/lua/budget.h): a rule file loading, one
-- metric converting one profile. Started and ended inside the protected
-- call, so that the limit's error is only ever raised within it.
local LOAD, PROFILE = 0, 1
local function section_start(kind)
  if core.budget then core.api.budget_start(core.budget, kind) end
end
local function section_stop()
  if core.budget then core.api.budget_stop(core.budget) end
end

-- A memory error names the limit, so the reader knows what to raise.
local function explain(text)
  if memory_limit and text:find("not enough memory", 1, true) then
    return text .. string.format(" (the rules share a Lua state capped at %g MiB: lua_memory_limit)",
                                 memory_limit / 1048576)
  end
  return text
end

local function note_error(rule, text)
  rule.errors = rule.errors + 1
  if #messages >= MAX_MESSAGES then table.remove(messages, 1) end
  messages[#messages + 1] = "rule " .. rule.name .. ": " .. text
  log_fn(rule.name, "error: " .. text)
end

--- Set up: the C function table and store (light userdata), the settings
-- (a plain table), where log lines go (a function(rule, text)), and what
-- the host gives besides: { traceback, check_c_call, over_time, budget,
-- memory_limit } (engine/lua/runtime.c, push_host).
function M.init(api_ptr, store_ptr, settings, log, host)
  core.api = ffi.cast("const struct ptm_ffi_api *", api_ptr)
  core.store = ffi.cast("struct ptm_store *", store_ptr)
  core.settings = settings or {}
  if log then log_fn = log end
  if host then
    handler = host.traceback
    core.budget = ffi.cast("struct ptm_budget *", host.budget)
    memory_limit = host.memory_limit
    sandbox.install(host)
  end
end

-- A rule's own copy of the API table (a rule that writes into it changes
-- nobody else's), with the settings attached read-only.
local function api_for_rule()
  local t = {}
  for k, v in pairs(api) do
    if k:sub(1, 1) ~= "_" then t[k] = v end
  end
  t.config = settings_mod.readonly(core.settings)
  t.configured_filters = settings_mod.configured_filters
  t.configured_attributes = settings_mod.configured_attributes
  return t
end

--- Load one rule file: source text, chunk name ("@path" or "=name") and a
-- display name. Returns true, or false and a message naming file and line.
function M.load_rule(source, chunkname, name)
  if rules[name] then
    return false, "a rule named " .. name .. " is already loaded"
  end
  local rule = { name = name, file = chunkname:gsub("^[@=]", ""), metrics = {}, errors = 0 }
  local env = sandbox.env(name, api_for_rule(), log_fn)
  local chunk, err = load(source, chunkname, "t", env)
  if not chunk then
    -- a syntax error names file:line already; a refused binary chunk does not
    if not err:find(rule.file, 1, true) then err = rule.file .. ": " .. err end
    return false, err
  end
  -- Rule code runs in the interpreter, where the time limit's hook sees
  -- every loop: a compiled trace never reaches a hook. The chunk and every
  -- function it defines (true: recursively) are never compiled; the
  -- runtime's own loops are.
  jit.off(chunk, true)
  core.loading = rule
  local ok, compiled, msg = xpcall(M.run_rule_file, handler, chunk, rule)
  core.loading = nil
  if not ok then
    msg = type(compiled) == "string" and compiled or tostring(compiled)
    if msg:find("not enough memory", 1, true) then
      collectgarbage() -- a memory error leaves the rule's garbage behind
    end
    msg = explain(msg)
    if not msg:find(rule.file, 1, true) then msg = rule.file .. ": " .. msg end
    return false, msg
  end
  if not compiled then return false, msg end
  for _, plan in ipairs(compiled) do plans[#plans + 1] = plan end
  rule.metric_count = #compiled
  rules[name] = rule
  rule_order[#rule_order + 1] = name
  return true
end

--- Run a rule file's chunk and compile the metrics it declares, within the
-- time limit of a load. Returns the plans, or nil and a message.
function M.run_rule_file(chunk, rule)
  section_start(LOAD)
  chunk()
  if #rule.metrics == 0 then
    section_stop()
    return nil, rule.file .. ": declares no metric (call ptm.metric{...})"
  end
  local compiled = {}
  for _, entry in ipairs(rule.metrics) do
    local ok, plan = pcall(plans_mod.compile, entry, rule)
    if not ok then
      section_stop()
      return nil, plan
    end
    compiled[#compiled + 1] = plan
  end
  section_stop()
  return compiled
end

--- Per-rule counts and the recent error messages.
function M.stats()
  local out = { rules = {}, messages = messages }
  for _, name in ipairs(rule_order) do
    local r = rules[name]
    out.rules[#out.rules + 1] = { name = name, file = r.file, metrics = r.metric_count, errors = r.errors }
  end
  return out
end

--- The names of the metrics the loaded rules declare, in load order.
function M.metric_names()
  local t = {}
  for _, p in ipairs(plans) do t[#t + 1] = p.name end
  return t
end

-- ------------------------------------------------------------ store values

local value_ids = scratch.cache() -- Lua value -> store value id, per run (bounded)

local function store_string(s)
  return core.api.intern(core.store, s, #s)
end

-- A Lua value as a store value id; nil for nil.
local function store_value(v)
  if v == nil then return nil end
  local id = value_ids.t[v]
  if id then return id end
  local t = type(v)
  if t == "string" then
    id = core.api.value(core.store, 0, store_string(v), 0, 0)
  elseif t == "boolean" then
    id = core.api.value(core.store, 3, 0, v and 1 or 0, 0)
  elseif t == "number" then
    if v == math.floor(v) and v > -2^53 and v < 2^53 then
      id = core.api.value(core.store, 1, 0, v, 0)
    else
      id = core.api.value(core.store, 2, 0, 0, v)
    end
  else
    id = core.api.value(core.store, 0, store_string(tostring(v)), 0, 0)
  end
  if v == v then scratch.put(value_ids, v, id) end -- NaN (a double value) cannot be a key
  return id
end

-- ------------------------------------------------------------- per request

local pairs_buf = ffi.new("uint32_t[?]", 64)
local mark_gen = 0

-- Arrays sized by the request, valid for the run (see ptm.scratch).
local function u8(n) return scratch.array("uint8_t", n + 1) end
local function u32(n) return scratch.array("uint32_t", n + 1) end

-- What every plan that reads a profile shares, worked out in C once per
-- profile on first use (engine/lua/samples.h): the samples' weights W,
-- stacks STACK and a column per attribute key rules read (each sample's
-- attribute index of that key) in one pass, and the weights summed by
-- stack. D holds a plan's key per sample, KEYS and SUMS a plan's sums, LIST
-- attribute indices. The buffers grow to the largest request seen and are
-- kept. C writes into them, so they are replaced before their sizes are
-- recorded: an allocation that fails (the memory cap) must not leave a size
-- larger than a buffer behind.
local B = { samples = 0, stacks = 0, columns = 0, dense = 0 }

-- A buffer of B: n + 1 elements from the C heap (outside the rules' capped
-- Lua heap), freed when B lets go of it.
local function kept(ctype, n) return scratch.kept_array(ctype, n + 1) end

local function reserve_buffers(m)
  local samples, dense = 0, math.max(m.attributes.len, m.stacks.len + 1, model.name_count())
  for pi = 0, m.profiles.len - 1 do samples = math.max(samples, m.profiles.data[pi].samples.len) end
  local columns = model.column_count()
  -- Column c starts at (c - 1) * B.samples: both dimensions must fit.
  if not B.W or samples > B.samples or columns > B.columns then
    samples, columns = math.max(samples, B.samples), math.max(columns, B.columns)
    local W, STACK, D = kept("double", samples), kept("uint32_t", samples), kept("uint32_t", samples)
    local ZERO = kept("uint32_t", samples) -- the column of a key no sample has
    local COLUMNS = kept("uint32_t", samples * columns)
    B.W, B.STACK, B.D, B.ZERO, B.COLUMNS = W, STACK, D, ZERO, COLUMNS
    B.samples, B.columns = samples, columns
  end
  if not B.STACK_SUM or m.stacks.len + 1 > B.stacks then
    local stacks = m.stacks.len + 1
    local SUM, MARK, STACKS = kept("double", stacks), kept("uint32_t", stacks), kept("uint32_t", stacks)
    B.STACK_SUM, B.STACK_MARK, B.STACKS = SUM, MARK, STACKS
    B.stacks = stacks
  end
  if not B.KEYS or dense > B.dense then
    local KEYS, SUMS = kept("uint32_t", dense), kept("double", dense)
    local LIST, LIST_MARK = kept("uint32_t", dense), kept("uint32_t", dense)
    B.KEYS, B.SUMS, B.LIST, B.LIST_MARK = KEYS, SUMS, LIST, LIST_MARK
    B.dense = dense
  end
end

-- The start of column c (1-based) in B.COLUMNS.
local function column(c)
  return B.COLUMNS + (c - 1) * B.samples
end

local function profile_samples(run, prof)
  if not prof.read then
    core.api.samples_read(run.m, prof.pi, B.W, B.STACK, model.sample_columns(B.samples, B.COLUMNS))
    prof.read = true
  end
end

-- Sum the profile's weights by keys (a key per sample; 0xffffffff: not
-- counted) into sum[key]; returns how many keys, listed in touched in the
-- order first reached.
local function sum_by(prof, keys, sum, mark, touched)
  mark_gen = mark_gen + 1
  return core.api.samples_sum_by(keys, B.W, prof.p.samples.len, sum, mark, mark_gen, touched)
end

-- The profile's stacks (in the order of their first sample), how many, and
-- their weights (indexed by stack).
local function profile_stacks(prof)
  if not prof.stack_count then
    prof.stack_count = sum_by(prof, B.STACK, B.STACK_SUM, B.STACK_MARK, B.STACKS)
  end
  return B.STACKS, prof.stack_count, B.STACK_SUM
end

-- Verdict caches hold 0 (not asked yet), 1 (yes) or 2 (no).
local function verdict(b) return b and 1 or 2 end

-- Whether any attribute of each sample of the profile passes any-filter i
-- of the plan (X.AY[i]): the attributes not decided yet are decided first,
-- each once.
local function any_attribute(X, i, run, prof)
  local AV, LIST = X.AV[i], B.LIST
  mark_gen = mark_gen + 1
  local n = core.api.samples_undecided(run.m, prof.pi, AV, B.LIST_MARK, mark_gen, LIST)
  for t = 0, n - 1 do X.aeval[i](LIST[t]) end
  core.api.samples_any(run.m, prof.pi, AV, X.AY[i])
end

-- The sets of sample attributes (engine/lua/sample_sets.h) of a plan whose
-- sample key is a set (see plan.variant): per part present, its column and
-- a map of attribute index to the part's store value id + 1 (0: none),
-- filled for the attributes of each profile on first use. The interner is
-- the plan's (plan.sets), kept across runs; the set of each sample goes to
-- IDS.
local function sample_sets(plan, variant, nattr)
  if not plan.sets then
    local p = core.api.sets_create()
    if p == nil then error("not enough memory for the sets of sample attributes", 0) end
    plan.sets = ffi.gc(p, core.api.sets_destroy)
  end
  local k = #variant.parts
  local s = {
    interner = plan.sets, k = k, IDS = u32(B.samples),
    COLS = ffi.new("const uint32_t *[?]", k), MAPS = ffi.new("const uint32_t *[?]", k), VALUE = {}, SEEN = {},
  }
  for q, part in ipairs(variant.parts) do
    s.COLS[q - 1] = column(model.column(plan.sample_keys[part]))
    s.VALUE[q], s.SEEN[q] = u32(nattr), u8(nattr)
    s.MAPS[q - 1] = s.VALUE[q]
    s.SEEN[q][0] = 1 -- index 0, no such attribute: the profile's value, set per profile
  end
  return s
end

-- Each sample's set, for profile prof (ctx: its values): the values of the
-- attributes first met in this profile are worked out first, each once.
local function intern_sets(X, ctx, prof)
  local s, n, LIST = X.sets, prof.p.samples.len, B.LIST
  for q, part in ipairs(X.variant.parts) do
    local VALUE = s.VALUE[q]
    for t = 0, core.api.samples_unseen(s.COLS[q - 1], n, s.SEEN[q], LIST) - 1 do
      local v = ctx.part_value(part, LIST[t])
      VALUE[LIST[t]] = v and v + 1 or 0
    end
    local v = ctx.fallback[part]
    VALUE[0] = v and v + 1 or 0
  end
  if core.api.sets_intern(s.interner, s.COLS, s.MAPS, s.k, n, s.IDS) == 0xffffffff then
    error("not enough memory for the sets of sample attributes", 0)
  end
end

-- The store value id of sample part k (of a plan) for a sample key s (see
-- plan.variant): from an attribute index, the value of the sample's
-- attribute, else the profile's value of the key (when the sample has no
-- attribute of the key, or the request has none); from a set, its value.
-- nil for none.
local function sample_value(X, ctx, s, k)
  local q = X.variant.position[k]
  if q and X.sets then
    local v = core.api.sets_tuple(X.sets.interner, s)[q - 1]
    return v ~= 0 and v - 1 or nil
  end
  local idx = q and s or 0
  if idx == 0 then return ctx.fallback[k] end
  return ctx.part_value(k, idx)
end

-- Build a plan's per-request context: the arrays its loop reads and writes,
-- and the functions that fill its caches on first use.
local function plan_context(plan, m)
  local present = {}
  for k = 1, #plan.sample do present[k] = model.key_present(plan.sample_keys[k]) end
  local variant = plans_mod.variant(plan, present)
  local X = {
    variant = variant,
    STACK = B.STACK, D = B.D,
    CF = {}, FV = {}, feval = {}, AV = {}, aeval = {}, AY = {}, SA = {}, saeval = {},
  }
  local nattr, nstack = m.attributes.len, m.stacks.len
  X.nattr, X.nstack = nattr, nstack
  if #plan.stack_filters > 0 then
    local STK = u8(nstack)
    X.STK = STK
    X.stack_eval = function(st)
      local keep = true
      for _, f in ipairs(plan.stack_filters) do
        if not views.stack_filter(f, st) then keep = false break end
      end
      local v = verdict(keep)
      STK[st] = v
      return v
    end
  end
  -- the sample key: the column of the one key the present parts read, or
  -- the sets of several
  if variant.sample_key == "attribute" then
    X.SKEY = column(model.column(variant.keys[1]))
  elseif variant.sample_key == "set" then
    X.sets = sample_sets(plan, variant, nattr)
    X.SKEY = X.sets.IDS
  end
  -- the attribute keys that vary between a dense plan's series
  X.PART_KEYS = ffi.new("uint32_t[?]", math.max(#variant.parts, 1))
  for j, k in ipairs(variant.parts) do X.PART_KEYS[j - 1] = plan.name_ids[plan.sample[k].name] end
  if not variant.sample_key and plan.stack_part then X.PART_KEYS[0] = plan.name_ids[plan.stack_part.name] end
  for i, f in ipairs(plan.attr_filters) do
    local c = model.column(plan.attr_filter_keys[i])
    X.CF[i] = c and column(c) or B.ZERO
    local FV = u8(nattr)
    X.FV[i] = FV
    X.feval[i] = function(idx)
      local v = verdict(f.test(model.attr_value(idx)))
      FV[idx] = v
      return v
    end
  end
  for i, f in ipairs(plan.any_filters) do
    local AV, SA = u8(nattr), u8(nstack)
    X.AV[i], X.SA[i], X.AY[i] = AV, SA, u8(B.samples)
    X.aeval[i] = function(idx)
      local v = verdict(f.test(model.attr_value(idx)))
      AV[idx] = v
      return v
    end
    X.saeval[i] = function(st)
      local v = 2
      if f.filter == "anything" then v = verdict(views.any_function(st, f.test)) end
      SA[st] = v
      return v
    end
  end
  local sp = plan.stack_part
  if sp and sp.kind == "leaf_function" then
    X.LEAF = model.leaf_array()
  elseif sp and sp.kind == "stack" then
    local SPART = u32(nstack)
    local ids, values = {}, {}
    X.SPART = SPART
    X.stack_part = function(st)
      local v = views.call_with_stack(sp.fn, st)
      local id = 0
      if v ~= nil then
        id = ids[v]
        if not id then
          values[#values + 1] = v
          id = #values
          ids[v] = id
        end
      end
      SPART[st] = id + 1
      return id
    end
    X.stack_values = values
  end
  if variant.mode == "dense" and not variant.by_stack then
    -- summed by C (sum_by), then read by key
    local size = variant.sample_key == "attribute" and nattr or variant.sample_key == "set" and B.samples
      or nstack + 1
    X.ACC = scratch.array("double", size + 1)
    X.MARK = u32(size)
    X.TOUCHED = u32(size)
  elseif variant.mode == "hash" then
    plan.agg = plan.agg or ffi.gc(core.api.agg_create(), core.api.agg_destroy)
    X.agg, X.agg_add = plan.agg, core.api.agg_add
    if sp and sp.kind == "each_function" then
      plan.agg2 = plan.agg2 or ffi.gc(core.api.agg_create(), core.api.agg_destroy)
      X.agg2 = plan.agg2
    end
  end
  return X
end

-- ------------------------------------------------------------- profiles

-- The attributes a profile's samples fall back to (its own, its scope's,
-- its resource's), made once per profile on first use and shared by every
-- plan; rules get them only in copies (own_view).
local function profile_attributes(prof)
  local attrs = prof.attrs
  if not attrs then
    attrs = model.profile_attributes(prof.p)
    prof.attrs = attrs
  end
  return attrs
end

-- What a profile offers selectors and value functions (has_sibling is
-- added to each plan's copy). attrs: the profile's attributes, when made.
local function profile_view(m, pi, attrs)
  local p = m.profiles.data[pi]
  local b = m.batches.data[p.batch]
  local formats = { [1] = "otlp", [2] = "otlp-json", [3] = "otlp", [4] = "pprof" }
  local pv = {
    sample_type = model.string(p.sample_type.type),
    sample_unit = model.string(p.sample_type.unit),
    period_type = model.string(p.period_type.type),
    period_unit = model.string(p.period_type.unit),
    period = tonumber(p.period),
    samples = p.samples.len,
    time = tonumber(p.time_unix_nano) / 1e9,
    duration = tonumber(p.duration_nano) / 1e9,
    time_unix_nano = (tostring(p.time_unix_nano):gsub("ULL$", "")),
    duration_nano = (tostring(p.duration_nano):gsub("ULL$", "")),
    format = formats[b.format] or "unknown",
    attributes = attrs or model.profile_attributes(p),
    resource = model.resource_attributes(p.resource),
    scope = { name = model.str(m.scopes.data[p.scope].name), version = model.str(m.scopes.data[p.scope].version) },
  }
  return pv
end

--- The has_sibling method of a profile view: true when another profile of
-- the same data (same scope, time and samples) has the given types (a
-- pprof file's other sample types, or a pprof converted to OTLP profile by
-- profile). It reads the model, so a view kept past its call (the model may
-- be freed or reused by then) refuses instead.
local function has_sibling_method(m, pi, siblings)
  local gen = views.generation() -- as of the plan's call
  return function(_, t)
    views.check_live(gen, "profile view", 2)
    local group = siblings[pi]
    if not group then return false end
    local test = api.profile_type(t)
    -- t may run a rule's code (a key's __tostring) that yields, in a
    -- coroutine resumed in a later request, when m is another request's
    views.check_live(gen, "profile view", 2)
    for _, other in ipairs(group) do
      if other ~= pi and test(profile_view(m, other)) then return true end
    end
    return false
  end
end

-- A copy of a profile view (its tables too) for one plan's callbacks.
local function view_copy(pv)
  local c = {}
  for k, v in pairs(pv) do
    if type(v) == "table" then
      local t = {}
      for k2, v2 in pairs(v) do t[k2] = v2 end
      v = t
    end
    c[k] = v
  end
  return c
end

-- The view a plan's own selector and value functions get: a copy of the
-- profile's view, with a has_sibling of its own.
local function own_view(run, prof)
  prof.pv = prof.pv or profile_view(run.m, prof.pi, profile_attributes(prof))
  local mine = view_copy(prof.pv)
  mine.has_sibling = has_sibling_method(run.m, prof.pi, run.siblings)
  return mine
end

-- The selectors and values of ptm's own that read only a profile's type
-- (api._pure) get this one table, filled for the profile at hand: no copy
-- of the whole view per metric, no closure. They are trusted code, called
-- synchronously: no view check is needed, and has_sibling needs no
-- profile type compiled for a profile that has no sibling.
local type_view = {}
local type_of = { run = nil, pi = -1 } -- whose type type_view holds

local function type_has_sibling(_, t)
  local run, pi = type_of.run, type_of.pi
  local group = run.siblings[pi]
  if not group or #group < 2 then return false end
  local test = api.profile_type(t)
  for _, other in ipairs(group) do
    if other ~= pi and test(profile_view(run.m, other)) then return true end
  end
  return false
end

setmetatable(type_view, { __index = function(_, k)
  error("internal error: a selector or value of ptm's own read the profile's " .. tostring(k), 2)
end })

local function profile_type_view(run, prof)
  if type_of.run ~= run or type_of.pi ~= prof.pi then
    local p = prof.p
    type_view.sample_type = model.string(p.sample_type.type)
    type_view.sample_unit = model.string(p.sample_type.unit)
    type_view.period_type = model.string(p.period_type.type)
    type_view.period_unit = model.string(p.period_type.unit)
    type_view.period = tonumber(p.period)
    type_view.duration = tonumber(p.duration_nano) / 1e9
    type_view.has_sibling = type_has_sibling
    type_of.run, type_of.pi = run, prof.pi
  end
  return type_view
end

-- Profiles that hold the same data: same scope, time, duration and sample
-- count, or the very same samples.
local function find_siblings(m)
  local groups, by_profile = {}, {}
  for pi = 0, m.profiles.len - 1 do
    local p = m.profiles.data[pi]
    local key = table.concat({ p.scope, tostring(p.time_unix_nano), tostring(p.duration_nano), p.samples.len }, ":")
    local g = groups[key]
    if not g then g = {}; groups[key] = g end
    g[#g + 1] = pi
    by_profile[pi] = g
  end
  return by_profile
end

-- The output resource of a model resource: its attributes, interned (in
-- C, engine/lua/emit.c, unless one is bytes, an array, a map or a large
-- integer, whose text is made here).
local function resource_id(m, r, cache)
  local id = cache[r]
  if id then return id end
  id = core.api.model_resource(core.store, m, r)
  if id ~= 0xfffffffe then
    cache[r] = id
    return id
  end
  local res = m.resources.data[r]
  local n = 0
  local buf = ffi.new("uint32_t[?]", 2 * res.attributes.len + 2)
  for i = 0, res.attributes.len - 1 do
    local kv = m.keyvalues.data[res.attributes.off + i]
    local v = store_value(model.any_value(kv.value))
    if v then
      buf[2 * n] = store_string(model.str(kv.key))
      buf[2 * n + 1] = v
      n = n + 1
    end
  end
  local set = core.api.attributes(core.store, buf, n)
  id = core.api.resource(core.store, set, store_string(model.str(res.schema_url)))
  cache[r] = id
  return id
end

-- ---------------------------------------------------------------- flush

local overflow_set = nil

local function ensure_pairs(n)
  if n * 2 > 64 then return ffi.new("uint32_t[?]", n * 2) end
  return pairs_buf
end

-- The attribute set of one accumulated entry: the profile's constants, the
-- sample parts (from the sample key s: attribute indices, 0 = the profile's
-- fallback value) and the stack part (a name id, or a from_stack value id).
local function entry_attributes(plan, ctx, X, s, part)
  local n = 0
  local buf = ensure_pairs(#plan.const + #plan.sample + 1)
  local consts = ctx.consts
  for i = 1, ctx.nconsts do
    buf[2 * n], buf[2 * n + 1] = consts[2 * i - 1], consts[2 * i]
    n = n + 1
  end
  for k, sp in ipairs(plan.sample) do
    local v = sample_value(X, ctx, s, k)
    if v then
      buf[2 * n], buf[2 * n + 1] = plan.name_ids[sp.name], v
      n = n + 1
    end
  end
  if plan.stack_part then
    local v = ctx.stack_value(part)
    if v then
      buf[2 * n], buf[2 * n + 1] = plan.name_ids[plan.stack_part.name], v
      n = n + 1
    end
  end
  return core.api.attributes(core.store, buf, n)
end

-- Hand one series' value to the store.
local function emit(plan, ctx, set, sum)
  local value = sum * ctx.scale
  local rc
  if plan.kind == "counter" and ctx.cumulative then
    rc = core.api.set_cumulative(core.store, plan.id, ctx.resource, set, value, ctx.start, ctx.stop)
  else
    rc = core.api.add(core.store, plan.id, ctx.resource, set, value, ctx.start, ctx.stop)
  end
  if rc ~= 0 then
    error(string.format("metric %s: the store refused the value %.17g (a counter cannot go down)", plan.name, value), 0)
  end
end

-- A plan's accumulated entries for one profile, in parallel arrays:
-- SUM[i], the sample key S[i] (an attribute index or a set id: see
-- sample_value) and PART[i] (the stack part: a name id, a stack index or a
-- from_stack value id).
local E = { n = 0, cap = 0 } -- its arrays are the run's (ptm.scratch)

local function entries_reserve(n)
  if n <= E.cap then return end
  local cap = math.max(n, 2 * E.cap, 1024)
  local function grow(old, ctype)
    local new = scratch.array(ctype, cap)
    if old then ffi.copy(new, old, E.n * ffi.sizeof(ctype)) end
    return new
  end
  E.SUM = grow(E.SUM, "double")
  E.S = grow(E.S, "uint32_t")
  E.PART = grow(E.PART, "uint32_t")
  E.cap = cap
end

local function entries_from_agg(agg)
  local n = core.api.agg_len(agg)
  local e = core.api.agg_entries(agg)
  entries_reserve(n)
  local SUM, S, PART = E.SUM, E.S, E.PART
  for i = 0, n - 1 do
    local k = e[i].key
    S[i], PART[i], SUM[i] = k[0], k[1], e[i].sum
  end
  E.n = n
end

-- A dense plan's sums for one profile, as keys[0..n) and sums[0..n) (in
-- B.KEYS and B.SUMS): by function (a name id) for a leaf or each-function
-- part, from the sums by stack; else by attribute index or from_stack
-- value, in the order first reached.
local function dense_sums(plan, X, prof)
  local KEYS, SUMS = B.KEYS, B.SUMS
  local variant = X.variant
  local sp = plan.stack_part and plan.stack_part.kind
  local by_function = sp == "leaf_function" or sp == "each_function"
  local stacks, n, weight, verdicts
  if variant.by_stack then
    stacks, n, weight = profile_stacks(prof)
    if X.STK then
      local STK, stack_eval = X.STK, X.stack_eval
      for t = 0, n - 1 do
        if STK[stacks[t]] == 0 then stack_eval(stacks[t]) end
      end
      verdicts = STK
    end
  else
    local keys = variant.by_sample_key and X.SKEY or B.D
    stacks, n, weight = X.TOUCHED, sum_by(prof, keys, X.ACC, X.MARK, X.TOUCHED), X.ACC
  end
  if by_function then
    return KEYS, SUMS, model.sum_by_function(sp == "each_function", stacks, n, weight, verdicts, KEYS, SUMS)
  end
  for t = 0, n - 1 do
    local d = stacks[t]
    KEYS[t], SUMS[t] = d, weight[d]
  end
  return KEYS, SUMS, n
end

local function collect_entries(plan, X, total)
  if X.variant.mode == "scalar" then
    entries_reserve(1)
    E.S[0], E.PART[0], E.SUM[0] = 0, 0, total
    E.n = total ~= 0 and 1 or 0
  else
    entries_from_agg(X.agg)
  end
end

-- Dense sums as entries: the key is the sample key, or the stack part.
local function entries_from_dense(X, keys, sums, n)
  entries_reserve(n)
  local by_sample = X.variant.has_sample_parts
  local SUM, S, PART = E.SUM, E.S, E.PART
  for t = 0, n - 1 do
    local d = keys[t]
    SUM[t], S[t], PART[t] = sums[t], 0, 0
    if by_sample then S[t] = d else PART[t] = d end
  end
  E.n = n
end


-- Top selection (in C, O(n log k)): the positions chosen, and the keys and
-- sums of the chosen dense sums.
local TOP, TOP_KEYS, TOP_SUMS, TOP_cap = nil, nil, nil, 0
local REST = ffi.new("double[1]")

local function reserve_top(k)
  if k > TOP_cap then
    local top, keys, sums = kept("uint32_t", k), kept("uint32_t", k), kept("double", k)
    TOP, TOP_KEYS, TOP_SUMS = top, keys, sums
    TOP_cap = k
  end
end

-- The indices of the k largest sums, largest first (ties: the earlier
-- entry).
local function top_entries(k)
  reserve_top(k)
  return TOP, core.api.top_k(E.SUM, nil, E.n, k, TOP, REST)
end

local function overflow_attributes()
  if not overflow_set then
    local buf = ffi.new("uint32_t[2]", store_string("otel.metric.overflow"), store_value(true))
    overflow_set = core.api.attributes(core.store, buf, 1)
  end
  return overflow_set
end

local function emit_entry(plan, ctx, X, i)
  local sum = E.SUM[i]
  -- nothing to add: a counter would only gain a series of zeros
  if sum == 0 and plan.kind == "counter" and not ctx.cumulative then return end
  emit(plan, ctx, entry_attributes(plan, ctx, X, E.S[i], E.PART[i]), sum)
end

-- Entries keyed by an attribute index (not by a set, which is its values
-- already): different indices can make one series (values a from_attribute
-- or capture maps to the same result, or a sample's value equal to the
-- profile's): fold them into one entry per series before top ranks them,
-- and before a gauge is set (set part by part, it would keep only the last
-- part). Series are told apart by their
-- value ids, which are cached per attribute index, so this costs a table
-- look-up per entry, not an attribute set.
local function merge_by_series(plan, ctx, X)
  local SUM, S, PART = E.SUM, E.S, E.PART
  local slot, n = {}, 0
  local values = {}
  for i = 0, E.n - 1 do
    values[1] = PART[i]
    for k = 1, #plan.sample do values[k + 1] = sample_value(X, ctx, S[i], k) or 0 end
    local key = table.concat(values, ":")
    local j = slot[key]
    if j then
      SUM[j] = SUM[j] + SUM[i]
    else
      slot[key] = n
      SUM[n], S[n], PART[n] = SUM[i], S[i], PART[i]
      n = n + 1
    end
  end
  E.n = n
end

-- The C path (engine/lua/emit.c) for a counter whose series differ in one
-- thing kept in a dense array: no per-series Lua. Value ids of the chosen
-- indices are worked out here first (once per index and request); a set of
-- sample attributes is its values already.
local EMIT = ffi.new("struct ptm_emit")
local CONSTS, CONSTS_cap = ffi.new("uint32_t[?]", 16), 16

-- The value id + 1 (0: none) of each present sample part of sample key s,
-- to ROWS[at], ROWS[at + 1], ...
local function part_values(X, ctx, s, ROWS, at)
  local parts = X.variant.parts
  for q = 1, #parts do
    local v = sample_value(X, ctx, s, parts[q])
    ROWS[at + q - 1] = v and v + 1 or 0
  end
end

-- The values of a dense plan's keys[0..n) for ptm_emit_dense, a row per
-- key: the function name, the from_stack value, or the values of the sample
-- parts present.
local function dense_values(plan, X, ctx, keys, n)
  local sample_key = X.variant.sample_key
  local sp = plan.stack_part and plan.stack_part.kind
  if sp == "leaf_function" or sp == "each_function" then return model.name_values(keys, n) end
  -- a set's tuple is its values: the rows are the interner's
  if sample_key == "set" then return core.api.sets_tuple(X.sets.interner, 0), keys end
  local p = #X.variant.parts
  if not X.VALUE then
    local size = sample_key and X.nattr * p or X.nstack + 1
    X.VALUE, X.VSEEN = u32(size), u32(size)
  end
  local VALUE, VSEEN = X.VALUE, X.VSEEN
  for j = 0, n - 1 do
    local d = keys[j]
    -- index 0 of a sample part is the profile's own value: never cached
    if VSEEN[d] == 0 or (sample_key and d == 0) then
      VSEEN[d] = 1
      if sample_key then
        part_values(X, ctx, d, VALUE, d * p)
      else
        local v = ctx.stack_value(d)
        VALUE[d] = v and v + 1 or 0
      end
    end
  end
  return VALUE
end

local function flush_dense(plan, c, ctx, keys, sums, n)
  local rest = 0
  if plan.top and n > plan.top then
    -- the largest first; of equal sums, the lower key
    reserve_top(plan.top)
    n = core.api.top_k(sums, keys, n, plan.top, TOP, REST)
    for j = 0, n - 1 do
      TOP_KEYS[j], TOP_SUMS[j] = keys[TOP[j]], sums[TOP[j]]
    end
    keys, sums, rest = TOP_KEYS, TOP_SUMS, REST[0]
  end
  local X = c.X
  local value_of = dense_values(plan, X, ctx, keys, n)
  -- constant for every series: the profile's constants, and the sample
  -- parts no sample of this request has (their profile-level value)
  local position = X.variant.position
  if (ctx.nconsts + #plan.sample) * 2 > CONSTS_cap then
    CONSTS = ffi.new("uint32_t[?]", (ctx.nconsts + #plan.sample) * 2)
    CONSTS_cap = (ctx.nconsts + #plan.sample) * 2
  end
  local nc = 0
  local consts = ctx.consts
  for i = 1, ctx.nconsts do
    CONSTS[2 * nc], CONSTS[2 * nc + 1] = consts[2 * i - 1], consts[2 * i]
    nc = nc + 1
  end
  for k, sp in ipairs(plan.sample) do
    if not position[k] and ctx.fallback[k] then
      CONSTS[2 * nc], CONSTS[2 * nc + 1] = plan.name_ids[sp.name], ctx.fallback[k]
      nc = nc + 1
    end
  end
  EMIT.store, EMIT.metric, EMIT.resource = core.store, plan.id, ctx.resource
  EMIT.start, EMIT["end"], EMIT.scale = ctx.start, ctx.stop, ctx.scale
  EMIT.cumulative = ctx.cumulative and 1 or 0
  EMIT.consts, EMIT.n_consts = CONSTS, nc
  EMIT.part_keys, EMIT.n_parts = X.PART_KEYS, math.max(#X.variant.parts, 1)
  EMIT.value_of = value_of
  local rc = core.api.emit_dense(EMIT, sums, keys, n)
  if rc ~= 0 then
    error(string.format("metric %s: the store refused a value (a counter cannot go down)", plan.name), 0)
  end
  if rest ~= 0 then emit(plan, ctx, overflow_attributes(), rest) end
end

local function flush(plan, c, ctx, prof, total)
  local X = c.X
  if X.variant.mode == "dense" then
    local keys, sums, n = dense_sums(plan, X, prof)
    -- sample keys that are attribute indices may be one series (see
    -- merge_by_series): top ranks series, so it ranks them after merging
    if plan.kind == "counter" and not (X.variant.sample_key == "attribute" and plan.top) then
      return flush_dense(plan, c, ctx, keys, sums, n)
    end
    entries_from_dense(X, keys, sums, n)
  else
    if plan.stack_part and plan.stack_part.kind == "each_function" then
      -- with sample parts: an entry per (sample key, function) on the
      -- stacks, each with the stack's whole sum (recursion counted once)
      core.api.agg_clear(X.agg2)
      model.spread_functions(X.agg, X.agg2)
      entries_from_agg(X.agg2)
    else
      collect_entries(plan, X, total)
    end
  end
  if X.variant.sample_key == "attribute" and (plan.kind == "gauge" or plan.top and E.n > plan.top) then
    merge_by_series(plan, ctx, X)
  end
  if not plan.top or E.n <= plan.top then
    for i = 0, E.n - 1 do emit_entry(plan, ctx, X, i) end
    return
  end
  local chosen, size = top_entries(plan.top)
  local kept = 0
  for j = 0, size - 1 do
    emit_entry(plan, ctx, X, chosen[j])
    kept = kept + E.SUM[chosen[j]]
  end
  local all = 0
  for i = 0, E.n - 1 do all = all + E.SUM[i] end
  local rest = all - kept
  if rest ~= 0 then emit(plan, ctx, overflow_attributes(), rest) end
end

-- Histograms: every kept sample (observe = "sample") or every event of it
-- (observe = "event": each value, or 1 per timestamp) is one observation of
-- value x scale. Observations are grouped by series and bucket first, so
-- the store is called once per (series, bucket).
local function bucket_of(bounds, v)
  local lo, hi = 1, #bounds + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if v <= bounds[mid] then hi = mid else lo = mid + 1 end
  end
  return lo
end

local function observe_list(plan, c, ctx, m, p, nt)
  local X = c.X
  local groups, order = {}, {}
  local S = m.samples.data
  local function observe_one(a, part, v, count)
    local b = bucket_of(plan.buckets, v)
    local key = a .. ":" .. part .. ":" .. b
    local g = groups[key]
    if not g then
      g = { a = a, part = part, sum = 0, count = 0 }
      groups[key] = g
      order[#order + 1] = g
    end
    g.sum = g.sum + v * count
    g.count = g.count + count
  end
  -- each_function: the part is a stack; each distinct function on it
  -- observes the value, as a counter adds it to each.
  local each = plan.stack_part and plan.stack_part.kind == "each_function"
  local function observe(a, part, v, count)
    if not each then return observe_one(a, part, v, count) end
    local list, off, n = model.stack_names(part)
    for j = off, off + n - 1 do observe_one(a, list[j], v, count) end
  end
  for t = 0, nt - 1 do
    local i = X.LI[t]
    local a, part = X.LA[t], X.LP[t]
    local s = S[p.samples.off + i]
    if plan.observe == "event" and p.value_column < 0 then
      if s.values.len > 0 then
        for j = 0, s.values.len - 1 do
          observe(a, part, tonumber(m.values.data[s.values.off + j]) * ctx.scale, 1)
        end
      elseif s.timestamps.len > 0 then
        observe(a, part, ctx.scale, s.timestamps.len)
      end
    else
      observe(a, part, B.W[i] * ctx.scale, 1)
    end
  end
  for _, g in ipairs(order) do
    local set = entry_attributes(plan, ctx, X, g.a, g.part)
    local rc = core.api.observe(core.store, plan.id, ctx.resource, set, g.sum / g.count, g.count, ctx.start, ctx.stop)
    if rc ~= 0 then error("metric " .. plan.name .. ": the store refused an observation", 0) end
  end
end

-- -------------------------------------------------------------- one plan

-- A plan's context for one profile, kept with its per-request context c
-- and filled again for each profile: the constants (consts[2i - 1] a name
-- id, consts[2i] a value id, nconsts pairs), the fallback value id of each
-- sample part; part_value and stack_value, the value caches, are the
-- request's.
local function plan_context_for_request(plan, c)
  local ctx = { consts = {}, nconsts = 0, fallback = {} }
  local part_cache = c.part_values
  for k = 1, #plan.sample do part_cache[k] = scratch.cache() end
  ctx.part_value = function(k, idx)
    local cache = part_cache[k]
    local v = cache.t[idx]
    if v == nil then
      local x = model.attr_value(idx)
      local t = plan.sample[k].transform
      if x ~= nil and t then x = t(x) end
      v = store_value(x) or false
      scratch.put(cache, idx, v)
    end
    return v or nil
  end
  local sp = plan.stack_part
  if sp then
    ctx.stack_value = function(part)
      if sp.kind == "stack" then return store_value(c.X.stack_values[part]) end
      return model.name_value(part)
    end
  end
  return ctx
end

local function plan_profile_context(plan, c, m, prof)
  local ctx = c.ctx
  local consts, n = ctx.consts, 0
  for _, k in ipairs(plan.const) do
    local v = k.value
    if v == nil then v = settings_mod.const_source(k.source, m, prof.p) end
    local id = store_value(v)
    if id then
      consts[n + 1], consts[n + 2] = plan.name_ids[k.name], id
      n = n + 2
    end
  end
  ctx.nconsts = n / 2
  local attrs = profile_attributes(prof)
  for k, sp in ipairs(plan.sample) do
    local v = attrs[sp.key]
    if v ~= nil and sp.transform then v = sp.transform(v) end
    ctx.fallback[k] = store_value(v)
  end
  return ctx
end

local function ensure_list(X, n)
  if (X.list_cap or 0) >= n then return end
  local cap = math.max(n, 256)
  X.LI, X.LA, X.LP = u32(cap), u32(cap), u32(cap)
  X.list_cap = cap
  return true
end

-- Run one plan over one profile: select (unless ptm's own selector did
-- already), weigh, loop, flush.
local function run_plan(run, plan, prof)
  local m, p = run.m, prof.p
  -- each plan's callbacks get their own copy: a rule that writes into it
  -- changes what no other rule sees
  local mine
  if not plan.pure_select then
    mine = own_view(run, prof)
    if not plan.select(mine) then return end
  end
  local scale, how
  if plan.pure_value and not mine then
    scale, how = plan.value(profile_type_view(run, prof))
  else
    mine = mine or own_view(run, prof)
    scale, how = plan.value(mine)
  end
  if scale == nil then return end
  if type(scale) ~= "number" or scale ~= scale then
    error(string.format("metric %s: value must return a number (or nil), got %s", plan.name, tostring(scale)), 0)
  end
  profile_samples(run, prof)
  local c = run.contexts[plan]
  if not c then
    local X = plan_context(plan, m)
    c = { X = X, loop = nil, part_values = {}, FB = {}, AB = {} }
    c.ctx = plan_context_for_request(plan, c)
    run.contexts[plan] = c
  end
  if plan.kind == "histogram" and ensure_list(c.X, p.samples.len) then c.loop = nil end
  local variant = c.X.variant
  if variant.factory then c.loop = c.loop or variant.factory(c.X) end
  local ctx = plan_profile_context(plan, c, m, prof)
  ctx.scale, ctx.cumulative = scale, how == "cumulative"
  ctx.resource = resource_id(m, p.resource, run.resources)
  ctx.start = p.time_unix_nano
  ctx.stop = p.time_unix_nano ~= 0 and p.time_unix_nano + p.duration_nano or 0ULL
  if c.X.sets then intern_sets(c.X, ctx, prof) end
  -- attribute filters decided from the profile's own, scope and resource
  -- attributes, for samples that do not carry the attribute themselves
  local FB, AB, attrs = c.FB, c.AB, profile_attributes(prof)
  for i, f in ipairs(plan.attr_filters) do FB[i] = verdict(f.test(attrs[f.key])) end
  for i, f in ipairs(plan.any_filters) do
    local any = false
    for _, v in pairs(attrs) do
      if f.test(v) then any = true break end
    end
    AB[i] = verdict(any)
    if not any and c.loop then any_attribute(c.X, i, run, prof) end
  end
  local total, nt = 0, 0
  if c.loop then
    if variant.mode == "hash" then core.api.agg_clear(c.X.agg) end
    total, nt = c.loop(p.samples.len, FB, AB, B.W)
  end
  if plan.kind == "histogram" then
    observe_list(plan, c, ctx, m, p, nt)
  else
    flush(plan, c, ctx, prof, total)
  end
end

-- ------------------------------------------------------------------ run

-- One metric on one profile, within the time limit of a profile.
local function run_plan_limited(run, plan, prof)
  -- ptm's own selectors cannot loop: a profile they pass over costs no
  -- section (two readings of the thread's CPU clock)
  if plan.pure_select and not plan.select(profile_type_view(run, prof)) then return end
  section_start(PROFILE)
  run_plan(run, plan, prof)
  section_stop()
end

--- Convert every profile of a model (a light userdata: struct ptm_model *).
-- Returns the number of (metric, profile) pairs that failed.
function M.run(model_ptr)
  local m = ffi.cast("struct ptm_model *", model_ptr)
  model.begin(m)
  reserve_buffers(m)
  views.reset()
  sandbox.new_request()
  value_ids = scratch.cache()
  local run = { m = m, contexts = {}, resources = {}, siblings = find_siblings(m), failures = 0 }
  local ok, err = xpcall(function()
    for pi = 0, m.profiles.len - 1 do
      local prof = { pi = pi, p = m.profiles.data[pi] }
      for _, plan in ipairs(plans) do
        local ok1, err1 = xpcall(run_plan_limited, handler, run, plan, prof)
        views.expire()
        if not ok1 then
          err1 = type(err1) == "string" and err1 or tostring(err1)
          -- what the failed callback left is garbage now: collected when it
          -- ran out of memory, or holds half the cap (nested coroutines do)
          if err1:find("not enough memory", 1, true)
              or (memory_limit and collectgarbage("count") * 1024 > memory_limit / 2) then
            collectgarbage()
          end
          run.failures = run.failures + 1
          note_error(plan.rule, string.format("metric %s, profile %d: %s", plan.name, pi, explain(err1)))
        end
      end
    end
  end, handler)
  model.finish()
  type_of.run, type_of.pi = nil, -1
  -- the run's arrays go back to the C heap: nothing refers to them now
  run.contexts = nil
  E.n, E.cap, E.SUM, E.S, E.PART = 0, 0, nil, nil, nil
  scratch.release()
  if not ok then error(err, 0) end
  return run.failures
end

return M
