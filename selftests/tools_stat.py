#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""xtcp-stat against the socket table, and against ss and nstat.

One connection is driven into each state a socket table shows (LISTEN,
SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT,
LAST_ACK, CLOSING, TIME_WAIT) through the packet runner's tun, first on
kernel TCP, then on xtcp. On each stack xtcp-stat (with --tcp on kernel
TCP) must list exactly those rows with the right state names, count them
per state in -s, show cwnd and rtt as TCP_INFO has them (-i), report
counters as the proc file holds them and what changed since its last
call (-c), and, on xtcp, print the transition matrix's cells (-T). On
kernel TCP its rows, queues and timers are checked against ss itself and
its counters against nstat: that is what makes its columns ss's and
nstat's. And xtcp's timers (-o) must be named as kernel TCP's were for
the same states.
"""
import json
import os
import subprocess
import sys
import time

import xtcp_pkt as P
from xtcp_pkt import ACK, FIN, RST, SYN, check, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
STAT = os.path.join(HERE, "xtcp-stat")
REF = "/tmp/xtcp-tools-stat-tcp.json"
SS_NAMES = {1: "ESTAB", 2: "SYN-SENT", 3: "SYN-RECV", 4: "FIN-WAIT-1",
            5: "FIN-WAIT-2", 6: "TIME-WAIT", 7: "UNCONN", 8: "CLOSE-WAIT",
            9: "LAST-ACK", 10: "LISTEN", 11: "CLOSING"}
# -T names the state a socket starts and ends in CLOSED.
MATRIX_NAMES = {**SS_NAMES, 7: "CLOSED"}
SHUT_WR = 1


def stat(*args):
    cmd = [sys.executable, STAT] + (["--tcp"] if P.BASELINE else [])
    r = subprocess.run(cmd + list(args), capture_output=True, text=True,
                       check=False)
    check(r.returncode == 0, "xtcp-stat %s: exit %d: %s"
          % (" ".join(args), r.returncode, r.stderr.strip()))
    return r.stdout


def expect_on(peer, c, flags, limit=5.0):
    """The next segment of connection c (others' retransmissions are
    skipped); its flags must be flags."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        s = peer.recv(end - time.monotonic())
        if s is None:
            break
        if s.sport == c.lport and s.dport == c.pport:
            check(s.flags & ~P.PSH == flags & ~P.PSH,
                  "expected %s, got %r" % (P.flags_str(flags), s))
            c.saw(s)
            return s
    raise P.Fail("no %s segment from port %d" % (P.flags_str(flags),
                                                  c.lport))


def connect(peer, answer=True):
    """A connect() to the peer; answered, it is ESTABLISHED."""
    fd = P.xsocket(nonblock=True)
    peer.port += 1
    P.xconnect(fd, P.PEER, peer.port)
    c = P.Conn(peer, fd, P.xname(fd)[1], peer.port, 0, 7000000)
    CONNS.append(c)
    syn = expect_on(peer, c, SYN)
    c.iss, c.rcv = syn.seq, syn.seq + 1
    if answer:
        peer.send(c.pport, c.lport, c.irs, c.iss + 1, SYN | ACK, 65535,
                  P.opt_mss(1460))
        expect_on(peer, c, ACK)
        reach(c, "ESTABLISHED")
    return c


# Every connection the scenario made, to reset them at its end.
CONNS = []


def reset_all(peer):
    """The peer resets every connection (and the half-open one), so that
    none is left retransmitting after the scenario, however far the
    retransmission timers have backed off."""
    for c in CONNS:
        peer.send(c.pport, c.lport, c.snd, c.rcv, RST | ACK, 0, b"")
    if hasattr(every_state, "synrecv"):
        lport, pport = every_state.synrecv
        peer.send(pport, lport, 5000001, 0, RST, 0, b"")
    try:
        wait_until(lambda: all(r["state"] == P.STATES["LISTEN"]
                               for r in P.proc_rows()),
                   "every connection reset", 20)
    except P.Fail as e:
        raise P.Fail("%s; left: %s" % (e, [(r["lport"], r["rport"],
                                             r["state"])
                                            for r in P.proc_rows()]))


def reach(c, state):
    wait_until(lambda: c.state() == P.STATES[state], state)


