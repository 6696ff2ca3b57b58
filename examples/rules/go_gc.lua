-- Example rule: CPU time spent in the Go garbage collector, per service.
--
--   go_gc_cpu_time{service.name, go.gc.phase}   counter, seconds
--
-- Go does its garbage collection on ordinary goroutines, so a CPU profile
-- shows it as stacks through a few runtime functions:
--   mark    runtime.gcBgMarkWorker, the background mark workers, which
--           call runtime.gcDrain (a stack cut short may show gcDrain only);
--   assist  runtime.gcAssistAlloc*, a goroutine that allocates while the
--           collector runs pays for marking from inside runtime.mallocgc;
--   sweep   runtime.bgsweep and runtime.sweepone, freeing swept spans.
-- A sample is counted when its stack has one of them; every other sample,
-- including plain allocation work in runtime.mallocgc, is left out.
local ptm = require "ptm"

-- The GC phase a stack belongs to, or nil when it is not GC work. Called
-- once per distinct stack of a request (not per sample), so a plain loop
-- over the frames with Lua string patterns is cheap enough.
local function gc_phase(stack)
  local mark, sweep = false, false
  for name in stack:functions() do
    if name:find("^runtime%.gcAssistAlloc") then
      return "assist" -- an assist may run gcDrainN: it wins over mark
    elseif name:find("^runtime%.gcBgMarkWorker") or name == "runtime.gcDrain" then
      mark = true
    elseif name == "runtime.bgsweep" or name == "runtime.sweepone" then
      sweep = true
    end
  end
  if mark then return "mark" end
  if sweep then return "sweep" end
  return nil
end

ptm.metric {
  name = "go_gc_cpu_time",
  description = "CPU time spent in the Go garbage collector (mark workers, assists, sweeping)",
  unit = "s",
  kind = "counter",
  profiles = ptm.cpu_profiles,
  value = ptm.seconds,
  -- keep only GC stacks; the same function decides it, once per stack
  keep = ptm.stack(function(stack) return gc_phase(stack) ~= nil end),
  attributes = {
    "service.name",                        -- from the resource
    ["go.gc.phase"] = ptm.from_stack(gc_phase),
  },
}
