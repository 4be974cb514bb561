#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Load and unload the module 20 times; each time the family must work
# while loaded and be gone after unloading. Then check that socket()
# autoloads an installed module through MODULE_ALIAS_NETPROTO.
. "$(dirname "$0")/lib.sh"
require_root
require_module_file

trap xtcp_restore EXIT
family=$(cat /sys/module/xtcp/parameters/family 2>/dev/null || echo $XTCP_FAMILY_DEFAULT)

for i in $(seq 1 20); do
	xtcp_loaded && xtcp_unload
	if ./xtcp_connect -m create < /dev/null 2>/dev/null; then
		fail "round $i: socket() worked with the module unloaded"
		break
	fi
	if ! xtcp_load; then
		fail "round $i: insmod failed"
		break
	fi
	if ! ./xtcp_connect -l -a 127.0.0.1 < /dev/null > /dev/null; then
		fail "round $i: socket/bind/listen failed after load"
		break
	fi
	grep -q '^XTCP ' /proc/net/protocols ||
		fail "round $i: XTCP missing from /proc/net/protocols"
done
[ $ret -eq 0 ] && pass "20 load/unload rounds"

# Autoload: socket() must load an installed module by itself. The VM's
# /lib/modules is read-only (and depmod over all of it is slow), so a
# private modules tree with only xtcp in it is mounted over it meanwhile.
kver=$(uname -r)
moddir=/lib/modules/$kver
tmp=$(mktemp -d)
mkdir -p "$tmp/lib/modules/$kver/updates"
cp "$XTCP_KO" "$tmp/lib/modules/$kver/updates/xtcp.ko"
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -e "$moddir/$f" ] && cp "$moddir/$f" "$tmp/lib/modules/$kver/"
done
if [ -d "$moddir" ] && depmod -b "$tmp" "$kver" &&
   mount --bind "$tmp/lib/modules/$kver" "$moddir"; then
	xtcp_loaded && xtcp_unload
	if ./xtcp_connect -m create < /dev/null > /dev/null && xtcp_loaded; then
		pass "socket(PF_XTCP) autoloaded the module (net-pf-$family)"
	else
		fail "socket(PF_XTCP) did not autoload the installed module"
	fi
	xtcp_loaded && xtcp_unload
	umount "$moddir"
else
	log "SKIP autoload: cannot prepare a modules tree for $kver"
fi
rm -rf "$tmp"
exit $ret
