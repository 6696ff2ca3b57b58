-- SPDX-License-Identifier: Apache-2.0
--
-- profiletometrics for LuaJIT: `require "profiletometrics"` loads
-- libprofiletometrics.so through the FFI and wraps its public C API
-- (include/profiletometrics.h), so Lua tooling converts profiles with the
-- same engine as the command and C programs.
--
--   local ptm = require "profiletometrics"
--   local c = assert(ptm.new { config_yaml = "..." })   -- or {} for the defaults
--   local result = assert(c:feed_file("cpu.pprof"))     -- or c:feed(bytes)
--   io.write(c:collect("prometheus"))                   -- or c:points()
--   c:close()                                           -- or leave it to the GC
--
-- Errors come back Lua style: nil, message, code (a negative number, see
-- ptm.errors). docs/embedding.md describes it all.
local ffi = require "ffi"

-- make install writes the library's directory here.
local LIBDIR = nil
-- The library's major version (its soname; make puts it here); another major is refused.
local ABI = @SO_VERSION@

-- The declarations of include/profiletometrics.h, put here by make (the
-- header without its preprocessor lines): the FFI sees what C programs see.
local CDEF = [=[
@PUBLIC_HEADER@
]=]
ffi.cdef(CDEF)
pcall(ffi.cdef, "void *dlopen(const char *file, int mode); char *dlerror(void);") -- may be declared already

-- ---- the library ----

local RTLD_NOW, RTLD_NODELETE = 0x2, 0x1000

