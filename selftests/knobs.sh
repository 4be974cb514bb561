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
n=0
while IFS= read -r line; do
	# "msl_ms:net.xtcp.msl_ms of the initial namespace (1..3600000, default 30000)"
	name=${line%%:*}
	[ "$name" = family ] || [ "$name" = ipproto ] && continue
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

	# A new namespace starts from the initial namespace's value and
	# changes on its own.
	ip netns add xtcp-knobs
	v=$(ip netns exec xtcp-knobs cat "$sys")
	[ "$v" = "$max" ] || fail "$name: new namespace got $v, not $max"
	ip netns exec xtcp-knobs sh -c "echo $min > $sys" ||
		fail "$name: write in a namespace"
	[ "$(cat "$sys")" = "$max" ] || fail "$name: a namespace's write leaked out"
	ip netns del xtcp-knobs
	echo "$def" > "$sys"
done < <(modinfo -F parm "$XTCP_KO")
[ "$n" -ge 18 ] && pass "$n knobs: defaults, ranges, both views, namespaces" ||
	fail "only $n knobs found"

# insmod-time values land in the initial namespace.
xtcp_unload
if xtcp_load msl_ms=1234 syn_retries=3; then
	[ "$(cat /proc/sys/net/xtcp/msl_ms)" = 1234 ] &&
	[ "$(cat /proc/sys/net/xtcp/syn_retries)" = 3 ] &&
		pass "insmod msl_ms=1234 syn_retries=3" ||
		fail "insmod values not in effect"
	xtcp_unload
else
	fail "insmod with knob values failed"
fi
xtcp_load msl_ms=0 2>/dev/null && { fail "insmod msl_ms=0 accepted"; xtcp_unload; }
xtcp_load || fail "reload"
exit $ret
