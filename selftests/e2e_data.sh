#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Data-path cases end to end between network namespaces, each for xtcp and
# for the kernel's TCP as the reference, running the same program:
#
#  - half-close with data in flight: the client sends and shuts down
#    writing while the server is still sending; then the server sends all
#    of its data after the client's FIN (CLOSE_WAIT); both ends receive
#    everything (hashes);
#  - zero-window stall and resume: the receiver stops reading until the
#    sender is stuck (send queue non-zero and not moving, receive queue
#    full, a timer armed to probe the window), then reads it all intact;
#  - keepalive: an idle connection whose peer vanishes (netem drops every
#    packet) ends in ETIMEDOUT at both ends, not before the keepalive idle
#    time plus all probes;
#  - retries2: data sent into a black hole ends in ETIMEDOUT with a small
#    retries2 (net.xtcp.retries2 / net.ipv4.tcp_retries2);
#  - path MTU: through a router namespace whose outgoing link drops from
#    MTU 1500 to 1280 mid-transfer; the router answers with ICMP
#    fragmentation-needed (DF is set), never fragments, and the transfer
#    completes intact;
#  - ECN: netem marks CE instead of dropping (10 %, ecn); both ends ask
#    for ECN; the data arrives intact and the sender hears of the marks;
#  - blind injection: RSTs, SYNs and data at random sequence numbers on
#    the 4-tuple, at both ends of a transfer; it ends intact and the
#    receivers answered the SYNs with challenge ACKs;
#  - segmentation offload (GSO) over veth, three ways: the sender hands
#    the veth packets of several segments each (its packet counter stays
#    below a quarter of the segments); with the veth's software
#    segmentation for them off (ethtool tx-sctp-segmentation, which xtcp's
#    big packets use) the core cuts them up through xtcp's GSO handler
#    (one packet per segment); with gso_max_segs 1 the sender makes
#    one-segment packets itself. The data arrives intact every time.
#
# A failed case is followed by the sockets and xtcp counters of the
# namespaces; on the debug kernel the sizes are 1/8.
#
# Usage: e2e_data.sh [-p XTCP|TCP] [-f FILTER] (case names matching the
# extended regular expression FILTER; also XTCP_E2E_PROTO and
# XTCP_E2E_FILTER)
. "$(dirname "$0")/lib.sh"

only_proto=${XTCP_E2E_PROTO:-}
filter=${XTCP_E2E_FILTER:-}
while getopts "p:f:" opt; do
	case $opt in
	p) only_proto=$OPTARG ;;
	f) filter=$OPTARG ;;
	*) echo "usage: $0 [-p XTCP|TCP] [-f FILTER]" >&2; exit 2 ;;
	esac
done

require_root
require_module_file
xtcp_restore

nsa=xtcp-data-a
nsb=xtcp-data-b
nsc=xtcp-data-c
nsr=xtcp-data-r
nss=xtcp-data-s
all_ns="$nsa $nsb $nsc $nsr $nss"
addra=198.51.100.1
addrb=198.51.100.2
addrc=192.0.2.1
addrs=203.0.113.2
tmp=$(mktemp -d)
pids=
cleanup()
{
	local p ns
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for ns in $all_ns; do
		ip netns del $ns 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

modprobe veth 2>/dev/null
modprobe sch_netem 2>/dev/null
for ns in $all_ns; do
	ip netns add $ns || exit $KSFT_FAIL
	ip -n $ns link set lo up
	# No TIME_WAIT build-up.
	ip netns exec $ns sysctl -qw net.xtcp.msl_ms=200
done
# a <-> b directly.
ip link add data-a netns $nsa type veth peer name data-b netns $nsb
ip -n $nsa addr add $addra/24 dev data-a
ip -n $nsb addr add $addrb/24 dev data-b
ip -n $nsa link set data-a up
ip -n $nsb link set data-b up
# c <-> r <-> s: r routes between 192.0.2.0/24 and 203.0.113.0/24.
ip link add data-c netns $nsc type veth peer name data-rc netns $nsr
ip link add data-s netns $nss type veth peer name data-rs netns $nsr
ip -n $nsc addr add $addrc/24 dev data-c
ip -n $nsr addr add 192.0.2.254/24 dev data-rc
ip -n $nsr addr add 203.0.113.254/24 dev data-rs
ip -n $nss addr add $addrs/24 dev data-s
for l in "$nsc data-c" "$nsr data-rc" "$nsr data-rs" "$nss data-s"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
ip -n $nsc route add default via 192.0.2.254
ip -n $nss route add default via 203.0.113.254
ip netns exec $nsr sysctl -qw net.ipv4.ip_forward=1

# A FIFO the programs hold open read-write on stdin: never EOF, so -W
# waits for SIGUSR1.
mkfifo "$tmp/hold"

KiB=1024
MiB=$((1024 * 1024))
scale=1
case $(uname -r) in
*xtcp-debug*) scale=8 ;;
esac

