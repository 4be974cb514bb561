#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Explicit Congestion Notification (RFC 3168), on xtcp and on kernel TCP
with the knobs ecn and ecn_fallback mapped to net.ipv4.tcp_ecn and
tcp_ecn_fallback, as a peer sees it through a tun device:

- who asks (a SYN with ECE and CWR, ecn 1) and who grants (a SYN-ACK with
  ECE alone, ecn 1 or 2); a SYN sent again stops asking (ecn_fallback);
- ECT(0) on new data only, never on pure ACKs or retransmissions;
- a CE mark echoed with ECE on every ACK until the peer's CWR;
- an ECE brings cwnd down once per window (the CWR state, ssthresh from
  the algorithm), and the next new data carries CWR.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
import pkt_data as D  # noqa: E402
import xtcp_pkt as P  # noqa: E402
from xtcp_pkt import (ACK, CWR, ECE, RST, SYN, check, counters,  # noqa
                      knob, listener, main, opt_mss, start_connect,
                      tcp_info, wait_until)

ECT0, CE = 2, 3
TCPI_OPT_ECN = 8
MSS = 1000


def syn_asks_for_ecn(peer):
    """ecn 1 asks on every SYN (ECE and CWR, no ECT on the SYN itself);
    ecn 2 and 0 do not."""
    for ecn, want in ((1, SYN | ECE | CWR), (2, SYN), (0, SYN)):
        knob("ecn", ecn)
        c = start_connect(peer, flags=want)
        check(c.syn.flags == want, "ecn %d: SYN %r, expected flags %s"
              % (ecn, c.syn, P.flags_str(want)))
        check(c.syn.tos & 3 == 0, "ecn %d: the SYN is ECT: %r" % (ecn, c.syn))
        os.close(c.fd)


def synack_grants_ecn(peer):
    """A SYN with ECE and CWR gets a SYN-ACK with ECE alone unless ecn is
    0; a SYN with only one of them, or none, gets none."""
    lfd, lport = listener(5300)
    irs = 9000000
    for ecn, asks, want in ((2, ECE | CWR, ECE), (1, ECE | CWR, ECE),
                            (0, ECE | CWR, 0), (2, ECE, 0), (2, 0, 0)):
        knob("ecn", ecn)
        peer.port += 1
        peer.send(peer.port, lport, irs, 0, SYN | asks, 65535,
                  opt_mss(1460))
        sa = peer.expect(SYN | ACK | want, ack=irs + 1, dport=peer.port)
        check(sa.tos & 3 == 0, "the SYN-ACK is ECT: %r" % sa)
        peer.send(peer.port, lport, irs + 1, 0, RST)
    os.close(lfd)


def ecn_open(peer, granted=True):
    """xtcp connects asking for ECN; the peer grants it (SYN-ACK with ECE)
    or not."""
    knob("ecn", 1)
    c = start_connect(peer, flags=SYN | ECE | CWR)
    peer.send(c.pport, c.lport, c.irs, c.iss + 1,
              SYN | ACK | (ECE if granted else 0), 65535, opt_mss(MSS))
    c.expect(ACK, seq=c.iss + 1, ack=c.irs + 1)
    wait_until(lambda: c.state() == P.STATES["ESTABLISHED"], "ESTABLISHED")
    D.CONNS.append(c)
    on = bool(tcp_info(c.fd)["options"] & TCPI_OPT_ECN)
    check(on == granted, "TCP_INFO says ECN %s, the SYN-ACK %s" %
          ("on" if on else "off", "granted it" if granted else "did not"))
    return c


def next_seg(c, what):
    s = c.peer.recv(3.0)
    check(s is not None and s.sport == c.lport, "expected %s, got %r"
          % (what, s))
    c.saw(s)
    return s


@D.scenario
def ect_on_new_data_only(peer):
    """With ECN, new data leaves ECT(0); a pure ACK and a retransmission
    leave Not-ECT (RFC 3168 6.1.5, 6.1.6). Without it, nothing is ECT."""
    knob("rto_initial_ms", 300)
    knob("rto_min_ms", 300)
    c = ecn_open(peer)
    data = D.pattern(MSS)
    D.write_all(c.fd, data)
    s = next_seg(c, "new data")
    check(len(s.payload) == MSS and s.tos & 3 == ECT0,
          "new data is not ECT(0): tos %#x %r" % (s.tos, s))
    r = next_seg(c, "the retransmission")
    check(r.seq == s.seq and r.tos & 3 == 0,
          "the retransmission is ECT: tos %#x %r" % (r.tos, r))
    D.ack(c, MSS)
    c.rcv += MSS
    D.peer_data(c, 0, b"x" * 100)
    a = D.expect_ack(c, 100)
    check(a.tos & 3 == 0, "a pure ACK is ECT: tos %#x %r" % (a.tos, a))
    c.snd += 100
    c = ecn_open(peer, granted=False)
    D.write_all(c.fd, data)
    s = next_seg(c, "new data without ECN")
    check(s.tos & 3 == 0, "ECT without ECN: tos %#x %r" % (s.tos, s))


