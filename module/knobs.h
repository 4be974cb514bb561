/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp: the run-time knobs, declared once.
 *
 * This file is included several times with a different definition of
 * XTCP_KNOB(name, default, min, max) each time: for the enum of knobs,
 * the table of defaults and ranges, the sysfs module parameters and the
 * per-namespace sysctl table (ctrl.c). scripts/gen-knob-doc turns the
 * comments below into Documentation/sysctl.rst: the comment above a knob
 * is its documentation, in reStructuredText.
 *
 * Every knob is an int. Writes outside [min, max] fail with EINVAL and
 * change nothing. A knob declared with XTCP_KNOB_NAMED(name, default,
 * min, max, names, default name) holds the index of one of the
 * space-separated names and reads and writes as that name, with a
 * read-only available_<name> that lists them (congestion_control); the
 * includers that do not care see it as a plain XTCP_KNOB.
 */
#ifndef XTCP_KNOB_NAMED
#define XTCP_KNOB_NAMED(n, d, lo, hi, names, dn) XTCP_KNOB(n, d, lo, hi)
#define XTCP_KNOB_NAMED_DEFAULT
#endif

/*
 * Maximum Segment Lifetime, in milliseconds. A connection stays in
 * TIME_WAIT for 2 * msl_ms (RFC 9293 section 3.4.2); with the default a
 * TIME_WAIT entry lives 60 seconds, as in Linux TCP, which hard-codes that
 * length (TCP_TIMEWAIT_LEN). A change applies to connections that enter
 * TIME_WAIT afterwards; entries already waiting keep their deadline.
 */
XTCP_KNOB(msl_ms, 30000, 1, 3600000)

/*
 * Seconds an orphaned connection (closed by the application) may stay in
 * FIN_WAIT_2 waiting for the peer's FIN before it is dropped, silently
 * (FinWait2Timeout counts it); never less than 3.5 RTOs. Like Linux TCP's
 * tcp_fin_timeout (tcp_fin_time()), this is not the TIME_WAIT length.
 * Meanwhile the orphan answers segments as Linux's FIN_WAIT2 TIME_WAIT
 * socket does; above 60 s Linux keeps a full socket for the part beyond
 * 60 s, xtcp applies those rules throughout.
 */
XTCP_KNOB(fin_timeout, 60, 1, 3600)

/*
 * How many times an active open retransmits its SYN before connect()
 * fails with ETIMEDOUT. The wait doubles from rto_initial_ms each time;
 * with the defaults the last retransmission is 63 seconds after the
 * first SYN and connect() gives up 127 seconds after it.
 */
XTCP_KNOB(syn_retries, 6, 1, 127)

/*
 * How many times a passive open retransmits its SYN-ACK before the
 * half-open connection is dropped from the SYN queue.
 */
XTCP_KNOB(synack_retries, 5, 1, 255)

/*
 * After this many retransmissions of the same segment without an answer,
 * xtcp asks the routing layer to re-validate the route (dst negative
 * advice) before the next one (RFC 1122 R1).
 */
XTCP_KNOB(retries1, 3, 1, 255)

/*
 * How many retransmissions of the same segment are made on an
 * established connection before it is aborted with ETIMEDOUT (RFC 1122
 * R2). The limit is counted as the time those retransmissions take with
 * exponential back-off from rto_min_ms capped at rto_max_ms, as in Linux
 * TCP: the default 15 is about 924.6 seconds.
 */
XTCP_KNOB(retries2, 15, 1, 255)

/*
 * How many retransmissions an orphaned connection (closed by the
 * application) makes before it gives up. 0 means 8, as in Linux TCP.
 */
XTCP_KNOB(orphan_retries, 0, 0, 255)

/*
 * Seconds a connection with SO_KEEPALIVE stays idle before the first
 * keepalive probe (TCP_KEEPIDLE overrides it per socket).
 */
XTCP_KNOB(keepalive_time, 7200, 1, 32767)

/*
 * Seconds between unanswered keepalive probes (TCP_KEEPINTVL).
 */
XTCP_KNOB(keepalive_intvl, 75, 1, 32767)

/*
 * Unanswered keepalive probes before the connection is aborted with
 * ETIMEDOUT (TCP_KEEPCNT).
 */
XTCP_KNOB(keepalive_probes, 9, 1, 127)

/*
 * Half-open connections (SYN received, SYN-ACK sent, no ACK yet) beyond
 * which a listener without SYN cookies (syncookies 0) keeps its SYN
 * queue's room for peers proven alive: a new SYN is dropped once fewer
 * than a quarter of max_syn_backlog places are left (SynQueueDrop), as
 * Linux TCP's tcp_max_syn_backlog; since xtcp keeps no per-destination
 * metrics, no peer counts as proven. Whatever this says, a listener's SYN
 * queue is full at its listen() backlog: then a SYN gets a SYN cookie if
 * syncookies allows, or is dropped. Linux sizes its default from the
 * hash table (at least 128); xtcp uses a fixed 1024.
 */
