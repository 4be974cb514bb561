// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: per-namespace counters, shown in /proc/net/xtcp_stat.
 *
 * Counters are per CPU (SNMP helpers) and folded on read. Each line of the
 * file is "Name value"; the names are stable and documented in
 * Documentation/xtcp.rst.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/ip.h>

#include "xtcp.h"
#include "trace.h"

static const struct snmp_mib xtcp_mib_list[] = {
	/* Segments that IPv4 handed to xtcp, valid or not (a GSO packet
	 * counts as its segments).
	 */
	SNMP_MIB_ITEM("InSegs", XTCP_MIB_INSEGS),
	/* Segments sent, including retransmissions and RSTs (a GSO packet
	 * counts as its segments).
	 */
	SNMP_MIB_ITEM("OutSegs", XTCP_MIB_OUTSEGS),
	/* Segments retransmitted. */
	SNMP_MIB_ITEM("RetransSegs", XTCP_MIB_RETRANSSEGS),
	/* RSTs sent. */
	SNMP_MIB_ITEM("OutRsts", XTCP_MIB_OUTRSTS),
	/*
	 * Segments dropped because no socket or TIME_WAIT entry matched
	 * (answered with a RST unless they were one).
	 */
	SNMP_MIB_ITEM("InNoSocket", XTCP_MIB_INNOSOCKET),
	/* Segments dropped: truncated, or a data offset below 5 or past the end. */
	SNMP_MIB_ITEM("InHdrErrors", XTCP_MIB_INHDRERRORS),
	/* Segments dropped: bad checksum. */
	SNMP_MIB_ITEM("InCsumErrors", XTCP_MIB_INCSUMERRORS),
	/* Segments dropped: sent to a broadcast or multicast address. */
	SNMP_MIB_ITEM("InNotHost", XTCP_MIB_INNOTHOST),
	/*
	 * Segments dropped: the socket was owned by the user and its backlog was
	 * full.
	 */
	SNMP_MIB_ITEM("BacklogDrop", XTCP_MIB_BACKLOGDROP),
	/*
	 * Segments dropped: their socket closed (into TIME_WAIT, or by a reset)
	 * while they waited in its backlog.
	 */
	SNMP_MIB_ITEM("InClosed", XTCP_MIB_INCLOSED),
	/*
	 * Segments outside the receive window (answered with a duplicate ACK
	 * unless a RST, at most one per invalid_ratelimit).
	 */
	SNMP_MIB_ITEM("OutOfWindow", XTCP_MIB_OUTOFWINDOW),
	/* In-window segments dropped because they arrived out of order. */
	SNMP_MIB_ITEM("OfoDrop", XTCP_MIB_OFODROP),
	/*
	 * Segments dropped because the receive buffer was full, or the memory
	 * of all xtcp sockets together was at mem_max.
	 */
	SNMP_MIB_ITEM("RcvbufDrop", XTCP_MIB_RCVBUFDROP),
	/*
	 * Segments whose ACK acknowledged unsent data, or data far older than
	 * the window.
	 */
	SNMP_MIB_ITEM("BadAck", XTCP_MIB_BADACK),
	/*
	 * Challenge ACKs sent (RFC 5961): for an in-window RST that is not
	 * exact, a SYN on a synchronized connection, or an ACK of data far
	 * older than the window.
	 */
	SNMP_MIB_ITEM("ChallengeAck", XTCP_MIB_CHALLENGEACK),
	/* RSTs ignored in TIME_WAIT because rfc1337 is set. */
	SNMP_MIB_ITEM("RstIgnored", XTCP_MIB_RSTIGNORED),
	/* connect() calls that sent a SYN. */
	SNMP_MIB_ITEM("ActiveOpens", XTCP_MIB_ACTIVEOPENS),
	/* Half-open connections a listener created. */
	SNMP_MIB_ITEM("PassiveOpens", XTCP_MIB_PASSIVEOPENS),
	/* Active opens that failed: refused (RST) or timed out. */
	SNMP_MIB_ITEM("AttemptFails", XTCP_MIB_ATTEMPTFAILS),
	/* Connections reset by the peer in ESTABLISHED or CLOSE_WAIT. */
	SNMP_MIB_ITEM("EstabResets", XTCP_MIB_ESTABRESETS),
	/* SYN and SYN-ACK retransmissions. */
	SNMP_MIB_ITEM("SynRetrans", XTCP_MIB_SYNRETRANS),
	/* SYNs dropped because the SYN queue was full and no cookie was sent. */
	SNMP_MIB_ITEM("SynQueueDrop", XTCP_MIB_SYNQUEUEDROP),
	/*
	 * SYNs, cookie ACKs and handshake ACKs dropped because the accept
	 * queue was full (a dropped handshake ACK is asked for again by the
	 * SYN-ACK's retransmission). Linux TCP's ListenOverflows.
	 */
	SNMP_MIB_ITEM("AcceptQueueDrop", XTCP_MIB_ACCEPTQUEUEDROP),
	/*
	 * Bare handshake ACKs dropped while a listener's TCP_DEFER_ACCEPT
	 * waits for data. Linux TCP's TCPDeferAcceptDrop.
	 */
	SNMP_MIB_ITEM("DeferAcceptDrop", XTCP_MIB_DEFERACCEPTDROP),
	/* SYN-ACKs sent with a SYN cookie. */
	SNMP_MIB_ITEM("SyncookiesSent", XTCP_MIB_SYNCOOKIESSENT),
	/* Valid SYN cookies received. */
	SNMP_MIB_ITEM("SyncookiesRecv", XTCP_MIB_SYNCOOKIESRECV),
	/*
	 * ACKs to a listener whose cookie did not check out. ACKs to a listener
	 * that sent no cookie in the last two minutes are not tried as cookies
	 * (they get a RST and count as nothing here).
	 */
	SNMP_MIB_ITEM("SyncookiesFailed", XTCP_MIB_SYNCOOKIESFAILED),
	/* Retransmission time-outs. */
	SNMP_MIB_ITEM("Timeouts", XTCP_MIB_TIMEOUTS),
	/* Retransmissions after three duplicate ACKs. */
	SNMP_MIB_ITEM("FastRetrans", XTCP_MIB_FASTRETRANS),
	/*
	 * Connections reset because data arrived after the application closed or
	 * shut down reading.
	 */
	SNMP_MIB_ITEM("AbortOnData", XTCP_MIB_ABORTONDATA),
	/*
	 * Connections reset by close() with unread data, or by a listener
	 * closing with children.
	 */
	SNMP_MIB_ITEM("AbortOnClose", XTCP_MIB_ABORTONCLOSE),
	/* Connections reset by close() with SO_LINGER {1, 0}. */
	SNMP_MIB_ITEM("AbortOnLinger", XTCP_MIB_ABORTONLINGER),
	/* Connections dropped by a time-out: retransmissions, keepalive. */
	SNMP_MIB_ITEM("AbortOnTimeout", XTCP_MIB_ABORTONTIMEOUT),
	/*
	 * Orphaned connections that waited fin_timeout in FIN_WAIT_2 for
	 * the peer's FIN and were dropped, silently as in Linux TCP.
	 */
	SNMP_MIB_ITEM("FinWait2Timeout", XTCP_MIB_FINWAIT2TIMEOUT),
	/* Connections that entered TIME_WAIT. */
	SNMP_MIB_ITEM("TwEntered", XTCP_MIB_TWENTERED),
	/* TIME_WAIT entries that lived out 2 * MSL. */
	SNMP_MIB_ITEM("TwExpired", XTCP_MIB_TWEXPIRED),
	/* TIME_WAIT entries ended by a RST. */
	SNMP_MIB_ITEM("TwKilled", XTCP_MIB_TWKILLED),
	/* TIME_WAIT entries replaced by an acceptable new SYN (RFC 6191). */
	SNMP_MIB_ITEM("TwRecycled", XTCP_MIB_TWRECYCLED),
	/*
	 * TIME_WAIT entries taken over by connect(): under tw_reuse, or from
	 * a port the application bound.
	 */
	SNMP_MIB_ITEM("TwReused", XTCP_MIB_TWREUSED),
	/* Connections that skipped TIME_WAIT because max_tw_buckets was reached. */
	SNMP_MIB_ITEM("TwOverflow", XTCP_MIB_TWOVERFLOW),
	/* Connections that skipped TIME_WAIT for lack of memory. */
	SNMP_MIB_ITEM("TwNoMem", XTCP_MIB_TWNOMEM),
	/*
	 * Segments dropped by PAWS (RFC 7323 5): an older timestamp than the
	 * last one seen; answered with a duplicate ACK, at most one per
	 * invalid_ratelimit.
	 */
	SNMP_MIB_ITEM("PawsDrop", XTCP_MIB_PAWSDROP),
	/* Segments kept in the out-of-order queue. */
	SNMP_MIB_ITEM("OfoQueue", XTCP_MIB_OFOQUEUE),
	/*
	 * Out-of-order segments moved to the receive queue once the hole before
	 * them filled.
	 */
	SNMP_MIB_ITEM("OfoMerge", XTCP_MIB_OFOMERGE),
	/*
	 * Out-of-order segments dropped to make room for in-order data when the
	 * receive buffer was full (the peer's SACK of them is reneged).
	 */
	SNMP_MIB_ITEM("OfoPrune", XTCP_MIB_OFOPRUNE),
	/* ACKs sent with a D-SACK block (RFC 2883) reporting a duplicate. */
	SNMP_MIB_ITEM("DSackSent", XTCP_MIB_DSACKSENT),
	/* D-SACK blocks received: the peer got a segment twice. */
	SNMP_MIB_ITEM("DSackRecv", XTCP_MIB_DSACKRECV),
	/* Loss recoveries driven by SACK (RFC 6675). */
	SNMP_MIB_ITEM("SackRecovery", XTCP_MIB_SACKRECOVERY),
	/* Loss recoveries without SACK (NewReno, RFC 6582). */
	SNMP_MIB_ITEM("RenoRecovery", XTCP_MIB_RENORECOVERY),
	/* ACKs sent by the delayed-ACK timer. */
	SNMP_MIB_ITEM("DelayedAcks", XTCP_MIB_DELAYEDACKS),
	/* ICMP fragmentation-needed messages that lowered a path MTU. */
	SNMP_MIB_ITEM("IcmpFragNeeded", XTCP_MIB_ICMPFRAGNEEDED),
	/* ICMP errors that matched a connection and a sequence number in flight. */
	SNMP_MIB_ITEM("IcmpErrors", XTCP_MIB_ICMPERRORS),
	/* Tail loss probes sent (RFC 8985 7). */
	SNMP_MIB_ITEM("LossProbes", XTCP_MIB_LOSSPROBES),
	/* Losses repaired by a retransmitted tail loss probe. */
	SNMP_MIB_ITEM("LossProbeRecovery", XTCP_MIB_LOSSPROBERECOVERY),
	/* RACK reordering windows that ran out (RFC 8985 6.3). */
	SNMP_MIB_ITEM("RackReoTimeouts", XTCP_MIB_RACKREOTIMEOUTS),
	/* SYNs on a synchronized connection, answered with a challenge ACK. */
	SNMP_MIB_ITEM("SynChallenge", XTCP_MIB_SYNCHALLENGE),
	/*
	 * Answers not sent because of invalid_ratelimit: to a duplicate SYN or
	 * an out-of-window segment of a half-open connection (SynRecv), to a
	 * PAWS-rejected segment (Paws), to an out-of-window segment (Seq), to
	 * a segment a TIME_WAIT entry cannot accept (TimeWait), and challenge
	 * ACKs (Challenge). Linux TCP's TCPACKSkipped* counters.
	 */
	SNMP_MIB_ITEM("AckSkippedSynRecv", XTCP_MIB_ACKSKIPPEDSYNRECV),
	SNMP_MIB_ITEM("AckSkippedPaws", XTCP_MIB_ACKSKIPPEDPAWS),
	SNMP_MIB_ITEM("AckSkippedSeq", XTCP_MIB_ACKSKIPPEDSEQ),
	SNMP_MIB_ITEM("AckSkippedTimeWait", XTCP_MIB_ACKSKIPPEDTIMEWAIT),
	SNMP_MIB_ITEM("AckSkippedChallenge", XTCP_MIB_ACKSKIPPEDCHALLENGE),
	/*
	 * The same for an orphan in FIN_WAIT2 answering a segment outside its
	 * window (TCPACKSkippedFinWait2).
	 */
	SNMP_MIB_ITEM("AckSkippedFinWait2", XTCP_MIB_ACKSKIPPEDFINWAIT2),
	/*
	 * Segments with data that came marked CE (RFC 3168) on a connection
	 * with ECN: the congestion the network saw, echoed with ECE.
	 */
	SNMP_MIB_ITEM("EcnCeRecv", XTCP_MIB_ECNCERECV),
	/* cwnd reductions for an ECN echo (the CWR state). */
	SNMP_MIB_ITEM("EcnCwr", XTCP_MIB_ECNCWR),
	/* Slow starts ended by HyStart's ACK train (CUBIC). */
	SNMP_MIB_ITEM("HystartTrainDetect", XTCP_MIB_HYSTARTTRAINDETECT),
	/* The sum of cwnd (segments) where the ACK train ended them. */
	SNMP_MIB_ITEM("HystartTrainCwnd", XTCP_MIB_HYSTARTTRAINCWND),
	/* Slow starts ended by HyStart's delay increase (CUBIC). */
	SNMP_MIB_ITEM("HystartDelayDetect", XTCP_MIB_HYSTARTDELAYDETECT),
	/* The sum of cwnd (segments) where the delay increase ended them. */
	SNMP_MIB_ITEM("HystartDelayCwnd", XTCP_MIB_HYSTARTDELAYCWND),
	/*
	 * Segments with data dropped because our receive window was zero
	 * (answered with an ACK that shows the window).
	 */
	SNMP_MIB_ITEM("ZeroWindowDrop", XTCP_MIB_ZEROWINDOWDROP),
	/* Segments dropped: their IP TTL was below the socket's IP_MINTTL. */
	SNMP_MIB_ITEM("MinTTLDrop", XTCP_MIB_MINTTLDROP),
	/* Segments dropped by the IPsec inbound policy (xfrm). */
	SNMP_MIB_ITEM("XfrmPolicyDrop", XTCP_MIB_XFRMPOLICYDROP),
	/*
	 * Segments dropped by the socket's filters: SO_ATTACH_FILTER, a
	 * cgroup-BPF ingress program, or the LSM.
	 */
	SNMP_MIB_ITEM("FilterDrop", XTCP_MIB_FILTERDROP),
	/*
	 * Splits of a sent skb refused because the write queue took more than
	 * twice the send buffer (plus two 64 KB skbs): a peer that SACKs
	 * alternate small ranges cannot make it grow without bound
	 * (CVE-2019-11478). Linux TCP's TCPWqueueTooBig.
	 */
	SNMP_MIB_ITEM("WqueueTooBig", XTCP_MIB_WQUEUETOOBIG),
	/*
	 * Orphaned connections reset at close() or at a time-out because
	 * there were more than max_orphans orphans, or the protocol was over
	 * mem_max (Linux TCP's TCPAbortOnMemory).
	 */
	SNMP_MIB_ITEM("AbortOnMemory", XTCP_MIB_ABORTONMEMORY),
	/*
	 * Times the memory of all xtcp sockets together went over
	 * mem_pressure (Linux TCP's TCPMemoryPressures).
	 */
	SNMP_MIB_ITEM("MemoryPressures", XTCP_MIB_MEMORYPRESSURES),
	SNMP_MIB_SENTINEL
};

