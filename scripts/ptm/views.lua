-- SPDX-License-Identifier: Apache-2.0
--
-- What rule callbacks see of a stack: a read-only view whose frames are read
-- from the model on demand. A view is valid only while the callback that got
-- it runs for its profile; kept and used later, it says so instead of
-- reading memory of a request that is gone. Function-name tests are cached
-- per function name for the request, so each name is tested once.
--
-- The same holds inside the runtime: a function that holds a pointer into
-- the request's model across a call to a rule's function must check that
-- the view is still live when the call returns (check_live). The rule may
-- have yielded in a coroutine of its own and been resumed a request later.
local model = require "ptm.model"
local regex = require "ptm.regex"

local M = {}

local generation = 1
local state = setmetatable({}, { __mode = "k" }) -- view -> { gen, st, frames }
local name_tests = setmetatable({}, { __mode = "k" }) -- test -> { name id -> bool }

--- Invalidate every view handed out so far.
function M.expire()
  generation = generation + 1
end

--- Forget the per-request caches (a new model).
function M.reset()
  name_tests = setmetatable({}, { __mode = "k" })
  M.expire()
end

--- The generation of the views handed out now: they stay valid until the
-- next expire().
function M.generation()
  return generation
end

-- Code of the trusted runtime (as engine/lua/budget.c tells it).
local function trusted(source)
  return source:sub(1, 9) == "@scripts/" or source:sub(1, 5) == "=ptm."
end

--- Raise when gen is not the current generation: a view of kind what
-- ("stack view", "profile view") was kept past its call. The error names
-- the rule's line: the first frame of rule code from level (1: the caller's
-- caller) up, or none when the rule left no frame (it tail-called).
function M.check_live(gen, what, level)
  if gen == generation then return end
  local msg = "a " .. what .. " was used after its profile was converted (views are valid only during the call that got them)"
  local k = level + 1
  while true do
    local info = debug.getinfo(k, "S")
    if not info then error(msg, 0) end
    if info.what ~= "C" and not trusted(info.source) then error(msg, k) end
    k = k + 1
  end
end

local function live(view, level)
  local s = state[view]
  M.check_live(s.gen, "stack view", level + 1)
  return s
end

local function frames_of(s)
  if not s.frames then s.frames = model.stack_frames(s.st) end
  return s.frames
end

local methods = {}

--- Iterate the frames, leaf first: each { name, system_name, filename,
-- line, address, mapping, inlined }.
function methods.frames(view)
  local frames = frames_of(live(view, 2))
  local i = 0
  return function()
    live(view, 2)
    i = i + 1
    local f = frames[i]
    if f then
      return { name = f.name, system_name = f.system_name, filename = f.filename, line = f.line,
               address = f.address, mapping = f.mapping, inlined = f.inlined }
    end
  end
end

--- Iterate the function names of the frames, leaf first.
function methods.functions(view)
  local frames = frames_of(live(view, 2))
  local i = 0
  return function()
    live(view, 2)
    i = i + 1
    return frames[i] and frames[i].name
  end
end

--- The frame at position i (1 = leaf), or nil.
function methods.frame(view, i)
  local f = frames_of(live(view, 2))[i]
  if f == nil then return nil end
  return { name = f.name, system_name = f.system_name, filename = f.filename, line = f.line,
           address = f.address, mapping = f.mapping, inlined = f.inlined }
end

--- The leaf frame's function name, or nil for an empty stack.
function methods.leaf(view)
  local s = live(view, 2)
  local id = model.leaf_name_id(s.st)
  if id == 0 then return nil end
  return model.name(id)
end

--- True when a function on the stack matches pattern (a regex string, a
-- ptm.regex, or a function of the name).
function methods.has_function(view, pattern)
  local s = live(view, 2)
  local test = pattern
  if type(pattern) ~= "function" then
    local re = regex.of(pattern)
    test = function(name) return re:match(name) ~= nil end
  end
  return M.any_function(s.st, test)
end

local mt = {
  __index = function(view, k)
    local s = live(view, 2)
    if k == "depth" then return #frames_of(s) end
    if k == "index" then return s.st end
    return methods[k]
  end,
  __newindex = function()
    error("a stack view is read-only", 2)
  end,
  __tostring = function(view)
    return "ptm.stack(" .. tostring(state[view].st) .. ")"
  end,
  __metatable = "ptm.stack",
}

--- A view of stack st for the current profile.
function M.stack_view(st)
  local view = setmetatable({}, mt)
  state[view] = { gen = generation, st = st }
  return view
end

--- fn(view of st).
function M.call_with_stack(fn, st)
  return fn(M.stack_view(st))
end

--- True when test(name) holds for a function anywhere on stack st; each
-- (test, function name) pair is decided once per request.
function M.any_function(st, test)
  local gen = generation
  local cache = name_tests[test]
  if not cache then
    cache = {}
    name_tests[test] = cache
  end
  local list, off, n = model.stack_names(st)
  for j = off, off + n - 1 do
    local id = list[j]
    local v = cache[id]
    if v == nil then
      v = test(model.name(id)) == true
      -- test may be a rule's function that yields, in a coroutine of the
      -- rule resumed in a later request, when list is another request's
      M.check_live(gen, "stack view", 1)
      cache[id] = v
    end
    if v then return true end
  end
  return false
end

--- The verdict of one stack-level filter for stack st.
function M.stack_filter(f, st)
  if f.filter == "stack" then
    return M.call_with_stack(f.test, st) == true
  elseif f.filter == "any_function" then
    return M.any_function(st, f.test) ~= (f.negate == true)
  elseif f.filter == "leaf_function" then
    local id = model.leaf_name_id(st)
    return id ~= 0 and f.test(model.name(id)) == true
  end
  error("not a stack filter: " .. tostring(f.filter))
end

return M
