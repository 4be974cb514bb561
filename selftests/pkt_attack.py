#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Attack scenarios: a hostile peer behind the tun, against xtcp and TCP.

Each scenario mounts one attack that Linux TCP defends against (the holes
of the security review, issue 10) and runs twice: against xtcp and
against the kernel's own TCP, which is the bar. The peer spoofs what an
off-path attacker or a desynchronised host would send and checks what
comes back on the wire and in the counters.

- Answers to unacceptable segments are rate limited per connection
  (invalid_ratelimit, tcp_oow_rate_limited()): challenge ACKs, duplicate
  ACKs for out-of-window and PAWS-rejected segments, SYN-ACKs for
  duplicate SYNs of a half-open connection, ACKs from TIME_WAIT. No ACK
  storm between two desynchronised hosts, no challenge-ACK side channel
  (CVE-2016-5696).
- A namespace-wide challenge ACK budget, when challenge_ack_limit sets
  one.
- An ACK is tried as a SYN cookie only by a listener that sent cookies in
  the last two minutes.
- ts_recent moves only for acceptable segments: one spoofed segment with
  a huge TSval cannot make PAWS drop the genuine traffic.
- A zero receive window takes no data (TCPZeroWindowDrop), and no window
  smaller than a segment is offered (receiver silly-window avoidance).
- The inbound policy of the IPv4 stack runs for every segment: IP_MINTTL,
  an IPsec policy that requires ESP, SO_ATTACH_FILTER, and the cgroup-BPF
  hooks (sock_create, bind4, connect4, ingress).
- connect() again on the same socket after a refused, unreachable or
  timed-out attempt starts from scratch: a fresh SYN with every option,
  and the connection carries 1 MiB.
- A peer with a tiny MSS that SACKs every other segment of the flight
  gets segments of min_snd_mss (48 bytes) and cannot make the write queue
  grow past twice the send buffer (CVE-2019-11478, CVE-2019-11479).
- A peer that answers every zero window probe and never opens its window
  cannot keep a connection forever: TCP_USER_TIMEOUT fires, an orphan dies
  once its probes are RTO_MAX apart, 1000 such orphans die on time and
  their memory returns, and orphans beyond max_orphans are reset.
"""

import ctypes
import errno
import os
import select
import statistics
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import xtcp_pkt as P  # noqa: E402
from xtcp_pkt import (ACK, FIN, PSH, RST, SYN, SOL_SOCKET, SO_RCVBUF,  # noqa: E402
                      STATES, Conn, Fail, Skip, check, counters, knob, listener,
                      aton, build, csum, opt_mss, opt_ts,
                      setsockopt_int, so_error, state_of, wait_until,
                      xaccept, xconnect, xname, xsocket)

S = STATES

# The debug kernel (KASAN, lockdep, kmemleak) runs the scale scenarios
# at a fifth of their size: what it checks is the code, not the scale.
DEBUG_KERNEL = "debug" in os.uname().release
SCALE = 5 if DEBUG_KERNEL else 1


def pattern(n, seed=0):
    base = bytes((i * 7 + seed) % 251 for i in range(251))
    return (base * (n // 251 + 1))[:n]


def delta(before, name):
    return counters()[name] - before[name]


def check_delta(before, name, want):
    got = delta(before, name)
    check(got == want, "%s went up by %d, not %d" % (name, got, want))


def collect(peer, lport, limit=0.5):
    """Every segment of port lport that comes out within limit seconds."""
    out = []
    end = time.monotonic() + limit
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return out
        s = peer.recv(left)
        if s is None:
            return out
        check(s.csum_ok, "bad checksum on %r" % s)
        if lport is None or s.sport == lport:
            out.append(s)


def pure_acks(segs, c):
    """The pure ACKs in segs, each checked to carry c's current numbers."""
    for s in segs:
        check(s.flags & ~PSH == ACK and not s.payload,
              "expected only pure ACKs, got %r" % s)
        check(s.seq == c.rcv and s.ack == c.snd,
              "ACK seq/ack %d/%d, not %d/%d: %r"
              % (s.seq, s.ack, c.rcv, c.snd, s))
        c.saw(s)
    return segs


def answers(c, n, what):
    segs = pure_acks(collect(c.peer, c.lport), c)
    check(len(segs) == n, "%s: %d answers, not %d" % (what, len(segs), n))


def established(c):
    check(c.state() == S["ESTABLISHED"],
          "connection not ESTABLISHED any more (state %r)" % c.state())


def peer_data(c, payload, seq=None, ack=None, flags=ACK, opts=None):
    c.peer.send(c.pport, c.lport, c.snd if seq is None else seq,
                c.rcv if ack is None else ack, flags, 65535,
                c.opts() if opts is None else opts, payload)


def expect_ack_of(c, n_after, what, win=None):
    """A pure ACK acknowledging everything up to c.snd + n_after."""
    s = c.peer.expect(ACK, timeout=2.0)
    check(s.sport == c.lport, "segment for another connection: %r" % s)
    check(not s.payload and s.ack == (c.snd + n_after) & 0xFFFFFFFF,
          "%s: expected the ACK of %d bytes, got %r" % (what, n_after, s))
    check(win is None or s.win == win,
          "%s: window %d, not %r" % (what, s.win, win))
    c.saw(s)
    return s


def read_available(fd, limit=2.0):
    out = b""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            got = os.read(fd, 65536)
        except BlockingIOError:
            if out:
                return out
            time.sleep(0.01)
            continue
        check(got, "EOF while reading")
        out += got
    return out


# ------------------------------------------------ rate-limited answers

def challenge_ack_per_connection(peer):
    """RFC 5961 challenge ACKs: one per invalid_ratelimit per connection.

    Before: xtcp answered every in-window RST; only a namespace-wide,
    fixed 1000/s budget limited them (the CVE-2016-5696 side channel).
    """
    knob("invalid_ratelimit", 5000)
    c = P.active_open(peer)
    b = counters()
    for k in range(5):
        c.send(RST, seq=c.snd + 100 + k)
    answers(c, 1, "5 in-window RSTs")
    check_delta(b, "ChallengeAck", 1)
    check_delta(b, "AckSkippedChallenge", 4)
    # An in-window SYN draws a challenge ACK from the same allowance.
    c.send(SYN, seq=c.snd + 5000)
    answers(c, 0, "SYN inside the same 5 s")
    established(c)
    # 0 turns the limit off.
    knob("invalid_ratelimit", 0)
    for k in range(3):
        c.send(RST, seq=c.snd + 200 + k)
    answers(c, 3, "3 in-window RSTs with invalid_ratelimit 0")
    established(c)


def challenge_ack_namespace_budget(peer):
    """challenge_ack_limit: a budget per second, randomised, per namespace.

    With a limit of 4 a second's budget lies in [2, 5]; 16 in-window RSTs
    on two connections in a burst (within at most two seconds) draw at
    least 2 and at most 10 challenge ACKs. Before: xtcp had a fixed 1000.
    """
    knob("invalid_ratelimit", 0)
    knob("challenge_ack_limit", 4)
    c1 = P.active_open(peer)
    c2 = P.active_open(peer)
    b = counters()
    t0 = time.monotonic()
    for k in range(8):
        for c in (c1, c2):
            c.send(RST, seq=c.snd + 100 + k)
    segs = collect(peer, None, 0.5)
    n = 0
    for c in (c1, c2):
        n += len(pure_acks([s for s in segs if s.sport == c.lport], c))
    check(n == len(segs), "segments of neither connection: %r" % segs)
    check(time.monotonic() - t0 < 2.0, "the burst took more than 2 s")
    check(2 <= n <= 10, "%d challenge ACKs for 16 RSTs under a limit of 4"
          % n)
    check_delta(b, "ChallengeAck", n)
    established(c1)
    established(c2)


def out_of_window_answers_rate_limited(peer):
    """Duplicate ACKs for out-of-window segments: one per invalid_ratelimit
    for pure ACKs, always for data; none for an ACK of unsent data in
    ESTABLISHED (as Linux). Before: xtcp answered every one (ACK storm).
    """
    knob("invalid_ratelimit", 5000)
    c = P.active_open(peer)
    b = counters()
    for _ in range(5):
        c.send(ACK, seq=c.snd + 10000000)
    answers(c, 1, "5 out-of-window ACKs")
    check_delta(b, "AckSkippedSeq", 4)
    for _ in range(3):
        peer_data(c, b"x" * 10, seq=c.snd + 10000000)
    answers(c, 3, "3 out-of-window data segments")
    for _ in range(3):
        c.send(ACK, ack=c.rcv + 5000)
    answers(c, 0, "3 ACKs of unsent data")
    established(c)


def paws_answers_rate_limited(peer):
    """Duplicate ACKs for PAWS-rejected segments, one per invalid_ratelimit.
    """
    knob("invalid_ratelimit", 5000)
    c = P.active_open(peer, ts=True)
    b = counters()
    old = (peer.ts - 100000) & 0xFFFFFFFF
    for _ in range(5):
        c.send(ACK, win=1000, opts=opt_ts(old, c.tsecr))
    answers(c, 1, "5 ACKs with an old TSval")
    check_delta(b, "PawsDrop", 5)
    check_delta(b, "AckSkippedPaws", 4)
    established(c)


def syn_recv_duplicate_syn_rate_limited(peer):
    """A half-open connection answers its SYN again once per
    invalid_ratelimit, not for every copy. Before: every copy.
    """
    knob("invalid_ratelimit", 5000)
    lfd, lport = listener(5030)
    peer.port += 1
    irs = 9000000
    syn = dict(sport=peer.port, dport=lport, seq=irs, ack=0, flags=SYN,
               win=65535, opts=opt_mss(1460))
    peer.send(**syn)
    sa = peer.expect(SYN | ACK, ack=irs + 1)
    b = counters()
    for _ in range(5):
        peer.send(**syn)
    segs = collect(peer, lport)
    check(len(segs) == 1 and segs[0].flags == SYN | ACK and
          segs[0].seq == sa.seq and segs[0].ack == irs + 1,
          "5 duplicate SYNs: expected one SYN-ACK again, got %r" % segs)
    check_delta(b, "AckSkippedSynRecv", 4)
    peer.send(peer.port, lport, irs + 1, sa.seq + 1, ACK)
    wait_until(lambda: state_of(lport, peer.port) == S["ESTABLISHED"],
               "ESTABLISHED")
    os.close(xaccept(lfd))


def enter_time_wait(peer):
    """A connection we close first: our FIN, the peer's FIN, our last ACK."""
    c = P.active_open(peer)
    os.close(c.fd)
    c.expect(FIN | ACK, seq=c.iss + 1)
    c.rcv += 1
    c.send(FIN | ACK)
    c.expect(ACK, seq=c.rcv, ack=c.snd)
    return c


def time_wait_answers(peer):
    """TIME_WAIT: a bare ACK at rcv_nxt is taken silently; other ACKs get
    one answer per invalid_ratelimit; a FIN again is always answered.
    Before: xtcp answered every segment.
    """
    knob("invalid_ratelimit", 5000)
    c = enter_time_wait(peer)
    check(c.state() == S["TIME_WAIT"], "not TIME_WAIT")
    b = counters()
    c.send(ACK)
    answers(c, 0, "a bare ACK at rcv_nxt")
    for _ in range(5):
        c.send(ACK, seq=c.snd + 100000)
    answers(c, 1, "5 out-of-window ACKs")
    check_delta(b, "AckSkippedTimeWait", 4)
    for _ in range(2):
        c.send(FIN | ACK, seq=c.snd - 1)
    answers(c, 2, "the FIN twice again")
    check(c.state() == S["TIME_WAIT"], "TIME_WAIT gone")


# ------------------------------------------------ SYN cookies

def cookie_ack_needs_recent_cookie(peer):
    """An ACK is a cookie only for a listener that sent cookies lately.

    A valid cookie from another listener's SYN-ACK (the cookie secret is
    per boot, not per listener) is refused by a listener that never sent
    one: RST, no connection. Before: xtcp tried every ACK as a cookie, so
    about 2^29 spoofed ACKs planted a connection from any address.
    """
    up = float(open("/proc/uptime").read().split()[0])
    if P.BASELINE and 298 < up < 422:
        # Linux keeps "last overflow" in jiffies with 0 for never, and
        # jiffies pass 0 five minutes after boot: for two minutes from
        # then every new listener counts as freshly overflowed.
        raise Skip("kernel TCP takes a new listener for overflowed within "
                   "2 minutes of jiffies wrapping (uptime %.0f s)" % up)
    knob("syncookies", 2)
    lfd, lport = listener(5031)
    peer.port += 1
    pport, irs = peer.port, 5000000
    peer.send(pport, lport, irs, 0, SYN, 65535, opt_mss(1460))
    cookie = peer.expect(SYN | ACK, ack=irs + 1).seq
    os.close(lfd)
    knob("syncookies", 1)
    lfd, _ = listener(lport)
    b = counters()
    peer.send(pport, lport, irs + 1, cookie + 1, ACK)
    peer.expect(RST, seq=cookie + 1)
    check(state_of(lport, pport) is None, "the ACK made a connection")
    check_delta(b, "SyncookiesRecv", 0)
    # The listener's own cookies are good while they are fresh.
    knob("syncookies", 2)
    peer.port += 1
    peer.send(peer.port, lport, irs, 0, SYN, 65535, opt_mss(1460))
    cookie = peer.expect(SYN | ACK, ack=irs + 1).seq
    peer.send(peer.port, lport, irs + 1, cookie + 1, ACK)
    wait_until(lambda: state_of(lport, peer.port) == S["ESTABLISHED"],
               "the cookie ACK to make a connection")
    check_delta(b, "SyncookiesRecv", 1)
    os.close(xaccept(lfd))


def cookie_ack_with_data(peer):
    """The ACK that completes a cookie handshake may carry data: it is the
    new connection's first. Before: xtcp made the connection and dropped
    the data, which the peer had to send again.
    """
    knob("syncookies", 2)
    lfd, lport = listener(5032)
    peer.port += 1
    irs = 6000000
    peer.send(peer.port, lport, irs, 0, SYN, 65535, opt_mss(1460))
    cookie = peer.expect(SYN | ACK, ack=irs + 1).seq
    data = pattern(100, 3)
    peer.send(peer.port, lport, irs + 1, cookie + 1, ACK, 65535, b"", data)
    s = peer.expect(ACK, timeout=2.0)
    check(s.ack == irs + 101 and not s.payload,
          "expected the ACK of 100 bytes, got %r" % s)
    fd = xaccept(lfd)
    os.set_blocking(fd, False)
    check(read_available(fd) == data, "the data of the cookie ACK")
    os.close(fd)
    os.close(lfd)


def accept_queue_bounded(peer):
    """Handshakes complete into the accept queue only while it has room
    (backlog + 1 children, as sk_acceptq_is_full()): beyond, a SYN is
    dropped, and so is the ACK of a handshake begun while there was room
    (ListenOverflows); the SYN-ACK's retransmission asks for that ACK
    again once accept() made room. Before: xtcp queued every child that
    completed its handshake.
    """
    lfd, lport = listener(5033, backlog=2)
    irs = 8000000
    isn = {}

    def syn():
        peer.port += 1
        peer.send(peer.port, lport, irs, 0, SYN, 65535, opt_mss(1460))
        return peer.port

    def synack(p):
        isn[p] = peer.expect(SYN | ACK, dport=p, ack=irs + 1).seq

    def ack(p):
        peer.send(p, lport, irs + 1, isn[p] + 1, ACK)

    def est(p):
        return state_of(lport, p) == S["ESTABLISHED"]

    done = []
    for _ in range(2):
        p = syn()
        synack(p)
        ack(p)
        wait_until(lambda: est(p), "handshake %d" % p)
        done.append(p)
    # Two more begin while the queue has room for one more child.
    late = [syn(), syn()]
    for p in late:
        synack(p)
    b = counters()
    ack(late[0])
    wait_until(lambda: est(late[0]), "the third child")
    ack(late[1])
    check(not [x for x in collect(peer, lport, 0.5) if x.flags != SYN | ACK],
          "an answer to the fourth ACK")
    check(state_of(lport, late[1]) == S["SYN_RECV"],
          "the fourth child: state %r" % state_of(lport, late[1]))
    check_delta(b, "AcceptQueueDrop", 1)
    # No room for a new SYN either (the fourth child's SYN-ACK may come
    # again meanwhile).
    p = syn()
    check(not [x for x in collect(peer, lport, 0.5) if x.dport == p],
          "a SYN was answered")
    check_delta(b, "AcceptQueueDrop", 2)
    # accept() makes room (the accepted stay open: no FINs in between).
    fds = [xaccept(lfd) for _ in range(3)]
    # The SYN-ACK again, and this time the ACK finds room.
    synack(late[1])
    ack(late[1])
    wait_until(lambda: est(late[1]), "the retried handshake")
    fds.append(xaccept(lfd))


