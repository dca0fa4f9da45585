# openMosix (user space) — one top-level, non-recursive Makefile.
#   make            build everything into bin/
#   make check      install missing Debian deps, build, run every test
#   make bench      run the benchmarks
#   make demo       run the demo on a local cluster
#   make fuzz       build libFuzzer targets with clang (short runs: make fuzz-run)
# Options: WERROR=1 (warnings are errors), SAN=1 (ASan+UBSan), V=1.

CC      ?= cc
SAN     ?= 0
WERROR  ?= 0
PREFIX  ?= /usr/local

BUILD   := build
ifeq ($(SAN),1)
BUILD   := build-san
endif

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter \
	   -Wstrict-prototypes -Wmissing-prototypes -fno-strict-aliasing -I. \
	   $(shell pkg-config --cflags libsodium jansson 2>/dev/null)
ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
LDLIBS  += -lsodium -ljansson -lm

# Library: every pure module and shared helper.
LIB_DIRS := lib proto map load gossip balance ckpt rsys mig fs agent
LIB_SRC  := $(wildcard $(addsuffix /*.c,$(LIB_DIRS)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/agent/blob_data.o

# The agent blob (agent/agent.h): freestanding, position-independent code
# linked to address 0 and copied out as bytes, embedded in libom. Never
# instrumented (SAN=1 does not reach it: it runs inside other processes,
# without libc). agent/*.c are pure and also built into libom for tests.
AGENT_SRC   := agent/acrypt.c agent/aframe.c agent/afast.c $(wildcard agent/blob/*.c)
AGENT_OBJ   := $(patsubst %.c,$(BUILD)/agent-blob/%.o,$(AGENT_SRC))
AGENT_ELF   := $(BUILD)/agent-blob/agent.elf
AGENT_BIN   := $(BUILD)/agent-blob/agent.bin
AGENT_SYMS  := $(BUILD)/gen/agent_syms.h
AGENT_CFLAGS := -std=gnu11 -D_GNU_SOURCE -DAGENT_BLOB -O2 -g -I. -I$(BUILD) -Wall -Wextra -Wshadow \
	-Wno-unused-parameter -Wmissing-prototypes -ffreestanding -fPIC -fvisibility=hidden \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none \
	-mgeneral-regs-only -include agent/blob/hidden.h -fno-sanitize=all $(if $(filter 1,$(WERROR)),-Werror,)
LIBOM    := $(BUILD)/libom.a

# The daemon: everything in daemon/ (omd.c holds main()).
OMD_SRC  := $(wildcard daemon/*.c)
OMD_OBJ  := $(OMD_SRC:%.c=$(BUILD)/%.o)

# Tools: tools/NAME.c with a main() each; tools/common/*.c shared by them.
TOOL_COMMON_SRC := $(wildcard tools/common/*.c)
TOOL_COMMON_OBJ := $(TOOL_COMMON_SRC:%.c=$(BUILD)/%.o)
TOOL_SRC := $(wildcard tools/*.c)
TOOLS    := $(patsubst tools/%.c,bin/%,$(TOOL_SRC))

# Scripts installed as programs: scripts/bin/NAME -> bin/NAME
SCRIPT_SRC := $(wildcard scripts/bin/*)
SCRIPTS    := $(patsubst scripts/bin/%,bin/%,$(SCRIPT_SRC))

# Unit tests: tests/unit/test_NAME.c -> $(BUILD)/tests/test_NAME
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNITS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

# Test helper programs: tests/helpers/NAME.c -> $(BUILD)/helpers/NAME
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPERS    := $(patsubst tests/helpers/%.c,$(BUILD)/helpers/%,$(HELPER_SRC))

# zdtm-style victims: tests/migrate/victims/NAME.c -> $(BUILD)/victims/NAME
# and NAME-static, the same program linked -static
VICTIM_SRC := $(wildcard tests/migrate/victims/*.c)
VICTIMS    := $(patsubst tests/migrate/victims/%.c,$(BUILD)/victims/%,$(VICTIM_SRC))
# (fmap dlopen()s: not linked -static)
STATIC_VICTIMS := $(filter-out %/fmap-static,$(VICTIMS:%=%-static))
# and a few linked statically against musl (scripts/deps.sh installs it)
MUSL_CC ?= musl-gcc
MUSL_VICTIMS := $(patsubst %,$(BUILD)/victims/%-musl,identity files signals fpu mem)

# Fuzz targets: fuzz/fuzz_NAME.c; replayed over fuzz/corpus/NAME by make check.
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_REPLAY := $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_LF  := $(patsubst fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))

# Benchmarks: bench/NAME.c -> $(BUILD)/bench/NAME
BENCH_SRC := $(wildcard bench/*.c)
BENCHES   := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

ALL := bin/omd $(TOOLS) $(SCRIPTS)

.PHONY: all clean check deps test bench demo fuzz fuzz-run format install
all: $(ALL) $(UNITS) $(HELPERS) $(VICTIMS) $(STATIC_VICTIMS) $(MUSL_VICTIMS) $(FUZZ_REPLAY) $(BENCHES)

$(BUILD)/%.o: %.c | $(AGENT_SYMS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(BUILD) -MMD -MP -c -o $@ $<

$(BUILD)/agent-blob/%.o: %.c agent/blob/hidden.h Makefile
	@mkdir -p $(dir $@)
	$(CC) $(AGENT_CFLAGS) -MMD -MP -c -o $@ $<

# linked at 0; refuses objects with absolute relocations or a GOT
$(AGENT_ELF): $(AGENT_OBJ) agent/blob/blob.lds Makefile
	@if readelf -rW $(AGENT_OBJ) | awk '/^Relocation section/ { dbg = ($$3 ~ /debug/) } \
		!dbg && /R_X86_64_(64|32|32S|GOTPCREL[A-Z]*) /' | grep .; then \
		echo "agent blob: absolute or GOT relocations" >&2; exit 1; fi
	ld -static -nostdlib -T agent/blob/blob.lds -o $@ $(AGENT_OBJ)
	@if readelf -SW $@ | grep -qE '\.got|\.plt|\.rela'; then echo "agent blob: GOT/PLT" >&2; exit 1; fi

$(AGENT_BIN): $(AGENT_ELF)
	objcopy -O binary -j .text -j .data $< $@

$(AGENT_SYMS): $(AGENT_ELF)
	@mkdir -p $(dir $@)
	nm $< | awk '$$3 ~ /^agent_/ { printf "#define AGENT_SYM_%s 0x%sul\n", $$3, $$1 }' >$@.tmp
	mv $@.tmp $@

$(BUILD)/agent/blob_data.o: $(AGENT_BIN)
	@mkdir -p $(dir $@)
	printf '\t.section .rodata\n\t.balign 4096\n\t.globl agent_blob_start\nagent_blob_start:\n\t.incbin "%s"\n\t.globl agent_blob_end\nagent_blob_end:\n\t.section .note.GNU-stack,"",@progbits\n' $< | \
		$(CC) -c -x assembler -o $@ -

$(LIBOM): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

bin/omd: $(OMD_OBJ) $(LIBOM)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bin/%: $(BUILD)/tools/%.o $(TOOL_COMMON_OBJ) $(LIBOM)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(if $(filter bin/mosmon bin/mtop,$@),-lncursesw,) \
		$(if $(filter bin/omhpcfs,$@),$(FUSE_LIBS),)

# omhpcfs (the hpc tree) is the one program that links libfuse3
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS   := $(shell pkg-config --libs fuse3 2>/dev/null || echo -lfuse3)
$(BUILD)/tools/omhpcfs.o: CFLAGS += $(FUSE_CFLAGS)

bin/%: scripts/bin/%
	@mkdir -p bin
	cp $< $@ && chmod 755 $@

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIBOM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/helpers/%: $(BUILD)/tests/helpers/%.o $(LIBOM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# victims are plain programs: no sanitizers, no project library
$(BUILD)/victims/%-musl: tests/migrate/victims/%.c
	@mkdir -p $(dir $@)
	$(MUSL_CC) -O1 -g -std=gnu11 -D_GNU_SOURCE -Wall -static -o $@ $< -lm

$(BUILD)/victims/%-static: tests/migrate/victims/%.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -std=gnu11 -D_GNU_SOURCE -Wall -static -o $@ $< -lm

$(BUILD)/victims/%: tests/migrate/victims/%.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -std=gnu11 -D_GNU_SOURCE -Wall -o $@ $< -lm

$(BUILD)/fuzz/%: $(BUILD)/fuzz/%.o $(BUILD)/fuzz/replay_main.o $(LIBOM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/replay_main.o: fuzz/replay_main.inc
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -x c -c -o $@ $<

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIBOM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@scripts/deps.sh

check: deps
	$(MAKE) all
	BUILD=$(BUILD) tests/run.sh

test: all
	BUILD=$(BUILD) tests/run.sh $(T)

bench: deps
	$(MAKE) all
	BUILD=$(BUILD) bench/run.sh

demo: deps
	$(MAKE) all
	scripts/demo.sh

# libFuzzer builds (clang); `make fuzz-run` fuzzes each target briefly.
build-fuzz/%: fuzz/%.c $(LIB_SRC) $(AGENT_SYMS) $(BUILD)/agent/blob_data.o
	@mkdir -p build-fuzz
	clang -g -O1 -std=gnu11 -D_GNU_SOURCE -I. -I$(BUILD) -fsanitize=fuzzer,address,undefined -o $@ $< \
		$(LIB_SRC) $(BUILD)/agent/blob_data.o $(LDLIBS)
fuzz: $(FUZZ_LF)
fuzz-run: fuzz
	@for f in $(FUZZ_LF); do n=$${f#build-fuzz/fuzz_}; mkdir -p build-fuzz/corpus-$$n; \
	  echo "fuzzing $$n"; $$f -max_total_time=$${FUZZ_SECONDS:-20} -max_len=4096 build-fuzz/corpus-$$n fuzz/corpus/$$n >build-fuzz/$$n.log 2>&1 || { tail -40 build-fuzz/$$n.log; exit 1; }; done

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m755 $(ALL) $(DESTDIR)$(PREFIX)/bin/
	for s in 1 5 8; do install -d $(DESTDIR)$(PREFIX)/share/man/man$$s; \
	  for f in man/*.$$s; do [ -e "$$f" ] && install -m644 "$$f" $(DESTDIR)$(PREFIX)/share/man/man$$s/; done; done; true

clean:
	rm -rf build build-san build-fuzz bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