int xtcp_mib_net_init(struct xtcp_net *xn)
{
	xn->mib = alloc_percpu(struct xtcp_mib);
	return xn->mib ? 0 : -ENOMEM;
}

void xtcp_mib_net_exit(struct xtcp_net *xn)
{
	free_percpu(xn->mib);
	xn->mib = NULL;
}

static int xtcp_mib_seq_show(struct seq_file *seq, void *v)
{
	struct net *net = seq->private;
	struct xtcp_net *xn = xtcp_pernet(net);
	int i;

	for (i = 0; xtcp_mib_list[i].name; i++)
		seq_printf(seq, "%-24s %lu\n", xtcp_mib_list[i].name,
			   snmp_fold_field(xn->mib, xtcp_mib_list[i].entry));
	return 0;
}

int xtcp_mib_proc_init(struct net *net)
{
	if (!proc_create_net_single("xtcp_stat", 0444, net->proc_net,
				    xtcp_mib_seq_show, NULL))
		return -ENOMEM;
	return 0;
}

void xtcp_mib_proc_exit(struct net *net)
{
	remove_proc_entry("xtcp_stat", net->proc_net);
}

/* The name of counter @field in /proc/net/xtcp_stat. */
const char *xtcp_mib_name(int field)
{
	int i;

	for (i = 0; xtcp_mib_list[i].name; i++)
		if (xtcp_mib_list[i].entry == field)
			return xtcp_mib_list[i].name;
	return "?";
}

void xtcp_drop_event(const struct sock *sk, const struct sk_buff *skb,
		     int field)
{
	trace_xtcp_drop(sk, skb, field);
}
