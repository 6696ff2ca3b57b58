-- Example rule: CPU time of one function, split by who called it.
--
--   function_cpu_time_by_caller{code.function.name, caller.function.name}
--                                                  counter, seconds
--
-- pprof's -peek view as a metric: for every sample with TARGET on its
-- stack, the function that called TARGET. Samples without TARGET are not
-- counted. When TARGET is recursive the outermost call counts, so the
-- caller is never TARGET itself. TARGET here is main.shared of the demo
-- program tests/e2e/go/burn (examples/profiles/go-cpu.pb.gz).
local ptm = require "ptm"

local TARGET = "main.shared"

-- The caller of TARGET's outermost frame: frames are numbered from the
-- leaf (1) to the root (stack.depth), so the caller of frame i is i + 1.
-- Inlined frames are frames too, as pprof shows them.
local function caller(stack)
  local outermost = nil
  for i = 1, stack.depth do
    if stack:frame(i).name == TARGET then outermost = i end
  end
  if outermost == nil or outermost == stack.depth then return nil end
  return stack:frame(outermost + 1).name
end

ptm.metric {
  name = "function_cpu_time_by_caller",
  description = "CPU time of " .. TARGET .. " (and what it calls), per caller",
  unit = "s",
  profiles = ptm.cpu_profiles,
  value = ptm.seconds,
  keep = ptm.any_function_matches("^" .. TARGET:gsub("%.", "\\.") .. "$"),
  attributes = {
    ["code.function.name"] = TARGET,        -- a literal: the same on every series
    ["caller.function.name"] = ptm.from_stack(caller),
  },
}
