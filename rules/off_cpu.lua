-- Built-in rule: off-CPU time.
--
-- The time threads spent waiting (blocked, sleeping, descheduled), from the
-- OpenTelemetry eBPF profiler's off-CPU profiles: off_cpu/nanoseconds, and
-- events/nanoseconds without a period as the profiler's 2025 releases named
-- them. A counter in seconds (or metrics.off_cpu.unit).
local ptm = require "ptm"

local cfg = ptm.config.metrics.off_cpu

local off_cpu = ptm.profile_type { sample_type = "off_cpu", sample_unit = "nanoseconds" }
local events = ptm.profile_type { sample_type = "events", sample_unit = "nanoseconds", period_type = "" }

ptm.metric {
  name = cfg.metric_name,
  description = cfg.description,
  unit = cfg.unit,
  kind = "counter",
  profiles = { off_cpu, events },
  value = ptm.scale(ptm.seconds, cfg.unit_scale),
  keep = ptm.configured_filters(),
  attributes = ptm.configured_attributes { "process.executable.name", "thread.name" },
}
