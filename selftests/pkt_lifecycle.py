#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Packet-level scenarios for the connection lifecycle (RFC 9293 3.3.2).

One scenario per state transition and per rule of RFC 9293 and RFC 5961
that xtcp must follow. The peer is played through a tun device
(xtcp_pkt.py); every segment xtcp emits is checked (flags, sequence and
acknowledgment numbers relative to the ISNs, options), and so are the
socket states in /proc/net/xtcp.

Each scenario runs on xtcp and on kernel TCP (the reference), with the
knobs mapped to net.ipv4 (xtcp_pkt.TCP_KNOBS). What only xtcp has is
checked on xtcp alone, each place saying why in one line: its counters
without a TCP twin (xtcp_only()), and TIME_WAIT's length, which
msl_ms sets for xtcp and Linux fixes at 60 s.
"""

import errno
import os
import select
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
import xtcp_pkt as P  # noqa: E402
from xtcp_pkt import (ACK, FIN, build, PSH, RST, SYN, LOCAL, PEER, STATES, Conn,
                      Fail, active_open, check, counters, knob, listener,
                      opt_mss, opt_ts, opt_wscale, opt_sackok, passive_open,
                      main, proc_rows, set_linger, so_error, start_connect, timer_left,
                      setsockopt_int, state_of, wait_until, xaccept,
                      xconnect, xshutdown,
                      xsocket, xbind, xlisten, xname)

S = STATES


def xtcp_only(what):
    """True on xtcp; on kernel TCP, say why a check is skipped."""
    if P.BASELINE:
        print("# tcp: not checked: %s" % what, flush=True)
        return False
    return True


def fast_timers():
    knob("rto_initial_ms", 200)
    knob("rto_min_ms", 50)


# ------------------------------------------------------------- opening

def closed_to_listen(peer):
    fd, port = listener(5001)
    check(state_of(port) == S["LISTEN"], "listener not in LISTEN")
    os.close(fd)
    check(state_of(port) is None, "listener row left after close")


def closed_to_syn_sent(peer):
    c = start_connect(peer)
    o = c.syn.opts
    check(o.get("mss", 0) > 0, "SYN without MSS option: %r" % c.syn)
    check("wscale" in o and o.get("sackok") and "ts" in o,
          "SYN must offer window scale, SACK-permitted, timestamps: %r" % o)
    check(c.syn.ack == 0, "SYN carries an acknowledgment number")
    check(c.state() == S["SYN_SENT"], "not in SYN_SENT")


def syn_sent_to_established(peer):
    c = active_open(peer)
    r, w, _ = select.select([], [c.fd], [], 1)
    check(w, "no POLLOUT after the handshake")
    check(so_error(c.fd) == 0, "SO_ERROR set after a good handshake")
    check(xname(c.fd, peer=True) == (PEER, c.pport), "getpeername wrong")


def syn_sent_simultaneous_open(peer):
    c = start_connect(peer)
    # The peer's own SYN crosses ours: SYN_SENT -> SYN_RCVD.
    peer.send(c.pport, c.lport, c.irs, 0, SYN, 65535, opt_mss(1460))
    sa = c.expect(SYN | ACK, seq=c.iss, ack=c.irs + 1)
    check(sa.opts.get("mss"), "SYN-ACK of a simultaneous open without MSS")
    check(c.state() == S["SYN_RECV"], "not SYN_RECV after crossing SYNs")
    # The peer's SYN-ACK completes it.
    peer.send(c.pport, c.lport, c.irs, c.iss + 1, SYN | ACK, 65535)
    wait_until(lambda: c.state() == S["ESTABLISHED"], "ESTABLISHED")


def syn_sent_rst_refused(peer):
    c = start_connect(peer)
    # A RST whose ACK is not acceptable is ignored, but it may be a stale
    # RST/ACK that dropped our SYN: the SYN goes again at once, once
    # (tcp_rcv_synsent_state_process(), TCP_TIMEOUT_MIN) ...
    peer.send(c.pport, c.lport, 0, c.iss + 5, RST | ACK)
    # Well before the 1 s RTO.
    peer.expect(SYN, timeout=0.6, seq=c.iss, sport=c.lport)
    peer.send(c.pport, c.lport, 0, c.iss + 5, RST | ACK)
    # ... and a RST without ACK is ignored.
    peer.send(c.pport, c.lport, 0, 0, RST)
    peer.expect_none(0.3)
    check(c.state() == S["SYN_SENT"], "bad RST changed SYN_SENT")
    peer.send(c.pport, c.lport, 0, c.iss + 1, RST | ACK)
    wait_until(lambda: c.state() is None, "connection gone")
    check(so_error(c.fd) == errno.ECONNREFUSED, "SO_ERROR not ECONNREFUSED")
    check(xconnect(c.fd, PEER, c.pport) in (errno.ECONNREFUSED, 0, errno.ECONNABORTED),
          "connect after refusal")


def syn_sent_timeout(peer):
    knob("syn_retries", 2)
    knob("rto_initial_ms", 100)
    c = start_connect(peer, nonblock=False) if False else start_connect(peer)
    t0 = time.monotonic()
    s1 = c.expect(SYN, seq=c.iss)
    t1 = time.monotonic()
    s2 = c.expect(SYN, seq=c.iss)
    t2 = time.monotonic()
    # Exponential back-off: the second wait is longer than the first.
    check(t2 - t1 > (t1 - t0) * 1.3, "no back-off: %.3f then %.3f"
          % (t1 - t0, t2 - t1))
    wait_until(lambda: c.state() is None, "SYN_SENT to time out")
    check(so_error(c.fd) == errno.ETIMEDOUT, "SO_ERROR not ETIMEDOUT")
    check(s1.seq == s2.seq == c.iss, "retransmitted SYN changed seq")


def blocking_connect_refused(peer):
    fd = xsocket()
    peer.port += 1
    pid = os.fork()
    if pid == 0:
        os._exit(xconnect(fd, PEER, peer.port))
    syn = peer.expect(SYN, dport=peer.port)
    peer.send(peer.port, syn.sport, 0, syn.seq + 1, RST | ACK)
    _, status = os.waitpid(pid, 0)
    check(os.WEXITSTATUS(status) == errno.ECONNREFUSED,
          "blocking connect: expected ECONNREFUSED, got %d"
          % os.WEXITSTATUS(status))


def listen_to_syn_rcvd(peer):
    lfd, lport = listener(5002)
    o = opt_mss(1400) + opt_wscale(3) + opt_sackok() + opt_ts(555, 0)
    peer.send(41000, lport, 1000, 0, SYN, 65535, o)
    sa = peer.expect(SYN | ACK, ack=1001, sport=lport, dport=41000)
    check(sa.opts.get("mss") and sa.opts.get("wscale") is not None
          and sa.opts.get("sackok") and sa.opts.get("ts"),
          "SYN-ACK must echo every option offered: %r" % sa)
    check(sa.opts["ts"][1] == 555, "TSecr does not echo the SYN's TSval")
    check(state_of(lport, 41000) == S["SYN_RECV"], "no SYN_RECV row")
    check(state_of(lport, 0) == S["LISTEN"], "listener not listening")


def syn_rcvd_to_established(peer):
    lfd, lport = listener(5003)
    c = passive_open(peer, lfd, lport)
    check(xname(c.fd, peer=True) == (PEER, c.pport), "accepted peer name")
    os.write(c.fd, b"hello")
    c.expect(ACK | PSH, seq=c.iss + 1, ack=c.irs + 1, payload=b"hello")


def syn_rcvd_rst_to_listen(peer):
    lfd, lport = listener(5004)
    peer.send(41001, lport, 2000, 0, SYN, 65535, opt_mss(1460))
    sa = peer.expect(SYN | ACK, ack=2001)
    check(state_of(lport, 41001) == S["SYN_RECV"], "no SYN_RECV row")
    peer.send(41001, lport, 2001, 0, RST)
    wait_until(lambda: state_of(lport, 41001) is None, "half-open gone")
    check(state_of(lport, 0) == S["LISTEN"], "listener lost")
    os.set_blocking(lfd, False)
    try:
        xaccept(lfd)
        raise Fail("accept returned a reset half-open connection")
    except OSError as e:
        check(e.errno == errno.EAGAIN, "accept: %s" % e)
    check(sa.seq, "SYN-ACK seq")


def syn_rcvd_duplicate_syn(peer):
    lfd, lport = listener(5005)
    peer.send(41002, lport, 3000, 0, SYN, 65535, opt_mss(1460))
    sa1 = peer.expect(SYN | ACK, ack=3001)
    peer.send(41002, lport, 3000, 0, SYN, 65535, opt_mss(1460))
    sa2 = peer.expect(SYN | ACK, ack=3001)
    check(sa1.seq == sa2.seq, "duplicate SYN got a different ISN")
    check(len([r for r in proc_rows() if r["rport"] == 41002]) == 1,
          "duplicate SYN created a second connection")


def syn_rcvd_to_fin_wait1(peer):
    c = start_connect(peer)
    peer.send(c.pport, c.lport, c.irs, 0, SYN, 65535, opt_mss(1460))
    c.expect(SYN | ACK, seq=c.iss, ack=c.irs + 1)
    check(c.state() == S["SYN_RECV"], "not SYN_RECV")
    os.close(c.fd)
    c.expect(FIN | ACK, seq=c.iss + 1, ack=c.irs + 1)
    check(c.state() == S["FIN_WAIT1"], "close in SYN_RECV: not FIN_WAIT1")


def synack_retransmission(peer):
    knob("synack_retries", 2)
    knob("rto_initial_ms", 100)
    lfd, lport = listener(5006)
    peer.send(41003, lport, 4000, 0, SYN, 65535, opt_mss(1460))
    s = [peer.expect(SYN | ACK, ack=4001) for _ in range(3)]
    check(s[0].seq == s[1].seq == s[2].seq, "SYN-ACK retransmission seq")
    wait_until(lambda: state_of(lport, 41003) is None,
               "half-open to be dropped after synack_retries")


def syn_queue_bound(peer):
    """As tcp_conn_request(): the SYN queue is full past the listen()
    backlog (it holds backlog + 1); without cookies, the last quarter of
    max_syn_backlog is kept for proven peers (none here)."""
    knob("syncookies", 0)
    lfd, lport = listener(5007, backlog=2)
    b = counters()
    for i in range(4):
        peer.send(41010 + i, lport, 5000, 0, SYN, 65535, opt_mss(1460))
    for _ in range(3):
        peer.expect(SYN | ACK, ack=5001)
    peer.expect_none(0.3)
    check(counters()["SynQueueDrop"] - b["SynQueueDrop"] == 1,
          "SynQueueDrop not counted once")
    half = [r for r in proc_rows() if r["state"] == S["SYN_RECV"]]
    check(len(half) == 3, "SYN queue holds %d, not 3" % len(half))
    os.close(lfd)
    # backlog 16, max_syn_backlog 8: a SYN finds room while fewer than
    # 7 wait (8 - 7 < 8 / 4).
    knob("max_syn_backlog", 8)
    lfd, lport = listener(5018, backlog=16)
    for i in range(8):
        peer.send(41110 + i, lport, 5000, 0, SYN, 65535, opt_mss(1460))
    for _ in range(7):
        peer.expect(SYN | ACK, ack=5001)
    peer.expect_none(0.3)
    half = [r for r in proc_rows()
            if r["state"] == S["SYN_RECV"] and r["lport"] == lport]
    check(len(half) == 7, "SYN queue holds %d, not 7 of max_syn_backlog 8"
          % len(half))


def syncookie_handshake(peer):
    knob("syncookies", 2)
    lfd, lport = listener(5008)
    peer.send(41020, lport, 6000, 0, SYN, 65535, opt_mss(1400))
    sa = peer.expect(SYN | ACK, ack=6001)
    check(state_of(lport, 41020) is None, "a cookie must keep no state")
    peer.send(41020, lport, 6001, sa.seq + 1, ACK)
    wait_until(lambda: state_of(lport, 41020) == S["ESTABLISHED"],
               "cookie ACK to establish")
    fd = xaccept(lfd)
    os.write(fd, b"x" * 2000)
    s = peer.expect(ACK | PSH, seq=sa.seq + 1)
    check(len(s.payload) <= 1400, "cookie lost the MSS: %d" % len(s.payload))
    check(counters()["SyncookiesRecv"] == 1, "SyncookiesRecv")


def syncookie_short_write_leaves_at_once(peer):
    """A connection made from a cookie has sent no short segment, so Nagle
    holds nothing back: its first 1-byte write leaves at once. (xtcp once
    left the mark of the last short segment at 0, and held the byte for
    the persist timer whenever the cookie ISS was in the upper half of
    the sequence space: half of the connections, 3 s each.) Eight
    handshakes, so that both halves come up."""
    knob("syncookies", 2)
    lfd, lport = listener(5021)
    for i in range(8):
        port = 41200 + i
        peer.send(port, lport, 6000, 0, SYN, 65535, opt_mss(1400))
        sa = peer.expect(SYN | ACK, ack=6001, dport=port)
        peer.send(port, lport, 6001, sa.seq + 1, ACK)
        fd = xaccept(lfd)
        os.write(fd, b"x")
        peer.expect(ACK | PSH, timeout=0.5, seq=sa.seq + 1, dport=port)
        os.close(fd)
        peer.expect(FIN | ACK, dport=port)
        peer.send(port, lport, 6001, sa.seq + 3, RST)


def listener_close_forgets_children(peer):
    """Closing a listener (inet_csk_listen_stop()): a child waiting in the
    accept queue is reset, a half-open one goes silently, and the ACK
    that would have completed it finds no socket: RST."""
    lfd, lport = listener(5019)
    done, half = 41060, 41061
    peer.send(done, lport, 5000, 0, SYN, 65535, opt_mss(1460))
    sa1 = peer.expect(SYN | ACK, ack=5001, dport=done)
    peer.send(done, lport, 5001, sa1.seq + 1, ACK)
    wait_until(lambda: state_of(lport, done) == S["ESTABLISHED"],
               "the first child in the accept queue")
    peer.send(half, lport, 5000, 0, SYN, 65535, opt_mss(1460))
    sa2 = peer.expect(SYN | ACK, ack=5001, dport=half)
    os.close(lfd)
    r = peer.expect(RST | ACK, seq=sa1.seq + 1, dport=done)
    check(r.ack == 5001, "RST of the queued child acknowledges %d" % r.ack)
    peer.expect_none(0.5)
    peer.send(half, lport, 5001, sa2.seq + 1, ACK)
    peer.expect(RST, seq=sa2.seq + 1, dport=half)


def accept_queue_and_accept4(peer):
    lfd, lport = listener(5009, backlog=4)
    c = passive_open(peer, lfd, lport)
    os.close(c.fd)
    c.expect(FIN | ACK)
    peer.port += 1
    peer.send(peer.port, lport, 100, 0, SYN, 65535, opt_mss(1460))
    sa = peer.expect(SYN | ACK, ack=101)
    peer.send(peer.port, lport, 101, sa.seq + 1, ACK)
    wait_until(lambda: any(r["state"] == S["LISTEN"] and r["rx"] == 1
                           for r in proc_rows()),
               "accept queue length 1 in /proc/net/xtcp")
    fd = xaccept(lfd, 0o4000 | 0o2000000)     # SOCK_NONBLOCK | SOCK_CLOEXEC
    import fcntl
    check(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK, "accept4 NONBLOCK")
    check(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC, "accept4 CLOEXEC")


# ------------------------------------------------------------- closing

def enter_fin_wait2(c):
    """xtcp closes; the peer acks the FIN: an orphan in FIN_WAIT2."""
    os.close(c.fd)
    c.expect(FIN | ACK, seq=c.iss + 1)
    c.rcv += 1
    c.send(ACK)
    wait_until(lambda: c.state() == S["FIN_WAIT2"], "FIN_WAIT2")


def established_to_fin_wait1_close(peer):
    c = active_open(peer)
    os.close(c.fd)
    c.expect(FIN | ACK, seq=c.iss + 1, ack=c.irs + 1)
    check(c.state() == S["FIN_WAIT1"], "not FIN_WAIT1")


def established_to_fin_wait1_shutdown(peer):
    c = active_open(peer)
    xshutdown(c.fd, 1)
    c.expect(FIN | ACK, seq=c.iss + 1)
    check(c.state() == S["FIN_WAIT1"], "not FIN_WAIT1")
    # Half-close: data still flows to us in FIN_WAIT_2.
    c.rcv += 1
    c.send(ACK)
    wait_until(lambda: c.state() == S["FIN_WAIT2"], "FIN_WAIT2")
    c.send(ACK | PSH, b"late data")
    c.expect(ACK, ack=c.irs + 1 + 9)
    check(os.read(c.fd, 100) == b"late data", "data lost in FIN_WAIT2")


def established_to_close_wait(peer):
    c = active_open(peer)
    c.send(FIN | ACK)
    c.expect(ACK, seq=c.iss + 1, ack=c.irs + 2)
    check(c.state() == S["CLOSE_WAIT"], "not CLOSE_WAIT")
    check(os.read(c.fd, 10) == b"", "read after FIN must return 0")
    # CLOSE_WAIT lasts until the application closes.
    peer.expect_none(0.5)
    check(c.state() == S["CLOSE_WAIT"], "CLOSE_WAIT did not last")
    # CLOSE_WAIT -> LAST_ACK -> CLOSED
    os.close(c.fd)
    c.expect(FIN | ACK, seq=c.iss + 1, ack=c.irs + 2)
    check(c.state() == S["LAST_ACK"], "not LAST_ACK")
    c.rcv += 1
    c.send(ACK)
    wait_until(lambda: c.state() is None, "LAST_ACK to close")


def fin_wait1_to_fin_wait2_to_time_wait(peer):
    knob("msl_ms", 200)
    c = active_open(peer)
    enter_fin_wait2(c)
    c.send(FIN | ACK)
    c.expect(ACK, seq=c.iss + 2, ack=c.irs + 2)
    check(c.state() == S["TIME_WAIT"], "not TIME_WAIT")
    if not xtcp_only("TIME_WAIT's end: Linux's lasts a fixed 60 s"):
        return
    t0 = time.monotonic()
    wait_until(lambda: c.state() is None, "TIME_WAIT to expire", 10)
    check(time.monotonic() - t0 >= 0.4 - 0.05,
          "TIME_WAIT ended before 2 * MSL")


def fin_wait1_to_closing_to_time_wait(peer):
    c = active_open(peer)
    os.close(c.fd)
    c.expect(FIN | ACK, seq=c.iss + 1)
    # The peer's FIN crosses ours and does not acknowledge it.
    c.send(FIN | ACK)
    c.expect(ACK, ack=c.irs + 2)
    check(c.state() == S["CLOSING"], "not CLOSING")
    c.rcv += 1
    c.send(ACK)
    wait_until(lambda: c.state() == S["TIME_WAIT"], "CLOSING to TIME_WAIT")


def fin_wait1_to_time_wait_directly(peer):
    c = active_open(peer)
    os.close(c.fd)
    c.expect(FIN | ACK, seq=c.iss + 1)
    c.rcv += 1
    c.send(FIN | ACK)
    c.expect(ACK, seq=c.iss + 2, ack=c.irs + 2)
    check(c.state() == S["TIME_WAIT"], "FIN+ACK in FIN_WAIT1: not TIME_WAIT")


def fin_queued_behind_data_retransmitted(peer):
    fast_timers()
    c = active_open(peer)
    os.write(c.fd, b"a" * 100)
    os.close(c.fd)
    d = c.expect(ACK | PSH, seq=c.iss + 1, payload=b"a" * 100)
    # The FIN rides on the data segment or follows it.
    if not d.flags & FIN:
        c.expect(FIN | ACK, seq=c.iss + 101)
    # Nothing is acknowledged: the data comes again with the FIN on it
    # (tcp_retrans_try_collapse()).
    r = c.expect(FIN | ACK, seq=c.iss + 1, payload=b"a" * 100)
    c.rcv = c.iss + 1 + 100 + 1
    c.send(ACK)
    wait_until(lambda: c.state() == S["FIN_WAIT2"], "FIN_WAIT2")
    check(r.payload == d.payload, "retransmission changed the data")


def data_retransmission_on_timeout(peer):
    fast_timers()
    c = active_open(peer)
    os.write(c.fd, b"0123456789")
    d1 = c.expect(ACK | PSH, seq=c.iss + 1, payload=b"0123456789")
    d2 = c.expect(ACK | PSH, seq=c.iss + 1, payload=b"0123456789")
    c.rcv += 10
    c.send(ACK)
    peer.expect_none(0.5)
    check(counters()["RetransSegs"] >= 1 and d1.seq == d2.seq, "retrans")


def in_order_data_both_ways(peer):
    c = active_open(peer)
    c.send(ACK | PSH, b"ping")
    c.expect(ACK, ack=c.irs + 1 + 4)
    check(os.read(c.fd, 10) == b"ping", "data not delivered")
    # A duplicate is acknowledged again and not delivered twice.
    c.send(ACK | PSH, b"ping", seq=c.irs + 1)
    c.expect(ACK, ack=c.irs + 5)
    # Out of order: dropped, answered with a duplicate ACK.
    c.send(ACK | PSH, b"late", seq=c.irs + 9)
    c.expect(ACK, ack=c.irs + 5)
    os.set_blocking(c.fd, False)
    try:
        os.read(c.fd, 10)
        raise Fail("duplicate or out-of-order data was delivered")
    except BlockingIOError:
        pass


def close_with_unread_data_sends_rst(peer):
    c = active_open(peer)
    c.send(ACK | PSH, b"unread")
    c.expect(ACK)
    os.close(c.fd)
    c.expect(RST | ACK, seq=c.iss + 1)
    wait_until(lambda: c.state() is None, "connection gone")
    check(counters()["AbortOnClose"] == 1, "AbortOnClose")


def linger_zero_aborts(peer):
    c = active_open(peer)
    set_linger(c.fd, 1, 0)
    os.close(c.fd)
    c.expect(RST | ACK, seq=c.iss + 1)
    wait_until(lambda: c.state() is None, "connection gone")
    check(not [r for r in proc_rows() if r["state"] == S["TIME_WAIT"]],
          "SO_LINGER {1,0} left a TIME_WAIT entry")


def linger_blocks(peer):
    c = active_open(peer)
    set_linger(c.fd, 1, 1)
    t0 = time.monotonic()
    os.close(c.fd)       # the FIN is never acknowledged: waits up to 1 s
    c.expect(FIN | ACK, seq=c.iss + 1)
    check(time.monotonic() - t0 >= 0.9, "close() returned before the linger")


def linger_returns_when_acked(peer):
    import threading
    c = active_open(peer)
    set_linger(c.fd, 1, 30)
    t = threading.Thread(target=os.close, args=(c.fd,))
    t.start()               # close() lingers in this thread
    c.expect(FIN | ACK, seq=c.iss + 1)
    check(t.is_alive(), "close() with SO_LINGER returned before the ACK")
    c.rcv += 1
    c.send(ACK)
    t.join(10)
    check(not t.is_alive(), "close() did not return once the FIN was acked")


def orphan_fin_wait2_timeout(peer):
    """An orphan waits fin_timeout (at least 3.5 RTOs) in FIN_WAIT2 for
    the peer's FIN, then goes silently: Linux spends the wait as a
    TIME_WAIT socket in FIN_WAIT2, which ends without a RST."""
    knob("fin_timeout", 1)
    c = active_open(peer)
    b = counters()
    enter_fin_wait2(c)
    t0 = time.monotonic()
    wait_until(lambda: c.state() is None, "orphaned FIN_WAIT2 to end", 5)
    check(time.monotonic() - t0 >= 0.9, "FIN_WAIT2 ended before fin_timeout")
    peer.expect_none(0.3)
    if xtcp_only("FinWait2Timeout: Linux counts nothing there"):
        check(counters()["FinWait2Timeout"] - b["FinWait2Timeout"] == 1,
              "FinWait2Timeout not counted once")


def orphan_retries_give_up(peer):
    fast_timers()
    knob("orphan_retries", 1)
    c = active_open(peer)
    os.close(c.fd)
    c.expect(FIN | ACK, seq=c.iss + 1)
    c.expect(FIN | ACK, seq=c.iss + 1)
    wait_until(lambda: c.state() is None, "orphan to give up", 15)


def shutdown_rd(peer):
    c = active_open(peer)
    xshutdown(c.fd, 0)
    check(os.read(c.fd, 10) == b"", "read after SHUT_RD")
    check(c.state() == S["ESTABLISHED"], "SHUT_RD changed the state")


# ------------------------------------------------------------- RST / SYN

def rst_exact_resets(peer):
    c = active_open(peer)
    c.send(RST, seq=c.snd)
    wait_until(lambda: c.state() is None, "RST to reset")
    try:
        os.read(c.fd, 10)
        raise Fail("read after RST did not fail")
    except OSError as e:
        check(e.errno == errno.ECONNRESET, "expected ECONNRESET: %s" % e)


def rst_in_window_challenge(peer):
    c = active_open(peer)
    c.send(RST, seq=c.snd + 100)
    c.expect(ACK, seq=c.iss + 1, ack=c.irs + 1)
    check(c.state() == S["ESTABLISHED"], "in-window RST reset the connection")
    check(counters()["ChallengeAck"] == 1, "ChallengeAck not counted")


def rst_out_of_window_ignored(peer):
    c = active_open(peer)
    c.send(RST, seq=c.snd + 10000000)
    peer.expect_none(0.3)
    check(c.state() == S["ESTABLISHED"], "out-of-window RST acted on")


def syn_in_established_challenge(peer):
    c = active_open(peer)
    c.send(SYN, seq=c.irs + 5000)
    c.expect(ACK, seq=c.iss + 1, ack=c.irs + 1)
    check(c.state() == S["ESTABLISHED"], "SYN changed ESTABLISHED")


def rst_in_every_synchronized_state(peer):
    # FIN_WAIT1 (orphaned), CLOSE_WAIT, LAST_ACK, FIN_WAIT2: the same rule.
    # Two challenge ACKs in a row: no per-connection rate limit here.
    knob("invalid_ratelimit", 0)
    for step in ("fin_wait1", "close_wait", "last_ack", "fin_wait2"):
        c = active_open(peer)
        if step == "fin_wait1":
            os.close(c.fd)
            c.expect(FIN | ACK)
        elif step in ("close_wait", "last_ack"):
            c.send(FIN | ACK)
            c.expect(ACK)
            if step == "last_ack":
                os.close(c.fd)
                c.expect(FIN | ACK)
        else:
            # Not an orphan: an orphan's FIN_WAIT2 has rules of its own
            # (orphan_fin_wait2_as_time_wait).
            xshutdown(c.fd, 1)
            c.expect(FIN | ACK)
            c.rcv += 1
            c.send(ACK)
            wait_until(lambda: c.state() == S["FIN_WAIT2"], "FIN_WAIT2")
        before = c.state()
        c.send(RST, seq=c.snd + 10)
        c.expect(ACK)
        check(c.state() == before, "%s: in-window RST acted on" % step)
        c.send(SYN, seq=c.snd + 10)
        c.expect(ACK)
        c.send(RST, seq=c.snd)
        wait_until(lambda: c.state() is None, "%s: exact RST" % step)


def orphan_fin_wait2_as_time_wait(peer):
    """An orphan in FIN_WAIT2 follows the rules of Linux's TIME_WAIT
    socket in FIN_WAIT2 (tcp_timewait_state_process()), not RFC 5961's:
    an ACK without news is taken silently, a segment outside the window
    gets an ACK, a RST in the window ends it without a challenge, a SYN
    or new data gets a RST and ends it, the FIN leads to TIME_WAIT."""
    knob("invalid_ratelimit", 0)
    knob("fin_timeout", 30)
    for case in ("ack", "oow", "rst", "syn", "data", "fin"):
        c = active_open(peer)
        enter_fin_wait2(c)
        if case == "ack":
            c.send(ACK)
            peer.expect_none(0.3)
            left = S["FIN_WAIT2"]
        elif case == "oow":
            c.send(ACK, seq=c.snd + 1000000)
            c.expect(ACK, seq=c.iss + 2, ack=c.snd)
            left = S["FIN_WAIT2"]
        elif case == "rst":
            c.send(RST, seq=c.snd + 10)
            peer.expect_none(0.3)
            left = None
        elif case == "syn":
            c.send(SYN, seq=c.snd + 10, ack=0)
            c.expect(RST | ACK, seq=0, ack=c.snd + 11)
            left = None
        elif case == "data":
            c.send(ACK | PSH, b"x" * 10)
            c.expect(RST, seq=c.iss + 2)
            left = None
        else:
            c.send(FIN | ACK)
            c.expect(ACK, seq=c.iss + 2, ack=c.snd)
            left = S["TIME_WAIT"]
        wait_until(lambda: c.state() == left, "%s: state %r" % (case, left))
        if left == S["FIN_WAIT2"]:
            c.send(RST)


def no_socket_gets_rst(peer):
    peer.send(42000, 7777, 100, 0, SYN)
    peer.expect(RST | ACK, seq=0, ack=101)
    peer.send(42000, 7777, 100, 5555, ACK)
    peer.expect(RST, seq=5555)
    peer.send(42000, 7777, 100, 0, RST)
    peer.expect_none(0.3)
    if xtcp_only("InNoSocket: Linux has a drop reason, no counter"):
        check(counters()["InNoSocket"] == 3, "InNoSocket")


def bad_segments_counted(peer):
    lfd, lport = listener(5010)
    peer.send(42001, lport, 1, 0, SYN, bad_csum=True)
    peer.expect_none(0.3)
    check(counters()["InCsumErrors"] == 1, "InCsumErrors")
    check(state_of(lport, 42001) is None, "bad checksum created a connection")


# ------------------------------------------------------------- TIME_WAIT

def enter_time_wait(c):
    """xtcp closes first; the peer's FIN acks ours: xtcp is in TIME_WAIT."""
    os.close(c.fd)
    c.expect(FIN | ACK, seq=c.iss + 1)
    c.rcv += 1
    c.send(FIN | ACK)
    c.expect(ACK, seq=c.iss + 2, ack=c.snd)


