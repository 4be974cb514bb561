#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The xtcp benchmark, run inside the test VM by "make bench": each workload
# over xtcp and over the kernel's TCP, with the same tool (xtcp_connect -s
# XTCP|TCP) and the same sizes, in the same run. Prints a table (ratio =
# xtcp / tcp) and, between BENCH-JSON markers, the figures as JSON (make
# bench saves them). A figure that could not be measured (a transfer that
# failed, was cut short or delivered the wrong bytes) shows as ERR in the
# table and null in the JSON, is listed under "errors", and makes the script
# exit 1; it is never reported as 0.
#
# Every workload but tw_bytes and blind runs BENCH_ROUNDS rounds (default
# 5; some have a count of their own), xtcp and TCP taking turns; each
# figure is the median of the rounds, with their min and max beside it,
# since one run under TCG swings by a third either way.
#
# Workloads (names for BENCH_ONLY):
#  crr        connections per second over loopback: connect, 1-byte request,
#             1-byte response, close (BENCH_CRR_SECS seconds, default 10)
#  tw_bytes   bytes per TIME_WAIT entry: the slab object size of xtcp_tw and
#             of Linux's tw_sock_TCP
#  tw_stall   the longest 1-byte ping-pong round trip seen while BENCH_TW_N
#             (default 20000) TIME_WAIT entries expire; for xtcp all in one
#             bucket (msl_ms 5000, tw_bucket_ms 30000, wider than the time
#             it takes to make them); TCP's last 60 s
#  bulk_lo    single-stream bulk throughput over loopback: the client sends
#             BENCH_BULK_BYTES (default 67108864) to a sink server, shuts
#             down and reads to EOF; MB/s = 10^6 bytes per second of the
#             client's wall time, connect to EOF. The server's byte count
#             and hash must match the client's.
#  bulk_veth  the same between two namespaces over a veth pair
#             (bulk_lo and bulk_veth run BENCH_BULK_ROUNDS rounds)
#  bulk_netem the same over the veth pair with netem "delay 10ms loss 1%"
#             on the sender's egress (gso_max_segs 1 there, so that netem
#             drops single segments), BENCH_NETEM_BYTES (default 16777216);
#             also the packets netem let through and those it dropped.
#             netem takes a fixed seed (seed BENCH_NETEM_SEED, default 1)
#             only if tc and the kernel support it (Linux >= 6.3);
#             otherwise the loss pattern is random.
#  rr         1-byte request/response latency over loopback: one connection,
#             BENCH_RR_N (default 20000) round trips; p50, p99 and max in us
#  synflood   spoofed SYNs (xtcp_flood -m syn: random sources in
#             198.51.100.0/24 and 203.0.113.0/24, Linux's SYN options) for
#             BENCH_SYNFLOOD_SECS (default 6) at a listener (backlog 128)
#             across a veth pair, with syncookies 1 and then 2, while a
#             client in the flooder's namespace opens real connections one
#             after another (connect, 1-byte request and response, close,
#             each within 5 s): the flood's rate, the share of the client's
#             connections that made it, their p50 and p99 time, the most
#             half-open connections seen, and the bytes one costs (the
#             slab object: xtcp's full socket, TCP's request sock).
#             BENCH_SYNFLOOD_ROUNDS (default 5) rounds, xtcp and TCP
#             taking turns: each figure is the median, with min and max
#  inject     a transfer over the veth pair (BENCH_INJECT_BYTES, default
#             268435456) while an off-path attacker who knows the 4-tuple
#             floods it (xtcp_flood, from the attacked end's namespace,
#             for as long as the transfer runs): ACKs with random numbers
#             at the sender (ack), out-of-window data at the receiver
#             (oow), ICMP errors quoting the sender's segments with random
#             sequence numbers at the sender (icmp); MB/s under attack (see
#             bulk_veth for none) and the attack's rate; the data must
#             arrive intact. BENCH_INJECT_ROUNDS (default 5) rounds, taking
#             turns: medians with min and max
#  blind      BENCH_BLIND_N (default 1000000) RSTs, SYNs and data at random
#             sequence numbers (xtcp_flood -m blind) at each end of a
#             transfer throttled (netem rate 20mbit) until the attack is
#             over: the connections reset (EstabResets) and the bytes the
#             receiver got beyond what was sent (both must be 0, and the
#             hashes match), the challenge ACKs the two ends sent
#  scale      BENCH_SCALE_N (default 100000) concurrent established
#             connections across the veth pair (xtcp_scale; client
#             addresses 192.0.2.3-6, IP_BIND_ADDRESS_NO_PORT): the
#             rate they were set up at, the memory each costs (the drop of
#             MemAvailable over both ends, descriptors and epoll included,
#             divided by the count), and the crr rate (BENCH_SCALE_CRR_SECS,
#             default 5) of new connections to the same listener before
#             and while they all exist. BENCH_SCALE_ROUNDS (default 5)
#             rounds, taking turns: medians with min and max
#  tw_mass    BENCH_TWM_N (default 1000000) TIME_WAIT entries at once, made
#             by xtcp_scale in batches of 100,000 connections across the
#             veth pair, each batch from 4 client addresses of its own and
#             closed by the client (the entries are the client's); xtcp
#             keeps them 2 * msl_ms = 600 s, all in one bucket
#             (tw_bucket_ms 900000), TCP for its fixed 60 s, so it holds
#             what the last minute made: the entries held, the memory they
#             take (MemAvailable drop per entry held, and the growth of
#             the slabs of xtcp_tw / tw_sock_TCP per entry held: xtcp's
#             hash table of entries is outside it), the crr rate from a
#             fresh address while they exist (the TIME_WAIT lookups), the
#             time to make them. One round (it takes minutes per stack).
#  apps       programs people measure TCP with, over the veth pair, run
#             unmodified under scripts/xtcp-run for xtcp: iperf3 (one
#             stream, BENCH_APP_SECS, default 3, client -> server), nginx
#             with wrk (20 connections, a 6-byte file, BENCH_APP_SECS) and
#             sockperf ping-pong (BENCH_APP_SECS): Mbit/s, requests/s, p50
#             and p99 us. BENCH_APP_ROUNDS (default 5) rounds, taking
#             turns: medians with min and max. Each needs its program
#             (scripts/install-deps installs them); the project's own bulk
#             tool hashes every byte, these do not.
#
# Environment (each may also be given as XTCP_BENCH_..., e.g.
# XTCP_BENCH_ONLY: the VM runner passes XTCP_* variables into the guest, so
# "XTCP_BENCH_ONLY='bulk_lo rr' make bench" selects workloads):
#  BENCH_ONLY          workloads to run, separated by spaces or commas
#                      (default: all; they always run in the order above)
#  BENCH_CRR_SECS, BENCH_TW_N, BENCH_BULK_BYTES, BENCH_BULK_ROUNDS,
#  BENCH_NETEM_BYTES, BENCH_NETEM_SEED, BENCH_RR_N, BENCH_SYNFLOOD_SECS,
#  BENCH_SYNFLOOD_ROUNDS, BENCH_INJECT_BYTES, BENCH_INJECT_ROUNDS,
#  BENCH_BLIND_N, BENCH_SCALE_N, BENCH_SCALE_ROUNDS, BENCH_SCALE_CRR_SECS,
#  BENCH_TWM_N, BENCH_APP_SECS, BENCH_APP_ROUNDS
#                      sizes, see above
#  BENCH_ROUNDS        rounds of crr, tw_stall, bulk_netem and rr (5)
#  BENCH_TIMEOUT       seconds after which one transfer or rr run counts as
#                      failed (default 300)
#
# Caveat: the source client generates its data (xorshift64*, 8 bytes at a
# time) and both ends hash every byte; under TCG that still costs CPU, so
# the bulk figures include it. The "sender's user CPU" rows show how much of
# the wall time went there: near 100% means the figure is the tool's limit.
set -u
repo=${XTCP_REPO:-$(cd "$(dirname "$0")/.." && pwd)}
tool=$repo/build/selftests/xtcp_connect

