-- SPDX-License-Identifier: Apache-2.0
--
-- What the runtime holds while it converts one request, kept bounded
-- whatever the request holds. A request may carry millions of distinct
-- attribute values; the series limit keeps the output small, and this keeps
-- the way there within the rules' capped Lua heap:
--   * arrays sized by the request's tables (a million attributes make tens
--     of megabytes of them) come from the C heap, not the capped Lua heap,
--     and are freed when the run ends (the input's size bounds them, as it
--     bounds the model they index);
--   * caches keyed by index or value (strings, attribute values, store
--     value ids) start again once they hold CACHE_ENTRIES entries, and the
--     garbage a dropped cache leaves is collected at once: LuaJIT does not
--     collect when an allocation fails at the cap, it fails.
local ffi = require "ptm.ffi"

local M = {}

--- Entries a per-request cache holds before it starts again.
M.CACHE_ENTRIES = 65536

local SMALL = 65536 -- bytes: smaller arrays stay in the Lua heap (ffi.new is cheaper)

ffi.cdef [[
void *calloc(size_t nmemb, size_t size);
void free(void *ptr);
]]
local C = ffi.C

local owned = {} -- C arrays of the current run, freed by release()

--- A zeroed array of n elements of ctype ("double", "uint32_t", ...),
-- valid until release().
function M.array(ctype, n)
  local size = ffi.sizeof(ctype)
  if n * size < SMALL then return ffi.new(ctype .. "[?]", n) end
  local p = C.calloc(n, size)
  if p == nil then error("not enough memory for " .. n .. " " .. ctype .. " values", 0) end
  owned[#owned + 1] = p
  return ffi.cast(ctype .. " *", p)
end

--- A zeroed array of n elements of ctype from the C heap that outlives
-- the run: it is freed when the returned pointer is collected (buffers kept
-- across runs, sized by the largest request seen).
function M.kept_array(ctype, n)
  local p = C.calloc(n, ffi.sizeof(ctype))
  if p == nil then error("not enough memory for " .. n .. " " .. ctype .. " values", 0) end
  return ffi.gc(ffi.cast(ctype .. " *", p), C.free)
end

--- Free every array of the run. Nothing may use them afterwards.
function M.release()
  for i = #owned, 1, -1 do
    C.free(owned[i])
    owned[i] = nil
  end
end

--- A per-request cache: read c.t[key] directly, store with put.
function M.cache()
  return { t = {}, n = 0 }
end

--- Store v under key k in cache c. A cache that already holds
-- CACHE_ENTRIES entries starts again first, and what it held is collected.
function M.put(c, k, v)
  if c.n >= M.CACHE_ENTRIES then
    c.t, c.n = {}, 0
    collectgarbage()
  end
  c.t[k] = v
  c.n = c.n + 1
end

return M
