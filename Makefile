# cohort — one Makefile for the whole tree.
#
#   make            build the release flavor into build/release
#   make asan       build with AddressSanitizer + UBSan into build/asan
#   make debug      -O0 -g3, valgrind-friendly, into build/debug
#   make deps       install missing Debian and npm packages (no-op when all present)
#   make run        deps + build + start the local system (scripts/run.sh)
#   make test       deps + build + unit + integration + browser suites, one summary line
#   make bench      deps + build + benchmark scenario, results in var/bench/
#
# Quiet unless V=1. Sources are discovered by directory, so adding a module
# means adding a .c/.h pair, never editing this file.

FLAVOR ?= release
BUILD  ?= build/$(FLAVOR)
CC     ?= cc

ifeq ($(V),1)
Q :=
else
Q := @
endif

PKGS := hiredis json-c libarchive libcurl libsodium libwebsockets libuv sqlite3

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wformat-truncation=2 \
        -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition \
        -Wpointer-arith -Wwrite-strings -Wvla -Wundef -Wcast-qual \
        -Wnull-dereference -Wdouble-promotion -Wimplicit-fallthrough
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(WARN) \
               -Ibackend $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
               -MMD -MP -pthread

ifeq ($(FLAVOR),release)
FLAVOR_CFLAGS := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
else ifeq ($(FLAVOR),debug)
FLAVOR_CFLAGS := -O0 -g3 -fno-omit-frame-pointer
else ifeq ($(FLAVOR),asan)
FLAVOR_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -fno-omit-frame-pointer
FLAVOR_LDFLAGS := -fsanitize=address,undefined
else
$(error unknown FLAVOR '$(FLAVOR)': use release, debug or asan)
endif

CFLAGS  := $(BASE_CFLAGS) $(FLAVOR_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(FLAVOR_LDFLAGS) -pthread
LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lfcgi -lm

CORE_SRC   := $(wildcard backend/core/*.c)
API_SRC    := $(wildcard backend/api/*.c)
STREAM_SRC := $(wildcard backend/stream/*.c)
CLI_SRC    := $(filter-out backend/cli/bench%.c,$(wildcard backend/cli/*.c))
BENCH_SRC  := $(wildcard backend/cli/bench*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

CORE_LIB := $(BUILD)/libcohort-core.a
BINS     := $(BUILD)/cohort-api $(BUILD)/cohort-stream $(BUILD)/cohort $(BUILD)/cohort-bench
UNITS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all build asan debug deps frontend run test test-unit test-integ test-e2e \
        bench lint clean distclean

all: build
build: $(BINS) $(UNITS)

asan:
	$(Q)$(MAKE) --no-print-directory FLAVOR=asan build
debug:
	$(Q)$(MAKE) --no-print-directory FLAVOR=debug build

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(CORE_LIB): $(call obj,$(CORE_SRC))
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/cohort-api: $(call obj,$(API_SRC)) $(CORE_LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/cohort-stream: $(call obj,$(STREAM_SRC)) $(CORE_LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/cohort: $(call obj,$(CLI_SRC)) $(CORE_LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/cohort-bench: $(call obj,$(BENCH_SRC)) $(CORE_LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# Unit tests: tests/unit/test_<x>.c links the core library; test_api_<x>.c also
# links cohort-api's objects and test_stream_<x>.c cohort-stream's (minus main.c).
API_LIBOBJ    := $(call obj,$(filter-out backend/api/main.c,$(API_SRC)))
STREAM_LIBOBJ := $(call obj,$(filter-out backend/stream/main.c,$(STREAM_SRC)))

$(BUILD)/tests/test_api_%: $(BUILD)/obj/tests/unit/test_api_%.o $(API_LIBOBJ) $(CORE_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

$(BUILD)/tests/test_stream_%: $(BUILD)/obj/tests/unit/test_stream_%.o $(STREAM_LIBOBJ) $(CORE_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(CORE_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

deps:
	$(Q)scripts/deps.sh

frontend: deps
	$(Q)cd frontend && npm run --silent build

run: deps
	$(Q)$(MAKE) --no-print-directory build
	$(Q)$(MAKE) --no-print-directory frontend
	$(Q)scripts/run.sh

# The whole suite: unit tests of the chosen flavor, then the integration and
# browser suites against real servers; scripts/test.sh prints the one summary line.
test: deps
	$(Q)$(MAKE) --no-print-directory build
	$(Q)$(MAKE) --no-print-directory frontend
	$(Q)FLAVOR=$(FLAVOR) scripts/test.sh

test-asan: deps
	$(Q)$(MAKE) --no-print-directory FLAVOR=asan test

bench: deps
	$(Q)$(MAKE) --no-print-directory build
	$(Q)$(MAKE) --no-print-directory frontend
	$(Q)scripts/bench.sh

lint:
	$(Q)scripts/lint.sh

clean:
	rm -rf build frontend/dist

distclean: clean
	rm -rf var frontend/node_modules node_modules

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- fuzz: libFuzzer targets (tests/fuzz/README.md) --------------------------
# `make fuzz` builds tests/fuzz/fuzz_<x>.c into build/fuzz/fuzz_<x>, each linked
# with the core sources compiled by clang (not the gcc-built archive).
# `make fuzz-smoke` runs every target for FUZZ_SECONDS over its committed seed
# corpus; new inputs go to build/fuzz/corpus/, crashes to build/fuzz/artifacts/.
# Not part of `make test`.
FUZZ_CC      ?= clang
FUZZ_DIR     := build/fuzz
FUZZ_SECONDS ?= 10
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRC))
FUZZ_CORE    := $(FUZZ_DIR)/libcohort-core-fuzz.a
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -O1 -g -Wall -Wextra \
                -Ibackend $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP -pthread \
                $(FUZZ_SAN) -fsanitize=fuzzer-no-link

.PHONY: fuzz fuzz-smoke

fuzz: $(FUZZ_BINS)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_CORE): $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(CORE_SRC))
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_CORE)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -pthread -o $@ $^ $(LIBS)

# fuzz_wsmsg reads WebSocket messages with the streamer's own parser.
$(FUZZ_DIR)/fuzz_wsmsg: $(FUZZ_DIR)/obj/backend/stream/wsmsg.o

# Keep the targets' objects (make would delete them as intermediates).
.SECONDARY: $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/obj/tests/fuzz/%.o,$(FUZZ_SRC)) $(FUZZ_DIR)/obj/backend/stream/wsmsg.o

fuzz-smoke: fuzz
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/smoke.sh $(FUZZ_BINS)

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
# ---- end fuzz ----------------------------------------------------------------