def time_wait_refin_acked_and_restarted(peer):
    knob("msl_ms", 500)
    c = active_open(peer)
    os.close(c.fd)
    c.expect(FIN | ACK)
    c.rcv += 1
    c.send(FIN | ACK)
    c.expect(ACK, ack=c.irs + 2)
    check(c.state() == S["TIME_WAIT"], "not TIME_WAIT")
    if not xtcp_only("the restart of 2 * MSL: Linux's is a fixed 60 s"):
        c.send(FIN | ACK, seq=c.irs + 1)
        c.expect(ACK, seq=c.iss + 2, ack=c.irs + 2)
        check(c.state() == S["TIME_WAIT"], "FIN again ended TIME_WAIT")
        return
    # Wait until less than half of 2 * MSL (100 ticks) is left ...
    wait_until(lambda: (timer_left(c.lport, c.pport) or 0) < 50,
               "TIME_WAIT timer to run down")
    # ... then the peer retransmits its FIN: ACK again; the wait restarts.
    c.send(FIN | ACK, seq=c.irs + 1)
    c.expect(ACK, seq=c.iss + 2, ack=c.irs + 2)
    left = timer_left(c.lport, c.pport)
    check(left is not None and left > 75,
          "FIN did not restart 2 * MSL (%r ticks left)" % left)
    wait_until(lambda: c.state() is None, "TIME_WAIT to expire")


