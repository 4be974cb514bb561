# SPDX-License-Identifier: GPL-2.0
#
# xtcp: out-of-tree build, test VM and packaging entry points.
# "make help" lists the targets. Kbuild itself is in ./Kbuild.

REPO		:= $(CURDIR)
XTCP_CACHE	?= /var/cache/xtcp
export XTCP_CACHE

# The kernel to build for: the newest headers that have a matching kernel
# image in /boot, because the test VM boots that image. Never the running
# kernel of the build host, which has no headers. Evaluated lazily, so that
# "make check" can install the headers first.
KVER		?= $(shell $(REPO)/scripts/kernel-version)
KDIR		?= /lib/modules/$(KVER)/build

BUILD		:= $(REPO)/build
KSFT_STAGE	:= $(BUILD)/ksft
VM		:= $(REPO)/scripts/xtcp-vm
VM_FLAGS	?=
# Two pairs of emulated cards for selftests/nic_csum.sh: one that checksums
# only TCP and UDP (8139cp), one that checksums anything (e1000).
VM_NICS		:= --nics rtl8139 --nics e1000

# Extracted kernel source subset (kselftest framework, checkpatch).
KSRC		= $(shell $(REPO)/scripts/kernel-source)
KSFT_DIR	= $(KSRC)/tools/testing/selftests