XTCP_KNOB(max_syn_backlog, 1024, 1, 1048576)

/*
 * SYN cookies (RFC 4987): 0 never send them; 1 send them when the SYN
 * queue of a listener is full; 2 always send them. A connection set up by
 * a cookie carries no window scale or SACK, as in Linux TCP without
 * timestamps.
 */
XTCP_KNOB(syncookies, 1, 0, 2)

/*
 * Let connect() pick a local port whose 4-tuple a TIME_WAIT entry holds,
 * taking the entry over, when it is safe by timestamps (RFC 7323 PAWS
 * protects the new connection): the entry has timestamps and its last one
 * is more than a second old. 0 never; 1 always; 2 only for loopback
 * traffic (the Linux default). As in Linux (tcp_twsk_unique()), a socket
 * that bound its port itself takes over an entry with timestamps
 * whatever this says.
 */
XTCP_KNOB(tw_reuse, 2, 0, 2)

/*
 * Most TIME_WAIT entries a namespace keeps. A connection that would
 * enter TIME_WAIT above the limit is closed at once instead, and the
 * TWOverflow counter counts it. Linux TCP sizes it from the hash table
 * (at most 262144); xtcp uses that maximum. At most 2097152: twice the
 * buckets xtcp's TIME_WAIT lookup table grows to (a million, 8 MiB).
 */
XTCP_KNOB(max_tw_buckets, 262144, 0, 2097152)

/*
 * RFC 1337 TIME-WAIT assassination hazards: 0 (default) lets a RST kill a
 * TIME_WAIT entry at once, as Linux TCP does; 1 ignores RSTs in TIME_WAIT.
 */
XTCP_KNOB(rfc1337, 0, 0, 1)

/*
 * The least the retransmission timeout adds to the smoothed RTT, in
 * milliseconds: the RTO is SRTT + max(4 * RTTVAR, rto_min_ms), as Linux
 * TCP computes it with TCP_RTO_MIN (200 ms) or a route's rto_min (RFC
 * 6298 rule 2.4 bounds the whole RTO instead). Tail loss probes with a
 * single segment out wait this long for a delayed ACK.
 */
XTCP_KNOB(rto_min_ms, 200, 1, 120000)

/*
 * Upper bound of the retransmission timeout, in milliseconds (Linux TCP's
 * TCP_RTO_MAX is 120 s). If set below rto_min_ms, rto_min_ms wins.
 */
XTCP_KNOB(rto_max_ms, 120000, 1, 600000)

/*
 * Retransmission timeout before any round-trip time is measured, in
 * milliseconds (RFC 6298 rule 2.1: 1 second). It also times SYN and
 * SYN-ACK retransmissions.
 */
XTCP_KNOB(rto_initial_ms, 1000, 1, 120000)

/*
 * Width of a TIME_WAIT time bucket, in milliseconds; 0 means 2 * msl_ms /
 * 64 (at least 1 ms). Widths below 2 * msl_ms / 1024 count as that, so
 * that no namespace keeps more than about 1024 buckets armed per CPU for
 * its entries. An entry leaves TIME_WAIT no earlier than 2 * msl_ms
 * and no later than 2 * msl_ms plus one bucket width after it entered.
 * Wider buckets mean fewer timers and more entries per expiry; a bucket
 * reaps at most 128 entries per run and re-arms itself 50 microseconds
 * later for the rest, so a mass expiry never holds a CPU for long. An
 * entry whose 2 * MSL restarts (a retransmitted FIN or an ACK, as in
 * Linux TCP) moves to a bucket of the automatic width.
 */
XTCP_KNOB(tw_bucket_ms, 0, 0, 3600000)

/*
 * Congestion control of new sockets, by name, as Linux TCP's
 * tcp_congestion_control: "cubic" (RFC 9438), the default, or "reno"
 * (NewReno, RFC 5681, RFC 6582). An unknown name fails with ENOENT and
 * changes nothing. The read-only available_congestion_control lists the
 * names, as net.ipv4.tcp_available_congestion_control does. A socket can
 * pick its own with TCP_CONGESTION. Every connection starts with a window
 * of 10 segments (RFC 6928).
 */
XTCP_KNOB_NAMED(congestion_control, 1, 0, 1, "reno cubic", "cubic")

/*
 * Longest delay of an acknowledgment, in milliseconds (Linux TCP's
 * TCP_DELACK_MIN is 40 ms). Received data is acknowledged at once when
 * two full-sized segments are unacknowledged, when it is out of order or
 * fills a hole, during the first segments of a connection ("quick ACK"),
 * and when TCP_QUICKACK asks for it; otherwise the ACK waits up to this
 * long for data of ours to ride on (RFC 1122 4.2.3.2, RFC 5681 4.2).
 */
