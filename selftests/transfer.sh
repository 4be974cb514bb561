#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Transfer matrix, in the manner of MPTCP's mptcp_connect.sh: two network
# namespaces joined by a veth pair, xtcp and (as the baseline) the kernel's
# TCP running the same program, both directions, sizes from 1 byte to
# 64 MiB, through tc netem on both veth ends: a clean link, delay, 1% and
# 5% loss, reordering, duplication and corruption. Every case must deliver
# exactly the bytes that were sent (count and FNV-1a hash at both ends)
# within its time limit. Directions: c2s (the client sends), s2c (the
# server sends) and both (each sends while it receives). Netem settings
# that must hit xtcp are checked to have hit it (retransmissions for loss,
# checksum errors for corruption). About four minutes under QEMU TCG; on
# the debug kernel (uname -r with xtcp-debug) the sizes are 1/8. A failed
# case's line carries both ends' TCP_INFO and the xtcp counters that moved.
# The whole matrix stops after XTCP_XFER_BUDGET seconds (default 700).
#
# Usage: transfer.sh [-S SEED] [-p XTCP|TCP] [-f FILTER]
#   -S SEED  replay a run (also XTCP_SEED=SEED): the data of every case and
#            the odd sizes are drawn from it, and netem's loss pattern too
#            when tc and the kernel support "netem ... seed"
#   -p PROTO only this protocol (also XTCP_XFER_PROTO)
#   -f RE    only the netem settings whose name matches the extended
#            regular expression RE (also XTCP_XFER_FILTER)
. "$(dirname "$0")/lib.sh"

seed=${XTCP_SEED:-}
only_proto=${XTCP_XFER_PROTO:-}
filter=${XTCP_XFER_FILTER:-}
while getopts "S:p:f:" opt; do
	case $opt in
	S) seed=$OPTARG ;;
	p) only_proto=$OPTARG ;;
	f) filter=$OPTARG ;;
	*) echo "usage: $0 [-S SEED] [-p XTCP|TCP] [-f FILTER]" >&2; exit 2 ;;
	esac
done

require_root
require_module_file
xtcp_restore

if [ -z "$seed" ]; then
	seed=$(( $(od -An -N4 -tu4 /dev/urandom) % 1000000000 ))
fi
case $seed in
''|*[!0-9]*) echo "seed must be a decimal number: $seed" >&2; exit 2 ;;
esac
log "seed $seed (replay with XTCP_SEED=$seed or $0 -S $seed)"
RANDOM=$seed

ns1=xtcp-xfer-a
ns2=xtcp-xfer-b
dev1=xfer-a
dev2=xfer-b
addr1=198.51.100.1
addr2=198.51.100.2
tmp=$(mktemp -d)
cleanup()
{
	stop_server
	ip netns del $ns1 2>/dev/null
	ip netns del $ns2 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

modprobe veth 2>/dev/null
modprobe sch_netem 2>/dev/null
ip netns add $ns1 || exit $KSFT_FAIL
ip netns add $ns2 || exit $KSFT_FAIL
ip link add $dev1 netns $ns1 type veth peer name $dev2 netns $ns2
ip -n $ns1 addr add $addr1/24 dev $dev1
ip -n $ns2 addr add $addr2/24 dev $dev2
ip -n $ns1 link set $dev1 up
ip -n $ns2 link set $dev2 up
ip -n $ns1 link set lo up
ip -n $ns2 link set lo up

if ! ip netns exec $ns1 tc qdisc replace dev $dev1 root netem delay 0ms; then
	log "SKIP: tc netem is not available"
	exit $KSFT_SKIP
fi
netem_seed=
if ip netns exec $ns1 tc qdisc replace dev $dev1 root netem loss 0% seed 1 \
	2>/dev/null; then
	netem_seed=1
else
	log "this tc/kernel has no 'netem seed': netem's own randomness is not replayed"
fi
ip netns exec $ns1 tc qdisc del dev $dev1 root

# The debug kernel (KASAN, lockdep) runs about 5x slower: 1/8 the bytes.
# Its stalls (lockdep, KASAN quarantine) also make time limits 3x longer:
# either protocol may sit out a long RTO there.
scale=1 slow=1
case $(uname -r) in
*xtcp-debug*) scale=8 slow=3 ;;
esac

KiB=1024
MiB=$((1024 * 1024))

# odd HIGH: a size from 2 to HIGH drawn from the seed, into ODD (no
# subshell, whose RANDOM would not follow the seed).
odd()
{
	ODD=$((2 + (RANDOM * 32768 + RANDOM) % ($1 - 1)))
}

