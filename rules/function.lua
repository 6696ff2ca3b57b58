-- Built-in rule: time and allocations per function.
--
-- For every CPU profile (ptm.cpu_profiles, as rules/cpu.lua) and allocation
-- profile (ptm.allocation_profiles, as rules/memory.lua), two metrics each:
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

local filters = ptm.configured_filters()

local function per_function(metric, unit, description, profiles, value, source, integer)
  ptm.metric {
    name = metric,
    description = description,
    unit = unit,
    kind = "counter",
    integer = integer,
    profiles = profiles,
    value = value,
    keep = filters,
    top = top,
    attributes = ptm.configured_attributes { "process.executable.name", ["function.name"] = source },
  }
end

if cfg.cpu.enabled then
  local seconds = ptm.scale(ptm.seconds, cfg.cpu.unit_scale)
  per_function("function_self_" .. cfg.cpu.metric_name, cfg.cpu.unit,
    "CPU time with the function as the leaf frame", ptm.cpu_profiles, seconds, ptm.leaf_function)
  per_function("function_total_" .. cfg.cpu.metric_name, cfg.cpu.unit,
    "CPU time with the function anywhere on the stack", ptm.cpu_profiles, seconds, ptm.each_function)
end

if cfg.memory.enabled then
  -- A Go heap profile from runtime/pprof holds each function's bytes since
  -- the process started: cumulative readings, as in rules/memory.lua.
  local bytes = ptm.scale(ptm.allocated_bytes, cfg.memory.unit_scale)
  local integer = cfg.memory.unit == "By"
  per_function("function_self_" .. cfg.memory.metric_name, cfg.memory.unit,
    "Bytes allocated with the function as the leaf frame", ptm.allocation_profiles, bytes,
    ptm.leaf_function, integer)
  per_function("function_total_" .. cfg.memory.metric_name, cfg.memory.unit,
    "Bytes allocated with the function anywhere on the stack", ptm.allocation_profiles, bytes,
    ptm.each_function, integer)
end
