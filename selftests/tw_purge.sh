#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TIME_WAIT entries do not outlive their namespace or the module: deleting
# a namespace with live entries purges them, and rmmod with entries still
# waiting (they hold no socket, so rmmod is allowed) stops every bucket
# and frees them, with a clean kernel log (the VM runner checks it; the
# module WARNs if an entry outlived its namespace; kmemleak and KASAN
# watch on the debug kernel).
. "$(dirname "$0")/lib.sh"
require_root
require_module_file
xtcp_restore
trap 'ip netns del xtcp-tw 2>/dev/null; xtcp_restore' EXIT

# make_tw NETNS_EXEC N: N connections over loopback, each leaving a
# TIME_WAIT entry on the client side (2 * MSL = 10 minutes).
make_tw()
{
	local ns=$1 n=$2 out
	$ns sysctl -qw net.xtcp.msl_ms=300000
	$ns sysctl -qw net.xtcp.tw_reuse=0
	$ns ip link set lo up
	$ns ./xtcp_connect -l -a 127.0.0.1 -p 7100 -m rr -N "$n" > /dev/null &
	spid=$!
	wait_for 10 sh -c "$ns awk 'NR > 1 && \$4 == \"0A\"' /proc/net/xtcp | grep -q ." ||
		fail "server did not start"
	out=$($ns ./xtcp_connect -c 127.0.0.1 -p 7100 -m crr -n "$n" 2>&1) ||
		fail "client: $out"
	kill $spid 2>/dev/null
	wait $spid
	echo "$out"
}

# tw_count NETNS_EXEC: TIME_WAIT rows in that namespace's table
tw_count() { $1 awk 'NR > 1 && $4 == "06"' /proc/net/xtcp | wc -l; }

ip netns add xtcp-tw
make_tw "ip netns exec xtcp-tw" 200 > /dev/null
# The last connection may still be closing when the client exits; every
# connection leaves its entry (a segment reordered behind the FIN that
# ends in TIME_WAIT must not reset it: see InClosed).
wait_for 30 sh -c "[ \$(ip netns exec xtcp-tw awk 'NR > 1 && \$4 == \"06\"' /proc/net/xtcp | wc -l) -ge 200 ]"
n=$(tw_count "ip netns exec xtcp-tw")
[ "$n" -eq 200 ] && pass "$n TIME_WAIT entries in a namespace" ||
	fail "expected 200 TIME_WAIT entries, found $n"
rsts=$(ip netns exec xtcp-tw awk '$1 == "OutRsts" { print $2 }' /proc/net/xtcp_stat)
if [ "$rsts" = 0 ] && [ "$n" -eq 200 ]; then
	pass "no RST in 200 clean connections"
else
	fail "$rsts RSTs sent by 200 clean connections"
	# What the namespace counted, to tell a late segment for a closed
	# socket (InNoSocket) from a reset of our own making.
	log "$(ip netns exec xtcp-tw awk '$2 != 0' /proc/net/xtcp_stat | tr '\n' ' ')"
fi
ip netns del xtcp-tw
# Teardown runs in a workqueue. The namespace frees its entries there;
# any entry left in a bucket at rmmod below makes the module WARN, which
# fails the run (and kmemleak on the debug kernel watches the rest).
pass "namespace with $n TIME_WAIT entries deleted"

make_tw "" 300 > /dev/null
wait_for 30 sh -c "[ \$(awk 'NR > 1 && \$4 == \"06\"' /proc/net/xtcp | wc -l) -ge 300 ]"
n=$(tw_count "")
[ "$n" -eq 300 ] && pass "$n TIME_WAIT entries in the initial namespace" ||
	fail "expected 300 TIME_WAIT entries, found $n"
if xtcp_unload; then
	pass "rmmod with $n TIME_WAIT entries waiting"
else
	fail "rmmod refused with only TIME_WAIT entries left"
fi
xtcp_loaded && fail "module still loaded"
xtcp_load || fail "reload"
[ "$(awk 'NR > 1' /proc/net/xtcp | wc -l)" = 0 ] &&
	pass "no entry survived the reload" || fail "entries survived rmmod"
sysctl -qw net.xtcp.msl_ms=30000
exit $ret
