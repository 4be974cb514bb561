#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unmodified programs over xtcp with xtcp-run, each next to the same
# program over kernel TCP in the same run, between two namespaces joined
# by a veth pair (client 198.51.100.1, server 198.51.100.2):
#
#   iperf3        3 s each way (and -R), and -P 4
#   nginx + curl  16 MiB by sendfile with tcp_nopush, hash-checked
#   nginx + wrk   20 connections for 3 s: no socket error, no non-2xx
#   redis         redis-benchmark SET/GET, and with -P 16
#   socat         64 MiB, hash-checked
#   sockperf      ping-pong for 3 s: p50 and p99
#   python3 -m http.server + curl: 1 MiB, hash-checked
#
# Both ends run under xtcp-run for the xtcp runs and bare for the TCP
# runs, and each run checks the stack it claims: the opens it made are
# counted by that stack's counters (/proc/net/xtcp_stat, /proc/net/snmp)
# in both namespaces, and none by the other's. Each program prints one
# line with both figures; the figures are reported, not judged (TCG).
# On the debug kernel the runs are 1 s, nginx serves 4 MiB, socat moves
# 8 MiB and redis-benchmark makes 2000 requests.
# A program that is not installed is skipped (scripts/install-deps
# installs them all).
. "$(dirname "$0")/lib.sh"
require_root
require_module_file
xtcp_restore

here=$(cd "$(dirname "$0")" && pwd)
nsa=xtcp-apps-a
nsb=xtcp-apps-b
a=198.51.100.1
b=198.51.100.2
tmp=$(mktemp -d)
chmod 755 "$tmp"
srv=
cleanup()
{
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	ip netns del $nsa 2>/dev/null
	ip netns del $nsb 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

netns_veth_pair $nsa $nsb $a $b
export XTCP_PRELOAD_LIB=$here/libxtcp-preload.so

# On the debug kernel (KASAN, lockdep, kmemleak: several times slower)
# the same programs run with less to do: seconds and sizes, not coverage.
secs=3 web=16 sock=64 reqs=20000
case $(uname -r) in
*debug*)
	secs=1 web=4 sock=8 reqs=2000
	log "debug kernel: ${secs} s runs, $web MiB by nginx, $sock MiB by socat, $reqs redis requests"
	;;
esac

# runner PROTO: the command prefix that puts a program on PROTO.
runner() { [ "$1" = XTCP ] && echo "$here/xtcp-run"; }

# opens NS PROTO: active + passive opens PROTO counted in NS.
opens()
{
	if [ "$2" = XTCP ]; then
		ip netns exec "$1" awk '$1 == "ActiveOpens" || $1 == "PassiveOpens" \
			{ n += $2 } END { print n + 0 }' /proc/net/xtcp_stat
	else
		ip netns exec "$1" awk '$1 == "Tcp:" && !h { for (i = 2; i <= NF; i++)
			c[$i] = i; h = 1; next }
			$1 == "Tcp:" { print $c["ActiveOpens"] + $c["PassiveOpens"] }' \
			/proc/net/snmp
	fi
}

other() { [ "$1" = XTCP ] && echo TCP || echo XTCP; }

# mark: remember every namespace's counts; stack_used NAME PROTO: PROTO
# made connections in both namespaces since the mark, the other stack
# none.
mark()
{
	local ns p
	for ns in $nsa $nsb; do
		for p in XTCP TCP; do
			eval "m_${ns//-/_}_$p=$(opens $ns $p)"
		done
	done
}
stack_used()
{
	local name=$1 p=$2 o ns v m ok=1
	o=$(other "$p")
	for ns in $nsa $nsb; do
		v=$(opens $ns "$p")
		eval "m=\$m_${ns//-/_}_$p"
		if [ "$v" -le "$m" ]; then
			fail "$name over $p: no $p connection counted in $ns"
			ok=0
		fi
		v=$(opens $ns "$o")
		eval "m=\$m_${ns//-/_}_$o"
		if [ "$v" -ne "$m" ]; then
			fail "$name over $p: $((v - m)) connection(s) went over $o in $ns"
			ok=0
		fi
	done
	return $((!ok))
}

