-- Example rule: CPU time per container, with the container id taken out of
-- a cgroup path.
--
--   container_cpu_time{container.id, k8s.pod.uid}   counter, seconds
--
-- Where the profiler does not set container.id itself, the process's cgroup
-- path often arrives as an attribute (here "process.cgroup", as a processor
-- upstream might add it, on the sample or on the resource). The container
-- runtimes name the cgroup after the 64-hex-digit container id:
--   /docker/<id>                                       Docker, cgroup v1
--   /system.slice/docker-<id>.scope                    Docker, cgroup v2
--   /kubepods.slice/.../kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope
--                                                      Kubernetes + containerd
-- Samples of processes outside containers (a cgroup without an id, or no
-- cgroup attribute at all) are not counted.
local ptm = require "ptm"

local CGROUP = "process.cgroup"

-- The container id: the last 64 hex digits of the path, before an optional
-- ".scope". ptm.capture keeps capture group 1. Regexes are PCRE2 and search
-- anywhere in the value unless anchored; each distinct value is matched once.
local CONTAINER_ID = "([0-9a-f]{64})(?:\\.scope)?$"

-- The pod uid, which systemd slice names spell with "_" for "-".
local pod_uid = ptm.regex("pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})")

local function pod_of(path)
  local uid = pod_uid:match(path)
  if uid == nil then return nil end -- no attribute on this series
  return (uid:gsub("_", "-"))       -- gsub returns two values: keep one
end

ptm.metric {
  name = "container_cpu_time",
  description = "CPU time per container, from the container id in the cgroup path",
  unit = "s",
  profiles = ptm.cpu_profiles,
  value = ptm.seconds,
  -- only samples whose cgroup names a container (a missing attribute does
  -- not match, so samples without one are dropped too)
  keep = ptm.attribute_matches(CGROUP, CONTAINER_ID),
  attributes = {
    ["container.id"] = ptm.capture(CGROUP, CONTAINER_ID),
    ["k8s.pod.uid"] = ptm.from_attribute(CGROUP, pod_of),
  },
}
