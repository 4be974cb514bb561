#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Loading must fail cleanly, with one clear kernel log line and nothing
# left registered, when the socket family or the IP protocol is taken, or
# a parameter is out of range.
. "$(dirname "$0")/lib.sh"
require_root
require_module_file

trap xtcp_restore EXIT
xtcp_loaded && xtcp_unload

# refused PARAM EXPECTED_LOG_TEXT
refused()
{
	local mark out n
	mark=$(klog_mark)
	if xtcp_load "$1" 2>/dev/null; then
		fail "insmod $1 succeeded"
		xtcp_unload
		return
	fi
	out=$(klog_since "$mark" | grep '^\[.*\] xtcp: \|^xtcp: ' || true)
	n=$(printf '%s\n' "$out" | grep -c 'xtcp:' || true)
	if printf '%s\n' "$out" | grep -q "$2" && [ "$n" -eq 1 ]; then
		pass "insmod $1 refused: ${out#*] }"
	else
		fail "insmod $1: expected one line with '$2', got: $out"
	fi
	xtcp_loaded && fail "module present after failed insmod $1"
	grep -q '^XTCP ' /proc/net/protocols &&
		fail "XTCP left in /proc/net/protocols after insmod $1"
}

refused family=2 "socket family 2 is already registered"
refused ipproto=6 "IP protocol 6 is already claimed"
refused family=0 "family=0 is out of range"
refused family=46 "family=46 is out of range"
refused ipproto=255 "ipproto=255 is out of range"

# TCP itself is untouched by the failed attempts.
python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()' &&
	pass "kernel TCP still works" || fail "kernel TCP broken"

# And a normal load works afterwards.
xtcp_load && pass "insmod with defaults" || fail "insmod with defaults"
exit $ret
