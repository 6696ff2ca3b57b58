-- SPDX-License-Identifier: Apache-2.0
--
-- Regular expressions for rules: PCRE2 patterns compiled once in C. A regex
-- object answers for Lua strings and for strings of the model by index, and
-- remembers its answers per string index of the request being converted, so
-- each distinct string is matched once.
local ffi = require "ptm.ffi"
local core = require "ptm.core"

local M = {}

local Regex = {}
Regex.__index = Regex
Regex.__metatable = "ptm.regex"
Regex.__tostring = function(self) return "ptm.regex(" .. string.format("%q", self.pattern) .. ")" end

local off = ffi.new("size_t[1]")
local len = ffi.new("size_t[1]")

-- Match a pointer and length. Returns nil, or the capture (group 1 when the
-- pattern has one, else the whole match) as a Lua string.
function Regex:match_bytes(ptr, n)
  local rc = core.api.regex_match(self.re, ptr, n, off, len)
  if rc > 0 then
    return ffi.string(ptr + off[0], len[0])
  elseif rc < 0 then
    error("regular expression " .. self.pattern .. " gave up (too much backtracking)", 0)
  end
  return nil
end

--- Match s (a string; numbers and booleans are matched as their text).
-- Returns nil, or the capture: group 1 when the pattern has one and it took
-- part, else the whole match.
function Regex:match(s)
  if s == nil then return nil end
  s = tostring(s)
  local rc = core.api.regex_match(self.re, s, #s, off, len)
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
    error("a regular expression must be a string, got " .. type(pattern), 3)
  end
  local hit = compiled[pattern]
  if hit then return hit end
  local err = ffi.new("struct ptm_error")
  local re = core.api.regex_compile(pattern, #pattern, err)
  if re == nil then
    error(ffi.string(err.message), 3)
  end
  local self = setmetatable({ pattern = pattern, re = ffi.gc(re, core.api.regex_free) }, Regex)
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
