# SPDX-License-Identifier: GPL-2.0
"""Packet-level test library for xtcp: plays the remote peer through a tun.

Each scenario runs in a fresh network namespace with a tun device
"xtun0" holding 192.0.2.1/24. Everything xtcp sends to 192.0.2.2 comes out
of the tun, where the scenario reads and checks it; what the scenario
writes into the tun reaches xtcp as if 192.0.2.2 had sent it. Like
packetdrill, but in plain Python: no scapy (it takes 20 s to import in
the test VM).

The xtcp socket is driven through libc (ctypes), since Python's socket
module only knows the address formats of the families it was built with.

With XTCP_PKT_BASELINE=tcp in the environment the same scenarios run
against the kernel's own TCP instead (AF_INET sockets, IP protocol 6,
/proc/net/tcp, the TcpExt counters and net.ipv4 knobs where TCP has an
equivalent; tail loss probes off): a check of the scenarios themselves,
since Linux TCP is the reference for xtcp's behaviour. Run it without the
module (scripts/xtcp-vm --no-module).
"""

import ctypes
import errno
import fcntl
import os
import select
import struct
import sys
import time

LOCAL = "192.0.2.1"
PEER = "192.0.2.2"

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
ECE, CWR = 0x40, 0x80
# As tcpdump prints them ("E" ECE, "W" CWR).
FLAG_NAMES = [(SYN, "S"), (FIN, "F"), (RST, "R"), (PSH, "P"), (ECE, "E"),
              (CWR, "W"), (ACK, ".")]

STATES = {"ESTABLISHED": 0x01, "SYN_SENT": 0x02, "SYN_RECV": 0x03,
          "FIN_WAIT1": 0x04, "FIN_WAIT2": 0x05, "TIME_WAIT": 0x06,
          "CLOSE": 0x07, "CLOSE_WAIT": 0x08, "LAST_ACK": 0x09,
          "LISTEN": 0x0A, "CLOSING": 0x0B}


class Fail(Exception):
    """A scenario assertion failed."""


class Skip(Exception):
    """The scenario cannot run here; the message says why (TAP SKIP)."""


def check(cond, what):
    if not cond:
        raise Fail(what)


def read_int(path, default):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except OSError:
        return default


BASELINE = FAMILY = IPPROTO = PROC_TABLE = None


def use_stack(stack):
    """Point the library at "xtcp" or at the kernel's own "tcp"."""
    global BASELINE, FAMILY, IPPROTO, PROC_TABLE
    BASELINE = stack == "tcp"
    if BASELINE:
        FAMILY, IPPROTO = 2, 6          # AF_INET, IPPROTO_TCP
    else:
        FAMILY = read_int("/sys/module/xtcp/parameters/family", 19)
        IPPROTO = read_int("/sys/module/xtcp/parameters/ipproto", 253)
    PROC_TABLE = "/proc/net/tcp" if BASELINE else "/proc/net/xtcp"


def stack_name():
    return "tcp" if BASELINE else "xtcp"


use_stack("tcp" if os.environ.get("XTCP_PKT_BASELINE", "") == "tcp"
          else "xtcp")

SOL_SOCKET, SOL_TCP = 1, 6
SO_SNDBUF, SO_RCVBUF = 7, 8
TCP_NODELAY, TCP_MAXSEG, TCP_CORK = 1, 2, 3


def flags_str(f):
    return "".join(n for b, n in FLAG_NAMES if f & b) or "-"


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def aton(ip):
    return bytes(int(x) for x in ip.split("."))


def ntoa(b):
    return ".".join(str(x) for x in b)


# ---------------------------------------------------------------- options

def opt_mss(mss):
    return struct.pack("!BBH", 2, 4, mss)


def opt_wscale(shift):
    return struct.pack("!BBBB", 1, 3, 3, shift)


def opt_sackok():
    return struct.pack("!BBBB", 1, 1, 4, 2)


def opt_ts(tsval, tsecr):
    return struct.pack("!BBBBII", 1, 1, 8, 10, tsval, tsecr)


