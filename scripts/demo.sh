#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What xtcp can do so far, shown step by step inside the test VM ("make
# run" boots the VM with the module loaded and runs this).
set -euo pipefail
repo=${XTCP_REPO:-$(cd "$(dirname "$0")/.." && pwd)}
tool=$repo/build/selftests/xtcp_connect
step() { printf '\n== %s\n' "$*"; }

step "module loaded: family and IP protocol in use"
echo "family  = $(cat /sys/module/xtcp/parameters/family)"
echo "ipproto = $(cat /sys/module/xtcp/parameters/ipproto)"
dmesg | grep 'xtcp: loaded' | tail -n 1
grep -E '^(protocol|XTCP )' /proc/net/protocols | cut -c1-60

step "socket(PF_XTCP, SOCK_STREAM, 0), bind 127.0.0.1:0, listen(16)"
tmp=$(mktemp -d)
mkfifo "$tmp/in"
"$tool" -l -a 127.0.0.1 -b 16 < "$tmp/in" > "$tmp/out" &
pid=$!
exec 3> "$tmp/in"
until grep -q '^listening' "$tmp/out"; do sleep 0.05; done
cat "$tmp/out"

step "/proc/net/xtcp (the columns of /proc/net/tcp)"
cat /proc/net/xtcp

step "netstat-style state summary of /proc/net/xtcp"
# POSIX awk (Debian's default awk is mawk): the st column is two hex digits.
awk 'BEGIN { ns = split("ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN CLOSING", n)
	     hex = "0123456789ABCDEF" }
     NR > 1 { st = toupper($4)
	      c[16 * (index(hex, substr(st, 1, 1)) - 1) + index(hex, substr(st, 2, 1)) - 1]++ }
     END { for (i = 1; i <= ns; i++) if (c[i]) printf "%-12s %d\n", n[i], c[i] }' /proc/net/xtcp

step "module reference count while the socket is open: $(cat /sys/module/xtcp/refcnt)"
if rmmod xtcp 2>&1; then echo "unexpected: rmmod succeeded"; exit 1; fi

step "close the socket"
exec 3>&-
wait "$pid"
echo "rows left in /proc/net/xtcp: $(($(wc -l < /proc/net/xtcp) - 1))"

step "a connection over loopback: 1 MB from a client to a sink server"
sysctl -w net.xtcp.msl_ms=2000
# Its state changes, through the xtcp:xtcp_set_state tracepoint.
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs nodev $T
echo > $T/trace
echo 1 > $T/events/xtcp/xtcp_set_state/enable
"$tool" -l -a 127.0.0.1 -p 5001 -m sink > "$tmp/srv" &
spid=$!
until grep -q '^listening' "$tmp/srv"; do sleep 0.05; done
"$tool" -c 127.0.0.1 -p 5001 -m source -n 1000000
wait "$spid"
grep '^rx' "$tmp/srv" | sed 's/^/server: /'

step "the client closed first, so it holds a TIME_WAIT entry (st 06) for 2 * msl_ms"
cat /proc/net/xtcp
until ! awk 'NR > 1 && $4 == "06"' /proc/net/xtcp | grep -q .; do sleep 0.1; done
echo "TIME_WAIT entry gone after 2 * MSL"

step "its state changes: tracepoint xtcp:xtcp_set_state (the first three lines)"
echo 0 > $T/events/xtcp/xtcp_set_state/enable
grep -m 3 xtcp_set_state $T/trace | sed 's/^.*xtcp_set_state: //'

step "and the namespace's transition matrix (/proc/net/xtcp_transitions)"
cat /proc/net/xtcp_transitions

step "knobs: net.xtcp.* and /sys/module/xtcp/parameters are one value"
echo 500 > /sys/module/xtcp/parameters/msl_ms
sysctl net.xtcp.msl_ms
sysctl -w net.xtcp.msl_ms=0 2>&1 | sed 's/^/out of range: /' || true
sysctl -w net.xtcp.msl_ms=30000

step "counters (/proc/net/xtcp_stat, non-zero ones)"
awk '$2 != 0' /proc/net/xtcp_stat

step "rmmod xtcp"
rmmod xtcp
dmesg | grep 'xtcp: unloaded' | tail -n 1
[ ! -e /sys/module/xtcp ] && echo "module gone; nothing left behind"
rm -rf "$tmp"
