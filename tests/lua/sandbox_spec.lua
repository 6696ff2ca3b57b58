-- SPDX-License-Identifier: Apache-2.0
--
-- The environment a rule runs in (scripts/ptm/sandbox.lua), built directly:
-- what is there, what is not, and that one rule's environment is not
-- another's. tests/e2e/sandbox drives the same doors through the binary;
-- this is the quick, per-function view of them.
require "ptm_host"
local sandbox = require "ptm.sandbox"
local settings = require "ptm.settings"

local function env_of(name)
  local lines = {}
  local env = sandbox.env(name or "spec", { marker = name }, function(rule, text) lines[#lines + 1] = rule .. ": " .. text end)
  return env, lines
end

-- Run source as a rule chunk in env; returns ok, error message.
local function run(env, source)
  local chunk, err = load(source, "=rule", "t", env)
  if not chunk then return false, err end
  return pcall(chunk)
end

describe("a rule environment", function()
  it("has none of the dangerous libraries and functions", function()
    local env = env_of()
    for _, name in ipairs { "io", "os", "debug", "ffi", "jit", "package", "load", "loadstring", "dofile",
                            "loadfile", "getfenv", "setfenv", "rawset", "collectgarbage", "gcinfo",
                            "newproxy", "module" } do
      local ok, err = run(env, "return " .. name)
      assert.is_false(ok, name .. " is reachable")
      assert.are.equal("rule:1: undeclared global '" .. name .. "'", err)
    end
  end)
  it("has no string.dump, neither in its string table nor through string methods", function()
    local env = env_of()
    assert.is_nil(env.string.dump)
    assert.are.same({ true, nil }, { run(env, 'return ("").dump') })
    assert.are.same({ true, "xx" }, { run(env, 'return ("x"):rep(2)') })
  end)
  it("cannot reach or change the string metatable", function()
    local env = env_of()
    assert.are.same({ true, "protected" }, { run(env, 'return getmetatable("")') })
    local ok, err = run(env, 'getmetatable("").__index = {}')
    assert.is_false(ok)
    assert.truthy(err:find("attempt to index a string value", 1, true), err)
  end)
  it("requires only ptm, lpeg and re; ptm is the rule's own table", function()
    local env = env_of("mine")
    assert.are.equal("mine", env.require("ptm").marker)
    for _, mod in ipairs { "ffi", "jit", "io", "os", "debug", "string", "ptm.core", "ptm.runtime", "ptm.sandbox" } do
      local ok, err = run(env, 'local m = require "' .. mod .. '"; return m')
      assert.is_false(ok, mod .. " was given")
      assert.are.equal("rule:1: module '" .. mod .. "' is not available to rules (only ptm, lpeg and re)", err)
    end
  end)
  it("errors on reading and writing undeclared globals, naming the line", function()
    local env = env_of()
    assert.are.same({ false, "rule:2: undeclared global 'typo'" }, { run(env, "local a = 1\nreturn typo") })
    assert.are.same({ false, "rule:1: assignment to undeclared global 'x' (declare it local)" }, { run(env, "x = 1") })
    assert.are.same({ false, "rule:1: cannot change a protected metatable" }, { run(env, "setmetatable(_G, nil)") })
  end)
  it("is its own: changing its string, table or math changes no other rule's", function()
    local a, b = env_of("a"), env_of("b")
    assert.is_true((run(a, "string.upper = nil; table.insert = nil; math.floor = nil")))
    assert.are.same({ true, "X" }, { run(b, 'return string.upper("x")') })
    assert.are.same({ true, 1 }, { run(b, "return math.floor(1.5)") })
    assert.is_function(table.insert)
    assert.is_function(string.upper)
  end)
  it("print goes to the log with the rule's name", function()
    local env, lines = env_of("printer")
    assert.is_true((run(env, 'print("a", 1, nil)')))
    assert.are.same({ "printer: a\t1\tnil" }, lines)
  end)
  it("ipairs walks the lists of ptm.config", function()
    local env = env_of()
    local cfg = settings.readonly { process_filter = { patterns = { "^app", "db" } } }
    local got = {}
    for i, p in env.ipairs(cfg.process_filter.patterns) do got[i] = p end
    assert.are.same({ "^app", "db" }, got)
    assert.has_error(function() env.ipairs(nil) end, "bad argument #1 to 'ipairs' (table expected, got nil)")
  end)
  it("pairs walks ptm.config, and what it hands out is read-only too", function()
    local env = env_of()
    local raw = { metrics = { cpu = { enabled = true } }, series_limit = 5 }
    local cfg = settings.readonly(raw)
    local keys = {}
    for k, v in env.pairs(cfg) do
      keys[#keys + 1] = k
      if k == "metrics" then pcall(function() v.cpu.enabled = false end) end
    end
    table.sort(keys)
    assert.are.same({ "metrics", "series_limit" }, keys)
    assert.is_true(raw.metrics.cpu.enabled)
  end)
end)

describe("print in a rule", function()
  it("logs at most PRINT_LINES lines per request, then says the rest are dropped", function()
    local env, lines = env_of("chatty")
    sandbox.new_request()
    assert.is_true((run(env, "for i = 1, 1000 do print(i) end")))
    assert.are.equal(sandbox.PRINT_LINES + 1, #lines)
    assert.are.equal("chatty: 100", lines[sandbox.PRINT_LINES])
    assert.are.equal("chatty: print: more than 100 lines in one request; the rest are dropped", lines[#lines])
    -- a new request, a new allowance
    sandbox.new_request()
    assert.is_true((run(env, "print('again')")))
    assert.are.equal("chatty: again", lines[#lines])
  end)
  it("writes one line per print: control characters are escapes", function()
    local env, lines = env_of("p")
    assert.is_true((run(env, [[print("a\nb\r\0c\27[31m", "\tt")]])))
    assert.are.same({ "p: a\\nb\\r\\000c\\027[31m\t\tt" }, lines)
  end)
  it("cuts a long line, saying how much is left out", function()
    local env, lines = env_of("p")
    assert.is_true((run(env, "print(('y'):rep(5000))")))
    assert.are.same({ "p: " .. ("y"):rep(sandbox.PRINT_BYTES) .. " ... (904 more bytes)" }, lines)
  end)
end)

describe("lpeg in a rule", function()
  local has_lpeg = pcall(require, "lpeg")
  it("has no setmaxstack, neither in its module table nor as a pattern method", function()
    if not has_lpeg then return pending("lua-lpeg is not installed") end
    local env = env_of()
    assert.are.same({ true, true }, { run(env, [[
      local lpeg = require "lpeg"
      return lpeg.setmaxstack == nil and lpeg.P(1).setmaxstack == nil]]) })
  end)
end)

describe("what a rule hands to ptm.metric", function()
  it("is copied: changing the table afterwards changes nothing that compiles", function()
    local api = require "ptm.api"
    local ptm_host = require "ptm_host"
    local rule = ptm_host.loading("toctou")
    local t = { name = "toctou_metric", profiles = function() return true end, value = api.count }
    api.metric(t)
    t.name, t.description, t.value = nil, 5, "not a function"
    ptm_host.done_loading()
    local def = rule.metrics[1].def
    assert.are.equal("toctou_metric", def.name)
    assert.is_nil(def.description)
    assert.are.equal(api.count, def.value)
  end)
end)

-- Last: install changes the libraries the sandbox hands out, and the string
-- methods of every string, for the rest of this file (busted's own string
-- calls included: the check refuses only while `refuse` is set).
describe("a rule environment with the host's checks installed", function()
  local checks, over = 0, false
  local refuse = false
  setup(function()
    sandbox.install {
      check_c_call = function()
        checks = checks + 1
        if refuse then error("refused by the check", 0) end
      end,
      over_time = function() return over end,
    }
  end)
  it("checks before every C function that calls back into Lua or runs a pattern", function()
    local env = env_of()
    local calls = {
      'string.gsub("a", ".", "b")', '("a"):gsub(".", "b")', 'string.format("%s", "x")', '("%s"):format("x")',
      'string.find("a", "a")', '("a"):match("a")', 'for w in ("a b"):gmatch("%a") do end',
      "table.sort({ 2, 1 })", "table.foreach({ 1 }, print)", "table.foreachi({ 1 }, print)",
      "coroutine.resume(coroutine.create(function() end))", "coroutine.wrap(function() end)()",
    }
    if pcall(require, "lpeg") then
      calls[#calls + 1] = 'local lpeg = require "lpeg"; lpeg.match(lpeg.P(1), "x")'
      calls[#calls + 1] = 'local lpeg = require "lpeg"; lpeg.P(1):match("x")'
      calls[#calls + 1] = 'local re = require "re"; re.gsub("a", ".", "b")'
    end
    for _, call in ipairs(calls) do
      checks = 0
      assert.is_true((run(env, call)), call)
      assert.is_true(checks >= 1, call .. " was not checked")
      refuse = true
      local got = { run(env, call) }
      refuse = false
      assert.are.same({ false, "refused by the check" }, got, call)
    end
  end)
  it("keeps the errors of a bad argument at the rule's line, naming the function", function()
    local env = env_of()
    assert.are.same({ false, "rule:1: bad argument #1 to 'wrap' (function expected, got nil)" },
                    { run(env, "coroutine.wrap(nil)") })
    assert.are.same({ false, "rule:1: bad argument #2 to 'gmatch' (string expected, got nil)" },
                    { run(env, "for w in string.gmatch('a') do end") })
    -- as LuaJIT words it for a method call
    assert.are.same({ false, "rule:1: bad argument #1 to 'find' (string expected, got no value)" },
                    { run(env, "local i = ('a'):find()") })
  end)
  it("calls an xpcall handler, except for an error past the time limit", function()
    local env = env_of()
    local code = "return xpcall(function() error('e', 0) end, function(e) return 'handled ' .. e end)"
    over = false
    assert.are.same({ true, false, "handled e" }, { run(env, code) })
    over = true
    assert.are.same({ true, false, "e" }, { run(env, code) })
    over = false
  end)
end)
