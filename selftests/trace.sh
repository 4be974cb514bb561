#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tracepoints and the state-transition matrix. The same connections run
# over xtcp with the xtcp:* events enabled and over kernel TCP with the
# sock:inet_sock_set_state and tcp:* events, between two namespaces over a
# veth pair: an orderly one (the client closes first), one the client
# resets, one whose SYN nobody answers (a retransmission) and one to a
# closed port. Then:
#
#  - the state changes each side went through agree between the stacks,
#    but for one difference on purpose: a Linux socket going into
#    TIME_WAIT is traced going to CLOSE (its timewait sock has no
#    tracepoint); xtcp traces FIN_WAIT2 -> TIME_WAIT;
#  - a retransmission, a RST sent by the client and taken by the server,
#    per-ACK probes with a congestion window, and the drop of a SYN to a
#    closed port (xtcp:xtcp_drop reason=InNoSocket; skb:kfree_skb reason
#    NO_SOCKET) are seen on both;
#  - xtcp:xtcp_tw_reap reports the client's TIME_WAIT entry reaped;
#  - /proc/net/xtcp_transitions of the client's and of the server's
#    namespace hold exactly the cells those connections make;
#  - bpftrace (Documentation/xtcp.rst) counts the state changes too
#    (not on a kernel without CONFIG_BPF_EVENTS, such as the debug one).
. "$(dirname "$0")/lib.sh"
require_root
require_module_file
xtcp_restore

T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null
if [ ! -d $T/events/xtcp ]; then
	log "SKIP: no xtcp events in $T"
	exit $KSFT_SKIP
fi

nsa=xtcp-trace-a
nsb=xtcp-trace-b
a=198.51.100.1
b=198.51.100.2
tmp=$(mktemp -d)
cleanup()
{
	echo 0 > $T/tracing_on
	echo 0 > $T/events/enable
	echo > $T/trace
	ip netns del $nsa 2>/dev/null
	ip netns del $nsb 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

netns_veth_pair $nsa $nsb $a $b
ip -n $nsa neigh add 198.51.100.99 lladdr 02:00:00:00:00:99 dev veth-a \
	nud permanent
# The client's TIME_WAIT entry goes within the test.
ip netns exec $nsa sysctl -qw net.xtcp.msl_ms=300

# server PROTO PORT MODE: start one in $pid, wait until it listens.
server()
{
	ip netns exec $nsb ./xtcp_connect -s "$1" -l -a $b -p "$2" -m "$3" \
		-N 1 > "$tmp/srv.$2" 2>&1 &
	pid=$!
	wait_for 10 grep -q '^listening' "$tmp/srv.$2" ||
		fail "$1: server on $2 did not start"
}

# run PROTO BASE: the three connections on ports BASE.. with PROTO's
# events on; the trace, one event per line, goes to $tmp/trace.PROTO.
run()
{
	local proto=$1 p=$2 ev e pid
	if [ "$proto" = XTCP ]; then
		ev="xtcp/xtcp_set_state xtcp/xtcp_retransmit xtcp/xtcp_send_reset
		    xtcp/xtcp_receive_reset xtcp/xtcp_probe xtcp/xtcp_tw_reap
		    xtcp/xtcp_drop"
	else
		ev="sock/inet_sock_set_state tcp/tcp_retransmit_skb
		    tcp/tcp_send_reset tcp/tcp_receive_reset tcp/tcp_probe
		    skb/kfree_skb"
	fi
	echo 0 > $T/tracing_on
	echo 0 > $T/events/enable
	echo > $T/trace
	for e in $ev; do
		echo 1 > $T/events/$e/enable || fail "$proto: cannot enable $e"
	done
	echo 1 > $T/tracing_on

	# Orderly: the client sends, half-closes, reads to EOF.
	server "$proto" $p sink
	ip netns exec $nsa ./xtcp_connect -s "$proto" -c $b -p $p \
		-m source -n 3000 > "$tmp/cli" 2>&1 ||
		fail "$proto orderly: $(cat "$tmp/cli")"
	reap "$pid" 20 || fail "$proto orderly: server: $(cat "$tmp/srv.$p")"

	# The client gives up after a second of silence: a RST.
	server "$proto" $((p + 1)) sink
	ip netns exec $nsa ./xtcp_connect -s "$proto" -c $b -p $((p + 1)) \
		-m sink -T 1 > "$tmp/cli" 2>&1
	reap "$pid" 20

	# Nobody answers the SYN (it goes out to a MAC address nobody has):
	# it is retransmitted after the initial RTO of a second.
	ip netns exec $nsa ./xtcp_connect -s "$proto" -c 198.51.100.99 \
		-p $((p + 2)) -m sink -T 3 > "$tmp/cli" 2>&1

	# A SYN to a port nobody listens on: dropped (and answered by a RST).
	ip netns exec $nsa ./xtcp_connect -s "$proto" -c $b -p $((p + 3)) \
		-m sink -T 2 > "$tmp/cli" 2>&1
	grep -q ECONNREFUSED "$tmp/cli" ||
		fail "$proto: connect to a closed port: $(cat "$tmp/cli")"

	# The client's TIME_WAIT entry (xtcp) is reaped in 2 * 300 ms.
	[ "$proto" = XTCP ] &&
		wait_for 10 grep -q 'xtcp_tw_reap:.*reaped=[1-9]' $T/trace
	echo 0 > $T/tracing_on
	sed -n 's/^.* \(xtcp_[a-z_]*\|inet_sock_set_state\|tcp_[a-z_]*\|kfree_skb\): /\1 /p' \
		$T/trace > "$tmp/trace.$proto"
}

# changes PROTO: "ROLE PORT FROM>TO" per state change, sorted; ROLE is
# client or server by the local address, PORT the server's port.
changes()
{
	awk -v a=$a '$1 ~ /set_state/ {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		role = f["saddr"] == a ? "client" : "server"
		port = role == "client" ? f["dport"] : f["sport"]
		sub(/^TCP_/, "", f["oldstate"]); sub(/^TCP_/, "", f["newstate"])
		print role, port, f["oldstate"] ">" f["newstate"]
	}' "$tmp/trace.$1" | LC_ALL=C sort
}

