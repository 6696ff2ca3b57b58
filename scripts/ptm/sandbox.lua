-- SPDX-License-Identifier: Apache-2.0
--
-- The environment a rule file runs in. Each rule gets its own: a strict
-- global table (reading or writing an undeclared global is an error, so a
-- typo fails loudly instead of reading nil), copies of the safe standard
-- libraries (a rule changing its `string` table changes nobody else's), and
-- a `require` that knows only ptm, lpeg and re, and an ipairs that walks
-- read-only lists. Not there: io, os, debug, ffi, jit, package, load*,
-- dofile, getfenv/setfenv, rawset, collectgarbage, string.dump (nor
-- ("").dump). Bytecode never loads: chunks are loaded in text mode.
--
-- Also here: the C functions that call back into Lua (gsub, format, sort,
-- coroutines, lpeg) or can run long (string patterns) get a check in front
-- (engine/lua/cstack.h: the C stack, and the time limit, which a hook
-- cannot enforce inside C), xpcall does not hand the time limit's error to
-- a rule's handler, and
-- print is bounded (lines per request, bytes per line) and cannot forge log
-- lines. docs/rules.md, "The sandbox", is the user's view of all this.
local M = {}

local function copy(t, without)
  local c = {}
  for k, v in pairs(t) do
    if not (without and without[k]) then c[k] = v end
  end
  return c
end

-- The libraries rules get copies of. string_methods is also what every
-- string's methods are: the string metatable, shared by every string in the
-- state, is protected, so no rule can reach the real string library through
-- (""), and ("").dump is not a way around the rule's own string table.
local string_methods = copy(string, { dump = true })
local table_lib = copy(table)
local coroutine_lib = copy(coroutine)
do
  local string_mt = getmetatable("")
  string_mt.__index = string_methods
  string_mt.__metatable = "protected"
end

local lpeg_ok, lpeg = pcall(require, "lpeg")
local re_ok, re = pcall(require, "re")
if lpeg_ok then
  getmetatable(lpeg.P(1)).__metatable = "protected" -- shared by every pattern
  -- The module table is also every pattern's methods (the metatable's
  -- __index), so what is taken out here is out of reach of rules: the
  -- backtracking limit is the state's, not a rule's to raise.
  lpeg.setmaxstack = nil
end

local rule_xpcall = xpcall

--- What the host (engine/lua/runtime.c) adds, installed once by the
-- runtime before any rule loads:
--   host.check_c_call (engine/lua/cstack.c) goes in front of every C
--     function a rule can reach that calls back into Lua (each level of
--     such calls nests on the C stack, which LuaJIT does not watch) or can
--     run long (a Lua pattern can backtrack for hours; the hook cannot
--     interrupt C, but a rule calling such functions one after another is
--     stopped at the next call);
--   host.over_time (engine/lua/budget.c) keeps a rule's xpcall handler
--     from running for the time limit's error: that error is raised in a
--     hook, and handled before the hook returns, with hooks off, so a
--     handler that looped then could not be stopped. The handler is not
--     needed either: the error is raised again at the next instruction.
function M.install(host)
  local check, over_time = host.check_c_call, host.over_time
  rule_xpcall = function(f, handler, ...)
    return xpcall(f, function(e)
      if over_time() then return e end
      return handler(e)
    end, ...)
  end
  local function guarded(fn)
    -- a tail call: errors of fn still name the rule's line and 'fn'
    return function(...)
      check()
      return fn(...)
    end
  end
  string_methods.find = guarded(string.find)
  string_methods.match = guarded(string.match)
  string_methods.gsub = guarded(string.gsub)
  string_methods.format = guarded(string.format)
  local real_gmatch = string.gmatch
  string_methods.gmatch = function(s, pattern)
    local args = { s, pattern }
    for i = 1, 2 do
      local t = type(args[i])
      if t ~= "string" and t ~= "number" then
        error("bad argument #" .. i .. " to 'gmatch' (string expected, got " .. t .. ")", 2)
      end
    end
    return guarded(real_gmatch(s, pattern)) -- each step matches anew
  end
  table_lib.sort = guarded(table.sort)
  table_lib.foreach = guarded(table.foreach)
  table_lib.foreachi = guarded(table.foreachi)
  coroutine_lib.resume = guarded(coroutine.resume)
  local real_wrap = coroutine.wrap
  coroutine_lib.wrap = function(f)
    if type(f) ~= "function" then
      error("bad argument #1 to 'wrap' (function expected, got " .. type(f) .. ")", 2)
    end
    return guarded(real_wrap(f))
  end
  if lpeg_ok then lpeg.match = guarded(lpeg.match) end
