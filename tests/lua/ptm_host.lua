-- SPDX-License-Identifier: Apache-2.0
--
-- Support for the busted specs of the trusted runtime: the real C side
-- without the C host. The runtime's modules reach C through core.api (the
-- function table of engine/lua/ffi_api.c) and core.store (a metric store);
-- here both come from build/tests/libprofiletometrics-internal.so (the engine
-- with its internals exported) through the FFI, as the engine would hand them
-- over. Also: a rule "while it loads" for ptm.metric,
-- and an assertion that an error points at the caller's line.
local ffi = require "ptm.ffi"
local core = require "ptm.core"

local M = {}

ffi.cdef [[
const struct ptm_ffi_api *ptm_ffi_api(void);
struct ptm_store *ptm_store_create(const void *opts);
void ptm_store_destroy(struct ptm_store *store);
void *dlopen(const char *file, int mode);
]]

local root = os.getenv("PTM_ROOT") or "."
local path = root .. "/build/tests/libprofiletometrics-internal.so"
-- Keep the library mapped until the process ends (RTLD_NOW | RTLD_NODELETE):
-- when the Lua state closes, LuaJIT may unload it before the finalizers of
-- regexes and the store, which call into it, have run.
assert(ffi.C.dlopen(path, 0x1002) ~= nil, "cannot load " .. path)
M.lib = ffi.load(path)
core.api = M.lib.ptm_ffi_api()
core.store = ffi.gc(M.lib.ptm_store_create(nil), M.lib.ptm_store_destroy)

--- Pretend a rule file is loading (ptm.metric works only then); returns
-- the rule table ptm.metric appends its metrics to.
function M.loading(name)
  local rule = { name = name or "spec", file = (name or "spec") .. ".lua", metrics = {}, errors = 0 }
  core.loading = rule
  return rule
end

function M.done_loading()
  core.loading = nil
end

local serial = 0
--- A metric name not used before in this store.
function M.fresh_name(prefix)
  serial = serial + 1
  return (prefix or "spec_metric") .. "_" .. serial
end

--- Call f, which must fail; the message must start with the file and line
-- of the code that called fails_here (write the call and f on one line),
-- contain fragment, and not name a file of the runtime.
function M.fails_here(f, fragment)
  local info = debug.getinfo(2, "Sl")
  local ok, err = pcall(f)
  assert(not ok, "no error (wanted one containing '" .. fragment .. "')")
  err = tostring(err)
  local where = info.short_src .. ":" .. info.currentline .. ": "
  assert(err:sub(1, #where) == where, "the error does not point at " .. where .. " but says: " .. err)
  assert(err:find(fragment, 1, true), "the error lacks '" .. fragment .. "': " .. err)
  assert(not err:find("scripts/ptm/", 1, true), "the error names a file of the runtime: " .. err)
  return err
end

return M
