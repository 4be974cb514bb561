#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Linux TCP in detail: scenarios where xtcp must do what Linux 6.1's TCP
does, down to the timers it derives, each run on xtcp and on kernel TCP.

- The RTT of the handshake (SYN to SYN-ACK on the active side, SYN-ACK to
  its ACK on the passive one, tcp_synack_rtt_meas()) is the first sample:
  TCP_INFO shows it, and the RTO is SRTT + max(4 * RTTVAR, rto_min), as
  tcp_rtt_estimator() and tcp_set_rto() compute it. Without a sample (the
  SYN went twice, no timestamps) the RTO is 3 s (tcp_init_metrics()).
- A FIN that close() sent after such a handshake is retransmitted on that
  RTO, doubling, until TCP_USER_TIMEOUT ends the connection.
- A tail loss probe (RFC 8985 7.3) sends the FIN at the tail again after
  two SRTTs, in FIN_WAIT1 as in ESTABLISHED.
- The receive window (tcp_select_initial_window(),
  tcp_init_buffer_space(), __tcp_select_window()): a SYN offers half the
  receive buffer in whole segments of the peer's payload (our MSS, less
  the timestamps on a SYN-ACK that grants them), at most 65535; when the
  handshake completes, rcv_ssthresh (TCP_INFO) is held a segment below
  that half, and the first ACK of data offers rcv_ssthresh: rounded up to
  the window scale, or down to whole received segments without one.
- PSH (tcp_mark_push(), tcp_push(), __tcp_transmit_skb()): on the last
  segment of each write without MSG_MORE, of a corked run when the cork
  comes off, and on retransmissions of such a segment (each GSO packet
  ends with PSH as well, where the pacing rate and TSQ end it).

The peer is played through a tun device (xtcp_pkt.py). Where the peer
waits before it answers, the wait is the round trip it plays, not a wait
for a condition. Times are checked against what the stack itself reports
(TCP_INFO) or with bounds a factor apart, never to the millisecond.
"""

import os
import select
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
import xtcp_pkt as P  # noqa: E402
from xtcp_pkt import (ACK, FIN, RST, SYN, STATES, Conn, check,  # noqa: E402
                      counters, knob, listener, opt_mss, opt_sackok,
                      setsockopt_int, start_connect, tcp_info, wait_until,
                      xaccept)

SOL_TCP, TCP_USER_TIMEOUT = 6, 18
RTT = 0.1               # the round trip the peer plays in the handshake
HZ_US = 4000            # a jiffy at HZ 250 (Debian): RTOs are in jiffies
RTO_MIN_US = 200000


def expected_rto(rtt_us, rto_min_us=RTO_MIN_US):
    """The RTO after one sample: SRTT + max(2 * sample, rto_min)."""
    return rtt_us + max(2 * rtt_us, rto_min_us)


def check_one_sample(fd, what):
    """TCP_INFO after exactly one RTT sample of about RTT seconds."""
    i = tcp_info(fd)
    print("# %s: %s: tcpi_rtt %d us, rttvar %d us, rto %d us"
          % (P.stack_name(), what, i["rtt"], i["rttvar"], i["rto"]),
          flush=True)
    check(RTT * 1e6 <= i["rtt"] <= 4 * RTT * 1e6,
          "%s: tcpi_rtt %d us, not the %d ms the peer took"
          % (what, i["rtt"], RTT * 1000))
    check(abs(i["rttvar"] - i["rtt"] // 2) <= 1000,
          "%s: tcpi_rttvar %d us, not half of tcpi_rtt %d us (one sample)"
          % (what, i["rttvar"], i["rtt"]))
    want = expected_rto(i["rtt"])
    check(abs(i["rto"] - want) <= 2 * HZ_US,
          "%s: tcpi_rto %d us, not SRTT + max(4 * RTTVAR, rto_min) = %d us"
          % (what, i["rto"], want))
    return i


def slow_passive_open(peer, lfd, lport):
    """The peer's SYN; its ACK of the SYN-ACK RTT seconds later."""
    peer.port += 1
    irs = 9000000
    peer.send(peer.port, lport, irs, 0, SYN, 65535,
              opt_mss(1460) + opt_sackok())
    sa = peer.expect(SYN | ACK, ack=irs + 1, sport=lport, dport=peer.port)
    time.sleep(RTT)         # the round trip the peer plays
    c = Conn(peer, None, lport, peer.port, sa.seq, irs)
    c.send(ACK)
    wait_until(lambda: c.state() == STATES["ESTABLISHED"], "ESTABLISHED")
    c.fd = xaccept(lfd)
    return c