def tcp_info_rtt(fd):
    buf = ctypes.create_string_buffer(232)
    ln = ctypes.c_uint(232)
    P._call(P.libc.getsockopt(fd, 6, 11, buf, ctypes.byref(ln)))
    return struct.unpack_from("<I", buf.raw, 68)[0]     # tcpi_rtt, us


def rtt_not_from_a_lying_echo(peer):
    """An ACK whose TSecr claims our segment left 100 s ago sets no RTT:
    a segment that was never retransmitted is timed by when it left
    (Karn), duplicate ACKs time nothing, and an echo only counts for
    retransmitted data, as tcp_ack_update_rtt(). Before: xtcp took the
    RTT from the echo of every ACK of new data, so a peer (or a spoofed
    ACK) could set the RTO.
    """
    c = P.active_open(peer, ts=True)
    for k in range(2):
        data = pattern(100, 4 + k)
        os.write(c.fd, data)
        s = c.expect(ACK | PSH, payload=data)
        c.rcv += 100
        if k == 0:
            c.send(ACK)
            wait_until(lambda: tcp_info_rtt(c.fd) > 0, "an RTT sample")
            before = tcp_info_rtt(c.fd)
            continue
        lie = (s.opts["ts"][0] - 100000) & 0xFFFFFFFF
        c.send(ACK, opts=opt_ts(peer.ts, lie))
        for _ in range(3):
            c.send(ACK, opts=opt_ts(peer.ts, lie))
    answers(c, 0, "the ACKs")
    after = tcp_info_rtt(c.fd)
    check(after < 1000000 and after <= 2 * before + 10000,
          "tcpi_rtt %d us -> %d us after lying echoes" % (before, after))
    established(c)


# ------------------------------------------------ PAWS state

def ts_recent_only_from_acceptable_segments(peer):
    """One spoofed segment with a huge TSval and a bad ACK (or none) does
    not move ts_recent: the genuine data after it is accepted. Before:
    xtcp stored ts_recent before checking the ACK, and PAWS then dropped
    every genuine segment.
    """
    for variant in ("ack of unsent data", "no ACK", "ACK too old"):
        c = P.active_open(peer, ts=True)
        peer.ts += 10
        huge = (peer.ts + 0x40000000) & 0xFFFFFFFF
        opts = opt_ts(huge, c.tsecr)
        if variant == "ack of unsent data":
            peer_data(c, b"evil!", ack=c.rcv + 100000, opts=opts)
            want = 0
        elif variant == "no ACK":
            peer_data(c, b"evil!", ack=0, flags=PSH, opts=opts)
            want = 0
        else:
            # Older than everything ever acknowledged (the SYN only):
            # RFC 5961 5.2 answers it with a challenge ACK.
            peer_data(c, b"evil!", ack=c.rcv - 1000, opts=opts)
            want = 1
        segs = pure_acks(collect(peer, c.lport), c)
        data = pattern(100)
        peer_data(c, data)
        expect_ack_of(c, 100, "genuine data after '%s'" % variant)
        got = read_available(c.fd)
        check(got == data, "%s: read %r, not the genuine data"
              % (variant, got[:16]))
        check(len(segs) == want, "%s: %d answers, not %d"
              % (variant, len(segs), want))
        c.snd += 100
        established(c)
        os.close(c.fd)
        c.expect(FIN | ACK)
        c.send(RST)
        wait_until(lambda: c.state() is None, "the RST to end it")


# ------------------------------------------------ receive window

def zero_window_takes_no_data(peer):
    """A zero window drops data at rcv_nxt (TCPZeroWindowDrop) and ACKs it
    with the window; no window between 0 and a segment is ever offered
    (RFC 1122 4.2.3.3). Before: xtcp queued data into a zero window.
    """
    fd = xsocket(nonblock=True)
    setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, 4096)
    peer.port += 1
    err = xconnect(fd, P.PEER, peer.port)
    check(err == errno.EINPROGRESS, "connect: %s" % errno.errorcode.get(err))
    syn = peer.expect(SYN, dport=peer.port)
    c = Conn(peer, fd, xname(fd)[1], peer.port, syn.seq, 7000000)
    # No window scale: the window is in bytes, as the peer sees it.
    peer.send(c.pport, c.lport, c.irs, c.iss + 1, SYN | ACK, 65535,
              opt_mss(1460))
    s = c.expect(ACK, seq=c.iss + 1, ack=c.irs + 1)
    # Segments of 1000 bytes: their skbs cost less than twice their
    # payload, which the window (half the free buffer) allows for.
    seg, sent, win = 1000, b"", s.win
    edges = [c.snd + win]
    for i in range(600):
        if win == 0:
            break
        n = min(seg, win)
        chunk = pattern(n, i)
        peer_data(c, chunk)
        s = peer.recv(1.0)
        if s is None or s.sport != c.lport:
            continue
        got = (s.ack - c.snd) & 0xFFFFFFFF
        check(got in (0, n), "ACK of %d bytes of %d: %r" % (got, n, s))
        if got:
            sent += chunk
            c.snd = s.ack
        win = s.win
        edges.append(c.snd + win)
    check(win == 0, "the window never closed: right edges %r, %d bytes "
          "taken, %r" % (edges[-10:], len(sent),
                         {k: v for k, v in counters().items()
                          if v and "." not in k}))
    moves = [b - a for a, b in zip(edges, edges[1:]) if b != a]
    check(all(m >= seg for m in moves),
          "the right edge moved by less than a segment: %r" % moves)
    b = counters()
    peer_data(c, pattern(100, 99))
    expect_ack_of(c, 0, "data into the zero window", win=0)
    check_delta(b, "ZeroWindowDrop", 1)
    # Reading a little frees less than a segment: no window to offer.
    got = os.read(fd, 100)
    check(got == sent[:100], "the first 100 bytes")
    answers(c, 0, "after reading 100 bytes")
    peer_data(c, b"?")
    expect_ack_of(c, 0, "a 1-byte probe after reading 100 bytes", win=0)
    check_delta(b, "ZeroWindowDrop", 2)
    got += read_available(fd)
    check(got == sent, "read %d bytes, not the %d acknowledged"
          % (len(got), len(sent)))
    s = peer.expect(ACK, timeout=2.0)
    check(s.win >= seg and s.ack == c.snd,
          "after reading it all: expected a window update, got %r" % s)
    data = pattern(100, 98)
    peer_data(c, data)
    expect_ack_of(c, 100, "data after the window opened")
    check(read_available(fd) == data, "the data after the update")
    c.snd += 100
    os.close(fd)


# ------------------------------------------------ inbound policy

def data_taken(c, payload, what, ttl=64):
    """Does the connection take (and ACK) payload at c.snd? Nothing else
    may come back: a dropped segment is dropped silently."""
    c.peer.send(c.pport, c.lport, c.snd, c.rcv, ACK, 65535, c.opts(),
                payload, ttl=ttl)
    segs = collect(c.peer, c.lport, 0.5)
    if not segs:
        return False
    check(len(segs) == 1 and not segs[0].payload and
          segs[0].ack == (c.snd + len(payload)) & 0xFFFFFFFF,
          "%s: expected one ACK of the data, got %r" % (what, segs))
    c.saw(segs[0])
    c.snd += len(payload)
    check(read_available(c.fd) == payload, "%s: not the data read" % what)
    return True