XTCP_KNOB(delack_ms, 40, 1, 1000)

/*
 * RACK loss detection (RFC 8985 section 6) on connections with SACK: a
 * segment is lost once one sent after it was delivered and a round trip
 * plus a reordering window (a quarter of the minimum RTT, none once
 * recovery started, until reordering was seen) has passed since it was
 * sent; a lost retransmission is found the same way. 0 uses RFC 6675's
 * rule instead (lost when three SACKed segments lie above). Like
 * net.ipv4.tcp_recovery=1; connections without SACK always count
 * duplicate ACKs (NewReno).
 */
XTCP_KNOB(rack, 1, 0, 1)

/*
 * Tail loss probes (RFC 8985 section 7) on connections with SACK: when
 * nothing is acknowledged for two smoothed RTTs (plus rto_min_ms for a
 * peer's delayed ACK when one segment is in flight, as Linux), one new
 * segment is sent, or
 * the last one again, so that a lost tail is repaired by fast recovery
 * instead of a retransmission time-out. At most one probe per tail. 0
 * turns the probes off, like net.ipv4.tcp_early_retrans=0.
 */
XTCP_KNOB(tlp, 1, 0, 1)

/*
 * A socket is writable (poll, epoll, a blocking send()) only while fewer
 * than this many bytes it queued are not yet sent, besides the send
 * buffer's limit; a socket's TCP_NOTSENT_LOWAT overrides it. As
 * net.ipv4.tcp_notsent_lowat, whose default (4294967295, no limit) an int
 * knob holds as 2147483647.
 */
XTCP_KNOB(notsent_lowat, 2147483647, 0, 2147483647)

/*
 * TCP timestamps (RFC 7323) on new connections: 0 neither offered on a
 * SYN nor accepted from a peer's; 1 on, each connection's clock starting
 * at a random offset (RFC 7323 section 5.4, from the same secret as the
 * initial sequence number); 2 on, without the offset (the clock in
 * milliseconds as it is). As net.ipv4.tcp_timestamps. The offset comes
 * from the kernel's secure_tcp_seq_and_ts_off(), which gives none while
 * net.ipv4.tcp_timestamps is not 1 either. Without timestamps a
 * connection has no PAWS and takes fewer RTT samples, and tw_reuse cannot
 * reuse its TIME_WAIT entry.
 */
XTCP_KNOB(timestamps, 1, 0, 2)

/*
 * Selective acknowledgments (RFC 2018) on new connections: offered on a
 * SYN and accepted from a peer's when 1, neither when 0. As
 * net.ipv4.tcp_sack. A connection without SACK recovers by duplicate
 * ACKs (NewReno, RFC 6582) and has neither RACK nor tail loss probes.
 */
XTCP_KNOB(sack, 1, 0, 1)

/*
 * Duplicate SACK blocks (RFC 2883): with 1, a connection with SACK
 * reports data it received twice in the first SACK block of its next
 * ACK; 0 never sends them (those received are still used). As
 * net.ipv4.tcp_dsack.
 */
XTCP_KNOB(dsack, 1, 0, 1)

/*
 * Window scaling (RFC 7323 section 2) on new connections: offered on a
 * SYN and accepted from a peer's when 1, neither when 0 (windows then end
 * at 65535 bytes). As net.ipv4.tcp_window_scaling. The scale offered is
 * the least that lets the window cover the largest receive buffer the
 * socket may grow to, as tcp_select_initial_window() computes it: the
 * larger of net.ipv4.tcp_rmem[2] and net.core.rmem_max, or half the
 * socket's SO_RCVBUF when the application fixed it (7 with the defaults).
 */
XTCP_KNOB(window_scaling, 1, 0, 1)

/*
 * Explicit Congestion Notification (RFC 3168), as net.ipv4.tcp_ecn: 0
 * off; 1 asked for on every connect() (a SYN with ECE and CWR) and
 * granted to a peer that asks; 2 (the default) granted to a peer that
 * asks, not asked for. On a connection with ECN, new data leaves with
 * ECT(0) (never pure ACKs or retransmissions); a segment the network
 * marked CE is echoed with ECE on every ACK until the peer's CWR; an ECE
 * brings cwnd down once per window (CWR state, proportional rate
 * reduction to ssthresh) and the next new data carries CWR. EcnCeRecv and
 * EcnCwr count the two ends.
 */
XTCP_KNOB(ecn, 2, 0, 2)

/*
 * RFC 3168 section 6.1.1.1 fallback, as net.ipv4.tcp_ecn_fallback: with
 * 1, a SYN sent again goes without ECE and CWR, in case a middlebox drops
 * SYNs that ask for ECN.
 */