MODULE_SRCS	:= $(filter-out %.mod.c,$(wildcard module/*.c module/*.h module/uapi/*.h))

.PHONY: all modules tools deps selftests run check check-debug style install \
	uninstall dkms-check docs bench fuzz fresh-check clean help

all: modules tools

help:
	@echo "make            build module/xtcp.ko against KDIR ($(KDIR))"
	@echo "make run        install deps, build, boot the test VM, run the demo"
	@echo "make check      install deps, build, run every selftest in the VM"
	@echo "make check-debug  the same on a KASAN/lockdep/kmemleak kernel"
	@echo "make fuzz       segment fuzzer (FUZZ_SEGS per state) and race fuzzer (FUZZ_RACE_SECS) on the debug kernel"
	@echo "make style      checkpatch.pl --strict on module/"
	@echo "make bench      xtcp against kernel TCP in the VM; JSON in build/bench/"
	@echo "make dkms-check dkms add/build/remove against the installed headers"
	@echo "make install    install the module for KVER (depmod), xtcp-run and xtcp-stat (PREFIX=$(PREFIX))"
	@echo "make uninstall  remove what make install installed"
	@echo "make fresh-check  make run + make check on a throw-away minimal Debian 12 root"
	@echo "make docs       regenerate Documentation/sysctl.rst and the counter list of xtcp.rst"

deps:
	@$(REPO)/scripts/install-deps

# Every target that needs a package installs it first (a fresh machine has
# nothing): install-deps returns at once when everything is there.
modules: deps
	$(MAKE) -C $(KDIR) M=$(REPO) modules

# The user tools: xtcp-run's preload library (xtcp-run finds it in
# build/tools from a checkout, or in PREFIX/lib/xtcp once installed).
TOOLS		:= $(BUILD)/tools
PREFIX		?= /usr/local
tools: $(TOOLS)/libxtcp-preload.so

$(TOOLS)/libxtcp-preload.so: scripts/xtcp-preload.c
	@$(REPO)/scripts/install-deps
	mkdir -p $(TOOLS)
	$(CC) -O2 -g -Wall -Wextra -Werror -fPIC -shared -o $@ $< -ldl

# Build the selftests and stage them with the kselftest runner, the way
# "make -C tools/testing/selftests install" lays out a collection.
selftests: deps
	mkdir -p $(BUILD)/selftests
	$(MAKE) -C selftests KSFT_DIR=$(KSFT_DIR) OUTPUT=$(BUILD)/selftests all
	rm -rf $(KSFT_STAGE)
	mkdir -p $(KSFT_STAGE)
	cp -r $(KSFT_DIR)/kselftest $(KSFT_STAGE)/
	$(MAKE) -C selftests KSFT_DIR=$(KSFT_DIR) OUTPUT=$(BUILD)/selftests \
		INSTALL_PATH=$(KSFT_STAGE)/xtcp install
	$(MAKE) -s --no-print-directory -C selftests KSFT_DIR=$(KSFT_DIR) \
		OUTPUT=$(BUILD)/selftests COLLECTION=xtcp emit_tests \
		> $(KSFT_STAGE)/xtcp/tests.list

run:
	@$(REPO)/scripts/install-deps
	$(MAKE) modules tools selftests
	$(VM) $(VM_FLAGS) -- $(REPO)/scripts/demo.sh

check:
	@$(REPO)/scripts/install-deps
	$(REPO)/scripts/gen-knob-doc --check
	$(MAKE) modules tools selftests
	$(MAKE) dkms-check
	$(REPO)/scripts/install-check
	$(VM) $(VM_FLAGS) --timeout 1800 $(VM_NICS) -- $(REPO)/scripts/run-selftests $(KSFT_STAGE)

# The debug kernel is built once and cached outside the repo; the module is
# built against it in a copy of the sources, so that the stock build in
# module/ is left alone.
DEBUG_BUILD	:= $(BUILD)/debug
# (Shell, one line: sets dk to the debug kernel's tree and builds the
# module against it in $(DEBUG_BUILD).)
DEBUG_MODULE = dk=$$($(REPO)/scripts/build-debug-kernel | tail -n 1) && \
	rm -rf $(DEBUG_BUILD) && mkdir -p $(DEBUG_BUILD)/module && \
	cp Kbuild $(DEBUG_BUILD)/ && \
	cp $(filter-out %.mod.c,$(wildcard module/*.c)) module/*.h \
		$(DEBUG_BUILD)/module/ && \
	cp -r module/uapi $(DEBUG_BUILD)/module/ && \
	$(MAKE) -C $$dk M=$(DEBUG_BUILD) modules
DEBUG_VM = $(VM) $(VM_FLAGS) --kernel $$dk/arch/x86/boot/bzImage \
	--module $(DEBUG_BUILD)/module/xtcp.ko --append panic_on_warn=1 \
	--kmemleak
# Not on the debug kernel: the programs that test user-space tools and
# real applications over xtcp (apps.sh: iperf3, nginx, redis...;
# capture.sh: tcpdump and tshark; tools_stat.py: xtcp-stat). The kernel
# paths they take (sendfile, splice, bulk both ways, every state) run
# there in the API, packet and end-to-end tests; they would add a quarter
# of an hour to CI. DEBUG_SKIP= runs them too.
DEBUG_SKIP	?= apps.sh capture.sh tools_stat.py
check-debug:
	@$(REPO)/scripts/install-deps
	$(MAKE) selftests
	@$(DEBUG_MODULE) && \
	$(DEBUG_VM) --timeout 3600 $(VM_NICS) \
		-- $(REPO)/scripts/run-selftests $(KSFT_STAGE) \
		$(foreach t,$(DEBUG_SKIP),--skip $(t))

# The fuzzers at length on the debug kernel: FUZZ_SEGS segments per state
# on xtcp (FUZZ_TCP_SEGS on kernel TCP, the bar), two fuzzers in parallel,
# then FUZZ_RACE_SECS of the syscall and race fuzzer on xtcp
# (FUZZ_RACE_TCP_SECS on kernel TCP); exit 4 of a part is its skip; seed
# FUZZ_SEED (random if empty; printed). FUZZ_STATES (say
# ESTABLISHED,TIME_WAIT) limits the segment fuzzer; 0 skips either part.
FUZZ_SEGS ?= 1000000
FUZZ_TCP_SEGS ?= 20000
FUZZ_RACE_SECS ?= 3600
FUZZ_RACE_TCP_SECS ?= 120
FUZZ_STATES ?=
FUZZ_SEED ?=
fuzz:
	@$(REPO)/scripts/install-deps
	$(MAKE) selftests
	@$(DEBUG_MODULE) && \
	XTCP_FUZZ_SEGS=$(FUZZ_SEGS) XTCP_FUZZ_TCP_SEGS=$(FUZZ_TCP_SEGS) \
	XTCP_FUZZ_JOBS=2 XTCP_FUZZ_STATES=$(FUZZ_STATES) \
	XTCP_FUZZ_SEED=$(FUZZ_SEED) XTCP_RACE_SEED=$(FUZZ_SEED) \
	XTCP_RACE_SECS=$(FUZZ_RACE_SECS) XTCP_RACE_TCP_SECS=$(FUZZ_RACE_TCP_SECS) \
	$(DEBUG_VM) --timeout 21600 \
		-- "cd $(KSFT_STAGE)/xtcp && ./fuzz_segments.sh; a=\$$?; \
		    ./fuzz_syscalls.sh; b=\$$?; \
		    exit \$$(((a % 4) | (b % 4)))"

# The benchmark: xtcp next to kernel TCP in one VM run; the table goes to
# the terminal and the figures to build/bench/<date>.json.
bench:
	@$(REPO)/scripts/install-deps
	$(MAKE) modules tools selftests
	mkdir -p $(BUILD)/bench
	{ $(VM) $(VM_FLAGS) --timeout 5400 --mem 4096 -- $(REPO)/scripts/bench.sh; \
	  echo $$? > $(BUILD)/bench/rc; } | tee $(BUILD)/bench/last.log; \
	rc=$$(cat $(BUILD)/bench/rc); \
	sed -n '/BENCH-JSON-BEGIN/,/BENCH-JSON-END/p' $(BUILD)/bench/last.log \
		| sed '1d;$$d' > $(BUILD)/bench/$$(date +%Y%m%d-%H%M%S).json; \
	exit $$rc

# trace.h is laid out as TRACE_EVENT() wants (as the kernel's own trace
# headers are), which --strict reads as open-ended lines and misaligned
# arguments: those two checks are off for it alone.
style: deps
	$(KSRC)/scripts/checkpatch.pl --no-tree --strict --quiet \
		--ignore FILE_PATH_CHANGES -f $(filter-out module/trace.h,$(MODULE_SRCS))
	$(KSRC)/scripts/checkpatch.pl --no-tree --strict --quiet \
		--ignore FILE_PATH_CHANGES,OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT \
		-f module/trace.h

# DESTDIR stages everything under a directory (then depmod is left to
# whoever installs it for real): scripts/install-check does so.
install: deps modules tools
	$(MAKE) -C $(KDIR) M=$(REPO) INSTALL_MOD_DIR=updates \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install
	$(if $(DESTDIR),,depmod -a $(KVER))
	install -D -m 0755 scripts/xtcp-run $(DESTDIR)$(PREFIX)/bin/xtcp-run
	install -D -m 0755 scripts/xtcp-stat $(DESTDIR)$(PREFIX)/bin/xtcp-stat
	install -D -m 0644 $(TOOLS)/libxtcp-preload.so \
		$(DESTDIR)$(PREFIX)/lib/xtcp/libxtcp-preload.so

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KVER)/updates/module/xtcp.ko \
		$(DESTDIR)/lib/modules/$(KVER)/updates/xtcp.ko
	$(if $(DESTDIR),,depmod -a $(KVER))
	rm -f $(DESTDIR)$(PREFIX)/bin/xtcp-run $(DESTDIR)$(PREFIX)/bin/xtcp-stat \
		$(DESTDIR)$(PREFIX)/lib/xtcp/libxtcp-preload.so
	-rmdir $(DESTDIR)$(PREFIX)/lib/xtcp

docs: deps
	$(REPO)/scripts/gen-knob-doc

dkms-check: deps
	$(REPO)/scripts/dkms-check $(KVER)

# The README's two commands on a throw-away minimal Debian 12 root
# (debootstrap) that has only what install-deps installs: catches a tool
# that only the developer's machine has.
fresh-check: deps
	$(REPO)/scripts/fresh-machine-check --worktree run check

clean:
	-$(MAKE) -C $(KDIR) M=$(REPO) clean
	rm -rf $(BUILD)