def time_wait_new_syn_accepted(peer):
    lfd, lport = listener(5011)
    c = passive_open(peer, lfd, lport)
    # xtcp closes first, so it holds the TIME_WAIT.
    enter_time_wait(c)
    check(c.state() == S["TIME_WAIT"], "not TIME_WAIT")
    # A SYN above the old rcv_nxt opens a new connection (RFC 6191).
    peer.send(c.pport, lport, c.snd + 100000, 0, SYN, 65535, opt_mss(1460))
    sa = peer.expect(SYN | ACK, ack=c.snd + 100001)
    check(((sa.seq - (c.iss + 2)) & 0xFFFFFFFF) < 0x80000000,
          "new ISN not above the old connection's")
    if xtcp_only("TwRecycled: Linux counts no SYN that ends TIME_WAIT"):
        check(counters()["TwRecycled"] == 1, "TwRecycled")


def time_wait_old_syn_acked(peer):
    lfd, lport = listener(5012)
    c = passive_open(peer, lfd, lport)
    enter_time_wait(c)
    # A SYN below rcv_nxt without a newer timestamp: only an ACK.
    peer.send(c.pport, lport, c.irs - 1000, 0, SYN, 65535, opt_mss(1460))
    c.expect(ACK, ack=c.snd)
    check(c.state() == S["TIME_WAIT"], "old SYN ended TIME_WAIT")


