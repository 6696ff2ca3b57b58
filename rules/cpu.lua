-- Built-in rule: CPU time.
--
-- One counter, in seconds (or the unit metrics.cpu.unit asks for), from
-- every CPU profile:
--   * samples/count with a cpu/nanoseconds period (the OpenTelemetry eBPF
--     profiler, .NET): events x period; a sample with timestamps only counts
--     one event per timestamp;
--   * cpu/nanoseconds values (Go, async-profiler, JFR, Rust, .NET).
-- A pprof file that carries both (Go writes [samples/count, cpu/nanoseconds])
-- is counted once, from its cpu/nanoseconds values.
local ptm = require "ptm"

local cfg = ptm.config.metrics.cpu

local cpu_values = ptm.profile_type { sample_type = "cpu", sample_unit = "nanoseconds" }
local cpu_events = ptm.profile_type {
  sample_type = "samples", sample_unit = "count", period_type = "cpu", period_unit = "nanoseconds",
}

local function cpu_profile(p)
  if cpu_values(p) then return true end
  return cpu_events(p) and not p:has_sibling { sample_type = "cpu", sample_unit = "nanoseconds" }
end

local function in_unit(p)
  local s = ptm.seconds(p)
  return s and s * cfg.unit_scale
end

ptm.metric {
  name = cfg.metric_name,
  description = cfg.description ~= "" and cfg.description or "CPU time spent, from CPU profiles",
  unit = cfg.unit,
  kind = "counter",
  profiles = cpu_profile,
  value = in_unit,
  keep = ptm.configured_filters(),
  attributes = ptm.configured_attributes { "process.executable.name", "thread.name" },
}
