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
# Workloads (names for BENCH_ONLY):
#  crr        connections per second over loopback: connect, 1-byte request,
#             1-byte response, close (BENCH_CRR_SECS seconds, default 10)
#  tw_bytes   bytes per TIME_WAIT entry: the slab object size of xtcp_tw and
#             of Linux's tw_sock_TCP
#  tw_stall   the longest 1-byte ping-pong round trip seen while BENCH_TW_N
#             (default 20000) TIME_WAIT entries expire; for xtcp all in one
#             bucket (tw_bucket_ms wider than the time it takes to make them)
#  bulk_lo    single-stream bulk throughput over loopback: the client sends
#             BENCH_BULK_BYTES (default 67108864) to a sink server, shuts
#             down and reads to EOF; MB/s = 10^6 bytes per second of the
#             client's wall time, connect to EOF. The server's byte count
#             and hash must match the client's.
#  bulk_veth  the same between two namespaces over a veth pair
#             (bulk_lo and bulk_veth run BENCH_BULK_ROUNDS times, default 5,
#             xtcp and TCP taking turns; the figures are the medians, since
#             one run under TCG swings by a third either way)
#  bulk_netem the same over the veth pair with netem "delay 10ms loss 1%"
#             on the sender's egress (gso_max_segs 1 there, so that netem
#             drops single segments), BENCH_NETEM_BYTES (default 16777216);
#             also the packets netem let through and those it dropped.
#             netem takes a fixed seed (seed BENCH_NETEM_SEED, default 1)
#             only if tc and the kernel support it (Linux >= 6.3);
#             otherwise the loss pattern is random.
#  rr         1-byte request/response latency over loopback: one connection,
#             BENCH_RR_N (default 20000) round trips; p50, p99 and max in us
#
# Environment (each may also be given as XTCP_BENCH_..., e.g.
# XTCP_BENCH_ONLY: the VM runner passes XTCP_* variables into the guest, so
# "XTCP_BENCH_ONLY='bulk_lo rr' make bench" selects workloads):
#  BENCH_ONLY          workloads to run, separated by spaces or commas
#                      (default: all; they always run in the order above)
#  BENCH_CRR_SECS, BENCH_TW_N, BENCH_BULK_BYTES, BENCH_BULK_ROUNDS,
#  BENCH_NETEM_BYTES, BENCH_NETEM_SEED, BENCH_RR_N   sizes, see above
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
tmo=$(opt TIMEOUT 300)
ALL="crr tw_bytes tw_stall bulk_lo bulk_veth bulk_netem rr"
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

if want crr; then
	for proto in XTCP TCP; do
		note "crr over $proto for $crr_secs s"
		fresh_ns crr-$proto
		k=crr_$proto
		if ! server $proto 7001; then
			error $k -- "crr over $proto: server did not start"
			continue
		fi
		out=$(in_ns timeout -k 10 $((crr_secs + tmo)) "$tool" -s $proto \
			-c 127.0.0.1 -p 7001 -m crr -t "$crr_secs")
		rc=$?
		R[$k]=$(echo "$out" | awk '$1 == "crr" { print $3 }')
		if [ $rc != 0 ] || ! is_num "${R[$k]}"; then
			error $k -- "crr over $proto: exit $rc, output '$out'"
		fi
		stop_servers $spid
	done
fi