# The netem settings: name, netem arguments (applied on both veth ends,
# so data and ACKs both suffer), the sizes moved one way (client to
# server, then server to client), the sizes moved both ways at once, and
# a time limit per MiB on top of a fixed allowance. The sizes fit the run
# into about four minutes under QEMU TCG (tens of MB/s on a clean link,
# much less through loss); one odd size per setting comes from the seed.
names=(clean delay loss1 loss5 reorder duplicate corrupt)
declare -A netem sizes both permib
odd $((256 * KiB))
netem[clean]=""
sizes[clean]="1 1448 65536 $ODD $MiB $((64 * MiB))"
both[clean]="1 $ODD $((4 * MiB))"
permib[clean]=3
odd $((256 * KiB))
netem[delay]="delay 5ms"
sizes[delay]="1 $ODD $((8 * MiB))"
both[delay]="$ODD $MiB"
permib[delay]=6
odd $((256 * KiB))
netem[loss1]="loss random 1%"
sizes[loss1]="1 $ODD $((4 * MiB))"
both[loss1]="$ODD $MiB"
permib[loss1]=15
odd $((128 * KiB))
netem[loss5]="loss random 5%"
sizes[loss5]="1 $ODD $((2 * MiB))"
both[loss5]="$ODD $((512 * KiB))"
permib[loss5]=30
odd $((256 * KiB))
netem[reorder]="delay 2ms reorder 25% 50%"
sizes[reorder]="1 $ODD $((2 * MiB))"
both[reorder]="$ODD $MiB"
permib[reorder]=30
odd $((256 * KiB))
netem[duplicate]="duplicate 5%"
sizes[duplicate]="1 $ODD $((4 * MiB))"
both[duplicate]="$ODD $MiB"
permib[duplicate]=20
odd $((256 * KiB))
netem[corrupt]="corrupt 1%"
sizes[corrupt]="1 $ODD $((4 * MiB))"
both[corrupt]="$ODD $MiB"
permib[corrupt]=15

# set_netem ARGS INDEX: both ends get the setting; netem seeds differ per
# end and per setting. Under loss and corruption the veths take one
# segment per packet (gso_max_segs 1, read by sockets when they connect),
# as a bad link hits segments: netem would drop or corrupt once per GSO
# packet of up to 45, and the few packets of a debug-kernel run might see
# none at all.
set_netem()
{
	local args=$1 idx=$2 end ns dev segs=65535
	[[ $args == *loss* || $args == *corrupt* ]] && segs=1
	for end in 1 2; do
		ns=$ns1 dev=$dev1
		[ $end = 2 ] && ns=$ns2 dev=$dev2
		ip -n $ns link set dev $dev gso_max_segs $segs || return 1
		if [ -z "$args" ]; then
			ip netns exec $ns tc qdisc del dev $dev root 2>/dev/null
			continue
		fi
		# shellcheck disable=SC2086
		ip netns exec $ns tc qdisc replace dev $dev root netem $args \
			${netem_seed:+seed $((seed + 2 * idx + end))} || return 1
	done
}

# human BYTES: "64MiB", "1448B", ... into HUMAN (no subshell).
human()
{
	local b=$1
	if [ $((b % MiB)) = 0 ]; then HUMAN="$((b / MiB))MiB"
	elif [ $((b % KiB)) = 0 ]; then HUMAN="$((b / KiB))KiB"
	else HUMAN="${b}B"
	fi
}

# The k-th (from 1) "WORD N HASH" of FILE into REC ("N HASH"), and the
# whole FILE on one line into ALL; builtins only. Returns 1 if absent.
record()
{
	local file=$1 word=$2 k=$3 w a b
	REC='' ALL=''
	[ -e "$file" ] || return 1
	while read -r w a b; do
		ALL+="$w $a $b; "
		if [ "$w" = "$word" ] && [ -z "$REC" ]; then
			k=$((k - 1))
			[ $k = 0 ] && REC="$a $b"
		fi
	done < "$file"
	[ -n "$REC" ]
}

# Record what the server printed for its k-th connection, or why not.
srv_done()
{
	record "$srv_out" rx "$1" && return 0
	case $ALL in
	*error*|*timeout*) return 0 ;;
	esac
	! pid_running "$spid"
}