@D.scenario
def ce_echoed_until_cwr(peer):
    """Data marked CE: the ACK says ECE at once, and every ACK after it
    until the peer's segment with CWR (RFC 3168 6.1.3)."""
    c = ecn_open(peer)
    b = counters()
    for off, tos, flags, echo in ((0, CE, 0, True), (100, ECT0, 0, True),
                                  (200, ECT0, CWR, False),
                                  (300, ECT0, 0, False)):
        c.peer.send(c.pport, c.lport, c.irs + 1 + off, c.rcv,
                    ACK | flags, 65535, b"", b"y" * 100, tos=tos)
        a = c.expect(ACK | (ECE if echo else 0), ack=c.irs + 1 + off + 100)
        check(not a.payload, "%r" % a)
    c.snd = c.irs + 1 + 400
    if not P.BASELINE:
        check(counters()["EcnCeRecv"] - b["EcnCeRecv"] == 1,
              "EcnCeRecv not counted once")


def drain(c, top, ack_each):
    """Read what xtcp sends until it stops; acknowledge each segment if
    asked. Returns the highest offset sent."""
    while True:
        s = c.peer.recv(0.3)
        if s is None:
            return top
        top = max(top, s.seq - c.iss - 1 + len(s.payload))
        if ack_each:
            D.ack(c, top)


@D.scenario
def ece_reduces_cwnd_once_per_window(peer):
    """An ACK with ECE: the CWR state, ssthresh from the algorithm (CUBIC:
    7 of 10), the next new data carries CWR; a second ECE in the same
    window changes nothing; the window acknowledged, cwnd is ssthresh."""
    D.slow_rto(5000)
    c = ecn_open(peer)
    setsockopt = P.setsockopt_int
    setsockopt(c.fd, P.SOL_SOCKET, P.SO_SNDBUF, 1 << 20)
    data = D.pattern(30 * MSS)
    D.write_all(c.fd, data)
    for k in range(10):
        D.expect_seg(c, data, k * MSS, n=MSS)
    b = counters()
    c.peer.send(c.pport, c.lport, c.snd, c.iss + 1 + MSS, ACK | ECE, 65535)
    i = tcp_info(c.fd)
    print("# %s: after ECE: ca_state %d cwnd %d ssthresh %d" % (
        P.stack_name(), i["ca_state"], i["snd_cwnd"], i["snd_ssthresh"]),
        flush=True)
    check(i["ca_state"] == 2, "ca_state %d after ECE, not CWR (2)"
          % i["ca_state"])
    check(i["snd_ssthresh"] == 7, "ssthresh %d after ECE at cwnd 10, not 7"
          % i["snd_ssthresh"])
    s = next_seg(c, "new data after the ECE")
    check(s.flags & CWR and s.tos & 3 == ECT0 and
          s.seq == c.iss + 1 + 10 * MSS,
          "the first new data after ECE: %r tos %#x, expected CWR and ECT"
          % (s, s.tos))
    # ECE again within the window: no second reduction.
    c.peer.send(c.pport, c.lport, c.snd, c.iss + 1 + 2 * MSS, ACK | ECE,
                65535)
    i = tcp_info(c.fd)
    check(i["snd_ssthresh"] == 7 and i["ca_state"] == 2,
          "a second ECE in the window: ssthresh %d, ca_state %d"
          % (i["snd_ssthresh"], i["ca_state"]))
    # Everything sent so far acknowledged: the reduction ends.
    top = drain(c, 11 * MSS, False)
    D.ack(c, top)
    wait_until(lambda: tcp_info(c.fd)["ca_state"] == 0,
               "the CWR state to end")
    # Read at the ACK that ends it: what later ACKs add depends on how
    # many the peer sends.
    i = tcp_info(c.fd)
    top = drain(c, top, True)
    print("# %s: window acknowledged: cwnd %d ssthresh %d" % (
        P.stack_name(), i["snd_cwnd"], i["snd_ssthresh"]), flush=True)
    check(i["snd_ssthresh"] == 7, "ssthresh %d at the end, not 7"
          % i["snd_ssthresh"])
    # ssthresh, plus what congestion avoidance gives for that one ACK.
    check(7 <= i["snd_cwnd"] <= 8, "cwnd %d at the end of the reduction"
          % i["snd_cwnd"])
    c.rcv = c.iss + 1 + top
    if not P.BASELINE:
        check(counters()["EcnCwr"] - b["EcnCwr"] == 1,
              "EcnCwr not counted once")


def fallback_drops_ecn_from_syn_again(peer):
    """RFC 3168 6.1.1.1: ecn_fallback 1 sends the SYN again without ECE
    and CWR; with 0 the SYN again still asks."""
    knob("ecn", 1)
    knob("rto_initial_ms", 200)
    for fallback, want in ((1, SYN), (0, SYN | ECE | CWR)):
        knob("ecn_fallback", fallback)
        c = start_connect(peer, flags=SYN | ECE | CWR)
        again = peer.expect(want, timeout=3.0, seq=c.iss, sport=c.lport)
        check(again.flags == want, "ecn_fallback %d: SYN again %r"
              % (fallback, again))
        os.close(c.fd)


SCENARIOS = [syn_asks_for_ecn, synack_grants_ecn, ect_on_new_data_only,
             ce_echoed_until_cwr, ece_reduces_cwnd_once_per_window,
             fallback_drops_ecn_from_syn_again]

if __name__ == "__main__":
    main(SCENARIOS, stacks=["xtcp", "tcp"])
