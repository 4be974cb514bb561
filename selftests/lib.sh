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

# sockstat FIELD: a number of /proc/net/xtcp_sockstat's line.
sockstat()
{
	local words i
	read -ra words < /proc/net/xtcp_sockstat
	for ((i = 1; i < ${#words[@]}; i += 2)); do
		[ "${words[$i]}" = "$1" ] && { echo "${words[$((i + 1))]}"; return; }
	done
}

# xtcp_settled MEM0: no socket holds the module, no orphan is left and
# the memory count is back to MEM0 pages or below.
xtcp_settled()
{
	[ "$(cat /sys/module/xtcp/refcnt)" = 0 ] &&
		[ "$(sockstat orphan)" = 0 ] && [ "$(sockstat mem)" -le "$1" ]
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

# netns_veth_pair NS1 NS2 ADDR1 ADDR2: two new namespaces joined by a veth
# pair (veth-a in NS1 with ADDR1/24, veth-b in NS2 with ADDR2/24), links
# and loopback up.
netns_veth_pair()
{
	modprobe veth 2>/dev/null
	ip netns add "$1"
	ip netns add "$2"
	ip link add veth-a netns "$1" type veth peer name veth-b netns "$2"
	ip -n "$1" addr add "$3/24" dev veth-a
	ip -n "$2" addr add "$4/24" dev veth-b
	ip -n "$1" link set veth-a up
	ip -n "$2" link set veth-b up
	ip -n "$1" link set lo up
	ip -n "$2" link set lo up
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

# Under emulation every process costs a tenth of a second or more, so the
# helpers below use shell builtins only.

# nap SECONDS: sleep without a process (a read that times out on a FIFO
# nobody writes).
nap()
{
	if [ -z "${_nap_fd:-}" ]; then
		local f
		f=$(mktemp -u)
		mkfifo "$f" && exec {_nap_fd}<>"$f"
		rm -f "$f"
	fi
	read -r -t "$1" -u "$_nap_fd"
	return 0
}

# pid_running PID: is PID alive (a child that exited but was not yet
# waited for, a zombie, counts as gone)?
pid_running()
{
	local st
	read -r st 2>/dev/null < "/proc/$1/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# reap PID SECONDS: wait up to SECONDS for background job PID to end;
# if it does not, SIGTERM it, and SIGKILL it 2 s later. Returns its exit
# status.
reap()
{
	local end=$((EPOCHSECONDS + $2))
	while pid_running "$1" && [ $EPOCHSECONDS -lt $end ]; do
		nap 0.05
	done
	if pid_running "$1"; then
		kill "$1" 2>/dev/null
		end=$((EPOCHSECONDS + 2))
		while pid_running "$1" && [ $EPOCHSECONDS -lt $end ]; do
			nap 0.05
		done
		pid_running "$1" && kill -9 "$1" 2>/dev/null
	fi
	wait "$1"
}
