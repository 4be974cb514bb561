#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Syscall and race fuzzing: xtcp_race runs rounds of threads calling random
# socket calls on shared sockets connected over loopback, with random
# segments injected and the namespace's sysctls rewritten, each round in a
# namespace that ends in order or dies under load (see xtcp_race.c).
# XTCP_RACE_SECS per stack (20 by default; make fuzz runs longer on xtcp,
# XTCP_RACE_TCP_SECS on kernel TCP), seed
# XTCP_RACE_SEED (random if unset; printed). Kernel TCP runs first as the
# bar. While xtcp's run goes, rmmod is tried again and again: it must
# refuse while a socket exists, and when it succeeds between rounds the
# module is loaded again at once. Afterwards nothing of xtcp's is left and
# rmmod works.
. "$(dirname "$0")/lib.sh"
require_root
require_module_file
xtcp_restore
trap xtcp_restore EXIT

secs=${XTCP_RACE_SECS:-20}
seed=${XTCP_RACE_SEED:-}
if [ "$secs" = 0 ]; then
	log "SKIP: XTCP_RACE_SECS=0"
	exit $KSFT_SKIP
fi

tcp_secs=${XTCP_RACE_TCP_SECS:-$secs}
if ./xtcp_race -p tcp -t "$tcp_secs" ${seed:+-S "$seed"}; then
	pass "tcp: $tcp_secs s of racing calls, every round ended, every row sane"
else
	fail "tcp: the race fuzzer found a problem (see above)"
fi

mem0=$(sockstat mem)
./xtcp_race -p xtcp -t "$secs" ${seed:+-S "$seed"} &
pid=$!
unloads=0 refused=0
while pid_running $pid; do
	if rmmod xtcp 2>/dev/null; then
		unloads=$((unloads + 1))
		xtcp_load || fail "insmod after rmmod under load"
	else
		refused=$((refused + 1))
	fi
	nap 0.3
done
if wait $pid; then
	pass "xtcp: $secs s of racing calls, every round ended, every row sane"
else
	fail "xtcp: the race fuzzer found a problem (see above)"
fi
log "rmmod under load: refused $refused times, unloaded and loaded again $unloads times"
xtcp_restore

if wait_for 60 xtcp_settled "$mem0"; then
	pass "nothing left: refcnt 0, no orphans, memory $(sockstat mem) pages (was $mem0)"
else
	fail "left behind: refcnt $(cat /sys/module/xtcp/refcnt), $(cat /proc/net/xtcp_sockstat)"
fi
if rmmod xtcp; then
	pass "rmmod after racing"
else
	fail "rmmod after racing"
fi
exit $ret