def opt_sack(blocks):
    """SACK option (RFC 2018): blocks is a list of (left, right) edges."""
    o = struct.pack("!BBBB", 1, 1, 5, 2 + 8 * len(blocks))
    for left, right in blocks:
        o += struct.pack("!II", left & 0xFFFFFFFF, right & 0xFFFFFFFF)
    return o


def parse_options(raw):
    opts = {}
    i = 0
    while i < len(raw):
        kind = raw[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(raw) or raw[i + 1] < 2:
            break
        ln = raw[i + 1]
        body = raw[i + 2:i + ln]
        if kind == 2 and ln == 4:
            opts["mss"] = struct.unpack("!H", body)[0]
        elif kind == 3 and ln == 3:
            opts["wscale"] = body[0]
        elif kind == 4 and ln == 2:
            opts["sackok"] = True
        elif kind == 8 and ln == 10:
            opts["ts"] = struct.unpack("!II", body)
        elif kind == 5:
            # SACK blocks in the order sent: (left, right) edges.
            check(ln >= 10 and (ln - 2) % 8 == 0 and len(body) == ln - 2,
                  "malformed SACK option of length %d" % ln)
            opts["sack"] = [struct.unpack("!II", body[j:j + 8])
                            for j in range(0, ln - 2, 8)]
        else:
            opts.setdefault("other", []).append(kind)
        i += ln
    return opts


def option_kinds(raw):
    """The kinds of the options in raw, in order, NOPs included: the
    layout a peer sees (Linux pads and packs its options in one way)."""
    kinds = []
    i = 0
    while i < len(raw):
        kinds.append(raw[i])
        if raw[i] in (0, 1):
            i += 1
        elif i + 1 < len(raw) and raw[i + 1] >= 2:
            i += raw[i + 1]
        else:
            break
    return kinds


# ---------------------------------------------------------------- segments

class Seg:
    """One parsed xtcp segment (IPv4 + TCP header)."""

    def __init__(self, raw):
        ihl = (raw[0] & 0xF) * 4
        self.tos = raw[1]
        self.proto = raw[9]
        self.src = ntoa(raw[12:16])
        self.dst = ntoa(raw[16:20])
        t = raw[ihl:]
        (self.sport, self.dport, self.seq, self.ack, off, self.flags,
         self.win, self.sum, _) = struct.unpack("!HHIIBBHHH", t[:20])
        doff = (off >> 4) * 4
        self.opts = parse_options(t[20:doff])
        self.kinds = option_kinds(t[20:doff])
        self.payload = t[doff:]
        pseudo = aton(self.src) + aton(self.dst) + struct.pack(
            "!BBH", 0, self.proto, len(t))
        self.csum_ok = csum(pseudo + t) == 0

    def __repr__(self):
        return "<%s:%d > %s:%d %s seq=%u ack=%u win=%u len=%d %s>" % (
            self.src, self.sport, self.dst, self.dport, flags_str(self.flags),
            self.seq, self.ack, self.win, len(self.payload), self.opts)


def build(src, dst, sport, dport, seq, ack, flags, win=65535, opts=b"",
          payload=b"", proto=None, bad_csum=False, ttl=64, tos=0):
    proto = IPPROTO if proto is None else proto
    while len(opts) % 4:
        opts += b"\1"
    doff = (20 + len(opts)) // 4
    t = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                    ack & 0xFFFFFFFF, doff << 4, flags, win, 0, 0)
    t += opts + payload
    pseudo = aton(src) + aton(dst) + struct.pack("!BBH", 0, proto, len(t))
    c = csum(pseudo + t) ^ (0x5555 if bad_csum else 0)
    t = t[:16] + struct.pack("!H", c) + t[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(t), 0, 0x4000, ttl,
                     proto, 0, aton(src), aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + t


# ---------------------------------------------------------------- libc

libc = ctypes.CDLL("libc.so.6", use_errno=True)
CLONE_NEWNET = 0x40000000


class SockaddrIn(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("port", ctypes.c_ushort),
                ("addr", ctypes.c_ubyte * 4), ("zero", ctypes.c_ubyte * 8)]


def sockaddr(ip, port):
    sa = SockaddrIn()
    sa.family = 2
    sa.port = ((port & 0xFF) << 8) | (port >> 8)
    sa.addr[:] = list(aton(ip))
    return sa


def _call(ret):
    if ret < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return ret


def xsocket(nonblock=False):
    return _call(libc.socket(FAMILY, 1 | (0o4000 if nonblock else 0), 0))


def xbind(fd, ip, port):
    sa = sockaddr(ip, port)
    _call(libc.bind(fd, ctypes.byref(sa), ctypes.sizeof(sa)))


def xconnect(fd, ip, port):
    """connect(); returns 0 or the errno."""
    sa = sockaddr(ip, port)
    if libc.connect(fd, ctypes.byref(sa), ctypes.sizeof(sa)) < 0:
        return ctypes.get_errno()
    return 0


def xlisten(fd, backlog=16):
    _call(libc.listen(fd, backlog))


def xaccept(fd, flags=0):
    return _call(libc.accept4(fd, None, None, flags))


def xname(fd, peer=False):
    sa = SockaddrIn()
    ln = ctypes.c_uint(ctypes.sizeof(sa))
    fn = libc.getpeername if peer else libc.getsockname
    _call(fn(fd, ctypes.byref(sa), ctypes.byref(ln)))
    return ntoa(bytes(sa.addr)), ((sa.port & 0xFF) << 8) | (sa.port >> 8)


def setsockopt_int(fd, level, opt, val):
    v = ctypes.c_int(val)
    _call(libc.setsockopt(fd, level, opt, ctypes.byref(v), 4))


def getsockopt_int(fd, level, opt):
    v = ctypes.c_int(0)
    ln = ctypes.c_uint(4)
    _call(libc.getsockopt(fd, level, opt, ctypes.byref(v), ctypes.byref(ln)))
    return v.value


# struct tcp_info of Linux 6.1: name -> (offset, struct format).
TCP_INFO_FIELDS = {"state": (0, "B"), "ca_state": (1, "B"),
                   "options": (5, "B"),
                   "retransmits": (2, "B"), "backoff": (4, "B"),
                   "rto": (8, "I"), "snd_mss": (16, "I"),
                   "unacked": (24, "I"), "lost": (32, "I"),
                   "retrans": (36, "I"), "rtt": (68, "I"),
                   "rcv_mss": (20, "I"), "rcv_ssthresh": (64, "I"),
                   "advmss": (84, "I"),
                   "rttvar": (72, "I"), "snd_ssthresh": (76, "I"),
                   "snd_cwnd": (80, "I"), "total_retrans": (100, "I"),
                   "pacing_rate": (104, "Q"), "max_pacing_rate": (112, "Q"),
                   "min_rtt": (148, "I"), "snd_wnd": (228, "I")}


def tcp_info(fd):
    """TCP_INFO of fd as a dict of TCP_INFO_FIELDS (times in us)."""
    buf = ctypes.create_string_buffer(232)
    ln = ctypes.c_uint(232)
    _call(libc.getsockopt(fd, 6, 11, buf, ctypes.byref(ln)))
    return {k: struct.unpack_from("<" + f, buf.raw, o)[0]
            for k, (o, f) in TCP_INFO_FIELDS.items()}


def set_linger(fd, onoff, secs):
    v = struct.pack("ii", onoff, secs)
    buf = ctypes.create_string_buffer(v)
    _call(libc.setsockopt(fd, 1, 13, buf, len(v)))


def so_error(fd):
    return getsockopt_int(fd, 1, 4)


def xshutdown(fd, how):
    _call(libc.shutdown(fd, how))


def unshare_net():
    _call(libc.unshare(CLONE_NEWNET))


# ---------------------------------------------------------------- netns

def sh(cmd):
    if os.system(cmd) != 0:
        raise Fail("command failed: " + cmd)


def write_file(path, val):
    with open(path, "w") as f:
        f.write(str(val))


# Baseline: the net.ipv4 sysctls of kernel TCP with an xtcp equivalent.
TCP_KNOBS = {"fin_timeout": "tcp_fin_timeout",
             "orphan_retries": "tcp_orphan_retries",
             "syn_retries": "tcp_syn_retries",
             "synack_retries": "tcp_synack_retries",
             "retries1": "tcp_retries1", "retries2": "tcp_retries2",
             "max_syn_backlog": "tcp_max_syn_backlog",
             "syncookies": "tcp_syncookies", "tw_reuse": "tcp_tw_reuse",
             "max_tw_buckets": "tcp_max_tw_buckets",
             "rfc1337": "tcp_rfc1337",
             "rack": "tcp_recovery", "tlp": "tcp_early_retrans",
             "invalid_ratelimit": "tcp_invalid_ratelimit",
             "challenge_ack_limit": "tcp_challenge_ack_limit",
             "min_snd_mss": "tcp_min_snd_mss",
             "max_orphans": "tcp_max_orphans",
             "notsent_lowat": "tcp_notsent_lowat",
             "timestamps": "tcp_timestamps", "sack": "tcp_sack",
             "dsack": "tcp_dsack", "window_scaling": "tcp_window_scaling",
             "slow_start_after_idle": "tcp_slow_start_after_idle",
             "ecn": "tcp_ecn", "ecn_fallback": "tcp_ecn_fallback"}

# Baseline: xtcp counter names and where kernel TCP counts the same.
TCP_COUNTERS = {"InSegs": "Tcp.InSegs", "OutSegs": "Tcp.OutSegs",
                "TwOverflow": "TcpExt.TCPTimeWaitOverflow",
                "RetransSegs": "Tcp.RetransSegs", "OutRsts": "Tcp.OutRsts",
                "InCsumErrors": "Tcp.InCsumErrors",
                "Timeouts": "TcpExt.TCPTimeouts",
                "FastRetrans": "TcpExt.TCPFastRetrans",
                "PawsDrop": "TcpExt.PAWSEstab",
                "DelayedAcks": "TcpExt.DelayedACKs",
                "ChallengeAck": "TcpExt.TCPChallengeACK",
                "AbortOnClose": "TcpExt.TCPAbortOnClose",
                "SyncookiesRecv": "TcpExt.SyncookiesRecv",
                "LossProbes": "TcpExt.TCPLossProbes",
                "LossProbeRecovery": "TcpExt.TCPLossProbeRecovery",
                "SyncookiesSent": "TcpExt.SyncookiesSent",
                "SyncookiesFailed": "TcpExt.SyncookiesFailed",
                "SynChallenge": "TcpExt.TCPSYNChallenge",
                "AckSkippedSynRecv": "TcpExt.TCPACKSkippedSynRecv",
                "AckSkippedPaws": "TcpExt.TCPACKSkippedPAWS",
                "AckSkippedSeq": "TcpExt.TCPACKSkippedSeq",
                "AckSkippedTimeWait": "TcpExt.TCPACKSkippedTimeWait",
                "AckSkippedFinWait2": "TcpExt.TCPACKSkippedFinWait2",
                "AckSkippedChallenge": "TcpExt.TCPACKSkippedChallenge",
                "ZeroWindowDrop": "TcpExt.TCPZeroWindowDrop",
                "DeferAcceptDrop": "TcpExt.TCPDeferAcceptDrop",
                "HystartTrainDetect": "TcpExt.TCPHystartTrainDetect",
                "HystartDelayDetect": "TcpExt.TCPHystartDelayDetect",
                "AbortOnData": "TcpExt.TCPAbortOnData",
                "AbortOnLinger": "TcpExt.TCPAbortOnLinger",
                "MinTTLDrop": "TcpExt.TCPMinTTLDrop",
                "AcceptQueueDrop": "TcpExt.ListenOverflows",
                # Linux's SYN drops by a listener (queue full, the last
                # quarter of max_syn_backlog) count here, besides others.
                "SynQueueDrop": "TcpExt.ListenDrops",
                "WqueueTooBig": "TcpExt.TCPWqueueTooBig",
                "AbortOnTimeout": "TcpExt.TCPAbortOnTimeout",
                "AbortOnMemory": "TcpExt.TCPAbortOnMemory",
                "MemoryPressures": "TcpExt.TCPMemoryPressures"}


def knob(name, val=None):
    """Read (val None) or set a net.xtcp knob of the current namespace."""
    if BASELINE:
        return _tcp_knob(name, val)
    path = "/proc/sys/net/xtcp/" + name
    if val is None:
        return read_int(path, None)
    write_file(path, val)
    return None


def _tcp_knob(name, val):
    if name == "rto_min_ms" and val is not None:
        # TCP's RTO floor per route (iproute2 locks it, as it must be).
        os.system("ip route replace %s/24 dev xtun0 proto kernel scope link "
                  "src %s rto_min %dms" % (PEER.rsplit(".", 1)[0] + ".0",
                                                LOCAL, val))
        return None
    if name not in TCP_KNOBS:
        return None                 # no TCP equivalent: ignored
    if name == "tlp" and val:
        val = 3                     # tcp_early_retrans: 3 is TLP on
    path = "/proc/sys/net/ipv4/" + TCP_KNOBS[name]
    if val is None:
        return read_int(path, None)
    write_file(path, val)
    return None


def counters():
    """Counters of /proc/net/xtcp_stat by name (TCP's under xtcp names)."""
    if BASELINE:
        raw = {}
        for path in ("/proc/net/snmp", "/proc/net/netstat"):
            with open(path) as f:
                lines = f.read().splitlines()
            for head, vals in zip(lines[0::2], lines[1::2]):
                pfx = head.split(":")[0]
                for k, v in zip(head.split()[1:], vals.split()[1:]):
                    raw[pfx + "." + k] = int(v)
        out = dict(raw)
        for k, v in TCP_COUNTERS.items():
            out[k] = raw.get(v, 0)
        return out
    out = {}
    with open("/proc/net/xtcp_stat") as f:
        for line in f:
            k, v = line.split()
            out[k] = int(v)
    return out


def proc_rows():
    rows = []
    with open(PROC_TABLE) as f:
        next(f)
        for line in f:
            p = line.split()
            la, lp = p[1].split(":")
            ra, rp = p[2].split(":")
            tx, rx = p[4].split(":")
            tr, when = p[5].split(":")
            rows.append({"lport": int(lp, 16), "rport": int(rp, 16),
                         "state": int(p[3], 16), "tx": int(tx, 16),
                         "rx": int(rx, 16), "timer": int(tr, 16),
                         "when": int(when, 16)})
    return rows


def state_of(lport, rport=None):
    """TCP state code of the row with these ports, or None."""
    for r in proc_rows():
        if r["lport"] == lport and (rport is None or r["rport"] == rport):
            return r["state"]
    return None


def timer_left(lport, rport):
    """Clock ticks (USER_HZ) left on the row's timer, or None."""
    for r in proc_rows():
        if r["lport"] == lport and r["rport"] == rport:
            return r["when"]
    return None


def wait_until(cond, what, limit=10.0):
    """Poll a condition (never a fixed sleep); fail after limit seconds."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.01)
    raise Fail("timed out waiting for " + what)


# ---------------------------------------------------------------- the peer

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000


class Peer:
    """The remote end, 192.0.2.2, behind the tun device."""

    def __init__(self):
        write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", 1)
        self.fd = os.open("/dev/net/tun", os.O_RDWR)
        ifr = struct.pack("16sH14x", b"xtun0", IFF_TUN | IFF_NO_PI)
        fcntl.ioctl(self.fd, TUNSETIFF, ifr)
        sh("ip link set lo up && ip link set xtun0 up && "
           "ip addr add %s/24 brd + dev xtun0" % LOCAL)
        self.port = 40000
        self.ts = 1000

    def send(self, sport, dport, seq, ack, flags, win=65535, opts=b"",
             payload=b"", **kw):
        os.write(self.fd, build(PEER, LOCAL, sport, dport, seq, ack, flags,
                                win, opts, payload, **kw))

    def recv(self, timeout=3.0):
        """The next xtcp segment out of the tun, or None."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                return None
            raw = os.read(self.fd, 65536)
            if len(raw) < 40 or raw[0] >> 4 != 4 or raw[9] != IPPROTO:
                continue
            return Seg(raw)

    def expect(self, flags, timeout=3.0, **want):
        """Read one segment; check its flags exactly and any given field."""
        s = self.recv(timeout)
        check(s is not None, "expected a %s segment, got nothing"
              % flags_str(flags))
        check(s.csum_ok, "bad checksum on %r" % s)
        check(s.flags & ~PSH == flags & ~PSH,
              "expected flags %s, got %r" % (flags_str(flags), s))
        for k, v in want.items():
            got = s.payload if k == "payload" else getattr(s, k)
            check(got == v, "expected %s=%r, got %r" % (k, v, s))
        return s

    def expect_none(self, timeout=0.5):
        s = self.recv(timeout)
        check(s is None, "expected silence, got %r" % s)

    def close(self):
        os.close(self.fd)


# ---------------------------------------------------------------- connections

class Conn:
    """A connection between an xtcp socket and the peer, with both ISNs."""

    def __init__(self, peer, fd, lport, pport, iss, irs, ts=False):
        self.peer, self.fd, self.lport, self.pport = peer, fd, lport, pport
        self.iss, self.irs = iss, irs      # xtcp's ISN, the peer's ISN
        self.snd = irs + 1                 # peer's next sequence number
        self.rcv = iss + 1                 # what the peer acknowledges
        self.ts = ts
        self.tsecr = 0                     # xtcp's last TSval seen

    def opts(self):
        if not self.ts:
            return b""
        self.peer.ts += 1
        return opt_ts(self.peer.ts, self.tsecr)

    def send(self, flags, payload=b"", seq=None, ack=None, win=65535, **kw):
        self.peer.send(self.pport, self.lport,
                       self.snd if seq is None else seq,
                       self.rcv if ack is None else ack, flags, win,
                       kw.pop("opts", self.opts()), payload, **kw)
        if seq is None:
            self.snd += len(payload) + (1 if flags & (SYN | FIN) else 0)

    def expect(self, flags, **want):
        s = self.peer.expect(flags, **want)
        check(s.sport == self.lport and s.dport == self.pport,
              "segment for another connection: %r" % s)
        self.saw(s)
        return s

    def saw(self, s):
        """Note xtcp's TSval from a segment, for TSecr in our replies."""
        if "ts" in s.opts:
            self.tsecr = s.opts["ts"][0]

    def state(self):
        return state_of(self.lport, self.pport)


def active_open(peer, knobs_ok=True, ts=False, nonblock=True, sack=False,
                wscale=None, win=65535, mss=1460):
    """xtcp connects to the peer; the peer answers; ESTABLISHED both ways.

    The peer's SYN-ACK offers MSS mss and, if asked, timestamps,
    SACK-permitted and window scale wscale, with window win (unscaled,
    as in any SYN).
    """
    c = start_connect(peer, nonblock)
    o = opt_mss(mss) + (opt_ts(peer.ts, c.syn.opts["ts"][0]) if ts else b"")
    if sack:
        o += opt_sackok()
    if wscale is not None:
        o += opt_wscale(wscale)
    c.saw(c.syn)
    peer.send(c.pport, c.lport, c.irs, c.iss + 1, SYN | ACK, win, o)
    c.ts = ts
    c.synack_ack = c.expect(ACK, seq=c.iss + 1, ack=c.irs + 1)
    wait_until(lambda: c.state() == STATES["ESTABLISHED"], "ESTABLISHED")
    return c


def start_connect(peer, nonblock=True, flags=SYN, setup=None):
    """Non-blocking connect(); returns a Conn in SYN_SENT with the SYN,
    whose flags must be @flags (SYN|ECE|CWR when it asks for ECN);
    setup(fd) runs before the connect()."""
    fd = xsocket(nonblock=nonblock)
    if setup:
        setup(fd)
    peer.port += 1
    err = xconnect(fd, PEER, peer.port)
    check(err == errno.EINPROGRESS, "connect: expected EINPROGRESS, got %s"
          % errno.errorcode.get(err, err))
    syn = peer.expect(flags, dport=peer.port)
    lport = xname(fd)[1]
    c = Conn(peer, fd, lport, peer.port, syn.seq, 7000000)
    c.syn = syn
    return c


def passive_open(peer, lfd, lport, ts=False, sack=True, wscale=2,
                 mss=1460):
    """The peer connects to a listener; returns the accepted Conn.

    The peer's SYN offers MSS mss, window scale wscale (None: not
    offered), SACK-permitted if sack, timestamps if ts.
    """
    peer.port += 1
    irs = 9000000
    o = opt_mss(mss)
    if wscale is not None:
        o += opt_wscale(wscale)
    if sack:
        o += opt_sackok()
    if ts:
        o += opt_ts(peer.ts, 0)
    peer.send(peer.port, lport, irs, 0, SYN, 65535, o)
    sa = peer.expect(SYN | ACK, ack=irs + 1, sport=lport, dport=peer.port)
    c = Conn(peer, None, lport, peer.port, sa.seq, irs, ts)
    c.synack = sa
    c.saw(sa)
    c.send(ACK)
    wait_until(lambda: c.state() == STATES["ESTABLISHED"], "ESTABLISHED")
    c.fd = xaccept(lfd)
    return c


def listener(port=5000, backlog=16):
    fd = xsocket()
    setsockopt_int(fd, 1, 2, 1)     # SO_REUSEADDR
    xbind(fd, LOCAL, port)
    xlisten(fd, backlog)
    return fd, port


# ---------------------------------------------------------------- runner

def settle():
    """End of a scenario: let every socket it leaves behind die quickly.

    Orphans (closed by the application, still retransmitting or waiting)
    hold the module and the namespace until they give up. With short
    retry limits they do so within a second; wait for that, so that the
    next test starts clean and the module can be unloaded. TIME_WAIT
    entries hold neither and die with the namespace.
    """
    if BASELINE:
        os.closerange(3, 4096)      # kernel TCP: the namespace's exit
        return                      # cleans up
    for k, v in (("orphan_retries", 1), ("rto_max_ms", 100),
                 ("rto_min_ms", 10), ("fin_timeout", 1)):
        knob(k, v)
    os.closerange(3, 4096)
    wait_until(lambda: all(r["state"] == STATES["TIME_WAIT"]
                           for r in proc_rows()),
               "the scenario's sockets to go away", 20)


def run(scenarios, stacks=None):
    """Run each scenario in a child with its own namespace; print TAP.

    With stacks (a list of "xtcp", "tcp"), each scenario runs once on
    each stack, named "<stack>.<scenario>": kernel TCP is the reference.
    """
    runs = [(s, fn) for fn in scenarios for s in (stacks or [None])]
    print("TAP version 13")
    print("1..%d" % len(runs))
    failed = 0
    for i, (stack, fn) in enumerate(runs, 1):
        name = fn.__name__ if stack is None else stack + "." + fn.__name__
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                if stack is not None:
                    use_stack(stack)
                unshare_net()
                knob("fin_timeout", 1)
                # No tail loss probes: a probe sent while a scenario
                # takes its time to answer would add segments. The
                # scenarios about them turn them on.
                knob("tlp", 0)
                peer = Peer()
                fn(peer)
                code = 0
            except Skip as e:
                print("# %s: SKIP: %s" % (name, e), flush=True)
                code = 4
            except Fail as e:
                print("# %s: %s" % (name, e), flush=True)
            except Exception as e:  # pylint: disable=broad-except
                print("# %s: %s: %s" % (name, type(e).__name__, e), flush=True)
            try:
                settle()
            except Exception as e:  # pylint: disable=broad-except
                print("# %s: %s" % (name, e), flush=True)
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1
        failed += code not in (0, 4)
        print("%s %d %s%s" % ("ok" if code in (0, 4) else "not ok", i, name,
                              " # SKIP" if code == 4 else ""), flush=True)
    print("# %d passed, %d failed" % (len(runs) - failed, failed))
    return 1 if failed else 0


def main(scenarios, stacks=None):
    """Entry point of a scenario file: run SCENARIOS, or those named."""
    if os.geteuid() != 0:
        print("# SKIP: needs root")
        sys.exit(4)
    os.system("modprobe tun 2>/dev/null")
    if not os.path.exists("/dev/net/tun"):
        print("# SKIP: no /dev/net/tun")
        sys.exit(4)
    only = sys.argv[1:]
    chosen = [s for s in scenarios if not only or s.__name__ in only]
    sys.exit(run(chosen, stacks))
