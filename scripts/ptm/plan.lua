-- SPDX-License-Identifier: Apache-2.0
--
-- Compiling a metric declaration into a plan: which attribute sources are
-- constant for a profile, which are read from each sample's attributes,
-- which come from the stack; which filters are decided per stack and which
-- per attribute value. Each plan then gets its own sample loop, generated as
-- Lua source and compiled once, so LuaJIT traces one specialised loop per
-- metric instead of one loop that branches on every metric's shape.
local ffi = require "ptm.ffi"
local core = require "ptm.core"
local api = require "ptm.api"
local model = require "ptm.model"

local M = {}

-- The attributes a metric may declare: what the store keeps of one data
-- point (PTM_STORE_MAX_SET_PAIRS, engine/metrics/store_internal.h). However
-- many come from sample attributes, a sample's series is told apart by one
-- key (engine/lua/sample_sets.h): their number costs little per sample.
M.MAX_ATTRIBUTES = 128

local function fail(entry, fmt, ...)
  error(entry.where .. ": " .. string.format(fmt, ...), 0)
end

-- ---------------------------------------------------------------- sources

local function classify_source(entry, name, src)
  if type(src) == "string" or type(src) == "number" or type(src) == "boolean" then
    return { name = name, class = "const", value = src }
  end
  if not api._made[src] or not src.source then
    fail(entry, "metric %s: attribute '%s' must be a key, a literal or a ptm attribute source",
         entry.def.name, tostring(name))
  end
  local s = src.source
  if s == "attribute" then
    return { name = name, class = "sample", key = src.key, transform = src.transform }
  elseif s == "string_table" or s == "string_table_index" then
    return { name = name, class = "const", source = src }
  elseif s == "leaf_function" or s == "each_function" or s == "stack" then
    return { name = name, class = "stack", kind = s, fn = src.fn }
  end
  fail(entry, "metric %s: unknown attribute source for '%s'", entry.def.name, tostring(name))
end

