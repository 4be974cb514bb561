#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every knob: one value in two views (net.xtcp.* and
# /sys/module/xtcp/parameters), ranges enforced with EINVAL in both, a new
# namespace starting from the initial namespace's values, per-namespace
# independence, and values given at insmod time. The list of knobs and
# their ranges comes from the module itself (modinfo), the one declaration.
. "$(dirname "$0")/lib.sh"
require_root
require_module_file
xtcp_restore
trap 'ip netns del xtcp-knobs 2>/dev/null; xtcp_restore' EXIT

params=/sys/module/xtcp/parameters

# check_new_netns NAME NOW OTHER: a new namespace starts from the initial
# namespace's value NOW, and a write of OTHER there stays there.
check_new_netns()
{
	local name=$1 now=$2 other=$3 v sys=/proc/sys/net/xtcp/$1

	ip netns add xtcp-knobs
	v=$(ip netns exec xtcp-knobs cat "$sys")
	[ "$v" = "$now" ] || fail "$name: new namespace got $v, not $now"
	ip netns exec xtcp-knobs sh -c "echo $other > $sys" ||
		fail "$name: write in a namespace"
	[ "$(cat "$sys")" = "$now" ] || fail "$name: a namespace's write leaked out"
	ip netns del xtcp-knobs
}

n=0
named=()
while IFS= read -r line; do
	# "msl_ms:net.xtcp.msl_ms of the initial namespace (1..3600000, default 30000)"
	name=${line%%:*}
	[ "$name" = family ] || [ "$name" = ipproto ] && continue
	# A knob whose values are names: its own test below.
	case $line in *"(one of: "*) named+=("$line"); continue ;; esac
	range=$(echo "$line" | sed -n 's/.*(\(-\?[0-9]*\)\.\.\([0-9]*\), default \([0-9]*\)).*/\1 \2 \3/p')
	read -r min max def <<< "$range"
	if [ -z "$def" ]; then
		fail "$name: cannot read its range from modinfo: $line"
		continue
	fi
	n=$((n + 1))
	sys=/proc/sys/net/xtcp/$name
	[ -e "$sys" ] || { fail "$name: no $sys"; continue; }
	[ "$(cat "$sys")" = "$def" ] || fail "$name: sysctl $(cat "$sys") != default $def"
	[ "$(cat "$params/$name")" = "$def" ] || fail "$name: sysfs != default"

	for bad in $((min - 1)) $((max + 1)) abc; do
		if echo "$bad" > "$sys" 2>/dev/null; then
			fail "$name: sysctl accepted $bad"
		fi
		if echo "$bad" > "$params/$name" 2>/dev/null; then
			fail "$name: sysfs accepted $bad"
		fi
		[ "$(cat "$sys")" = "$def" ] || fail "$name: a refused write changed it"
	done
	err=$(sysctl -w "net.xtcp.$name=$((max + 1))" 2>&1 >/dev/null)
	echo "$err" | grep -q "Invalid argument" ||
		fail "$name: out-of-range write did not give EINVAL: $err"

	# Both ends of the range work, and both views show the same value.
	echo "$min" > "$sys" || fail "$name: sysctl refused min $min"
	[ "$(cat "$params/$name")" = "$min" ] || fail "$name: sysfs does not follow sysctl"
	echo "$max" > "$params/$name" || fail "$name: sysfs refused max $max"
	[ "$(cat "$sys")" = "$max" ] || fail "$name: sysctl does not follow sysfs"

	check_new_netns "$name" "$max" "$min"
	echo "$def" > "$sys"
done < <(modinfo -F parm "$XTCP_KO")
[ "$n" -ge 18 ] && pass "$n knobs: defaults, ranges, both views, namespaces" ||
	fail "only $n knobs found"

# The TCP_CONGESTION a new xtcp socket starts with.
new_socket_cc() {
	python3 -c 'import socket
s = socket.socket(19, socket.SOCK_STREAM)
print(s.getsockopt(6, 13, 16).rstrip(b"\0").decode())'
}

# Named knobs, as net.ipv4.tcp_congestion_control: the name in both
# views, every name accepted, an unknown one (a number too) refused with
# ENOENT, available_<name> read-only, namespaces on their own.
[ ${#named[@]} -ge 1 ] || fail "no named knob (congestion_control) in modinfo"
for line in "${named[@]}"; do
	# "congestion_control:... (one of: reno cubic, default cubic) (charp)"
	name=${line%%:*}
	names=$(echo "$line" | sed -n 's/.*(one of: \([^,]*\), default \([^)]*\)).*/\1/p')
	def=$(echo "$line" | sed -n 's/.*(one of: \([^,]*\), default \([^)]*\)).*/\2/p')
	sys=/proc/sys/net/xtcp/$name
	[ -n "$names" ] && [ -n "$def" ] || { fail "$name: modinfo: $line"; continue; }
	[ "$(cat "$sys")" = "$def" ] || fail "$name: sysctl $(cat "$sys") != default $def"
	[ "$(cat "$params/$name")" = "$def" ] || fail "$name: sysfs != default $def"
	avail=/proc/sys/net/xtcp/available_$name
	[ "$(cat "$avail")" = "$names" ] ||
		fail "$name: available_$name reads '$(cat "$avail")', not '$names'"
	{ echo reno > "$avail"; } 2>/dev/null && fail "available_$name is writable"
	for v in $names; do
		sysctl -qw "net.xtcp.$name=$v" || fail "$name: sysctl refused $v"
		[ "$(cat "$params/$name")" = "$v" ] || fail "$name: sysfs does not follow sysctl ($v)"
		[ "$name" != congestion_control ] || [ "$(new_socket_cc)" = "$v" ] ||
			fail "$name=$v: a new socket has TCP_CONGESTION $(new_socket_cc)"
		echo "$def" > "$params/$name" || fail "$name: sysfs refused $def"
		echo "$v" > "$params/$name" || fail "$name: sysfs refused $v"
		[ "$(cat "$sys")" = "$v" ] || fail "$name: sysctl does not follow sysfs ($v)"
	done
	last=$(cat "$sys")
	for bad in nosuch 0 1; do
		err=$(sysctl -w "net.xtcp.$name=$bad" 2>&1 >/dev/null)
		echo "$err" | grep -q "No such file or directory" ||
			fail "$name: sysctl '$bad' did not give ENOENT: $err"
		echo "$bad" > "$params/$name" 2>/dev/null &&
			fail "$name: sysfs accepted '$bad'"
		[ "$(cat "$sys")" = "$last" ] || fail "$name: a refused write changed it"
	done
	check_new_netns "$name" "$last" "$def"
	echo "$def" > "$sys"
	pass "$name: one of '$names' in both views, ENOENT for others, available_$name"
done

# insmod-time values land in the initial namespace.
xtcp_unload
if xtcp_load msl_ms=1234 syn_retries=3 congestion_control=reno; then
	[ "$(cat /proc/sys/net/xtcp/msl_ms)" = 1234 ] &&
	[ "$(cat /proc/sys/net/xtcp/syn_retries)" = 3 ] &&
	[ "$(cat /proc/sys/net/xtcp/congestion_control)" = reno ] &&
		pass "insmod msl_ms=1234 syn_retries=3 congestion_control=reno" ||
		fail "insmod values not in effect"
	xtcp_unload
else
	fail "insmod with knob values failed"
fi
xtcp_load msl_ms=0 2>/dev/null && { fail "insmod msl_ms=0 accepted"; xtcp_unload; }
xtcp_load || fail "reload"
exit $ret
