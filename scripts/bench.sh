#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The xtcp benchmark, run inside the test VM by "make bench": each workload
# over xtcp and over the kernel's TCP, with the same tool (xtcp_connect -s
# XTCP|TCP) and the same sizes, in the same run. Prints a table and, between
# BENCH-JSON markers, the figures as JSON (make bench saves them).
#
# Workloads:
#  crr      connections per second over loopback: connect, 1-byte request,
#           1-byte response, close (BENCH_CRR_SECS seconds, default 10)
#  tw_bytes bytes per TIME_WAIT entry: the slab object size of xtcp_tw and
#           of Linux's tw_sock_TCP
#  tw_stall the longest 1-byte ping-pong round trip seen while BENCH_TW_N
#           (default 20000) TIME_WAIT entries expire; for xtcp all in one
#           bucket (tw_bucket_ms wider than the time it takes to make them)
set -u
repo=${XTCP_REPO:-$(cd "$(dirname "$0")/.." && pwd)}
tool=$repo/build/selftests/xtcp_connect
crr_secs=${BENCH_CRR_SECS:-10}
tw_n=${BENCH_TW_N:-20000}
declare -A R

# Each phase runs in a namespace of its own, so that TIME_WAIT entries of
# one phase (and their expiry) do not disturb the next.
NS=
fresh_ns()
{
	[ -n "$NS" ] && ip netns del "$NS"
	NS=xtcp-bench-$1
	ip netns add "$NS"
	ip -n "$NS" link set lo up
	ip netns exec "$NS" sysctl -qw net.ipv4.tcp_tw_reuse=0
	ip netns exec "$NS" sysctl -qw net.xtcp.tw_reuse=0
}
in_ns() { ip netns exec "$NS" "$@"; }

server()	# PROTO PORT: an rr server on loopback, pid in $spid
{
	in_ns "$tool" -s "$1" -l -a 127.0.0.1 -p "$2" -m rr -N 0 -b 1024 \
		> /tmp/bench-srv.$1.$2 2>&1 &
	spid=$!
	until grep -q '^listening' /tmp/bench-srv.$1.$2; do sleep 0.05; done
}

note() { echo "bench: $*" >&2; }

for proto in XTCP TCP; do
	note "crr over $proto for $crr_secs s"
	fresh_ns crr-$proto
	server $proto 7001
	out=$(in_ns "$tool" -s $proto -c 127.0.0.1 -p 7001 -m crr -t "$crr_secs")
	R[crr_$proto]=$(echo "$out" | awk '{ print $3 }')
	kill $spid; wait $spid 2>/dev/null
done

slab_size()	# CACHE: object size, following SLUB's merged-cache links
{
	cat "/sys/kernel/slab/$1/object_size" 2>/dev/null
}
R[tw_bytes_XTCP]=$(slab_size xtcp_tw)
[ -n "${R[tw_bytes_XTCP]}" ] ||
	R[tw_bytes_XTCP]=$(dmesg | sed -n 's/.*TIME_WAIT entry \([0-9]*\) bytes.*/\1/p' | tail -n 1)
R[tw_bytes_TCP]=$(slab_size tw_sock_TCP)

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
for proto in XTCP TCP; do
	note "$tw_n TIME_WAIT entries over $proto"
	fresh_ns tw-$proto
	in_ns sysctl -qw net.xtcp.msl_ms=15000
	in_ns sysctl -qw net.xtcp.tw_bucket_ms=$((TW_WIDTH * 1000))
	# A new namespace caps TCP at half its hash table (8192 here).
	in_ns sysctl -qw net.ipv4.tcp_max_tw_buckets=262144
	server $proto 7002
	tw_srv=$spid
	[ $proto = XTCP ] && wait_boundary
	t0=$(uptime_s)
	in_ns "$tool" -s $proto -c 127.0.0.1 -p 7002 -m crr -n "$tw_n" > /dev/null
	if [ $proto = XTCP ]; then
		made=$(in_ns awk 'NR > 1 && $4 == "06"' /proc/net/xtcp | wc -l)
		# until the bucket's boundary, and a few seconds more
		probe=$(awk -v t0="$t0" -v now="$(uptime_s)" -v l=$TW_LEN \
			-v w=$TW_WIDTH 'BEGIN { b = int((t0 + l) / w + 1) * w;
			printf "%d", b - now + 5 }')
	else
		made=$(in_ns awk 'NR > 1 && $4 == "06"' /proc/net/tcp | wc -l)
		probe=70	# TCP_TIMEWAIT_LEN is 60 s
	fi
	# The ping-pong runs on a connection of the other port.
	server $proto 7003
	probe_srv=$spid
	note "made $made; ping-pong for $probe s while they expire"
	rr=$(in_ns "$tool" -s $proto -c 127.0.0.1 -p 7003 -m rr -t $probe)
	if [ $proto = XTCP ]; then
		left=$(in_ns awk 'NR > 1 && $4 == "06"' /proc/net/xtcp | wc -l)
	else
		left=$(in_ns awk 'NR > 1 && $4 == "06"' /proc/net/tcp | wc -l)
	fi
	R[tw_made_$proto]=$made
	R[tw_left_$proto]=$left
	R[tw_stall_us_$proto]=$(echo "$rr" | awk '{ print $5 }')
	R[tw_p99_us_$proto]=$(echo "$rr" | awk '{ print $4 }')
	kill $tw_srv $probe_srv 2>/dev/null
	wait $tw_srv $probe_srv 2>/dev/null
done
ip netns del "$NS"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
printf '\n%-44s %12s %12s %8s\n' workload xtcp tcp ratio
printf '%-44s %12s %12s %8s\n' "connections/s (connect, 1B req/resp, close)" \
	"${R[crr_XTCP]}" "${R[crr_TCP]}" "$(ratio "${R[crr_XTCP]}" "${R[crr_TCP]}")"
printf '%-44s %12s %12s %8s\n' "bytes per TIME_WAIT entry" \
	"${R[tw_bytes_XTCP]}" "${R[tw_bytes_TCP]}" "$(ratio "${R[tw_bytes_XTCP]}" "${R[tw_bytes_TCP]}")"
printf '%-44s %12s %12s %8s\n' "TIME_WAIT entries made" \
	"${R[tw_made_XTCP]}" "${R[tw_made_TCP]}" ""
printf '%-44s %12s %12s %8s\n' "  still there after the probe" \
	"${R[tw_left_XTCP]}" "${R[tw_left_TCP]}" ""
printf '%-44s %12s %12s %8s\n' "longest ping-pong during expiry (us)" \
	"${R[tw_stall_us_XTCP]}" "${R[tw_stall_us_TCP]}" "$(ratio "${R[tw_stall_us_XTCP]}" "${R[tw_stall_us_TCP]}")"
printf '%-44s %12s %12s %8s\n' "p99 ping-pong during expiry (us)" \
	"${R[tw_p99_us_XTCP]}" "${R[tw_p99_us_TCP]}" "$(ratio "${R[tw_p99_us_XTCP]}" "${R[tw_p99_us_TCP]}")"

echo "BENCH-JSON-BEGIN"
{
	echo "{"
	echo "  \"kernel\": \"$(uname -r)\","
	first=1
	for k in $(echo "${!R[@]}" | tr ' ' '\n' | sort); do
		[ $first = 1 ] || echo ","
		first=0
		printf '  "%s": %s' "$k" "${R[$k]:-null}"
	done
	echo
	echo "}"
}
echo "BENCH-JSON-END"