def passive_rtt_from_handshake(peer):
    """SYN-ACK to its ACK is the passive opener's first RTT sample."""
    lfd, lport = listener()
    c = slow_passive_open(peer, lfd, lport)
    check_one_sample(c.fd, "passive open")
    c.send(RST, ack=0)


def active_rtt_from_handshake(peer):
    """SYN to SYN-ACK is the active opener's first RTT sample."""
    c = start_connect(peer)
    time.sleep(RTT)         # the round trip the peer plays
    peer.send(c.pport, c.lport, c.irs, c.iss + 1, SYN | ACK, 65535,
              opt_mss(1460) + opt_sackok())
    c.expect(ACK, seq=c.iss + 1, ack=c.irs + 1)
    wait_until(lambda: c.state() == STATES["ESTABLISHED"], "ESTABLISHED")
    check_one_sample(c.fd, "active open")
    c.send(RST, ack=0)


def rto_fallback_without_handshake_sample(peer):
    """The SYN went twice and there are no timestamps: Karn's rule gives
    no sample, and the RTO is 3 s until one comes (RFC 6298 5.7,
    tcp_init_metrics())."""
    c = start_connect(peer)
    again = peer.expect(SYN, seq=c.iss, timeout=4.0)
    check(again.dport == c.pport, "the SYN's retransmission: %r" % again)
    peer.send(c.pport, c.lport, c.irs, c.iss + 1, SYN | ACK, 65535,
              opt_mss(1460))
    c.expect(ACK, seq=c.iss + 1, ack=c.irs + 1)
    wait_until(lambda: c.state() == STATES["ESTABLISHED"], "ESTABLISHED")
    i = tcp_info(c.fd)
    print("# %s: tcpi_rtt %d us, rto %d us" % (P.stack_name(), i["rtt"],
                                              i["rto"]), flush=True)
    check(i["rtt"] == 0, "tcpi_rtt %d us from a retransmitted SYN (Karn)"
          % i["rtt"])
    check(abs(i["rto"] - 3000000) <= HZ_US,
          "tcpi_rto %d us, not the 3 s fallback" % i["rto"])
    c.send(RST, ack=0)


def fin_retransmitted_until_user_timeout(peer):
    """After a 100 ms handshake, close() with TCP_USER_TIMEOUT 3000: the
    FIN goes again after one RTO (about 300 ms, not rto_initial_ms),
    then after two and four (0.9 s and 2.1 s from the first); the user
    timeout ends the connection at 3 s without a reset."""
    lfd, lport = listener()
    c = slow_passive_open(peer, lfd, lport)
    i = check_one_sample(c.fd, "passive open")
    setsockopt_int(c.fd, SOL_TCP, TCP_USER_TIMEOUT, 3000)
    os.close(c.fd)
    c.expect(FIN | ACK, seq=c.iss + 1, ack=c.irs + 1)
    t0 = time.monotonic()
    times, rst = [], None
    while time.monotonic() < t0 + 4.5:
        s = peer.recv(0.2)
        if s is None or s.sport != lport:
            continue
        if s.flags & RST:
            rst = time.monotonic() - t0
            break
        check(s.flags & FIN and s.seq == c.iss + 1,
              "expected the FIN again, got %r" % s)
        times.append(time.monotonic() - t0)
    gone = c.state() is None
    print("# %s: FIN again at %s s%s; socket %s" % (
        P.stack_name(), ", ".join("%.2f" % t for t in times),
        "" if rst is None else ", RST at %.2f s" % rst,
        "gone" if gone else "still there"), flush=True)
    check(rst is None, "a RST at %.2f s: the user timeout ends an orphan "
          "silently (tcp_write_err())" % (rst or 0))
    check(len(times) == 3, "%d retransmissions of the FIN within the user "
          "timeout, not 3 (RTO %d us, doubling: about 0.3, 0.9, 2.1 s)"
          % (len(times), i["rto"]))
    rto = i["rto"] / 1e6
    check(0.5 * rto <= times[0] <= 2.5 * rto,
          "the first retransmission at %.2f s, not one RTO (%.2f s)"
          % (times[0], rto))
    check(times[2] < 3.0, "the third retransmission at %.2f s, after the "
          "user timeout" % times[2])
    # The timer fires at the user timeout (tcp_clamp_rto_to_user_timeout()),
    # not at the next RTO (4.5 s): gone when the loop ended at 4.5 s.
    check(gone, "the connection outlived its user timeout (3 s) by 1.5 s")


