-- SPDX-License-Identifier: Apache-2.0
--
-- Support for the busted specs of the LuaJIT module: the module
-- (engine/api/profiletometrics.lua, as make writes it to build/lua/ with the
-- header's declarations) on the library built here
-- (build/libprofiletometrics.so.MAJOR). The module looks for the library by
-- its soname: the one built here is loaded first, under that soname, as the
-- dynamic linker would find an installed one.
local ffi = require "ffi"

local M = {}

M.root = os.getenv("PTM_ROOT") or "."
M.tmp = os.getenv("PTM_TMP") or "/tmp"
package.path = M.root .. "/build/lua/?.lua;" .. package.path

ffi.cdef [[ void *dlopen(const char *file, int mode); ]]
--- The text of include/profiletometrics.h.
M.header = io.open(M.root .. "/include/profiletometrics.h"):read("*a")
local major = M.header:match('#define PTM_VERSION_STRING "(%d+)%.')
assert(ffi.C.dlopen(M.root .. "/build/libprofiletometrics.so." .. major, 0x1002) ~= nil)

--- require "profiletometrics"
M.ptm = require "profiletometrics"

return M
