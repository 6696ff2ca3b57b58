# profiletometrics build.
#
#   make              build build/profiletometrics, libprofiletometrics.a and .so
#   make test         every test (unit, unit under ASan+UBSan, Lua, end to end);
#                     the last line reads "N passed, N failed"
#   make example      convert the bundled example profiles with the default rules
#   make install      install the command, the library and its header, pkg-config
#                     module, manual page and LuaJIT module (PREFIX=/usr/local, DESTDIR=)
#   make bench        decode and convert benchmarks on generated inputs, then bench-serve
#   make fuzz         each libFuzzer target FUZZ_SECONDS (60) long (tests/fuzz/fuzz.mk)
#   make bench-serve  serve's throughput over loopback (BENCH_SERVE_SECONDS, default 20 per run)
#   make soak         serve under many concurrent clients for SOAK_SECONDS
#                     (600); `make test` runs the same test for 60 s
#   make clean
#
# Missing Debian packages are installed on first use (as root, or via sudo).

.DEFAULT_GOAL := all
SHELL := /bin/bash
.DELETE_ON_ERROR:
.SECONDARY:   # keep intermediate files (generated sources, objects)
.SUFFIXES:

BUILD := build

# Debian packages the build needs (`make`, and so the Dockerfile's build stage),
# and those only the tests and benchmarks use (`make test`, `make bench`).
DEB_PACKAGES := gcc libc6-dev make pkg-config zlib1g-dev protobuf-c-compiler libprotobuf-c-dev \
	libluajit-5.1-dev libyaml-dev libpcre2-dev libcmocka-dev \
	libmicrohttpd-dev libgnutls28-dev libnghttp2-dev libcurl4-openssl-dev libssl-dev
DEB_TEST_PACKAGES := luajit lua-lpeg lua-busted python3-grpcio python3-protobuf python3-yaml curl \
	protobuf-compiler golang-go python3 time prometheus openssl man-db \
	clang libclang-rt-14-dev

DEPS_STAMP := $(BUILD)/.deps-$(shell echo '$(DEB_PACKAGES)' | md5sum | cut -c1-8)
TEST_DEPS_STAMP := $(BUILD)/.test-deps-$(shell echo '$(DEB_TEST_PACKAGES)' | md5sum | cut -c1-8)

$(DEPS_STAMP): PACKAGES := $(DEB_PACKAGES)
$(TEST_DEPS_STAMP): PACKAGES := $(DEB_TEST_PACKAGES)
$(DEPS_STAMP) $(TEST_DEPS_STAMP):
	@mkdir -p $(BUILD)
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing \
	    || { echo "could not install:$$missing" >&2; exit 1; }; \
	fi
	@touch $@

# Compiler flags from pkg-config, computed once the packages are there.
PKG_MODULES := libprotobuf-c zlib luajit yaml-0.1 libpcre2-8 libmicrohttpd gnutls libnghttp2 libcurl openssl
$(BUILD)/config.mk: $(DEPS_STAMP) Makefile
	@for m in $(PKG_MODULES); do pkg-config --exists $$m || { echo "pkg-config: $$m missing" >&2; exit 1; }; done
	@{ echo "DEP_CFLAGS := $$(pkg-config --cflags $(PKG_MODULES))"; \
	   echo "DEP_LIBS := $$(pkg-config --libs $(PKG_MODULES))"; \
	   echo "CMOCKA_LIBS := $$(pkg-config --libs cmocka)"; } > $@

ifeq ($(filter clean,$(MAKECMDGOALS)),)
include $(BUILD)/config.mk
endif

CC ?= gcc
# Quiet output; `make V=1` shows every command.
ifeq ($(V),1)
Q :=
else
Q := @
endif
OPT ?= -O2
WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wshadow -Wno-unused-parameter
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -g $(WARN) -fPIC -Iinclude -Iengine -I$(BUILD)/gen $(DEP_CFLAGS)
CFLAGS := $(OPT) $(CFLAGS_BASE)
LDLIBS := $(DEP_LIBS) -lm -lpthread

