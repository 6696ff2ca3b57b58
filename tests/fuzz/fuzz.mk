# Fuzzing (tests/fuzz): libFuzzer targets built with clang under ASan+UBSan,
# from a separate build of the engine sources (LuaJIT itself is not
# instrumented). Included by the Makefile.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="pprof config"]
#                      run each target that long on its corpus under
#                      build/fuzz/corpus, print executions, exec/s, coverage
#                      and crashes per target
#   make fuzz-build    only build the targets and their seed corpora
#
# `make test` runs each target briefly and replays tests/fuzz/regressions
# (tests/fuzz/run test). docs/reliability.md describes it all.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_ALL_TARGETS := otlp_v1_8 otlp_v1_9 otlp_v1_10 otlp_json otlp_json_diff pprof detect config rules
FUZZ_TARGETS ?= $(FUZZ_ALL_TARGETS)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -O1 $(CFLAGS_BASE) -Itests/unit $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_GEN_CFLAGS := -O1 -std=c11 -g -fPIC -Iengine -I$(BUILD)/gen $(DEP_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link

FUZZ_ENGINE_OBJ := $(call objs,fuzz/obj,$(ENGINE_SRC))
FUZZ_LIB := $(BUILD)/fuzz/libprofiletometrics-fuzz.a
FUZZ_SUPPORT_OBJ := $(BUILD)/fuzz/obj/tests/fuzz/harness.o $(BUILD)/fuzz/obj/tests/fuzz/model_check.o \
	$(BUILD)/fuzz/obj/tests/unit/model_compare.o $(BUILD)/fuzz/obj/tests/fuzz/pbc_json.o $(BUILD)/fuzz/obj/tests/fuzz/merged_fields.o
FUZZ_BIN := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_ALL_TARGETS))
FUZZ_SEEDS := $(BUILD)/fuzz/seeds/.done

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BIN) $(FUZZ_SEEDS)

$(BUILD)/fuzz/obj/%.o: %.c | $(GEN_H) $(TEST_DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  FUZZCC $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_DEFINES) -MMD -MP -c $< -o $@

$(BUILD)/fuzz/obj/gen/%.o: $(BUILD)/gen/%.c | $(GEN_H) $(TEST_DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  FUZZCC $@"
	$(Q)$(FUZZ_CC) $(FUZZ_GEN_CFLAGS) -c $< -o $@

# The rules target finds examples/rules in the tree it was built from.
$(BUILD)/fuzz/obj/tests/fuzz/fuzz_rules.o: FUZZ_DEFINES := -DFUZZ_SOURCE_ROOT='"$(CURDIR)"'

$(FUZZ_LIB): $(FUZZ_ENGINE_OBJ)
	@rm -f $@
	@echo "  AR     $@"
	$(Q)ar rcs $@ $^

# One OTLP protobuf target per wire version, from one source.
$(BUILD)/fuzz/obj/tests/fuzz/fuzz_otlp_v1_%.o: tests/fuzz/fuzz_otlp.c | $(GEN_H) $(TEST_DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  FUZZCC $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -DFUZZ_OTLP_VERSION=$* -MMD -MP -c $< -o $@

# -E: the Lua runtime's FFI looks the engine's functions up in the executable.
$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/obj/tests/fuzz/fuzz_%.o $(FUZZ_SUPPORT_OBJ) $(FUZZ_LIB)
	@echo "  FUZZLD $@"
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_SUPPORT_OBJ) -Wl,-E $(FUZZ_LIB) $(LDLIBS)

# Seed corpora and dictionaries, made by the project's own code (see
# tests/fuzz/seeds).
$(BUILD)/fuzz/mkjson: $(BUILD)/obj/tests/fuzz/mkjson.o $(BUILD)/obj/tests/fuzz/pbc_json.o \
		$(BUILD)/obj/engine/cli/input.o $(LIB_A)
	@echo "  CC     $@"
	$(Q)$(CC) -o $@ $(filter %.o,$^) $(LIB_A) $(LDLIBS)

$(FUZZ_SEEDS): tests/fuzz/seeds $(BUILD)/tools/mkfixture $(BUILD)/fuzz/mkjson $(PROTOS) \
		$(wildcard examples/profiles/* examples/config/* tests/fuzz/dict/*)
	@echo "  SEEDS  $(BUILD)/fuzz/seeds"
	$(Q)tests/fuzz/seeds $(BUILD)
	@touch $@

fuzz: fuzz-build
	@tests/fuzz/run fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)