def ip_minttl_drops(peer):
    """IP_MINTTL: segments with a lower TTL are dropped (TCPMinTTLDrop)."""
    c = P.active_open(peer)
    setsockopt_int(c.fd, 0, 21, 100)            # SOL_IP, IP_MINTTL
    b = counters()
    check(not data_taken(c, b"low", "TTL 64 under IP_MINTTL 100"),
          "a segment with TTL 64 was taken under IP_MINTTL 100")
    check_delta(b, "MinTTLDrop", 1)
    check(data_taken(c, b"high", "TTL 200", ttl=200), "TTL 200 dropped")
    established(c)


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def socket_filter_drops(peer):
    """SO_ATTACH_FILTER runs on every segment: "ret 0" drops them all; the
    connection takes data again once SO_DETACH_FILTER removed it.
    Before: xtcp never ran a socket's filters (nor cgroup-BPF ingress
    programs, nor the LSM hook).
    """
    c = P.active_open(peer)
    code = ctypes.create_string_buffer(struct.pack("<HBBI", 0x06, 0, 0, 0))
    prog = SockFprog(1, ctypes.cast(code, ctypes.c_void_p))
    P._call(P.libc.setsockopt(c.fd, SOL_SOCKET, 26, ctypes.byref(prog),
                              ctypes.sizeof(prog)))   # SO_ATTACH_FILTER
    b = counters()
    check(not data_taken(c, b"filtered", "under the filter"),
          "a segment passed a filter that drops everything")
    if not P.BASELINE:
        check_delta(b, "FilterDrop", 1)
    zero = ctypes.c_int(0)
    P._call(P.libc.setsockopt(c.fd, SOL_SOCKET, 27, ctypes.byref(zero), 4))
    check(data_taken(c, b"clear", "without the filter"),
          "dropped after SO_DETACH_FILTER")
    established(c)


def xfrm_policy_requires_esp(peer):
    """An IPsec policy that requires ESP for the peer's segments: plain ones
    are dropped before they reach the socket (and a SYN gets no answer).
    Before: xtcp (.no_policy = 1 and no check of its own) took them.
    """
    proto = P.IPPROTO
    if os.system("ip xfrm policy add src %s dst %s proto %d dir in "
                 "tmpl proto esp mode transport level required "
                 "2>/dev/null" % (P.PEER, P.LOCAL, proto)):
        raise Skip("no IPsec (xfrm) in this kernel")
    b = counters()
    lfd, lport = listener(5040)
    peer.port += 1
    peer.send(peer.port, lport, 100, 0, SYN, 65535, opt_mss(1460))
    check(not collect(peer, lport, 0.5), "a plain SYN was answered")
    if not P.BASELINE:
        check_delta(b, "XfrmPolicyDrop", 1)
    os.system("ip xfrm policy flush")
    peer.send(peer.port, lport, 100, 0, SYN, 65535, opt_mss(1460))
    peer.expect(SYN | ACK, ack=101)
    os.close(lfd)


BPF_PROG_LOAD, BPF_PROG_ATTACH, BPF_PROG_DETACH = 5, 8, 9


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    return P.libc.syscall(321, cmd, buf, 128)       # __NR_bpf (x86_64)


def bpf_prog(prog_type, attach_type, ret):
    """A program that only returns ret; its fd, or None without BPF."""
    insns = ctypes.create_string_buffer(
        struct.pack("<BBhi", 0xb7, 0, 0, ret) + struct.pack("<BBhi", 0x95,
                                                            0, 0, 0))
    lic = ctypes.create_string_buffer(b"GPL")
    attr = struct.pack("<IIQQIIQII16sII", prog_type, 2,
                       ctypes.addressof(insns), ctypes.addressof(lic),
                       0, 0, 0, 0, 0, b"", 0, attach_type)
    fd = bpf(BPF_PROG_LOAD, attr)
    return fd if fd >= 0 else None


