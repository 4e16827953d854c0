# kfarm - QEMU kernel test farm for ptrace detach semantics.
#   make            build the CLI, the daemon, the guest runner and the initramfs
#   make deps       install the Debian packages kfarm needs (idempotent)
#   make test       unit tests, host payload run, real QEMU boots
#   make demo       the default comparison: Debian 6.1 vs 6.12 at SMP 1,2,4,8
#   make test-faults  faults injected into real runs, counted in a table
#   make bench      kfarm against the plain QEMU loop, as ratios of one run
#                   (bench-quick: the smoke size CI runs)
#   make coverage   check the ptrace surface inventory, rewrite guest-tests/COVERAGE.md
#   make install    kfarm, kfarmd, their man pages, kfarmd.service (configs/install.mk:
#                   PREFIX=/usr/local, DESTDIR, BINDIR, MANDIR, SYSCONFDIR, UNITDIR)
#   make uninstall  the same files removed (a changed SYSCONFDIR/kfarm/kfarm.json stays)
#   SANITIZE=address,undefined make test   the same with sanitizers (host code)
#   make fuzz       each parser of what kfarm did not write (results channel, console,
#                   config, run.json, diff.json, .deb, bzImage, kfarmd's API) under libFuzzer (clang,
#                   ASan, UBSan) for FUZZ_S seconds (default 60) from fuzz/corpus/; prints
#                   executions, coverage and crashes per target, fails on a crash
#                   (fuzz/README.md: the harnesses, keeping a crash as a regression)

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wwrite-strings -Wvla -Werror
STD     := -std=gnu11 -D_GNU_SOURCE
SANITIZE ?=
PKGS    := jansson libcurl libarchive sqlite3 libmicrohttpd libsystemd libvirt
TOP     := $(abspath .)
# The guest side never takes sanitizers: it is a static binary for the initramfs.
GBUILD  := build

ifeq ($(SANITIZE),)
BUILD   := build
SANFLAGS :=
else
BUILD   := build-san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljansson -lcurl -larchive -lsqlite3 -lmicrohttpd -lsystemd -lvirt)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

INITRAMFS := $(TOP)/$(GBUILD)/initramfs.cpio
DEFINES   := -DKFARM_TOP='"$(TOP)"' -DKFARM_INITRAMFS='"$(INITRAMFS)"'
ALL_CFLAGS = $(STD) $(CFLAGS) $(WARN) $(SANFLAGS) $(PKG_CFLAGS) -MMD -MP $(DEFINES)

