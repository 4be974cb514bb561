#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Socket options as a peer sees them, on xtcp and on kernel TCP, through
a tun device (xtcp_pkt.py):

- TCP_DEFER_ACCEPT on a listener: a bare handshake ACK is dropped
  (DeferAcceptDrop) and accept() waits for data; the SYN-ACK is not sent
  again while the wait lasts, only at its last time-out, and the ACK to
  that one completes the handshake without data (tcp_check_req(),
  syn_ack_recalc()). On a connecting socket it delays the ACK of the
  SYN-ACK so that the first data takes it along.
- TCP_QUICKACK 0: interactive mode; the next ACK waits for the
  delayed-ACK timer, which ends the mode (reads 1 again).
- TCP_WINDOW_CLAMP: the SYN's window and scale, and every window after,
  stay within the clamp.
- TCP_LINGER2: -1 resets an orphan instead of keeping it in FIN_WAIT_2
  (AbortOnData when the FIN's ACK comes, AbortOnLinger at close()); a
  number of seconds is how long an orphan waits there for the FIN.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
import pkt_data as D  # noqa: E402
import xtcp_pkt as P  # noqa: E402
from xtcp_pkt import (ACK, FIN, PSH, RST, SOL_TCP, STATES, SYN,  # noqa
                      check, counters, getsockopt_int, knob, listener, main,
                      opt_mss, setsockopt_int, start_connect, wait_until)

TCP_LINGER2, TCP_DEFER_ACCEPT, TCP_WINDOW_CLAMP = 8, 9, 10
TCP_QUICKACK = 12


def accept_now(lfd):
    """accept() on a non-blocking listener: the fd, or None (EAGAIN)."""
    os.set_blocking(lfd, False)
    try:
        return P.xaccept(lfd)
    except BlockingIOError:
        return None


def deferred_syn(peer, lport, irs):
    """SYN, SYN-ACK, and a bare ACK that TCP_DEFER_ACCEPT drops."""
    peer.port += 1
    peer.send(peer.port, lport, irs, 0, SYN, 65535, opt_mss(1460))
    sa = peer.expect(SYN | ACK, ack=irs + 1, dport=peer.port)
    before = counters()
    peer.send(peer.port, lport, irs + 1, sa.seq + 1, ACK)
    wait_until(lambda: counters()["DeferAcceptDrop"] ==
               before["DeferAcceptDrop"] + 1, "DeferAcceptDrop to count")
    return sa


@D.scenario
def defer_accept_waits_for_data(peer):
    """The bare ACK leaves the connection half-open; data completes it."""
    lfd, lport = listener(5400)
    setsockopt_int(lfd, SOL_TCP, TCP_DEFER_ACCEPT, 3)
    irs = 4000000
    sa = deferred_syn(peer, lport, irs)
    check(accept_now(lfd) is None, "accept() returned a deferred child")
    check(P.state_of(lport, peer.port) == STATES["SYN_RECV"],
          "deferred child not in SYN_RECV")
    peer.send(peer.port, lport, irs + 1, sa.seq + 1, ACK | PSH, 65535,
              b"", b"hello")
    peer.expect(ACK, ack=irs + 6, dport=peer.port)
    wait_until(lambda: accept_now(lfd) is not None or
               P.state_of(lport, peer.port) == STATES["ESTABLISHED"],
               "the data to complete the handshake")
    fd = accept_now(lfd)
    if fd is not None:
        check(D.read_exact(fd, 5) == b"hello", "data of the handshake")
    peer.send(peer.port, lport, irs + 6, sa.seq + 1, RST)
    os.close(lfd)


@D.scenario
def defer_accept_last_synack(peer):
    """TCP_DEFER_ACCEPT 3 s is two SYN-ACK time-outs (1 s, 2 s): none at
    1 s, one at 3 s, and the ACK to it completes the handshake."""
    lfd, lport = listener(5401)
    setsockopt_int(lfd, SOL_TCP, TCP_DEFER_ACCEPT, 3)
    check(getsockopt_int(lfd, SOL_TCP, TCP_DEFER_ACCEPT) == 3,
          "TCP_DEFER_ACCEPT 3 reads %d"
          % getsockopt_int(lfd, SOL_TCP, TCP_DEFER_ACCEPT))
    irs = 4100000
    t0 = time.monotonic()
    sa = deferred_syn(peer, lport, irs)
    again = peer.expect(SYN | ACK, timeout=8.0, ack=irs + 1, seq=sa.seq)
    dt = time.monotonic() - t0
    # The first time-out (1 s) sent nothing; the second (3 s) did.
    check(dt > 2.0, "SYN-ACK sent again after %.2f s: the first time-out "
          "resent it although the peer had ACKed (%r)" % (dt, again))
    peer.send(peer.port, lport, irs + 1, sa.seq + 1, ACK)
    wait_until(lambda: P.state_of(lport, peer.port) == STATES["ESTABLISHED"],
               "the ACK after the wait to complete the handshake")
    fd = accept_now(lfd)
    check(fd is not None, "no connection to accept after the wait")
    peer.send(peer.port, lport, irs + 1, sa.seq + 1, RST)
    os.close(lfd)


@D.scenario
def defer_accept_on_connect(peer):
    """A connecting socket with TCP_DEFER_ACCEPT holds the ACK of the
    SYN-ACK back (up to 200 ms) for its first data to carry."""
    c = start_connect(peer, setup=lambda fd: setsockopt_int(
        fd, SOL_TCP, TCP_DEFER_ACCEPT, 1))
    D.CONNS.append(c)
    c.send(SYN | ACK, opts=opt_mss(1460), seq=c.irs, ack=c.iss + 1)
    wait_until(lambda: c.state() == STATES["ESTABLISHED"], "ESTABLISHED")
    peer.expect_none(0.1)
    os.write(c.fd, b"query")
    c.expect(ACK | PSH, seq=c.iss + 1, ack=c.irs + 1, payload=b"query")


@D.scenario
def quickack_0_delays_the_ack(peer):
    """The first data is ACKed at once (quick-ACK mode); after
    TCP_QUICKACK 0 the next waits for the delayed-ACK timer, which ends
    interactive mode."""
    D.slow_rto(5000)
    c = D.open_active(peer)
    check(getsockopt_int(c.fd, SOL_TCP, TCP_QUICKACK) == 1,
          "a new connection reads TCP_QUICKACK 0")
    timer = counters()["DelayedAcks"]
    D.peer_data(c, 0, b"a" * 100)
    D.expect_ack(c, 100, what=" (quick-ACK mode)")
    check(counters()["DelayedAcks"] == timer,
          "the first data was ACKed by the delayed-ACK timer")
    setsockopt_int(c.fd, SOL_TCP, TCP_QUICKACK, 0)
    check(getsockopt_int(c.fd, SOL_TCP, TCP_QUICKACK) == 0,
          "TCP_QUICKACK 0 does not read back")
    D.peer_data(c, 100, b"b" * 100)
    D.expect_ack(c, 200, what=" (interactive mode)")
    check(counters()["DelayedAcks"] == timer + 1,
          "interactive mode: the ACK did not wait for the delayed-ACK timer")
    check(getsockopt_int(c.fd, SOL_TCP, TCP_QUICKACK) == 1,
          "the delayed-ACK timer did not end interactive mode")
    c.snd = c.irs + 201


@D.scenario
def window_clamp_bounds_windows(peer):
    """TCP_WINDOW_CLAMP 5000 before connect(): the SYN offers at most 5000
    and window scale 0, and no ACK after offers more."""
    clamp = 5000
    c = start_connect(peer, setup=lambda fd: setsockopt_int(
        fd, SOL_TCP, TCP_WINDOW_CLAMP, clamp))
    D.CONNS.append(c)
    check(0 < c.syn.win <= clamp, "SYN window %d, clamp %d: %r"
          % (c.syn.win, clamp, c.syn))
    check(c.syn.opts.get("wscale") == 0, "SYN window scale %r, not 0: %r"
          % (c.syn.opts.get("wscale"), c.syn))
    c.send(SYN | ACK, opts=opt_mss(1460) + P.opt_wscale(7), seq=c.irs,
           ack=c.iss + 1)
    c.expect(ACK, seq=c.iss + 1, ack=c.irs + 1)
    data = D.pattern(4 * 1000)
    for k in range(4):
        D.peer_data(c, k * 1000, data[k * 1000:(k + 1) * 1000])
    got, wins = 0, []
    while got < 4000:
        s = c.peer.recv(3.0)
        check(s is not None, "no ACK of the data (%d acked)" % got)
        wins.append(s.win)
        got = max(got, (s.ack - c.irs - 1) & 0xFFFFFFFF)
    check(max(wins) <= clamp, "windows %r exceed the clamp %d"
          % (wins, clamp))
    check(D.read_exact(c.fd, 4000) == data, "data read back")
    c.snd = c.irs + 4001


@D.scenario
def linger2_negative_resets_orphans(peer):
    """TCP_LINGER2 -1: an orphan whose FIN is ACKed ends with a RST to
    that ACK (AbortOnData); one already in FIN_WAIT_2 at close() sends a
    RST (AbortOnLinger)."""
    c = D.open_active(peer)
    setsockopt_int(c.fd, SOL_TCP, TCP_LINGER2, -1)
    check(getsockopt_int(c.fd, SOL_TCP, TCP_LINGER2) == -1,
          "TCP_LINGER2 -1 does not read back")
    before = counters()
    os.close(c.fd)
    c.expect(FIN | ACK, seq=c.iss + 1, ack=c.irs + 1)
    D.ack(c, 1)
    c.expect(RST, seq=c.iss + 2)
    wait_until(lambda: c.state() is None, "the orphan to end")
    D.check_delta(before, counters(), "AbortOnData", 1)

    c = D.open_active(peer)
    setsockopt_int(c.fd, SOL_TCP, TCP_LINGER2, -1)
    P.xshutdown(c.fd, 1)
    c.expect(FIN | ACK, seq=c.iss + 1, ack=c.irs + 1)
    D.ack(c, 1)
    wait_until(lambda: c.state() == STATES["FIN_WAIT2"], "FIN_WAIT2")
    before = counters()
    os.close(c.fd)
    c.expect(RST | ACK, seq=c.iss + 2, ack=c.irs + 1)
    wait_until(lambda: c.state() is None, "the socket to end")
    D.check_delta(before, counters(), "AbortOnLinger", 1)


@D.scenario
def linger2_times_fin_wait2(peer):
    """TCP_LINGER2 2: an orphan waits 2 s in FIN_WAIT_2 for the FIN, then
    ends silently."""
    c = D.open_active(peer)
    setsockopt_int(c.fd, SOL_TCP, TCP_LINGER2, 2)
    check(getsockopt_int(c.fd, SOL_TCP, TCP_LINGER2) == 2,
          "TCP_LINGER2 2 does not read back")
    os.close(c.fd)
    c.expect(FIN | ACK, seq=c.iss + 1, ack=c.irs + 1)
    D.ack(c, 1)
    t0 = time.monotonic()
    wait_until(lambda: c.state() == STATES["FIN_WAIT2"], "FIN_WAIT2")
    wait_until(lambda: c.state() is None, "the orphan to end", limit=10.0)
    dt = time.monotonic() - t0
    check(dt > 1.5, "the orphan ended after %.2f s, not 2 s" % dt)
    peer.expect_none(0.2)


SCENARIOS = [defer_accept_waits_for_data, defer_accept_last_synack,
             defer_accept_on_connect, quickack_0_delays_the_ack,
             window_clamp_bounds_windows, linger2_negative_resets_orphans,
             linger2_times_fin_wait2]

if __name__ == "__main__":
    main(SCENARIOS, stacks=["xtcp", "tcp"])
