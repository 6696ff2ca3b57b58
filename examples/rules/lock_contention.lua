-- Example rule: time spent waiting for locks, and how often threads had to.
--
--   lock_wait_time{service.name, lock.caller}     counter, seconds
--   lock_contentions{service.name, lock.caller}   counter, {contention}
--
-- From the profiles that record lock waits:
--   Go     mutex and block profiles: contentions/count and delay/nanoseconds
--          (runtime/pprof writes totals since the program started: no
--          duration, so they are cumulative readings);
--   Java   JFR monitor contention: contentions/count (as Pyroscope converts
--          it), and lock-time/nanoseconds where a converter gives the time;
--   .NET   lock-count/count and lock-time/nanoseconds.
-- A Go block profile also records goroutines parked on channels, select,
-- WaitGroup, Cond and sleeps: those are not lock contention and are left out.
-- lock.caller is the innermost function that is not lock machinery: the
-- code that asked for the lock.
local ptm = require "ptm"

local wait_time = ptm.profile_type {
  sample_type = { "delay", "lock-time" }, sample_unit = "nanoseconds",
}
local contentions = ptm.profile_type {
  sample_type = { "contentions", "lock-count" }, sample_unit = "count",
}

-- Waits in a Go block profile that are not for a lock.
local not_a_lock = ptm.any_function_matches(
  "^runtime\\.(chanrecv|chansend|selectgo|block)|^time\\.Sleep$|^sync\\.\\(\\*(WaitGroup|Cond)\\)\\.Wait$")

-- Frames of the locks themselves and of the runtimes' waiting code, by
-- prefix; the first frame (from the leaf) that is none of them is the caller.
local machinery = {
  "sync.", "runtime.", "internal/sync.",                    -- Go
  "java.util.concurrent.locks.", "jdk.internal.misc.",     -- Java
  "System.Threading.",                                      -- .NET
}

local function is_machinery(name)
  for _, prefix in ipairs(machinery) do
    if name:sub(1, #prefix) == prefix then return true end
  end
  return false
end

local function caller(stack)
  for name in stack:functions() do
    if not is_machinery(name) then return name end
  end
  return nil
end

-- Go's runtime/pprof writes mutex and block profiles with period type
-- contentions/count and no duration, holding totals since the program
-- started: the counters are set to those readings, not added to.
local function go_totals(p)
  return p.period_type == "contentions" and p.duration == 0
end

local function seconds(p)
  local s = ptm.seconds(p)
  if s ~= nil and go_totals(p) then return s, "cumulative" end
  return s
end

local function count(p)
  if go_totals(p) then return 1, "cumulative" end
  return 1
end

local attributes = { "service.name", ["lock.caller"] = ptm.from_stack(caller) }

ptm.metric {
  name = "lock_wait_time",
  description = "Time threads waited to take a lock",
  unit = "s",
  profiles = wait_time,
  value = seconds,
  keep = ptm.NOT(not_a_lock),
  attributes = attributes,
}

ptm.metric {
  name = "lock_contentions",
  description = "Times a thread had to wait to take a lock",
  unit = "{contention}",
  integer = true,
  profiles = contentions,
  value = count,
  keep = ptm.NOT(not_a_lock),
  attributes = attributes,
}
