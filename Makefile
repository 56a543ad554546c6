# One non-recursive Makefile for the four tools, libcdc and the tests.
#   make                  build bin/*
#   make test             everything: deps, local stack, unit + integration
#   make check            unit tests only (no network)
#   make SANITIZE=address,undefined test
#   make DEVELOPER=1      adds -Werror

CC ?= cc
PKGS = libmariadb rdkafka avro-c libcurl zlib libzstd jansson libcrypto
# Asked when make reads this file: `make test` and `make demo` therefore
# install first (scripts/deps) and build in a second make that asks again;
# a build whose libraries pkg-config cannot find stops at once, naming them.
PKG_OK := $(shell pkg-config --exists $(PKGS) 2>/dev/null && echo yes)
PKG_CFLAGS := $(if $(PKG_OK),$(shell pkg-config --cflags $(PKGS)))
PKG_LIBS := $(if $(PKG_OK),$(shell pkg-config --libs $(PKGS)))

CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wpedantic -Wstrict-prototypes -Wmissing-prototypes \
	-Wold-style-definition -Wpointer-arith -Wwrite-strings -Wvla -Wshadow \
	-Wformat=2 -fno-common
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(CFLAGS) \
	-Icommon $(PKG_CFLAGS) -MMD -MP
ifdef DEVELOPER
ALL_CFLAGS += -Werror
endif
ifdef SANITIZE
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif
LIBS = $(PKG_LIBS) -lm

# Objects go under build/, one tree per compiler and sanitizer setting so
# switching between them never mixes objects.
BUILD ?= build/$(notdir $(CC))$(if $(SANITIZE),-$(subst $(comma),-,$(SANITIZE)))
comma := ,

COMMON_SRC = $(wildcard common/*.c)
COMMON_MAIN = common/streamcat.c
LIB_SRC = $(filter-out $(COMMON_MAIN),$(COMMON_SRC))
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB = $(BUILD)/libcdc.a

TOOL_DIRS = $(foreach t,binlog2avro avro2kafka kafka2ch chload,\
	$(if $(wildcard $(t)/main.c),$(t)))
TOOLS = streamcat $(TOOL_DIRS)
BINS = $(TOOLS:%=$(BUILD)/bin/%)
# Each tool's modules other than main.c also go into lib<tool>.a, so unit
# tests (tests/unit/test_<tool>_*.c) can link them.
TOOL_LIBS = $(TOOL_DIRS:%=$(BUILD)/lib%.a)

UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Helper programs of the integration tests; they find them in bin/../tests.
TEST_TOOLS = $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(wildcard tests/tools/*.c))

# bin/ is a link to the binaries of the last build setting, so tests always
# run what was just built. NOLINK=1 leaves bin/ alone (for a private
# BUILD=dir; point the tests at it with CDC_BIN=dir/bin).
all: pkgcheck $(BINS) $(TEST_TOOLS)
ifndef NOLINK
	@ln -sfn $(BUILD)/bin bin
endif

# Unit tests and test tools see the tools' own headers too.
$(BUILD)/tests/%.o: ALL_CFLAGS += $(TOOL_DIRS:%=-I%)

pkgcheck:
ifndef PKG_OK
	@echo "make: error: pkg-config cannot find $(PKGS): run scripts/deps (make test and make demo do)" >&2
	@false
endif

$(BUILD)/%.o: %.c | pkgcheck
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

.SECONDEXPANSION:
$(BUILD)/lib%.a: $$(addprefix $(BUILD)/,$$(addsuffix .o,$$(basename $$(filter-out $$*/main.c,$$(wildcard $$*/*.c)))))
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/bin/streamcat: $(BUILD)/common/streamcat.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/bin/%: $(BUILD)/%/main.o $(BUILD)/lib%.a $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(TOOL_LIBS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/tools/%.o $(TOOL_LIBS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

check: all $(UNIT_BINS)
	@tests/run --unit $(UNIT_BINS)

# deps runs first, alone; the build is a new make, which sees the -dev
# packages that deps has just installed.
test: deps
	@$(MAKE) --no-print-directory test-run
test-run: all $(UNIT_BINS)
	@tests/run $(UNIT_BINS)

deps:
	@scripts/deps

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo

clean:
	rm -rf build bin

# The binlog decoder under libFuzzer (clang), seeded with the fixture
# binlogs; FUZZ_SECONDS bounds the run.
FUZZ_SECONDS ?= 60
FUZZ_DIR = build/fuzz
fuzz:
	@mkdir -p $(FUZZ_DIR)/corpus
	$(MAKE) BUILD=$(FUZZ_DIR)/obj NOLINK=1 CC=clang \
	    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" \
	    $(FUZZ_DIR)/obj/libcdc.a $(FUZZ_DIR)/obj/libbinlog2avro.a
	clang -O1 -g -fsanitize=fuzzer,address,undefined -Icommon -Ibinlog2avro \
	    -o $(FUZZ_DIR)/fuzz_binlog tests/fuzz/fuzz_binlog.c \
	    $(FUZZ_DIR)/obj/libbinlog2avro.a $(FUZZ_DIR)/obj/libcdc.a $(LIBS)
	@find tests/fixtures/binlog -type f -size -2M \
	    ! -name '*.md' ! -name '*.txt' ! -name '*.sql' ! -name '*.result' \
	    -exec cp -n {} $(FUZZ_DIR)/corpus/ \; 2>/dev/null || true
	$(FUZZ_DIR)/fuzz_binlog -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=1048576 -rss_limit_mb=1024 \
	    -artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_DIR)/corpus

.PHONY: all check test test-run deps demo clean fuzz pkgcheck
-include $(shell find build -name '*.d' 2>/dev/null)

# Archives and test objects are only prerequisites, which make would delete
# as intermediates after each run (and then rebuild every time): keep them.
.SECONDARY:
