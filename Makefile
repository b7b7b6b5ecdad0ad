# vmsched: a boot-time scheduler for virtual machines.
#
#   make            build ./vmsched
#   make check      install missing packages, build, run every test
#   make check SANITIZE=1   the same under AddressSanitizer + UBSan
#   make demo       install missing packages, build, show a sample fleet
#   make bench      measure the figures README quotes
#   make chaos      the fault-injection campaign (tests/chaos/); chaos-short
#                   its one-minute version. CHAOS_SEED=N replays a run.
#   make install PREFIX=/usr/local DESTDIR=   (and make uninstall)

PREFIX	?= /usr/local
DESTDIR	?=
# libcurl is compiled against but not linked: sched/hook.c loads it with
# dlopen when a webhook is sent, so other commands start ~20 ms faster.
PKGS	 = sqlite3 libplist-2.0 libcrypto
PKG_CONFIG ?= pkg-config

CC	?= cc
CSTD	 = -std=c11 -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700
WARN	 = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-qual \
	   -Wwrite-strings -Wstrict-prototypes -Wmissing-prototypes \
	   -Wmissing-declarations -Wformat=2 -Wundef -Wvla \
	   -Wno-format-nonliteral
CFLAGS	?= -O2 -g
ifeq ($(SANITIZE),1)
CFLAGS	+= -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer
LDFLAGS	+= -fsanitize=address,undefined
BUILD	 = build/asan
else
BUILD	 = build/plain
endif
DEPCFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) libcurl 2>/dev/null)
DEPLIBS	  := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -ldl
CHECKLIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) $(DEPCFLAGS) -pthread -Isched -Idb -Itools

# The library: sched/ and db/, linked by the binary and every test.
LIB_SRCS = sched/drv-exec.c sched/log.c sched/plan.c sched/policy.c \
	   sched/probe.c sched/proc.c sched/util.c sched/value.c \
	   sched/vmdef.c sched/vmx.c sched/launchd.c sched/trust.c \
	   sched/plistbound.c sched/text.c \
	   db/db.c db/perm.c db/event.c db/graph.c db/query.c db/run.c db/vm.c db/import.c
# Issue 12: the detached driver and the hypervisor shortcuts.
LIB_SRCS += sched/status.c db/json.c sched/job.c sched/drv-detached.c \
	    sched/shortcut.c
# The daemon: its loop, the state machine, boot waves and shutdown, the
# checks it runs, what it writes.
LIB_SRCS += sched/daemon.c sched/fsm.c sched/boot.c sched/gate.c \
	    sched/journal.c sched/ledger.c
# The webhook: the sender, its pure policy, its side of the store.
LIB_SRCS += sched/hook.c sched/hookpolicy.c db/outbox.c
# The metrics text and the daemon's metrics file (issue 13).
LIB_SRCS += sched/metrics.c db/metrics.c
LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/migrations.o
MIGRATIONS = $(sort $(wildcard migrations/[0-9][0-9][0-9][0-9]_*.sql))

# The command: one file per command, one table in main.c.
CMD_SRCS = tools/main.c tools/cli.c tools/vmopts.c tools/cmd-set.c \
	   tools/cmd-ctl.c tools/cmd-daemon.c tools/cmd-plan.c tools/cmd-probe.c tools/cmd-status.c \
	   tools/cmd-add.c tools/cmd-db.c tools/cmd-enable.c \
	   tools/cmd-list.c tools/cmd-log.c tools/cmd-remove.c \
	   tools/cmd-show.c tools/cmd-vmx-check.c \
	   tools/cmd-import-launchd.c tools/cmd-export.c
CMD_SRCS += tools/cmd-webhook.c tools/cmd-events.c
# The operator's toolbox (issue 13).
CMD_SRCS += tools/complete.c tools/cmd-complete.c tools/cmd-completion.c \
	    tools/cmd-metrics.c
# Issue 12: the QEMU monitor helper and the hypervisor shortcuts.
CMD_SRCS += tools/cmd-qmp.c tools/shortcuts.c
CMD_OBJS = $(CMD_SRCS:%.c=$(BUILD)/%.o)

# Check suites: tests/check_*.c, each its own program.
UNIT	 = check_value check_plan check_db check_vmx check_policy check_waves check_launchd
UNIT	+= check_hook check_fsm check_metrics check_text check_drivers
UNIT_BINS = $(UNIT:%=$(BUILD)/tests/%)
# Test programs the integration suites drive (built by the tests/% rule).
TEST_HELPERS = $(BUILD)/tests/hook_driver

# make bench (tools/bench/): the seeder and the timer link the library and
# the bench's bulk data (seed.c); the VM it supervises and the fork+exec
# baseline are tiny static programs. None of it is in the shipped library.
BENCH_SRCS = tools/bench/bench-seed.c tools/bench/bench-time.c \
	     tools/bench/bench-vm.c tools/bench/bench-forkexec.c
BENCH_BINS = $(BENCH_SRCS:tools/bench/%.c=$(BUILD)/bench/%)
BENCH_RESULTS ?= $(BUILD)/bench/results.txt
# tests/test_bench.py runs the bench quickly.
TEST_HELPERS += $(BENCH_BINS)

# make chaos (tests/chaos/): the VM the campaign supervises keeps its own
# books; tiny and static like bench-vm, so a thousand of them are cheap.
CHAOS_VM = $(BUILD)/tests/chaos-vm
CHAOS_TOOLS = $(VMSCHED) $(CHAOS_VM) $(BUILD)/tests/hook_driver
CHAOS_ENV = VMSCHED=$(abspath $(VMSCHED)) CHAOS_VM=$(abspath $(CHAOS_VM)) \
	    HOOK_DRIVER=$(abspath $(BUILD)/tests/hook_driver) \
	    CHAOS_SANITIZED=$(if $(filter 1,$(SANITIZE)),1,0)

# libFuzzer targets: tests/fuzz/<name>.c, built with clang.
FUZZ_TARGETS = fuzz_vmx fuzz_plist fuzz_values fuzz_since fuzz_url fuzz_driver
FUZZ_SECONDS ?= 20

.PHONY: all check unit integration demo bench install uninstall clean deps \
	fuzz chaos chaos-short

# The binary at the top is always the plain build; the sanitizer build
# keeps its own in $(BUILD).
ifeq ($(SANITIZE),1)
VMSCHED = $(BUILD)/vmsched
else
VMSCHED = vmsched
endif

all: $(VMSCHED)

$(VMSCHED): $(CMD_OBJS) $(BUILD)/libvmsched.a
	$(CC) $(LDFLAGS) -o $@ $(CMD_OBJS) $(BUILD)/libvmsched.a $(DEPLIBS) \
	    -lm -lpthread

$(BUILD)/libvmsched.a: $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJS)

$(BUILD)/migrations.c: tools/embed-migrations.sh $(MIGRATIONS)
	@mkdir -p $(@D)
	sh tools/embed-migrations.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

HEADERS	 = sched/model.h sched/sched.h db/db.h tools/cli.h

$(BUILD)/migrations.o: $(BUILD)/migrations.c $(HEADERS)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c $(HEADERS) tools/bench/seed.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libvmsched.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libvmsched.a $(DEPLIBS) \
	    $(CHECKLIBS) -lm -lpthread

$(BUILD)/bench/bench-seed $(BUILD)/bench/bench-time: $(BUILD)/bench/%: \
    $(BUILD)/tools/bench/%.o $(BUILD)/tools/bench/seed.o $(BUILD)/libvmsched.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/tools/bench/seed.o \
	    $(BUILD)/libvmsched.a $(DEPLIBS) -lm -lpthread

# Static and unsanitized whatever the build: they are not vmsched.
$(BUILD)/bench/bench-vm $(BUILD)/bench/bench-forkexec: $(BUILD)/bench/%: \
    tools/bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) -O2 -static -o $@ $<

$(CHAOS_VM): tests/chaos/chaos-vm.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) -O2 -static -o $@ $<

deps:
	@sh tools/deps.sh

# Check suites print their own summary; the integration runner prints
# "N passed, N failed"; chaos-short attacks the daemon for about a minute
# and prints its table. Any failure fails the target.
check: deps
	$(MAKE) unit integration chaos-short

unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do \
	    CK_FORK=yes ./$$t || fail=1; done; exit $$fail

# npm packages the tests check against (the Standard Webhooks reference
# implementation), installed under build/, never into the tree.
NPM_DIR	 = build/npm
NPM_PKGS = standardwebhooks@1.1.1
NPM_STAMP = $(NPM_DIR)/node_modules/standardwebhooks/package.json

$(NPM_STAMP):
	@mkdir -p $(NPM_DIR)
	npm install --prefix $(NPM_DIR) --no-audit --no-fund --no-save \
	    --loglevel=error $(NPM_PKGS)

integration: $(VMSCHED) $(TEST_HELPERS) $(NPM_STAMP)
	VMSCHED=$(abspath $(VMSCHED)) HOOK_DRIVER=$(abspath $(BUILD)/tests/hook_driver) \
	    BENCH_TOOLS=$(abspath $(BUILD)/bench) \
	    NODE_MODULES=$(abspath $(NPM_DIR))/node_modules \
	    python3 tests/run_integration.py

demo: deps
	$(MAKE) vmsched
	sh tools/demo.sh

bench: $(VMSCHED) $(BENCH_BINS)
	sh tools/bench/bench.sh $(VMSCHED) $(BUILD)/bench $(BENCH_RESULTS)

# The campaign takes the binary under test from $(VMSCHED), like the
# integration suites; the checks' own tests run first (they take a second).
chaos: $(CHAOS_TOOLS)
	python3 tests/chaos/test_invariants.py
	$(CHAOS_ENV) python3 tests/chaos/run_chaos.py

chaos-short: $(CHAOS_TOOLS)
	python3 tests/chaos/test_invariants.py
	$(CHAOS_ENV) python3 tests/chaos/run_chaos.py --short

# Each target runs FUZZ_SECONDS on the corpus the tests leave in
# build/fuzz/<name>/ (seeded from tests/fuzz/<name>/ when present).
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	    $(MAKE) --no-print-directory build/fuzz/$$t SANITIZE= CC=clang || exit 1; \
	    mkdir -p build/fuzz/$$t.corpus; \
	    [ -d tests/fuzz/$$t ] && cp -n tests/fuzz/$$t/* build/fuzz/$$t.corpus/ 2>/dev/null; \
	    ./build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        build/fuzz/$$t.corpus || exit 1; \
	done

build/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(BUILD)/migrations.c
	@mkdir -p $(@D)
	clang $(CSTD) $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined \
	    $(DEPCFLAGS) -Isched -Idb -Itools -o $@ $< $(LIB_SRCS) \
	    $(BUILD)/migrations.c $(DEPLIBS) -lm -lpthread

# Where make install puts things; each may be set on its own.
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
INSTALLED = $(BINDIR)/vmsched $(MANDIR)/man8/vmsched.8 \
	    $(BASHCOMPDIR)/vmsched $(ZSHCOMPDIR)/_vmsched \
	    $(SYSTEMDDIR)/vmsched.service

# The binary, its manual, both completions and the systemd unit, which
# export-systemd writes for the installed binary (--no-db: no database
# is read or made at install time).
install: vmsched
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
	    $(DESTDIR)$(SYSTEMDDIR)
	install -m 0755 vmsched $(DESTDIR)$(BINDIR)/vmsched
	install -m 0644 vmsched.8 $(DESTDIR)$(MANDIR)/man8/vmsched.8
	./vmsched completion bash > $(DESTDIR)$(BASHCOMPDIR)/vmsched.tmp
	mv $(DESTDIR)$(BASHCOMPDIR)/vmsched.tmp $(DESTDIR)$(BASHCOMPDIR)/vmsched
	./vmsched completion zsh > $(DESTDIR)$(ZSHCOMPDIR)/_vmsched.tmp
	mv $(DESTDIR)$(ZSHCOMPDIR)/_vmsched.tmp $(DESTDIR)$(ZSHCOMPDIR)/_vmsched
	./vmsched export-systemd --no-db --exe $(BINDIR)/vmsched \
	    > $(DESTDIR)$(SYSTEMDDIR)/vmsched.service.tmp
	mv $(DESTDIR)$(SYSTEMDDIR)/vmsched.service.tmp \
	    $(DESTDIR)$(SYSTEMDDIR)/vmsched.service
	chmod 0644 $(DESTDIR)$(BASHCOMPDIR)/vmsched \
	    $(DESTDIR)$(ZSHCOMPDIR)/_vmsched $(DESTDIR)$(SYSTEMDDIR)/vmsched.service

uninstall:
	rm -f $(INSTALLED:%=$(DESTDIR)%)

clean:
	rm -rf build vmsched
