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

local function in_unit(p)
  local s = ptm.seconds(p)
  return s and s * cfg.unit_scale
end

ptm.metric {
  name = cfg.metric_name,
  description = cfg.description,
  unit = cfg.unit,
  kind = "counter",
  profiles = ptm.cpu_profiles,
  value = in_unit,
  keep = ptm.configured_filters(),
  attributes = ptm.configured_attributes { "process.executable.name", "thread.name" },
}