def time_wait_rst_kills_unless_rfc1337(peer):
    for rfc1337 in (0, 1):
        knob("rfc1337", rfc1337)
        c = active_open(peer)
        os.close(c.fd)
        c.expect(FIN | ACK)
        c.rcv += 1
        c.send(FIN | ACK)
        c.expect(ACK)
        c.send(RST, seq=c.snd)
        if rfc1337:
            peer.expect_none(0.3)
            check(c.state() == S["TIME_WAIT"], "rfc1337: RST killed it")
        else:
            wait_until(lambda: c.state() is None, "RST to kill TIME_WAIT")


def max_tw_buckets_overflow(peer):
    knob("max_tw_buckets", 0)
    c = active_open(peer)
    enter_time_wait(c)
    wait_until(lambda: c.state() is None, "connection to close at once")
    check(counters()["TwOverflow"] == 1, "TwOverflow not counted")


def reuseaddr_binds_over_time_wait(peer):
    lfd, lport = listener(5013)
    c = passive_open(peer, lfd, lport)
    os.close(lfd)
    enter_time_wait(c)
    check(c.state() == S["TIME_WAIT"], "not TIME_WAIT")
    fd = xsocket()
    try:
        xbind(fd, LOCAL, lport)
        raise Fail("bind over TIME_WAIT without SO_REUSEADDR")
    except OSError as e:
        check(e.errno == errno.EADDRINUSE, "expected EADDRINUSE: %s" % e)
    fd2, _ = listener(lport)
    check(state_of(lport, 0) == S["LISTEN"], "listener with SO_REUSEADDR")


