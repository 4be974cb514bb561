#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Packet-level scenarios for the data path, as Linux TCP and the RFCs
define it: initial window (RFC 6928), fast retransmit (RFC 5681), SACK
loss recovery (RFC 6675), RACK and tail loss probes (RFC 8985), SACK and D-SACK generation (RFC 2018, 2883),
window scaling and PAWS (RFC 7323), zero-window probes (RFC 9293
3.8.6.1), delayed ACK (RFC 9293 3.8.6.3, RFC 5681 4.2) and Nagle
(RFC 9293 3.7.4).

The peer is played through a tun device (xtcp_pkt.py); every segment
xtcp emits is checked: flags, sequence and acknowledgment numbers
relative to the ISNs, payload, window, options. Sequence numbers below
are offsets: segment k (from 0) of what xtcp sends starts at
iss + 1 + k * MSS. Timing is never a pass criterion, except a lower
bound on the delayed ACK, the ratio of zero-window probe intervals (by
xtcp's own timestamps) and one generous upper bound: an ACK due at once
must come within 0.9 s while delack_ms is 1000 (the DelayedAcks counter
tells the timer's ACKs apart besides).

Each scenario runs on xtcp and on kernel TCP (the reference); knobs
without a TCP equivalent are then skipped.
"""

import errno
import functools
import os
import select
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
import xtcp_pkt as P  # noqa: E402
from xtcp_pkt import (ACK, RST, SO_RCVBUF, SO_SNDBUF, SOL_SOCKET,
                      SOL_TCP, TCP_NODELAY, Fail, active_open, check,
                      counters, getsockopt_int, knob, listener, opt_sack,
                      opt_ts, main, passive_open, setsockopt_int, wait_until)

MSS = 1460              # the peer offers MSS 1460; no timestamps unless said
CONNS = []              # connections to reset when a scenario ends


def pattern(n, seed=0):
    """n bytes of period 251: a payload at the wrong offset shows."""
    base = bytes((i * 7 + seed) % 251 for i in range(251))
    return (base * (n // 251 + 1))[:n]


def scenario(fn):
    """Run fn; whatever happens, reset its connections so that none is
    left retransmitting on the long timers some scenarios set."""
    @functools.wraps(fn)
    def wrapped(peer):
        try:
            fn(peer)
        finally:
            for c in CONNS:
                reset(c)
    return wrapped


def reset(c):
    """Kill a connection with an exact RST (RFC 5961 3.2)."""
    if c.state() is None:
        return
    c.peer.send(c.pport, c.lport, c.snd, 0, RST)
    try:
        wait_until(lambda: c.state() is None, "reset", 0.3)
        return
    except Fail:
        pass
    # Our idea of rcv_nxt is off: learn it from a challenge ACK.
    c.peer.send(c.pport, c.lport, c.snd + 1, 0, RST)
    ack = None
    while True:
        s = c.peer.recv(0.3)
        if s is None:
            break
        if s.sport == c.lport and s.flags & ACK:
            ack = s.ack
    if ack is not None:
        c.peer.send(c.pport, c.lport, ack, 0, RST)


def counter(name):
    """One counter of /proc/net/xtcp_stat."""
    got = counters()
    check(name in got, "no counter %s in /proc/net/xtcp_stat" % name)
    return got[name]


def check_delta(before, after, name, want):
    """Counter name went up by exactly want between two counters()."""
    got = after[name] - before[name]
    check(got == want, "%s went up by %d, not %d%s"
          % (name, got, want, " (an RTO fired)" if name == "Timeouts"
             else ""))


def slow_rto(ms=3000):
    """An RTO far longer than any wait below: it cannot explain a segment."""
    knob("rto_initial_ms", ms)
    knob("rto_min_ms", ms)


def open_active(peer, **kw):
    c = active_open(peer, **kw)
    CONNS.append(c)
    # Room for every write below without waiting for ACKs.
    setsockopt_int(c.fd, SOL_SOCKET, SO_SNDBUF, 1 << 20)
    return c


def open_passive(peer, lfd, lport, **kw):
    c = passive_open(peer, lfd, lport, **kw)
    CONNS.append(c)
    return c


def write_all(fd, data):
    n = os.write(fd, data)
    check(n == len(data), "write of %d bytes took only %d: send buffer"
          % (len(data), n))


def read_exact(fd, n, limit=5.0):
    """n bytes from fd (blocking or not) within limit seconds."""
    out = b""
    end = time.monotonic() + limit
    while len(out) < n:
        left = end - time.monotonic()
        check(left > 0, "read %d of %d bytes" % (len(out), n))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            got = os.read(fd, n - len(out))
            check(got, "EOF after %d of %d bytes" % (len(out), n))
            out += got
    return out


def check_nothing_to_read(fd):
    r, _, _ = select.select([fd], [], [], 0)
    check(not r, "more data to read than the peer sent in order: %r"
          % (os.read(fd, 100) if r else b""))


def ack(c, off, win=65535, sack=None, opts=b""):
    """The peer acknowledges xtcp's stream up to offset off."""
    if c.ts and not opts:
        opts = c.opts()
    if sack:
        opts += opt_sack([(c.iss + 1 + a, c.iss + 1 + b) for a, b in sack])
    c.peer.send(c.pport, c.lport, c.snd, c.iss + 1 + off, ACK, win, opts)


def expect_seg(c, data, off, n=MSS, timeout=3.0, what=""):
    """The next segment is data[off:off + n] at its place, and nothing else."""
    s = c.peer.recv(timeout)
    check(s is not None, "expected data at offset %d%s, got nothing"
          % (off, what))
    check(s.sport == c.lport and s.dport == c.pport,
          "segment for another connection: %r" % s)
    check(s.csum_ok, "bad checksum on %r" % s)
    check(s.flags & ~0x08 == ACK, "expected an ACK with data, got %r" % s)
    rel = (s.seq - c.iss - 1) & 0xFFFFFFFF
    check(rel == off and len(s.payload) == n,
          "expected %d bytes at offset %d%s, got %d at offset %d: %r"
          % (n, off, what, len(s.payload), rel, s))
    check(s.payload == data[off:off + n], "payload at offset %d corrupted"
          % off)
    check(s.ack == c.snd, "data segment acknowledges %d, not %d"
          % (s.ack - c.irs - 1, c.snd - c.irs - 1))
    c.saw(s)
    return s


def flight(c, total, out):
    """Write total segments of pattern data; the first out of them leave
    (checked). Returns the data."""
    data = pattern(total * MSS)
    write_all(c.fd, data)
    for k in range(out):
        expect_seg(c, data, k * MSS)
    return data


def silence(c, quiet, why):
    s = c.peer.recv(quiet)
    if s is not None:
        rel = (s.seq - c.iss - 1) & 0xFFFFFFFF
        raise Fail("%s: got %d bytes at offset %d: %r"
                   % (why, len(s.payload), rel, s))


def expect_ack(c, ack_off, timeout=3.0, what=""):
    """The next segment is a pure ACK of the peer's stream up to ack_off."""
    s = c.peer.recv(timeout)
    check(s is not None, "expected an ACK of %d%s, got nothing"
          % (ack_off, what))
    check(s.sport == c.lport and s.dport == c.pport,
          "segment for another connection: %r" % s)
    check(s.csum_ok, "bad checksum on %r" % s)
    check(s.flags & ~0x08 == ACK and not s.payload,
          "expected a pure ACK, got %r" % s)
    check(s.ack == c.irs + 1 + ack_off, "expected ack %d%s, got %d: %r"
          % (ack_off, what, s.ack - c.irs - 1, s))
    check(s.seq == c.rcv, "ACK with seq %d, not %d"
          % (s.seq - c.iss - 1, c.rcv - c.iss - 1))
    c.saw(s)
    return s


def peer_data(c, off, payload, opts=b"", win=65535):
    """The peer sends payload at offset off of its own stream."""
    if c.ts and not opts:
        opts = c.opts()
    c.peer.send(c.pport, c.lport, c.irs + 1 + off, c.rcv, ACK, win, opts,
                payload)


def rel_sack(c, s):
    """The SACK blocks of s as offsets of the peer's stream."""
    return [((a - c.irs - 1) & 0xFFFFFFFF, (b - c.irs - 1) & 0xFFFFFFFF)
            for a, b in s.opts.get("sack", [])]


# ------------------------------------------------------------- sending

@scenario
def initial_window_10(peer):
    """RFC 6928: 10 segments before any ACK; slow start after (RFC 5681)."""
    slow_rto()
    c = open_active(peer)
    data = pattern(20 * MSS)
    write_all(c.fd, data)
    for k in range(10):
        expect_seg(c, data, k * MSS, what=" (segment %d of IW10)" % (k + 1))
    silence(c, 0.5, "an 11th segment before any ACK (initial window is 10)")
    # One segment acknowledged: cwnd 11, 9 in flight: two more.
    ack(c, MSS)
    expect_seg(c, data, 10 * MSS, what=" (slow start after 1 ACK)")
    expect_seg(c, data, 11 * MSS, what=" (slow start after 1 ACK)")
    silence(c, 0.5, "more than cwnd 11 after one acknowledged segment")
    # Everything acknowledged: the window has grown past the other 8.
    ack(c, 12 * MSS)
    for k in range(12, 20):
        expect_seg(c, data, k * MSS, what=" (after ACK of 12)")
    ack(c, 20 * MSS)
    silence(c, 0.3, "a segment after everything was acknowledged")
    c.rcv = c.iss + 1 + 20 * MSS


@scenario
def fast_retransmit_3_dupacks(peer):
    """RFC 5681 3.2: the third duplicate ACK retransmits, no RTO needed."""
    slow_rto()
    c = open_active(peer)
    data = pattern(6 * MSS)
    write_all(c.fd, data)
    for k in range(6):
        expect_seg(c, data, k * MSS)
    before = counters()
    ack(c, MSS)                       # segment 1 arrived, 2 is lost
    silence(c, 0.3, "a segment after the ACK of segment 1 (nothing to send)")
    for n in (1, 2):
        ack(c, MSS)
        silence(c, 0.3, "a segment after %d duplicate ACK(s)" % n)
    ack(c, MSS)                       # the third duplicate ACK
    expect_seg(c, data, MSS, what=" (fast retransmit of segment 2)")
    silence(c, 0.3, "more than the one lost segment retransmitted")
    after = counters()
    check_delta(before, after, "Timeouts", 0)
    check_delta(before, after, "RetransSegs", 1)
    check_delta(before, after, "FastRetrans", 1)
    ack(c, 6 * MSS)
    silence(c, 0.3, "a segment after everything was acknowledged")


@scenario
def retransmission_collapses_short_segments(peer):
    """Short segments sent one by one (TCP_NODELAY) and the FIN after
    them go again after an RTO as one segment (tcp_retrans_try_collapse())."""
    c = open_active(peer)
    setsockopt_int(c.fd, P.SOL_TCP, P.TCP_NODELAY, 1)
    data = pattern(300)
    for k in range(3):
        write_all(c.fd, data[k * 100:(k + 1) * 100])
        expect_seg(c, data, k * 100, 100)
    before = counters()
    os.close(c.fd)
    c.expect(P.FIN | ACK, seq=c.iss + 301, ack=c.irs + 1, payload=b"")
    s = c.peer.recv(5.0)
    check(s is not None and s.flags & ~P.PSH == P.FIN | ACK and
          s.seq == c.iss + 1 and s.payload == data,
          "expected the 300 bytes and the FIN again in one segment, got %r"
          % s)
    check(s.flags & P.PSH, "the collapsed segment lost the PSH: %r" % s)
    check_delta(before, counters(), "Timeouts", 1)
    ack(c, 301)
    wait_until(lambda: c.state() == P.STATES["FIN_WAIT2"], "FIN_WAIT2")


@scenario
def sack_recovery_retransmits_holes_only(peer):
    """RFC 6675: holes go again, SACKed segments never."""
    slow_rto(5000)
    c = open_active(peer, sack=True)
    check(c.syn.opts.get("sackok"), "SYN without SACK-permitted")
    data = pattern(10 * MSS)
    write_all(c.fd, data)
    for k in range(10):
        expect_seg(c, data, k * MSS)
    before = counters()

    def seg(k):
        return k * MSS

    # Segments 2 and 4 are lost; every other one arrives and is SACKed,
    # the block with the newest segment first (RFC 2018).
    ack(c, seg(1))
    ack(c, seg(1), sack=[(seg(2), seg(3))])
    for k in range(4, 10):
        ack(c, seg(1), sack=[(seg(4), seg(k + 1)), (seg(2), seg(3))])
    # Both holes are lost by RFC 6675's rule (3 segments SACKed above
    # each) and go again, the first one first, without waiting for the
    # ACK of the first retransmission.
    expect_seg(c, data, seg(1), timeout=4.0,
               what=" (retransmission of the first hole, segment 2)")
    expect_seg(c, data, seg(3), timeout=4.0,
               what=" (retransmission of the second hole, segment 4,"
               " before any ACK for segment 2)")
    silence(c, 0.5, "a third retransmission (SACKed data sent again?)")
    after = counters()
    check_delta(before, after, "Timeouts", 0)
    check_delta(before, after, "RetransSegs", 2)
    ack(c, seg(10))
    silence(c, 0.3, "a segment after everything was acknowledged")


# What left after each SACK of prr_follows_rfc6937 (offsets in segments;
# R: a retransmission), as kernel TCP sent it: after the first SACK one
# new segment, then the lost one at RACK's reordering time-out (recovery,
# PRR's forced retransmission); then new data as PRR allows.
PRR_SENDS = "10 R0 | 11 | 12 | - | 13 | 14 | - | - | 15"


@scenario
def prr_follows_rfc6937(peer):
    """RFC 6937 (tcp_cwnd_reduction()): 10 segments out, the first lost,
    the others SACKed one by one (no TLP). Recovery starts with the fast
    retransmission (ssthresh 7 of cwnd 10); then new data leaves at
    ssthresh / prior_cwnd of what is delivered while more than ssthresh
    is in flight, and up to what is delivered below it."""
    knob("tlp", 0)
    slow_rto(5000)
    c = open_active(peer, sack=True)
    flight(c, 30, 10)
    sends = []
    for k in range(1, 10):
        ack(c, 0, sack=[(MSS, (k + 1) * MSS)])
        got = []
        while True:
            s = c.peer.recv(0.3)
            if s is None:
                break
            off = ((s.seq - c.iss - 1) & 0xFFFFFFFF) // MSS
            got.append("R%d" % off if off < 10 else "%d" % off)
        sends.append(" ".join(got) or "-")
    print("# %s: sends after SACKs 1-9: %s" % (P.stack_name(),
                                               " | ".join(sends)),
          flush=True)
    ti = P.tcp_info(c.fd)
    check(ti["snd_ssthresh"] == 7, "ssthresh %d, not 7" % ti["snd_ssthresh"])
    check(" | ".join(sends) == PRR_SENDS, "sends %r, kernel TCP's %r"
          % (" | ".join(sends), PRR_SENDS))
    ack(c, 30 * MSS)


@scenario
def rack_one_sack_is_enough(peer):
    """RFC 8985 6: a hole with one SACKed segment sent after it is lost
    once a quarter of the minimum RTT has passed; no third duplicate ACK
    and no RTO needed."""
    slow_rto(5000)
    c = open_active(peer, sack=True)
    data = flight(c, 4, 4)
    before = counters()
    ack(c, MSS, sack=[(2 * MSS, 3 * MSS)])   # segment 2 lost, 3 SACKed
    expect_seg(c, data, MSS, timeout=2.5,
               what=" (RACK: segment 2 again after one SACK, before the"
               " 5 s RTO)")
    silence(c, 0.5, "a second retransmission (segment 4 was sent after "
            "the SACKed one: not lost)")
    after = counters()
    check_delta(before, after, "Timeouts", 0)
    check_delta(before, after, "RetransSegs", 1)
    if "RackReoTimeouts" in after:
        check(after["RackReoTimeouts"] > before["RackReoTimeouts"],
              "RackReoTimeouts stayed at %d" % after["RackReoTimeouts"])
    ack(c, 4 * MSS)
    silence(c, 0.3, "a segment after everything was acknowledged")


@scenario
def rack_marks_what_was_sent_together(peer):
    """RFC 8985 6.2: segments that left together (one write, one send
    time) are lost together: a SACK of the fourth marks none of the first
    three at once, all three when the reorder window has passed; what
    goes out then is what PRR allows (RFC 6937)."""
    slow_rto(5000)
    c = open_active(peer, sack=True)
    data = flight(c, 4, 4)
    before = counters()
    ack(c, 0, sack=[(3 * MSS, 4 * MSS)])
    expect_seg(c, data, 0, timeout=2.5,
               what=" (RACK: the first segment at the reorder time-out)")
    got = [0]
    while True:
        s = c.peer.recv(0.5)
        if s is None:
            break
        got.append((s.seq - c.iss - 1) & 0xFFFFFFFF)
    after = counters()
    check_delta(before, after, "Timeouts", 0)
    if "RackReoTimeouts" in after:
        check(after["RackReoTimeouts"] > before["RackReoTimeouts"],
              "the retransmission came before the reorder timer")
    check(got == [0], "retransmitted at offsets %r before any ACK; PRR "
          "allows one segment (cwnd 1)" % got)
    ack(c, 4 * MSS)
    silence(c, 0.3, "a segment after everything was acknowledged")


@scenario
def hystart_ends_slow_start(peer):
    """CUBIC's HyStart (Linux's default hystart_detect 3): once cwnd is
    16 or more, a round whose RTT samples rise well above the least one
    seen ends slow start without a loss: ssthresh becomes cwnd, once."""
    slow_rto(5000)
    c = open_active(peer, sack=True)
    data = pattern(40 * MSS)
    write_all(c.fd, data)
    before = counters()
    for k in range(10):
        expect_seg(c, data, k * MSS)
    # A quick round: the least RTT; cwnd grows to 20.
    for k in range(1, 11):
        ack(c, k * MSS)
    for k in range(10, 30):
        expect_seg(c, data, k * MSS, what=" (slow start to cwnd 20)")
    # A slow round: every ACK 60 ms and more late, 5 ms apart.
    time.sleep(0.06)
    for k in range(11, 31):
        ack(c, k * MSS)
        time.sleep(0.005)
    after = counters()
    found = sum(after[n] - before[n] for n in ("HystartTrainDetect",
                                                "HystartDelayDetect"))
    ti = P.tcp_info(c.fd)
    check(found == 1, "HyStart ended slow start %d times (train +%d, delay "
          "+%d), not once" % (found, after["HystartTrainDetect"] -
                              before["HystartTrainDetect"],
                              after["HystartDelayDetect"] -
                              before["HystartDelayDetect"]))
    check(16 <= ti["snd_ssthresh"] <= 40, "ssthresh %d after HyStart, not "
          "the cwnd it found (16 to 40)" % ti["snd_ssthresh"])
    check(after["Timeouts"] == before["Timeouts"], "an RTO fired")
    got = 30
    while got < 40:
        s = c.peer.recv(3.0)
        check(s is not None, "the rest of the data did not come")
        got = max(got, ((s.seq - c.iss - 1) & 0xFFFFFFFF) // MSS + 1)
    ack(c, 40 * MSS)
    c.rcv = c.iss + 1 + 40 * MSS


@scenario
def tlp_probes_with_new_data(peer):
    """RFC 8985 7.3: no ACK for two RTTs: a probe before the RTO, the
    next new segment while there is one, cwnd or not."""
    knob("tlp", 1)
    slow_rto(5000)
    c = open_active(peer, sack=True)
    data = pattern(12 * MSS)
    before = counters()     # the probe may come while we read the 10
    write_all(c.fd, data)
    for k in range(10):
        expect_seg(c, data, k * MSS, what=" (initial window)")
    expect_seg(c, data, 10 * MSS, timeout=2.5,
               what=" (tail loss probe: segment 11, new data)")
    silence(c, 1.0, "a second probe, or more new data past cwnd")
    after = counters()
    check_delta(before, after, "Timeouts", 0)
    if "LossProbes" in after:
        check_delta(before, after, "LossProbes", 1)
    ack(c, 11 * MSS)
    expect_seg(c, data, 11 * MSS, what=" (after the ACK of the probe)")
    ack(c, 12 * MSS)
    silence(c, 0.3, "a segment after everything was acknowledged")


@scenario
def tlp_retransmits_the_tail(peer):
    """RFC 8985 7.3: no new data to probe with: the last segment goes
    again, and its ACK ends the episode without an RTO. (Two segments
    stay out: with one, the probe waits rto_min_ms longer for a delayed
    ACK, as in Linux, and the slow RTO here would come first.)"""
    knob("tlp", 1)
    slow_rto(5000)
    c = open_active(peer, sack=True)
    data = flight(c, 4, 4)
    before = counters()
    ack(c, 2 * MSS)                   # segments 3 and 4 get no ACK
    expect_seg(c, data, 3 * MSS, timeout=2.5,
               what=" (tail loss probe: the last segment again)")
    ack(c, 4 * MSS)
    silence(c, 1.0, "a segment after the probe repaired the tail")
    after = counters()
    check_delta(before, after, "Timeouts", 0)
    check_delta(before, after, "RetransSegs", 1)


@scenario
def wscale_peer_window_respected(peer):
    """RFC 7323: the peer's window is field << its shift, except on SYNs."""
    slow_rto()
    c = open_active(peer, wscale=2, win=2 * MSS)
    check("wscale" in c.syn.opts, "SYN without window scale")
    data = pattern(20000)
    write_all(c.fd, data)
    # The SYN-ACK's window (2 segments) is taken as is: never scaled.
    expect_seg(c, data, 0)
    expect_seg(c, data, MSS)
    silence(c, 0.5, "a segment beyond the SYN-ACK's window of 2920 bytes "
            "(a SYN's window is never scaled, RFC 7323 2.2)")
    # Window field 2000 with shift 2: 8000 bytes from snd_una, 5 full
    # segments; the 700 bytes left are no segment (sender SWS
    # avoidance, RFC 9293 3.8.6.2.1).
    ack(c, 2 * MSS, win=2000)
    for k in range(2, 7):
        expect_seg(c, data, k * MSS, what=" (window 2000 << 2 = 8000)")
    s = c.peer.recv(0.5)
    if s is not None:
        end = (s.seq - c.iss - 1 + len(s.payload)) & 0xFFFFFFFF
        check(end <= 2 * MSS + 8000,
              "sent up to offset %d, beyond snd_una + (2000 << 2) = %d: %r"
              % (end, 2 * MSS + 8000, s))
        raise Fail("a %d-byte segment into the last 700 bytes of the window "
                   "(sender SWS avoidance): %r" % (len(s.payload), s))
    # Field 16000 << 2 = 64000: the rest flows, never past the edge.
    una = 7 * MSS
    ack(c, una, win=16000)
    while una < len(data):
        s = c.peer.recv(3.0)
        check(s is not None, "transfer stalled at offset %d" % una)
        off = (s.seq - c.iss - 1) & 0xFFFFFFFF
        check(off == una and s.payload == data[off:off + len(s.payload)]
              and s.payload, "expected data at offset %d, got %r" % (una, s))
        check(off + len(s.payload) <= una + 64000, "beyond the window")
        una += len(s.payload)
        ack(c, una, win=16000)
    silence(c, 0.3, "a segment after everything was acknowledged")
    c.rcv = c.iss + 1 + len(data)


@scenario
def zero_window_probes(peer):
    """RFC 9293 3.8.6.1: probes with back-off; the data when it opens."""
    knob("rto_min_ms", 400)
    # Timestamps on: the probes' TSvals time them at the sender, whatever
    # the delay before this process reads them.
    c = open_active(peer, ts=True)
    a = pattern(1000)
    b = pattern(1000, 1)
    write_all(c.fd, a)
    expect_seg(c, a, 0, 1000)
    ack(c, 1000, win=0)
    write_all(c.fd, b)
    times = []
    for i in range(3):
        # Linux's probe: a bare ACK with seq snd_una - 1, which makes
        # the receiver answer with an ACK (RFC 9293 3.10.7.4). Left
        # unanswered here, so that only the sender's timer spaces them.
        s = c.peer.recv(10.0)
        check(s is not None, "no window probe %d" % (i + 1))
        times.append(s.opts["ts"][0] / 1000.0 if "ts" in s.opts
                     else time.monotonic())
        check(s.flags & ~0x08 == ACK and not s.payload
              and s.seq == c.iss + 1000 and s.ack == c.irs + 1,
              "probe %d: expected a bare ACK with seq snd_una - 1 = %d, "
              "got seq %d, %d bytes: %r"
              % (i + 1, 999, (s.seq - c.iss - 1) & 0xFFFFFFFF,
                 len(s.payload), s))
        check("ts" in s.opts, "probe %d without timestamps" % (i + 1))
        c.saw(s)
    d1, d2 = times[1] - times[0], times[2] - times[1]
    check(d2 > 1.25 * d1, "no exponential back-off: probes %.3f s then "
          "%.3f s apart" % (d1, d2))
    ack(c, 1000, win=65535)           # the window opens
    s = c.peer.recv(3.0)
    check(s is not None and s.payload == b and s.seq == c.iss + 1001,
          "the data did not follow the window update: %r" % s)
    c.saw(s)
    ack(c, 2000)
    silence(c, 0.3, "a segment after everything was acknowledged")


@scenario
def nagle_and_nodelay(peer):
    """RFC 9293 3.7.4: a small segment waits while one is unacknowledged;
    TCP_NODELAY (SOL_TCP 1) sends at once, and pushes what waits."""
    slow_rto()
    c = open_active(peer)
    check(getsockopt_int(c.fd, SOL_TCP, TCP_NODELAY) == 0,
          "TCP_NODELAY on by default")
    data = b"".join(pattern(100, i) for i in range(5))
    write_all(c.fd, data[0:100])
    expect_seg(c, data, 0, 100, what=" (nothing in flight: at once)")
    write_all(c.fd, data[100:200])
    silence(c, 0.5, "a second small segment while the first is "
            "unacknowledged (Nagle)")
    ack(c, 100)
    expect_seg(c, data, 100, 100, what=" (Nagle: once the first is acked)")
    write_all(c.fd, data[200:300])
    silence(c, 0.5, "a small segment while one is unacknowledged (Nagle)")
    setsockopt_int(c.fd, SOL_TCP, TCP_NODELAY, 1)
    expect_seg(c, data, 200, 100, what=" (TCP_NODELAY pushes what waits)")
    check(getsockopt_int(c.fd, SOL_TCP, TCP_NODELAY) == 1,
          "TCP_NODELAY does not read back 1")
    write_all(c.fd, data[300:400])
    expect_seg(c, data, 300, 100, what=" (TCP_NODELAY: at once)")
    write_all(c.fd, data[400:500])
    expect_seg(c, data, 400, 100, what=" (TCP_NODELAY: at once)")
    ack(c, 500)
    silence(c, 0.3, "a segment after everything was acknowledged")


# ------------------------------------------------------------- receiving

@scenario
def sack_generated_for_out_of_order(peer):
    """RFC 2018: ACK at the hole, SACK blocks newest first; the hole
    filled, one cumulative ACK and the data in order."""
    lfd, lport = listener(5101)
    c = open_passive(peer, lfd, lport)
    check(c.synack.opts.get("sackok"), "SYN-ACK without SACK-permitted "
          "although the SYN offered it")
    p = [pattern(1000, k) for k in range(4)]
    peer_data(c, 1000, p[1])
    s = expect_ack(c, 0, what=" (segment 1 missing)")
    check(rel_sack(c, s) == [(1000, 2000)],
          "SACK after segment 2: expected [(1000, 2000)], got %r"
          % rel_sack(c, s))
    peer_data(c, 3000, p[3])
    s = expect_ack(c, 0, what=" (segment 1 missing)")
    check(rel_sack(c, s) == [(3000, 4000), (1000, 2000)],
          "SACK after segment 4: expected [(3000, 4000), (1000, 2000)] "
          "(newest first), got %r" % rel_sack(c, s))
    peer_data(c, 2000, p[2])
    s = expect_ack(c, 0, what=" (segment 1 missing)")
    check(rel_sack(c, s) == [(1000, 4000)],
          "SACK after segment 3: expected the merged [(1000, 4000)], got %r"
          % rel_sack(c, s))
    peer_data(c, 0, p[0])
    s = expect_ack(c, 4000, what=" (the hole filled: all of it)")
    check("sack" not in s.opts, "SACK blocks left after the hole was "
          "filled: %r" % rel_sack(c, s))
    silence(c, 0.3, "more than one ACK for the segment that filled the hole")
    c.snd = c.irs + 1 + 4000
    check(read_exact(c.fd, 4000) == b"".join(p),
          "data read back out of order or corrupted")
    os.set_blocking(c.fd, False)
    check_nothing_to_read(c.fd)


@scenario
def dsack_for_duplicates(peer):
    """RFC 2883: a duplicate is reported in the first SACK block."""
    lfd, lport = listener(5102)
    c = open_passive(peer, lfd, lport)
    p = [pattern(1000, k) for k in range(3)]
    peer_data(c, 0, p[0])
    s = expect_ack(c, 1000)
    check("sack" not in s.opts, "SACK blocks on an in-order ACK")
    # Below the cumulative ACK: the D-SACK block alone.
    peer_data(c, 0, p[0])
    s = expect_ack(c, 1000, what=" (duplicate of segment 1)")
    check(rel_sack(c, s) == [(0, 1000)],
          "D-SACK for a duplicate of segment 1: expected [(0, 1000)], got %r"
          % rel_sack(c, s))
    # Above it: the D-SACK block, then the SACK block that holds it.
    peer_data(c, 2000, p[2])
    s = expect_ack(c, 1000, what=" (segment 2 missing)")
    check(rel_sack(c, s) == [(2000, 3000)],
          "SACK for segment 3: expected [(2000, 3000)], got %r"
          % rel_sack(c, s))
    peer_data(c, 2000, p[2])
    s = expect_ack(c, 1000, what=" (duplicate of segment 3)")
    check(rel_sack(c, s) == [(2000, 3000), (2000, 3000)],
          "D-SACK for a duplicate out-of-order segment: expected "
          "[(2000, 3000), (2000, 3000)], got %r" % rel_sack(c, s))
    peer_data(c, 1000, p[1])
    s = expect_ack(c, 3000, what=" (the hole filled)")
    check("sack" not in s.opts, "SACK blocks once all is in order: %r"
          % rel_sack(c, s))
    c.snd = c.irs + 1 + 3000
    check(read_exact(c.fd, 3000) == b"".join(p),
          "duplicates delivered, or data out of order")
    os.set_blocking(c.fd, False)
    check_nothing_to_read(c.fd)


@scenario
def wscale_receive_window(peer):
    """RFC 7323: SYN-ACK with wscale; window field << shift is a window
    the receive buffer honours: the peer fills it, all is accepted."""
    lfd, lport = listener(5103)
    setsockopt_int(lfd, SOL_SOCKET, SO_RCVBUF, 128 * 1024)
    lbuf = getsockopt_int(lfd, SOL_SOCKET, SO_RCVBUF)
    c = open_passive(peer, lfd, lport, wscale=2)
    shift = c.synack.opts.get("wscale")
    check(shift is not None and shift <= 14,
          "SYN-ACK window scale %r (offered one: expected 0..14)" % shift)
    rcvbuf = getsockopt_int(c.fd, SOL_SOCKET, SO_RCVBUF)
    check(rcvbuf == lbuf, "accepted socket has SO_RCVBUF %d, the listener "
          "%d" % (rcvbuf, lbuf))
    # The SYN-ACK's window is not scaled.
    r0 = c.synack.win
    data = pattern(1 << 20)
    peer_data(c, 0, data[:1000])
    s = expect_ack(c, 1000)
    w = s.win << shift
    check(w <= rcvbuf, "window field %d << %d = %d beyond the receive "
          "buffer %d" % (s.win, shift, w, rcvbuf))
    right = 1000 + w
    check(right >= r0 - (1 << shift),
          "right edge moved left from %d (SYN-ACK) to %d: field %d << %d"
          % (r0, right, s.win, shift))
    check(w >= 4 * MSS, "window of %d bytes" % w)
    # Fill exactly that window; the application reads nothing meanwhile.
    off = 1000
    top = 1000
    while off < right:
        n = min(MSS, right - off)
        peer_data(c, off, data[off:off + n])
        off += n
        while True:
            s = c.peer.recv(0)
            if s is None:
                break
            top = max(top, s.ack - c.irs - 1)
    end = time.monotonic() + 10
    while top < right and time.monotonic() < end:
        s = c.peer.recv(0.5)
        if s is not None:
            check(s.flags & ~0x08 == ACK and not s.payload, "%r" % s)
            top = max(top, s.ack - c.irs - 1)
    check(top == right, "of the %d bytes advertised, %d were acknowledged"
          % (w, top - 1000))
    c.snd = c.irs + 1 + right
    check(read_exact(c.fd, right, 10) == data[:right],
          "data read back corrupted")


@scenario
def wscale_not_offered(peer):
    """RFC 7323 1.3: no wscale in the SYN, none in the SYN-ACK."""
    lfd, lport = listener(5104)
    c = open_passive(peer, lfd, lport, wscale=None)
    check("wscale" not in c.synack.opts,
          "SYN-ACK with window scale to a SYN without: %r" % c.synack)
    peer_data(c, 0, pattern(1000))
    s = expect_ack(c, 1000)
    check(1000 + s.win >= c.synack.win,
          "unscaled window shrank: %d then %d at offset 1000"
          % (c.synack.win, s.win))
    c.snd = c.irs + 1 + 1000


@scenario
def paws_drops_old_timestamp(peer):
    """RFC 7323 5: TSval older than ts_recent: dropped, ACKed, counted."""
    c = open_active(peer, ts=True)
    check("ts" in c.synack_ack.opts, "no timestamps after negotiating them")
    p = [pattern(1000, k) for k in range(2)]
    peer.ts += 10
    t1 = peer.ts
    peer_data(c, 0, p[0], opt_ts(t1, c.tsecr))
    s = expect_ack(c, 1000)
    check("ts" in s.opts and s.opts["ts"][1] == t1,
          "ACK does not echo TSval %d: %r" % (t1, s))
    before = counter("PawsDrop")
    peer_data(c, 1000, p[1], opt_ts(t1 - 500, c.tsecr))
    s = expect_ack(c, 1000, what=" (old TSval: dropped)")
    check("ts" in s.opts and s.opts["ts"][1] == t1,
          "the duplicate ACK echoes %r, not ts_recent %d"
          % (s.opts.get("ts"), t1))
    after = counter("PawsDrop")
    check(after == before + 1, "PawsDrop %d -> %d" % (before, after))
    check(read_exact(c.fd, 1000) == p[0], "segment 1 lost")
    check_nothing_to_read(c.fd)
    peer.ts += 1
    peer_data(c, 1000, p[1], opt_ts(peer.ts, c.tsecr))
    s = expect_ack(c, 2000, what=" (fresh TSval: accepted)")
    check(s.opts["ts"][1] == peer.ts, "TSecr %r" % (s.opts.get("ts"),))
    check(read_exact(c.fd, 1000) == p[1], "segment 2 lost")
    c.snd = c.irs + 1 + 2000


@scenario
def paws_window_one_tick(peer):
    """A TSval one tick below ts_recent is taken (TCP_PAWS_WINDOW: two
    CPUs may stamp segments a millisecond out of order); two below is
    dropped as an old duplicate. capture.sh found xtcp dropping the
    first kind on a clean veth link."""
    c = open_active(peer, ts=True)
    p = [pattern(1000, k) for k in range(3)]
    peer.ts += 10
    t1 = peer.ts
    peer_data(c, 0, p[0], opt_ts(t1, c.tsecr))
    expect_ack(c, 1000)
    before = counter("PawsDrop")
    peer_data(c, 1000, p[1], opt_ts(t1 - 1, c.tsecr))
    expect_ack(c, 2000, what=" (TSval one below ts_recent: taken)")
    check(counter("PawsDrop") == before, "PawsDrop counted a TSval one below")
    peer_data(c, 2000, p[2], opt_ts(t1 - 2, c.tsecr))
    expect_ack(c, 2000, what=" (TSval two below: dropped)")
    check(counter("PawsDrop") == before + 1, "PawsDrop %d -> %d"
          % (before, counter("PawsDrop")))
    check(read_exact(c.fd, 2000) == p[0] + p[1], "data lost")
    c.snd = c.irs + 1 + 2000


@scenario
def delayed_ack(peer):
    """RFC 9293 3.8.6.3 / RFC 5681 4.2: in bulk mode one full segment is
    acked by the delayed-ACK timer (delack_ms), two at once; out-of-order
    data and the segment that fills a hole at once."""
    if P.BASELINE:
        delack = 0.040                    # Linux's TCP_DELACK_MIN
    else:
        check(os.path.exists("/proc/sys/net/xtcp/delack_ms"),
              "no net.xtcp.delack_ms")
        check(knob("delack_ms") == 40, "delack_ms default %r, not 40"
              % knob("delack_ms"))
        for bad in (0, 1001):
            try:
                knob("delack_ms", bad)
                raise Fail("delack_ms accepted %d" % bad)
            except OSError as e:
                check(e.errno == errno.EINVAL, "delack_ms=%d: %s" % (bad, e))
        knob("delack_ms", 1000)
        delack = 1.0
    # An idle gap longer than the RTO would restart quick-ACK mode.
    slow_rto(5000)
    c = open_active(peer)
    got = bytearray()
    os.set_blocking(c.fd, True)

    def reader():
        while True:
            try:
                b = os.read(c.fd, 65536)
            except OSError:
                return
            if not b:
                return
            got.extend(b)
    threading.Thread(target=reader, daemon=True).start()
    data = pattern(80 * MSS)
    off = 0

    def send(n, at=None):
        nonlocal off
        for _ in range(n):
            peer_data(c, off if at is None else at,
                      data[off if at is None else at:][:MSS])
            if at is None:
                off += MSS

    def ack_of(target, what, limit=5.0):
        """Time at which an ACK of target arrives (others are skipped)."""
        end = time.monotonic() + limit
        while True:
            left = end - time.monotonic()
            check(left > 0, "no ACK of %d (%s)" % (target, what))
            s = c.peer.recv(left)
            if s is None:
                continue
            t = time.monotonic()
            check(s.flags & ~0x08 == ACK and not s.payload,
                  "expected a pure ACK, got %r" % s)
            if s.ack == c.irs + 1 + target:
                return t

    # Quick-ACK mode at the start (Linux acks at once until it has sent
    # up to 16 ACKs): pairs of full segments, each pair acked at once
    # anyway, until well past that.
    for _ in range(20):
        send(2)
        ack_of(off, "warm-up pair")
    while c.peer.recv(0.2) is not None:
        pass                              # window updates, if any
    # One full segment: the delayed-ACK timer acknowledges it.
    timer_acks = counter("DelayedAcks")
    t0 = time.monotonic()
    send(1)
    dt = ack_of(off, "one full segment", 10.0) - t0
    check(dt >= 0.5 * delack, "one full segment acked after %.3f s, "
          "before half of delack_ms (%.3f s)" % (dt, delack))
    check(counter("DelayedAcks") == timer_acks + 1,
          "DelayedAcks %d -> %d: the ACK of one segment did not come from "
          "the delayed-ACK timer" % (timer_acks, counter("DelayedAcks")))

    def at_once(n, target, what, at=None):
        """An ACK of target within 0.9 s, not from the delayed-ACK timer."""
        timer_acks = counter("DelayedAcks")
        t0 = time.monotonic()
        send(n, at)
        dt = ack_of(target, what) - t0
        check(counter("DelayedAcks") == timer_acks,
              "%s acknowledged by the delayed-ACK timer, not at once" % what)
        check(dt < 0.9, "%s acknowledged after %.3f s, not at once"
              % (what, dt))

    # RFC 5681 4.2: at least every second full-sized segment.
    at_once(2, off + 2 * MSS, "two full segments")
    # Out of order: a duplicate ACK at once.
    at_once(1, off, "an out-of-order segment", at=off + MSS)
    # The hole filled: at once, for both.
    at_once(1, off + 2 * MSS, "the segment filling the hole")
    off += MSS
    c.snd = c.irs + 1 + off
    wait_until(lambda: len(got) >= off, "the reader to get all the data")
    check(bytes(got) == data[:off], "data read back corrupted")


@scenario
def ack_waits_while_the_window_would_shrink(peer):
    """__tcp_ack_snd_check(): two full segments are acknowledged at once
    only if the ACK would not offer less window than the last one did.
    Past the quick ACKs of the start, with a scaled window, after an ACK
    that offered the whole window, two segments nobody reads take
    buffer, the window an ACK would offer shrinks, and
    the delayed-ACK timer sends it, on both stacks (with the receive
    buffer fixed, so that it does not grow)."""
    slow_rto(5000)
    c = open_active(peer, wscale=2, sack=True)
    # The buffer it has, fixed: auto-tuning would grow it as the pairs
    # are read, and a growing window is acknowledged at once.
    setsockopt_int(c.fd, SOL_SOCKET, SO_RCVBUF,
                   getsockopt_int(c.fd, SOL_SOCKET, SO_RCVBUF) // 2)
    data = pattern(60 * MSS)
    off = 0

    def pair():
        nonlocal off
        for _ in range(2):
            peer_data(c, off, data[off:off + MSS])
            off += MSS

    def ack_of(target, what):
        end = time.monotonic() + 5.0
        while True:
            left = end - time.monotonic()
            check(left > 0, "no ACK of %d (%s)" % (target, what))
            s = c.peer.recv(left)
            if s is not None and s.ack == c.irs + 1 + target:
                check(s.flags & ~0x08 == ACK and not s.payload,
                      "expected a pure ACK, got %r" % s)
                return

    # Past quick-ACK mode (up to 16 ACKs at the start), reading each pair.
    for _ in range(20):
        pair()
        check(read_exact(c.fd, 2 * MSS) == data[off - 2 * MSS:off],
              "data read back corrupted")
        ack_of(off, "a pair that was read")
    # Each pair was acknowledged with two segments in the buffer; one
    # segment, read at once, is acknowledged (by the timer) with the
    # buffer empty: the window offered is back to rcv_ssthresh.
    peer_data(c, off, data[off:off + MSS])
    off += MSS
    check(read_exact(c.fd, MSS) == data[off - MSS:off],
          "data read back corrupted")
    ack_of(off, "one full segment, read")
    while c.peer.recv(0.2) is not None:
        pass                              # window updates, if any
    timer_acks = counter("DelayedAcks")
    pair()
    ack_of(off, "two full segments nobody reads")
    check(counter("DelayedAcks") == timer_acks + 1,
          "DelayedAcks %d -> %d: two unread segments were acknowledged at "
          "once although the ACK offered less window"
          % (timer_acks, counter("DelayedAcks")))
    check(read_exact(c.fd, 2 * MSS) == data[off - 2 * MSS:off],
          "data read back corrupted")
    c.snd = c.irs + 1 + off


SCENARIOS = [
    initial_window_10, fast_retransmit_3_dupacks,
    retransmission_collapses_short_segments,
    sack_recovery_retransmits_holes_only, prr_follows_rfc6937,
    rack_one_sack_is_enough,
    rack_marks_what_was_sent_together, hystart_ends_slow_start,
    tlp_probes_with_new_data, tlp_retransmits_the_tail,
    wscale_peer_window_respected,
    zero_window_probes, nagle_and_nodelay,
    sack_generated_for_out_of_order, dsack_for_duplicates,
    wscale_receive_window, wscale_not_offered, paws_drops_old_timestamp,
    paws_window_one_tick,
    delayed_ack, ack_waits_while_the_window_would_shrink,
]

if __name__ == "__main__":
    main(SCENARIOS, stacks=["xtcp", "tcp"])