port=20000
case_no=0
spid=
# start_server PROTO DIR LIMIT SEED SIZE...: one server for a group's
# transfers. c2s: it sinks every connection; s2c and both: connection i
# sends the i-th size, seeded with SEED + i.
start_server()
{
	local proto=$1 dir=$2 limit=$3 sseed=$4 list end
	shift 4
	list=$*
	port=$((port + 1))
	srv_out=$tmp/srv.$port
	if [ "$dir" = c2s ]; then
		./xtcp_connect -e $ns2 -s "$proto" -l -a $addr2 -p $port \
			-m sink -N $# -T "$limit" > "$srv_out" 2>&1 &
	else
		./xtcp_connect -e $ns2 -s "$proto" -l -a $addr2 -p $port \
			-m source -n "${list// /,}" -S "$sseed" -N $# \
			-T "$limit" > "$srv_out" 2>&1 &
	fi
	spid=$!
	srv_conn=0
	end=$((EPOCHSECONDS + 20))
	until record "$srv_out" listening 1; do
		if ! pid_running $spid || [ $EPOCHSECONDS -ge $end ]; then
			return 1
		fi
		nap 0.02
	done
}

stop_server()
{
	[ -n "$spid" ] || return 0
	reap $spid 0 2>/dev/null
	spid=
}

# xfer PROTO DIR SIZE SETTING LIMIT SEED: one transfer through the
# running server. c2s: the client sends SIZE bytes to a sink; s2c: the
# server sends SIZE bytes to a client that sends nothing; both: each sends
# SIZE bytes while receiving the other's. What each side received must be
# exactly what the other sent (count and hash), the count must be the
# intended one (none from a silent side), and both must end cleanly
# within LIMIT seconds.
xfer()
{
	local proto=$1 dir=$2 size=$3 setting=$4 limit=$5 cseed=$6
	local name t0 ms rc end stx srx ctx crx what cn=$size sn=$size
	case_no=$((case_no + 1))
	srv_conn=$((srv_conn + 1))
	human "$size"
	name="$proto $dir $HUMAN ${setting}${netem[$setting]:+ (${netem[$setting]})}"
	[ "$dir" = s2c ] && cn=0
	[ "$dir" = c2s ] && sn=0
	if [ $((EPOCHSECONDS - t_start)) -ge "$budget" ]; then
		fail "$name: not run, the matrix is past its ${budget}s budget"
		return 1
	fi
	t0=${EPOCHREALTIME/./}
	./xtcp_connect -e $ns1 -s "$proto" -c $addr2 -p $port -m source \
		-n $cn -S "$cseed" -T "$limit" > "$tmp/cli" 2>&1
	rc=$?
	ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
	# The server's account of this connection (it closes right after).
	end=$((EPOCHSECONDS + (rc ? 2 : 20)))
	until srv_done $srv_conn || [ $EPOCHSECONDS -ge $end ]; do
		nap 0.02
	done
	# After a failure, stop the server so that it reports where its end
	# stands (TCP_INFO) too.
	if [ $rc != 0 ] || ! srv_done $srv_conn; then
		stop_server
	fi
	record "$srv_out" rx $srv_conn; srx=$REC
	record "$srv_out" tx $srv_conn; stx=$REC
	# A sink prints no "tx": it sent nothing.
	[ "$dir" = c2s ] && [ -n "$srx" ] && stx="0 cbf29ce484222325"
	what="server: $ALL"
	record "$tmp/cli" tx 1; ctx=$REC
	record "$tmp/cli" rx 1; crx=$REC
	what="client: $ALL| $what"
	if [ $rc = 124 ]; then
		fail "$name: no end within ${limit}s; $what"
	elif [ $rc != 0 ]; then
		fail "$name: client exit $rc; $what"
	elif [ -z "$srx" ] || [ -z "$stx" ]; then
		fail "$name: no account from the server; $what"
	elif [ "${ctx%% *}" != "$cn" ] || [ "${stx%% *}" != "$sn" ]; then
		fail "$name: the client sent '$ctx', the server '$stx'; $what"
	elif [ "$srx" != "$ctx" ]; then
		fail "$name: the client sent '$ctx', the server received '$srx'"
	elif [ "$crx" != "$stx" ]; then
		fail "$name: the server sent '$stx', the client received '$crx'"
	else
		[ "$dir" = s2c ] && srx=$crx
		pass "$name: $srx in $((ms / 1000)).$((ms / 100 % 10))s"
		return 0
	fi
	sockets_of $proto
	return 1
}

# sockets_of PROTO: after a failure, the connections left in both
# namespaces (an orphan that still retransmits, say), but listeners and
# TIME_WAIT, as /proc/net/xtcp or /proc/net/tcp rows.
sockets_of()
{
	local file=/proc/net/xtcp ns
	[ "$1" = TCP ] && file=/proc/net/tcp
	for ns in $ns1 $ns2; do
		log "$ns: $(ip netns exec $ns awk 'NR > 1 && $4 != "0A" && $4 != "06"' $file | cut -c1-120 | tr '\n' '|')"
	done
}