def tlp_probes_the_fin(peer):
    """Two segments and the FIN of shutdown(SHUT_WR) are out, nothing is
    acknowledged: after two SRTTs the probe sends the FIN again (RFC 8985
    7.3, the last segment), in FIN_WAIT1 as in ESTABLISHED, long before
    the RTO."""
    knob("tlp", 1)
    knob("rto_min_ms", 5000)
    knob("rto_initial_ms", 5000)
    # A 100 ms handshake: two SRTTs leave time to shut down after the
    # data before a probe for the data alone is due.
    lfd, lport = listener()
    c = slow_passive_open(peer, lfd, lport)
    mss = 1460
    data = bytes(range(256)) * 12
    # Counted before anything leaves: the probe follows the FIN within
    # two SRTTs, sooner than a slow kernel reads the counters, and
    # nothing may stand between the data and shutdown() either.
    before = counters()
    os.write(c.fd, data[:2 * mss])
    for k in range(2):
        s = c.expect(ACK, seq=c.iss + 1 + k * mss)
        check(s.payload == data[k * mss:(k + 1) * mss],
              "segment %d: %r" % (k, s))
    P.xshutdown(c.fd, 1)
    c.expect(FIN | ACK, seq=c.iss + 1 + 2 * mss)
    check(c.state() == STATES["FIN_WAIT1"], "not in FIN_WAIT1")
    t0 = time.monotonic()
    s = c.expect(FIN | ACK, seq=c.iss + 1 + 2 * mss, timeout=3.0)
    took = time.monotonic() - t0
    check(not s.payload, "the probe carried data: %r" % s)
    c.send(ACK, ack=c.iss + 2 + 2 * mss)
    wait_until(lambda: c.state() == STATES["FIN_WAIT2"], "FIN_WAIT2")
    after = counters()
    print("# %s: the FIN probed after %.2f s" % (P.stack_name(), took),
          flush=True)
    for name, want in (("LossProbes", 1), ("Timeouts", 0),
                       ("RetransSegs", 1)):
        got = after[name] - before[name]
        check(got == want, "%s went up by %d, not %d" % (name, got, want))
    c.send(RST, ack=0)


# ------------------------------------------------------------------ PSH

MSG_MORE = 0x8000
MSS = 1460


def initial_window(rcvbuf, mss):
    """What a SYN offers: half the buffer in whole segments, <= 65535."""
    space = rcvbuf - rcvbuf // 2
    return min(space - space % mss if space > mss else space, 65535)


def first_ack_window(c, offer, shift, what):
    """The peer sends 1000 bytes. When the handshake completed, the window
    was held a segment (of the peer's payload: advmss) short of half the
    buffer (tcp_init_buffer_space()): rcv_ssthresh starts at the smaller
    of that and the SYN's offer. The 1000 bytes cost far less than a
    segment of buffer, so the ACK offers rcv_ssthresh, rounded up to the
    scale or down to whole segments received, unless what is left of the
    SYN's offer is more: the right edge never moves left."""
    rcvbuf = P.getsockopt_int(c.fd, P.SOL_SOCKET, P.SO_RCVBUF)
    i = tcp_info(c.fd)
    full = rcvbuf - rcvbuf // 2
    print("# %s: %s: SO_RCVBUF %d, advmss %d, rcv_ssthresh %d" % (
        P.stack_name(), what, rcvbuf, i["advmss"], i["rcv_ssthresh"]),
        flush=True)
    want = min(offer, full - i["advmss"])
    check(i["rcv_ssthresh"] == want,
          "%s: rcv_ssthresh %d, not %d: the smaller of the SYN's %d and "
          "half the buffer less a segment" % (what, i["rcv_ssthresh"],
                                              want, offer))
    c.send(ACK, b"z" * 1000)
    s = c.expect(ACK, ack=c.irs + 1 + 1000)
    left = offer - 1000
    if shift:
        unit = 1 << shift
        want = max(i["rcv_ssthresh"] + unit - 1, left + unit - 1) // unit
    else:
        want = max(i["rcv_ssthresh"] - i["rcv_ssthresh"] % 1000, left)
    print("# %s: %s: the first ACK offers %d << %d" % (
        P.stack_name(), what, s.win, shift), flush=True)
    check(s.win == want, "%s: the first ACK's window field %d, not %d "
          "(rcv_ssthresh %d, %d left of the SYN's offer, scale %d)"
          % (what, s.win, want, i["rcv_ssthresh"], left, shift))
    check(os.read(c.fd, 2000) == b"z" * 1000, "%s: the data" % what)