local function load_library()
  local soname = "libprofiletometrics.so." .. ABI
  local tried = {}
  for _, path in ipairs { os.getenv("PTM_LIBRARY") or false, LIBDIR and LIBDIR .. "/" .. soname or false, soname } do
    -- Loaded for good (RTLD_NODELETE): when the Lua state closes, the FFI may
    -- unload a library before the finalizers of the converters, which call
    -- into it, have run.
    if path and ffi.C.dlopen(path, RTLD_NOW + RTLD_NODELETE) ~= nil then
      local lib = ffi.load(path)
      local major = math.floor(lib.ptm_version_number() / 10000)
      if major ~= ABI then
        error(("%s is version %s; this module needs %d.x"):format(path, ffi.string(lib.ptm_version()), ABI), 3)
      end
      return lib
    end
    if path then tried[#tried + 1] = path .. " (" .. ffi.string(ffi.C.dlerror()) .. ")" end
  end
  error("cannot load the profiletometrics library; tried " .. table.concat(tried, ", ")
    .. "; set PTM_LIBRARY to its path", 3)
end

local C = load_library()

local M = {
  --- The loaded library's version, "MAJOR.MINOR.PATCH".
  version = ffi.string(C.ptm_version()),
  --- Error codes by name (enum ptm_err); the third value of a failed call is one of them.
  errors = {},
}
for _, name in ipairs { "ENOMEM", "EINVAL", "EFORMAT", "EUNSUPPORTED", "ELIMIT", "EIO", "ECONFIG", "ERULE" } do
  M.errors[name] = tonumber(C["PTM_" .. name])
end

local function enum(t) -- { name = "C_CONSTANT" } -> { name = value }
  for k, v in pairs(t) do t[k] = tonumber(C[v]) end
  return t
end

local function invert(t)
  local out = {}
  for k, v in pairs(t) do out[v] = k end
  return out
end

local input_formats = enum { auto = "PTM_FORMAT_AUTO", otlp = "PTM_FORMAT_OTLP", ["otlp-json"] = "PTM_FORMAT_OTLP_JSON",
                             ["otlp-framed"] = "PTM_FORMAT_OTLP_FRAMED", pprof = "PTM_FORMAT_PPROF" }
local output_formats = enum { otlp = "PTM_OUTPUT_OTLP", ["otlp-json"] = "PTM_OUTPUT_OTLP_JSON",
                              prometheus = "PTM_OUTPUT_PROMETHEUS", table = "PTM_OUTPUT_TABLE" }
local kinds = invert(enum { counter = "PTM_METRIC_COUNTER", gauge = "PTM_METRIC_GAUGE",
                            histogram = "PTM_METRIC_HISTOGRAM" })
local temporalities = invert(enum { cumulative = "PTM_TEMPORALITY_CUMULATIVE", delta = "PTM_TEMPORALITY_DELTA" })

local function failure(err, rc)
  return nil, ffi.string(err.message), rc
end

local function choose(names, value, what)
  if value == nil then return 0 end
  local n = names[value]
  if n == nil then error(("unknown %s '%s'"):format(what, tostring(value)), 3) end
  return n
end

-- ---- callbacks ----
-- C calls back into Lua for log lines and data points. One callback of each
-- kind serves every converter (callbacks are a scarce resource in LuaJIT);
-- the functions that may trigger one are kept out of compiled traces, as
-- LuaJIT requires, and an error in Lua code is carried out past the C frames
-- (which hold the converter's lock) instead of being thrown through them.

local loggers, next_logger = {}, 0

local log_callback = ffi.cast("ptm_log_fn", function(ctx, message)
  local fn = loggers[tonumber(ffi.cast("intptr_t", ctx))]
  if fn then pcall(fn, ffi.string(message)) end
end)

local sink -- the function of the walk in progress
local sink_error

local point_callback = ffi.cast("ptm_data_point_fn", function(_, p)
  local ok, err = pcall(sink, p)
  if ok then return 0 end
  sink_error = err
  return 1
end)

-- ---- converters ----

local Converter = {}
Converter.__index = Converter

local function strings(list)
  local n = list and #list or 0
  local array = ffi.new("const char *[?]", math.max(n, 1))
  for i = 1, n do array[i - 1] = list[i] end
  return array, n
end

--- Create a converter. opts (all optional): config (a YAML file) or
-- config_yaml (its text), connector, rules (a list of rule files),
-- builtin_rules (false: only the rule files), scripts_dir, log (a function
-- of one line; default: standard error). Returns the converter, or nil,
-- message, code.
function M.new(opts)
  opts = opts or {}
  local rules, n_rules = strings(opts.rules)
  local o = ffi.new("struct ptm_options", {
    config_file = opts.config, config_yaml = opts.config_yaml, connector = opts.connector,
    rule_files = rules, rule_file_count = n_rules, no_builtin_rules = opts.builtin_rules == false,
    scripts_dir = opts.scripts_dir,
  })
  local logger
  if opts.log then
    next_logger = next_logger + 1
    logger = next_logger
    loggers[logger] = opts.log
    o.log = log_callback
    o.log_ctx = ffi.cast("void *", logger)
  end
  local err = ffi.new("struct ptm_error")
  local ptr = C.ptm_converter_create(o, err)
  if ptr == nil then
    if logger then loggers[logger] = nil end
    return failure(err, err.code)
  end
  local function destroy(p)
    C.ptm_converter_destroy(p)
    if logger then loggers[logger] = nil end
  end
  return setmetatable({ ptr = ffi.gc(ptr, destroy), logger = logger, err = err }, Converter)
end

local function feed_options(opts)
  opts = opts or {}
  return ffi.new("struct ptm_feed_options", choose(input_formats, opts.format, "input format"),
    opts.otlp_version or 0)
end

-- What a feed returns: the result table, or nil, message, code and that table.
local function fed(self, rc, r)
  local result = { profiles = r.profiles, samples = tonumber(r.samples), rejected_profiles = r.rejected_profiles,
                   rule_failures = r.rule_failures }
  if rc ~= 0 then return nil, ffi.string(self.err.message), rc, result end
  return result
end

local function live(self)
  if self.ptr == nil then error("the converter was closed", 3) end
  return self.ptr
end

--- Feed profile bytes (a string). opts: format ("auto", "otlp", "otlp-json",
-- "otlp-framed", "pprof"), otlp_version (8 to 11). Returns a table of what
-- the input gave (profiles, samples, rejected_profiles, rule_failures); or
-- nil, message, code, and that table (a partly bad input still gives its
-- good profiles).
function Converter:feed(data, opts)
  local r = ffi.new("struct ptm_feed_result")
  return fed(self, C.ptm_converter_feed(live(self), data, #data, feed_options(opts), r, self.err), r)
end

--- The same with the contents of the file at path.
function Converter:feed_file(path, opts)
  local r = ffi.new("struct ptm_feed_result")
  return fed(self, C.ptm_converter_feed_file(live(self), path, feed_options(opts), r, self.err), r)
end

local function collect_options(opts)
  opts = opts or {}
  return ffi.new("struct ptm_collect_options", opts.now or 0, opts.resource_to_labels or false,
    opts.no_name_suffixes or false)
end

--- Every series encoded as a string: format "otlp" (protobuf), "otlp-json",
-- "prometheus" or "table". opts: now (ns since the epoch, a number or
-- uint64 cdata, for points without a time), resource_to_labels,
-- no_name_suffixes. With delta temporality this is the flush.
function Converter:collect(format, opts)
  local out, len = ffi.new("char *[1]"), ffi.new("size_t[1]")
  local rc = C.ptm_converter_collect(live(self), choose(output_formats, format or "otlp", "output format"),
    collect_options(opts), out, len, self.err)
  if rc ~= 0 then return failure(self.err, rc) end
  local text = ffi.string(out[0], len[0])
  C.ptm_free(out[0])
  return text
end

local function labels(list, n)
  local t = {}
  for i = 0, tonumber(n) - 1 do
    local l = list[i]
    local v, type = nil, tonumber(l.type)
    if type == C.PTM_LABEL_STRING then v = ffi.string(l.string)
    elseif type == C.PTM_LABEL_INT then v = l.int_value -- int64 cdata: exact
    elseif type == C.PTM_LABEL_DOUBLE then v = l.double_value
    else v = l.int_value ~= 0 end
    t[ffi.string(l.key)] = v
  end
  return t
end

local function point_table(p)
  local t = {
    metric = ffi.string(p.metric), description = ffi.string(p.description), unit = ffi.string(p.unit),
    kind = kinds[tonumber(p.kind)], temporality = temporalities[tonumber(p.temporality)], integer = p.integer,
    resource = labels(p.resource, p.resource_count), schema_url = ffi.string(p.schema_url),
    attributes = labels(p.attributes, p.attribute_count),
    -- Times are uint64 cdata: nanoseconds since the epoch do not fit a double.
    start_unix_nano = p.start_unix_nano, time_unix_nano = p.time_unix_nano,
    value = p.value,
  }
  if t.kind == "histogram" then
    t.count, t.sum, t.min, t.max = tonumber(p.count), p.sum, p.min, p.max
    t.bounds, t.bucket_counts = {}, {}
    for i = 0, tonumber(p.bound_count) - 1 do t.bounds[i + 1] = p.bounds[i] end
    for i = 0, tonumber(p.bound_count) do t.bucket_counts[i + 1] = tonumber(p.bucket_counts[i]) end
  end
  return t
end

--- Collect as collect does, as a list of data point tables: metric,
-- description, unit, kind ("counter", "gauge", "histogram"), temporality,
-- integer, resource and attributes (key -> string, number, boolean, or
-- int64 cdata), schema_url, start_unix_nano and time_unix_nano (uint64
-- cdata), value; histograms also count, sum, min, max, bounds,
-- bucket_counts.
function Converter:points(opts)
  local list = {}
  sink = function(p) list[#list + 1] = point_table(p) end
  sink_error = nil
  local rc = C.ptm_converter_walk(live(self), collect_options(opts), point_callback, nil, self.err)
  sink = nil
  if sink_error then error(sink_error, 2) end
  if rc ~= 0 then return failure(self.err, rc) end
  return list
end

--- Forget every series and reload the rules. Returns true, or nil, message, code.
function Converter:reset()
  local rc = C.ptm_converter_reset(live(self), self.err)
  if rc ~= 0 then return failure(self.err, rc) end
  return true
end

--- Free the converter now (the garbage collector does it otherwise).
function Converter:close()
  if self.ptr ~= nil then
    C.ptm_converter_destroy(ffi.gc(self.ptr, nil))
    self.ptr = nil
  end
  if self.logger then loggers[self.logger] = nil end
end

-- C may call back into Lua from these: never from a compiled trace.
for _, f in ipairs { M.new, Converter.feed, Converter.feed_file, Converter.points, Converter.reset,
                     Converter.close } do
  jit.off(f)
end

return M