run XTCP 5001
run TCP 6001

# Port numbers relative to each stack's base, and the two differences.
changes XTCP | awk '{ $2 -= 5000; print }' |
	sed -e 's/FIN_WAIT2>TIME_WAIT$/FIN_WAIT2>CLOSE/' |
	LC_ALL=C sort > "$tmp/x"
changes TCP | awk '{ $2 -= 6000; print }' | LC_ALL=C sort > "$tmp/t"
if [ -s "$tmp/x" ] && cmp -s "$tmp/x" "$tmp/t"; then
	pass "state changes agree with TCP's: $(wc -l < "$tmp/x") of them"
else
	fail "state changes differ (xtcp < > tcp):"
	diff "$tmp/x" "$tmp/t" | sed 's/^/#   /'
fi
for want in "client 1 CLOSE>SYN_SENT" "client 1 FIN_WAIT2>CLOSE" \
	    "server 1 LISTEN>SYN_RECV" "server 1 LAST_ACK>CLOSE" \
	    "client 2 ESTABLISHED>CLOSE" "server 2 ESTABLISHED>CLOSE" \
	    "client 3 SYN_SENT>CLOSE"; do
	grep -qx "$want" "$tmp/x" || fail "xtcp: no '$want'"
done
changes XTCP | grep -q "client 5001 FIN_WAIT2>TIME_WAIT" ||
	fail "xtcp: no FIN_WAIT2 -> TIME_WAIT for the client"
grep -qx "server 1 CLOSE>LISTEN" "$tmp/t" ||
	fail "tcp: no CLOSE -> LISTEN"