def accept_queue_bound(peer):
    # backlog 1: as in Linux, the queue holds backlog + 1 children.
    lfd, lport = listener(5016, backlog=1)
    for i in range(3):
        port = 41040 + i
        peer.send(port, lport, 100, 0, SYN, 65535, opt_mss(1460))
        sa = peer.recv(1.0)
        if i < 2:
            check(sa is not None and sa.flags == SYN | ACK,
                  "SYN %d not answered: %r" % (i, sa))
            peer.send(port, lport, 101, sa.seq + 1, ACK)
            wait_until(lambda: state_of(lport, port) == S["ESTABLISHED"],
                       "child %d" % i)
        else:
            check(sa is None, "SYN beyond the accept queue answered: %r" % sa)
    check(counters()["AcceptQueueDrop"] >= 1, "AcceptQueueDrop not counted")
    # As /proc/net/tcp: rx_queue the accept queue, tx_queue 0.
    check(any(r["state"] == S["LISTEN"] and r["rx"] == 2 and r["tx"] == 0
              for r in proc_rows()), "accept queue 0:2 not in the table")


def broadcast_dropped(peer):
    lfd, lport = listener(5017)
    # The tun's subnet broadcast address (the Peer sets "brd +").
    os.write(peer.fd, build(PEER, "192.0.2.255", 41050, lport, 1, 0, SYN))
    peer.expect_none(0.3)
    if xtcp_only("InNotHost: Linux drops it without a counter"):
        check(counters()["InNotHost"] >= 1, "broadcast SYN not counted")


