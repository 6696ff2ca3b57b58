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

ptm.metric {
  name = cfg.metric_name,
  description = cfg.description,
  unit = cfg.unit,
  kind = "counter",
  profiles = ptm.cpu_profiles,
  value = ptm.scale(ptm.seconds, cfg.unit_scale),
  keep = ptm.configured_filters(),
  attributes = ptm.configured_attributes { "process.executable.name", "thread.name" },
}
