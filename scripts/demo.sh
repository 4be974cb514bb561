#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What xtcp can do so far, shown step by step inside the test VM ("make
# run" boots the VM with the module loaded and runs this).
set -euo pipefail
repo=${XTCP_REPO:-$(cd "$(dirname "$0")/.." && pwd)}
tool=$repo/build/selftests/xtcp_connect
run=$repo/scripts/xtcp-run
stat=$repo/scripts/xtcp-stat
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

step "xtcp-stat -tan: the same table as ss -tan shows TCP's"
"$stat" -tan

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

step "a program that knows nothing of xtcp: python3 -m http.server and curl under xtcp-run"
mkdir -p "$tmp/www"
head -c 100000 /dev/urandom > "$tmp/www/file"
"$run" python3 -m http.server 8000 --bind 127.0.0.1 --directory "$tmp/www" \
	> "$tmp/http.log" 2>&1 &
hpid=$!
until "$stat" -lH | grep -q ':8000 '; do sleep 0.05; done
"$stat" -l
"$run" -v curl -sS -o "$tmp/got" http://127.0.0.1:8000/file
cmp "$tmp/www/file" "$tmp/got" && echo "curl got the 100000-byte file intact, over xtcp"
"$stat" -to

step "xtcp-stat -s: sockets per state (the server closed first: its TIME_WAIT entry)"
"$stat" -s
kill "$hpid"
wait "$hpid" 2>/dev/null || true

step "knobs: net.xtcp.* and /sys/module/xtcp/parameters are one value"
echo 500 > /sys/module/xtcp/parameters/msl_ms
sysctl net.xtcp.msl_ms
sysctl -w net.xtcp.msl_ms=0 2>&1 | sed 's/^/out of range: /' || true
sysctl -w net.xtcp.msl_ms=30000

step "counters, as nstat shows TCP's (xtcp-stat -c: non-zero ones, since the namespace began)"
XTCP_STAT_HISTORY=$tmp/hist "$stat" -c

step "every state change so far, as a matrix (xtcp-stat -T)"
"$stat" -T

step "rmmod xtcp"
rmmod xtcp
dmesg | grep 'xtcp: unloaded' | tail -n 1
[ ! -e /sys/module/xtcp ] && echo "module gone; nothing left behind"
rm -rf "$tmp"
