-- Built-in rule: time and allocations per function.
--
-- For every CPU profile (as in rules/cpu.lua) and allocation profile (as in
-- rules/memory.lua), two metrics each:
--   function_self_<name>   the function is the leaf frame (pprof "flat");
--   function_total_<name>  the function is anywhere on the stack (pprof
--                          "cum"); a recursive function counts once per sample.
-- Each keeps the top N functions (metrics.function.top_n, default 100) of a
-- profile; the rest goes to one series marked otel.metric.overflow=true, so
-- a self metric summed over its series is the profile's whole value. A total
-- metric's series overlap by nature: one sample counts for every function
-- on its stack, so its sum over functions means nothing.
local ptm = require "ptm"

local cfg = ptm.config.metrics
local top = cfg["function"].top_n
if top == 0 then top = nil end

local cpu_values = ptm.profile_type { sample_type = "cpu", sample_unit = "nanoseconds" }
local cpu_events = ptm.profile_type {
  sample_type = "samples", sample_unit = "count", period_type = "cpu", period_unit = "nanoseconds",
}
local function cpu_profile(p)
  if cpu_values(p) then return true end
  return cpu_events(p) and not p:has_sibling { sample_type = "cpu", sample_unit = "nanoseconds" }
end

local allocations = ptm.profile_type {
  sample_type = { "alloc_space", "alloc-size", "alloc_in_new_tlab_bytes", "alloc_outside_tlab_bytes" },
  sample_unit = { "bytes", "By" },
}

local filters = ptm.configured_filters()

local function per_function(metric, source, description, profiles, value, integer)
  ptm.metric {
    name = metric,
    description = description,
    unit = source.unit,
    kind = "counter",
    integer = integer,
    profiles = profiles,
    value = value,
    keep = filters,
    top = top,
    attributes = ptm.configured_attributes {
      "process.executable.name",
      ["function.name"] = source.each and ptm.each_function or ptm.leaf_function,
    },
  }
end

if cfg.cpu.enabled then
  local function seconds(p)
    local s = ptm.seconds(p)
    return s and s * cfg.cpu.unit_scale
  end
  per_function("function_self_" .. cfg.cpu.metric_name, { unit = cfg.cpu.unit },
    "CPU time with the function as the leaf frame", cpu_profile, seconds)
  per_function("function_total_" .. cfg.cpu.metric_name, { unit = cfg.cpu.unit, each = true },
    "CPU time with the function anywhere on the stack", cpu_profile, seconds)
end

if cfg.memory.enabled then
  -- A Go heap profile from runtime/pprof holds each function's bytes since
  -- the process started: cumulative readings, as in rules/memory.lua.
  local function bytes(p)
    if p.sample_type == "alloc_space" and p.duration == 0 then
      return cfg.memory.unit_scale, "cumulative"
    end
    return cfg.memory.unit_scale
  end
  local integer = cfg.memory.unit == "By"
  per_function("function_self_" .. cfg.memory.metric_name, { unit = cfg.memory.unit },
    "Bytes allocated with the function as the leaf frame", allocations, bytes, integer)
  per_function("function_total_" .. cfg.memory.metric_name, { unit = cfg.memory.unit, each = true },
    "Bytes allocated with the function anywhere on the stack", allocations, bytes, integer)
end
