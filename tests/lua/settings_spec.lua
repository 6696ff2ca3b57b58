-- SPDX-License-Identifier: Apache-2.0
--
-- The connector settings as rules see them (scripts/ptm/settings.lua): the
-- filters and attributes a configuration asks for, built from a settings
-- table as engine/api/engine.c pushes it, and ptm.config read-only.
local host = require "ptm_host"
local core = require "ptm.core"
local settings = require "ptm.settings"

local function with(s)
  core.settings = s
end

describe("settings.configured_filters", function()
  after_each(function() with({}) end)

  it("builds nothing when no filter is enabled", function()
    with { process_filter = { enabled = false, patterns = { "x" } }, thread_filter = { enabled = true, patterns = {} } }
    assert.are.same({}, settings.configured_filters())
  end)
  it("process_filter: any of the patterns, unanchored, on process.executable.name", function()
    with { process_filter = { enabled = true, patterns = { "^app$", "db" } } }
    local f = settings.configured_filters()
    assert.are.equal(1, #f)
    assert.are.equal("attribute", f[1].filter)
    assert.are.equal("process.executable.name", f[1].key)
    assert.is_true(f[1].test("app"))
    assert.is_true(f[1].test("mongodb"))
    assert.is_false(f[1].test("apple"))
    assert.is_false(f[1].test(nil))
  end)
  it("a single pattern key stands in for an empty patterns list", function()
    with { process_filter = { enabled = true, patterns = {}, pattern = "^app" } }
    local f = settings.configured_filters()
    assert.are.equal(1, #f)
    assert.is_true(f[1].test("apple"))
    assert.is_false(f[1].test("myapp"))
  end)
  it("thread_filter on thread.name, pattern_filter on any attribute value or function name", function()
    with {
      process_filter = { enabled = true, patterns = { "p" } },
      thread_filter = { enabled = true, patterns = { "^worker" } },
      pattern_filter = { enabled = true, patterns = { "gc" } },
    }
    local f = settings.configured_filters()
    assert.are.equal(3, #f)
    assert.are.equal("process.executable.name", f[1].key)
    assert.are.equal("attribute", f[2].filter)
    assert.are.equal("thread.name", f[2].key)
    assert.is_true(f[2].test("worker-1"))
    assert.is_false(f[2].test("main"))
    assert.are.equal("anything", f[3].filter)
    assert.is_true(f[3].test("runtime.gcBgMarkWorker"))
    assert.is_false(f[3].test("main"))
    assert.is_false(f[3].test(nil))
  end)
  it("a bad pattern is an error naming the pattern", function()
    with { thread_filter = { enabled = true, patterns = { "(" } } }
    local ok, err = pcall(settings.configured_filters)
    assert.is_false(ok)
    assert.truthy(tostring(err):find('bad regular expression "("', 1, true), err)
  end)
end)

describe("settings.configured_attributes", function()
  after_each(function() with({}) end)

  it("gives the metric's attributes back when none are configured", function()
    with {}
    assert.are.same({ "process.executable.name", "thread.name" },
                    settings.configured_attributes { "process.executable.name", "thread.name" })
  end)
  it("adds a literal attribute", function()
    with { attributes = { { key = "service.name", type = "literal", value = "checkout" } } }
    local a = settings.configured_attributes { "thread.name" }
    assert.are.equal("checkout", a["service.name"])
    assert.are.same({ "thread.name" }, { a[1], a[2] })
  end)
  it("a configured attribute replaces one of the same name, and the list stays a list", function()
    with { attributes = { { key = "process.executable.name", type = "literal", value = "fixed" } } }
    local a = settings.configured_attributes { "process.executable.name", "thread.name", "cpu" }
    assert.are.equal("fixed", a["process.executable.name"])
    assert.are.same({ "thread.name", "cpu" }, { a[1], a[2], a[3] })
  end)
  it("regex with a source: the capture of that attribute's value", function()
    with { attributes = { { key = "pod", type = "regex", source = "k8s.pod.name", value = "^(.*)-[a-z0-9]+$" } } }
    local a = settings.configured_attributes {}
    assert.are.equal("attribute", a.pod.source)
    assert.are.equal("k8s.pod.name", a.pod.key)
    assert.are.equal("checkout-7d4b", a.pod.transform("checkout-7d4b-x9z"))
    assert.is_nil(a.pod.transform("UPPER"))
  end)
  it("regex without a source: the first string table match", function()
    with { attributes = { { key = "version", type = "regex", value = "v(\\d+)" } } }
    local a = settings.configured_attributes {}
    assert.are.equal("string_table", a.version.source)
    assert.are.equal("3", a.version.regex:match("app-v3"))
  end)
  it("string_table: the entry at the index (from index, else from value)", function()
    with { attributes = {
      { key = "first", type = "string_table", index = 4 },
      { key = "second", type = "string_table", value = "7" },
    } }
    local a = settings.configured_attributes {}
    assert.are.equal("string_table_index", a.first.source)
    assert.are.equal(4, a.first.index)
    assert.are.equal(7, a.second.index)
  end)
end)

describe("ptm.config", function()
  local cfg = settings.readonly { metrics = { cpu = { enabled = true, metric_name = "cpu_time" } }, series_limit = 5 }

  it("reads through, nested tables too", function()
    assert.is_true(cfg.metrics.cpu.enabled)
    assert.are.equal("cpu_time", cfg.metrics.cpu.metric_name)
    assert.are.equal(5, cfg.series_limit)
    assert.is_nil(cfg.nothing)
  end)
  it("cannot be written, at any depth", function()
    host.fails_here(function() cfg.series_limit = 1 end, "ptm.config is read-only")
    host.fails_here(function() cfg.metrics.cpu.enabled = false end, "ptm.config is read-only")
    assert.is_true(cfg.metrics.cpu.enabled)
  end)
  it("its metatable is protected", function()
    assert.are.equal("ptm.config", getmetatable(cfg))
    assert.has_error(function() setmetatable(cfg, nil) end)
  end)
end)
