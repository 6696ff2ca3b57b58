-- Built-in rule: memory.
--
-- Allocated bytes, a counter, from allocation profiles (ptm.allocation_profiles:
-- Go and the eBPF profiler's alloc_space, .NET alloc-size, Java (JFR)
-- alloc_in_new_tlab_bytes and alloc_outside_tlab_bytes). A Go heap profile
-- written by runtime/pprof holds totals since the process started (its
-- duration is 0): those are cumulative readings, so the counter is set to
-- them, never added up. Profiles made as deltas (with a duration, as
-- Pyroscope's and Alloy's) add up.
--
-- In-use bytes, a gauge, from in-use profiles: Go inuse_space, and the
-- JavaScript heap profiles' space/bytes.
local ptm = require "ptm"

local cfg = ptm.config.metrics.memory

local in_use = ptm.profile_type {
  sample_type = { "inuse_space", "space" },
  sample_unit = { "bytes", "By" },
}

local allocated = ptm.scale(ptm.allocated_bytes, cfg.unit_scale)
local bytes = ptm.scale(ptm.count, cfg.unit_scale)

local integer = cfg.unit == "By"
local filters = ptm.configured_filters()
local attributes = ptm.configured_attributes { "process.executable.name", "thread.name" }

ptm.metric {
  name = cfg.metric_name,
  description = cfg.description,
  unit = cfg.unit,
  kind = "counter",
  integer = integer,
  profiles = ptm.allocation_profiles,
  value = allocated,
  keep = filters,
  attributes = attributes,
}

ptm.metric {
  name = cfg.metric_name .. "_in_use",
  description = "Bytes in use at the time of the profile, from heap profiles",
  unit = cfg.unit,
  kind = "gauge",
  integer = integer,
  profiles = in_use,
  value = bytes,
  keep = filters,
  attributes = attributes,
}