# ---- sources ----
PROTOS := $(shell find engine/proto -name '*.proto' | sort)
GEN_C := $(patsubst engine/proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS))
GEN_H := $(GEN_C:.c=.h)
ENGINE_SRC := $(shell find engine -name '*.c' -not -path 'engine/cli/*' | sort)
CLI_SRC := $(sort $(wildcard engine/cli/*.c))

# The Lua runtime and the built-in rules, compiled into the binary.
LUA_FILES := $(shell find scripts rules -name '*.lua' | sort)
EMBED_C := $(BUILD)/gen/embedded_scripts.c
GEN_C += $(EMBED_C)

objs = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2)) $(patsubst $(BUILD)/gen/%.c,$(BUILD)/$(1)/gen/%.o,$(GEN_C))
ENGINE_OBJ := $(call objs,obj,$(ENGINE_SRC))
CLI_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRC))

# The version comes from the public header; the soname carries its major.
VERSION := $(shell sed -n 's/^\#define PTM_VERSION_STRING "\(.*\)"/\1/p' include/profiletometrics.h)
SO_VERSION := $(firstword $(subst ., ,$(VERSION)))

# Every engine object; what the executable, the tests and the tools link.
LIB_A := $(BUILD)/libprofiletometrics.a
LIB_SO := $(BUILD)/libprofiletometrics.so.$(SO_VERSION)
BIN := $(BUILD)/profiletometrics

# The static library as installed (see "installing" below).
DIST_A := $(BUILD)/dist/libprofiletometrics.a
MAN_PAGE := $(BUILD)/profiletometrics.1
LUA_MODULE := $(BUILD)/lua/profiletometrics.lua

.PHONY: all test test-build bench bench-serve soak clean tools example install uninstall
all: $(BIN) $(LIB_A) $(LIB_SO) $(DIST_A) $(MAN_PAGE) $(LUA_MODULE)

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: engine/proto/%.proto $(DEPS_STAMP)
	@mkdir -p $(BUILD)/gen
	@echo "  PROTO  $@"
	$(Q)protoc-c --c_out=$(BUILD)/gen -Iengine/proto $<

$(EMBED_C): $(LUA_FILES) engine/lua/embed.sh
	@mkdir -p $(@D)
	@echo "  EMBED  $@"
	$(Q)engine/lua/embed.sh $@ $(LUA_FILES)

$(BUILD)/obj/%.o: %.c | $(GEN_H)
	@mkdir -p $(@D)
	@echo "  CC     $@"
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The rules' hottest loops (sums by function: tens of millions of additions
# a request) start on a 32-byte boundary: one that straddled it took 10%
# longer, as unrelated code moved it about (docs/benchmarks.md).
$(BUILD)/obj/engine/model/function_keys.o: CFLAGS += -falign-loops=32

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c | $(GEN_H)
	@mkdir -p $(@D)
	@echo "  CC     $@"
	$(Q)$(CC) $(OPT) -std=c11 -g -fPIC -Iengine -I$(BUILD)/gen $(DEP_CFLAGS) -c $< -o $@

$(LIB_A): $(ENGINE_OBJ)
	@rm -f $@
	@echo "  AR     $@"
	$(Q)ar rcs $@ $^

$(LIB_SO): $(ENGINE_OBJ) engine/libprofiletometrics.map
	@echo "  CC     $@"
	$(Q)$(CC) -shared -Wl,-soname,libprofiletometrics.so.$(SO_VERSION) \
	  -Wl,--version-script=engine/libprofiletometrics.map -o $@ $(ENGINE_OBJ) $(LDLIBS)
	@echo "  LN     $@"
	$(Q)ln -sf libprofiletometrics.so.$(SO_VERSION) $(BUILD)/libprofiletometrics.so

# The executable exports its symbols (-E) so the Lua runtime's FFI finds them.
$(BIN): $(CLI_OBJ) $(LIB_A)
	@echo "  CC     $@"
	$(Q)$(CC) -o $@ $(CLI_OBJ) -Wl,-E $(LIB_A) $(LDLIBS)

# The static library as installed: the engine pre-linked into one object
# whose only global symbols are those the shared library exports
# (engine/libprofiletometrics.map), so a program that links it statically
# never meets the engine's internal names (ptm_store_*, the protobuf-c
# descriptors, ...).
$(BUILD)/dist/public.syms: engine/libprofiletometrics.map
	@mkdir -p $(@D)
	$(Q)sed -n 's/^ *\(ptm_[a-z0-9_]*\);$$/\1/p' $< > $@

$(DIST_A): $(ENGINE_OBJ) $(BUILD)/dist/public.syms
	@echo "  AR     $@"
	$(Q)$(LD) -r -o $(BUILD)/dist/profiletometrics.o $(ENGINE_OBJ)
	$(Q)objcopy --keep-global-symbols=$(BUILD)/dist/public.syms $(BUILD)/dist/profiletometrics.o
	$(Q)rm -f $@ && ar rcs $@ $(BUILD)/dist/profiletometrics.o

# The manual page, made of the --help texts.
$(MAN_PAGE): $(BIN) engine/cli/man.sh
	@echo "  MAN    $@"
	$(Q)engine/cli/man.sh $(BIN) $(VERSION) > $@

# The LuaJIT module, with the public header's declarations (less its
# preprocessor lines) put in for the FFI.
$(LUA_MODULE): engine/api/profiletometrics.lua include/profiletometrics.h
	@mkdir -p $(@D)
	@echo "  GEN    $@"
	$(Q)sed -e '/^#ifdef __cplusplus/,/^#endif/d' -e '/^#/d' include/profiletometrics.h > $@.h
	$(Q)sed -e 's/@SO_VERSION@/$(SO_VERSION)/' -e '/^@PUBLIC_HEADER@$$/{' -e 'r $@.h' -e 'd' -e '}' $< > $@ && rm -f $@.h

# ---- installing ----
#   make install [PREFIX=/usr/local] [DESTDIR=]   (and BINDIR, LIBDIR, ...)
# The executable needs no file beside it (the Lua runtime and built-in rules
# are compiled in); the library, its header, pkg-config module, manual page
# and LuaJIT module (require "profiletometrics") are for programs that embed
# it.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR ?= $(PREFIX)/share/man
LUADIR ?= $(PREFIX)/share/lua/5.1

install: all
	@echo "  INSTALL $(DESTDIR)$(PREFIX)"
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	  $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(LUADIR)
	$(Q)install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/profiletometrics
	$(Q)install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libprofiletometrics.so.$(VERSION)
	$(Q)ln -sf libprofiletometrics.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libprofiletometrics.so.$(SO_VERSION)
	$(Q)ln -sf libprofiletometrics.so.$(SO_VERSION) $(DESTDIR)$(LIBDIR)/libprofiletometrics.so
	$(Q)install -m 644 $(DIST_A) $(DESTDIR)$(LIBDIR)/libprofiletometrics.a
	$(Q)install -m 644 include/profiletometrics.h $(DESTDIR)$(INCLUDEDIR)/profiletometrics.h
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	  -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(strip $(LDLIBS))|' engine/profiletometrics.pc.in \
	  > $(DESTDIR)$(PKGCONFIGDIR)/profiletometrics.pc
	$(Q)install -m 644 $(MAN_PAGE) $(DESTDIR)$(MANDIR)/man1/profiletometrics.1
	$(Q)sed -e 's|^local LIBDIR = nil$$|local LIBDIR = "$(LIBDIR)"|' $(LUA_MODULE) \
	  > $(DESTDIR)$(LUADIR)/profiletometrics.lua
	$(Q)if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/profiletometrics $(DESTDIR)$(LIBDIR)/libprofiletometrics.so.$(VERSION) \
	  $(DESTDIR)$(LIBDIR)/libprofiletometrics.so.$(SO_VERSION) $(DESTDIR)$(LIBDIR)/libprofiletometrics.so \
	  $(DESTDIR)$(LIBDIR)/libprofiletometrics.a $(DESTDIR)$(INCLUDEDIR)/profiletometrics.h \
	  $(DESTDIR)$(PKGCONFIGDIR)/profiletometrics.pc $(DESTDIR)$(MANDIR)/man1/profiletometrics.1 \
	  $(DESTDIR)$(LUADIR)/profiletometrics.lua

# ---- tests ----
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_SUPPORT := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
UNIT_SUPPORT_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(UNIT_SUPPORT))

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(UNIT_SUPPORT_OBJ) $(LIB_A)
	@mkdir -p $(@D)
	@echo "  CC     $@"
	$(Q)$(CC) -o $@ $< $(UNIT_SUPPORT_OBJ) $(LIB_A) $(LDLIBS) $(CMOCKA_LIBS)

# Sanitizer builds: $(call sanitized,NAME,FLAGS,SOURCES) compiles the engine's
# SOURCES and the unit tests with FLAGS into build/NAME/, archives the engine
# as build/libprofiletometrics-NAME.a and links build/NAME-tests/test_X.
define sanitized
$(BUILD)/$(1)/%.o: %.c | $(GEN_H)
	@mkdir -p $$(@D)
	@echo "  CC     $$@"
	$(Q)$(CC) -O1 $(CFLAGS_BASE) $(2) -MMD -MP -c $$< -o $$@

$(BUILD)/$(1)/gen/%.o: $(BUILD)/gen/%.c | $(GEN_H)
	@mkdir -p $$(@D)
	@echo "  CC     $$@"
	$(Q)$(CC) -O1 -std=c11 -g -fPIC -Iengine -I$(BUILD)/gen $(DEP_CFLAGS) $(2) -c $$< -o $$@

$(BUILD)/libprofiletometrics-$(1).a: $(call objs,$(1),$(3))
	@rm -f $$@
	@echo "  AR     $$@"
	$(Q)ar rcs $$@ $$^

$(BUILD)/$(1)-tests/%: $(BUILD)/$(1)/tests/unit/%.o $(patsubst %.c,$(BUILD)/$(1)/%.o,$(UNIT_SUPPORT)) \
		$(BUILD)/libprofiletometrics-$(1).a
	@mkdir -p $$(@D)
	@echo "  CC     $$@"
	$(Q)$(CC) $(2) -o $$@ $$< $(patsubst %.c,$(BUILD)/$(1)/%.o,$(UNIT_SUPPORT)) \
	  $(BUILD)/libprofiletometrics-$(1).a $(LDLIBS) $(CMOCKA_LIBS)
endef

# The same unit tests built with AddressSanitizer and UBSan.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_ENGINE_OBJ := $(call objs,asan,$(ENGINE_SRC))
ASAN_UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/asan-tests/%,$(UNIT_SRC))
$(eval $(call sanitized,asan,$(SAN),$(ENGINE_SRC)))

$(BUILD)/profiletometrics-asan: $(patsubst %.c,$(BUILD)/asan/%.o,$(CLI_SRC)) $(BUILD)/libprofiletometrics-asan.a
	@echo "  CC     $@"
	$(Q)$(CC) $(SAN) -o $@ $(filter %.o,$^) -Wl,-E $(BUILD)/libprofiletometrics-asan.a $(LDLIBS)

# The public API's thread test under ThreadSanitizer: several converters in
# parallel threads, and one converter shared by several; the service
# (engine/server) is not part of it. (GCC's flow analysis sees uninitialised
# reads under TSan that are not there.)
TSAN := -fsanitize=thread -fno-omit-frame-pointer -Wno-maybe-uninitialized
TSAN_UNIT_BIN := $(BUILD)/tsan-tests/test_api
$(eval $(call sanitized,tsan,$(TSAN),$(filter-out engine/server/%,$(ENGINE_SRC))))

# Programs the tests use to make fixtures (tests/tools/NAME.c -> build/tools/NAME).
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))
$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIB_A)
	@mkdir -p $(@D)
	@echo "  CC     $@"
	$(Q)$(CC) -o $@ $< $(LIB_A) $(LDLIBS)

tools: $(TOOL_BIN)

# The busted specs of the runtime (tests/lua/ptm_host.lua) load the engine's
# internals through the FFI: a shared library that exports all of them.
INTERNAL_SO := $(BUILD)/tests/libprofiletometrics-internal.so
$(INTERNAL_SO): $(ENGINE_OBJ)
	@mkdir -p $(@D)
	@echo "  CC     $@"
	$(Q)$(CC) -shared -o $@ $(ENGINE_OBJ) $(LDLIBS)

# Everything the tests run, built without running them (for `tests/run SUITE`).
test-build: all $(UNIT_BIN) $(ASAN_UNIT_BIN) $(TSAN_UNIT_BIN) $(INTERNAL_SO) $(BUILD)/profiletometrics-asan $(TOOL_BIN) $(TEST_DEPS_STAMP)

# Fuzzing: the targets, their seeds, `make fuzz`; `make test` runs each briefly.
include tests/fuzz/fuzz.mk
test-build: fuzz-build

test: test-build
	@tests/run

# ---- benchmarks ----
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
BENCH_BIN := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
# The load generator for `serve`: tests/bench/loadgen/*.c -> build/bench/loadgen.
LOADGEN_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard tests/bench/loadgen/*.c)))
BENCH_BIN += $(BUILD)/bench/loadgen
$(BUILD)/bench/loadgen: $(LOADGEN_OBJ) $(LIB_A)
	@mkdir -p $(@D)
	@echo "  CC     $@"
	$(Q)$(CC) -o $@ $(LOADGEN_OBJ) $(LIB_A) $(LDLIBS)
# tests/e2e/bench_gen checks the benchmarks' input generator and decoder.
test: $(BENCH_BIN)
$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(LIB_A)
	@mkdir -p $(@D)
	@echo "  CC     $@"
	$(Q)$(CC) -o $@ $< $(LIB_A) $(LDLIBS)

bench: all $(BENCH_BIN) $(TEST_DEPS_STAMP)
	@tests/bench/run
	@tests/bench/serve

# `serve` under load over loopback (BENCH_SERVE_SECONDS=300 for 5 minutes).
bench-serve: all $(BENCH_BIN)
	@tests/bench/serve

# tests/e2e/serve_soak prints TAP and its figures (memory, open files,
# samples accounted for) as it goes.
SOAK_SECONDS ?= 600
soak: all $(TOOL_BIN) $(BENCH_BIN) $(TEST_DEPS_STAMP)
	@SOAK_SECONDS=$(SOAK_SECONDS) tests/e2e/serve_soak

# The main job on the bundled example profiles, with the default rules.
example: all
	$(BIN) convert examples/profiles/go-cpu.pb.gz examples/profiles/go-heap.pb.gz

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