# opt NAME DEFAULT: BENCH_NAME, else XTCP_BENCH_NAME, else DEFAULT
opt()
{
	local a=BENCH_$1 b=XTCP_BENCH_$1
	if [ -n "${!a:-}" ]; then
		echo "${!a}"
	elif [ -n "${!b:-}" ]; then
		echo "${!b}"
	else
		echo "$2"
	fi
}
crr_secs=$(opt CRR_SECS 10)
tw_n=$(opt TW_N 20000)
bulk_bytes=$(opt BULK_BYTES 67108864)
bulk_rounds=$(opt BULK_ROUNDS 5)
netem_bytes=$(opt NETEM_BYTES 16777216)
netem_seed=$(opt NETEM_SEED 1)
rr_n=$(opt RR_N 20000)
rounds_n=$(opt ROUNDS 5)
syn_secs=$(opt SYNFLOOD_SECS 6)
syn_rounds=$(opt SYNFLOOD_ROUNDS 5)
inject_bytes=$(opt INJECT_BYTES 268435456)
inject_rounds=$(opt INJECT_ROUNDS 5)
blind_n=$(opt BLIND_N 1000000)
scale_n=$(opt SCALE_N 100000)
scale_rounds=$(opt SCALE_ROUNDS 5)
scale_crr=$(opt SCALE_CRR_SECS 5)
twm_n=$(opt TWM_N 1000000)
tmo=$(opt TIMEOUT 300)
app_secs=$(opt APP_SECS 3)
app_rounds=$(opt APP_ROUNDS 5)
ALL="crr tw_bytes tw_stall bulk_lo bulk_veth bulk_netem rr synflood inject blind scale tw_mass apps"
only=$(opt ONLY "$ALL" | tr ',' ' ')
for w in $only; do
	case " $ALL " in
	*" $w "*) ;;
	*) echo "bench: unknown workload '$w' (known: $ALL)" >&2; exit 2 ;;
	esac
done
want() { case " $only " in *" $1 "*) return 0 ;; esac; return 1; }

declare -A R
ERRORS=()
note() { echo "bench: [${SECONDS}s] $*" >&2; }
# error KEY... -- MESSAGE: the figures KEY... could not be measured
error()
{
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		R[$1]=
		shift
	done
	shift
	ERRORS+=("$*")
	echo "bench: ERROR: $*" >&2
}
# is_num VALUE: a non-negative decimal number
is_num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }

[ -x "$tool" ] || { echo "bench: no $tool (make selftests)" >&2; exit 2; }

# Each phase runs in namespaces of its own, so that TIME_WAIT entries of
# one phase (and their expiry) do not disturb the next. NS is the phase's
# (first) namespace; ns_new adds more.
NS=
NSS=()
ns_new()
{
	ip netns add "$1"
	NSS+=("$1")
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv4.tcp_tw_reuse=0
	ip netns exec "$1" sysctl -qw net.xtcp.tw_reuse=0
}
ns_clear()
{
	local n
	for n in "${NSS[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	NSS=()
	NS=
}
fresh_ns()
{
	ns_clear
	NS=xtcp-bench-$1
	ns_new "$NS"
}
in_ns() { ip netns exec "$NS" "$@"; }

cleanup()
{
	local p
	# the servers this script started that are still running
	for p in $(jobs -p); do
		kill "$p" 2>/dev/null
	done
	ns_clear
}
trap cleanup EXIT

# wait_listening PID FILE: until the server started as PID prints
# "listening" into FILE; fails if it exits first or takes over 60 s.
wait_listening()
{
	local deadline=$((SECONDS + 60))
	until grep -q '^listening' "$2" 2>/dev/null; do
		if ! kill -0 "$1" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
			note "server did not start: $(cat "$2" 2>/dev/null)"
			return 1
		fi
		sleep 0.05
	done
}

# server PROTO PORT: an rr server on loopback in $NS, pid in $spid
server()
{
	in_ns "$tool" -s "$1" -l -a 127.0.0.1 -p "$2" -m rr -N 0 -b 1024 \
		> /tmp/bench-srv.$1.$2 2>&1 &
	spid=$!
	wait_listening $spid /tmp/bench-srv.$1.$2
}

stop_servers()	# PID...: end servers this script started
{
	kill "$@" 2>/dev/null
	wait "$@" 2>/dev/null
}

crr_one()	# PROTO
{
	local proto=$1 k=crr_$1 out rc
	note "crr over $proto for $crr_secs s"
	fresh_ns crr-$proto
	if ! server $proto 7001; then
		error $k -- "crr over $proto: server did not start"
		return
	fi
	out=$(in_ns timeout -k 10 $((crr_secs + tmo)) "$tool" -s $proto \
		-c 127.0.0.1 -p 7001 -m crr -t "$crr_secs")
	rc=$?
	R[$k]=$(echo "$out" | awk '$1 == "crr" { print $3 }')
	if [ $rc != 0 ] || ! is_num "${R[$k]}"; then
		error $k -- "crr over $proto: exit $rc, output '$out'"
	fi
	stop_servers $spid
}

slab_size()	# CACHE: object size, following SLUB's merged-cache links
{
	cat "/sys/kernel/slab/$1/object_size" 2>/dev/null
}
slab_pages_bytes()	# CACHE: bytes of the slabs the cache holds now
{
	local d=/sys/kernel/slab/$1 slabs order
	[ -e "$d/slabs" ] || return 0
	read -r slabs _ < "$d/slabs"
	order=$(cat "$d/order")
	echo $((slabs * (4096 << order)))
}
if want tw_bytes; then
	R[tw_bytes_XTCP]=$(slab_size xtcp_tw)
	[ -n "${R[tw_bytes_XTCP]}" ] ||
		R[tw_bytes_XTCP]=$(dmesg | sed -n 's/.*TIME_WAIT entry \([0-9]*\) bytes.*/\1/p' | tail -n 1)
	R[tw_bytes_TCP]=$(slab_size tw_sock_TCP)
	for proto in XTCP TCP; do
		is_num "${R[tw_bytes_$proto]}" ||
			error tw_bytes_$proto -- "no TIME_WAIT object size for $proto"
	done
fi