slab_size()	# CACHE: object size, following SLUB's merged-cache links
{
	cat "/sys/kernel/slab/$1/object_size" 2>/dev/null
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

# TIME_WAIT mass expiry. xtcp: 2 * MSL = 30 s, buckets 90 s wide. A bucket
# expires at a multiple of its width in CLOCK_MONOTONIC (which /proc/uptime
# follows in a VM that never suspends), so start making entries just after
# a boundary: everything made in the next 90 s then lands in one bucket.
TW_LEN=30
TW_WIDTH=90
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
if want tw_stall; then
	for proto in XTCP TCP; do
		note "$tw_n TIME_WAIT entries over $proto"
		ks=$(tw_keys $proto)
		fresh_ns tw-$proto
		in_ns sysctl -qw net.xtcp.msl_ms=15000
		in_ns sysctl -qw net.xtcp.tw_bucket_ms=$((TW_WIDTH * 1000))
		# A new namespace caps TCP at half its hash table (8192 here).
		in_ns sysctl -qw net.ipv4.tcp_max_tw_buckets=262144
		if ! server $proto 7002; then
			error $ks -- "tw_stall over $proto: server did not start"
			continue
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
			continue
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
			continue
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
	done
fi

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

# bulk_rounds KEY: bulk_one KEY PROTO for both protocols, taking turns,
# bulk_rounds times; R[] gets the medians of the runs that worked (a
# failed run is an error of its own).
bulk_rounds()
{
	local key=$1 r proto mk uk
	declare -A mb=() cpu=()
	for ((r = 1; r <= bulk_rounds; r++)); do
		for proto in XTCP TCP; do
			mk=${key}_MBps_$proto uk=${key}_user_pct_$proto
			bulk_one $key $proto || continue
			mb[$proto]+=" ${R[$mk]}"
			cpu[$proto]+=" ${R[$uk]}"
		done
	done
	for proto in XTCP TCP; do
		mk=${key}_MBps_$proto uk=${key}_user_pct_$proto
		# shellcheck disable=SC2086
		R[$mk]=$(median ${mb[$proto]:-})
		# shellcheck disable=SC2086
		R[$uk]=$(median ${cpu[$proto]:-})
		note "$key over $proto: MB/s of the runs:${mb[$proto]:- none}"
	done
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

want bulk_lo && bulk_rounds bulk_lo
want bulk_veth && bulk_rounds bulk_veth

if want bulk_netem; then
	seeded=
	for proto in XTCP TCP; do
		ks="bulk_netem_MBps_$proto bulk_netem_user_pct_$proto"
		ks="$ks bulk_netem_sent_$proto bulk_netem_drops_$proto"
		if ! veth_pair bulk-netem-$proto; then
			error $ks -- "bulk_netem over $proto: no veth pair"
			continue
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
			continue
		fi
		if ! bulk bulk_netem $proto $NS_B $VETH_B "$netem_bytes"; then
			R[bulk_netem_sent_$proto]=
			R[bulk_netem_drops_$proto]=
			continue
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
	done
fi

if want rr; then
	for proto in XTCP TCP; do
		ks="rr_p50_us_$proto rr_p99_us_$proto rr_max_us_$proto"
		note "rr over $proto: $rr_n round trips"
		fresh_ns rr-$proto
		if ! server $proto 7020; then
			error $ks -- "rr over $proto: server did not start"
			continue
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
	done
fi
ns_clear

# The table: a row for each figure measured (or attempted).
has() { [ -n "${R[$1]+set}" ]; }
val() { if [ -n "${R[$1]}" ]; then echo "${R[$1]}"; else echo ERR; fi; }
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
mib() { awk -v b="$1" 'BEGIN { printf "%g MiB", b / 1048576 }'; }
printf '\n%-44s %12s %12s %8s\n' workload xtcp tcp ratio
row "connections/s (connect, 1B req/resp, close)" crr
row "bytes per TIME_WAIT entry" tw_bytes
row "TIME_WAIT entries made" tw_made noratio
row "  still there after the probe" tw_left noratio
row "longest ping-pong during expiry (us)" tw_stall_us
row "p99 ping-pong during expiry (us)" tw_p99_us
row "bulk MB/s, loopback ($(mib "$bulk_bytes"))" bulk_lo_MBps
row "  sender's user CPU, % of wall time" bulk_lo_user_pct noratio
row "bulk MB/s, veth ($(mib "$bulk_bytes"))" bulk_veth_MBps
row "  sender's user CPU, % of wall time" bulk_veth_user_pct noratio
row "bulk MB/s, veth 10ms 1% loss ($(mib "$netem_bytes"))" bulk_netem_MBps
row "  sender's user CPU, % of wall time" bulk_netem_user_pct noratio
row "  packets netem let through" bulk_netem_sent noratio
row "  packets netem dropped" bulk_netem_drops noratio
row "1B req/resp p50 us, loopback ($rr_n)" rr_p50_us
row "1B req/resp p99 us, loopback" rr_p99_us
row "1B req/resp max us, loopback" rr_max_us
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
