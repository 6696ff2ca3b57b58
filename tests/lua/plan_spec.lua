-- SPDX-License-Identifier: Apache-2.0
--
-- Compiling a metric declaration into a plan (scripts/ptm/plan.lua): which
-- attribute sources are per-profile constants, per-sample attributes or the
-- stack; which filters are decided per stack, per attribute value or on any
-- attribute; the accumulation mode of each loop variant; the errors, at the
-- declaration's line; and the generated loops, compiled and run over a few
-- hand-made samples (FFI arrays of the model's sample type, no decoder).
local host = require "ptm_host"
local ffi = require "ffi"
local ptm = require "ptm.api"
local plan_mod = require "ptm.plan"
local model = require "ptm.model"
local core = require "ptm.core"

local function selector() return true end

-- Declare one metric (t without a name gets a fresh one) and compile it.
-- Returns the plan, or nil and the error.
local function compile(t)
  local rule = host.loading("plan_spec")
  t.name = t.name or host.fresh_name()
  t.profiles = t.profiles or selector
  t.value = t.value or ptm.count
  ptm.metric(t)
  host.done_loading()
  local ok, plan = pcall(plan_mod.compile, rule.metrics[1], rule)
  if not ok then return nil, plan end
  return plan
end

local function names(list)
  local out = {}
  for i, x in ipairs(list) do out[i] = x.name end
  return out
end

describe("attribute sources", function()
  it("sort into constants, sample attributes and one stack part, by name", function()
    local plan = assert(compile { attributes = {
      "thread.name", "process.executable.name",
      service = "checkout", replicas = 3, canary = false,
      first = ptm.string_table_index(1), version = ptm.string_table_match("v(\\d+)"),
      pod = ptm.capture("k8s.pod.name", "^(.*)-"),
      ["function.name"] = ptm.leaf_function,
    } })
    assert.are.same({ "canary", "first", "replicas", "service", "version" }, names(plan.const))
    assert.are.equal(false, plan.const[1].value)
    assert.are.equal(3, plan.const[3].value)
    assert.are.equal("string_table_index", plan.const[2].source.source)
    assert.are.same({ "pod", "process.executable.name", "thread.name" }, names(plan.sample))
    assert.are.equal("k8s.pod.name", plan.sample[1].key)
    assert.are.equal("thread.name", plan.sample[3].key)
    assert.is_function(plan.sample[1].transform)
    assert.are.equal("function.name", plan.stack_part.name)
    assert.are.equal("leaf_function", plan.stack_part.kind)
  end)
  it("each_function and from_stack are stack parts too", function()
    assert.are.equal("each_function", assert(compile { attributes = { f = ptm.each_function } }).stack_part.kind)
    local fn = function() return "x" end
    local plan = assert(compile { attributes = { s = ptm.from_stack(fn) } })
    assert.are.equal("stack", plan.stack_part.kind)
    assert.are.equal(fn, plan.stack_part.fn)
  end)
  it("takes as many sample attributes as a data point keeps (128), and no more", function()
    local keys = {}
    for i = 1, 127 do keys[i] = "k" .. i end
    keys.f = ptm.leaf_function
    local plan = assert(compile { attributes = keys })
    assert.are.equal(127, #plan.sample)
    keys.extra = "x"
    local _, err = compile { attributes = keys }
    assert.truthy(err:find("129 attributes, more than the 128 a data point keeps", 1, true), err)
  end)
  it("refuses two stack parts, odd entries", function()
    local _, err = compile { attributes = { a = ptm.leaf_function, b = ptm.each_function } }
    assert.truthy(err:find("'a' and 'b' both come from the stack; a metric takes one", 1, true), err)
    _, err = compile { attributes = { 5 } }
    assert.truthy(err:find("attributes[1] must be an attribute key (a string)", 1, true), err)
    _, err = compile { attributes = { x = { source = "attribute", key = "forged" } } }
    assert.truthy(err:find("attribute 'x' must be a key, a literal or a ptm attribute source", 1, true), err)
  end)
  it("errors name the file and line of the ptm.metric call", function()
    local rule = host.loading("plan_spec")
    local line = debug.getinfo(1, "l").currentline + 1
    ptm.metric { name = host.fresh_name(), profiles = selector, value = ptm.count, attributes = { 5 } }
    host.done_loading()
    local ok, err = pcall(plan_mod.compile, rule.metrics[1], rule)
    assert.is_false(ok)
    assert.are.equal(debug.getinfo(1, "S").short_src .. ":" .. line, err:match("^(.-:%d+): metric "))
  end)
end)

describe("filters", function()
  it("sort into stack, attribute and any-attribute filters", function()
    local plan = assert(compile { keep = {
      function(stack) return true end,
      ptm.any_function_matches("^runtime%."),
      ptm.leaf_function_matches("gc"),
      ptm.attribute_matches("thread.name", "^worker"),
      ptm.NOT(ptm.attribute_matches("process.executable.name", "^sh$")),
      ptm.any_attribute_matches("prod"),
      ptm.anything_matches("checkout"),
    } })
    assert.are.equal(3, #plan.stack_filters)
    assert.are.same({ "stack", "any_function", "leaf_function" },
                    { plan.stack_filters[1].filter, plan.stack_filters[2].filter, plan.stack_filters[3].filter })
    assert.are.equal(2, #plan.attr_filters)
    assert.are.same({ "thread.name", "process.executable.name" }, { plan.attr_filters[1].key, plan.attr_filters[2].key })
    assert.are.same({ model.want_key("thread.name"), model.want_key("process.executable.name") }, plan.attr_filter_keys)
    assert.are.equal(2, #plan.any_filters)
    assert.are.same({ "any_attribute", "anything" }, { plan.any_filters[1].filter, plan.any_filters[2].filter })
  end)
  it("a single filter or a single function needs no list", function()
    assert.are.equal(1, #assert(compile { keep = ptm.attribute_matches("k", "v") }).attr_filters)
    assert.are.equal(1, #assert(compile { keep = function() return true end }).stack_filters)
    local plan = assert(compile {})
    assert.are.same({ 0, 0, 0 }, { #plan.stack_filters, #plan.attr_filters, #plan.any_filters })
  end)
  it("refuses what is not a filter", function()
    local _, err = compile { keep = { ptm.attribute_value("k") } }
    assert.truthy(err:find("keep[1] is not a filter", 1, true), err)
    _, err = compile { keep = { "x" } }
    assert.truthy(err:find("keep[1] is not a filter", 1, true), err)
    _, err = compile { keep = 5 }
    assert.truthy(err:find("keep must be a filter, a function(stack) or a list of them", 1, true), err)
  end)
end)

describe("the rest of a declaration", function()
  it("profiles: a selector or a list of selectors, any of which may match", function()
    local plan = assert(compile { profiles = { function(p) return p.a end, function(p) return p.b end } })
    assert.is_true(plan.select { b = true })
    assert.is_false(plan.select {})
    local _, err = compile { profiles = { "cpu" } }
    assert.truthy(err:find("profiles[1] must be a selector", 1, true), err)
  end)
  it("refuses a bad top, and buckets that are missing, unordered or on a counter", function()
    local _, err = compile { top = 0 }
    assert.truthy(err:find("top must be a whole number >= 1", 1, true), err)
    _, err = compile { top = 2.5 }
    assert.truthy(err:find("top must be a whole number >= 1", 1, true), err)
    _, err = compile { kind = "histogram" }
    assert.truthy(err:find("a histogram needs buckets = { bound, ... }", 1, true), err)
    _, err = compile { kind = "histogram", buckets = { 1, 1 } }
    assert.truthy(err:find("buckets must be numbers in strictly increasing order", 1, true), err)
    _, err = compile { buckets = { 1, 2 } }
    assert.truthy(err:find("buckets are for histograms only", 1, true), err)
  end)
  it("a name defined before with another kind is refused by the store", function()
    local name = host.fresh_name()
    assert(compile { name = name })
    local _, err = compile { name = name, kind = "gauge" }
    assert.truthy(err and err:find(name, 1, true), err)
  end)
end)

describe("accumulation modes", function()
  local function mode(t, present)
    return plan_mod.variant(assert(compile(t)), present).mode
  end
  it("no parts: one sum", function()
    assert.are.equal("scalar", mode({}, {}))
    assert.are.equal("scalar", mode({ attributes = { service = "x" } }, {}))
  end)
  it("one sample attribute present in the request: a dense array; absent: one sum", function()
    local plan = assert(compile { attributes = { "thread.name" } })
    local v = plan_mod.variant(plan, { true })
    assert.are.equal("dense", v.mode)
    assert.are.equal("attribute", v.sample_key)
    assert.are.same({ 1 }, v.parts)
    assert.are.equal("scalar", plan_mod.variant(plan, {}).mode)
  end)
  it("the stack alone: dense; with a present sample attribute: hashed", function()
    assert.are.equal("dense", mode({ attributes = { f = ptm.leaf_function } }, {}))
    assert.are.equal("dense", mode({ attributes = { f = ptm.each_function } }, {}))
    assert.are.equal("hash", mode({ attributes = { "thread.name", f = ptm.leaf_function } }, { true }))
    assert.are.equal("dense", mode({ attributes = { "thread.name", f = ptm.leaf_function } }, { false }))
  end)
  it("several sample attributes present: dense on their set; one: dense on it; with the stack: hashed", function()
    local plan = assert(compile { attributes = { "a", "b", "c", "d", "e", "f" } })
    local v = plan_mod.variant(plan, { true, false, true, true, false, true })
    assert.are.equal("dense", v.mode)
    assert.are.equal("set", v.sample_key)
    assert.are.same({ 1, 3, 4, 6 }, v.parts)
    assert.are.same({ [1] = 1, [3] = 2, [4] = 3, [6] = 4 }, v.position)
    assert.is_true(v.by_sample_key) -- no filters: the set ids are summed as they are
    v = plan_mod.variant(plan, { false, true })
    assert.are.equal("dense", v.mode)
    assert.are.equal("attribute", v.sample_key)
    assert.are.same({ 2 }, v.parts)
    plan = assert(compile { attributes = { "a", "b", f = ptm.leaf_function } })
    assert.are.equal("hash", plan_mod.variant(plan, { true, true }).mode)
  end)
  it("parts that read one key as it is: dense on its index; that make values of it: on their set", function()
    local plan = assert(compile { attributes = { "thread.name", name = ptm.attribute_value("thread.name") } })
    local v = plan_mod.variant(plan, { true, true })
    assert.are.equal("attribute", v.sample_key)
    assert.are.same({ 1, 2 }, v.parts)
    assert.are.same({ model.want_key("thread.name") }, v.keys)
    assert.is_true(v.by_sample_key)
    -- thread names "worker-1" and "worker-2" are one pool
    plan = assert(compile { attributes = { "thread.name", pool = ptm.capture("thread.name", "^([a-z]+)") } })
    v = plan_mod.variant(plan, { true, true })
    assert.are.equal("set", v.sample_key)
    assert.are.same({ 1, 2 }, v.parts)
    assert.are.same({ 1, 2 }, v.position)
  end)
  it("histograms list their samples", function()
    assert.are.equal("list", mode({ kind = "histogram", buckets = { 1, 10 }, attributes = { "a" } }, { true }))
  end)
  it("a variant is compiled once", function()
    local plan = assert(compile { attributes = { "a" } })
    assert.are.equal(plan_mod.variant(plan, { true }), plan_mod.variant(plan, { true }))
  end)
end)

describe("the generated loops", function()
  -- Three samples: stack 1 with attribute 5, stack 2 with attributes 2 and 7,
  -- stack 1 with none; weights 1, 2, 4. What C works out for the loops:
  -- each sample's stack (STACK) and, for a key, its attribute index (a
  -- column).
  local W = ffi.new("double[3]", { 1, 2, 4 })
  local STACK = ffi.new("uint32_t[3]", { 1, 2, 1 })
  local SKIP = 0xffffffff
  local function column(list) return ffi.new("uint32_t[3]", list) end
  local function verdicts(t) -- index -> 1 (yes) or 2 (no)
    local v = ffi.new("uint8_t[8]")
    for idx, x in pairs(t) do v[idx] = x end
    return v
  end
  local function x_for()
    return { STACK = STACK, D = ffi.new("uint32_t[3]"), CF = {}, FV = {}, feval = {} }
  end

  it("compile for every shape of plan that needs one", function()
    local shapes = {
      {}, { attributes = { "a" } }, { attributes = { "a", "b", "c" } },
      { attributes = { "a", f = ptm.leaf_function } }, { attributes = { f = ptm.each_function } },
      { attributes = { s = ptm.from_stack(function() return 1 end) } },
      { kind = "histogram", buckets = { 1 }, attributes = { "a" } },
      { keep = { function() return true end, ptm.attribute_matches("a", "x"), ptm.anything_matches("y"),
                 ptm.NOT(ptm.any_attribute_matches("z")) } },
      { keep = ptm.attribute_matches("a", "x"), attributes = { f = ptm.each_function } },
    }
    local loops = 0
    for i, t in ipairs(shapes) do
      local plan = assert(compile(t))
      for _, present in ipairs { {}, { true }, { true, true, true } } do
        local v = plan_mod.variant(plan, present)
        assert.is_true(v.factory ~= nil or v.by_stack or v.by_sample_key, "shape " .. i)
        if v.factory then
          loops = loops + 1
          assert.is_function(load(v.source, "=loop", "t", {}), "shape " .. i)
        end
      end
    end
    assert.are.equal(19, loops)
  end)
  it("no loop: by function without sample filters, or by sample attributes without filters", function()
    local v = plan_mod.variant(assert(compile { attributes = { f = ptm.each_function } }), {})
    assert.is_true(v.by_stack)
    assert.is_nil(v.factory)
    v = plan_mod.variant(assert(compile { keep = function() return true end, attributes = { f = ptm.leaf_function } }), {})
    assert.is_true(v.by_stack)
    v = plan_mod.variant(assert(compile { attributes = { "a" } }), { true })
    assert.is_true(v.by_sample_key)
    assert.is_nil(v.factory)
    v = plan_mod.variant(assert(compile { attributes = { "a", "b", "c", "d" } }), { true, true, true, true })
    assert.is_true(v.by_sample_key)
    assert.is_nil(v.factory)
    v = plan_mod.variant(assert(compile { keep = ptm.attribute_matches("a", "x"), attributes = { "b" } }), { true })
    assert.is_false(v.by_sample_key)
    assert.is_function(v.factory)
  end)
  it("one sum: every sample's weight", function()
    local plan = assert(compile {})
    local loop = plan_mod.variant(plan, {}).factory(x_for())
    assert.are.same({ 7, 0 }, { loop(3, {}, {}, W) })
  end)
  it("dense with a filter: each kept sample's key (its attribute index, 0 without it), SKIP for the others", function()
    local plan = assert(compile { keep = function() return true end, attributes = { "thread.name" } })
    local X = x_for()
    X.SKEY = column { 5, 7, 0 }
    X.STK = ffi.new("uint8_t[8]")
    X.stack_eval = function(st)
      X.STK[st] = st == 1 and 1 or 2 -- stack 2 is left out
      return X.STK[st]
    end
    local v = plan_mod.variant(plan, { true })
    assert.are.equal("dense", v.mode)
    v.factory(X)(3, {}, {}, W)
    assert.are.same({ 5, SKIP, 0 }, { X.D[0], X.D[1], X.D[2] })
  end)
  it("hashed: each sample's sample key (here the id of its set of attributes) with its leaf", function()
    local plan = assert(compile { attributes = { "a", "b", f = ptm.leaf_function } })
    local X = x_for()
    X.SKEY = column { 0, 1, 0 }                -- samples 1 and 3 have the same set
    X.LEAF = ffi.new("uint32_t[3]", { 0, 10, 20 }) -- stack 1's leaf is name 10, stack 2's 20
    X.agg = ffi.gc(core.api.agg_create(), core.api.agg_destroy)
    X.agg_add = core.api.agg_add
    local v = plan_mod.variant(plan, { true, true })
    assert.are.equal("hash", v.mode)
    v.factory(X)(3, {}, {}, W)
    assert.are.equal(2, core.api.agg_len(X.agg))
    local e = core.api.agg_entries(X.agg)
    assert.are.same({ 0, 10, 5 }, { e[0].key[0], e[0].key[1], e[0].sum }) -- weights 1 + 4
    assert.are.same({ 1, 20, 2 }, { e[1].key[0], e[1].key[1], e[1].sum })
  end)
  it("dense by function with a sample filter: each kept sample's stack", function()
    local plan = assert(compile { keep = ptm.attribute_matches("a", "x"), attributes = { f = ptm.leaf_function } })
    local X = x_for()
    X.CF[1], X.FV[1] = column { 5, 7, 0 }, verdicts { [5] = 1, [7] = 2 }
    X.feval[1] = function() error("decided already") end
    plan_mod.variant(plan, {}).factory(X)(3, { 1 }, {}, W)
    -- sample 3 lacks the attribute: the profile's verdict (FB = 1) keeps it
    assert.are.same({ 1, SKIP, 1 }, { X.D[0], X.D[1], X.D[2] })
  end)
  it("an attribute filter: decided once per attribute value, else by the profile's verdict", function()
    local plan = assert(compile { keep = ptm.attribute_matches("thread.name", "^worker") })
    local X = x_for()
    local FV = ffi.new("uint8_t[8]")
    local asked = {}
    X.CF[1], X.FV[1] = column { 5, 7, 0 }, FV
    X.feval[1] = function(idx)
      asked[#asked + 1] = idx
      FV[idx] = idx == 5 and 1 or 2 -- attribute 5 matches, 7 does not
      return FV[idx]
    end
    local loop = plan_mod.variant(plan, {}).factory(X)
    -- the third sample has no thread.name: the profile's verdict (FB) decides
    assert.are.equal(1, (loop(3, { 2 }, {}, W)))
    assert.are.equal(5, (loop(3, { 1 }, {}, W)))
    assert.are.same({ 5, 7 }, asked)
  end)
  it("a stack filter: decided once per stack", function()
    local plan = assert(compile { keep = function() return true end })
    local X = x_for()
    local STK = ffi.new("uint8_t[8]")
    local asked = {}
    X.STK = STK
    X.stack_eval = function(st)
      asked[#asked + 1] = st
      STK[st] = st == 1 and 1 or 2
      return STK[st]
    end
    assert.are.equal(5, (plan_mod.variant(plan, {}).factory(X)(3, {}, {}, W)))
    assert.are.same({ 1, 2 }, asked)
  end)
  it("an any-attribute filter: the profile's attributes, else the sample's, else nothing", function()
    local plan = assert(compile { keep = ptm.any_attribute_matches("x") })
    local X = x_for()
    -- only sample 2 has a matching attribute (AY, worked out in C)
    X.AY, X.SA = { verdicts { [0] = 2, [1] = 1, [2] = 2 } }, { verdicts { [1] = 2, [2] = 2 } }
    X.saeval = { function() error("decided already") end }
    local loop = plan_mod.variant(plan, {}).factory(X)
    assert.are.equal(2, (loop(3, {}, { 2 }, W)))
    -- the profile matched: every sample
    assert.are.equal(7, (loop(3, {}, { 1 }, W)))
  end)
end)