def every_state(peer):
    """One socket in each state; returns {state code: (lport, pport)}."""
    want = {}
    lfd, lport = P.listener(5000)
    want[10] = (lport, 0)
    c = connect(peer)
    want[1] = (c.lport, c.pport)
    every_state.est = c
    # FIN_WAIT2: our FIN acknowledged; CLOSE_WAIT: the peer's FIN.
    c = connect(peer)
    P.xshutdown(c.fd, SHUT_WR)
    expect_on(peer, c, FIN | ACK)
    c.rcv += 1
    c.send(ACK)
    reach(c, "FIN_WAIT2")
    want[5] = (c.lport, c.pport)
    c = connect(peer)
    c.send(FIN | ACK)
    expect_on(peer, c, ACK)
    reach(c, "CLOSE_WAIT")
    want[8] = (c.lport, c.pport)
    # TIME_WAIT: FIN, and the peer's FIN that acknowledges it.
    c = connect(peer)
    P.xshutdown(c.fd, SHUT_WR)
    expect_on(peer, c, FIN | ACK)
    c.rcv += 1
    c.send(FIN | ACK)
    expect_on(peer, c, ACK)
    reach(c, "TIME_WAIT")
    want[6] = (c.lport, c.pport)
    # The rest retransmit until answered: made last.
    c = connect(peer)
    c.send(FIN | ACK)
    expect_on(peer, c, ACK)
    P.xshutdown(c.fd, SHUT_WR)
    expect_on(peer, c, FIN | ACK)
    reach(c, "LAST_ACK")
    want[9] = (c.lport, c.pport)
    c = connect(peer)
    P.xshutdown(c.fd, SHUT_WR)
    expect_on(peer, c, FIN | ACK)
    c.send(FIN | ACK)               # without acknowledging our FIN
    reach(c, "CLOSING")
    want[11] = (c.lport, c.pport)
    c = connect(peer)
    P.xshutdown(c.fd, SHUT_WR)
    expect_on(peer, c, FIN | ACK)
    reach(c, "FIN_WAIT1")
    want[4] = (c.lport, c.pport)
    c = connect(peer, answer=False)
    want[2] = (c.lport, c.pport)
    peer.port += 1
    peer.send(peer.port, lport, 5000000, 0, SYN, 65535, P.opt_mss(1460))
    wait_until(lambda: P.state_of(lport, peer.port) == P.STATES["SYN_RECV"],
               "SYN_RECV")
    want[3] = (lport, peer.port)
    every_state.synrecv = (lport, peer.port)
    return want


def parse_rows(out):
    """xtcp-stat's or ss's rows: (state, recv-q, send-q, local, peer)."""
    rows = []
    for line in out.splitlines():
        w = line.split()
        if len(w) >= 5 and not line.startswith("\t"):
            rows.append((w[0], int(w[1]), int(w[2]), w[3], w[4]))
    return rows


def timers(out):
    """{(local, peer): timer name} of -o output (xtcp-stat's or ss's)."""
    t = {}
    for line in out.splitlines():
        w = line.split()
        for x in w[5:]:
            if x.startswith("timer:("):
                t[(w[3], w[4])] = x[7:].split(",")[0]
    return t


def info_fields(line):
    return dict(x.split(":", 1) for x in line.split() if ":" in x)


