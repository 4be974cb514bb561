#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The switchable options, each run on xtcp and on kernel TCP with the
knob and its net.ipv4 sysctl set alike (xtcp_pkt.TCP_KNOBS):

- timestamps, sack, window_scaling: what a SYN offers and what a SYN-ACK
  answers to a SYN that offers everything, option by option and in
  Linux's layout (kinds and NOP padding, tcp_options_write()); a peer's
  timestamps are not echoed when the knob is 0. timestamps 2 sends the
  clock without a per-connection offset.
- The window scale comes from the receive buffer limits, as
  tcp_select_initial_window() computes it: tcp_rmem[2] and rmem_max, or
  a fixed SO_RCVBUF.
- dsack: a duplicate is reported in a D-SACK block only when it is 1.
- slow_start_after_idle: after more than an RTO without sending, new data
  goes out with the initial window (tcp_cwnd_restart()), or with the
  window of before when it is 0.

The peer is played through a tun device (xtcp_pkt.py).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
import pkt_data as D  # noqa: E402
import xtcp_pkt as P  # noqa: E402
from xtcp_pkt import (ACK, RST, SO_RCVBUF, SOL_SOCKET, SYN, check,  # noqa
                      knob, listener, main, opt_mss, opt_sackok, opt_ts,
                      opt_wscale, setsockopt_int, start_connect, tcp_info,
                      write_file)

MSS, NOP, WS, SACKOK, TS = 2, 1, 3, 4, 8

# Option kinds of a SYN or SYN-ACK, by (timestamps, sack, window_scaling),
# as tcp_options_write() lays them out: SACK-permitted shares a word with
# the timestamps, or comes after two NOPs; the window scale after one.
LAYOUT = {(1, 1, 1): [MSS, SACKOK, TS, NOP, WS],
          (0, 1, 1): [MSS, NOP, NOP, SACKOK, NOP, WS],
          (1, 0, 1): [MSS, NOP, NOP, TS, NOP, WS],
          (1, 1, 0): [MSS, SACKOK, TS],
          (0, 0, 1): [MSS, NOP, WS],
          (0, 1, 0): [MSS, NOP, NOP, SACKOK],
          (1, 0, 0): [MSS, NOP, NOP, TS],
          (0, 0, 0): [MSS]}
KNOBS = ("timestamps", "sack", "window_scaling")


def set_knobs(combo):
    for name, val in zip(KNOBS, combo):
        knob(name, val)


def syn_offers_follow_knobs(peer):
    """Every combination of the three knobs: the SYN offers exactly the
    options on, in Linux's layout."""
    for combo, kinds in sorted(LAYOUT.items()):
        set_knobs(combo)
        c = start_connect(peer)
        check(c.syn.kinds == kinds, "timestamps %d sack %d window_scaling "
              "%d: SYN options %r, expected %r (%r)"
              % (combo + (c.syn.kinds, kinds, c.syn)))
        os.close(c.fd)


def synack_answers_follow_knobs(peer):
    """The peer's SYN offers MSS, window scale, SACK-permitted and
    timestamps: the SYN-ACK takes up only those whose knob is on."""
    lfd, lport = listener(5200)
    irs = 9000000
    for combo, kinds in sorted(LAYOUT.items()):
        set_knobs(combo)
        peer.port += 1
        o = opt_mss(1460) + opt_wscale(2) + opt_sackok() + opt_ts(peer.ts, 0)
        peer.send(peer.port, lport, irs, 0, SYN, 65535, o)
        sa = peer.expect(SYN | ACK, ack=irs + 1, sport=lport,
                         dport=peer.port)
        check(sa.kinds == kinds, "timestamps %d sack %d window_scaling %d: "
              "SYN-ACK options %r, expected %r (%r)"
              % (combo + (sa.kinds, kinds, sa)))
        if combo[0]:
            check(sa.opts["ts"][1] == peer.ts, "SYN-ACK echoes TSecr %d, "
                  "not the SYN's TSval %d" % (sa.opts["ts"][1], peer.ts))
        peer.send(peer.port, lport, irs + 1, 0, RST)
    os.close(lfd)


