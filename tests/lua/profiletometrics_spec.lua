-- SPDX-License-Identifier: Apache-2.0
--
-- The LuaJIT module (engine/api/profiletometrics.lua, as make writes it to
-- build/lua/ with the header's declarations) on the library built here
-- (build/libprofiletometrics.so.MAJOR): converting the example Go CPU
-- profile must give, per function, the flat and cum nanoseconds `go tool
-- pprof -top -unit=ns` prints for it (as tests/e2e/embed checks for the C
-- example), and the project's OTLP fixture (written by build/tools/mkfixture)
-- the CPU seconds per resource counted by hand (tests/unit/fixtures.h).
-- Also: every output format, delta temporality, reset, the error values, the
-- log function, and a closed converter.
local ffi = require "ffi"
local library = require "ptm_library"

local root, tmp, header, ptm = library.root, library.tmp, library.header, library.ptm

local GO_CPU = root .. "/examples/profiles/go-cpu.pb.gz"
local ALL_FUNCTIONS = "connectors:\n  profiletometrics:\n    metrics:\n      function:\n        top_n: 0\n"

local function sh(command)
  local p = io.popen(command)
  local out = p:read("*a")
  local ok = p:close()
  return ok and out or nil
end

-- Seconds as exact nanoseconds.
local function ns(seconds)
  return math.floor(seconds * 1e9 + 0.5)
end

-- Sum the value of metric's points by attribute key (every point: key nil).
local function sums(points, metric, key)
  local out = {}
  for _, p in ipairs(points) do
    if p.metric == metric then
      local k = key and (p.attributes[key] or p.resource[key]) or "all"
      out[k] = (out[k] or 0) + p.value
    end
  end
  return out
end

describe("require 'profiletometrics'", function()
  it("loads the library of the header's version", function()
    assert.are.equal(header:match('#define PTM_VERSION_STRING "([^"]+)"'), ptm.version)
    assert.are.equal(-7, ptm.errors.ECONFIG)
  end)
end)

describe("a Go CPU profile", function()
  local top = sh("HOME=" .. tmp .. " GOCACHE=" .. tmp .. "/gocache go tool pprof -top -unit=ns -nodecount=0 "
    .. "-nodefraction=0 -edgefraction=0 " .. GO_CPU .. " 2>/dev/null")
  local it_pprof = top and it or pending

  it_pprof("gives go tool pprof -top's flat and cum of every function, and its total", function()
    local flat, cum, names = {}, {}, 0
    local total = tonumber(top:match("of (%d+)ns total"))
    local body = false
    for line in top:gmatch("[^\n]+") do
      if body then
        local f, c, name = line:match("^%s*(%d+)n?s?%s+%S+%s+%S+%s+(%d+)n?s?%s+%S+%s+(.-)%s*$")
        flat[name], cum[name] = tonumber(f), tonumber(c)
        names = names + 1
      end
      body = body or line:match("^%s*flat%s+flat%%") ~= nil
    end
    assert.are.equal(9, names) -- the functions of the profile, as pprof lists them

    local c = assert(ptm.new { config_yaml = ALL_FUNCTIONS })
    local r = assert(c:feed_file(GO_CPU))
    assert.are.same({ profiles = 2, samples = 12, rejected_profiles = 0, rule_failures = 0 }, r)
    local points = assert(c:points())
    local self_, total_ = sums(points, "function_self_cpu_time", "function.name"),
      sums(points, "function_total_cpu_time", "function.name")
    for name in pairs(cum) do
      assert.are.equal(flat[name], ns(self_[name] or 0), name .. " flat")
      assert.are.equal(cum[name], ns(total_[name] or 0), name .. " cum")
    end
    for name in pairs(total_) do assert.is_not_nil(cum[name], name .. " is not in pprof's list") end
    assert.are.equal(total, ns(sums(points, "cpu_time").all))
    c:close()
  end)

  it_pprof("gives the same total in Prometheus text, twice after two feeds", function()
    local total = tonumber(top:match("of (%d+)ns total"))
    local c = assert(ptm.new())
    assert(c:feed(io.open(GO_CPU, "rb"):read("*a"), { format = "pprof" }))
    assert(c:feed_file(GO_CPU))
    local text = assert(c:collect("prometheus"))
    assert.are.equal(2 * total, ns(tonumber(text:match("\ncpu_time_seconds_total (%S+)\n"))))
  end)
end)

describe("the OTLP fixture", function()
  local file = tmp .. "/lua-fixture-v10.pb"
  local made = sh(root .. "/build/tools/mkfixture otlp --version 10 --gzip " .. file .. " && echo ok")

  local function fixture()
    local c = assert(ptm.new())
    assert(c:feed_file(file, { format = "otlp", otlp_version = 10 }))
    return c
  end

  it("gives the CPU seconds per resource counted by hand", function()
    assert.are.equal("ok\n", made)
    local cpu = sums(fixture():points(), "cpu_time", "service.name")
    assert.are.equal(70000000, ns(cpu.checkout)) -- 7 events x 10 ms
    assert.are.equal(60000000, ns(cpu.billing))  -- 60 ms of cpu/nanoseconds values
  end)

  it("comes out in every format", function()
    local c = fixture()
    local pb = assert(c:collect("otlp"))
    assert.are.equal(0x0a, pb:byte(1)) -- field 1, resource_metrics
    assert.truthy(assert(c:collect("otlp-json")):find('"name":"cpu_time"', 1, true))
    assert.truthy(assert(c:collect("table")):find("cpu_time", 1, true))
    assert.has_error(function() c:collect("yaml") end, "unknown output format 'yaml'")
  end)

  it("hands over points with times as uint64 and attributes typed", function()
    local points = fixture():points { now = 1800000000000000000ULL }
    local p
    for _, q in ipairs(points) do
      if q.metric == "cpu_time" and q.resource["service.name"] == "billing" then p = q end
    end
    assert.are.equal("counter", p.kind)
    assert.are.equal("cumulative", p.temporality)
    assert.are.equal("s", p.unit)
    assert.are.equal("billd", p.resource["process.executable.name"])
    assert.are.equal("uint64_t", tostring(ffi.typeof(p.time_unix_nano)):match("ctype<(.-)>"))
  end)

  it("with delta temporality, each collect is a flush", function()
    local c = assert(ptm.new { config_yaml = "connectors:\n  profiletometrics:\n    temporality: delta\n" })
    assert(c:feed_file(file))
    assert.are.equal(130000000, ns(sums(c:points(), "cpu_time").all))
    assert.is_nil(sums(c:points(), "cpu_time").all)
    assert(c:feed_file(file))
    assert.are.equal(130000000, ns(sums(c:points(), "cpu_time").all))
  end)

  it("reset forgets every series", function()
    local c = fixture()
    assert.is_true(c:reset())
    assert.are.same({}, c:points())
  end)
end)

describe("errors", function()
  it("a bad configuration: nil, the message with its line, ECONFIG; every line logged", function()
    local lines = {}
    local c, message, code = ptm.new {
      config_yaml = "connectors:\n  profiletometrics:\n    temporality: sideways\n",
      log = function(line) lines[#lines + 1] = line end,
    }
    assert.is_nil(c)
    assert.are.equal(ptm.errors.ECONFIG, code)
    assert.truthy(message:find("<configuration>:3:18: connectors.profiletometrics.temporality", 1, true))
    assert.are.same({ message }, lines)
  end)

  it("a bad input: nil, the message, EFORMAT and what it gave", function()
    local c = assert(ptm.new())
    local r, message, code, result = c:feed("{\"resourceProfiles\": 5}", { format = "otlp-json" })
    assert.is_nil(r)
    assert.are.equal(ptm.errors.EFORMAT, code)
    assert.truthy(message:find("resourceProfiles", 1, true))
    assert.are.equal(0, result.profiles)
    local _, missing, eio = c:feed_file(tmp .. "/no-such-file.pprof")
    assert.are.equal(ptm.errors.EIO, eio)
    assert.are.equal(tmp .. "/no-such-file.pprof: No such file or directory", missing)
    assert.has_error(function() c:feed("", { format = "xml" }) end, "unknown input format 'xml'")
  end)

  it("a rule that fails is logged and counted, the others go on", function()
    local rule = tmp .. "/lua-failing-rule.lua"
    local f = io.open(rule, "w")
    f:write('local ptm = require "ptm"\nptm.metric { name = "broken", unit = "s",\n'
      .. '  profiles = ptm.profile_type { period_type = "cpu" },\n  value = function() error("boom") end }\n')
    f:close()
    local lines = {}
    local c = assert(ptm.new { rules = { rule }, log = function(line) lines[#lines + 1] = line end })
    local r = assert(c:feed_file(GO_CPU))
    assert.are.equal(2, r.rule_failures) -- both sample types of the one CPU profile
    assert.are.equal(2, #lines)
    assert.truthy(lines[1]:find("boom", 1, true))
    assert.truthy(c:collect("prometheus"):find("\ncpu_time_seconds_total 2.98\n", 1, true))
    os.remove(rule)
  end)

  it("a closed converter says so", function()
    local c = assert(ptm.new())
    c:close()
    c:close()
    assert.has_error(function() c:feed("") end, "the converter was closed")
  end)
end)
