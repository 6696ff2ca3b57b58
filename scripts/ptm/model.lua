-- SPDX-License-Identifier: Apache-2.0
--
-- Reading the model of the request being converted, with per-request caches
-- keyed by index: strings, attribute keys and values, function names, each
-- stack's leaf function and its distinct functions. Everything a rule could
-- ask about a string, function or stack is worked out once per request, not
-- once per sample.
local ffi = require "ptm.ffi"
local core = require "ptm.core"
local scratch = require "ptm.scratch"

local M = {}

local m = nil         -- struct ptm_model * of the current run
-- Bounded caches (ptm.scratch): read .t, store with scratch.put.
local strings = scratch.cache()     -- string index -> Lua string
local attr_values = scratch.cache() -- attribute index -> Lua value (NONE = none)

-- Function names have dense ids ("name ids", 0 = no function), kept in C
-- (engine/model/function_keys.c) with each stack's leaf and distinct names.
local fk = nil         -- struct ptm_function_keys * of the current run
local LEAF = nil       -- const uint32_t[stacks]: each stack's leaf name id
local names = scratch.cache() -- name id -> Lua string, filled on use
local NAME_VALUE = nil -- uint32[name ids]: the name's store value id + 1, filled on use (0: not yet)
local name_len = ffi.new("uint32_t[1]")
local KEY = nil        -- uint32[attributes]: attribute index -> wanted key id (0 = other)
local wanted = {}      -- key string -> key id, for keys rules look up
local present = {}     -- key id -> true when the request's attributes use it
local wanted_count = 0
local COLUMN = nil     -- uint32[wanted keys]: key id -> its column (1-based; 0 = not present)
local columns = 0

--- The model of the current run (cdata).
function M.model() return m end

local run_id = 0

--- A number that changes with every model converted (for caches).
function M.run_id() return run_id end

--- Start converting a model: size the caches for its tables.
function M.begin(model)
  m = model
  run_id = run_id + 1
  strings, attr_values, names = scratch.cache(), scratch.cache(), scratch.cache()
  fk = core.api.fk_create(m)
  if fk == nil then error("not enough memory keying the request's functions", 0) end
  LEAF = core.api.fk_leaves(fk)
  -- freed with the run
  NAME_VALUE = scratch.array("uint32_t", core.api.fk_count(fk) + 1)
  KEY = scratch.array("uint32_t", m.attributes.len + 1)
  present = {}
  for i = 0, m.attributes.len - 1 do
    local key = M.string(m.attributes.data[i].key)
    local id = wanted[key] or 0
    KEY[i] = id
    present[id] = true
  end
  COLUMN, columns = scratch.array("uint32_t", wanted_count + 1), 0
  for id = 1, wanted_count do
    if present[id] then
      columns = columns + 1
      COLUMN[id] = columns
    end
  end
end

--- True when some attribute of the request has the wanted key id.
function M.key_present(id) return present[id] == true end

--- The column of a wanted key id that the request's attributes use
-- (1-based), or nil.
function M.column(id)
  local c = present[id] and COLUMN[id]
  return c or nil
end

--- How many columns there are.
function M.column_count() return columns end

--- What ptm_samples_read needs to fill the columns (engine/lua/samples.h),
-- column c (1-based) of sample i at out[(c - 1) * stride + i].
local sample_columns = ffi.new("struct ptm_sample_columns")
function M.sample_columns(stride, out)
  sample_columns.key_of, sample_columns.column_of, sample_columns.columns = KEY, COLUMN, columns
  sample_columns.stride, sample_columns.out = stride, out
  return sample_columns
end

--- Finish a run: drop every reference into the model.
-- Between runs the caches are this one, empty: finishing allocates nothing,
-- so that it cannot fail when a rule has filled the capped Lua heap (and
-- leave the C function keys behind).
local idle = scratch.cache()

function M.finish()
  m = nil
  if fk ~= nil then core.api.fk_destroy(fk) end
  fk, LEAF, KEY, COLUMN, NAME_VALUE = nil, nil, nil, nil, nil
  strings, attr_values, names = idle, idle, idle
end

--- Register an attribute key rules look up per sample; returns its key id.
-- Must be called before begin().
function M.want_key(key)
  local id = wanted[key]
  if not id then
    wanted_count = wanted_count + 1
    id = wanted_count
    wanted[key] = id
  end
  return id
end

function M.str(s)
  if s.len == 0 then return "" end
  return ffi.string(s.ptr, s.len)
end

--- The string at string index i.
function M.string(i)
  local s = strings.t[i]
  if s == nil then
    s = M.str(m.strings.data[i])
    scratch.put(strings, i, s)
  end
  return s
end

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- An AnyValue as a Lua value: strings, booleans and numbers as themselves
-- (64-bit integers beyond 2^53 as decimal strings, so they keep every digit),
-- bytes as hex, arrays and maps as their JSON text.
local function any_value(a)
  local k = a.kind
  if k == 1 then return M.str(a.u.str)
  elseif k == 2 then return a.u.i ~= 0
  elseif k == 3 then
    local i = a.u.i
    if i > -9007199254740992LL and i < 9007199254740992LL then return tonumber(i) end
    return (tostring(i):gsub("LL$", ""))
  elseif k == 4 then return a.u.d
  elseif k == 5 then return hex(M.str(a.u.str))
  elseif k == 6 or k == 7 then return M.json_any(a)
  end
  return nil