@D.scenario
def timestamps_off_ignores_the_peers(peer):
    """timestamps 0: a peer that offers timestamps and sends them anyway
    after the handshake gets none back (tcp_parse_options() reads them
    only once both agreed)."""
    knob("timestamps", 0)
    lfd, lport = listener(5201)
    c = D.open_passive(peer, lfd, lport, ts=True)
    check("ts" not in c.synack.opts, "SYN-ACK with timestamps: %r"
          % c.synack)
    D.peer_data(c, 0, D.pattern(100))
    s = D.expect_ack(c, 100)
    check("ts" not in s.opts, "ACK with timestamps under timestamps 0: %r"
          % s)
    c.snd += 100


def monotonic_ms():
    return int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1000)


def ts_distance(tsval):
    """How far a TSval is from the clock TCP stamps with (ms, mod 2^32)."""
    d = (tsval - monotonic_ms()) & 0xFFFFFFFF
    return min(d, 0x100000000 - d)


def timestamps_2_without_offset(peer):
    """timestamps 2: TSval is the millisecond clock itself on every
    connection (CLOCK_MONOTONIC, as tcp_clock_ms()); with 1 each
    connection's clock starts at a random offset (RFC 7323 5.4), which
    lands within 10 s of the clock once in 200000 draws."""
    knob("timestamps", 2)
    for _ in range(2):
        c = start_connect(peer)
        d = ts_distance(c.syn.opts["ts"][0])
        check(d < 10000, "timestamps 2: SYN TSval %d is %d ms from the "
              "clock %d" % (c.syn.opts["ts"][0], d, monotonic_ms()))
        os.close(c.fd)
    knob("timestamps", 1)
    far = 0
    for _ in range(2):
        c = start_connect(peer)
        far += ts_distance(c.syn.opts["ts"][0]) >= 10000
        os.close(c.fd)
    check(far >= 1, "timestamps 1: two connections with TSvals at the "
          "clock, no random offset")


def expected_wscale(space):
    return min(max(space.bit_length() - 1 - 15, 0), 14)


def read_sysctl(path):
    with open(path) as f:
        return [int(x) for x in f.read().split()]


def window_scale_from_buffers(peer):
    """The scale a SYN offers covers the largest receive buffer the socket
    may grow to: max(tcp_rmem[2], rmem_max), or half a fixed SO_RCVBUF
    (tcp_select_initial_window(), tcp_full_space())."""
    rmem = read_sysctl("/proc/sys/net/ipv4/tcp_rmem")
    # net.core.rmem_max is global: only the initial namespace shows it.
    rmem_max = int(os.popen("nsenter -t 1 -n cat /proc/sys/net/core/rmem_max")
                   .read())
    cases = [("defaults", None, None,
              expected_wscale(max(rmem[2], rmem_max))),
             ("tcp_rmem[2] 32 MB", 32 << 20, None, 10),
             ("tcp_rmem[2] 64 KB", 65536, None,
              expected_wscale(max(65536, rmem_max))),
             ("SO_RCVBUF 64 KB", None, 65536, 1),
             ("SO_RCVBUF 4 KB", None, 4096, 0)]
    for what, top, rcvbuf, want in cases:
        if top is not None:
            write_file("/proc/sys/net/ipv4/tcp_rmem",
                       "%d %d %d" % (rmem[0], min(rmem[1], top), top))
        fd = P.xsocket(nonblock=True)
        if rcvbuf is not None:
            setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf)
        peer.port += 1
        P.xconnect(fd, P.PEER, peer.port)
        syn = peer.expect(SYN, dport=peer.port)
        check(syn.opts.get("wscale") == want, "%s: SYN offers window scale "
              "%r, expected %d (%r)" % (what, syn.opts.get("wscale"), want,
                                        syn))
        os.close(fd)
        write_file("/proc/sys/net/ipv4/tcp_rmem", "%d %d %d" % tuple(rmem))
    knob("window_scaling", 0)
    c = start_connect(peer)
    check("wscale" not in c.syn.opts, "window_scaling 0: SYN offers %r"
          % c.syn)
    os.close(c.fd)


