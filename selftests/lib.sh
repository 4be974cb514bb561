#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers for the xtcp shell selftests. Source it; it sets no
# traps and changes no state by itself.

readonly KSFT_PASS=0
readonly KSFT_FAIL=1
readonly KSFT_SKIP=4

# The module under test: the VM runner exports XTCP_KO.
XTCP_KO=${XTCP_KO:-}
XTCP_FAMILY_DEFAULT=19

ret=$KSFT_PASS

log() { echo "# $*"; }

fail()
{
	echo "not ok: $*"
	ret=$KSFT_FAIL
}

pass() { echo "ok: $*"; }

require_root()
{
	if [ "$(id -u)" -ne 0 ]; then
		log "SKIP: needs root"
		exit $KSFT_SKIP
	fi
}

require_module_file()
{
	if [ -z "$XTCP_KO" ] || [ ! -r "$XTCP_KO" ]; then
		log "SKIP: XTCP_KO does not name the module file"
		exit $KSFT_SKIP
	fi
}

xtcp_loaded() { [ -d /sys/module/xtcp ]; }

xtcp_load()
{
	insmod "$XTCP_KO" "$@"
}

# Unload once no socket holds the module any more: orphans of earlier
# tests may still be finishing their close.
xtcp_unload()
{
	wait_for 60 grep -qx 0 /sys/module/xtcp/refcnt
	rmmod xtcp
}

# Leave the module loaded with default parameters, as the next test expects.
xtcp_restore()
{
	if ! xtcp_loaded; then
		xtcp_load || fail "could not reload the module"
	fi
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds. Polls a
# condition, never sleeps a fixed time as a substitute for one.
wait_for()
{
	local limit=$1 start
	shift
	start=$(date +%s)
	until "$@"; do
		if [ $(($(date +%s) - start)) -ge "$limit" ]; then
			return 1
		fi
		sleep 0.05
	done
}

# Mark the kernel log; klog_since MARK prints what came after it.
klog_mark()
{
	local mark="xtcp-selftest-mark-$$-$RANDOM"
	echo "$mark" > /dev/kmsg
	echo "$mark"
}

klog_since()
{
	dmesg | sed -n "/$1/,\$p" | tail -n +2
}

# proc_has PORT STATE: is PORT (decimal) in /proc/net/xtcp in STATE (hex)?
proc_has()
{
	local hexport
	hexport=$(printf '%04X' "$1")
	awk -v p="$hexport" -v s="$2" \
		'NR > 1 { split($2, a, ":"); if (a[2] == p && $4 == s) f = 1 }
		 END { exit !f }' /proc/net/xtcp 2>/dev/null
}
