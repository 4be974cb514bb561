#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Segment fuzzing: xtcp_fuzz throws structured random segments and ICMP
# errors at a connection in each of the 11 states, on xtcp and on kernel
# TCP, XTCP_FUZZ_SEGS per state (20000 by default; make fuzz runs
# 1000000 on xtcp, XTCP_FUZZ_TCP_SEGS on kernel TCP, in XTCP_FUZZ_JOBS=2
# parallel halves; XTCP_FUZZ_STATES names some) with seed XTCP_FUZZ_SEED (random if unset; printed, so
# that a failure can be replayed). Every row of the proc table must stay sane
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
states=${XTCP_FUZZ_STATES:-}
if [ "$n" = 0 ]; then
	log "SKIP: XTCP_FUZZ_SEGS=0"
	exit $KSFT_SKIP
fi

# The states in two halves, for XTCP_FUZZ_JOBS=2 (one fuzzer per CPU, each
# in a namespace of its own).
halves=(CLOSED,LISTEN,SYN_SENT,SYN_RECV,ESTABLISHED,FIN_WAIT1
	FIN_WAIT2,CLOSE_WAIT,LAST_ACK,CLOSING,TIME_WAIT)

# fuzz PROTO SEGMENTS: the fuzzer on every state, in XTCP_FUZZ_JOBS jobs.
fuzz()
{
	local pids=() half rc=0 pid

	if [ -n "$states" ] || [ "${XTCP_FUZZ_JOBS:-1}" = 1 ]; then
		./xtcp_fuzz -p "$1" -n "$2" ${states:+-s "$states"} \
			${seed:+-S "$seed"}
		return
	fi
	for half in "${halves[@]}"; do
		./xtcp_fuzz -p "$1" -n "$2" -s "$half" ${seed:+-S "$seed"} &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || rc=1
	done
	return $rc
}

mem0=$(sockstat mem)
for proto in xtcp tcp; do
	count=$n
	[ $proto = tcp ] && count=${XTCP_FUZZ_TCP_SEGS:-$n}
	if fuzz $proto "$count"; then
		pass "$proto: $count segments per state, every row sane"
	else
		fail "$proto: the fuzzer found an insane state (see above)"
	fi
done

if wait_for 60 xtcp_settled "$mem0"; then
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
