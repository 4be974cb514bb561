#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end between two namespaces over a veth pair: every way a
# connection can end, with xtcp and, as the reference, the kernel's TCP
# running the same program. The bytes each side received must match what
# the other sent (FNV-1a hashes), and the closing state must be the one
# TCP leaves behind.
. "$(dirname "$0")/lib.sh"
require_root
require_module_file
xtcp_restore

ns1=xtcp-e2e-a
ns2=xtcp-e2e-b
addr1=198.51.100.1
addr2=198.51.100.2
tmp=$(mktemp -d)
cleanup()
{
	ip netns del $ns1 2>/dev/null
	ip netns del $ns2 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

netns_veth_pair $ns1 $ns2 $addr1 $addr2
# Short TIME_WAIT so the namespaces do not keep entries around.
ip netns exec $ns1 sysctl -qw net.xtcp.msl_ms=200
ip netns exec $ns2 sysctl -qw net.xtcp.msl_ms=200

port=6000
# run PROTO NAME SERVER_ARGS CLIENT_ARGS: start a server in ns2, run the
# client in ns1, and check both transcripts.
run()
{
	local proto=$1 name=$2 sargs=$3 cargs=$4 spid
	port=$((port + 1))
	ip netns exec $ns2 ./xtcp_connect -s "$proto" -l -a $addr2 -p $port \
		$sargs > "$tmp/srv" 2>&1 &
	spid=$!
	wait_for 10 grep -q '^listening' "$tmp/srv" || {
		fail "$proto $name: server did not start"; kill $spid; return; }
	if ! timeout 60 ip netns exec $ns1 ./xtcp_connect -s "$proto" \
		-c $addr2 -p $port $cargs > "$tmp/cli" 2>&1; then
		wait $spid
		return 1
	fi
	wait $spid || { fail "$proto $name: server failed: $(cat "$tmp/srv")"; return 1; }
	return 0
}

# The hash the client sent must be what the server received (sink), or
# come back unchanged (echo).
same_stream()
{
	local proto=$1 name=$2 tx srv
	tx=$(awk '/^tx/ { print $2, $3 }' "$tmp/cli")
	srv=$(awk '/^(rx|echoed)/ { print $2, $3 }' "$tmp/srv")
	if [ -n "$tx" ] && [ "$tx" = "$srv" ]; then
		pass "$proto $name: $tx"
	else
		fail "$proto $name: sent '$tx', server saw '$srv'"
	fi
}

for proto in XTCP TCP; do
	# Client sends, half-closes; server reads to EOF and closes.
	run $proto "half-close then close" "-m sink" "-m source -n 1000000 -S 7" ||
		fail "$proto half-close then close: $(cat "$tmp/cli")"
	same_stream $proto "half-close then close"
	# Echo: data flows back after the client's FIN (half-close).
	if run $proto "echo after half-close" "-m echo" "-m source -n 300000 -S 8" ||
	   ! fail "$proto echo: $(cat "$tmp/cli")"; then
		same_stream $proto "echo after half-close"
		rx=$(awk '/^rx/ { print $2, $3 }' "$tmp/cli")
		tx=$(awk '/^tx/ { print $2, $3 }' "$tmp/cli")
		[ "$rx" = "$tx" ] && pass "$proto echo came back whole" ||
			fail "$proto echo: sent $tx, got back $rx"
	fi
	# The server ends with shutdown(SHUT_WR) and waits for the peer's FIN.
	run $proto "server shutdown" "-m sink -C shutdown" "-m source -n 5000 -S 9" ||
		fail "$proto server shutdown: $(cat "$tmp/cli")"
	same_stream $proto "server shutdown"
	# The server aborts with SO_LINGER {1, 0} after reading everything:
	# the client's read ends in ECONNRESET, as with TCP, never a hang.
	run $proto "server linger0" "-m sink -C linger0" "-m source -n 5000 -S 10" &&
		fail "$proto server linger0: the client saw no reset"
	grep -q "read: Connection reset by peer" "$tmp/cli" &&
		pass "$proto server linger0: client got ECONNRESET" ||
		fail "$proto server linger0: $(cat "$tmp/cli")"
	same_stream $proto "server linger0"
done
ip netns exec $ns1 sysctl -qw net.xtcp.msl_ms=60000

# TIME_WAIT belongs to the side that closed first (here: the server, which
# closed after reading EOF only once the client half-closed, so the
# client's FIN came first: the client is the active closer).
run XTCP "time-wait owner" "-m sink" "-m source -n 10 -S 11" ||
	fail "time-wait owner: $(cat "$tmp/cli")"
if ip netns exec $ns1 awk 'NR > 1 && $4 == "06"' /proc/net/xtcp | grep -q .; then
	pass "XTCP active closer holds TIME_WAIT"
else
	fail "XTCP active closer has no TIME_WAIT entry"
fi
ip netns exec $ns2 awk 'NR > 1 && $4 == "06" { f = 1 } END { exit f }' /proc/net/xtcp ||
	fail "XTCP passive closer holds a TIME_WAIT entry"
exit $ret