ORCH_SRC  := $(filter-out orchestrator/kfarm.c orchestrator/kfarmd.c,$(wildcard orchestrator/*.c))
ORCH_OBJ  := $(ORCH_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/config-default.o
TEST_SRC  := $(wildcard orchestrator/tests/test_*.c)
TEST_BIN  := $(TEST_SRC:orchestrator/tests/%.c=$(BUILD)/tests/%)
# stats.c as a filter, for tests/stats-check.py (scipy/statsmodels cross-check)
STATS_REF := $(BUILD)/tests/stats-ref
# The fuzz harnesses (fuzz/fuzz_TARGET.c): their replay drivers, built here
# with the rest (make test runs the kept inputs through them), and the
# libFuzzer binaries, built with clang into their own folder.
FUZZ_TARGETS := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_REPLAY  := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
FUZZ_CC    ?= clang
FUZZ_S     ?= 60
FUZZ_BUILD := build-fuzz
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = $(STD) -O1 -g $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) \
              -MMD -MP $(DEFINES)
FUZZ_OBJ   := $(ORCH_SRC:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_BUILD)/gen/config-default.o \
              $(FUZZ_BUILD)/fuzz/fuzz.o
FUZZ_BIN   := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
GUEST_SRC := $(wildcard guest-tests/*.c)
GUEST_HDR := $(wildcard guest-tests/*.h guest-tests/*.def)
BUSYBOX   ?= /bin/busybox

.PHONY: all deps test unit test-build test-faults demo coverage clean bench bench-quick fuzz fuzz-build
all: $(BUILD)/kfarm $(BUILD)/kfarmd $(GBUILD)/kfarm-guest $(INITRAMFS) $(STATS_REF)

$(BUILD)/orchestrator/%.o: orchestrator/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/gen/config-default.c $(FUZZ_BUILD)/gen/config-default.c: configs/default.json
	@mkdir -p $(dir $@)
	{ printf 'extern const char config_default_json[];\nconst char config_default_json[] =\n'; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; printf ';\n'; } > $@.tmp
	mv $@.tmp $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -c $< -o $@

$(BUILD)/kfarm: $(BUILD)/orchestrator/kfarm.o $(ORCH_OBJ)
	$(CC) $(SANFLAGS) $^ -o $@ $(PKG_LIBS) -lm

$(BUILD)/kfarmd: $(BUILD)/orchestrator/kfarmd.o $(ORCH_OBJ)
	$(CC) $(SANFLAGS) $^ -o $@ $(PKG_LIBS) -lm

$(BUILD)/tests/%: orchestrator/tests/%.c $(ORCH_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iorchestrator $< $(ORCH_OBJ) -o $@ $(PKG_LIBS) $(CHECK_LIBS) -lm

$(STATS_REF): orchestrator/tests/stats-ref.c $(ORCH_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iorchestrator $< $(ORCH_OBJ) -o $@ $(PKG_LIBS) -lm

# The guest shares two headers with the host: the results channel's framing
# and the cell-list syntax.
$(GBUILD)/kfarm-guest: $(GUEST_SRC) $(GUEST_HDR) orchestrator/kf1.h orchestrator/cellid.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g $(WARN) -Iorchestrator -static -pthread $(GUEST_SRC) -o $@

$(INITRAMFS): images/mkinitramfs.sh images/init $(GBUILD)/kfarm-guest
	images/mkinitramfs.sh $@ $(BUSYBOX) $(GBUILD)/kfarm-guest images/init

deps:
	./images/deps.sh

# test_results feeds the real guest runner's output through the host's parser.
unit: $(TEST_BIN) $(GBUILD)/kfarm-guest
	@set -e; for t in $(TEST_BIN); do echo "== $$t"; CK_DEFAULT_TIMEOUT=60 $$t; done

test: all unit $(FUZZ_REPLAY)
	./tests/run-all.sh $(BUILD)

$(BUILD)/fuzz/%.o: fuzz/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iorchestrator -Ifuzz -c $< -o $@

$(FUZZ_REPLAY): $(BUILD)/fuzz/%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/fuzz.o $(BUILD)/fuzz/replay.o \
		$(ORCH_OBJ)
	$(CC) $(SANFLAGS) $^ -o $@ $(PKG_LIBS) -lm

# make fuzz: libFuzzer (Debian's clang) on each harness, FUZZ_S seconds a
# target; fuzz/run.sh starts from fuzz/corpus/ and fuzz/regress/ and writes
# what it finds under build-fuzz/ only. The project's objects are compiled
# again with clang, the fuzzer's coverage and both sanitizers (kfarm.c and
# kfarmd.c too, which no harness links: all of it must build with clang).
fuzz-build: $(FUZZ_BIN) $(FUZZ_BUILD)/orchestrator/kfarm.o $(FUZZ_BUILD)/orchestrator/kfarmd.o

# (quiet: what it prints is run.sh's summary, or a compiler's complaint)
fuzz:
	@$(MAKE) -s --no-print-directory fuzz-build
	@FUZZ_S=$(FUZZ_S) ./fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TARGETS)

$(FUZZ_BUILD)/orchestrator/%.o: orchestrator/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz/%.o: fuzz/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iorchestrator -Ifuzz -c $< -o $@

$(FUZZ_BUILD)/gen/%.o: $(FUZZ_BUILD)/gen/%.c
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-missing-prototypes -c $< -o $@

$(FUZZ_BIN): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/fuzz/fuzz_%.o $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ -o $@ $(PKG_LIBS) -lm

# kfarm against the plain loop of QEMU calls a user would write, on the same
# kernels and initramfs (tests/bench.py): a table, and $(BUILD)/bench/bench.json
# with the ratios of that one run. bench-quick: one kernel, SMP 1 and 2, 2 reps
# (about two minutes; .ci/run runs it).
bench: all
	/usr/bin/python3 tests/bench.py $(BUILD)

bench-quick: all
	/usr/bin/python3 tests/bench.py $(BUILD) --quick

# Kernels built from linux-source-6.1 (plain and with configs/patches), booted
# and compared: slow the first time (two builds), cached after; a one-line
# patch edit rebuilt in the build tree, and a build killed mid-make (its tree
# made afresh): two more builds each time, the second one full (ccache helps);
# a git repository made from the source with the patch one of 7 commits, bisected
# (kfarm bisect --good --bad): at most 5 builds in one build tree, then none.
test-build: all
	/usr/bin/python3 tests/build-test.py $(BUILD)

# Faults injected into real runs (tests/faults.py): hostile guests (forged,
# replayed and garbage frames, a 10 MiB line, ../ ids, a console flood), QEMU
# and kfarm killed mid-run, unbootable images, a read-only reports folder, two
# runs on one cache. Prints a table: fault, times injected, handled as
# specified, results lost (a few minutes; .ci/run runs it).
test-faults: all
	/usr/bin/python3 tests/faults.py $(BUILD)

# guest-tests/COVERAGE.md, rendered from the ptrace surface inventory
# (guest-tests/surface/*.def) after checking it (make test checks it is in sync).
coverage: $(GBUILD)/kfarm-guest
	tests/uapi-headers.sh $(BUILD)/uapi
	/usr/bin/python3 tests/surface-check.py --kfarm-guest $(GBUILD)/kfarm-guest --headers $(BUILD)/uapi --write

demo: all
	@# exit 1 means "the kernels differ": still a successful demo
	$(BUILD)/kfarm compare -c configs/default.json || [ $$? -eq 1 ]

clean:
	rm -rf build build-san $(FUZZ_BUILD)

# make install, make uninstall: after every rule above (it names their outputs)
include configs/install.mk

-include $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
