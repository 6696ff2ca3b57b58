-- Example rule: CPU time per HTTP endpoint, from a profiling label.
--
--   endpoint_cpu_time{service.name, http.route}   counter, seconds
--
-- Go programs label their work with pprof.Do(ctx, pprof.Labels("endpoint",
-- r.URL.Path), ...); the label arrives as a sample attribute "endpoint".
-- Raw paths hold ids and query strings, one series per user would follow,
-- so the value is made a route first: "/users/42/orders?page=2" becomes
-- "/users/{id}/orders". Health checks and metrics scrapes are not counted;
-- samples without the label (work outside any request: GC, timers) are,
-- as a series without http.route. Each profile keeps its 4 busiest series,
-- the rest are summed into one series marked otel.metric.overflow=true.
local ptm = require "ptm"

-- A path segment that is an id: all digits, or a UUID.
local function is_id(segment)
  return segment:find("^%d+$") ~= nil
      or segment:find("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

-- The route of a path. Runs once per distinct label value of a request, so
-- plain Lua string work is fine here.
local function route(path)
  path = tostring(path):match("^[^?#]*")  -- no query string, no fragment
  local out = {}
  for segment in path:gmatch("[^/]+") do
    out[#out + 1] = is_id(segment) and "{id}" or segment
  end
  return "/" .. table.concat(out, "/")
end

ptm.metric {
  name = "endpoint_cpu_time",
  description = "CPU time per HTTP route, from the endpoint profiling label",
  unit = "s",
  profiles = ptm.cpu_profiles,
  value = ptm.seconds,
  keep = ptm.NOT(ptm.attribute_matches("endpoint", "^/(healthz|readyz|metrics)$")),
  attributes = { "service.name", ["http.route"] = ptm.from_attribute("endpoint", route) },
  top = 4,
}
