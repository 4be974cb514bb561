#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Segment fuzzing: xtcp_fuzz throws structured random segments and ICMP
# errors at a connection in each of the 11 states, on xtcp and on kernel
# TCP, XTCP_FUZZ_SEGS per state (20000 by default; make fuzz runs
# 1000000) with seed XTCP_FUZZ_SEED (random if unset; printed, so that a
# failure can be replayed). Every row of the proc table must stay sane
# meanwhile. Afterwards, with the fuzzer's namespace gone, no xtcp socket,
# orphan or memory is left (the module's reference count, the orphan and
# memory counts of /proc/net/xtcp_sockstat) and rmmod works.
. "$(dirname "$0")/lib.sh"
require_root
require_module_file
xtcp_restore
trap xtcp_restore EXIT

n=${XTCP_FUZZ_SEGS:-20000}
seed=${XTCP_FUZZ_SEED:-}

# sockstat FIELD: a number of /proc/net/xtcp_sockstat's line.
sockstat()
{
	local words
	read -ra words < /proc/net/xtcp_sockstat
	for ((i = 1; i < ${#words[@]}; i += 2)); do
		[ "${words[$i]}" = "$1" ] && { echo "${words[$((i + 1))]}"; return; }
	done
}

mem0=$(sockstat mem)
for proto in xtcp tcp; do
	if ./xtcp_fuzz -p $proto -n "$n" ${seed:+-S "$seed"}; then
		pass "$proto: $n segments per state, every row sane"
	else
		fail "$proto: the fuzzer found an insane state (see above)"
	fi
done

settled()
{
	[ "$(cat /sys/module/xtcp/refcnt)" = 0 ] &&
		[ "$(sockstat orphan)" = 0 ] && [ "$(sockstat mem)" -le "$mem0" ]
}
if wait_for 60 settled; then
	pass "nothing left: refcnt 0, no orphans, memory $(sockstat mem) pages (was $mem0)"
else
	fail "left behind: refcnt $(cat /sys/module/xtcp/refcnt), $(cat /proc/net/xtcp_sockstat)"
fi
if rmmod xtcp; then
	pass "rmmod after fuzzing"
else
	fail "rmmod after fuzzing"
fi
exit $ret