def blocking_accept(peer):
    import threading
    lfd, lport = listener(5014)
    got = []
    t = threading.Thread(target=lambda: got.append(xaccept(lfd)))
    t.start()
    peer.expect_none(0.2)
    check(t.is_alive(), "accept() returned with an empty queue")
    peer.send(41030, lport, 100, 0, SYN, 65535, opt_mss(1460))
    sa = peer.expect(SYN | ACK, ack=101)
    peer.send(41030, lport, 101, sa.seq + 1, ACK)
    t.join(10)
    check(not t.is_alive() and got, "accept() did not return the child")
    check(xname(got[0], peer=True) == (PEER, 41030), "accepted peer")


def tw_reuse_on_connect(peer):
    """connect() onto a 4-tuple a TIME_WAIT entry with timestamps holds,
    as tcp_twsk_unique() decides: from a port the socket bound itself,
    the entry gives way at once whatever tw_reuse says; on a port
    connect() picks (the only one of ip_local_port_range here), only
    under tw_reuse and once the entry's last timestamp is more than a
    second old."""
    knob("msl_ms", 60000)
    os.system("ip link set lo up")
    lfd = xsocket()
    setsockopt_int(lfd, 1, 2, 1)
    xbind(lfd, "127.0.0.1", 5015)
    xlisten(lfd)

    def connect_from(port):
        fd = xsocket()
        setsockopt_int(fd, 1, 2, 1)
        if port:
            xbind(fd, "127.0.0.1", port)
        return fd, xconnect(fd, "127.0.0.1", 5015)

    def time_wait_on(port):
        fd, err = connect_from(port)
        check(err == 0, "connect from %d: %s" % (port, err))
        afd = xaccept(lfd)
        lport = xname(fd)[1]
        os.close(fd)                 # the client closes first ...
        os.read(afd, 1)
        os.close(afd)                # ... and holds the TIME_WAIT
        wait_until(lambda: state_of(lport, 5015) == S["TIME_WAIT"],
                   "TIME_WAIT on port %d" % lport)
        return lport

    knob("tw_reuse", 0)
    time_wait_on(45000)
    b = counters()
    fd, err = connect_from(45000)
    check(err == 0, "bound port, tw_reuse 0: connect() gave %s, expected "
          "the TIME_WAIT entry to give way" % errno.errorcode.get(err, err))
    os.close(xaccept(lfd))
    os.close(fd)
    if xtcp_only("TwReused: Linux counts it nowhere for a bound port"):
        check(counters()["TwReused"] - b["TwReused"] == 1,
              "TwReused not counted")

    P.write_file("/proc/sys/net/ipv4/ip_local_port_range", "45100 45100")
    port = time_wait_on(0)
    check(port == 45100, "connect() picked port %d" % port)
    fd, err = connect_from(0)
    check(err == errno.EADDRNOTAVAIL, "picked port, tw_reuse 0: expected "
          "EADDRNOTAVAIL, got %s" % errno.errorcode.get(err, err))
    os.close(fd)
    knob("tw_reuse", 1)
    result = []

    def reused():
        fd, err = connect_from(0)
        result.append(err)
        if err:
            os.close(fd)
        return err == 0
    wait_until(reused, "connect() to reuse the TIME_WAIT 4-tuple", 5)
    check(result[0] == errno.EADDRNOTAVAIL or len(result) == 1,
          "first attempt: %s" % result)