XTCP_KNOB(ecn_fallback, 1, 0, 1)

/*
 * RFC 2861 / RFC 7661 congestion window after idle: with 1, a connection
 * that sent nothing for longer than its RTO restarts from the initial
 * window (halving cwnd once for each RTO idle, as tcp_cwnd_restart()),
 * and one that has not used its window for an RTO brings it halfway
 * down to what it used (tcp_cwnd_application_limited()). 0 keeps cwnd
 * across idle periods. As net.ipv4.tcp_slow_start_after_idle.
 */
XTCP_KNOB(slow_start_after_idle, 1, 0, 1)

/*
 * Least time, in milliseconds, between two answers of a connection (or of
 * a TIME_WAIT entry) to segments it cannot accept: a duplicate ACK for an
 * out-of-window or PAWS-rejected segment, the SYN-ACK again for a
 * duplicate SYN of a half-open connection, a challenge ACK (RFC 5961). A
 * segment with data and no SYN is always answered, since it is no part of
 * an ACK loop. This breaks the ACK storms of two desynchronised hosts
 * answering each other's ACKs, and keeps an off-path attacker from
 * counting challenge ACKs to learn about a connection. 0 answers every
 * segment. Linux TCP's tcp_invalid_ratelimit (500 ms); the answers left
 * out are counted as AckSkippedSynRecv, AckSkippedPaws, AckSkippedSeq,
 * AckSkippedTimeWait and AckSkippedChallenge.
 */
XTCP_KNOB(invalid_ratelimit, 500, 0, 3600000)

/*
 * Most challenge ACKs (RFC 5961 section 7) per second in the namespace,
 * on top of invalid_ratelimit's limit per connection. The budget of each
 * second is drawn at random between half the limit and one and a half
 * times it, so that counting challenge ACKs on one connection reveals
 * nothing about the others (CVE-2016-5696). 2147483647, the default as in
 * Linux 6.1 (tcp_challenge_ack_limit), means no namespace-wide limit.
 */
XTCP_KNOB(challenge_ack_limit, 2147483647, 0, 2147483647)

/*
 * Least segment size, in bytes of TCP header options and payload, that a
 * peer can make xtcp send with a small MSS option or an ICMP
 * fragmentation-needed message: room for a full set of options and 8
 * bytes of data. The payload of a segment is this less the options it
 * carries (36 bytes with timestamps). A floor keeps a peer from making
 * every skb of the write queue into thousands of tiny ones
 * (CVE-2019-11479). Linux TCP's tcp_min_snd_mss, same default and range.
 */
XTCP_KNOB(min_snd_mss, 48, 48, 65535)

/*
 * Most orphaned connections (closed by the application, still sending or
 * waiting for the peer) of all namespaces together, as Linux TCP's
 * tcp_max_orphans. An orphan beyond the limit is reset at close(), or at
 * its next time-out if it went over meanwhile (counted as AbortOnMemory);
 * one that sent nothing for twice rto_max_ms counts double. Global: only
 * the initial namespace's value, that is the module parameter, counts;
 * other namespaces have the knob but it has no effect there. Linux sizes
 * the default from its hash table; xtcp uses 65536.
 */
XTCP_KNOB(max_orphans, 65536, 0, 2147483647)

/*
 * The memory of all xtcp sockets together, in pages, as Linux TCP's
 * tcp_mem triple: mem_min, mem_pressure and mem_max. Every skb queued
 * for sending or receiving is charged to it (the socket core's
 * accounting, /proc/net/protocols and /proc/net/xtcp_sockstat show the
 * total). Above mem_pressure the protocol is under memory pressure
 * (MemoryPressures counts the times) and sockets are held to their
 * minimum buffers (net.ipv4.tcp_wmem[0] and tcp_rmem[0]) until the total
 * falls below mem_min; above mem_max a writer waits, received data is
 * dropped (RcvbufDrop) and an orphan holding send buffer is reset at its
 * next time-out (AbortOnMemory). 0 sizes the value when the module loads
 * as Linux sizes tcp_mem at boot, from the free memory: mem_pressure
 * 1/16 of it, mem_min 3/4 of that, mem_max twice mem_min. Global, as
 * tcp_mem: only the initial namespace's values (the module parameters)
 * count.
 */
XTCP_KNOB(mem_min, 0, 0, 2147483647)

/*
 * See mem_min.
 */
XTCP_KNOB(mem_pressure, 0, 0, 2147483647)

/*
 * See mem_min.
 */
XTCP_KNOB(mem_max, 0, 0, 2147483647)

#ifdef XTCP_KNOB_NAMED_DEFAULT
#undef XTCP_KNOB_NAMED
#undef XTCP_KNOB_NAMED_DEFAULT
#endif