local function compile_attributes(entry, plan)
  local attrs = entry.def.attributes or {}
  local names, seen = {}, {}
  for k, v in pairs(attrs) do
    local name, src = k, v
    if type(k) == "number" then
      if type(v) ~= "string" then
        fail(entry, "metric %s: attributes[%d] must be an attribute key (a string)", entry.def.name, k)
      end
      name, src = v, api.attribute_value(v)
    elseif type(k) ~= "string" then
      fail(entry, "metric %s: attribute names must be strings", entry.def.name)
    end
    if not seen[name] then
      seen[name] = true
      names[#names + 1] = { name = name, src = src }
    end
  end
  table.sort(names, function(a, b) return a.name < b.name end)
  plan.const, plan.sample, plan.stack_part = {}, {}, nil
  for _, n in ipairs(names) do
    local part = classify_source(entry, n.name, n.src)
    if part.class == "const" then
      plan.const[#plan.const + 1] = part
    elseif part.class == "sample" then
      plan.sample[#plan.sample + 1] = part
    else
      if plan.stack_part then
        fail(entry, "metric %s: '%s' and '%s' both come from the stack; a metric takes one",
             entry.def.name, plan.stack_part.name, part.name)
      end
      plan.stack_part = part
    end
  end
  local count = #plan.const + #plan.sample + (plan.stack_part and 1 or 0)
  if count > M.MAX_ATTRIBUTES then
    fail(entry, "metric %s: %d attributes, more than the %d a data point keeps",
         entry.def.name, count, M.MAX_ATTRIBUTES)
  end
end

-- ---------------------------------------------------------------- filters

local function compile_filters(entry, plan)
  local keep = entry.def.keep
  local list = {}
  if keep == nil then
    list = {}
  elseif type(keep) == "function" then
    list = { api.stack(keep) }
  elseif api._made[keep] then
    list = { keep }
  elseif type(keep) == "table" then
    for i, f in ipairs(keep) do
      if type(f) == "function" then f = api.stack(f) end
      if not api._made[f] or not f.filter then
        fail(entry, "metric %s: keep[%d] is not a filter", entry.def.name, i)
      end
      list[#list + 1] = f
    end
  else
    fail(entry, "metric %s: keep must be a filter, a function(stack) or a list of them", entry.def.name)
  end
  plan.stack_filters, plan.attr_filters, plan.any_filters = {}, {}, {}
  for _, f in ipairs(list) do
    local kind = f.filter
    if kind == "stack" or kind == "any_function" or kind == "leaf_function" then
      plan.stack_filters[#plan.stack_filters + 1] = f
    elseif kind == "attribute" then
      plan.attr_filters[#plan.attr_filters + 1] = f
    elseif kind == "any_attribute" or kind == "anything" then
      plan.any_filters[#plan.any_filters + 1] = f
    else
      fail(entry, "metric %s: unknown filter", entry.def.name)
    end
  end
end

-- ------------------------------------------------------------ code generation
--
-- The loop reads, for the n samples of one profile, what C worked out
-- once per profile (engine/lua/samples.h, engine/lua/sample_sets.h): each
-- sample's weight W[i], its stack STACK[i], the attribute index of each
-- key a filter reads (a column per key) and the sample key SKEY[i]: the
-- attribute index when the sample parts the request has read one key as
-- it is, else the id of the sample's set of their values. With the
-- verdicts cached per stack and per attribute it decides whether the
-- sample counts and under which key: one sum; a dense key (the sample key,
-- a stack index or a from_stack value) written to D[i], summed in C
-- afterwards; or the sample key and the stack part added to the C hash
-- aggregator. An "any attribute" filter reads whether any attribute of the
-- sample matched, worked out in C for the profile (AY).

-- A sample part whose key no attribute of the request has is the profile's
-- constant for every sample: it does not count as a part for the request.
-- The sample parts the request has are one key together.
local function accumulate_mode(plan, sample_key)
  local parts = (plan.stack_part and 1 or 0) + (sample_key and 1 or 0)
  if parts == 0 then return "scalar" end
  if parts == 1 then return "dense" end
  return "hash"
end

local function gen_loop(plan, v)
  local mode = v.mode
  local L = {}
  local function emit(s) L[#L + 1] = s end
  local nf = #plan.attr_filters
  local na = #plan.any_filters
  local sp = plan.stack_part and plan.stack_part.kind
  emit("local X = ...")
  emit("local STACK, D = X.STACK, X.D")
  emit("local STK, stack_eval = X.STK, X.stack_eval")
  emit("local LEAF = X.LEAF")
  emit("local SPART, stack_part = X.SPART, X.stack_part")
  emit("local agg_add, agg = X.agg_add, X.agg")
  emit("local LI, LA, LP = X.LI, X.LA, X.LP")
  emit("local SKEY = X.SKEY")
  for f = 1, nf do
    emit(("local CF%d, FV%d, feval%d = X.CF[%d], X.FV[%d], X.feval[%d]"):format(f, f, f, f, f, f))
  end
  for a = 1, na do
    emit(("local AY%d = X.AY[%d]"):format(a, a))
    emit(("local SA%d, saeval%d = X.SA[%d], X.saeval[%d]"):format(a, a, a, a))
  end
  emit("return function(n, FB, AB, W)")
  emit("  local total, nt = 0, 0")
  emit("  for i = 0, n - 1 do")
  if sp or #plan.stack_filters > 0 or na > 0 then emit("    local st = STACK[i]") end
  emit("    local keep = true")
  if #plan.stack_filters > 0 then
    emit("    local v = STK[st]")
    emit("    if v == 0 then v = stack_eval(st) end")
    emit("    keep = v ~= 2")
  end
  emit(("    local a = %s"):format(v.sample_key and "SKEY[i]" or "0"))
  -- an attribute filter: the sample's own attribute, else the profile's
  for f = 1, nf do
    emit(("    local f%d, q%d = FB[%d], CF%d[i]"):format(f, f, f, f))
    emit(("    if q%d ~= 0 then f%d = FV%d[q%d]; if f%d == 0 then f%d = feval%d(q%d) end end")
      :format(f, f, f, f, f, f, f, f))
    emit(("    keep = keep and f%d == 1"):format(f))
  end
  for a = 1, na do
    -- the profile's attributes, else the sample's, else (for "anything") a
    -- function on the stack
    emit(("    local y%d = AB[%d]"):format(a, a))
    emit(("    if y%d ~= 1 then y%d = AY%d[i] end"):format(a, a, a))
    emit(("    if y%d ~= 1 then local q = SA%d[st]; if q == 0 then q = saeval%d(st) end; y%d = q end")
      :format(a, a, a, a))
    emit(("    keep = keep and y%d %s 1"):format(a, plan.any_filters[a].negate and "~=" or "=="))
  end
  local key
  if sp == "leaf_function" and mode ~= "dense" then
    key = "LEAF[st]"
  elseif sp == "leaf_function" or sp == "each_function" then
    -- dense: summed by stack, then by function in C (model.sum_by_function)
    key = "st"
  elseif sp == "stack" then
    emit("    local p = 0")
    emit("    if keep then")
    emit("      p = SPART[st]")
    emit("      if p == 0 then p = stack_part(st) else p = p - 1 end")
    emit("    end")
    key = "p"
  end
  if mode == "dense" then
    key = key or "a"
    emit(("    if keep then D[i] = %s else D[i] = 0xffffffff end"):format(key))
    emit("  end")
    emit("  return 0, 0")
    emit("end")
    return table.concat(L, "\n")
  end
  emit("    if keep then")
  emit("      local w = W[i]")
  if mode == "list" then
    -- histograms: list the kept samples with their parts; observed in Lua
    emit("      LI[nt] = i")
    emit("      LA[nt] = a")
    emit(("      LP[nt] = %s"):format(key or "0"))
    emit("      nt = nt + 1")
  elseif mode == "scalar" then
    emit("      total = total + w")
  else
    emit(("      agg_add(agg, a, %s, w)"):format(key or "0"))
  end
  emit("    end")
  emit("  end")
  emit("  return total, nt")
  emit("end")
  return table.concat(L, "\n")
end

-- --------------------------------------------------------------------- plan

function M.compile(entry, rule)
  local t = entry.def
  local plan = {
    name = t.name, rule = rule, where = entry.where, kind = entry.kind,
    kind_code = entry.kind_code, value = t.value, top = t.top, observe = t.observe or "sample",
    integer = t.integer == true,
  }
  -- which profiles
  local sels = {}
  if type(t.profiles) == "function" then
    sels = { t.profiles }
  elseif type(t.profiles) == "table" and not api._made[t.profiles] then
    for i, s in ipairs(t.profiles) do
      if type(s) ~= "function" then
        fail(entry, "metric %s: profiles[%d] must be a selector (ptm.profile_type{...} or a function)", t.name, i)
      end
      sels[#sels + 1] = s
    end
  else
    fail(entry, "metric %s: profiles must be a selector or a list of selectors", t.name)
  end
  plan.select = function(pv)
    for _, s in ipairs(sels) do
      if s(pv) then return true end
    end
    return false
  end
  -- selectors and value of ptm's own that read only a profile's type
  -- (api._pure): called on a shared table of it, with no copy of the view
  plan.pure_select = true
  for _, s in ipairs(sels) do plan.pure_select = plan.pure_select and api._pure[s] == true end
  plan.pure_value = api._pure[t.value] == true
  if type(t.value) ~= "function" then
    fail(entry, "metric %s: value must be ptm.seconds, ptm.bytes, ptm.count or a function(profile)", t.name)
  end
  if t.top ~= nil and (t.top < 1 or t.top ~= math.floor(t.top)) then
    fail(entry, "metric %s: top must be a whole number >= 1", t.name)
  end
  compile_attributes(entry, plan)
  compile_filters(entry, plan)
  plan.sample_keys, plan.attr_filter_keys, plan.name_ids = {}, {}, {}
  for i, sp in ipairs(plan.sample) do plan.sample_keys[i] = model.want_key(sp.key) end
  for i, f in ipairs(plan.attr_filters) do plan.attr_filter_keys[i] = model.want_key(f.key) end
  local function name_id(name) plan.name_ids[name] = core.api.intern(core.store, name, #name) end
  for _, c in ipairs(plan.const) do name_id(c.name) end
  for _, sp in ipairs(plan.sample) do name_id(sp.name) end
  if plan.stack_part then name_id(plan.stack_part.name) end
  if plan.kind == "histogram" then
    local b = t.buckets
    if type(b) ~= "table" or #b == 0 then
      fail(entry, "metric %s: a histogram needs buckets = { bound, ... }", t.name)
    end
    local bounds = {} -- a copy: the rule keeps its table and may change it
    for i = 1, #b do
      bounds[i] = b[i]
      if type(bounds[i]) ~= "number" or (i > 1 and bounds[i] <= bounds[i - 1]) then
        fail(entry, "metric %s: buckets must be numbers in strictly increasing order", t.name)
      end
    end
    plan.buckets = bounds
  elseif t.buckets then
    fail(entry, "metric %s: buckets are for histograms only", t.name)
  end
  -- the metric in the store
  local err = ffi.new("struct ptm_error")
  local bounds = plan.buckets and ffi.new("double[?]", #plan.buckets, plan.buckets) or nil
  local id = core.api.define_metric(core.store, t.name, t.description, t.unit, plan.kind_code,
                                    plan.integer and 1 or 0, bounds, plan.buckets and #plan.buckets or 0,
                                    t.series_limit or 0, err)
  if id < 0 then
    fail(entry, "%s", ffi.string(err.message))
  end
  plan.id = id
  plan.variants = {}
  M.variant(plan, {}) -- compile the leanest variant now: a broken loop fails at load
  return plan
end

--- The loop of plan for a request in which the sample parts marked in
-- present (by position) occur: { mode, parts, keys, position, sample_key,
-- has_sample_parts, by_stack, by_sample_key, factory }, compiled once (no
-- factory when by_stack or by_sample_key: no loop is needed). parts lists
-- the sample parts present, keys the distinct attribute keys they read
-- (key ids), position[k] the place of part k in parts. sample_key says
-- what tells their values apart per sample: nil (no part present),
-- "attribute" (its attribute index: they read one key, as it is) or "set"
-- (the id of the sample's set of values, one per part present: they read
-- several keys, or make values of one, which different attributes can
-- share: a series per distinct value keeps the sums few).
function M.variant(plan, present)
  local key = ""
  for k = 1, #plan.sample do key = key .. (present[k] and "1" or "0") end
  local v = plan.variants[key]
  if v then return v end
  v = { parts = {}, keys = {}, position = {} }
  local seen, transformed = {}, false
  for k = 1, #plan.sample do
    if present[k] then
      local id = plan.sample_keys[k]
      if not seen[id] then v.keys[#v.keys + 1], seen[id] = id, true end
      v.parts[#v.parts + 1] = k
      v.position[k] = #v.parts
      transformed = transformed or plan.sample[k].transform ~= nil
    end
  end
  if #v.keys == 1 and not transformed then
    v.sample_key = "attribute"
  elseif #v.keys > 0 then
    v.sample_key = "set"
  end
  v.has_sample_parts = v.sample_key ~= nil
  v.mode = plan.kind == "histogram" and "list" or accumulate_mode(plan, v.sample_key)
  -- Without filters, or with a verdict per stack only, a dense plan keyed
  -- by its sample key or by function needs no loop of its own: it sums the
  -- sample keys (by_sample_key), or the profile's sums by stack (worked out
  -- once for every rule) by function (by_stack).
  local sp = plan.stack_part and plan.stack_part.kind
  local sample_filters = #plan.attr_filters > 0 or #plan.any_filters > 0
  v.by_stack = v.mode == "dense" and (sp == "leaf_function" or sp == "each_function") and not sample_filters
  v.by_sample_key = v.mode == "dense" and v.has_sample_parts and not sample_filters and #plan.stack_filters == 0
  if not v.by_stack and not v.by_sample_key then
    v.source = gen_loop(plan, v)
    local msg
    v.factory, msg = load(v.source, "=ptm.plan(" .. plan.name .. ")", "t", {})
    if not v.factory then
      error("internal error compiling the loop of metric " .. plan.name .. ": " .. msg, 0)
    end
  end
  plan.variants[key] = v
  return v
end

return M