def states_and_tools(peer):
    want = every_state(peer)
    local = lambda lp: "%s:%d" % (P.LOCAL, lp)
    remote = lambda pp: "%s:%s" % (P.PEER, pp) if pp else "0.0.0.0:*"
    expect = {(SS_NAMES[s], local(lp), remote(pp)) for s, (lp, pp) in
              want.items()}

    # The table itself first: one row per state.
    codes = sorted(r["state"] for r in P.proc_rows())
    check(codes == sorted(want), "socket table states %s, want %s"
          % (codes, sorted(want)))

    rows = parse_rows(stat("-H"))
    got = {(s, l, r) for s, _, _, l, r in rows}
    check(got == expect, "xtcp-stat rows %s, want %s"
          % (sorted(got), sorted(expect)))
    lrows = parse_rows(stat("-lH"))
    check([r[0] for r in lrows] == ["LISTEN"], "-l rows: %s" % lrows)

    # -s: every state counted, TIME-WAIT included.
    summ = stat("-s").splitlines()
    counts = {w[0]: int(w[1]) for w in (x.split() for x in summ[2:]) if
              len(w) == 2 and w[1].isdigit()}
    for code, name in SS_NAMES.items():
        n = 1 if code in want else 0
        check(counts.get(name) == n, "-s: %s %s, want %d"
              % (name, counts.get(name), n))
    head = summ[0].split()
    check(head[1] == str(len(want)) and "timewait" in summ[0] and
          summ[0].rstrip(")").endswith(" 1"), "-s first line: %s" % summ[0])

    # -i: cwnd (and, on xtcp, rtt) as TCP_INFO says.
    est = every_state.est
    out = stat("-i").splitlines()
    key = local(est.lport)
    line = [out[i + 1] for i, x in enumerate(out[:-1])
            if len(x.split()) > 4 and x.split()[3] == key][0]
    f = info_fields(line)
    ti = P.tcp_info(est.fd)
    check(int(f["cwnd"]) == ti["snd_cwnd"], "-i cwnd %s, TCP_INFO %d"
          % (f["cwnd"], ti["snd_cwnd"]))
    if not P.BASELINE:
        srtt = float(f["rtt"].split("/")[0]) * 1000
        check(abs(srtt - ti["rtt"]) <= 1, "-i rtt %s ms, TCP_INFO %d us"
              % (f["rtt"], ti["rtt"]))
        check(int(f["mss"]) == ti["snd_mss"], "-i mss %s, TCP_INFO %d"
              % (f["mss"], ti["snd_mss"]))

    # -o: timer names; on kernel TCP as ss names them, on xtcp as kernel
    # TCP's were for the same states.
    mine = timers(stat("-o", "-H"))
    by_state = {}
    for s, l, r in expect:
        by_state[s] = mine.get((l, r), "none")
    if P.BASELINE:
        r = subprocess.run(["ss", "-tanoH"], capture_output=True, text=True,
                           check=True)
        theirs = timers(r.stdout)
        ss_rows = parse_rows(r.stdout)
        ss_set = {(s, l, p) for s, _, _, l, p in ss_rows}
        check(ss_set == expect, "ss rows %s, want %s" % (sorted(ss_set),
                                                        sorted(expect)))
        # Queues as ss has them (a listener's Send-Q is its backlog,
        # which /proc/net/tcp does not hold).
        qs = {(l, p): (rq, sq, s) for s, rq, sq, l, p in ss_rows}
        for s, rq, sq, l, p in rows:
            want_q = qs.get((l, p))
            check(want_q is not None and want_q[0] == rq and
                  (s == "LISTEN" or want_q[1] == sq),
                  "%s %s: queues %d/%d, ss %s" % (s, l, rq, sq, want_q))
        for s, l, p in expect:
            check(mine.get((l, p), "none") == theirs.get((l, p), "none"),
                  "%s: timer %s, ss %s" % (s, mine.get((l, p)),
                                           theirs.get((l, p))))
        with open(REF, "w") as fh:
            json.dump(by_state, fh)
    else:
        try:
            with open(REF) as fh:
                ref = json.load(fh)
        except OSError:
            raise P.Fail("no kernel TCP reference (%s): run both stacks"
                         % REF)
        for s, t in sorted(by_state.items()):
            check(ref.get(s) == t, "%s: timer %s, kernel TCP's %s"
                  % (s, t, ref.get(s)))

    # -T: the matrix's cells are /proc/net/xtcp_transitions'.
    if P.BASELINE:
        r = subprocess.run([sys.executable, STAT, "--tcp", "-T"],
                           capture_output=True, text=True, check=False)
        check(r.returncode != 0 and "no transition matrix" in r.stderr,
              "--tcp -T: kernel TCP has no such matrix")
    else:
        lines = stat("-T").splitlines()
        cols = lines[0].split()[1:]
        cells = {}
        for x in lines[1:]:
            w = x.split()
            for to, n in zip(cols, w[1:]):
                if n != ".":
                    cells[(w[0], to)] = int(n)
        kn = {"ESTABLISHED": 1, "SYN_SENT": 2, "SYN_RECV": 3,
              "FIN_WAIT1": 4, "FIN_WAIT2": 5, "TIME_WAIT": 6, "CLOSE": 7,
              "CLOSE_WAIT": 8, "LAST_ACK": 9, "LISTEN": 10, "CLOSING": 11}
        proc = {}
        with open("/proc/net/xtcp_transitions") as fh:
            next(fh)
            for x in fh:
                a, b, n = x.split()
                proc[(MATRIX_NAMES[kn[a]], MATRIX_NAMES[kn[b]])] = int(n)
        check(cells == proc, "-T cells %s, proc %s" % (cells, proc))
        # Eight connect()s, seven of them answered.
        for cell, n in ((("CLOSED", "SYN-SENT"), 8),
                        (("SYN-SENT", "ESTAB"), 7),
                        (("LISTEN", "SYN-RECV"), 1),
                        (("FIN-WAIT-2", "TIME-WAIT"), 1)):
            check(cells.get(cell) == n, "-T: %s -> %s %s, want %d"
                  % (cell[0], cell[1], cells.get(cell), n))

    # -c: the counters as the proc file has them, then what changed.
    absolute = {}
    for line in stat("-c", "-a", "-z").splitlines()[1:]:
        w = line.split()
        absolute[w[0]] = int(w[1])
    if P.BASELINE:
        r = subprocess.run(["nstat", "-asz", "TcpActiveOpens",
                            "TcpPassiveOpens"], capture_output=True,
                           text=True, check=True)
        ref = {w[0]: int(w[1]) for w in (x.split() for x in
                                         r.stdout.splitlines()[1:])}
        for k in ("TcpActiveOpens", "TcpPassiveOpens"):
            check(absolute.get(k) == ref.get(k), "-c -a %s %s, nstat %s"
                  % (k, absolute.get(k), ref.get(k)))
        opens = "TcpActiveOpens"
    else:
        with open("/proc/net/xtcp_stat") as fh:
            names = [x.split()[0] for x in fh]
        check(sorted(absolute) == sorted("Xtcp" + n for n in names),
              "-c -a -z lists %d counters, xtcp_stat %d"
              % (len(absolute), len(names)))
        opens = "XtcpActiveOpens"
    check(absolute[opens] >= 8, "%s %d after 8 connect()s"
          % (opens, absolute[opens]))
    stat("-c")                              # the history
    c = connect(peer)
    delta = {}
    for line in stat("-c").splitlines()[1:]:
        w = line.split()
        delta[w[0]] = int(w[1])
    check(delta.get(opens) == 1, "-c: %s %s since the last call, want 1"
          % (opens, delta.get(opens)))
    reset_all(peer)

if __name__ == "__main__":
    P.main([states_and_tools], stacks=["tcp", "xtcp"])