# TIME_WAIT mass expiry. xtcp: 2 * MSL = 10 s, buckets 30 s wide. A bucket
# expires at a multiple of its width in CLOCK_MONOTONIC (which /proc/uptime
# follows in a VM that never suspends), so start making entries just after
# a boundary: everything made in the next 30 s then lands in one bucket.
TW_LEN=10
TW_WIDTH=30
uptime_s() { cut -d' ' -f1 /proc/uptime; }
wait_boundary()
{
	while awk -v u="$(uptime_s)" -v l=$TW_LEN -v w=$TW_WIDTH \
		'BEGIN { exit !((u + l) % w >= 1) }'; do
		sleep 0.1
	done
}
tw_count()	# PROTO: TIME_WAIT entries in $NS
{
	local f=/proc/net/tcp
	[ "$1" = XTCP ] && f=/proc/net/xtcp
	in_ns awk 'NR > 1 && $4 == "06"' $f | wc -l
}
tw_keys() { echo "tw_made_$1 tw_left_$1 tw_stall_us_$1 tw_p99_us_$1"; }
tw_one()	# PROTO
{
	local proto=$1 ks made now probe rr rc tw_srv probe_srv t0 out
	note "$tw_n TIME_WAIT entries over $proto"
	ks=$(tw_keys $proto)
	fresh_ns tw-$proto
	in_ns sysctl -qw net.xtcp.msl_ms=$((TW_LEN * 500))
	in_ns sysctl -qw net.xtcp.tw_bucket_ms=$((TW_WIDTH * 1000))
	# A new namespace caps TCP at half its hash table (8192 here).
	in_ns sysctl -qw net.ipv4.tcp_max_tw_buckets=262144
	if ! server $proto 7002; then
		error $ks -- "tw_stall over $proto: server did not start"
		return
	fi
	tw_srv=$spid
	[ $proto = XTCP ] && wait_boundary
	t0=$(uptime_s)
	out=$(in_ns timeout -k 10 $tmo "$tool" -s $proto -c 127.0.0.1 \
		-p 7002 -m crr -n "$tw_n")
	rc=$?
	if [ $rc != 0 ]; then
		error $ks -- "tw_stall over $proto: making $tw_n connections: exit $rc, output '$out'"
		stop_servers $tw_srv
		return
	fi
	made=$(tw_count $proto)
	if [ $proto = XTCP ]; then
		# Until the boundary of the last entry's bucket, and a
		# few seconds more. That is the first entry's bucket
		# too, unless making them took longer than its width.
		now=$(uptime_s)
		probe=$(awk -v now="$now" -v l=$TW_LEN -v w=$TW_WIDTH \
			'BEGIN { b = int((now + l) / w + 1) * w;
			printf "%d", b - now + 5 }')
		awk -v t0="$t0" -v now="$now" -v w=$TW_WIDTH \
			'BEGIN { exit !(now - t0 > w - 1) }' &&
			note "making them took $(awk -v a="$t0" -v b="$now" \
			'BEGIN { printf "%d", b - a }') s: more than one bucket"
	else
		probe=70	# TCP_TIMEWAIT_LEN is 60 s
	fi
	# The ping-pong runs on a connection of the other port.
	if ! server $proto 7003; then
		error $ks -- "tw_stall over $proto: probe server did not start"
		stop_servers $tw_srv
		return
	fi
	probe_srv=$spid
	note "made $made; ping-pong for $probe s while they expire"
	rr=$(in_ns timeout -k 10 $((probe + tmo)) "$tool" -s $proto \
		-c 127.0.0.1 -p 7003 -m rr -t $probe)
	rc=$?
	R[tw_made_$proto]=$made
	R[tw_left_$proto]=$(tw_count $proto)
	R[tw_stall_us_$proto]=$(echo "$rr" | awk '$1 == "rr" { print $5 }')
	R[tw_p99_us_$proto]=$(echo "$rr" | awk '$1 == "rr" { print $4 }')
	if [ $rc != 0 ] || ! is_num "${R[tw_stall_us_$proto]}" ||
	   ! is_num "${R[tw_p99_us_$proto]}"; then
		error tw_stall_us_$proto tw_p99_us_$proto -- \
			"tw_stall over $proto: ping-pong: exit $rc, output '$rr'"
	fi
	stop_servers $tw_srv $probe_srv
}

# Two namespaces joined by a veth pair: $NS (192.0.2.1, the sender) and
# $NS_B (192.0.2.2, the receiver).
VETH_A=192.0.2.1
VETH_B=192.0.2.2
veth_pair()	# PHASE
{
	fresh_ns $1-a
	NS_B=xtcp-bench-$1-b
	ns_new $NS_B
	ip link add bench-a netns $NS type veth peer name bench-b netns $NS_B &&
	ip -n $NS addr add $VETH_A/24 dev bench-a &&
	ip -n $NS_B addr add $VETH_B/24 dev bench-b &&
	ip -n $NS link set bench-a up &&
	ip -n $NS_B link set bench-b up
}