SCENARIOS = [
    closed_to_listen, closed_to_syn_sent, syn_sent_to_established,
    syn_sent_simultaneous_open, syn_sent_rst_refused, syn_sent_timeout,
    blocking_connect_refused, listen_to_syn_rcvd, syn_rcvd_to_established,
    syn_rcvd_rst_to_listen, syn_rcvd_duplicate_syn, syn_rcvd_to_fin_wait1,
    synack_retransmission, syn_queue_bound, syncookie_handshake,
    syncookie_short_write_leaves_at_once,
    listener_close_forgets_children,
    accept_queue_and_accept4,
    established_to_fin_wait1_close, established_to_fin_wait1_shutdown,
    established_to_close_wait, fin_wait1_to_fin_wait2_to_time_wait,
    fin_wait1_to_closing_to_time_wait, fin_wait1_to_time_wait_directly,
    fin_queued_behind_data_retransmitted, data_retransmission_on_timeout,
    in_order_data_both_ways, close_with_unread_data_sends_rst,
    linger_zero_aborts, linger_blocks, linger_returns_when_acked,
    orphan_fin_wait2_timeout, orphan_retries_give_up, shutdown_rd,
    rst_exact_resets, rst_in_window_challenge, rst_out_of_window_ignored,
    syn_in_established_challenge, rst_in_every_synchronized_state,
    orphan_fin_wait2_as_time_wait,
    no_socket_gets_rst, bad_segments_counted,
    time_wait_refin_acked_and_restarted, time_wait_new_syn_accepted,
    time_wait_old_syn_acked, time_wait_rst_kills_unless_rfc1337,
    max_tw_buckets_overflow, reuseaddr_binds_over_time_wait,
    blocking_accept, tw_reuse_on_connect, accept_queue_bound,
    broadcast_dropped,
]

if __name__ == "__main__":
    main(SCENARIOS, stacks=["xtcp", "tcp"])