end

-- pairs as Lua 5.2 has it (LuaJIT's ignores __pairs), so a rule can walk
-- ptm.config, whose __pairs hands out read-only views only.
local real_metatable = debug.getmetatable
local function rule_pairs(t)
  if type(t) ~= "table" then
    error("bad argument #1 to 'pairs' (table expected, got " .. type(t) .. ")", 2)
  end
  local mt = real_metatable(t)
  if type(mt) == "table" and mt.__pairs then return mt.__pairs(t) end
  return pairs(t)
end

-- ipairs as Lua 5.3 has it (LuaJIT's reads the table raw): it reads
-- through __index, so a rule can walk the lists of read-only views such as
-- ptm.config.process_filter.patterns.
local function ipairs_step(t, i)
  i = i + 1
  local v = t[i]
  if v ~= nil then return i, v end
end

local function rule_ipairs(t)
  if type(t) ~= "table" then
    error("bad argument #1 to 'ipairs' (table expected, got " .. type(t) .. ")", 2)
  end
  return ipairs_step, t, 0
end

-- print: at most PRINT_LINES lines per rule and request (and while the
-- rule file loads), each cut at PRINT_BYTES, control characters written as
-- escapes so that one print is one log line and cannot pass for another.
M.PRINT_LINES = 100
M.PRINT_BYTES = 4096
local request = 0

--- A new request begins: every rule may print PRINT_LINES lines again.
function M.new_request()
  request = request + 1
end

local escapes = { ["\n"] = "\\n", ["\r"] = "\\r" }
local function escape(c)
  return escapes[c] or string.format("\\%03d", c:byte())
end

local function printer(name, log)
  local lines, counted_in = 0, request
  return function(...)
    if counted_in ~= request then lines, counted_in = 0, request end
    lines = lines + 1
    if lines > M.PRINT_LINES then
      if lines == M.PRINT_LINES + 1 then
        log(name, string.format("print: more than %d lines in one request; the rest are dropped", M.PRINT_LINES))
      end
      return
    end
    local parts = {}
    for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
    local text = table.concat(parts, "\t")
    local cut = ""
    if #text > M.PRINT_BYTES then
      cut = string.format(" ... (%d more bytes)", #text - M.PRINT_BYTES)
      text = text:sub(1, M.PRINT_BYTES)
    end
    log(name, text:gsub("[%z\1-\8\10-\31\127]", escape) .. cut)
  end
end

--- A fresh environment for rule `name`; ptm is that rule's API table.
-- print writes to the log through log(name, text).
function M.env(name, ptm, log)
  local env = {
    assert = assert, error = error, ipairs = rule_ipairs, next = next, pairs = rule_pairs,
    pcall = pcall, select = select, tonumber = tonumber, tostring = tostring,
    type = type, unpack = unpack, xpcall = rule_xpcall, rawequal = rawequal,
    rawget = rawget, setmetatable = setmetatable, getmetatable = getmetatable,
    _VERSION = _VERSION,
    string = copy(string_methods),
    table = copy(table_lib),
    math = copy(math),
    bit = copy(require "bit"),
    coroutine = copy(coroutine_lib),
    print = printer(name, log),
  }
  env.require = function(mod)
    if mod == "ptm" then return ptm end
    if mod == "lpeg" then
      if not lpeg_ok then error("lpeg is not installed (Debian package lua-lpeg)", 2) end
      return copy(lpeg)
    end
    if mod == "re" then
      if not re_ok then error("lpeg's re module is not installed (Debian package lua-lpeg)", 2) end
      return copy(re)
    end
    error("module '" .. tostring(mod) .. "' is not available to rules (only ptm, lpeg and re)", 2)
  end
  env._G = env
  return setmetatable(env, {
    __index = function(_, k)
      error("undeclared global '" .. tostring(k) .. "'", 2)
    end,
    __newindex = function(_, k)
      error("assignment to undeclared global '" .. tostring(k) .. "' (declare it local)", 2)
    end,
    __metatable = "rule environment",
  })
end

return M
