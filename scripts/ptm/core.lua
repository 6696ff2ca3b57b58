-- SPDX-License-Identifier: Apache-2.0
--
-- State shared by the trusted runtime's modules: the C function table, the
-- metric store, the settings, and which rule is loading. Set once by
-- ptm.runtime.init; nothing here is reachable from rules.
local M = {
  api = nil,      -- const struct ptm_ffi_api *
  store = nil,    -- struct ptm_store *
  settings = {},  -- the connector settings (a plain table)
  loading = nil,  -- while a rule file loads: { name = ..., file = ..., metrics = {} }
}
return M