def receive_window_offers(peer):
    """The SYN's window, rcv_ssthresh and the first ACK's window, on an
    active open (scaled) and on passive opens with and without timestamps
    and window scaling, as Linux computes them."""
    c = start_connect(peer)
    rcvbuf = P.getsockopt_int(c.fd, P.SOL_SOCKET, P.SO_RCVBUF)
    shift = c.syn.opts.get("wscale", 0)
    check(c.syn.win == initial_window(rcvbuf, 1460),
          "the SYN offers %d, not %d (SO_RCVBUF %d, MSS 1460)"
          % (c.syn.win, initial_window(rcvbuf, 1460), rcvbuf))
    peer.send(c.pport, c.lport, c.irs, c.iss + 1, SYN | ACK, 65535,
              opt_mss(1460) + opt_sackok() + P.opt_wscale(2))
    c.expect(ACK, seq=c.iss + 1, ack=c.irs + 1)
    wait_until(lambda: c.state() == STATES["ESTABLISHED"], "ESTABLISHED")
    first_ack_window(c, c.syn.win, shift, "active open")
    c.send(RST, ack=0)

    lfd, lport = listener()
    rcvbuf = P.getsockopt_int(lfd, P.SOL_SOCKET, P.SO_RCVBUF)
    for ts, wscale in ((True, 2), (False, None)):
        what = "passive open, %s timestamps, %s window scale" % (
            "with" if ts else "without", "with" if wscale else "without")
        c = P.passive_open(peer, lfd, lport, ts=ts, wscale=wscale)
        mss = 1460 - (12 if ts else 0)
        check(c.synack.win == initial_window(rcvbuf, mss),
              "%s: the SYN-ACK offers %d, not %d (SO_RCVBUF %d, payload "
              "per segment %d)" % (what, c.synack.win,
                                   initial_window(rcvbuf, mss), rcvbuf, mss))
        first_ack_window(c, c.synack.win, c.synack.opts.get("wscale", 0),
                         what)
        c.send(RST, ack=0)


def send_flags(fd, data, flags):
    n = P.libc.send(fd, data, len(data), flags)
    check(n == len(data), "send of %d bytes returned %d" % (len(data), n))


def expect_data(c, off, n, flags, timeout=3.0, what="", psh=True):
    """The next segment: n bytes at offset off with exactly these flags
    (PSH included, unless psh is False)."""
    s = c.peer.recv(timeout)
    check(s is not None, "expected %d bytes at offset %d%s, got nothing"
          % (n, off, what))
    check(s.sport == c.lport, "segment for another connection: %r" % s)
    rel = (s.seq - c.iss - 1) & 0xFFFFFFFF
    check(rel == off and len(s.payload) == n,
          "expected %d bytes at offset %d%s, got %d at offset %d: %r"
          % (n, off, what, len(s.payload), rel, s))
    mask = 0xFF if psh else ~P.PSH & 0xFF
    check(s.flags & mask == flags & mask, "%d bytes at offset %d%s: flags %s, not %s"
          % (n, off, what, P.flags_str(s.flags), P.flags_str(flags)))
    c.saw(s)
    return s


def ack_to(c, off):
    c.send(ACK, ack=c.iss + 1 + off)