# group PROTO DIR SETTING SEED SIZE...: every size through one server;
# after a failure a fresh server takes the remaining sizes. Transfer k
# uses SEED + k for the client's data, SEED + 65536 + k for the server's,
# whatever else runs, so one case replays alone (-f, -p).
group()
{
	local proto=$1 dir=$2 setting=$3 gseed=$4 limit max=0 size k=0
	shift 4
	local left=("$@")
	for size in "$@"; do
		limit=$(((fixed + permib[$setting] * (size + MiB - 1) / MiB) * slow))
		[ $limit -gt $max ] && max=$limit
	done
	while [ ${#left[@]} -gt 0 ]; do
		if ! start_server "$proto" "$dir" $max \
			$((gseed + 65536 + k)) "${left[@]}"; then
			record "$srv_out" x 1
			fail "$proto $dir $setting: server did not start: $ALL"
			stop_server
			return
		fi
		while [ ${#left[@]} -gt 0 ]; do
			size=${left[0]}
			left=("${left[@]:1}")
			limit=$(((fixed + permib[$setting] * (size + MiB - 1) / MiB) * slow))
			xfer "$proto" "$dir" "$size" "$setting" $limit \
				$((gseed + k))
			rc=$?
			k=$((k + 1))
			[ $rc = 0 ] || break
		done
		stop_server
	done
}

# stat_sum NAME: counter NAME of /proc/net/xtcp_stat, both namespaces.
stat_sum()
{
	local ns n sum=0
	for ns in $ns1 $ns2; do
		n=$(ip netns exec $ns awk -v k="$1" '$1 == k { print $2 }' \
			/proc/net/xtcp_stat)
		sum=$((sum + ${n:-0}))
	done
	echo $sum
}

# Each setting must really have hit xtcp: corruption is seen as checksum
# errors, loss as retransmissions. (TCP's segments are mostly GSO bursts,
# too few for a 1% corruption to be certain, so only xtcp is counted.)
declare -A proof
proof[loss1]=RetransSegs
proof[loss5]=RetransSegs
proof[corrupt]=InCsumErrors

# Every transfer is bounded: a fixed allowance plus per MiB; the whole
# matrix too, so that a module that hangs every transfer fails within the
# kselftest time-out rather than hitting it.
fixed=15
budget=${XTCP_XFER_BUDGET:-700}
t_start=$EPOCHSECONDS
idx=0
for setting in "${names[@]}"; do
	idx=$((idx + 1))
	if [ -n "$filter" ] && ! [[ $setting =~ $filter ]]; then
		continue
	fi
	if ! set_netem "${netem[$setting]}" $idx; then
		fail "$setting: cannot set netem ${netem[$setting]}"
		continue
	fi
	pn=0
	for proto in TCP XTCP; do
		pn=$((pn + 1))
		[ -n "$only_proto" ] && [ "$proto" != "$only_proto" ] && continue
		c=${proof[$setting]:-}
		[ $proto = XTCP ] && [ -n "$c" ] && before=$(stat_sum $c)
		dn=0
		for dir in c2s s2c both; do
			dn=$((dn + 1))
			list=
			if [ $dir = both ]; then
				set -- ${both[$setting]}
			else
				set -- ${sizes[$setting]}
			fi
			for size in "$@"; do
				size=$((size / scale))
				list+=" $((size < 1 ? 1 : size))"
			done
			# shellcheck disable=SC2086
			group $proto $dir "$setting" \
				$((seed + ((idx * 4 + pn) * 4 + dn) * 64)) $list
		done
		if [ $proto = XTCP ] && [ -n "$c" ]; then
			after=$(stat_sum $c)
			if [ "$after" -gt "$before" ]; then
				pass "XTCP $setting: $c went from $before to $after"
			else
				fail "XTCP $setting: $c stayed at $before: netem did not bite"
			fi
		fi
	done
	log "$setting done at $((EPOCHSECONDS - t_start))s"
done
set_netem "" 0

# Every connection ended, orphans included: nothing but TIME_WAIT left.
xtcp_idle()
{
	ip netns exec "$1" awk 'NR > 1 && $4 != "06" { f = 1 } END { exit f }' \
		/proc/net/xtcp
}
for ns in $ns1 $ns2; do
	if ! wait_for 30 xtcp_idle $ns; then
		fail "xtcp sockets left behind in $ns: $(ip netns exec $ns cat /proc/net/xtcp | tr '\n' '|')"
	fi
done
log "seed $seed; $case_no transfers in $((EPOCHSECONDS - t_start))s"
exit $ret
