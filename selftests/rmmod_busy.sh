#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rmmod must be refused while any xtcp socket exists (listening, or just
# created), and succeed once the sockets are closed, leaving nothing of the
# module behind.
. "$(dirname "$0")/lib.sh"
require_root
require_module_file
xtcp_restore

tmp=$(mktemp -d)
trap 'exec 3>&- 4>&- 2>/dev/null; rm -rf "$tmp"; xtcp_restore' EXIT

# hold_socket MODE OUT FIFO FD: start the tool holding a socket until the
# FIFO, kept open on FD by this shell, is closed.
mkfifo "$tmp/in1" "$tmp/in2"
./xtcp_connect -l -a 127.0.0.1 < "$tmp/in1" > "$tmp/out1" &
pid1=$!
exec 3> "$tmp/in1"
./xtcp_connect -m create < "$tmp/in2" > "$tmp/out2" 3>&- &
pid2=$!
exec 4> "$tmp/in2"

if ! wait_for 30 grep -q '^listening' "$tmp/out1" ||
   ! wait_for 30 grep -q '^created' "$tmp/out2"; then
	fail "the socket holders did not start"
	exit $KSFT_FAIL
fi
port=$(awk '{ print $2 }' "$tmp/out1")
proc_has "$port" 0A && pass "listener on port $port in /proc/net/xtcp" ||
	fail "listener on port $port missing from /proc/net/xtcp"

refcnt=$(cat /sys/module/xtcp/refcnt)
[ "$refcnt" -ge 2 ] && pass "module refcount $refcnt with two sockets" ||
	fail "module refcount is $refcnt with two sockets open"

if rmmod xtcp 2> "$tmp/err"; then
	fail "rmmod succeeded with sockets open"
else
	pass "rmmod refused: $(cat "$tmp/err")"
fi
xtcp_loaded && pass "module still loaded" || fail "module gone"

# Close the listener only: still refused.
exec 3>&-
wait "$pid1"
if rmmod xtcp 2>/dev/null; then
	fail "rmmod succeeded with one socket open"
fi

exec 4>&-
wait "$pid2"
if rmmod xtcp; then
	pass "rmmod after close"
else
	fail "rmmod failed after every socket closed"
fi
xtcp_loaded && fail "module still present after rmmod"
grep -q '^XTCP ' /proc/net/protocols && fail "XTCP still in /proc/net/protocols"
[ -e /proc/net/xtcp ] && fail "/proc/net/xtcp left behind"
exit $ret
