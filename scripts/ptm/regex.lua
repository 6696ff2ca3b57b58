-- SPDX-License-Identifier: Apache-2.0
--
-- Regular expressions for rules: PCRE2 patterns compiled once in C. A regex
-- object answers for Lua strings and for strings of the model by index, and
-- remembers its answers per string index of the request being converted, so
-- each distinct string is matched once.
local ffi = require "ptm.ffi"
local core = require "ptm.core"

local M = {}

-- A regex object is an empty table: its compiled code (FFI cdata, which
-- must never reach a rule) and its pattern live here, and the object cannot
-- be written to, so no rule can change a regex others share through the cache.
local handle = setmetatable({}, { __mode = "k" })   -- object -> cdata
local patterns = setmetatable({}, { __mode = "k" }) -- object -> pattern
local Regex = {}
local Regex_mt = {
  __index = function(self, k)
    if k == "pattern" then return patterns[self] end
    return Regex[k]
  end,
  __newindex = function() error("a ptm.regex cannot be changed", 2) end,
  __metatable = "ptm.regex",
  __tostring = function(self) return "ptm.regex(" .. string.format("%q", self.pattern) .. ")" end,
}

local off = ffi.new("size_t[1]")
local len = ffi.new("size_t[1]")

--- Match s (a string; numbers and booleans are matched as their text).
-- Returns nil, or the capture: group 1 when the pattern has one and it took
-- part, else the whole match.
function Regex:match(s)
  local re = handle[self]
  if re == nil then error("match is a method of a ptm.regex: call it as re:match(s)", 2) end
  if s == nil then return nil end
  s = tostring(s)
  local rc = core.api.regex_match(re, s, #s, off, len)
  if rc > 0 then
    local o = tonumber(off[0])
    return s:sub(o + 1, o + tonumber(len[0]))
  elseif rc < 0 then
    error("regular expression " .. self.pattern .. " gave up (too much backtracking)", 0)
  end
  return nil
end

--- True when the pattern occurs in s.
function Regex:find(s)
  return self:match(s) ~= nil
end

local compiled = setmetatable({}, { __mode = "v" })
local genuine = setmetatable({}, { __mode = "k" }) -- the regex objects made here

--- Compile pattern (PCRE2 syntax, an unanchored search like Go's
-- regexp.MatchString). Errors name the pattern and the offset.
function M.compile(pattern)
  if type(pattern) ~= "string" then
    error("a regular expression must be a string, got " .. type(pattern), 0)
  end
  local hit = compiled[pattern]
  if hit then return hit end
  local err = ffi.new("struct ptm_error")
  local re = core.api.regex_compile(pattern, #pattern, err)
  if re == nil then
    error(ffi.string(err.message), 0) -- the rule API adds the rule's file and line
  end
  local self = setmetatable({}, Regex_mt)
  handle[self] = ffi.gc(re, core.api.regex_free)
  patterns[self] = pattern
  compiled[pattern] = self
  genuine[self] = true
  return self
end

--- True when x is a compiled regex.
function M.is(x)
  return genuine[x] == true
end

--- A regex from a pattern string or an already compiled regex.
function M.of(x)
  if genuine[x] then return x end
  return M.compile(x)
end

return M
