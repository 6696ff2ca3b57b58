-- Example rule: how long each off-CPU wait lasted, as a histogram.
--
--   off_cpu_wait_duration{service.name, thread.name}   histogram, seconds
--
-- The OpenTelemetry eBPF profiler's off-CPU profiles (off_cpu/nanoseconds)
-- record one value per wait: how long the thread was off the CPU, with a
-- timestamp each. The built-in off_cpu_time adds them up; this histogram
-- counts the waits by length instead, so a few long stalls and many short
-- waits with the same total look different. observe = "event" makes each
-- value of a sample one observation (observe = "sample", the default,
-- would observe each sample's total). Bucket bounds are upper bounds,
-- inclusive, in the metric's unit.
local ptm = require "ptm"

ptm.metric {
  name = "off_cpu_wait_duration",
  description = "Length of each off-CPU wait",
  unit = "s",
  kind = "histogram",
  buckets = { 0.001, 0.01, 0.1, 1 },  -- 1 ms, 10 ms, 100 ms, 1 s (and above)
  observe = "event",
  profiles = ptm.profile_type { sample_type = "off_cpu", sample_unit = "nanoseconds" },
  value = ptm.seconds,
  attributes = { "service.name", "thread.name" },
}