@D.scenario
def dsack_follows_knob(peer):
    """dsack 1: a duplicate is reported in a D-SACK block (RFC 2883);
    dsack 0: the ACK for it carries no SACK option."""
    lfd, lport = listener(5202)
    for on in (1, 0):
        knob("dsack", on)
        c = D.open_passive(peer, lfd, lport)
        p = D.pattern(1000)
        D.peer_data(c, 0, p)
        D.expect_ack(c, 1000)
        D.peer_data(c, 0, p)
        s = D.expect_ack(c, 1000, what=" (duplicate)")
        want = [(0, 1000)] if on else []
        check(D.rel_sack(c, s) == want, "dsack %d: the ACK for a duplicate "
              "carries SACK blocks %r, expected %r"
              % (on, D.rel_sack(c, s), want))
        c.snd = c.irs + 1 + 1000


def grow_cwnd(c, n, mss):
    """Write n segments; the peer acknowledges each one as it comes, so
    that cwnd grows in slow start. Returns tcpi_snd_cwnd after."""
    data = D.pattern(n * mss)
    D.write_all(c.fd, data)
    top = 0
    while top < n * mss:
        s = c.peer.recv(3.0)
        check(s is not None, "stalled at %d of %d bytes" % (top, n * mss))
        if s.sport != c.lport or not s.payload:
            continue
        top = max(top, (s.seq - c.iss - 1 + len(s.payload)) & 0xFFFFFFFF)
        D.ack(c, top)
    c.rcv = c.iss + 1 + n * mss
    return tcp_info(c.fd)["snd_cwnd"]


@D.scenario
def slow_start_after_idle(peer):
    """A connection grows cwnd past the initial window, then sends
    nothing for about four RTOs. With slow_start_after_idle 1, the next
    write finds cwnd back at the initial window (halved once per RTO
    idle, never below 10: tcp_cwnd_restart()); with 0 it finds cwnd as
    it was. The idle time is the scenario's input, not a wait for a
    condition."""
    mss = 1000
    for on in (1, 0):
        knob("slow_start_after_idle", on)
        c = D.open_active(peer, mss=mss)
        grown = grow_cwnd(c, 40, mss)
        check(grown > 20, "cwnd %d after 40 segments acknowledged one by "
              "one (slow start from 10)" % grown)
        rto = tcp_info(c.fd)["rto"] / 1e6
        time.sleep(4 * rto + 0.1)
        more = D.pattern(41 * mss)
        D.write_all(c.fd, more[40 * mss:])
        after = tcp_info(c.fd)["snd_cwnd"]
        print("# %s: slow_start_after_idle %d: cwnd %d, idle %.2f s "
              "(RTO %.3f s), then %d" % (P.stack_name(), on, grown,
                                         4 * rto + 0.1, rto, after),
              flush=True)
        want = 10 if on else grown
        check(after == want, "slow_start_after_idle %d: cwnd %d after "
              "the idle period, expected %d (it was %d)"
              % (on, after, want, grown))
        D.expect_seg(c, more, 40 * mss, mss)
        D.ack(c, 41 * mss)
        c.rcv += mss


SCENARIOS = [syn_offers_follow_knobs, synack_answers_follow_knobs,
             timestamps_off_ignores_the_peers, timestamps_2_without_offset,
             window_scale_from_buffers, dsack_follows_knob,
             slow_start_after_idle]

if __name__ == "__main__":
    main(SCENARIOS, stacks=["xtcp", "tcp"])