# expect PROTO EVENT PATTERN WHAT: is there such an event?
expect()
{
	if grep -q "^$2 .*$3" "$tmp/trace.$1"; then
		pass "$1: $4: $2"
	else
		fail "$1: $4: no $2 matching '$3'"
	fi
}
# PROTO BASE RETRANSMIT SEND_RESET RECEIVE_RESET PROBE DROP DROP_PATTERN
while read -r proto base rt tx rx pr drop why; do
	expect $proto $rt "dport=$((base + 3)) .*state=TCP_SYN_SENT" \
		"the unanswered SYN retransmitted"
	expect $proto $tx "sport=[0-9]* dport=$((base + 2)) saddr=$a" \
		"the client's RST"
	expect $proto $rx "sport=$((base + 2)) dport=[0-9]* saddr=$b" \
		"the server taking the RST"
	expect $proto $pr "dest=$b:$((base + 1)) .*snd_cwnd=[1-9]" \
		"per-ACK probes with a window"
	expect $proto $drop "$why" "the SYN to a closed port dropped"
done <<EOF2
XTCP 5000 xtcp_retransmit xtcp_send_reset xtcp_receive_reset xtcp_probe xtcp_drop dport=5004 .*reason=InNoSocket
TCP 6000 tcp_retransmit_skb tcp_send_reset tcp_receive_reset tcp_probe kfree_skb reason: NO_SOCKET
EOF2
expect XTCP xtcp_tw_reap "reaped=[1-9]" "the client's TIME_WAIT entry reaped"

# The matrix of each namespace: exactly the cells of these connections
# (the entry of the client's TIME_WAIT ended above).
matrix()
{
	ip netns exec "$1" awk 'NR > 1 { print $1 ">" $2, $3 }' \
		/proc/net/xtcp_transitions | LC_ALL=C sort | tr '\n' ' '
}
want_a="CLOSE>SYN_SENT 4 ESTABLISHED>CLOSE 1 ESTABLISHED>FIN_WAIT1 1 \
FIN_WAIT1>FIN_WAIT2 1 FIN_WAIT2>TIME_WAIT 1 SYN_SENT>CLOSE 2 \
SYN_SENT>ESTABLISHED 2 TIME_WAIT>CLOSE 1 "
want_b="CLOSE>LISTEN 2 CLOSE_WAIT>LAST_ACK 1 ESTABLISHED>CLOSE 1 \
ESTABLISHED>CLOSE_WAIT 1 LAST_ACK>CLOSE 1 LISTEN>CLOSE 2 \
LISTEN>SYN_RECV 2 SYN_RECV>ESTABLISHED 2 "
got=$(matrix $nsa)
[ "$got" = "$want_a" ] && pass "client's matrix: $got" ||
	fail "client's matrix: '$got', want '$want_a'"
got=$(matrix $nsb)
[ "$got" = "$want_b" ] && pass "server's matrix: $got" ||
	fail "server's matrix: '$got', want '$want_b'"

# The bpftrace one-liner of the documentation, on a connection of its own.
if ! grep -qw bpf_trace_run1 /proc/kallsyms; then
	log "no bpftrace part: this kernel has no CONFIG_BPF_EVENTS"
elif command -v bpftrace > /dev/null; then
	bpftrace -e 'tracepoint:xtcp:xtcp_set_state { @[args->oldstate, args->newstate] = count(); }' \
		> "$tmp/bt" 2>&1 &
	bt=$!
	wait_for 60 grep -q Attaching "$tmp/bt"
	server XTCP 5010 sink
	ip netns exec $nsa ./xtcp_connect -s XTCP -c $b -p 5010 \
		-m source -n 10 > "$tmp/cli" 2>&1
	reap "$pid" 20
	kill -INT $bt
	reap $bt 30
	# @[2, 1]: SYN_SENT -> ESTABLISHED, once.
	grep -q '^@\[2, 1\]: 1$' "$tmp/bt" &&
		pass "bpftrace counted SYN_SENT -> ESTABLISHED" ||
		fail "bpftrace: $(tr '\n' ' ' < "$tmp/bt")"
else
	fail "bpftrace is not installed (scripts/install-deps installs it)"
fi
exit $ret