# listening PROTO PORT: a listener on PORT in the server's namespace.
listening()
{
	local t=
	[ "$1" = TCP ] && t=--tcp
	"$here/xtcp-stat" -N $nsb $t -lH | grep -q ":$2 "
}

# start NAME PROTO PORT CMD...: start a server in the server's namespace
# on PROTO and wait until it listens on PORT.
start()
{
	local name=$1 p=$2 port=$3
	shift 3
	ip netns exec $nsb $(runner "$p") "$@" > "$tmp/srv.log" 2>&1 &
	srv=$!
	if ! wait_for 60 listening "$p" "$port"; then
		fail "$name over $p: the server did not listen on $port: $(tail -n 3 "$tmp/srv.log" | tr '\n' ' ')"
		stop
		return 1
	fi
}
stop()
{
	[ -n "$srv" ] || return 0
	kill "$srv" 2>/dev/null
	reap "$srv" 20 >/dev/null 2>&1
	srv=
}

# client PROTO CMD...: run a client in the client's namespace on PROTO.
client() { local p=$1; shift; ip netns exec $nsa $(runner "$p") "$@"; }

have()
{
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null; then
			log "SKIP: $c is not installed (scripts/install-deps)"
			return 1
		fi
	done
}

declare -A F

# ---------------------------------------------------------------- iperf3
iperf()	# PROTO
{
	local p=$1 mode args
	for mode in up down par; do
		case $mode in
		up) args= ;;
		down) args=-R ;;
		par) args="-P 4" ;;
		esac
		start iperf3 "$p" 5201 iperf3 -s -1 -B $b -p 5201 || return
		mark
		if ! client "$p" iperf3 -c $b -B $a -p 5201 -t $secs -J $args \
			> "$tmp/iperf.json" 2> "$tmp/iperf.err"; then
			fail "iperf3 $mode over $p: $(head -c 300 "$tmp/iperf.err") $(grep -m1 '"error"' "$tmp/iperf.json")"
			stop
			continue
		fi
		stop
		stack_used "iperf3 $mode" "$p" || continue
		F[iperf_${mode}_$p]=$(python3 -c '
import json, sys
print("%.0f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' "$tmp/iperf.json")
		pass "iperf3 $mode over $p: ${F[iperf_${mode}_$p]} Mbit/s"
	done
}

# ------------------------------------------------------ nginx, curl, wrk
nginx_conf()
{
	mkdir -p "$tmp/www" "$tmp/nginx"
	head -c ${web}M /dev/urandom > "$tmp/www/blob"
	echo hello > "$tmp/www/small"
	cat > "$tmp/nginx/nginx.conf" <<-EOF
	user root;
	worker_processes 1;
	daemon off;
	pid $tmp/nginx/nginx.pid;
	error_log $tmp/nginx/error.log;
	events { worker_connections 512; }
	http {
		access_log off;
		sendfile on;
		tcp_nopush on;
		client_body_temp_path $tmp/nginx/body;
		proxy_temp_path $tmp/nginx/proxy;
		fastcgi_temp_path $tmp/nginx/fastcgi;
		uwsgi_temp_path $tmp/nginx/uwsgi;
		scgi_temp_path $tmp/nginx/scgi;
		server {
			listen $b:8080;
			root $tmp/www;
		}
	}
	EOF
}

web()	# PROTO
{
	local p=$1 want got out rps
	want=$(sha256sum < "$tmp/www/blob")
	start nginx "$p" 8080 nginx -e "$tmp/nginx/error.log" \
		-p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" || return
	mark
	got=$(client "$p" curl -sS --fail -o - http://$b:8080/blob | sha256sum)
	if [ "$got" = "$want" ] && stack_used "nginx+curl" "$p"; then
		pass "nginx (sendfile, tcp_nopush) + curl over $p: $web MiB, hash matches"
	elif [ "$got" != "$want" ]; then
		fail "nginx + curl over $p: $web MiB, hash differs"
	fi
	mark
	out=$(client "$p" wrk -t 2 -c 20 -d ${secs}s http://$b:8080/small 2>&1)
	rps=$(awk '$1 == "Requests/sec:" { printf "%.0f", $2 }' <<< "$out")
	if [ -z "$rps" ]; then
		fail "wrk over $p: $(tr '\n' ' ' <<< "$out")"
	elif grep -q "Socket errors\|Non-2xx" <<< "$out"; then
		fail "wrk over $p: $(grep "Socket errors\|Non-2xx" <<< "$out")"
	elif stack_used wrk "$p"; then
		F[wrk_$p]=$rps
		pass "nginx + wrk (20 connections) over $p: $rps requests/s, no errors"
	fi
	stop
}

# ----------------------------------------------------------------- redis
redis()	# PROTO
{
	local p=$1 pipe out set get
	start redis-server "$p" 6379 redis-server --bind $b --port 6379 \
		--save "" --appendonly no --dir "$tmp" --protected-mode no || return
	for pipe in 1 16; do
		mark
		out=$(client "$p" redis-benchmark -h $b -p 6379 -t set,get \
			-n $reqs -c 10 -P $pipe -q 2>&1 | tr '\r' '\n')
		# The last line of each test: "SET: 3053.43 requests per second".
		set=$(awk '$1 == "SET:" && /requests per second/ { v = $2 }
			END { if (v != "") printf "%.0f", v }' <<< "$out")
		get=$(awk '$1 == "GET:" && /requests per second/ { v = $2 }
			END { if (v != "") printf "%.0f", v }' <<< "$out")
		if [ -z "$set" ] || [ -z "$get" ]; then
			fail "redis-benchmark -P $pipe over $p: $(tail -n 3 <<< "$out" | tr '\n' ' ')"
		elif stack_used "redis-benchmark -P $pipe" "$p"; then
			F[redis_set_${pipe}_$p]=$set
			F[redis_get_${pipe}_$p]=$get
			pass "redis-benchmark -P $pipe over $p: SET $set, GET $get requests/s"
		fi
	done
	stop
}

# ----------------------------------------------------------------- socat
socat_copy()	# PROTO
{
	local p=$1 want got t0 t1
	[ -f "$tmp/blob64" ] || head -c ${sock}M /dev/urandom > "$tmp/blob64"
	want=$(sha256sum < "$tmp/blob64" | cut -d' ' -f1)
	rm -f "$tmp/socat.out"
	start socat "$p" 7000 sh -c "socat -u TCP-LISTEN:7000,bind=$b,reuseaddr - | sha256sum > $tmp/socat.out" || return
	mark
	t0=$EPOCHREALTIME
	if ! client "$p" socat -u "FILE:$tmp/blob64" TCP:$b:7000; then
		fail "socat over $p: the client failed"
		stop
		return
	fi
	t1=$EPOCHREALTIME
	wait_for 60 test -s "$tmp/socat.out"
	reap "$srv" 30 >/dev/null
	srv=
	got=$(cut -d' ' -f1 < "$tmp/socat.out" 2>/dev/null)
	if [ "$got" != "$want" ]; then
		fail "socat over $p: $sock MiB, hash differs (${got:-nothing})"
	elif stack_used socat "$p"; then
		F[socat_$p]=$(awk -v a="$t0" -v b="$t1" -v s="$sock" 'BEGIN { printf "%.0f", s * 1.048576 / (b - a) }')
		pass "socat over $p: $sock MiB in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s, hash matches"
	fi
}

# -------------------------------------------------------------- sockperf
pingpong()	# PROTO
{
	local p=$1 out p50 p99
	start sockperf "$p" 11111 sockperf server --tcp -i $b -p 11111 || return
	mark
	out=$(client "$p" sockperf ping-pong --tcp -i $b -p 11111 -t $secs 2>&1)
	stop
	p50=$(awk '/percentile 50.000 =/ { printf "%.1f", $NF }' <<< "$out")
	p99=$(awk '/percentile 99.000 =/ { printf "%.1f", $NF }' <<< "$out")
	if [ -z "$p50" ] || [ -z "$p99" ]; then
		fail "sockperf over $p: $(tail -n 3 <<< "$out" | tr '\n' ' ')"
	elif stack_used sockperf "$p"; then
		F[sockperf_p50_$p]=$p50
		F[sockperf_p99_$p]=$p99
		pass "sockperf ping-pong over $p: p50 $p50 us, p99 $p99 us"
	fi
}

# ---------------------------------------------------- python http.server
pyhttp()	# PROTO
{
	local p=$1 want got ms
	head -c 1M /dev/urandom > "$tmp/www/py"
	want=$(sha256sum < "$tmp/www/py")
	start "python3 -m http.server" "$p" 8000 python3 -m http.server 8000 \
		--bind $b --directory "$tmp/www" || return
	mark
	rm -f "$tmp/py.got"
	ms=$(client "$p" curl -sS --fail -o "$tmp/py.got" -w '%{time_total}' \
		http://$b:8000/py | awk '{ printf "%.0f", $1 * 1000 }')
	got=$(sha256sum < "$tmp/py.got" 2>/dev/null)
	stop
	if [ "$got" != "$want" ]; then
		fail "python3 http.server + curl over $p: hash differs"
	elif stack_used "python3 http.server" "$p"; then
		F[pyhttp_$p]=$ms
		pass "python3 -m http.server + curl over $p: 1 MiB in $ms ms, hash matches"
	fi
}

both()	# FUNCTION: run it over kernel TCP, then over xtcp
{
	local t0=$SECONDS

	"$1" TCP
	"$1" XTCP
	log "$1: $((SECONDS - t0)) s for both stacks"
}

# line NAME UNIT KEY: one line with both figures.
line()
{
	log "$(printf '%-28s xtcp %10s  tcp %10s  %s' "$1" \
		"${F[${3}_XTCP]:--}" "${F[${3}_TCP]:--}" "$2")"
}

# What a program sees of its socket: SO_DOMAIN, SO_TYPE and SO_PROTOCOL,
# /proc/self/fdinfo and the fd's link, over TCP and under xtcp-run.
sees()	# PROTO
{
	client "$1" python3 -c '
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
g = lambda o: s.getsockopt(socket.SOL_SOCKET, o)
fd = s.fileno()
keys = [l.split(":")[0] for l in open("/proc/self/fdinfo/%d" % fd)]
link = os.readlink("/proc/self/fd/%d" % fd).split(":")[0]
print(g(socket.SO_DOMAIN), g(socket.SO_TYPE), g(socket.SO_PROTOCOL),
      ",".join(keys), link)'
}
read -r td tt tp tk tl <<< "$(sees TCP)"
read -r xd xt xp xk xl <<< "$(sees XTCP)"
# The one difference on purpose: SO_PROTOCOL is the IP protocol, 253.
if [ "$td $tt $tp" = "2 1 6" ] && [ "$xd $xt $xp" = "2 1 253" ] &&
   [ "$tk" = "$xk" ] && [ "$tl" = socket ] && [ "$xl" = socket ]; then
	pass "a program sees SO_DOMAIN AF_INET, SO_TYPE SOCK_STREAM, SO_PROTOCOL 253 (TCP: 6), fdinfo $xk and a socket: link, as over TCP"
else
	fail "what a program sees: TCP '$td $tt $tp $tk $tl', xtcp '$xd $xt $xp $xk $xl'"
fi

if have iperf3; then
	both iperf
	line "iperf3 client -> server" Mbit/s iperf_up
	line "iperf3 -R server -> client" Mbit/s iperf_down
	line "iperf3 -P 4" Mbit/s iperf_par
fi
if have nginx curl wrk; then
	nginx_conf
	both web
	line "nginx + wrk, 20 connections" requests/s wrk
fi
if have redis-server redis-benchmark; then
	both redis
	line "redis SET" requests/s redis_set_1
	line "redis GET" requests/s redis_get_1
	line "redis SET -P 16" requests/s redis_set_16
	line "redis GET -P 16" requests/s redis_get_16
fi
if have socat; then
	both socat_copy
	line "socat $sock MiB" MB/s socat
fi
if have sockperf; then
	both pingpong
	line "sockperf ping-pong p50" us sockperf_p50
	line "sockperf ping-pong p99" us sockperf_p99
fi
if have python3 curl; then
	[ -d "$tmp/www" ] || mkdir -p "$tmp/www"
	both pyhttp
	line "python3 http.server, 1 MiB" ms pyhttp
fi

exit $ret