# bulk KEY PROTO SERVER_NS ADDR BYTES: one source -> sink transfer, the
# client in $NS; sets R[KEY_MBps_PROTO] and R[KEY_user_pct_PROTO].
bulk()
{
	local key=$1 proto=$2 sns=$3 addr=$4 bytes=$5 out rc spid srv
	local mk=${key}_MBps_$proto uk=${key}_user_pct_$proto
	local what="$key over $proto" sf=/tmp/bench-sink.$key.$proto
	note "$what: $bytes bytes"
	ip netns exec "$sns" timeout -k 10 $((tmo + 30)) "$tool" -s "$proto" -l \
		-a "$addr" -p 7010 -m sink -N 1 > "$sf" 2>&1 &
	spid=$!
	if ! wait_listening $spid "$sf"; then
		error $mk $uk -- "$what: server did not start"
		stop_servers $spid
		return 1
	fi
	# Timed inside the namespace, so that "ip netns exec" is not counted.
	out=$(in_ns bash -c 'TIMEFORMAT="time %3R %3U %3S"
		{ time timeout -k 10 "$@" 2>&3; echo "rc $?"; } 2>&1' _ \
		"$tmo" "$tool" -s "$proto" -c "$addr" -p 7010 -m source \
		-n "$bytes" 3>&2)
	# A client that failed leaves the server waiting: end it.
	echo "$out" | grep -qx 'rc 0' || kill $spid 2>/dev/null
	wait $spid
	rc=$?
	srv=$(grep '^rx ' "$sf")
	R[$mk]=$(echo "$out" | awk -v b="$bytes" -v rc="$rc" -v srv="$srv" '
		$1 == "tx" { tx = $0; n = $2 } $1 == "rc" { crc = $2 }
		$1 == "time" { t = $2 }
		END { sub(/^tx/, "rx", tx)
		      if (crc == 0 && rc == 0 && n == b && tx == srv && t > 0)
			printf "%.2f", b / t / 1e6 }')
	R[$uk]=$(echo "$out" | awk '$1 == "time" && $2 > 0 {
		printf "%.0f", 100 * $3 / $2 }')
	if ! is_num "${R[$mk]}"; then
		error $mk $uk -- "$what: failed: client '$(echo $out)', server exit $rc '$srv'"
		return 1
	fi
}

# median VALUE...: the middle one (of an even count, the lower middle)
median()
{
	printf '%s\n' "$@" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

bulk_one()
{
	local key=$1 proto=$2
	if [ $key = bulk_lo ]; then
		fresh_ns bulk-lo-$proto
		bulk bulk_lo $proto $NS 127.0.0.1 "$bulk_bytes"
		return
	fi
	if ! veth_pair bulk-veth-$proto; then
		error bulk_veth_MBps_$proto bulk_veth_user_pct_$proto -- \
			"bulk_veth over $proto: no veth pair"
		return 1
	fi
	bulk bulk_veth $proto $NS_B $VETH_B "$bulk_bytes"
}


seeded=
netem_one()	# PROTO
{
	local proto=$1 ks netem sent drops
	ks="bulk_netem_MBps_$proto bulk_netem_user_pct_$proto"
	ks="$ks bulk_netem_sent_$proto bulk_netem_drops_$proto"
	if ! veth_pair bulk-netem-$proto; then
		error $ks -- "bulk_netem over $proto: no veth pair"
		return
	fi
	# netem drops whole GSO packets, and TCP builds them even
	# with GSO off on the device: one segment per packet.
	ip -n $NS link set bench-a gso_max_segs 1 &&
	ip -n $NS -d link show bench-a | grep -qw 'gso_max_segs 1' ||
		note "could not set gso_max_segs 1: netem may drop several segments at once"
	netem="delay 10ms loss 1%"
	if [ "$seeded" != 0 ] && tc -n $NS qdisc add dev bench-a root \
		netem $netem seed "$netem_seed" 2> /dev/null; then
		# A kernel without seeds ignores the attribute.
		if tc -n $NS qdisc show dev bench-a | grep -qw seed; then
			seeded=1
		else
			note "netem ignored the seed: the loss pattern is random"
			seeded=0
		fi
	elif tc -n $NS qdisc add dev bench-a root netem $netem; then
		[ "$seeded" = 0 ] || note "netem has no seed here: the loss pattern is random"
		seeded=0
	else
		error $ks -- "bulk_netem over $proto: tc qdisc add netem failed"
		return
	fi
	if ! bulk bulk_netem $proto $NS_B $VETH_B "$netem_bytes"; then
		R[bulk_netem_sent_$proto]=
		R[bulk_netem_drops_$proto]=
		return
	fi
	# " Sent BYTES bytes PKTS pkt (dropped DROPS, overlimits ...)"
	read -r sent drops <<< "$(tc -n $NS -s qdisc show dev bench-a |
		sed -n 's/.* bytes \([0-9]*\) pkt (dropped \([0-9]*\),.*/\1 \2/p' |
		head -n 1)"
	if is_num "${sent:-}" && is_num "${drops:-}"; then
		R[bulk_netem_sent_$proto]=$sent
		R[bulk_netem_drops_$proto]=$drops
	else
		error bulk_netem_sent_$proto bulk_netem_drops_$proto -- \
			"bulk_netem over $proto: no netem packet counts"
	fi
}

rr_one()	# PROTO
{
	local proto=$1 ks="rr_p50_us_$1 rr_p99_us_$1 rr_max_us_$1" out rc
	local w n p50 p99 max
	note "rr over $proto: $rr_n round trips"
	fresh_ns rr-$proto
	if ! server $proto 7020; then
		error $ks -- "rr over $proto: server did not start"
		return
	fi
	out=$(in_ns timeout -k 10 $tmo "$tool" -s $proto -c 127.0.0.1 \
		-p 7020 -m rr -n "$rr_n")
	rc=$?
	read -r w n p50 p99 max <<< "$(echo "$out" | grep '^rr ')"
	if [ $rc != 0 ] || [ "${n:-}" != "$rr_n" ] || ! is_num "${p50:-}" ||
	   ! is_num "${p99:-}" || ! is_num "${max:-}"; then
		error $ks -- "rr over $proto: exit $rc, output '$out'"
	else
		R[rr_p50_us_$proto]=$p50
		R[rr_p99_us_$proto]=$p99
		R[rr_max_us_$proto]=$max
	fi
	stop_servers $spid
}

# rounds N FUNC KEY...: FUNC PROTO N times for each protocol, taking turns
# (XTCP, TCP, XTCP, ...); FUNC sets R[KEY_PROTO] for each KEY. Then
# R[KEY_PROTO] is the median of the rounds that measured it, and
# R[KEY_min_PROTO] and R[KEY_max_PROTO] the extremes.
rounds()
{
	# Names of their own: FUNC's variables are in scope here.
	local _n=$1 _fn=$2 _r _p _k _kk
	shift 2
	declare -A _vals=()
	for ((_r = 1; _r <= _n; _r++)); do
		for _p in XTCP TCP; do
			for _k; do
				unset "R[${_k}_$_p]"
			done
			$_fn $_p
			for _k; do
				_kk=${_k}_$_p
				is_num "${R[$_kk]:-}" && _vals[$_kk]+=" ${R[$_kk]}"
			done
		done
	done
	for _p in XTCP TCP; do
		for _k; do
			_kk=${_k}_$_p
			# shellcheck disable=SC2086
			R[$_kk]=$(median ${_vals[$_kk]:-})
			# shellcheck disable=SC2086
			R[${_k}_min_$_p]=$(printf '%s\n' ${_vals[$_kk]:-} | sort -g | head -n 1)
			# shellcheck disable=SC2086
			R[${_k}_max_$_p]=$(printf '%s\n' ${_vals[$_kk]:-} | sort -g | tail -n 1)
		done
	done
}

want crr && rounds "$rounds_n" crr_one crr
bulk_lo_one() { bulk_one bulk_lo "$1"; }
bulk_veth_one() { bulk_one bulk_veth "$1"; }
want bulk_lo && rounds "$bulk_rounds" bulk_lo_one bulk_lo_MBps bulk_lo_user_pct
want bulk_veth && rounds "$bulk_rounds" bulk_veth_one bulk_veth_MBps bulk_veth_user_pct
want bulk_netem && rounds "$rounds_n" netem_one bulk_netem_MBps \
	bulk_netem_user_pct bulk_netem_sent bulk_netem_drops
want tw_stall && rounds "$rounds_n" tw_one tw_made tw_left tw_stall_us tw_p99_us
want rr && rounds "$rounds_n" rr_one rr_p50_us rr_p99_us rr_max_us

# SYN flood: the server in $NS_B (192.0.2.2), the flooder and the client
# in $NS. The server's SYN-ACKs to the spoofed sources go to $NS, which
# drops them (it forwards nothing).
SYN_PORT=7030
syn_cookies=1
halfopen()	# PROTO: SYN_RECV entries in $NS_B
{
	local f=/proc/net/tcp
	[ "$1" = XTCP ] && f=/proc/net/xtcp
	ip netns exec $NS_B awk 'NR > 1 && $4 == "03"' $f | wc -l
}
synflood()	# PROTO
{
	local proto=$1 p=xtcp k=synflood${syn_cookies} out fl peak=0 h
	local cookies=SyncookiesSent c0 c1 srv sf=/tmp/bench-syn.$1
	local w ok failed p50 p99 max sent rate
	local ks="${k}_rate_$proto ${k}_ok_pct_$proto ${k}_p50_us_$proto ${k}_p99_us_$proto ${k}_halfopen_$proto"
	[ $proto = TCP ] && p=tcp cookies=TcpExt:SyncookiesSent
	if ! veth_pair syn-$proto; then
		error $ks -- "synflood over $proto: no veth pair"
		return
	fi
	ip -n $NS_B route add default via $VETH_A
	ip netns exec $NS_B sysctl -qw net.xtcp.syncookies=$syn_cookies \
		net.ipv4.tcp_syncookies=$syn_cookies \
		net.xtcp.max_syn_backlog=1024 net.ipv4.tcp_max_syn_backlog=1024
	ip netns exec $NS_B "$tool" -s $proto -l -a $VETH_B -p $SYN_PORT \
		-m rr -N 0 -b 128 > $sf 2>&1 &
	srv=$!
	if ! wait_listening $srv $sf; then
		error $ks -- "synflood over $proto: server did not start"
		return
	fi
	c0=$(ns_counter $NS_B $cookies)
	"$repo/build/selftests/xtcp_flood" -e $NS -p $p -m syn \
		-d $VETH_B:$SYN_PORT -n 1000000000 -t "$syn_secs" > $sf.flood 2>&1 &
	fl=$!
	in_ns timeout -k 10 $((syn_secs + 30)) "$tool" -s $proto -c $VETH_B \
		-p $SYN_PORT -m conn -t "$syn_secs" > $sf.conn 2>&1 &
	out=$!
	while kill -0 $fl 2>/dev/null; do
		h=$(halfopen $proto)
		[ "$h" -gt $peak ] && peak=$h
		sleep 0.5
	done
	wait $fl
	wait $out
	c1=$(ns_counter $NS_B $cookies)
	stop_servers $srv
	read -r _ sent _ rate < $sf.flood
	read -r w ok failed p50 p99 max < $sf.conn
	if [ "$w" != conn ] || ! is_num "${rate:-}"; then
		error $ks -- "synflood over $proto: flood '$(cat $sf.flood)', client '$(cat $sf.conn)'"
		return
	fi
	R[${k}_rate_$proto]=$rate
	R[${k}_ok_pct_$proto]=$(awk -v o="$ok" -v f="$failed" 'BEGIN { printf "%.1f", 100 * o / (o + f) }')
	R[${k}_p50_us_$proto]=$p50
	R[${k}_p99_us_$proto]=$p99
	R[${k}_halfopen_$proto]=$peak
	R[${k}_cookies_$proto]=$((c1 - c0))
	note "synflood $syn_cookies over $proto: $sent SYNs ($rate/s), $ok connections, $failed failed, p50 $p50 us, p99 $p99 us, half-open at most $peak, cookies sent $((c1 - c0))"
}
# ns_counter NS NAME: an xtcp counter, or "Group:Name" of /proc/net/netstat
ns_counter()
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
if want synflood; then
	for syn_cookies in 1 2; do
		rounds "$syn_rounds" synflood synflood${syn_cookies}_rate \
			synflood${syn_cookies}_ok_pct synflood${syn_cookies}_p50_us \
			synflood${syn_cookies}_p99_us synflood${syn_cookies}_halfopen \
			synflood${syn_cookies}_cookies
	done
	R[synflood_halfopen_bytes_XTCP]=$(slab_size XTCP)
	R[synflood_halfopen_bytes_TCP]=$(slab_size request_sock_TCP)
fi
# An established transfer under attack: the client (sender) in $NS, the
# server (receiver) in $NS_B.
INJ_PORT=7040
flood=$repo/build/selftests/xtcp_flood
# client_port PROTO: the client's port of the connection to $INJ_PORT, as
# the server's namespace sees it (empty while there is none)
client_port()
{
	local f=/proc/net/tcp hex
	[ "$1" = XTCP ] && f=/proc/net/xtcp
	hex=$(ip netns exec $NS_B awk -v p="$(printf ':%04X' $INJ_PORT)" '
		NR > 1 && $4 == "01" && substr($2, 9) == p {
			print substr($3, 10); exit }' $f)
	[ -n "$hex" ] && echo $((16#$hex))
}
# inject_start PROTO BYTES: the sink server and the source client; sets
# srv, cli, t0 and cport (empty if the connection was never seen)
inject_start()
{
	local sf=/tmp/bench-inj.$1 deadline=$((SECONDS + 30))
	cport=
	ip netns exec $NS_B timeout -k 10 $tmo "$tool" -s $1 -l -a $VETH_B \
		-p $INJ_PORT -m sink -N 1 > $sf.srv 2>&1 &
	srv=$!
	wait_listening $srv $sf.srv || return 1
	t0=$EPOCHREALTIME
	in_ns timeout -k 10 $tmo "$tool" -s $1 -c $VETH_B -p $INJ_PORT \
		-m source -n $2 > $sf.cli 2>&1 &
	cli=$!
	until cport=$(client_port $1) && [ -n "$cport" ]; do
		kill -0 $cli 2>/dev/null && [ $SECONDS -lt $deadline ] || return 1
		sleep 0.01
	done
}
# inject_end PROTO: wait for both ends; 0 if the server received exactly
# what the client sent (bytes and hash)
inject_end()
{
	local sf=/tmp/bench-inj.$1 rc src tx rx
	wait $cli
	rc=$?
	t1=$EPOCHREALTIME
	[ $rc = 0 ] || kill $srv 2>/dev/null
	wait $srv
	src=$?
	tx=$(sed -n 's/^tx //p' $sf.cli)
	rx=$(sed -n 's/^rx //p' $sf.srv)
	[ $rc = 0 ] && [ $src = 0 ] && [ -n "$tx" ] && [ "$tx" = "$rx" ]
}
inject_mode=ack
inject()	# PROTO
{
	local proto=$1 p=xtcp m=$inject_mode fm an ad as fl sent rate
	local k=inject_$inject_mode sf=/tmp/bench-inj.$1
	local ks="${k}_MBps_$proto ${k}_rate_$proto"
	[ $proto = TCP ] && p=tcp
	if ! veth_pair inj-$proto; then
		error $ks -- "inject $m over $proto: no veth pair"
		return
	fi
	if ! inject_start $proto "$inject_bytes"; then
		error $ks -- "inject $m over $proto: no connection to attack: $(cat $sf.srv $sf.cli 2>/dev/null | tr '\n' ' ')"
		stop_servers $srv $cli
		return
	fi
	case $m in
	ack) fm=ack an=$NS ad=$VETH_A:$cport as=$VETH_B:$INJ_PORT ;;
	icmp) fm=icmp an=$NS ad=$VETH_A:$cport as=$VETH_B:$INJ_PORT ;;
	oow) fm=data an=$NS_B ad=$VETH_B:$INJ_PORT as=$VETH_A:$cport ;;
	esac
	"$flood" -e $an -p $p -m $fm -d $ad -s $as -n 4000000000 > $sf.flood 2>&1 &
	fl=$!
	inject_end $proto
	local ok=$?
	kill $fl 2>/dev/null
	wait $fl
	read -r _ sent _ rate < $sf.flood
	if [ $ok != 0 ] || ! is_num "${rate:-}"; then
		error $ks -- "inject $m over $proto: client '$(cat $sf.cli | tr '\n' ' ')', server '$(cat $sf.srv | tr '\n' ' ')', flood '$(cat $sf.flood)'"
		return
	fi
	R[${k}_MBps_$proto]=$(awk -v b="$inject_bytes" -v a="$t0" -v z="$t1" \
		'BEGIN { printf "%.2f", b / (z - a) / 1e6 }')
	R[${k}_rate_$proto]=$rate
	note "inject $m over $proto: ${R[${k}_MBps_$proto]} MB/s, $sent segments at $rate/s"
}
if want inject; then
	for inject_mode in ack oow icmp; do
		rounds "$inject_rounds" inject inject_${inject_mode}_MBps \
			inject_${inject_mode}_rate
	done
fi

# Blind injection at both ends of a transfer: 0 resets, 0 bytes injected.
blind()	# PROTO
{
	local proto=$1 p=xtcp sf=/tmp/bench-inj.$1 f1 f2 ok n1 n2 rx tx
	local rst=EstabResets ch=ChallengeAck syn=SynChallenge r0 r1 c0 c1 s0 s1
	local ks="blind_sent_$proto blind_resets_$proto blind_injected_$proto blind_challenge_$proto blind_synchallenge_$proto"
	[ $proto = TCP ] && p=tcp rst=Tcp:EstabResets ch=TcpExt:TCPChallengeACK \
		syn=TcpExt:TCPSYNChallenge
	if ! veth_pair blind-$proto; then
		error $ks -- "blind over $proto: no veth pair"
		return
	fi
	sum2() { echo $(($(ns_counter $NS "$1") + $(ns_counter $NS_B "$1"))); }
	r0=$(sum2 $rst) c0=$(sum2 $ch) s0=$(sum2 $syn)
	ip netns exec $NS tc qdisc replace dev bench-a root netem rate 20mbit
	if ! inject_start $proto $((64 * 1048576)); then
		error $ks -- "blind over $proto: no connection to attack"
		stop_servers $srv $cli
		return
	fi
	"$flood" -e $NS_B -p $p -m blind -d $VETH_B:$INJ_PORT -s $VETH_A:$cport \
		-n "$blind_n" > $sf.f1 2>&1 &
	f1=$!
	"$flood" -e $NS -p $p -m blind -d $VETH_A:$cport -s $VETH_B:$INJ_PORT \
		-n "$blind_n" > $sf.f2 2>&1 &
	f2=$!
	wait $f1 $f2
	kill -0 $cli 2>/dev/null ||
		note "blind over $proto: the transfer ended before the attack did"
	ip netns exec $NS tc qdisc del dev bench-a root
	inject_end $proto
	ok=$?
	r1=$(sum2 $rst) c1=$(sum2 $ch) s1=$(sum2 $syn)
	read -r _ n1 _ < $sf.f1
	read -r _ n2 _ < $sf.f2
	tx=$(sed -n 's/^tx \([0-9]*\) .*/\1/p' $sf.cli)
	rx=$(sed -n 's/^rx \([0-9]*\) .*/\1/p' $sf.srv)
	if ! is_num "${n1:-}" || ! is_num "${n2:-}" || ! is_num "${rx:-}"; then
		error $ks -- "blind over $proto: client '$(cat $sf.cli | tr '\n' ' ')', server '$(cat $sf.srv | tr '\n' ' ')', floods '$(cat $sf.f1 $sf.f2 | tr '\n' ' ')'"
		return
	fi
	R[blind_sent_$proto]=$((n1 + n2))
	R[blind_resets_$proto]=$((r1 - r0))
	# What the receiver got beyond what was sent; a reset shows as less.
	R[blind_injected_$proto]=$((rx > ${tx:-0} ? rx - ${tx:-0} : 0))
	R[blind_challenge_$proto]=$((c1 - c0))
	R[blind_synchallenge_$proto]=$((s1 - s0))
	[ $ok = 0 ] || error blind_intact_$proto -- \
		"blind over $proto: the transfer did not arrive intact: client '$(cat $sf.cli | tr '\n' ' ')', server '$(cat $sf.srv | tr '\n' ' ')'"
	note "blind over $proto: $((n1 + n2)) segments, resets $((r1 - r0)), challenge ACKs $((c1 - c0)), SYN challenges $((s1 - s0)), intact: $([ $ok = 0 ] && echo yes || echo NO)"
}
if want blind; then
	for proto in XTCP TCP; do
		blind $proto
	done
fi

# Many connections: the server in $NS_B, the client in $NS.
SCALE_PORT=7050
scale_tool=$repo/build/selftests/xtcp_scale
mem_avail() { awk '$1 == "MemAvailable:" { printf "%.0f\n", $2 * 1024 }' /proc/meminfo; }
scale_crr_rate()	# PROTO: crr to the scale server; prints the rate
{
	in_ns timeout -k 10 $((scale_crr + 60)) "$tool" -s $1 -c $VETH_B \
		-p $SCALE_PORT -m crr -t "$scale_crr" | awk '$1 == "crr" { print $3 }'
}
scale_server()	# PROTO FILE: xtcp_scale's server in $NS_B, as $srv; output in FILE.srv
{
	"$scale_tool" -e $NS_B -s $1 -l -a $VETH_B -p $SCALE_PORT > $2.srv 2>&1 &
	srv=$!
	wait_listening $srv $2.srv
}
scale()	# PROTO
{
	local proto=$1 sf=/tmp/bench-scale.$1 srv cli m0 m1 crr0 crr1 a w n t rate
	local ks="scale_rate_$proto scale_bytes_$proto scale_crr0_$proto scale_crr1_$proto"
	if ! veth_pair scale-$proto; then
		error $ks -- "scale over $proto: no veth pair"
		return
	fi
	# Addresses of their own, 25,000 connections each at 100,000.
	for a in 192.0.2.3 192.0.2.4 192.0.2.5 192.0.2.6; do
		ip -n $NS addr add $a/24 dev bench-a
	done
	in_ns sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
	scale_server $proto $sf || { error $ks -- "scale over $proto: server did not start"; return; }
	crr0=$(scale_crr_rate $proto)
	m0=$(mem_avail)
	mkfifo $sf.hold 2>/dev/null
	"$scale_tool" -e $NS -s $proto -c $VETH_B -p $SCALE_PORT -n "$scale_n" \
		-B 192.0.2.3,192.0.2.4,192.0.2.5,192.0.2.6 < $sf.hold > $sf.cli 2>&1 &
	cli=$!
	exec {hold}> $sf.hold
	local deadline=$((SECONDS + tmo))
	until grep -q '^established\|^error' $sf.cli; do
		if ! kill -0 $cli 2>/dev/null || [ $SECONDS -ge $deadline ]; then
			break
		fi
		sleep 0.2
	done
	read -r w n t rate < $sf.cli
	if [ "$w" != established ]; then
		exec {hold}>&-
		stop_servers $cli $srv
		error $ks -- "scale over $proto: $(tr '\n' ' ' < $sf.cli)"
		return
	fi
	m1=$(mem_avail)
	crr1=$(scale_crr_rate $proto)
	exec {hold}>&-
	wait $cli
	stop_servers $srv
	R[scale_rate_$proto]=$rate
	R[scale_bytes_$proto]=$(((m0 - m1) / scale_n))
	R[scale_crr0_$proto]=$crr0
	R[scale_crr1_$proto]=$crr1
	is_num "$crr0" && is_num "$crr1" ||
		error scale_crr0_$proto scale_crr1_$proto -- "scale over $proto: crr '$crr0' '$crr1'"
	note "scale over $proto: $scale_n connections in $t s ($rate/s), $(((m0 - m1) / scale_n)) bytes each, crr $crr0/s before, $crr1/s with them"
}
if want scale; then
	rounds "$scale_rounds" scale scale_rate scale_bytes scale_crr0 scale_crr1
fi

# Many TIME_WAIT entries at once: the client (whose entries they are) in
# $NS, the server in $NS_B.
tw_held()	# PROTO: TIME_WAIT entries in $NS (sockstat)
{
	if [ "$1" = XTCP ]; then
		in_ns awk '{ for (i = 1; i < NF; i++) if ($i == "tw") print $(i + 1) }' \
			/proc/net/xtcp_sockstat
	else
		in_ns awk '$1 == "TCP:" { for (i = 1; i < NF; i++)
			if ($i == "tw") print $(i + 1) }' /proc/net/sockstat
	fi
}
tw_mass()	# PROTO
{
	local proto=$1 sf=/tmp/bench-twm.$1 srv b nb a addrs m0 m1 t0 held crr
	local ks="twm_held_$proto twm_bytes_$proto twm_slab_$proto twm_crr_$proto twm_secs_$proto"
	local w n t rate
	if ! veth_pair twm-$proto; then
		error $ks -- "tw_mass over $proto: no veth pair"
		return
	fi
	in_ns sysctl -qw net.ipv4.ip_local_port_range="1024 65535" \
		net.xtcp.msl_ms=300000 net.xtcp.tw_bucket_ms=900000 \
		net.xtcp.max_tw_buckets=2097152 net.ipv4.tcp_max_tw_buckets=16777216
	scale_server $proto $sf || { error $ks -- "tw_mass over $proto: server did not start"; return; }
	local cache=tw_sock_TCP s0 s1
	[ $proto = XTCP ] && cache=xtcp_tw
	s0=$(slab_pages_bytes $cache)
	m0=$(mem_avail)
	t0=$SECONDS
	nb=$(((twm_n + 99999) / 100000))
	for ((b = 0; b < nb; b++)); do
		addrs=
		for a in 1 2 3 4; do
			a=10.$((b / 250)).$((b % 250)).$a
			ip -n $NS addr add $a/32 dev bench-a
			ip -n $NS_B route add $a/32 dev bench-b 2>/dev/null
			addrs+=${addrs:+,}$a
		done
		# stdin at EOF at once: open them all, then close them all.
		if ! "$scale_tool" -e $NS -s $proto -c $VETH_B -p $SCALE_PORT \
			-n $((twm_n / nb)) -B $addrs < /dev/null > $sf.cli 2>&1; then
			error $ks -- "tw_mass over $proto: batch $b: $(tr '\n' ' ' < $sf.cli)"
			stop_servers $srv
			return
		fi
	done
	R[twm_secs_$proto]=$((SECONDS - t0))
	# The closes finish in the background: until the count stops growing.
	local last=-1 deadline=$((SECONDS + 120))
	held=$(tw_held $proto)
	while [ "$held" != "$last" ] && [ $SECONDS -lt $deadline ]; do
		last=$held
		sleep 2
		held=$(tw_held $proto)
	done
	m1=$(mem_avail)
	s1=$(slab_pages_bytes $cache)
	crr=$(scale_crr_rate $proto)
	stop_servers $srv
	R[twm_held_$proto]=$held
	is_num "$held" && [ "$held" -gt 0 ] &&
		R[twm_bytes_$proto]=$(((m0 - m1) / held))
	is_num "$held" && [ "$held" -gt 0 ] && is_num "$s0" && is_num "$s1" &&
		R[twm_slab_$proto]=$(((s1 - s0) / held))
	R[twm_crr_$proto]=$crr
	note "tw_mass over $proto: $held TIME_WAIT entries held after $((SECONDS - t0)) s, $(((m0 - m1) / 1048576)) MiB, crr $crr/s"
}
if want tw_mass; then
	for proto in XTCP TCP; do
		tw_mass $proto
	done
fi

ns_clear

# Programs people measure TCP with, unmodified: xtcp-run puts them on xtcp.
xtcp_run=$repo/scripts/xtcp-run
xtcp_stat=$repo/scripts/xtcp-stat
app_tmp=/tmp/bench-apps
app_listening()	# PROTO PORT: a listener on PORT in $NS_B
{
	local t=
	[ "$1" = TCP ] && t=--tcp
	"$xtcp_stat" -N "$NS_B" $t -lH | grep -q ":$2 "
}
app_server()	# PROTO PORT CMD...: start it in $NS_B, as $srv
{
	local proto=$1 port=$2 run= deadline=$((SECONDS + 60))
	shift 2
	[ "$proto" = XTCP ] && run=$xtcp_run
	ip netns exec "$NS_B" $run "$@" > $app_tmp.srv 2>&1 &
	srv=$!
	until app_listening "$proto" "$port"; do
		if ! kill -0 $srv 2>/dev/null || [ $SECONDS -ge $deadline ]; then
			note "$1 did not listen: $(tail -n 2 $app_tmp.srv)"
			stop_servers $srv
			return 1
		fi
		sleep 0.1
	done
}
app_client()	# PROTO CMD...: run it in $NS
{
	local run=
	[ "$1" = XTCP ] && run=$xtcp_run
	shift
	in_ns timeout -k 10 $tmo $run "$@"
}
apps_one()	# PROTO
{
	local proto=$1 out v p50 p99 srv
	local ks="app_iperf_Mbps_$1 app_wrk_rps_$1 app_sockperf_p50_us_$1 app_sockperf_p99_us_$1"
	if ! veth_pair apps-$proto; then
		error $ks -- "apps over $proto: no veth pair"
		return
	fi
	note "apps over $proto: iperf3, nginx + wrk, sockperf, $app_secs s each"
	if app_server $proto 5201 iperf3 -s -1 -B $VETH_B -p 5201; then
		out=$(app_client $proto iperf3 -c $VETH_B -p 5201 -t "$app_secs" -J 2>&1)
		v=$(echo "$out" | python3 -c 'import json, sys
print("%.0f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))' 2>/dev/null)
		stop_servers $srv
		is_num "$v" && R[app_iperf_Mbps_$proto]=$v ||
			error app_iperf_Mbps_$proto -- "iperf3 over $proto: $(echo "$out" | grep -m1 error)"
	else
		error app_iperf_Mbps_$proto -- "iperf3 over $proto: no server"
	fi
	if app_server $proto 8080 nginx -e $app_tmp/error.log -p $app_tmp \
		-c $app_tmp/nginx.conf; then
		out=$(app_client $proto wrk -t 2 -c 20 -d "${app_secs}s" http://$VETH_B:8080/small 2>&1)
		v=$(echo "$out" | awk '$1 == "Requests/sec:" { printf "%.0f", $2 }')
		stop_servers $srv
		if is_num "$v" && ! echo "$out" | grep -q "Socket errors\|Non-2xx"; then
			R[app_wrk_rps_$proto]=$v
		else
			error app_wrk_rps_$proto -- "wrk over $proto: $(echo "$out" | tr '\n' ' ' | cut -c1-200)"
		fi
	else
		error app_wrk_rps_$proto -- "nginx over $proto: no server"
	fi
	if app_server $proto 11111 sockperf server --tcp -i $VETH_B -p 11111; then
		out=$(app_client $proto sockperf ping-pong --tcp -i $VETH_B -p 11111 -t "$app_secs" 2>&1)
		p50=$(echo "$out" | awk '/percentile 50.000 =/ { printf "%.1f", $NF }')
		p99=$(echo "$out" | awk '/percentile 99.000 =/ { printf "%.1f", $NF }')
		stop_servers $srv
		if is_num "$p50" && is_num "$p99"; then
			R[app_sockperf_p50_us_$proto]=$p50
			R[app_sockperf_p99_us_$proto]=$p99
		else
			error app_sockperf_p50_us_$proto app_sockperf_p99_us_$proto -- \
				"sockperf over $proto: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
		fi
	else
		error app_sockperf_p50_us_$proto app_sockperf_p99_us_$proto -- \
			"sockperf over $proto: no server"
	fi
}
apps_setup()
{
	local c
	for c in iperf3 nginx wrk sockperf; do
		command -v $c >/dev/null || { note "apps: $c is not installed"; return 1; }
	done
	rm -rf $app_tmp
	mkdir -p $app_tmp/www
	echo hello > $app_tmp/www/small
	cat > $app_tmp/nginx.conf <<-EOF
	user root;
	worker_processes 1;
	daemon off;
	pid $app_tmp/nginx.pid;
	error_log $app_tmp/error.log;
	events { worker_connections 512; }
	http {
		access_log off;
		sendfile on;
		tcp_nopush on;
		client_body_temp_path $app_tmp/body;
		proxy_temp_path $app_tmp/proxy;
		fastcgi_temp_path $app_tmp/fastcgi;
		uwsgi_temp_path $app_tmp/uwsgi;
		scgi_temp_path $app_tmp/scgi;
		server {
			listen $VETH_B:8080;
			root $app_tmp/www;
		}
	}
	EOF
}
if want apps; then
	if apps_setup; then
		rounds "$app_rounds" apps_one app_iperf_Mbps app_wrk_rps \
			app_sockperf_p50_us app_sockperf_p99_us
	else
		error app_iperf_Mbps_XTCP app_iperf_Mbps_TCP -- "apps: a program is missing"
	fi
fi

# The table: a row for each figure measured (or attempted).
has() { [ -n "${R[$1]+set}" ]; }
val() { if [ -n "${R[$1]:-}" ]; then echo "${R[$1]}"; else echo ERR; fi; }
ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0)
			printf "%.2f", a / b
		else
			print "-" }'
}
# row LABEL KEY [noratio]: KEY_XTCP and KEY_TCP side by side
row()
{
	local x=$2_XTCP t=$2_TCP r=
	has $x || has $t || return 0
	[ "${3:-}" = noratio ] || r=$(ratio "${R[$x]:-}" "${R[$t]:-}")
	printf '%-44s %12s %12s %8s\n' "$1" "$(val $x)" "$(val $t)" "$r"
}
# rowm LABEL KEY: the medians side by side, then min-max of each
rowm()
{
	row "$1" "$2" "${3:-}"
	has $2_min_XTCP || has $2_min_TCP || return 0
	printf '%-44s %12s %12s\n' "    (min-max)" \
		"${R[$2_min_XTCP]:-?}-${R[$2_max_XTCP]:-?}" \
		"${R[$2_min_TCP]:-?}-${R[$2_max_TCP]:-?}"
}
mib() { awk -v b="$1" 'BEGIN { printf "%g MiB", b / 1048576 }'; }
printf '\n%-44s %12s %12s %8s\n' workload xtcp tcp ratio
rowm "connections/s (connect, 1B req/resp, close)" crr
row "bytes per TIME_WAIT entry" tw_bytes
rowm "TIME_WAIT entries made" tw_made noratio
rowm "  still there after the probe" tw_left noratio
rowm "longest ping-pong during expiry (us)" tw_stall_us
rowm "p99 ping-pong during expiry (us)" tw_p99_us
rowm "bulk MB/s, loopback ($(mib "$bulk_bytes"))" bulk_lo_MBps
rowm "  sender's user CPU, % of wall time" bulk_lo_user_pct noratio
rowm "bulk MB/s, veth ($(mib "$bulk_bytes"))" bulk_veth_MBps
rowm "  sender's user CPU, % of wall time" bulk_veth_user_pct noratio
rowm "bulk MB/s, veth 10ms 1% loss ($(mib "$netem_bytes"))" bulk_netem_MBps
rowm "  sender's user CPU, % of wall time" bulk_netem_user_pct noratio
rowm "  packets netem let through" bulk_netem_sent noratio
rowm "  packets netem dropped" bulk_netem_drops noratio
rowm "1B req/resp p50 us, loopback ($rr_n)" rr_p50_us
rowm "1B req/resp p99 us, loopback" rr_p99_us
rowm "1B req/resp max us, loopback" rr_max_us
for c in 1 2; do
	rowm "SYN flood, syncookies $c: SYNs/s made" synflood${c}_rate
	rowm "  legitimate connections that made it, %" synflood${c}_ok_pct
	rowm "  their p50 us" synflood${c}_p50_us
	rowm "  their p99 us" synflood${c}_p99_us
	rowm "  most half-open connections seen" synflood${c}_halfopen
	rowm "  SYN cookies sent" synflood${c}_cookies
done
row "bytes per half-open connection (slab)" synflood_halfopen_bytes
rowm "bulk MB/s, veth, ACK flood at the sender" inject_ack_MBps
rowm "  ACKs/s made" inject_ack_rate
rowm "bulk MB/s, veth, out-of-window data flood" inject_oow_MBps
rowm "  segments/s made" inject_oow_rate
rowm "bulk MB/s, veth, ICMP error flood at the sender" inject_icmp_MBps
rowm "  ICMP errors/s made" inject_icmp_rate
rowm "$scale_n connections: set up per second" scale_rate
rowm "  bytes each (MemAvailable drop / count)" scale_bytes
rowm "  connections/s (crr) before" scale_crr0
rowm "  connections/s (crr) while they exist" scale_crr1
row "$twm_n TIME_WAIT entries: made in s" twm_secs
row "  held at the end" twm_held noratio
row "  bytes each (MemAvailable drop / held)" twm_bytes
row "  bytes each in their slab's pages" twm_slab
row "  connections/s (crr) while they exist" twm_crr
rowm "iperf3 Mbit/s, veth, one stream ($app_secs s)" app_iperf_Mbps
rowm "nginx + wrk requests/s, veth, 20 connections" app_wrk_rps
rowm "sockperf ping-pong p50 us, veth" app_sockperf_p50_us
rowm "sockperf ping-pong p99 us, veth" app_sockperf_p99_us
row "blind injection: segments sent (both ends)" blind_sent noratio
row "  connections reset (must be 0)" blind_resets noratio
row "  bytes injected (must be 0)" blind_injected noratio
row "  challenge ACKs sent" blind_challenge noratio
row "  SYNs answered with a challenge ACK" blind_synchallenge noratio
for e in "${ERRORS[@]}"; do
	echo "ERROR: $e"
done

echo "BENCH-JSON-BEGIN"
{
	echo "{"
	echo "  \"kernel\": \"$(uname -r)\","
	for k in $(echo "${!R[@]}" | tr ' ' '\n' | sort); do
		printf '  "%s": %s,\n' "$k" "${R[$k]:-null}"
	done
	printf '  "errors": ['
	sep=
	for e in "${ERRORS[@]}"; do
		printf '%s\n    "%s"' "$sep" "$(echo "$e" | tr -d '"\\' | tr -c '[:print:]' ' ')"
		sep=,
	done
	[ -n "$sep" ] && printf '\n  '
	echo "]"
	echo "}"
}
echo "BENCH-JSON-END"
[ ${#ERRORS[@]} = 0 ]
