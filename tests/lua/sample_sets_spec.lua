-- SPDX-License-Identifier: Apache-2.0
--
-- Regression: a metric could read at most 3 sample attributes ("at most 3
-- attributes may come from sample attributes (got N)"). Metrics that read
-- six and seven, through the LuaJIT module on the library built here (as
-- profiletometrics_spec.lua does), over the hand-made request
-- tests/fixtures/sample_attributes/cpu.otlp.json: its README counts the
-- five sets of attributes the seven samples make and their seconds. Every
-- way a plan sums by the set of a sample's attributes is taken: summed as
-- is, through a filter's loop, hashed with the leaf function, spread over
-- every function on the stack, as a gauge, with top, as a histogram, and
-- with values derived from the attributes that make several sets one series.
local library = require "ptm_library"

local ptm, tmp = library.ptm, library.tmp
local FIXTURE = library.root .. "/tests/fixtures/sample_attributes/cpu.otlp.json"

local RULES = [[
local ptm = require "ptm"
local seven = { "thread.name", "thread.id", "k8s.pod.name", "http.route", "cpu.id",
                "process.executable.name", "k8s.namespace.name" }
local function six(extra) -- seven but http.route, and extra
  local t = { "thread.name", "thread.id", "k8s.pod.name", "cpu.id", "process.executable.name", "k8s.namespace.name" }
  for k, v in pairs(extra) do t[k] = v end
  return t
end
local function metric(t)
  t.unit, t.profiles, t.value = "s", ptm.cpu_profiles, ptm.seconds
  ptm.metric(t)
end
metric { name = "seven_cpu", attributes = seven }
metric { name = "seven_cart_cpu", attributes = seven, keep = ptm.attribute_matches("http.route", "^/cart$") }
metric { name = "six_leaf_cpu", attributes = six { ["function.name"] = ptm.leaf_function } }
metric { name = "six_each_cpu", attributes = six { ["function.name"] = ptm.each_function } }
metric { name = "seven_gauge", kind = "gauge", attributes = seven }
metric { name = "seven_top_cpu", top = 2, attributes = seven }
metric { name = "seven_seconds", kind = "histogram", buckets = { 0.05, 0.5 }, attributes = seven }
local derived = {
  deployment = ptm.capture("k8s.pod.name", "^(.*)-[a-z0-9]+-[a-z0-9]+$"),
  pool = ptm.capture("thread.name", "^([a-z]+)-"),
  "process.executable.name",
}
metric { name = "derived_cpu", attributes = derived }
metric { name = "derived_gauge", kind = "gauge", attributes = derived }
]]

-- The five sets of the fixture's README, by attribute.
local A = { ["thread.name"] = "worker-1", ["thread.id"] = 101, ["k8s.pod.name"] = "checkout-7d9f-abcde",
            ["http.route"] = "/cart", ["cpu.id"] = 0, ["process.executable.name"] = "checkoutd",
            ["k8s.namespace.name"] = "shop" }
local function but(t, changes)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  for k, v in pairs(changes) do
    if v == false then out[k] = nil else out[k] = v end
  end
  return out
end
local B = but(A, { ["http.route"] = "/pay" })
local C = but(A, { ["thread.name"] = "worker-2", ["thread.id"] = 102, ["k8s.pod.name"] = "checkout-7d9f-fghij",
                   ["cpu.id"] = 1 })
local D = but(C, { ["k8s.namespace.name"] = "default" }) -- the resource's
local E = but(A, { ["thread.name"] = "gc-1", ["thread.id"] = 201, ["k8s.pod.name"] = "checkout-7d9f-fghij",
                   ["http.route"] = false })

-- A series as text: its attributes sorted, k=v joined by ",".
local function key(attrs)
  local list = {}
  for k, v in pairs(attrs) do list[#list + 1] = k .. "=" .. tostring(v):gsub("LL$", "") end
  table.sort(list)
  return table.concat(list, ",")
end

-- { [key] = value } from a table of { attributes, value } pairs.
local function want(list)
  local out = {}
  for _, x in ipairs(list) do out[key(x[1])] = x[2] end
  return out
end

local points
local function got(metric, field)
  local out = {}
  for _, p in ipairs(points) do
    if p.metric == metric then out[key(p.attributes)] = p[field or "value"] end
  end
  return out
end

local function same_values(expect, have)
  for k, v in pairs(expect) do
    assert(have[k], "missing series " .. k)
    assert(math.abs(have[k] - v) < 1e-12, k .. ": " .. tostring(have[k]) .. ", not " .. v)
  end
  for k in pairs(have) do assert(expect[k], "unexpected series " .. k) end
end

describe("a metric reading six or seven sample attributes", function()
  setup(function()
    local file = tmp .. "/sample_sets_spec.lua"
    local f = assert(io.open(file, "w"))
    f:write(RULES)
    f:close()
    local c = assert(ptm.new { builtin_rules = false, rules = { file } })
    local r = assert(c:feed_file(FIXTURE, { format = "otlp-json" }))
    assert.are.same({ profiles = 1, samples = 7, rejected_profiles = 0, rule_failures = 0 }, r)
    points = assert(c:points())
    c:close()
  end)

  it("loads, and gives one series per set of the seven, summed", function()
    same_values(want { { A, 0.03 }, { B, 0.04 }, { C, 0.72 }, { D, 0.16 }, { E, 0.32 } }, got("seven_cpu"))
  end)
  it("through a filter: the samples on /cart (the one without a route fails it)", function()
    same_values(want { { A, 0.03 }, { C, 0.72 }, { D, 0.16 } }, got("seven_cart_cpu"))
  end)
  it("with the leaf function: one series per set and leaf", function()
    local function six(t, leaf) return but(t, { ["http.route"] = false, ["function.name"] = leaf }) end
    -- A and B differ in the route only: without it, one set
    same_values(want {
      { six(A, "checkout"), 0.03 }, { six(B, "serve"), 0.04 }, { six(C, "checkout"), 0.72 },
      { six(D, "serve"), 0.16 }, { six(E, "gc"), 0.32 },
    }, got("six_leaf_cpu"))
  end)
  it("with every function on the stack: each function of each set's stacks gets their whole value", function()
    local function six(t, fn) return but(t, { ["http.route"] = false, ["function.name"] = fn }) end
    same_values(want {
      { six(A, "checkout"), 0.03 }, { six(A, "serve"), 0.07 }, { six(A, "main"), 0.07 },
      { six(C, "checkout"), 0.72 }, { six(C, "serve"), 0.72 }, { six(C, "main"), 0.72 },
      { six(D, "serve"), 0.16 }, { six(D, "main"), 0.16 },
      { six(E, "gc"), 0.32 }, { six(E, "main"), 0.32 },
    }, got("six_each_cpu"))
  end)
  it("as a gauge", function()
    same_values(want { { A, 0.03 }, { B, 0.04 }, { C, 0.72 }, { D, 0.16 }, { E, 0.32 } }, got("seven_gauge"))
  end)
  it("with top 2: the two largest sets, the rest in the overflow series", function()
    same_values(want { { C, 0.72 }, { E, 0.32 }, { { ["otel.metric.overflow"] = true }, 0.23 } },
                got("seven_top_cpu"))
  end)
  it("as a histogram: each sample observed in its set's series", function()
    same_values(want { { A, 2 }, { B, 1 }, { C, 2 }, { D, 1 }, { E, 1 } }, got("seven_seconds", "count"))
    same_values(want { { A, 0.03 }, { B, 0.04 }, { C, 0.72 }, { D, 0.16 }, { E, 0.32 } },
                got("seven_seconds", "sum"))
    local buckets = got("seven_seconds", "bucket_counts") -- <= 0.05, <= 0.5, more
    assert.are.same({ 2, 0, 0 }, buckets[key(A)]) -- 0.01, 0.02
    assert.are.same({ 1, 0, 0 }, buckets[key(B)]) -- 0.04
    assert.are.same({ 0, 1, 1 }, buckets[key(C)]) -- 0.08, 0.64
    assert.are.same({ 0, 1, 0 }, buckets[key(D)]) -- 0.16
    assert.are.same({ 0, 1, 0 }, buckets[key(E)]) -- 0.32
  end)
  it("values derived from the attributes: the sets that give the same values are one series", function()
    local worker = { deployment = "checkout", pool = "worker", ["process.executable.name"] = "checkoutd" }
    local gc = but(worker, { pool = "gc" })
    -- A, B, C and D: 0.03 + 0.04 + 0.72 + 0.16; E alone
    local expect = want { { worker, 0.95 }, { gc, 0.32 } }
    same_values(expect, got("derived_cpu"))
    same_values(expect, got("derived_gauge"))
  end)
end)