end
M.any_value = any_value

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    local map = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\t'] = '\\t', ['\r'] = '\\r' }
    return map[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

function M.json_any(a)
  local k = a.kind
  if k == 6 then
    local parts = {}
    for i = 0, a.u.list.len - 1 do
      parts[#parts + 1] = M.json_any(m.anys.data[a.u.list.off + i])
    end
    return "[" .. table.concat(parts, ",") .. "]"
  elseif k == 7 then
    local parts = {}
    for i = 0, a.u.list.len - 1 do
      local kv = m.keyvalues.data[a.u.list.off + i]
      parts[#parts + 1] = json_string(M.str(kv.key)) .. ":" .. M.json_any(kv.value)
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  local v = any_value(a)
  if type(v) == "string" then return json_string(v) end
  if v == nil then return "null" end
  return tostring(v)
end

local NONE = {} -- cached "no value"

--- The value of dictionary attribute idx as a Lua value (nil when empty).
function M.attr_value(idx)
  local v = attr_values.t[idx]
  if v == nil then
    v = any_value(m.attributes.data[idx].value)
    if v == nil then v = NONE end
    scratch.put(attr_values, idx, v)
  end
  if v == NONE then return nil end
  return v
end

--- The key of dictionary attribute idx.
function M.attr_key(idx)
  return M.string(m.attributes.data[idx].key)
end

--- Key/value pairs of a list of keyvalues (resource, scope) into t.
local function keyvalues_into(t, range)
  for i = 0, range.len - 1 do
    local kv = m.keyvalues.data[range.off + i]
    local key = M.str(kv.key)
    if t[key] == nil then t[key] = any_value(kv.value) end
  end
end

--- The attributes a profile's samples fall back to, in order of precedence:
-- the profile's own, its scope's, its resource's.
function M.profile_attributes(p)
  local t = {}
  local list = p.attributes
  for i = 0, list.len - 1 do
    local idx = m.indices.data[list.off + i]
    local key = M.attr_key(idx)
    if t[key] == nil then t[key] = M.attr_value(idx) end
  end
  keyvalues_into(t, m.scopes.data[p.scope].attributes)
  keyvalues_into(t, m.resources.data[p.resource].attributes)
  return t
end

--- The resource's own attributes.
function M.resource_attributes(r)
  local t = {}
  keyvalues_into(t, m.resources.data[r].attributes)
  return t
end

-- ---- function names ----

--- The name of function index f: its name, else its system name, else
-- "<unknown>".
function M.function_name(f)
  local fn = m.functions.data[f]
  local name = M.string(fn.name)
  if name == "" then name = M.string(fn.system_name) end
  if name == "" then name = "<unknown>" end
  return name
end

--- The per-stack leaf name ids (cdata; 0 = an empty stack).
function M.leaf_array() return LEAF end

--- How many name ids there are (counting 0).
function M.name_count() return core.api.fk_count(fk) end

--- The name of a name id.
function M.name(id)
  local s = names.t[id]
  if s == nil then
    local p = core.api.fk_name(fk, id, name_len)
    s = ffi.string(p, name_len[0])
    scratch.put(names, id, s)
  end
  return s
end

--- The store values of the names of keys[0..n) (name ids), worked out in
-- C on first use: an array by name id of value id + 1 (0: no function).
function M.name_values(keys, n)
  core.api.name_values(core.store, fk, keys, n, NAME_VALUE)
  return NAME_VALUE
end

--- The store value id of a name id's name, or nil for name id 0.
local one_key = ffi.new("uint32_t[1]")
function M.name_value(id)
  one_key[0] = id
  local v = M.name_values(one_key, 1)[id]
  return v ~= 0 and v - 1 or nil
end

--- The name id of a stack's leaf frame (its innermost function), or 0 for
-- an empty stack.
function M.leaf_name_id(st)
  return LEAF[st]
end

--- A stack's distinct function name ids, leaf first: returns the list
-- (cdata), the offset (0) and the length. Recursion counts once. The list is
-- valid until the next call.
function M.stack_names(st)
  local p = core.api.fk_stack(fk, st, name_len)
  if p == nil then error("not enough memory listing a stack's functions", 0) end
  return p, 0, name_len[0]
end

--- Sum the weights of n stacks by function: by each one's leaf, or (each)
-- by every distinct function on it; stacks whose verdict is 2 are left out
-- (verdict may be nil). Writes name ids and sums to keys and sums; returns
-- how many (see ptm_function_keys_sum in engine/model/function_keys.h).
function M.sum_by_function(each, stacks, n, weight, verdict, keys, sums)
  local count = core.api.fk_sum(fk, each, stacks, n, weight, verdict, keys, sums)
  if count == 0xffffffff then error("not enough memory summing stacks by function", 0) end
  return count
end

--- Add each entry (sample key, stack) of aggregator agg_in to the entry
-- (sample key, function) of agg_out of each distinct function on the
-- stack (see engine/lua/spread.h).
function M.spread_functions(agg_in, agg_out)
  if core.api.spread_functions(fk, agg_in, agg_out) ~= 0 then
    error("not enough memory spreading sums over functions", 0)
  end
end

--- Every frame of a stack, leaf first, as plain tables (for stack views).
function M.stack_frames(st)
  local frames = {}
  local s = m.stacks.data[st]
  for i = 0, s.locations.len - 1 do
    local loc = m.indices.data[s.locations.off + i]
    local l = m.locations.data[loc]
    local mapping = M.string(m.mappings.data[l.mapping].filename)
    local address = string.format("0x%x", l.address)
    if l.lines.len == 0 then
      frames[#frames + 1] = { name = address, address = address, mapping = mapping, inlined = false }
    end
    for j = 0, l.lines.len - 1 do
      local line = m.lines.data[l.lines.off + j]
      local f = line["function"]
      frames[#frames + 1] = {
        name = M.function_name(f),
        system_name = M.string(m.functions.data[f].system_name),
        filename = M.string(m.functions.data[f].filename),
        line = tonumber(line.line),
        address = address,
        mapping = mapping,
        inlined = j < l.lines.len - 1,
      }
    end
  end
  return frames
end

return M
