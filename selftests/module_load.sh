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

# Autoload: install the module into a writable overlay of /lib/modules
# (the VM's root is read-only), then let socket() find it.
kver=$(uname -r)
moddir=/lib/modules/$kver
tmp=$(mktemp -d)
if [ -d "$moddir" ] && mkdir -p "$tmp/u" "$tmp/w" &&
   mount -t overlay overlay -o "lowerdir=$moddir,upperdir=$tmp/u,workdir=$tmp/w" "$moddir" 2>/dev/null; then
	mkdir -p "$moddir/updates"
	cp "$XTCP_KO" "$moddir/updates/xtcp.ko"
	depmod -a "$kver"
	xtcp_loaded && xtcp_unload
	if ./xtcp_connect -m create < /dev/null > /dev/null && xtcp_loaded; then
		pass "socket(PF_XTCP) autoloaded the module (net-pf-$family)"
	else
		fail "socket(PF_XTCP) did not autoload the installed module"
	fi
	xtcp_loaded && xtcp_unload
	umount "$moddir"
else
	log "SKIP autoload: cannot overlay $moddir"
fi
rm -rf "$tmp"
exit $ret