def cgroup_bpf_hooks(peer):
    """cgroup-BPF programs that refuse: sock_create makes socket() fail
    with EPERM, bind4 bind(), connect4 connect(); an ingress program that
    drops makes the connection deaf. As for TCP (inet_create(),
    inet_bind(), tcp_v4_pre_connect(), sk_filter_trim_cap()). Before:
    xtcp ran none of them.
    """
    cg = "/sys/fs/cgroup/xtcp-pkt-attack-%d" % os.getpid()
    try:
        os.mkdir(cg)
    except OSError as e:
        raise Skip("no cgroup2 hierarchy: %s" % e)
    try:
        with open(cg + "/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))
        cgfd = os.open(cg, os.O_RDONLY | os.O_DIRECTORY)
        hooks = ((9, 2, "sock_create"), (18, 8, "bind4"),
                 (18, 10, "connect4"), (8, 0, "ingress"))
        for prog_type, attach, name in hooks:
            pfd = bpf_prog(prog_type, attach, 0)
            if pfd is None:
                raise Skip("cannot load a %s program: %s" % (
                    name, os.strerror(ctypes.get_errno())))
            if name == "ingress":
                c = P.active_open(peer)
            check(bpf(BPF_PROG_ATTACH, struct.pack("<IIII", cgfd, pfd,
                                                   attach, 0)) == 0,
                  "attaching the %s program failed" % name)
            if name == "sock_create":
                try:
                    xsocket()
                    raise Fail("socket() under a refusing sock_create "
                               "program")
                except OSError as e:
                    check(e.errno == errno.EPERM, "socket(): %s" % e)
            elif name == "bind4":
                fd = xsocket()
                try:
                    P.xbind(fd, P.LOCAL, 5041)
                    raise Fail("bind() under a refusing bind4 program")
                except OSError as e:
                    check(e.errno == errno.EPERM, "bind(): %s" % e)
                os.close(fd)
            elif name == "connect4":
                fd = xsocket(nonblock=True)
                err = xconnect(fd, P.PEER, 5042)
                check(err == errno.EPERM, "connect(): %s"
                      % errno.errorcode.get(err, err))
                os.close(fd)
            else:
                check(not data_taken(c, b"deaf", "under the ingress "
                                     "program"),
                      "a segment passed an ingress program that drops")
            bpf(BPF_PROG_DETACH, struct.pack("<IIII", cgfd, pfd, attach, 0))
            os.close(pfd)
            if name == "ingress":
                check(data_taken(c, b"hears", "after detaching"),
                      "dropped after the ingress program was detached")
        os.close(cgfd)
    finally:
        with open("/sys/fs/cgroup/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))
        os.rmdir(cg)


# ------------------------------------------------ the socket table

def proc_table_read_in_small_pieces(peer):
    """/proc/net/xtcp read in 512-byte pieces, with 600 listeners: every
    row exactly once. Each read() resumes where the last stopped (chain and
    row), walking under RCU. Before: xtcp walked the whole table again from
    the start for every piece, under the namespace's bind lock with BH
    off: reading a big table was quadratic and stalled softirq, and any
    user can read it.
    """
    fds = []
    for k in range(600):
        fds.append(listener(20000 + k, backlog=1)[0])
    raw = b""
    fd = os.open(P.PROC_TABLE, os.O_RDONLY)
    while True:
        got = os.read(fd, 512)
        if not got:
            break
        raw += got
    os.close(fd)
    rows = raw.decode().splitlines()[1:]
    ports = sorted(int(r.split()[1].split(":")[1], 16) for r in rows)
    check(ports == list(range(20000, 20600)),
          "%d rows, %d distinct ports, %r..." % (len(rows), len(set(ports)),
                                                  ports[:5]))
    for fd in fds:
        os.close(fd)


# ------------------------------------------------ listener lookup

def many_connections(lfd, port, n):
    """n connections from this host to port, accepted: n children on it."""
    fds = []
    while len(fds) < 2 * n:
        batch = []
        for _ in range(min(128, n - len(fds) // 2)):
            fd = xsocket(nonblock=True)
            err = xconnect(fd, P.LOCAL, port)
            check(err in (0, errno.EINPROGRESS), "connect: %d" % err)
            batch.append(fd)
        for fd in batch:
            po = select.poll()
            po.register(fd, select.POLLOUT)
            po.poll(10000)
            check(so_error(fd) == 0, "connect: error %d" % so_error(fd))
            fds += [fd, xaccept(lfd)]
    return fds


def rst_burst(peer, port, first, n):
    """Seconds to write n RSTs from distinct 4-tuples to port."""
    pkts = [build(P.PEER, P.LOCAL, 1024 + (first + i) % 60000, port,
                  (first + i) * 7919, 0, RST) for i in range(n)]
    t = time.perf_counter()
    for pkt in pkts:
        os.write(peer.fd, pkt)
    return time.perf_counter() - t


def listener_lookup_cost_flat(peer):
    """The cost of finding a segment's listener does not grow with the
    connections on its port. 6000 connections to port 6000, none to port
    6001; RSTs from random 4-tuples (each one misses the established
    table, goes to the listener and is dropped there, with no answer) are
    written through the tun, which processes each within its write():
    their median time on 6000 over that on 6001 stays below 2.5.
    Before: xtcp found listeners by walking the port's bind chain, which
    holds every child on the port, so each segment cost O(connections on
    the port) in softirq (778 us per RST against 36 us on the empty port,
    a ratio of 21). A ratio of two figures of the same run, far from its
    bound either way, so TCG's swings do not decide it.
    """
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    n = 6000 // SCALE
    busy, _ = listener(6000, backlog=1024)
    idle, _ = listener(6001, backlog=16)
    fds = []
    try:
        fds = many_connections(busy, 6000, n)
        cost = {6000: [], 6001: []}
        for r in range(5):
            for port in cost:
                cost[port].append(rst_burst(peer, port, r * 2000, 1500))
    finally:
        for fd in fds:
            P.set_linger(fd, 1, 0)
            os.close(fd)
    med = {p: sorted(v)[len(v) // 2] / 1500 * 1e6 for p, v in cost.items()}
    ratio = med[6000] / med[6001]
    print("# %s: %.1f us per RST with %d connections on the port, "
          "%.1f us with none: ratio %.2f" %
          (P.stack_name(), med[6000], n, med[6001], ratio), flush=True)
    check(not collect(peer, 6000, 0.3), "an answer to a RST")
    check(ratio < 2.5, "ratio %.2f" % ratio)
    os.close(busy)
    os.close(idle)

# ------------------------------------------------ TIME_WAIT memory

def tw_slab_objects():
    """Allocated TIME_WAIT objects. xtcp: the tw field of
    /proc/net/xtcp_sockstat, entries not yet freed; TCP (and an xtcp
    without that field): active_objs of the slab in /proc/slabinfo, which
    counts per-CPU slabs' free objects too. (tw_sock_TCP is
    SLAB_TYPESAFE_BY_RCU, which KASAN does not quarantine; xtcp_tw's frees
    wait in KASAN's quarantine, so its slab is no measure there.)"""
    if not P.BASELINE:
        try:
            with open("/proc/net/xtcp_sockstat") as f:
                w = f.read().split()
            if "tw" in w:
                return int(w[w.index("tw") + 1])
        except OSError:
            pass
    name = "tw_sock_TCP" if P.BASELINE else "xtcp_tw"
    with open("/proc/slabinfo") as f:
        for line in f:
            if line.split()[0] == name:
                return int(line.split()[1])
    raise Skip("no %s line in /proc/slabinfo" % name)


def time_wait_memory_bounded(peer):
    """Killed TIME_WAIT entries give their memory back at once: 300
    connections enter TIME_WAIT and the peer's RST kills each, with
    max_tw_buckets 20; the TIME_WAIT slab ends at most 100 objects above
    where it began (per-CPU slabs count their free objects as active).
    Before: xtcp kept a killed entry until its time bucket fired, 2 * MSL
    later, so a peer that churns connections grew TIME_WAIT memory
    without bound, whatever max_tw_buckets said (300 objects here).
    """
    knob("max_tw_buckets", 20)
    start = tw_slab_objects()
    b = counters()
    for _ in range(300):
        c = enter_time_wait(peer)
        c.send(RST, seq=c.snd)
    wait_until(lambda: not [r for r in P.proc_rows()
                            if r["state"] == S["TIME_WAIT"]],
               "the killed entries to leave the table")
    # Freed after an RCU grace period: wait for it (or for ever).
    try:
        wait_until(lambda: tw_slab_objects() - start <= 100,
                   "the killed entries to be freed", 10)
    except Fail:
        pass
    grown = tw_slab_objects() - start
    print("# %s: %d TIME_WAIT objects more after 300 killed entries" %
          (P.stack_name(), grown), flush=True)
    check(grown <= 100, "%d objects more than at the start" % grown)
    check_delta(b, "TwOverflow", 0)


# ------------------------------------------------ congestion window

def tcp_info_cwnd(fd):
    buf = ctypes.create_string_buffer(232)
    ln = ctypes.c_uint(232)
    P._call(P.libc.getsockopt(fd, 6, 11, buf, ctypes.byref(ln)))
    return struct.unpack_from("<I", buf.raw, 80)[0]     # tcpi_snd_cwnd


def data_segments(c, n, limit=3.0):
    """The next n data segments from xtcp's side, in order."""
    out = []
    end = time.monotonic() + limit
    while len(out) < n:
        s = c.peer.recv(max(end - time.monotonic(), 0.01))
        check(s is not None, "%d of %d segments came" % (len(out), n))
        if s.dport == c.pport and s.payload:
            out.append(s)
    return out


def cwnd_grows_only_when_used(peer):
    """A receiver that keeps its window at two segments does not make the
    sender's cwnd grow: only ACKs of a window that used all of cwnd (or,
    in slow start, half of it) raise it (RFC 7661, tcp_is_cwnd_limited()).
    The peer takes the initial 10 segments, then acknowledges 20 rounds of
    two segments with a window of 2000 bytes; cwnd stays where the first
    round left it. Before: xtcp grew cwnd on every ACK once it had been
    cwnd-limited, as long as data waited to be sent (by 40 segments here),
    and a receiver opening its window later got a burst of that size.
    """
    knob("rto_min_ms", 3000)
    knob("rto_initial_ms", 3000)
    c = P.active_open(peer, mss=1000)
    setsockopt_int(c.fd, SOL_SOCKET, P.SO_SNDBUF, 1 << 20)
    os.write(c.fd, pattern(200000))
    segs = data_segments(c, 10)
    una = segs[-1].seq + len(segs[-1].payload)
    # Everything in flight acknowledged at once, the window now 2000.
    c.peer.send(c.pport, c.lport, c.snd, una, ACK, 2000)
    rounds = []
    for _ in range(21):
        segs = data_segments(c, 2)
        una = segs[-1].seq + len(segs[-1].payload)
        c.peer.send(c.pport, c.lport, c.snd, una, ACK, 2000)
        rounds.append(tcp_info_cwnd(c.fd))
    print("# %s: cwnd %d after the first round, %d after 20 more" %
          (P.stack_name(), rounds[0], rounds[-1]), flush=True)
    check(rounds[-1] == rounds[0], "cwnd grew from %d to %d while the "
          "peer's window held the sender to 2 segments" %
          (rounds[0], rounds[-1]))
    P.set_linger(c.fd, 1, 0)
    os.close(c.fd)


# ------------------------------------------------ failure paths

def icmp_unreach(peer, syn, code):
    """ICMP destination unreachable from the peer, quoting our segment."""
    quoted = build(P.LOCAL, P.PEER, syn.sport, syn.dport, syn.seq, 0,
                   SYN)[:28]
    icmp = struct.pack("!BBHI", 3, code, 0, 0) + quoted
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 64, 1,
                     0, aton(P.PEER), aton(P.LOCAL))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    os.write(peer.fd, ip + icmp)


def send_through(c, n, limit=60.0):
    """The socket writes n bytes; the peer takes them in order and ACKs."""
    data = pattern(n, 5)
    sent = got = 0
    end = time.monotonic() + limit
    while got < n:
        check(time.monotonic() < end, "the transfer stalled at %d of %d "
              "bytes" % (got, n))
        w = [c.fd] if sent < n else []
        r, wr, _ = select.select([c.peer.fd], w, [], 1.0)
        if wr:
            try:
                sent += os.write(c.fd, data[sent:sent + 65536])
            except BlockingIOError:
                pass
        if not r:
            continue
        s = c.peer.recv(0.01)
        if s is None or s.sport != c.lport or not s.payload:
            continue
        check(s.csum_ok, "bad checksum on %r" % s)
        off = (s.seq - c.iss - 1) & 0xFFFFFFFF
        if off == got:
            check(s.payload == data[off:off + len(s.payload)],
                  "payload at offset %d corrupted" % off)
            got += len(s.payload)
        c.peer.send(c.pport, c.lport, c.snd, c.iss + 1 + got, ACK, 65535)


def connect_again_after_failure(peer):
    """After a refused, unreachable or timed-out connect(), the same socket
    connects again as a new one: SO_ERROR tells why, the next connect()
    reports ECONNABORTED (the error was taken) and resets the socket, as
    Linux's __inet_stream_connect() does, and the one after sends a fresh
    SYN with every option and carries 1 MiB. Before: xtcp kept the old
    SYN on the write queue, its retransmission count, the backed-off RTO
    and the options, and the next connection stalled and died.
    """
    knob("syn_retries", 1)
    knob("rto_initial_ms", 200)
    fd = xsocket(nonblock=True)
    first = None
    for how, want in (("refused", errno.ECONNREFUSED),
                      ("unreachable", errno.EHOSTUNREACH),
                      ("timed out", errno.ETIMEDOUT)):
        peer.port += 1
        err = xconnect(fd, P.PEER, peer.port)
        check(err == errno.EINPROGRESS, "%s: connect: %s"
              % (how, errno.errorcode.get(err, err)))
        syn = peer.expect(SYN, dport=peer.port)
        first = first or syn
        check(sorted(syn.opts) == sorted(first.opts),
              "%s: the SYN's options %r, not %r" % (how, syn.opts,
                                                    first.opts))
        if how == "refused":
            peer.send(peer.port, syn.sport, 0, syn.seq + 1, RST | ACK)
        elif how == "unreachable":
            icmp_unreach(peer, syn, 1)
        # Not poll(): kernel TCP keeps the ICMP of the attempt before on
        # the error queue (tcp_disconnect() leaves it), so its socket
        # polls POLLERR all through the next SYN_SENT; xtcp does not.
        wait_until(lambda: state_of(syn.sport) != S["SYN_SENT"],
                   "%s: connect() to end" % how, 15.0)
        got = so_error(fd)
        check(got == want, "%s: SO_ERROR %s, not %s"
              % (how, errno.errorcode.get(got, got), errno.errorcode[want]))
        err = xconnect(fd, P.PEER, peer.port)
        check(err == errno.ECONNABORTED, "%s: connect() again: %s"
              % (how, errno.errorcode.get(err, err)))
        # The timed-out one retransmitted its SYN: drain those.
        while peer.recv(0.05):
            pass
    peer.port += 1
    err = xconnect(fd, P.PEER, peer.port)
    check(err == errno.EINPROGRESS, "good connect: %s"
          % errno.errorcode.get(err, err))
    syn = peer.expect(SYN, dport=peer.port)
    check(sorted(syn.opts) == sorted(first.opts),
          "the good SYN's options %r, not %r" % (syn.opts, first.opts))
    c = Conn(peer, fd, xname(fd)[1], peer.port, syn.seq, 7000000)
    peer.send(c.pport, c.lport, c.irs, c.iss + 1, SYN | ACK, 65535,
              opt_mss(1460))
    c.expect(ACK, seq=c.iss + 1, ack=c.irs + 1)
    wait_until(lambda: c.state() == S["ESTABLISHED"], "ESTABLISHED")
    send_through(c, 1 << 20)
    os.close(fd)
    c.expect(FIN | ACK)
    c.send(RST, ack=0)

# ------------------------------------------------ SACK and tiny segments

SO_MEMINFO = 55                     # u32[9]: SK_MEMINFO_*
SK_MEMINFO_SNDBUF, SK_MEMINFO_WMEM_QUEUED = 3, 5
# SKB_TRUESIZE(GSO_LEGACY_MAX_SIZE) on x86_64: 64 KB, an sk_buff and an
# skb_shared_info, each cache-aligned.
SKB_TRUESIZE_64K = 65536 + 256 + 320


def meminfo(fd):
    buf = ctypes.create_string_buffer(9 * 4)
    ln = ctypes.c_uint(len(buf))
    P._call(P.libc.getsockopt(fd, SOL_SOCKET, SO_MEMINFO, buf,
                              ctypes.byref(ln)))
    return struct.unpack("9I", buf.raw)


def fill(fd, data, sent):
    """Write what the socket takes of data[sent:]; returns the new sent."""
    while sent < len(data):
        try:
            sent += os.write(fd, data[sent:sent + 65520])
        except BlockingIOError:
            break
    return sent


def sack_attack(peer, sndbuf_req, goal):
    """The attack of sack_fragments_bounded with SO_SNDBUF sndbuf_req and
    a flight of up to goal bytes; returns what it saw, the connection
    still open (the caller acknowledges everything and closes it)."""
    floor = 48
    check(knob("min_snd_mss") in (None, floor),
          "min_snd_mss is %r, not %d" % (knob("min_snd_mss"), floor))
    os.system("ip link set xtun0 txqueuelen 20000")
    # No RTO while the peer takes its time with thousands of segments.
    knob("rto_min_ms", 5000)
    c = P.active_open(peer, sack=True, wscale=10, mss=8)
    setsockopt_int(c.fd, SOL_SOCKET, P.SO_SNDBUF, sndbuf_req)
    sndbuf = meminfo(c.fd)[SK_MEMINFO_SNDBUF]
    data = pattern(floor * 1365 * 64, 3)       # writes keep 48-byte cuts
    sent = fill(c.fd, data, 0)
    una = top = c.iss + 1
    sizes = {}

    def take(timeout):
        """Segments until timeout seconds of silence; top follows them."""
        nonlocal top
        while True:
            s = peer.recv(timeout)
            if s is None:
                return
            if s.sport != c.lport or not s.payload:
                continue
            check(s.csum_ok, "bad checksum on %r" % s)
            sizes[len(s.payload)] = sizes.get(len(s.payload), 0) + 1
            end = s.seq + len(s.payload)
            if ((end - top) & 0xFFFFFFFF) < 1 << 31:
                top = end & 0xFFFFFFFF

    # Slow start up to the flight goal, or what the send buffer holds.
    last = -1
    end = time.monotonic() + 120
    while True:
        check(time.monotonic() < end, "no flight to attack after 120 s "
              "(%d bytes)" % ((top - una) & 0xFFFFFFFF))
        take(0.2)
        flight = (top - una) & 0xFFFFFFFF
        if flight >= goal or (flight and flight <= last):
            break
        last = flight
        una = top
        peer.send(c.pport, c.lport, c.snd, una, ACK, 65535)
        sent = fill(c.fd, data, sent)
    flight = (top - una) & 0xFFFFFFFF
    b = counters()

    # Every other segment of the flight SACKed, four blocks an ACK.
    # The tun write processes each ACK before it returns: the time in it
    # is the receiver's per-ACK work (shown, not judged). Also the median
    # of the first and of the last quarter of the ACKs: the last ones'
    # blocks lie furthest from the head of the queue, with the most
    # SACKed below them (medians, as a preempted vCPU makes outliers).
    peak = busy = 0
    times = []
    lefts = list(range(una + floor, top - floor + 1, 2 * floor))
    acks = list(range(0, len(lefts), 4))
    for i in acks:
        blocks = [(x, x + floor) for x in lefts[i:i + 4]]
        pkt = build(P.PEER, P.LOCAL, c.pport, c.lport, c.snd, una, ACK,
                    65535, P.opt_sack(blocks))
        t = time.perf_counter()
        os.write(peer.fd, pkt)
        t = time.perf_counter() - t
        busy += t
        times.append(t)
        peak = max(peak, meminfo(c.fd)[SK_MEMINFO_WMEM_QUEUED])
        while peer.recv(0):
            pass
    a = counters()
    tooBig = a.get("WqueueTooBig", 0) - b.get("WqueueTooBig", 0)
    rtx = a.get("RetransSegs", 0) - b.get("RetransSegs", 0)
    q = max(1, len(times) // 4)
    r = dict(conn=c, top=top, flight=flight, sizes=sizes, blocks=len(lefts),
             peak=peak, sndbuf=sndbuf, tooBig=tooBig, rtx=rtx, acks=len(acks),
             us=busy * 1e6 / max(1, len(acks)),
             early_us=statistics.median(times[:q] or [0]) * 1e6,
             late_us=statistics.median(times[-q:] or [0]) * 1e6)
    print("# %s: flight %d bytes in %d segments of %r, %d SACK blocks: "
          "write queue peak %d bytes (sndbuf %d), WqueueTooBig +%d, "
          "%d retransmitted for %d ACKs, %.0f us an ACK (median first "
          "quarter %.0f us, last %.0f us)"
          % (P.stack_name(), flight, sum(sizes.values()), sizes, len(lefts),
             peak, sndbuf, tooBig, rtx, len(acks), r["us"], r["early_us"],
             r["late_us"]),
          flush=True)
    return r


def sack_attack_end(r, strict=True):
    """All acknowledged: the memory comes back, the connection lives.
    Not strict: only reset it, and wait for the sender to fall silent."""
    c = r["conn"]
    c.peer.send(c.pport, c.lport, c.snd, r["top"], ACK, 65535)
    left = meminfo(c.fd)[SK_MEMINFO_WMEM_QUEUED]
    if strict:
        check(left <= r["sndbuf"] + 2 * SKB_TRUESIZE_64K,
              "%d bytes queued after the flight was acknowledged" % left)
        established(c)
    os.close(c.fd)
    c.send(RST, ack=0)
    if not strict:
        while c.peer.recv(0.5):
            pass


def sack_fragments_bounded(peer):
    """CVE-2019-11478 and CVE-2019-11479: the peer's SYN-ACK offers an MSS
    of 8, a huge window and SACK; the application writes 4 MB; once a few
    hundred KB are in flight the peer SACKs every other segment of it,
    four blocks an ACK, so that each skb of the write queue would have to
    be cut into single segments. Segments carry min_snd_mss (48) bytes;
    splitting a sent skb stops when the write queue takes twice the send
    buffer plus two 64 KB skbs (tcp_fragment(), TCPWqueueTooBig), and the
    memory comes back when the peer acknowledges everything. Differs on
    purpose: Linux's SACK tagging may still cut the first and last sent
    skb past the cap, xtcp's may not (the bound then holds however large
    the last skb is). Before:
    xtcp sent 64-byte segments and split without limit: 2.4 MB of write
    queue for 160 KB in flight.
    """
    floor = 48
    r = sack_attack(peer, 128 * 1024, 160 * 1024)
    bound = 2 * (r["sndbuf"] + 2 * SKB_TRUESIZE_64K) + 131072
    # On the debug kernel a round trip takes 1-2 s: the pacing rate sizes
    # new skbs at a segment or two, whose overhead (not capped for unsent
    # data, as in tcp_fragment()) adds to the queue (seen: 937008 for
    # 919808, with HyStart keeping cwnd small).
    if DEBUG_KERNEL:
        bound += bound // 4
    print("# write queue bound %d" % bound)
    check(r["peak"] <= bound, "the write queue took %d bytes for %d in "
          "flight, more than %d" % (r["peak"], r["flight"], bound))
    check(set(r["sizes"]) == {floor}, "segments of %r bytes, not all of %d "
          "(min_snd_mss)" % (sorted(r["sizes"]), floor))
    check(r["tooBig"] > 0, "WqueueTooBig did not go up: the attack never "
          "reached the cap")
    sack_attack_end(r)


def sack_cost_vs_queue(peer):
    """The attack of sack_fragments_bounded at three sizes of send buffer
    and flight: the time an ACK of four SACK blocks takes, shown against
    the size of the queue (not judged: timing under TCG). With the sent
    skbs in an rb-tree and RACK's list in sending order it should not
    grow with the queue; with walks of the whole queue it does. The
    queue stays within the bound of sack_fragments_bounded at every size:
    sent skbs carry about a millisecond of the pacing rate as Linux's
    (tcp_tso_autosize()), so the tail of the retransmission queue, which
    the cap lets be cut, is small too. Before: skbs of whole GSO packets,
    and 1.12 MB of queue for a send buffer of 64 KB (TCP: 0.40 MB).
    """
    rows = []
    for sndbuf, goal in ((32 << 10, 40 << 10), (128 << 10, 160 << 10),
                         (512 << 10, 640 << 10)):
        r = sack_attack(peer, sndbuf, goal)
        rows.append(r)
        sack_attack_end(r, strict=False)
        bound = 2 * (r["sndbuf"] + 2 * SKB_TRUESIZE_64K) + 131072
        # Not on the debug kernel: its peer takes 1-2 s a round trip, the
        # pacing rate is a few segments a millisecond, and the queue is
        # mostly the overhead of skbs of two segments before the attack
        # begins (xtcp's cwnd grew to 1877 there where TCP's reached 9565:
        # slow start under such RTTs is issue 11's).
        if DEBUG_KERNEL:
            continue
        # Differs on purpose: Linux's SACK tagging may cut the first and
        # last sent skb past the cap (tcp_fragment()), xtcp's may not, so
        # kernel TCP gets a quarter more (seen: 1258400 for 1247488).
        if P.stack_name() == "tcp":
            bound += bound // 4
        check(r["peak"] <= bound, "send buffer %d: the write queue took %d "
              "bytes for %d in flight, more than %d"
              % (r["sndbuf"], r["peak"], r["flight"], bound))
    for r in rows:
        print("# %s sack cost: sndbuf %7d flight %7d queue peak %8d, "
              "%4d ACKs, %5d retransmitted: %4.0f us an ACK, median first "
              "quarter %4.0f us, last %4.0f us"
              % (P.stack_name(), r["sndbuf"], r["flight"], r["peak"],
                 r["acks"], r["rtx"], r["us"], r["early_us"], r["late_us"]),
              flush=True)


# ------------------------------------------------- zero window orphans (12)

TCP_USER_TIMEOUT = 18
ZW_PPORT, ZW_IRS = 6000, 7000000


def global_knob(name, val=None):
    """A global knob: xtcp's module parameter, TCP's initial-namespace
    net.ipv4.tcp_<name> (max_orphans is global in both)."""
    if P.BASELINE:
        path = "/proc/sys/net/ipv4/tcp_" + name
        if val is None:
            out = os.popen("nsenter -t 1 -n cat %s" % path).read().split()
            return int(out[0]) if out else None
        P.sh("nsenter -t 1 -n sh -c 'echo %d > %s'" % (val, path))
        return None
    path = "/sys/module/xtcp/parameters/" + name
    if val is None:
        return P.read_int(path, None)
    P.write_file(path, val)
    return None


def sockstat():
    """{"orphan": n, "mem": pages} of the stack, all namespaces together.

    TCP: the TCP line of /proc/net/sockstat (mem leaves out up to
    net.core.mem_pcpu_rsv pages per CPU held in per-CPU reserves). xtcp:
    /proc/net/xtcp_sockstat (exact); without it (an xtcp with no global
    accounting) orphans are counted from /proc/net/xtcp and mem is None.
    """
    path = "/proc/net/sockstat" if P.BASELINE else "/proc/net/xtcp_sockstat"
    try:
        with open(path) as f:
            for line in f:
                w = line.split()
                if w and w[0] in ("TCP:", "XTCP:"):
                    d = dict(zip(w[1::2], w[2::2]))
                    return {"orphan": int(d["orphan"]), "mem": int(d["mem"])}
    except OSError:
        pass
    return {"orphan": sum(r["state"] != S["TIME_WAIT"] and not r["rx"]
                          for r in P.proc_rows()), "mem": None}


def mem_slack():
    """Pages kernel TCP's count may keep in per-CPU reserves; xtcp's count
    is exact."""
    if not P.BASELINE:
        return 0
    return P.read_int("/proc/sys/net/core/mem_pcpu_rsv", 256) * os.cpu_count()


class ZeroWindowPeer:
    """Many connections from the stack to the peer, whose window stays 0.

    The peer answers each SYN with a SYN-ACK offering window 0 and every
    zero window probe (sequence snd_una - 1) with an ACK, window 0:
    forever alive, never taking a byte. Connections are keyed by local
    port.
    """

    def __init__(self, peer):
        self.peer = peer
        self.conns = {}
        self.rsts = 0
        self.probes = 0

    def handle(self, s):
        c = self.conns.get(s.sport)
        if s.flags & SYN:
            c = self.conns.setdefault(s.sport, {"iss": s.seq, "est": False,
                                                "rst": False})
            self.peer.send(ZW_PPORT, s.sport, ZW_IRS, s.seq + 1, SYN | ACK,
                           0, opt_mss(1460))
        elif c is None:
            return
        elif s.flags & RST:
            if not c["rst"]:
                self.rsts += 1
            c["rst"] = True
        elif s.seq == c["iss"] and not s.payload:
            self.probes += 1
            self.peer.send(ZW_PPORT, s.sport, ZW_IRS + 1, c["iss"] + 1, ACK,
                           0)
        elif s.seq == c["iss"] + 1 and s.flags & ACK:
            c["est"] = True

    def drain(self):
        """Handle what the tun holds now, without waiting."""
        while select.select([self.peer.fd], [], [], 0)[0]:
            s = self.peer.recv(0.01)
            if s is None:
                return
            self.handle(s)

    def pump(self, until, limit, what):
        """Answer segments until until() holds (checked every 0.1 s)."""
        end = time.monotonic() + limit
        next_check = 0
        while True:
            now = time.monotonic()
            if now >= next_check:
                if until():
                    return now
                next_check = now + 0.1
            if now > end:
                raise Fail("timed out waiting for " + what)
            s = self.peer.recv(0.05)
            if s is not None:
                self.handle(s)

    def open(self, n, user_timeout=0):
        """n connections, each with 1000 bytes that the window holds back."""
        fds = []
        start = time.monotonic()
        for _ in range(n):
            fd = xsocket(nonblock=True)
            if user_timeout:
                setsockopt_int(fd, P.SOL_TCP, TCP_USER_TIMEOUT, user_timeout)
            err = xconnect(fd, P.PEER, ZW_PPORT)
            check(err == errno.EINPROGRESS, "connect: %s"
                  % errno.errorcode.get(err, err))
            fds.append(fd)
            self.drain()
        self.pump(lambda: sum(c["est"] for c in self.conns.values()) >= n,
                  60 + n * 0.2, "%d connections" % n)
        if n > 1:
            print("# %s: %d connections in %.1f s"
                  % (P.stack_name(), n, time.monotonic() - start), flush=True)
        for fd in fds:
            check(os.write(fd, pattern(1000)) == 1000, "write")
        return fds


def zero_window_user_timeout(peer):
    """TCP_USER_TIMEOUT ends a connection whose peer answers every zero
    window probe and never opens its window (tcp_probe_timer())."""
    zw = ZeroWindowPeer(peer)
    before = counters()
    (fd,) = zw.open(1, user_timeout=1500)
    start = time.monotonic()
    zw.pump(lambda: so_error_peek(fd), 30, "ETIMEDOUT")
    took = time.monotonic() - start
    got = so_error(fd)
    check(got == errno.ETIMEDOUT, "SO_ERROR %s, not ETIMEDOUT"
          % errno.errorcode.get(got, got))
    print("# %s: user timeout 1.5 s fired after %.1f s, %d probes answered"
          % (P.stack_name(), took, zw.probes), flush=True)
    check(zw.probes >= 2, "only %d probes before the time-out" % zw.probes)
    check_delta(before, "AbortOnTimeout", 1)
    os.close(fd)


def so_error_peek(fd):
    p = select.poll()
    p.register(fd, select.POLLERR)
    return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in p.poll(0))


def zero_window_orphan_dies(peer):
    """An orphan whose peer answers every zero window probe with window 0
    dies once its backed-off probes are RTO_MAX apart (orphan_retries 0,
    tcp_probe_timer()) instead of living forever."""
    if P.BASELINE and not os.environ.get("XTCP_PKT_SLOW"):
        raise Skip("kernel TCP's TCP_RTO_MAX is a fixed 120 s: the orphan "
                   "takes about 4 minutes (XTCP_PKT_SLOW=1 runs it)")
    knob("orphan_retries", 0)
    knob("rto_max_ms", 1600)
    zw = ZeroWindowPeer(peer)
    before = counters()
    (fd,) = zw.open(1)
    lport = xname(fd)[1]
    os.close(fd)
    start = time.monotonic()
    zw.pump(lambda: state_of(lport) is None, 400 if P.BASELINE else 60,
            "the orphan to die")
    print("# %s: the orphan died %.1f s after close(), %d probes answered"
          % (P.stack_name(), time.monotonic() - start, zw.probes), flush=True)
    check(zw.probes >= 3, "only %d probes before it died" % zw.probes)
    check_delta(before, "AbortOnTimeout", 1)


def many_zero_window_orphans(peer):
    """1000 orphans facing a zero window die on time (TCP_USER_TIMEOUT)
    and their memory returns to the protocol's count."""
    n, ut = 1000 // SCALE, 3000
    old_max = global_knob("max_orphans")
    if old_max is not None:
        global_knob("max_orphans", max(old_max, 4 * n))
    try:
        zw = ZeroWindowPeer(peer)
        before, base = counters(), sockstat()
        fds = zw.open(n, user_timeout=ut)
        for fd in fds:
            os.close(fd)
        closed = time.monotonic()
        peak = sockstat()
        print("# %s: %d orphans: orphan count %d, mem %s pages (before: %d, "
              "%s)" % (P.stack_name(), n, peak["orphan"], peak["mem"],
                       base["orphan"], base["mem"]), flush=True)
        # The count is global: orphans of earlier scenarios (kernel
        # TCP keeps some for a while) may die meanwhile.
        check(n <= peak["orphan"] <= base["orphan"] + n,
              "orphan count %d after %d closes (before: %d)"
              % (peak["orphan"], n, base["orphan"]))
        zw.pump(lambda: sockstat()["orphan"] <= base["orphan"], 120,
                "the orphans to die")
        took = time.monotonic() - closed
        check(peak["mem"] is not None, "no memory accounting")
        check(peak["mem"] >= base["mem"] + n // 4 - mem_slack() // 4,
              "mem %d pages with %d orphans holding data"
              % (peak["mem"], n))
        slack = mem_slack()
        wait_until(lambda: sockstat()["mem"] <= base["mem"] + slack,
                   "the memory to return", 30)
        after = sockstat()
        print("# %s: all died %.1f s after the last close (user timeout "
              "%.1f s); %d probes answered; mem %d pages after (slack %d)"
              % (P.stack_name(), took, ut / 1000, zw.probes, after["mem"],
                 slack), flush=True)
        check(delta(before, "AbortOnTimeout") >= n,
              "AbortOnTimeout went up by %d, not %d"
              % (delta(before, "AbortOnTimeout"), n))
    finally:
        if old_max is not None:
            global_knob("max_orphans", old_max)


def max_orphans_resets(peer):
    """Beyond max_orphans, orphans are reset, at close() or at their next
    time-out (tcp_check_oom(), tcp_out_of_resources(): TCPAbortOnMemory)."""
    n, limit = 24, 8
    old_max = global_knob("max_orphans")
    check(old_max is not None, "no max_orphans knob")
    zw = ZeroWindowPeer(peer)
    fds = zw.open(n, user_timeout=4000)
    base = sockstat()
    before = counters()
    global_knob("max_orphans", limit)
    try:
        for fd in fds:
            os.close(fd)
        zw.pump(lambda: zw.rsts >= n - limit, 30,
                "the orphans beyond %d to be reset" % limit)
        got = delta(before, "AbortOnMemory")
        # Every abort sends a RST; one may still be on its way when the
        # counter has moved.
        zw.pump(lambda: zw.rsts >= got, 5, "a RST for each of %d aborts" % got)
        print("# %s: %d orphans, max %d: %d reset, AbortOnMemory +%d"
              % (P.stack_name(), n, limit, zw.rsts, got), flush=True)
        check(n - limit <= got <= n, "AbortOnMemory went up by %d" % got)
    finally:
        global_knob("max_orphans", old_max)
    zw.pump(lambda: sockstat()["orphan"] <= base["orphan"], 60,
            "the other orphans to die")


SCENARIOS = [
    challenge_ack_per_connection, challenge_ack_namespace_budget,
    out_of_window_answers_rate_limited, paws_answers_rate_limited,
    syn_recv_duplicate_syn_rate_limited, time_wait_answers,
    cookie_ack_needs_recent_cookie, cookie_ack_with_data,
    accept_queue_bounded, rtt_not_from_a_lying_echo,
    ts_recent_only_from_acceptable_segments,
    zero_window_takes_no_data, ip_minttl_drops, socket_filter_drops,
    xfrm_policy_requires_esp, cgroup_bpf_hooks,
    proc_table_read_in_small_pieces, connect_again_after_failure,
    cwnd_grows_only_when_used,
]

# Resources a hostile peer makes a host spend: pkt_resources.py runs these
# (a program of its own, with its own time limit).
RESOURCE_SCENARIOS = [
    listener_lookup_cost_flat, time_wait_memory_bounded,
    sack_fragments_bounded, sack_cost_vs_queue,
    zero_window_user_timeout, zero_window_orphan_dies,
    many_zero_window_orphans, max_orphans_resets,
]


if __name__ == "__main__":
    P.main(SCENARIOS, stacks=["xtcp", "tcp"])
