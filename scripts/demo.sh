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
awk 'BEGIN { split("ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN CLOSING", n) }
     NR > 1 { c[n[strtonum("0x" $4)]]++ }
     END { for (s in c) printf "%-12s %d\n", s, c[s] }' /proc/net/xtcp

step "module reference count while the socket is open: $(cat /sys/module/xtcp/refcnt)"
if rmmod xtcp 2>&1; then echo "unexpected: rmmod succeeded"; exit 1; fi

step "close the socket"
exec 3>&-
wait "$pid"
echo "rows left in /proc/net/xtcp: $(($(wc -l < /proc/net/xtcp) - 1))"

step "counters (/proc/net/xtcp_stat)"
cat /proc/net/xtcp_stat

step "rmmod xtcp"
rmmod xtcp
dmesg | grep 'xtcp: unloaded' | tail -n 1
[ ! -e /sys/module/xtcp ] && echo "module gone; nothing left behind"
rm -rf "$tmp"