want()
{
	local name=$1 proto=$2
	[ -n "$only_proto" ] && [ "$proto" != "$only_proto" ] && return 1
	[ -z "$filter" ] || [[ "$name" =~ $filter ]]
}

port=7000
# spawn VAR NS OUT ARGS...: start xtcp_connect in NS in the background
# (stdin the hold FIFO), output to OUT, its pid into VAR.
spawn()
{
	local var=$1 ns=$2 out=$3
	shift 3
	# Empty now: the child's own redirection may come late.
	: > "$out"
	./xtcp_connect -e "$ns" "$@" >> "$out" 2>&1 0<> "$tmp/hold" &
	printf -v "$var" %s $!
	pids="$pids $!"
}

# has FILE PATTERN: FILE has a line matching the bash pattern (builtins).
has()
{
	local line
	[ -e "$1" ] || return 1
	while IFS= read -r line; do
		# shellcheck disable=SC2053
		[[ $line == $2 ]] && return 0
	done < "$1"
	return 1
}

# field FILE WORD: "A B" of the first line "WORD A B" of FILE.
field()
{
	local w a b rest
	[ -e "$1" ] || return 1
	while read -r w a b rest; do
		[ "$w" = "$2" ] && { echo "$a $b"; return 0; }
	done < "$1"
	return 1
}

oneline() { tr '\n' ' ' < "$1"; }

# listening PID FILE: wait until the server PID has said "listening" in
# FILE; fail at once if it died.
listening()
{
	local end=$((EPOCHSECONDS + 20))
	until has "$2" "listening*"; do
		if ! pid_running "$1" || [ $EPOCHSECONDS -ge $end ]; then
			reap "$1" 0
			return 1
		fi
		nap 0.05
	done
}

# diag NS...: the sockets and the non-zero xtcp counters of each NS, for
# a failure's context.
diag()
{
	local ns
	for ns in "$@"; do
		log "$ns: $(ip netns exec "$ns" sh -c 'tail -n +2 /proc/net/xtcp; tail -n +2 /proc/net/tcp' | cut -c1-80 | tr '\n' '|')"
		log "$ns: $(ip netns exec "$ns" awk '$2 != 0 { printf "%s=%s ", $1, $2 }' /proc/net/xtcp_stat)"
	done
}

# wait_until SECONDS COMMAND...: poll COMMAND (builtins preferred) until
# it succeeds or SECONDS pass.
wait_until()
{
	local end=$((EPOCHSECONDS + $1))
	shift
	until "$@"; do
		[ $EPOCHSECONDS -ge $end ] && return 1
		nap 0.1
	done
}