def psh_on_the_last_segment_of_each_write(peer):
    """PSH ends each write (not the segments before it in the same
    write); MSG_MORE holds PSH and the data back until a write without
    it; TCP_CORK gathers writes, each marking its tail, into one
    segment that leaves with PSH when the cork comes off."""
    c = P.active_open(peer, sack=True)
    off = 0
    os.write(c.fd, b"a" * 100)
    expect_data(c, off, 100, ACK | P.PSH, what=" (a write of 100)")
    off += 100
    ack_to(c, off)
    os.write(c.fd, b"b" * (3 * MSS))
    # Only the write's last segment is sure to carry PSH: each GSO packet
    # ends with one too (__tcp_transmit_skb()), and where the packets end
    # depends on the pacing rate and on how fast the peer reads (TSQ).
    for k in range(3):
        expect_data(c, off + k * MSS, MSS, ACK | (P.PSH if k == 2 else 0),
                    what=" (segment %d of a write of 3 MSS)" % k,
                    psh=k == 2)
    off += 3 * MSS
    ack_to(c, off)
    send_flags(c.fd, b"c" * 200, MSG_MORE)
    # (Not for long: the persist timer sends corked data after an RTO.)
    check(c.peer.recv(0.1) is None, "MSG_MORE data left at once")
    send_flags(c.fd, b"d" * 300, 0)
    expect_data(c, off, 500, ACK | P.PSH, what=" (MSG_MORE, then a write)")
    off += 500
    ack_to(c, off)
    setsockopt_int(c.fd, SOL_TCP, P.TCP_CORK, 1)
    os.write(c.fd, b"e" * 100)
    os.write(c.fd, b"f" * 100)
    check(c.peer.recv(0.1) is None, "corked data left at once")
    setsockopt_int(c.fd, SOL_TCP, P.TCP_CORK, 0)
    expect_data(c, off, 200, ACK | P.PSH, what=" (two corked writes)")
    off += 200
    ack_to(c, off)
    c.send(RST, ack=0)


def psh_kept_on_retransmission(peer):
    """The segment that ended a write goes again on the RTO with PSH."""
    c = P.active_open(peer, sack=True)
    os.write(c.fd, b"h" * 100)
    expect_data(c, 0, 100, ACK | P.PSH)
    expect_data(c, 0, 100, ACK | P.PSH, timeout=3.0,
                what=" (its retransmission)")
    ack_to(c, 100)
    c.send(RST, ack=0)


# ------------------------------------------------------ TCP_NOTSENT_LOWAT

TCP_NOTSENT_LOWAT = 25


def writable(fd):
    p = select.poll()
    p.register(fd, select.POLLOUT)
    return bool(p.poll(0))


def notsent_lowat_limits_writability(peer):
    """TCP_NOTSENT_LOWAT 4000, the peer's window two segments: a write
    takes skbs while fewer than 4000 bytes wait unsent (five of one MSS,
    as half the window makes the skbs one segment each); poll says
    writable only once fewer than 2000 wait (tcp_stream_memory_free()
    with wake), which the ACK of the first two makes happen."""
    c = P.active_open(peer, sack=True, win=2 * MSS)
    check(P.getsockopt_int(c.fd, SOL_TCP, TCP_NOTSENT_LOWAT) == 0,
          "TCP_NOTSENT_LOWAT is not 0 by default")
    setsockopt_int(c.fd, P.SOL_SOCKET, P.SO_SNDBUF, 1 << 20)
    setsockopt_int(c.fd, SOL_TCP, TCP_NOTSENT_LOWAT, 4000)
    check(P.getsockopt_int(c.fd, SOL_TCP, TCP_NOTSENT_LOWAT) == 4000,
          "TCP_NOTSENT_LOWAT did not read back 4000")
    n = 0
    while True:
        try:
            n += os.write(c.fd, b"n" * 20000)
        except BlockingIOError:
            break
    print("# %s: a write took %d bytes" % (P.stack_name(), n), flush=True)
    check(n == 5 * MSS, "the writes took %d bytes, not %d" % (n, 5 * MSS))
    for k in range(2):
        expect_data(c, k * MSS, MSS, ACK, psh=False)
    check(not writable(c.fd), "writable with 3 MSS unsent, lowat 4000")
    c.send(ACK, ack=c.iss + 1 + 2 * MSS, win=2 * MSS)
    for k in range(2, 4):
        expect_data(c, k * MSS, MSS, ACK, psh=False)
    wait_until(lambda: writable(c.fd), "writable with 1 MSS unsent", 2)
    c.send(RST, ack=0)


SCENARIOS = [
    passive_rtt_from_handshake, active_rtt_from_handshake,
    rto_fallback_without_handshake_sample,
    fin_retransmitted_until_user_timeout, tlp_probes_the_fin,
    psh_on_the_last_segment_of_each_write,
    psh_kept_on_retransmission, notsent_lowat_limits_writability,
    receive_window_offers,
]

if __name__ == "__main__":
    P.main(SCENARIOS, stacks=["xtcp", "tcp"])
