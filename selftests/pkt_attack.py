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
"""

import errno
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import xtcp_pkt as P  # noqa: E402
from xtcp_pkt import (ACK, FIN, PSH, RST, SYN, SOL_SOCKET, SO_RCVBUF,  # noqa: E402
                      STATES, Conn, Skip, check, counters, knob, listener,
                      opt_mss, opt_ts, passive_open, setsockopt_int,
                      state_of, wait_until, xaccept, xconnect, xname,
                      xsocket)

S = STATES


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


def time_wait_answers(peer):
    """TIME_WAIT: a bare ACK at rcv_nxt is taken silently; other ACKs get
    one answer per invalid_ratelimit; a FIN again is always answered.
    Before: xtcp answered every segment.
    """
    knob("invalid_ratelimit", 5000)
    c = P.active_open(peer)
    os.close(c.fd)
    c.expect(FIN | ACK, seq=c.iss + 1)
    c.rcv += 1
    c.send(FIN | ACK)
    c.expect(ACK, seq=c.rcv, ack=c.snd)
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


SCENARIOS = [
    challenge_ack_per_connection, challenge_ack_namespace_budget,
    out_of_window_answers_rate_limited, paws_answers_rate_limited,
    syn_recv_duplicate_syn_rate_limited, time_wait_answers,
    cookie_ack_needs_recent_cookie, ts_recent_only_from_acceptable_segments,
    zero_window_takes_no_data,
]


if __name__ == "__main__":
    P.main(SCENARIOS, stacks=["xtcp", "tcp"])
