#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Checksums through real network drivers. The test VM of "make check" has
# two pairs of emulated cards, each pair on a QEMU hub of its own
# (scripts/xtcp-vm --nics): rtl8139 (Linux's 8139cp, which checksums only
# TCP and UDP: NETIF_F_IP_CSUM) and e1000 (checksums anything:
# NETIF_F_HW_CSUM). For each pair, one card goes into each of two
# namespaces and 2 MB cross between them over xtcp and, as the reference,
# over TCP: the bytes must arrive (hashes), the receiver must count no
# checksum error, and the kernel must not complain. Before: xtcp handed
# CHECKSUM_PARTIAL segments to 8139cp, which WARNed "asked to checksum
# invalid Legacy IP packet" for each and sent them with a wrong checksum.
. "$(dirname "$0")/lib.sh"
require_root
require_module_file
xtcp_restore

tmp=$(mktemp -d)
nsa=xtcp-nic-a
nsb=xtcp-nic-b
cleanup()
{
	ip netns del $nsa 2>/dev/null
	ip netns del $nsb 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# ifaces DRIVER: the interfaces of the init namespace bound to DRIVER.
ifaces()
{
	local d drv
	for d in /sys/class/net/*; do
		drv=$(readlink "$d/device/driver" 2>/dev/null) || continue
		[ "${drv##*/}" = "$1" ] && echo "${d##*/}"
	done
}

counter() { ip netns exec "$1" awk -v k="$2" '$1 == k { print $2 }' /proc/net/xtcp_stat; }

port=7000
# pair MODEL DRIVER: the test over the two cards of MODEL.
pair()
{
	local model=$1 drv=$2 devs a b proto spid mark
	modprobe "$drv" 2>/dev/null
	wait_for 10 sh -c "[ \$(ls -d /sys/bus/pci/drivers/$drv/0000:* 2>/dev/null | wc -l) -ge 2 ]"
	devs=$(ifaces "$drv")
	set -- $devs
	if [ $# -lt 2 ]; then
		fail "$model: expected two $drv interfaces, found '$devs'"
		return
	fi
	a=$1 b=$2
	ip netns add $nsa
	ip netns add $nsb
	ip link set "$a" netns $nsa
	ip link set "$b" netns $nsb
	ip -n $nsa addr add 192.0.2.1/24 dev "$a"
	ip -n $nsb addr add 192.0.2.2/24 dev "$b"
	ip -n $nsa link set "$a" up
	ip -n $nsb link set "$b" up
	ip -n $nsa link set lo up
	ip -n $nsb link set lo up
	ip netns exec $nsa sysctl -qw net.xtcp.msl_ms=200
	ip netns exec $nsb sysctl -qw net.xtcp.msl_ms=200
	log "$model ($drv): $(ip netns exec $nsa ethtool -k "$a" |
		grep -E 'tx-checksum-(ipv4|ip-generic):' | tr -d '\t' | tr '\n' ' ')"
	wait_for 10 sh -c "ip -n $nsa link show $a | grep -q LOWER_UP &&
		ip -n $nsb link show $b | grep -q LOWER_UP" ||
		log "$model: link not up yet"
	for proto in TCP XTCP; do
		port=$((port + 1))
		mark=$(klog_mark)
		ip netns exec $nsb ./xtcp_connect -s $proto -l -a 192.0.2.2 \
			-p $port -m sink > "$tmp/srv" 2>&1 &
		spid=$!
		wait_for 10 grep -q '^listening' "$tmp/srv" || {
			fail "$model $proto: no server"; kill $spid; continue; }
		if ! timeout 120 ip netns exec $nsa ./xtcp_connect -s $proto \
			-c 192.0.2.2 -p $port -m source -n 2000000 \
			> "$tmp/cli" 2>&1; then
			fail "$model $proto: client: $(tr '\n' '|' < "$tmp/cli")"
			kill $spid 2>/dev/null
			wait $spid
			continue
		fi
		wait $spid
		tx=$(awk '/^tx/ { print $2, $3 }' "$tmp/cli")
		rx=$(awk '/^rx/ { print $2, $3 }' "$tmp/srv")
		if [ -z "$tx" ] || [ "$tx" != "$rx" ]; then
			fail "$model $proto: sent '$tx', received '$rx'"
		elif klog_since "$mark" | grep -q 'WARNING\|checksum'; then
			fail "$model $proto: kernel log: $(klog_since "$mark" | head -n 3 | tr '\n' '|')"
		elif [ $proto = XTCP ] && [ "$(counter $nsb InCsumErrors)" != 0 ]; then
			fail "$model $proto: InCsumErrors $(counter $nsb InCsumErrors)"
		else
			pass "$model $proto: 2000000 bytes, hashes match, no checksum error"
		fi
	done
	ip netns del $nsa
	ip netns del $nsb
	# The cards come back to the init namespace; wait for both.
	wait_for 10 sh -c "[ \$(for d in /sys/class/net/*; do readlink \$d/device/driver; done 2>/dev/null | grep -c '/$drv\$') -ge 2 ]"
}

if [ -z "${XTCP_VM_NICS:-}" ]; then
	log "SKIP: the VM has no network cards (scripts/xtcp-vm --nics)"
	exit $KSFT_SKIP
fi
ran=0
for model in $XTCP_VM_NICS; do
	case $model in
	rtl8139) drv=8139cp ;;
	e1000) drv=e1000 ;;
	virtio-net-pci) drv=virtio_net ;;
	*) log "no driver known for $model"; continue ;;
	esac
	if ! modprobe -n "$drv" 2>/dev/null && [ ! -d /sys/bus/pci/drivers/$drv ]; then
		log "SKIP $model: this kernel has no $drv driver"
		continue
	fi
	pair "$model" "$drv"
	ran=$((ran + 1))
done
if [ $ran = 0 ] && [ $ret = $KSFT_PASS ]; then
	log "SKIP: no driver for any of the cards ($XTCP_VM_NICS)"
	exit $KSFT_SKIP
fi
exit $ret
