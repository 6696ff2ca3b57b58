-- Example rule: memory allocated inside one Go package.
--
--   acme_cache_allocated_bytes{service.name, code.function.name}     counter, By
--   acme_cache_allocated_objects{service.name, code.function.name}   counter, {object}
--
-- A sample counts when a function of github.com/acme/cache is on its stack,
-- whoever called it and whatever it called to allocate (runtime.mallocgc is
-- the leaf of every Go allocation, so the leaf alone says nothing).
-- code.function.name is the package's innermost function on the stack: the
-- function of the package that did the allocating, or called what did.
-- Functions of other packages, github.com/acme/cachetools and the
-- sub-package github.com/acme/cache/lru among them, do not count.
local ptm = require "ptm"

-- Go function names are "<import path>.<name>", "<import path>.(*T).M" or
-- "<import path>.T.M"; the "." after the path keeps cachetools and
-- cache/lru out.
local PACKAGE = "^github\\.com/acme/cache\\."
local in_package = ptm.regex(PACKAGE)

-- The package's innermost function on the stack (frames come leaf first).
local function innermost(stack)
  for name in stack:functions() do
    if in_package:find(name) then return name end
  end
  return nil
end

-- A Go heap profile written by runtime/pprof holds totals since the program
-- started, and has no duration: those are cumulative readings, so the
-- counter is set to them instead of adding them up (as the built-in
-- rules/memory.lua does). Profiles made as deltas over a duration add up.
local function running_totals(p)
  if p.duration == 0 then return 1, "cumulative" end
  return 1
end

ptm.metric {
  name = "acme_cache_allocated_bytes",
  description = "Bytes allocated with a function of github.com/acme/cache on the stack",
  unit = "By",
  integer = true,
  profiles = ptm.profile_type { sample_type = "alloc_space", sample_unit = "bytes" },
  value = running_totals,
  keep = ptm.any_function_matches(PACKAGE),
  attributes = { "service.name", ["code.function.name"] = ptm.from_stack(innermost) },
}

ptm.metric {
  name = "acme_cache_allocated_objects",
  description = "Objects allocated with a function of github.com/acme/cache on the stack",
  unit = "{object}",
  integer = true,
  profiles = ptm.profile_type { sample_type = "alloc_objects", sample_unit = "count" },
  value = running_totals,
  keep = ptm.any_function_matches(PACKAGE),
  attributes = { "service.name", ["code.function.name"] = ptm.from_stack(innermost) },
}