# sock NS PROTO PORT: "STATE TXQ RXQ TIMER" of the connection in NS with
# local or remote port PORT (not a listener, not TIME_WAIT), from
# /proc/net/xtcp or /proc/net/tcp; queues in bytes, state and timer as in
# the file. Sets SOCK; fails if there is no such connection.
sock()
{
	local file=/proc/net/xtcp row
	[ "$2" = TCP ] && file=/proc/net/tcp
	row=$(ip netns exec "$1" awk -v p="$(printf ':%04X' "$3")" '
		NR > 1 && $4 != "0A" && $4 != "06" &&
		(substr($2, 9) == p || substr($3, 9) == p) {
			split($5, q, ":"); split($6, t, ":")
			print $4, q[1], q[2], t[1]; exit }' $file)
	[ -n "$row" ] || return 1
	set -- $row
	SOCK="$1 $((16#$2)) $((16#$3)) $4"
}

# rxq_ge NS PROTO PORT BYTES: that connection's receive queue holds at
# least BYTES.
rxq_ge()
{
	sock "$1" "$2" "$3" || return 1
	set -- $SOCK "$4"
	[ "$3" -ge "$5" ]
}

# state_is NS PROTO PORT STATE: that connection is in STATE (hex).
state_is()
{
	sock "$1" "$2" "$3" && [[ $SOCK == "$4 "* ]]
}

# counter NS NAME: an xtcp counter (/proc/net/xtcp_stat) or, for a name
# "Group:Name", one of /proc/net/snmp or /proc/net/netstat.
counter()
{
	if [[ $2 == *:* ]]; then
		ip netns exec "$1" awk -v g="${2%%:*}:" -v k="${2#*:}" '
			$1 == g && !h[g]++ { for (i = 2; i <= NF; i++) n[i] = $i; next }
			$1 == g { for (i = 2; i <= NF; i++) if (n[i] == k) print $i }' \
			/proc/net/snmp /proc/net/netstat
	else
		ip netns exec "$1" awk -v k="$2" '$1 == k { print $2 }' \
			/proc/net/xtcp_stat
	fi
}

# stream NAME SENDER_FILE RECEIVER_FILE BYTES: the receiver got exactly
# the BYTES the sender hashed.
stream()
{
	local tx rx
	tx=$(field "$2" tx)
	rx=$(field "$3" rx)
	if [ "${tx%% *}" != "$4" ]; then
		fail "$1: the sender sent '$tx', not $4 bytes: $(oneline "$2")"
	elif [ "$rx" != "$tx" ]; then
		fail "$1: sent '$tx', received '$rx': $(oneline "$3")"
	else
		pass "$1: $rx"
	fi
}

# ---------------------------------------------------------------------
# Half-close with data in flight.
half_close()
{
	local proto=$1 name="$1 half-close while the server sends"
	# More than the server's send buffer and the client's receive buffer
	# can hold (4 MiB + 128 KiB for TCP, however slow the machine): the
	# FIN must come while the server still has data to send.
	local n=$((8 * MiB)) m=$((256 * KiB)) srv cli eof
	want "$name" "$proto" || return 0
	port=$((port + 1))
	spawn srv $nsb "$tmp/hs" -s "$proto" -l -a $addrb -p $port \
		-m source -n $n -S 11 -T 60
	listening $srv "$tmp/hs" || { fail "$name: no server: $(oneline "$tmp/hs")"; return; }
	# The client holds back until the server's data is flowing (its
	# receive queue fills), then sends and shuts down writing at once.
	spawn cli $nsa "$tmp/hc" -s "$proto" -c $addrb -p $port -W \
		-m source -n $m -S 12 -T 60
	if ! wait_until 20 rxq_ge $nsa "$proto" $port 1; then
		fail "$name: the server's data never reached the client"
	fi
	kill -USR1 $cli
	reap $cli 70 || fail "$name: client: $(oneline "$tmp/hc")"
	reap $srv 10 || fail "$name: server: $(oneline "$tmp/hs")"
	stream "$name: client to server" "$tmp/hc" "$tmp/hs" $m
	stream "$name: server to client" "$tmp/hs" "$tmp/hc" $n
	# The server saw the client's FIN while it still had data to send.
	eof=$(field "$tmp/hs" eof)
	eof=${eof%% *}
	if [ -n "$eof" ] && [ "$eof" -lt "$n" ]; then
		pass "$name: the FIN came with $eof of $n bytes sent"
	else
		fail "$name: the server had sent '$eof' of $n at the FIN"
	fi
}

# The client's data and FIN arrive before the server sends anything: the
# server sends all of it in CLOSE_WAIT, the client receives in FIN_WAIT_2.
close_wait_send()
{
	local proto=$1 name="$1 sending in CLOSE_WAIT"
	local n=$((4 * MiB / scale)) m=$((32 * KiB)) srv cli
	want "$name" "$proto" || return 0
	port=$((port + 1))
	spawn srv $nsb "$tmp/ws" -s "$proto" -l -a $addrb -p $port -W \
		-m source -n $n -S 13 -T 60
	listening $srv "$tmp/ws" || { fail "$name: no server: $(oneline "$tmp/ws")"; return; }
	spawn cli $nsa "$tmp/wc" -s "$proto" -c $addrb -p $port \
		-m source -n $m -S 14 -T 60
	# CLOSE_WAIT (08): the FIN, and so all the client's data, is in.
	if wait_until 30 state_is $nsb "$proto" $port 08; then
		pass "$name: the server is in CLOSE_WAIT before it sends"
	else
		fail "$name: the server never got to CLOSE_WAIT: $SOCK"
	fi
	kill -USR1 $srv
	reap $cli 70 || fail "$name: client: $(oneline "$tmp/wc")"
	reap $srv 10 || fail "$name: server: $(oneline "$tmp/ws")"
	stream "$name: client to server" "$tmp/wc" "$tmp/ws" $m
	stream "$name: server to client" "$tmp/ws" "$tmp/wc" $n
}

# ---------------------------------------------------------------------
# Zero-window stall and resume.
zero_window()
{
	local proto=$1 name="$1 zero window"
	local n=$((16 * MiB / scale)) srv cli a b tx tr held ok=
	want "$name" "$proto" || return 0
	port=$((port + 1))
	spawn srv $nsb "$tmp/zs" -s "$proto" -l -a $addrb -p $port -W \
		-m sink -T 120
	listening $srv "$tmp/zs" || { fail "$name: no server: $(oneline "$tmp/zs")"; return; }
	spawn cli $nsa "$tmp/zc" -s "$proto" -c $addrb -p $port \
		-m source -n $n -S 15 -T 120
	# Stuck: the sender's queue and the receiver's are non-zero and the
	# same one second later; the sender still blocked in write().
	local end=$((EPOCHSECONDS + 60))
	while [ $EPOCHSECONDS -lt $end ]; do
		if sock $nsa $proto $port; then
			a=$SOCK
			nap 1
			sock $nsa $proto $port && b=$SOCK || b=
			read -r _ tx _ tr <<< "$b"
			held=0
			sock $nsb $proto $port && set -- $SOCK && held=$3
			if [ "$a" = "$b" ] && [ "${tx:-0}" -gt 0 ] &&
			   [ "$held" -gt 0 ] && ! has "$tmp/zc" "tx *"; then
				ok=1
				break
			fi
		else
			nap 0.2
		fi
	done
	if [ -n "$ok" ]; then
		pass "$name: sender stuck with $tx bytes queued, receiver holds $held"
		# A stalled sender must keep a timer to probe the window.
		[ "$tr" != 00 ] && pass "$name: the sender has a timer armed ($tr)" ||
			fail "$name: the stalled sender has no timer armed"
	else
		fail "$name: the sender never stalled: sender '$a' '$b', receiver '$SOCK'"
	fi
	kill -USR1 $srv
	reap $cli 130 || fail "$name: client: $(oneline "$tmp/zc")"
	reap $srv 10 || fail "$name: server: $(oneline "$tmp/zs")"
	stream "$name: resumed" "$tmp/zc" "$tmp/zs" $n
}

# ---------------------------------------------------------------------
# loss NS DEV PERCENT: netem loss on DEV in NS (0: remove it).
loss()
{
	if [ "$3" = 0 ]; then
		ip netns exec "$1" tc qdisc del dev "$2" root 2>/dev/null
	else
		ip netns exec "$1" tc qdisc replace dev "$2" root netem loss "$3%"
	fi
}

# blackhole PERCENT: drop that share of the packets both ways (0: none).
blackhole()
{
	loss $nsa data-a "$1" && loss $nsb data-b "$1" ||
		{ [ "$1" = 0 ] || fail "cannot set netem loss $1%"; }
}

# errtime FILE: seconds of the "error CALL ETIMEDOUT SECS" line, or fail.
errtime()
{
	local w e secs
	while read -r w _ e secs; do
		if [ "$w" = error ] && [ "$e" = ETIMEDOUT ]; then
			echo "$secs"
			return 0
		fi
	done < "$1"
	return 1
}

# Keepalive kills a dead peer: idle 1 s, probes every 2 s, 3 probes, so
# no abort before 7 s after the last packet received (one probe less
# would be 5 s); both ends have keepalive (the server through its
# listener), both must end in ETIMEDOUT once every packet is dropped.
keepalive()
{
	local proto=$1 how=$2 name="$1 keepalive ($2)" ka srv cli t
	local actr=AbortOnTimeout before_a before_b after_a after_b
	want "$name" "$proto" || return 0
	if [ "$how" = sysctl ]; then
		ka=-k
		for ns in $nsa $nsb; do
			ip netns exec $ns sysctl -qw net.xtcp.keepalive_time=1 \
				net.xtcp.keepalive_intvl=2 net.xtcp.keepalive_probes=3
		done
	else
		ka="-K 1,2,3"
	fi
	[ "$proto" = TCP ] && actr=TcpExt:TCPAbortOnTimeout
	before_a=$(counter $nsa $actr)
	before_b=$(counter $nsb $actr)
	port=$((port + 1))
	spawn srv $nsb "$tmp/ks" -s "$proto" -l -a $addrb -p $port $ka \
		-W -m sink -T 90
	listening $srv "$tmp/ks" || { fail "$name: no server: $(oneline "$tmp/ks")"; return; }
	spawn cli $nsa "$tmp/kc" -s "$proto" -c $addrb -p $port $ka \
		-W -m sink -T 90
	if ! wait_until 20 eval 'has "$tmp/ks" connected && has "$tmp/kc" connected'; then
		fail "$name: no connection: $(oneline "$tmp/kc")| $(oneline "$tmp/ks")"
		reap $cli 0; reap $srv 0
		return
	fi
	kill -USR1 $srv $cli
	blackhole 100
	# 7 s expected; a generous deadline for a slow machine.
	reap $cli 60
	reap $srv 10
	blackhole 0
	for side in client server; do
		f=$tmp/kc
		[ $side = server ] && f=$tmp/ks
		# Seconds since connect() returned or accept() did, a little
		# after the last packet received: 6 s allows for that.
		if t=$(errtime "$f"); then
			if [ "${t%%.*}" -ge 6 ]; then
				pass "$name: $side read ETIMEDOUT after ${t}s"
			else
				fail "$name: $side timed out after ${t}s, before idle + 3 probes (7s)"
			fi
		else
			fail "$name: $side: $(oneline "$f")"
		fi
	done
	after_a=$(counter $nsa $actr)
	after_b=$(counter $nsb $actr)
	if [ "$after_a" = $((before_a + 1)) ] && [ "$after_b" = $((before_b + 1)) ]; then
		pass "$name: $actr counted once at each end"
	else
		fail "$name: $actr went $before_a -> $after_a and $before_b -> $after_b"
	fi
	if [ "$how" = sysctl ]; then
		for ns in $nsa $nsb; do
			ip netns exec $ns sysctl -qw net.xtcp.keepalive_time=7200 \
				net.xtcp.keepalive_intvl=75 net.xtcp.keepalive_probes=9
		done
	fi
}

# ---------------------------------------------------------------------
# Data into a black hole ends in ETIMEDOUT after retries2
# retransmissions (a few seconds with 3 and the minimum RTO).
retries2()
{
	local proto=$1 name="$1 retries2" srv cli actr=AbortOnTimeout before after t
	want "$name" "$proto" || return 0
	if [ "$proto" = TCP ]; then
		ip netns exec $nsa sysctl -qw net.ipv4.tcp_retries2=3
		actr=TcpExt:TCPAbortOnTimeout
	else
		ip netns exec $nsa sysctl -qw net.xtcp.retries2=3 net.xtcp.rto_max_ms=1000
	fi
	before=$(counter $nsa $actr)
	port=$((port + 1))
	spawn srv $nsb "$tmp/rs" -s "$proto" -l -a $addrb -p $port -W \
		-m sink -T 90
	listening $srv "$tmp/rs" || { fail "$name: no server: $(oneline "$tmp/rs")"; return; }
	spawn cli $nsa "$tmp/rc" -s "$proto" -c $addrb -p $port -W \
		-m source -n 200000 -S 16 -T 90
	if ! wait_until 20 has "$tmp/rc" connected; then
		fail "$name: no connection: $(oneline "$tmp/rc")"
	fi
	blackhole 100
	kill -USR1 $cli
	reap $cli 60
	blackhole 0
	# The server's end is still open: let it go now that packets flow.
	reap $srv 0
	if t=$(errtime "$tmp/rc"); then
		pass "$name: the sender got ETIMEDOUT after ${t}s"
	else
		fail "$name: $(oneline "$tmp/rc")"
	fi
	after=$(counter $nsa $actr)
	[ "$after" = $((before + 1)) ] && pass "$name: $actr counted" ||
		fail "$name: $actr went $before -> $after"
	if [ "$proto" = TCP ]; then
		ip netns exec $nsa sysctl -qw net.ipv4.tcp_retries2=15
	else
		ip netns exec $nsa sysctl -qw net.xtcp.retries2=15 net.xtcp.rto_max_ms=120000
	fi
}

# ---------------------------------------------------------------------
# The router's outgoing link shrinks to MTU 1280 mid-transfer.
pmtu()
{
	local proto=$1 name="$1 path MTU 1500 -> 1280" n=$((8 * MiB / scale))
	local srv cli unreach0 unreach1 frag0 frag1 in0 in1 route
	want "$name" "$proto" || return 0
	ip -n $nsr link set data-rs mtu 1500
	# Forget what an earlier run learnt (PMTU exceptions included).
	ip -n $nsc route flush cache
	route=$(ip -n $nsc route get $addrs)
	[[ $route == *"mtu 1280"* ]] && fail "$name: the route starts with a learnt PMTU: $route"
	unreach0=$(counter $nsr Icmp:OutDestUnreachs)
	frag0=$(counter $nsr Ip:FragCreates)
	in0=$(counter $nsc Icmp:InDestUnreachs)
	port=$((port + 1))
	spawn srv $nss "$tmp/ps" -s "$proto" -l -a $addrs -p $port -W \
		-m sink -T 60
	listening $srv "$tmp/ps" || { fail "$name: no server: $(oneline "$tmp/ps")"; return; }
	spawn cli $nsc "$tmp/pc" -s "$proto" -c $addrs -p $port \
		-m source -n $n -S 17 -T 30
	# Full-size segments have gone through: the receiver holds 64 KiB+.
	if ! wait_until 30 rxq_ge $nss "$proto" $port 65536; then
		fail "$name: no data reached the server: $(oneline "$tmp/pc")"
	fi
	ip -n $nsr link set data-rs mtu 1280
	kill -USR1 $srv
	reap $cli 70
	cli=$?
	reap $srv $((cli ? 2 : 10))
	ip -n $nsr link set data-rs mtu 1500
	if [ $cli = 0 ]; then
		stream "$name" "$tmp/pc" "$tmp/ps" $n
	else
		fail "$name: client exit $cli: $(oneline "$tmp/pc")| $(oneline "$tmp/ps")"
	fi
	unreach1=$(counter $nsr Icmp:OutDestUnreachs)
	frag1=$(counter $nsr Ip:FragCreates)
	in1=$(counter $nsc Icmp:InDestUnreachs)
	# DF was set: the router sent fragmentation-needed, never fragmented.
	if [ "$unreach1" -gt "$unreach0" ] && [ "$in1" -gt "$in0" ]; then
		pass "$name: the router sent $((unreach1 - unreach0)) ICMP unreachable(s), the client got $((in1 - in0))"
	else
		fail "$name: no ICMP fragmentation-needed went out ($unreach0 -> $unreach1) or came in ($in0 -> $in1)"
	fi
	[ "$frag1" = "$frag0" ] || fail "$name: the router fragmented: DF was not set"
	log "$name: client route: $(ip -n $nsc route get $addrs | tr '\n' ' ')"
}

# ---------------------------------------------------------------------
# ECN end to end: netem marks CE where it would drop (10 % of the
# packets a -> b, one segment each: gso_max_segs 1, or a few GSO packets
# might all go unmarked) on ECN-capable packets; both ends ask for ECN
# (ecn 1).
# The data arrives intact, the receiver's IP layer saw CE marks, and the
# sender heard of them (xtcp EcnCwr, TCP TCPDeliveredCE).
ecn()
{
	local proto=$1 name="$1 ECN with netem CE marks" n=$((4 * MiB / scale))
	local srv cli ce0 ce1 heard0 heard1 rtx0 rtx1 knob=net.xtcp.ecn
	local heard=EcnCwr rtx=RetransSegs ns
	want "$name" "$proto" || return 0
	if [ "$proto" = TCP ]; then
		knob=net.ipv4.tcp_ecn heard=TcpExt:TCPDeliveredCE rtx=Tcp:RetransSegs
	fi
	for ns in $nsa $nsb; do
		ip netns exec $ns sysctl -qw $knob=1
	done
	# netem drops the SYN (not ECN-capable) one time in ten: its
	# retransmission must still ask for ECN.
	ip netns exec $nsa sysctl -qw ${knob}_fallback=0
	ip -n $nsa link set data-a gso_max_segs 1
	if ! ip netns exec $nsa tc qdisc replace dev data-a root netem loss 10% ecn; then
		ip -n $nsa link set data-a gso_max_segs 65535
		fail "$name: cannot set netem loss 10% ecn"
		return
	fi
	ce0=$(counter $nsb IpExt:InCEPkts)
	heard0=$(counter $nsa $heard)
	rtx0=$(counter $nsa $rtx)
	port=$((port + 1))
	spawn srv $nsb "$tmp/es" -s "$proto" -l -a $addrb -p $port -m sink -T 60
	listening $srv "$tmp/es" || { fail "$name: no server: $(oneline "$tmp/es")"; return; }
	spawn cli $nsa "$tmp/ec" -s "$proto" -c $addrb -p $port \
		-m source -n $n -S 23 -T 60
	reap $cli 70
	cli=$?
	reap $srv $((cli ? 2 : 10))
	loss $nsa data-a 0
	ip -n $nsa link set data-a gso_max_segs 65535
	for ns in $nsa $nsb; do
		ip netns exec $ns sysctl -qw $knob=2
	done
	ip netns exec $nsa sysctl -qw ${knob}_fallback=1
	if [ $cli = 0 ]; then
		stream "$name" "$tmp/ec" "$tmp/es" $n
	else
		fail "$name: client exit $cli: $(oneline "$tmp/ec")| $(oneline "$tmp/es")"
	fi
	ce1=$(counter $nsb IpExt:InCEPkts)
	heard1=$(counter $nsa $heard)
	rtx1=$(counter $nsa $rtx)
	if [ $((ce1 - ce0)) -gt 0 ] && [ $((heard1 - heard0)) -gt 0 ]; then
		pass "$name: $((ce1 - ce0)) CE-marked packets received, sender's $heard +$((heard1 - heard0)), $((rtx1 - rtx0)) segments retransmitted"
	else
		fail "$name: CE-marked packets received +$((ce1 - ce0)), sender's $heard +$((heard1 - heard0))"
	fi
}

# ---------------------------------------------------------------------
# Blind injection: an off-path attacker who knows the 4-tuple but not the
# sequence numbers sends RSTs, SYNs and data (xtcp_flood -m blind, random
# sequence and acknowledgment numbers) at both ends of a transfer,
# XTCP_BLIND_N segments at each (100000, an eighth on the debug kernel;
# make bench sends 10^6). The segments are made in each end's own
# namespace, so that they do not queue behind the transfer's. The transfer
# crawls (netem rate 10mbit) until the attack is
# over, then runs free. It ends intact: no reset, no injected byte (the
# hashes match); and the attack reached the connection: the receiver
# answered the in-connection SYNs with challenge ACKs (RFC 5961 4.2,
# counted as xtcp SynChallenge, TCP TCPSYNChallenge).
blind_n=${XTCP_BLIND_N:-$((100000 / scale))}

# peer_port NS PROTO PORT: the remote port of the established connection
# to local port PORT in NS.
peer_port()
{
	local file=/proc/net/xtcp hex
	[ "$2" = TCP ] && file=/proc/net/tcp
	hex=$(ip netns exec "$1" awk -v p="$(printf ':%04X' "$3")" '
		NR > 1 && $4 == "01" && substr($2, 9) == p {
			print substr($3, 10); exit }' $file)
	[ -n "$hex" ] && echo $((16#$hex))
}

blind()
{
	local proto=$1 name="$1 blind injection" n=$((16 * MiB))
	local srv cli cport f1 f2 r1 r2 syn=SynChallenge ack=ChallengeAck
	local syn0 syn1 ack0 ack1 k sent p
	want "$name" "$proto" || return 0
	p=xtcp
	if [ "$proto" = TCP ]; then
		syn=TcpExt:TCPSYNChallenge ack=TcpExt:TCPChallengeACK p=tcp
	fi
	if ! ip netns exec $nsa tc qdisc replace dev data-a root netem rate 10mbit; then
		fail "$name: cannot set netem rate 10mbit"
		return
	fi
	syn0=$(($(counter $nsa $syn) + $(counter $nsb $syn)))
	ack0=$(($(counter $nsa $ack) + $(counter $nsb $ack)))
	port=$((port + 1))
	spawn srv $nsb "$tmp/bs" -s "$proto" -l -a $addrb -p $port -m sink -T 120
	listening $srv "$tmp/bs" || { fail "$name: no server: $(oneline "$tmp/bs")"; return; }
	spawn cli $nsa "$tmp/bc" -s "$proto" -c $addrb -p $port \
		-m source -n $n -S 31 -T 120
	if ! wait_until 20 eval 'cport=$(peer_port $nsb $proto $port); [ -n "$cport" ]'; then
		fail "$name: no connection"
		loss $nsa data-a 0
		return
	fi
	# At the server, as from the client; at the client, as from the server.
	./xtcp_flood -e $nsb -p $p -m blind -s $addra:$cport -d $addrb:$port \
		-n "$blind_n" > "$tmp/bf1" 2>&1 &
	f1=$!
	./xtcp_flood -e $nsa -p $p -m blind -s $addrb:$port -d $addra:$cport \
		-n "$blind_n" > "$tmp/bf2" 2>&1 &
	f2=$!
	wait $f1
	r1=$?
	wait $f2
	r2=$?
	pid_running $cli || fail "$name: the transfer ended before the attack did (too short to tell)"
	loss $nsa data-a 0
	reap $cli 130
	k=$?
	reap $srv $((k ? 2 : 10))
	if [ $r1 != 0 ] || [ $r2 != 0 ]; then
		fail "$name: xtcp_flood: $(oneline "$tmp/bf1") $(oneline "$tmp/bf2")"
		return
	fi
	if [ $k = 0 ]; then
		stream "$name: no reset, no injected byte" "$tmp/bc" "$tmp/bs" $n
	else
		fail "$name: client exit $k: $(oneline "$tmp/bc")| $(oneline "$tmp/bs")"
	fi
	sent=$(($(field "$tmp/bf1" sent | cut -d' ' -f1) + $(field "$tmp/bf2" sent | cut -d' ' -f1)))
	syn1=$(($(counter $nsa $syn) + $(counter $nsb $syn)))
	ack1=$(($(counter $nsa $ack) + $(counter $nsb $ack)))
	log "$name: $sent segments injected ($(field "$tmp/bf1" sent | cut -d' ' -f2) s and $(field "$tmp/bf2" sent | cut -d' ' -f2) s), ${syn#*:} +$((syn1 - syn0)), challenge ACKs sent +$((ack1 - ack0))"
	# A third of them SYNs; some may have met a busy socket's full backlog.
	if [ $((syn1 - syn0)) -ge $((sent / 6)) ]; then
		pass "$name: the attack reached the connection: ${syn#*:} +$((syn1 - syn0)) of $((sent / 3)) SYNs"
	else
		fail "$name: only ${syn#*:} +$((syn1 - syn0)) for $((sent / 3)) SYNs: aimed wrong?"
	fi
}

# ---------------------------------------------------------------------
# Segmentation offload over the a <-> b veth pair.
tx_packets() { ip netns exec $nsa cat /sys/class/net/data-a/statistics/tx_packets; }

gso()
{
	local proto=$1 how=$2 name="$1 GSO, $2" n=$((16 * MiB / scale))
	local srv cli p0 p1 segs
	want "$name" "$proto" || return 0
	# TCP's packets are TSO ones, which the switch leaves alone.
	[ "$proto:$how" = TCP:software ] && return 0
	case $how in
	veth) ;;
	software)
		ip netns exec $nsa ethtool -K data-a tx-sctp-segmentation off 			>/dev/null || { fail "$name: ethtool -K failed"; return; }
		;;
	one) ip -n $nsa link set data-a gso_max_segs 1 ;;
	esac
	port=$((port + 1))
	p0=$(tx_packets)
	spawn srv $nsb "$tmp/gs" -s "$proto" -l -a $addrb -p $port 		-m sink -T 60
	listening $srv "$tmp/gs" || { fail "$name: no server: $(oneline "$tmp/gs")"; return; }
	spawn cli $nsa "$tmp/gc" -s "$proto" -c $addrb -p $port 		-m source -n $n -S 21 -T 60
	reap $cli 70 || fail "$name: client: $(oneline "$tmp/gc")"
	reap $srv 10 || fail "$name: server: $(oneline "$tmp/gs")"
	p1=$(tx_packets)
	ip netns exec $nsa ethtool -K data-a tx-sctp-segmentation on >/dev/null
	ip -n $nsa link set data-a gso_max_segs 65535
	stream "$name" "$tmp/gc" "$tmp/gs" $n
	# Full segments (MSS 1448 with timestamps) the data needs, at least.
	segs=$((n / 1448))
	p1=$((p1 - p0))
	if [ $how = veth ]; then
		if [ $p1 -lt $((segs / 4)) ]; then
			pass "$name: $p1 packets for $segs segments"
		else
			fail "$name: $p1 packets for $segs segments, not GSO packets"
		fi
	elif [ $p1 -ge $segs ]; then
		pass "$name: $p1 packets for $segs segments"
	else
		fail "$name: $p1 packets for $segs segments, fewer than one per segment"
	fi
}

# run CASE ARGS...: one case; its failures come with the sockets and
# counters of the namespaces.
run()
{
	local saved=$ret t=$EPOCHSECONDS
	ret=$KSFT_PASS
	"$@"
	if [ $ret != $KSFT_PASS ]; then
		diag $nsa $nsb $nsc $nss
	fi
	log "$*: $((EPOCHSECONDS - t))s"
	[ $saved = $KSFT_PASS ] || ret=$saved
}

t0=$EPOCHSECONDS
for proto in TCP XTCP; do
	run half_close $proto
	run close_wait_send $proto
	run zero_window $proto
	run keepalive $proto sockopt
	[ $proto = XTCP ] && run keepalive $proto sysctl
	run retries2 $proto
	run pmtu $proto
	run ecn $proto
	run blind $proto
	for how in veth software one; do
		run gso $proto $how
	done
done

# xtcp_idle NS: no xtcp connection in NS but TIME_WAIT entries.
xtcp_idle()
{
	ip netns exec "$1" awk 'NR > 1 && $4 != "06" { f = 1 } END { exit f }' \
		/proc/net/xtcp
}

# Every connection ended: nothing but TIME_WAIT left in the namespaces.
for ns in $nsa $nsb $nsc $nss; do
	if ! wait_until 10 xtcp_idle $ns; then
		fail "xtcp sockets left behind in $ns: $(ip netns exec $ns cat /proc/net/xtcp | tr '\n' ' ')"
	fi
done
log "done in $((EPOCHSECONDS - t0))s"
exit $ret
