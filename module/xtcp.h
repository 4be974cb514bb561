/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp: internal interfaces shared by the files of the module.
 *
 * One concern per file; each file exports a flat xtcp_ API declared here.
 *
 * Locking, in one place:
 *  - A socket's protocol state is changed under its lock: the owner
 *    (lock_sock) in process context, or bh_lock_sock in softirq when no
 *    user owns it. Segments that find the socket owned go to its backlog
 *    and are processed by release_sock(); timers that find it owned set a
 *    bit in ->deferred and the work runs from ->release_cb.
 *  - Tables (bind, established, TIME_WAIT) have their own locks and are
 *    read under RCU from softirq. Sockets are SOCK_RCU_FREE; TIME_WAIT
 *    entries are freed with call_rcu().
 *  - A listener's SYN and accept queues are under ->lq.lock (BH), taken
 *    without or inside a child's socket lock, never around one.
 *
 * Lock order: a listener's socket lock before its child's
 * (bh_lock_sock_nested()); inside a socket lock, ->lq.lock, bind_lock and
 * a CPU's TIME_WAIT bucket lock. Of these three only bind_lock is ever
 * held while another is taken: a CPU's bucket lock, when tw_reuse kills a
 * TIME_WAIT entry (timewait.c). RTNL (leaving multicast groups, on
 * release) is taken with no other lock held. The rules are asserted where
 * they are relied on (lockdep_assert_held(), lockdep_sock_is_held(),
 * rcu_read_lock_held()), so the debug kernel checks them on every run.
 */
#ifndef _XTCP_H
#define _XTCP_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/list_nulls.h>
#include <linux/rbtree.h>
#include <linux/timer.h>
#include <linux/tracepoint-defs.h>
#include <linux/spinlock.h>
#include <linux/rhashtable-types.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/netns/generic.h>
#include <net/snmp.h>
#include <net/tcp_states.h>

#include "uapi/xtcp.h"

struct seq_file;
struct xtcp_tw;

/* Module parameters, fixed once the module is loaded (main.c). */
extern int xtcp_family;
extern int xtcp_ipproto;

/* Run-time knobs (knobs.h, ctrl.c). */
enum xtcp_knob {
#define XTCP_KNOB(n, d, lo, hi) XTCP_KNOB_##n,
#include "knobs.h"
#undef XTCP_KNOB
	XTCP_KNOB_MAX
};

/* Counters (mib.c); names and meanings are documented there. */
enum xtcp_mib_field {
	XTCP_MIB_INSEGS,
	XTCP_MIB_OUTSEGS,
	XTCP_MIB_RETRANSSEGS,
	XTCP_MIB_OUTRSTS,
	XTCP_MIB_INNOSOCKET,
	XTCP_MIB_INHDRERRORS,
	XTCP_MIB_INCSUMERRORS,
	XTCP_MIB_INNOTHOST,
	XTCP_MIB_BACKLOGDROP,
	XTCP_MIB_INCLOSED,
	XTCP_MIB_OUTOFWINDOW,
	XTCP_MIB_OFODROP,
	XTCP_MIB_RCVBUFDROP,
	XTCP_MIB_BADACK,
	XTCP_MIB_CHALLENGEACK,
	XTCP_MIB_RSTIGNORED,
	XTCP_MIB_ACTIVEOPENS,
	XTCP_MIB_PASSIVEOPENS,
	XTCP_MIB_ATTEMPTFAILS,
	XTCP_MIB_ESTABRESETS,
	XTCP_MIB_SYNRETRANS,
	XTCP_MIB_SYNQUEUEDROP,
	XTCP_MIB_ACCEPTQUEUEDROP,
	XTCP_MIB_DEFERACCEPTDROP,
	XTCP_MIB_SYNCOOKIESSENT,
	XTCP_MIB_SYNCOOKIESRECV,
	XTCP_MIB_SYNCOOKIESFAILED,
	XTCP_MIB_TIMEOUTS,
	XTCP_MIB_FASTRETRANS,
	XTCP_MIB_ABORTONDATA,
	XTCP_MIB_ABORTONCLOSE,
	XTCP_MIB_ABORTONLINGER,
	XTCP_MIB_ABORTONTIMEOUT,
	XTCP_MIB_FINWAIT2TIMEOUT,
	XTCP_MIB_TWENTERED,
	XTCP_MIB_TWEXPIRED,
	XTCP_MIB_TWKILLED,
	XTCP_MIB_TWRECYCLED,
	XTCP_MIB_TWREUSED,
	XTCP_MIB_TWOVERFLOW,
	XTCP_MIB_TWNOMEM,
	XTCP_MIB_PAWSDROP,
	XTCP_MIB_OFOQUEUE,
	XTCP_MIB_OFOMERGE,
	XTCP_MIB_OFOPRUNE,
	XTCP_MIB_DSACKSENT,
	XTCP_MIB_DSACKRECV,
	XTCP_MIB_SACKRECOVERY,
	XTCP_MIB_RENORECOVERY,
	XTCP_MIB_DELAYEDACKS,
	XTCP_MIB_ICMPFRAGNEEDED,
	XTCP_MIB_ICMPERRORS,
	XTCP_MIB_LOSSPROBES,
	XTCP_MIB_LOSSPROBERECOVERY,
	XTCP_MIB_RACKREOTIMEOUTS,
	XTCP_MIB_SYNCHALLENGE,
	XTCP_MIB_ACKSKIPPEDSYNRECV,
	XTCP_MIB_ACKSKIPPEDPAWS,
	XTCP_MIB_ACKSKIPPEDSEQ,
	XTCP_MIB_ACKSKIPPEDTIMEWAIT,
	XTCP_MIB_ACKSKIPPEDFINWAIT2,
	XTCP_MIB_ECNCERECV,
	XTCP_MIB_ECNCWR,
	XTCP_MIB_HYSTARTTRAINDETECT,
	XTCP_MIB_HYSTARTTRAINCWND,
	XTCP_MIB_HYSTARTDELAYDETECT,
	XTCP_MIB_HYSTARTDELAYCWND,
	XTCP_MIB_ACKSKIPPEDCHALLENGE,
	XTCP_MIB_ZEROWINDOWDROP,
	XTCP_MIB_MINTTLDROP,
	XTCP_MIB_XFRMPOLICYDROP,
	XTCP_MIB_FILTERDROP,
	XTCP_MIB_WQUEUETOOBIG,
	XTCP_MIB_ABORTONMEMORY,
	XTCP_MIB_MEMORYPRESSURES,
	XTCP_MIB_MAX
};

struct xtcp_mib {
	unsigned long mibs[XTCP_MIB_MAX];
};

/*
 * The connection identifier as seen from the local side, the key of the
 * established and TIME_WAIT tables. Network byte order throughout.
 */
struct xtcp_tuple {
	__be32 laddr;
	__be32 raddr;
	__be16 lport;
	__be16 rport;
};

#define XTCP_BHASH_BITS	9
#define XTCP_BHASH_SIZE	BIT(XTCP_BHASH_BITS)
#define XTCP_LHASH_BITS	8
#define XTCP_LHASH_SIZE	BIT(XTCP_LHASH_BITS)

/*
 * One local port in use in a namespace (Linux's inet_bind_bucket): the
 * sockets and TIME_WAIT entries that hold it. It exists while it has any;
 * under xtcp_net.bind_lock, read under RCU (/proc/net/xtcp), freed after
 * a grace period.
 */
struct xtcp_bind_bucket {
	struct hlist_node node;		/* in xtcp_net.bhash */
	struct hlist_head owners;	/* xtcp_sock.bind_node */
	struct hlist_head tw;		/* TIME_WAIT entries (timewait.c) */
	unsigned short port;
	/*
	 * Every owner so far had SO_REUSEADDR and none listened: another
	 * SO_REUSEADDR socket may bind without a walk (tb->fastreuse).
	 */
	bool fastreuse;
	u32 exclusive;			/* owners not placed by connect() */
	struct rcu_head rcu;
};

struct xtcp_transitions;

/* Per network namespace state (netns.c). */
struct xtcp_net {
	struct net *net;
	int *knobs;
	struct ctl_table_header *sysctl_header;

	/*
	 * Bind table: a bucket per local port in use, hashed by port; and
	 * the listeners, hashed by (port, local address) as Linux's lhash2,
	 * so that a segment's listener is found without walking the
	 * connections on its port. The listener chains end in nulls
	 * markers (their index): a lockless reader that was led into
	 * another chain by a listener moving sees it and starts over.
	 */
	spinlock_t bind_lock;
	struct hlist_head bhash[XTCP_BHASH_SIZE];
	struct hlist_nulls_head lhash[XTCP_LHASH_SIZE];

	/* Connected sockets (SYN_SENT onwards) and TIME_WAIT entries. */
	struct rhashtable ehash;
	struct rhashtable twhash;
	atomic_t tw_count;
	struct xtcp_tw_cpu __percpu *tw_cpus;	/* time buckets, per CPU */

	/*
	 * Challenge ACK budget of this second (RFC 5961 section 7), when
	 * challenge_ack_limit sets one: see xtcp_send_challenge_ack().
	 */
	unsigned long challenge_stamp;
	u32 challenge_count;

	DEFINE_SNMP_STAT(struct xtcp_mib, mib);
	/* State changes, from -> to (transitions.c). */
	struct xtcp_transitions __percpu *transitions;
};

struct xtcp_net *xtcp_pernet(const struct net *net);

static inline int xtcp_knob(const struct net *net, enum xtcp_knob k)
{
	return READ_ONCE(xtcp_pernet(net)->knobs[k]);
}

#define XTCP_INC_STATS(net, field) \
	SNMP_INC_STATS(xtcp_pernet(net)->mib, field)
#define XTCP_ADD_STATS(net, field, val) \
	SNMP_ADD_STATS(xtcp_pernet(net)->mib, field, val)

/*
 * A segment dropped for reason @field: counted, and traced as xtcp:xtcp_drop
 * (mib.c). @sk may be NULL.
 */
const char *xtcp_mib_name(int field);
void xtcp_drop_event(const struct sock *sk, const struct sk_buff *skb,
		     int field);
DECLARE_TRACEPOINT(xtcp_drop);
static inline void xtcp_drop_stats(struct net *net, const struct sock *sk,
				   const struct sk_buff *skb, int field)
{
	XTCP_INC_STATS(net, field);
	/* Only a static branch while the event is off. */
	if (tracepoint_enabled(xtcp_drop))
		xtcp_drop_event(sk, skb, field);
}

/* A SACK block (RFC 2018), host byte order: [start, end). */
struct xtcp_sack_block {
	u32 start;
	u32 end;
};

#define XTCP_MAX_SACKS	4

/* Negotiated options and what the peer sent in its last segment. */
struct xtcp_options {
	u16 mss;		/* peer's MSS option, 0 if absent */
	u8 wscale_ok:1,
	   sack_ok:1,
	   tstamp_ok:1,
	   saw_tstamp:1;	/* the segment being parsed carried one */
	u8 snd_wscale;		/* peer's shift */
	u8 rcv_wscale;		/* our shift */
	u32 rcv_tsval;		/* timestamp value of the segment parsed */
	u32 rcv_tsecr;		/* echo of the segment parsed */
	u8 num_sacks;		/* SACK blocks in the segment parsed */
	struct xtcp_sack_block sacks[XTCP_MAX_SACKS];
};

struct xtcp_cong_ops;

/* Congestion state, as Linux's TCP_CA_* (TCP_INFO's tcpi_ca_state). */
enum xtcp_ca_state {
	XTCP_CA_OPEN = 0,
	XTCP_CA_CWR = 2,	/* reducing cwnd for an ECN echo */
	XTCP_CA_RECOVERY = 3,
	XTCP_CA_LOSS = 4,
};

/* ECN state (RFC 3168), as Linux's TCP_ECN_* (xtcp_sock.ecn_flags). */
#define XTCP_ECN_OK		1	/* both ends agreed on ECN */
#define XTCP_ECN_QUEUE_CWR	2	/* CWR on the next new data */
#define XTCP_ECN_DEMAND_CWR	4	/* ECE on every ACK until CWR */
#define XTCP_ECN_SEEN		8	/* an ECT segment came */

#define XTCP_SYN_ECN	(TCPHDR_SYN | TCPHDR_ECE | TCPHDR_CWR)

/* Nagle modes, as Linux's TCP_NAGLE_* (xtcp_sock.nonagle). */
#define XTCP_NAGLE_OFF		1	/* TCP_NODELAY */
#define XTCP_NAGLE_CORK		2	/* TCP_CORK */
#define XTCP_NAGLE_PUSH		4	/* send what is queued now */

/* Listener state: half-open children and children ready for accept(). */
struct xtcp_listen_queue {
	spinlock_t lock;		/* both lists, syn_len, closed */
	struct list_head syn;		/* children in SYN_RCVD */
	struct list_head accept;	/* established, waiting for accept() */
	u32 syn_len;
	bool closed;			/* listener is going away */
	/*
	 * jiffies of the last SYN answered with a cookie, 0: never. Cookie
	 * ACKs are only tried for two minutes after (listen.c).
	 */
	u32 last_overflow;
};

/*
 * What rtx_timer is armed for (xtcp_sock.pending, timers.c), as Linux's
 * icsk_pending: 0 while it is not armed.
 */
enum xtcp_pending {
	XTCP_TIME_RETRANS = 1,	/* retransmission time-out (RFC 6298) */
	XTCP_TIME_PROBE0,	/* zero window probe, nothing in flight */
	XTCP_TIME_REO_TIMEOUT,	/* RACK reordering window over (rack.c) */
	XTCP_TIME_LOSS_PROBE,	/* tail loss probe (rack.c) */
};

/* Timer work deferred to ->release_cb while a user owns the socket. */
enum {
	XTCP_RTX_DEFERRED,
	XTCP_KEEPALIVE_DEFERRED,
	XTCP_DELACK_DEFERRED,
	XTCP_MTU_DEFERRED,
};

/*
 * The xtcp socket. struct inet_sock comes first so that inet_sk(), the
 * IPv4 output path and the generic inet helpers work on it. Sequence
 * variables carry RFC 9293's names.
 */
struct xtcp_sock {
	struct inet_sock inet;

	/*
	 * Link in the per-namespace bind table while the socket owns a
	 * local port; under xtcp_net.bind_lock, read under RCU.
	 */
	struct hlist_node bind_node;
	struct xtcp_bind_bucket *bind_bucket;	/* the port's, or NULL */
	/* Listener table link, while listening: under bind_lock, RCU. */
	struct hlist_nulls_node lhash_node;
	/* Established table link and key, while connected or connecting. */
	struct rhash_head ehash_node;
	struct xtcp_tuple tuple;
	bool ehashed;
	bool port_shared;	/* port chosen by connect(), shareable */

	/* Send sequence space. */
	u32 iss;
	u32 snd_una;
	u32 snd_nxt;
	u32 snd_wnd;
	u32 snd_wl1;
	u32 snd_wl2;
	u32 write_seq;		/* end of the data queued by the user */
	u32 pushed_seq;		/* write_seq when PSH was last marked */
	u32 max_window;		/* largest window the peer offered */
	/*
	 * Sent and not yet acknowledged skbs, by sequence (output.c); the
	 * unsent ones wait in sk->sk_write_queue.
	 */
	struct rb_root rtx_queue;
	bool fin_queued;	/* a FIN sits at write_seq - 1 */

	/* Receive sequence space. */
	u32 irs;
	u32 rcv_nxt;
	u32 rcv_wnd;		/* window last advertised */
	u32 rcv_wup;		/* rcv_nxt when it was advertised */
	/*
	 * The window offered grows from the SYN's towards window_clamp by
	 * what arriving segments show of their memory cost, as Linux's
	 * rcv_ssthresh (tcp_grow_window()): a peer is not offered buffer
	 * that its segments' overhead would overrun.
	 */
	u32 rcv_ssthresh;
	u32 copied_seq;		/* next byte the user reads */

	u16 mss_cache;		/* payload per segment we send */
	u32 pmtu_cookie;	/* the path MTU mss_cache was made for */
	u16 advmss;		/* MSS option we advertise */
	struct xtcp_options rx_opt;
	u32 ts_offset;		/* RFC 7323 per-connection offset */
	u32 ts_recent;		/* last TSval from the peer */
	u32 ts_recent_stamp;	/* seconds, when ts_recent was taken */

	/*
	 * Round-trip time (RFC 6298 as Linux's tcp_rtt_estimator(), rtt.c),
	 * in microseconds; the RTO in jiffies.
	 */
	u32 srtt_us;		/* SRTT << 3, 0: no sample yet */
	u32 mdev_us;		/* mean deviation << 2 */
	u32 mdev_max_us;	/* largest mdev_us in this round trip */
	u32 rttvar_us;		/* what the RTO adds to SRTT, >= rto_min */
	u32 rtt_seq;		/* snd_nxt when this round trip began */
	u64 sack_first_sent;	/* of one ACK: earliest newly SACKed, ns */
	u32 rto;
	u8 retransmits;		/* consecutive time-outs of the head */
	u8 dupacks;		/* duplicate ACKs in a row */
	u32 high_seq;		/* snd_nxt when loss was detected */
	u32 mtu_info;		/* ICMP's next-hop MTU, for XTCP_MTU_DEFERRED */

	/*
	 * Congestion control (cong.c), in segments. packets_out counts the
	 * skbs sent and not yet cumulatively acknowledged; of those,
	 * sacked_out were SACKed, lost_out are deemed lost and retrans_out
	 * were retransmitted since (the RFC 6675 pipe follows from these).
	 */
	const struct xtcp_cong_ops *cc;
	u32 snd_cwnd;
	u32 snd_ssthresh;
	u32 snd_cwnd_cnt;	/* ACKed segments towards the next increase */
	u32 packets_out;
	u32 sacked_out;
	u32 lost_out;
	u32 retrans_out;
	/*
	 * While rtx_hint_ok, no skb below rtx_hint is lost and waiting to
	 * go again: the retransmission walk starts there (sack.c).
	 */
	u32 rtx_hint;
	bool rtx_hint_ok;
	u8 ca_state;		/* enum xtcp_ca_state */
	/*
	 * Proportional rate reduction in fast recovery (RFC 6937, cong.c):
	 * cwnd when it began, segments delivered and sent since.
	 */
	u32 prior_cwnd;
	u32 prr_delivered;
	u32 prr_out;
	u32 lost;		/* segments ever marked lost */
	/*
	 * How much of cwnd is used (RFC 7661, Linux's tcp_cwnd_validate()):
	 * whether it was all used in the window that began when snd_nxt
	 * was cwnd_usage_seq, else the most packets out in it.
	 */
	bool is_cwnd_limited;
	u32 max_packets_out;
	u32 cwnd_usage_seq;
	u8 ecn_flags;		/* XTCP_ECN_* (RFC 3168, input.c, output.c) */
	/*
	 * RFC 2861 (slow_start_after_idle): the most packets out while cwnd
	 * was not all used, and since when (jiffies) it was not.
	 */
	u32 snd_cwnd_used;
	u32 snd_cwnd_stamp;

	/*
	 * RACK-TLP (rack.c). Write queue skbs keep the time they last left
	 * in skb->tstamp (ns, CLOCK_MONOTONIC; clones leave without it).
	 */
	/*
	 * One send time for all that one push or one retransmission walk
	 * sends, as Linux stamps what a tcp_write_xmit() sends with one
	 * clock reading (tcp_mstamp_refresh()); 0 outside them.
	 */
	u64 xmit_clock;
	u64 rack_mstamp;	/* sent time of the last skb delivered */
	u32 rack_end_seq;	/* its end */
	u32 rack_rtt_us;	/* its round trip */
	bool rack_advanced;	/* a delivery since the last detection */
	/*
	 * Sent skbs still in the running, in the order they last left: not
	 * SACKed, and not lost and waiting to go again (rack.c).
	 */
	struct list_head tsorted;
	bool rack_reord;	/* the peer saw reordering (D-SACK) */
	bool tlp_retrans;	/* the probe out was a retransmission */
	u32 tlp_high_seq;	/* snd_nxt when it went, 0: no probe out */
	u8 pending;		/* what rtx_timer is armed for (XTCP_TIME_*) */
	u64 cc_priv[8];		/* the algorithm's own state */

	/* Sending: Nagle (XTCP_NAGLE_*), MSS set by TCP_MAXSEG. */
	u8 nonagle;
	u16 user_mss;
	u32 snd_sml;		/* end of the last short segment sent */

	/* Receiving: out-of-order queue, SACK blocks to send, ACK timing. */
	struct rb_root ooo_queue;
	u32 ooo_last_seq;	/* start of the last out-of-order segment */
	struct xtcp_sack_block dsack;	/* D-SACK to report, if dsack_pending */
	bool dsack_pending;
	u8 quickack;		/* ACKs still to send at once (start-up) */
	/*
	 * Interactive ("pingpong") mode, Linux's icsk_ack.pingpong: our data
	 * answers the peer's within delack_ms, so its ACKs wait to ride on
	 * ours and the quick-ACK count is not used. Entered by such a reply,
	 * the peer's FIN and TCP_QUICKACK 0; left when the delayed-ACK timer
	 * finds the ACK still owed, and by TCP_QUICKACK 1.
	 */
	bool pingpong;
	/*
	 * The peer's segment size as Linux estimates it
	 * (tcp_measure_rcv_mss()): 536 at first, the payload of an in-order
	 * segment at least that large (up to advmss), or a smaller size seen
	 * twice running without PSH (last_seg_size). ack_pushed says that a
	 * segment ended a write of the peer's (PSH, or shorter than
	 * rcv_mss): the reader who takes all there is ACKs at once
	 * (ICSK_ACK_PUSHED, PUSHED2 for two running).
	 */
	u16 rcv_mss;
	u16 last_seg_size;
	u8 ack_pushed;
	struct timer_list delack_timer;
	u32 rcvq_seq;		/* copied_seq at the start of the RTT measured */
	unsigned long rcvq_time;	/* jiffies, 0: not started */

	/* Per-socket settings (0: the namespace's knob). */
	int keepalive_time;	/* seconds */
	int keepalive_intvl;	/* seconds */
	int keepalive_probes;
	int syn_retries;
	u32 user_timeout;	/* TCP_USER_TIMEOUT, ms */
	u32 notsent_lowat;	/* TCP_NOTSENT_LOWAT, 0: the knob's */
	bool recvmsg_inq;	/* TCP_INQ: a TCP_CM_INQ cmsg on each read */
	u8 save_syn;		/* TCP_SAVE_SYN of a listener: 0, 1 or 2 */
	struct saved_syn *saved_syn;	/* a child's SYN, for TCP_SAVED_SYN */
	int linger2;		/* TCP_LINGER2, jiffies; -1: no FIN_WAIT_2 */
	/*
	 * The largest window offered, Linux's window_clamp: TCP_WINDOW_CLAMP
	 * or 0 until the SYN; then what the receive buffer leaves for the
	 * window less a segment (tcp_init_buffer_space()), following the
	 * buffer as auto-tuning grows it.
	 */
	u32 window_clamp;
	bool thin_lto;		/* TCP_THIN_LINEAR_TIMEOUTS */
	/*
	 * TCP_DEFER_ACCEPT, in SYN-ACK time-outs (a listener's, copied to
	 * its children): a bare handshake ACK is dropped until that many
	 * went by; defer_acked says one came (inet_rsk(req)->acked).
	 */
	u8 defer_accept;
	bool defer_acked;

	/* Statistics for TCP_INFO. */
	u64 bytes_acked;
	u64 bytes_received;
	u64 bytes_sent;
	u64 bytes_retrans;
	u32 total_retrans;
	u32 segs_in;
	u32 segs_out;
	u32 data_segs_in;
	u32 data_segs_out;
	u32 dsack_dups;
	/*
	 * The SACK blocks of the last ACK that had any, in sequence order:
	 * what they cover is tagged already (sack.c, recv_sack_cache).
	 */
	struct xtcp_sack_block sack_cache[XTCP_MAX_SACKS];
	u8 sack_cache_n;
	u32 rtt_min;		/* us */
	unsigned long last_data_sent;	/* jiffies */
	unsigned long last_data_recv;
	u8 probes_out;		/* unanswered zero window probes */
	u8 backoff;		/* zero window probes sent: their back-off */
	unsigned long probes_tstamp;	/* jiffies of the first, 0: none */
	u8 ka_probes_out;	/* unanswered keepalive probes */
	bool orphan;		/* counted in xtcp_orphan_count (mem.c) */
	unsigned long retrans_stamp;	/* first retransmission, jiffies */
	unsigned long rcv_tstamp;	/* last segment from the peer */
	u32 last_oow_ack_time;	/* jiffies of the last answer to an
				 * unacceptable segment (output.c)
				 */
	struct timer_list rtx_timer;
	unsigned long deferred;

	/* Passive open: our listener and our place in its queues. */
	struct sock *parent;
	struct list_head q_node;
	bool in_accept_q;
	struct xtcp_listen_queue lq;
};

static inline struct xtcp_sock *xtcp_sk(const struct sock *sk)
{
	return (struct xtcp_sock *)sk;
}

/*
 * Per-segment state in skb->cb. The IPv4 control block stays first, where
 * the IP layer left it, so nothing has to be moved on receive.
 */
struct xtcp_skb_cb {
	union {
		/* Received: IPv4's. */
		struct inet_skb_parm h4;
		/*
		 * Sent (retransmission queue): the link in RACK's list in
		 * sending order (xs->tsorted, rack.c). The clone that leaves
		 * gets it cleared (xtcp_transmit_skb()).
		 */
		struct list_head tsorted;
	};
	u32 seq;		/* first sequence number */
	u32 end_seq;		/* seq + SYN + FIN + payload */
	u32 ack_seq;		/* received segments */
	u32 when;		/* jiffies of last transmission */
	u32 tw_isn;		/* ISN for a SYN that replaced a TIME_WAIT */
	u8 tcp_flags;		/* TCPHDR_* */
	u8 retransmitted:1,	/* ever retransmitted (Karn) */
	   sacked:1,		/* the peer SACKed it */
	   lost:1,		/* deemed lost, to retransmit */
	   retrans:1;		/* retransmitted since marked lost */
	u16 pcount;		/* segments it went out as (output.c) */
};

#define XTCP_SKB_CB(skb) ((struct xtcp_skb_cb *)&((skb)->cb[0]))

/*
 * The two queues of what consumes sequence space (output.c): the unsent
 * skbs in sk->sk_write_queue, in order, and the sent ones in the rb-tree
 * xs->rtx_queue, by sequence, as Linux TCP's tcp_rtx_queue. An skb moves
 * from the first to the second when it first leaves.
 */
/* The window @space bytes of buffer leave (tcp_win_from_space()). */
static inline int xtcp_win_from_space(int space)
{
	return space - (space >> 1);
}

/* What a receive buffer leaves for the window (tcp_full_space()). */
static inline int xtcp_full_space(const struct sock *sk)
{
	return xtcp_win_from_space(READ_ONCE(sk->sk_rcvbuf));
}

/*
 * The free part of the receive buffer, as a window (tcp_space()):
 * segments waiting in the socket's backlog count as received.
 */
static inline int xtcp_space(const struct sock *sk)
{
	return xtcp_win_from_space(READ_ONCE(sk->sk_rcvbuf) -
				   READ_ONCE(sk->sk_backlog.len) -
				   atomic_read(&sk->sk_rmem_alloc));
}

static inline struct sk_buff *xtcp_send_head(const struct sock *sk)
{
	return skb_peek(&sk->sk_write_queue);
}

static inline struct sk_buff *xtcp_rtx_head(const struct sock *sk)
{
	return skb_rb_first(&((const struct xtcp_sock *)sk)->rtx_queue);
}

static inline struct sk_buff *xtcp_rtx_tail(const struct sock *sk)
{
	return skb_rb_last(&((const struct xtcp_sock *)sk)->rtx_queue);
}

static inline bool xtcp_rtx_empty(const struct sock *sk)
{
	return RB_EMPTY_ROOT(&((const struct xtcp_sock *)sk)->rtx_queue);
}

/* The skb of a link in xs->tsorted. */
static inline struct sk_buff *xtcp_tsorted_skb(struct list_head *node)
{
	return (struct sk_buff *)((char *)node -
				  offsetof(struct xtcp_skb_cb, tsorted) -
				  offsetof(struct sk_buff, cb));
}

/*
 * A sent skb is SACKed, or lost and waiting to go again: out of RACK's
 * list until it leaves again (xtcp_transmit_skb()).
 */
static inline void xtcp_tsorted_drop(struct sk_buff *skb)
{
	list_del_init(&XTCP_SKB_CB(skb)->tsorted);
}

/* @skb is lost and waiting to go again: the retransmission walk sees it. */
static inline void xtcp_rtx_hint_lower(struct xtcp_sock *xs,
				       const struct sk_buff *skb)
{
	if ((s32)(XTCP_SKB_CB(skb)->seq - xs->rtx_hint) < 0)
		xs->rtx_hint = XTCP_SKB_CB(skb)->seq;
}

void xtcp_rtx_insert(struct sock *sk, struct sk_buff *skb);
void xtcp_rtx_unlink(struct sock *sk, struct sk_buff *skb);
struct sk_buff *xtcp_rb_find(const struct rb_root *root, u32 seq);

static inline struct sk_buff *xtcp_rtx_find(struct sock *sk, u32 seq)
{
	return xtcp_rb_find(&xtcp_sk(sk)->rtx_queue, seq);
}

/*
 * Segments a sent skb of the write queue stands for: every count of the
 * scoreboard (packets_out, sacked_out, lost_out, retrans_out) is in these.
 */
static inline u32 xtcp_skb_pcount(const struct sk_buff *skb)
{
	return XTCP_SKB_CB(skb)->pcount;
}

/* RFC 6675 pipe: segments believed to be in the network. */
static inline u32 xtcp_packets_in_flight(const struct xtcp_sock *xs)
{
	return xs->packets_out - xs->sacked_out - xs->lost_out +
	       xs->retrans_out;
}

/* Room for every header below ours, and ours with options. */
#define XTCP_MAX_HEADER	(MAX_TCP_HEADER + 40)

/* MSS when the peer sends no option (RFC 9293 3.7.1). */
#define XTCP_DEFAULT_MSS	536
#define XTCP_ACK_PUSHED		1
#define XTCP_ACK_PUSHED2	2
/* Our window scale shift, enough for a few MiB of receive buffer. */
#define XTCP_RCV_WSCALE		7

/*
 * Change the state of a socket owned by the caller (socket lock or bh
 * lock). Lockless readers (/proc, poll) pair with inet_sk_state_load().
 */
/* transitions.c: every state change goes through xtcp_set_state(). */
void xtcp_set_state(struct sock *sk, int state);
void xtcp_count_transition(struct xtcp_net *xn, int from, int to);
int xtcp_transitions_net_init(struct xtcp_net *xn);
void xtcp_transitions_net_exit(struct xtcp_net *xn);

/* Milliseconds clock for timestamps (RFC 7323), per connection offset. */
u32 xtcp_clock_ms(void);

/* offload.c: GSO for our protocol number. */
int xtcp_offload_init(void);
void xtcp_offload_exit(void);

/* netns.c */
int xtcp_netns_init(void);
void xtcp_netns_exit(void);

/* ctrl.c */
int xtcp_ctrl_net_init(struct xtcp_net *xn);
void xtcp_ctrl_net_exit(struct xtcp_net *xn);
int xtcp_init_knob(enum xtcp_knob k);

/* socket.c */
int xtcp_socket_init(void);
void xtcp_socket_exit(void);

/* cong.c: congestion control (NewReno, CUBIC). */
struct xtcp_cong_ops {
	const char *name;
	void (*init)(struct sock *sk);
	/* cwnd after a loss: the new ssthresh */
	u32 (*ssthresh)(struct sock *sk);
	/* @acked segments were acknowledged in the open state */
	void (*cong_avoid)(struct sock *sk, u32 acked);
	/* Optional. An ACK, with its RTT sample (us) or a negative one. */
	void (*acked)(struct sock *sk, long rtt_us);
	/* Optional. Data leaves with nothing in flight (CA_EVENT_TX_START). */
	void (*tx_start)(struct sock *sk);
	/* Optional. A retransmission time-out (TCP_CA_Loss). */
	void (*on_loss)(struct sock *sk);
};

#define XTCP_INIT_CWND	10	/* RFC 6928 */
#define XTCP_QUICKACKS	16	/* segments ACKed at once at the start */

/*
 * The next @n ACKs go at once, interactive or not: the peer seems to be
 * missing ours (tcp_enter_quickack_mode()).
 */
static inline void xtcp_enter_quickack(struct xtcp_sock *xs, u8 n)
{
	xs->quickack = max(xs->quickack, n);
	xs->pingpong = false;
}

/*
 * Start sending under one clock reading (xmit_clock); returns what to put
 * back when done, so that a walk inside another keeps the outer clock.
 */
static inline u64 xtcp_xmit_clock_start(struct xtcp_sock *xs)
{
	u64 prev = xs->xmit_clock;

	if (!prev)
		xs->xmit_clock = ktime_get_ns();
	return prev;
}

#define XTCP_CONG_NAME_MAX	16

void xtcp_cong_init(struct sock *sk);
const struct xtcp_cong_ops *xtcp_cong_find(const char *name);
void xtcp_cong_on_ack(struct sock *sk, u32 acked);
void xtcp_cwnd_validate(struct sock *sk, bool is_cwnd_limited);
void xtcp_cwnd_restart_check(struct sock *sk);
void xtcp_cong_enter_recovery(struct sock *sk);
void xtcp_cwnd_reduction(struct sock *sk, int delivered, int newly_lost,
			 bool una_advanced);
void xtcp_cong_exit_recovery(struct sock *sk);
void xtcp_cong_on_rto(struct sock *sk);
void xtcp_cong_reduce(struct sock *sk);
void xtcp_cong_enter_cwr(struct sock *sk);
void xtcp_cong_end_reduction(struct sock *sk);

/* rack.c: RACK-TLP (RFC 8985). */
bool xtcp_rack_enabled(const struct sock *sk);
void xtcp_rack_advance(struct sock *sk, const struct sk_buff *skb);
void xtcp_rack_mark_lost(struct sock *sk);
void xtcp_rack_reo_timeout(struct sock *sk);
void xtcp_tlp_schedule(struct sock *sk);
void xtcp_tlp_probe(struct sock *sk);
void xtcp_tlp_ack(struct sock *sk, u32 ack, bool dsack, bool pure_dup);

/* sack.c: the SACK scoreboard and loss recovery (RFC 6675, RFC 6582). */
#define XTCP_DUPTHRESH	3
bool xtcp_sack_process(struct sock *sk, u32 ack);
void xtcp_enter_recovery(struct sock *sk);
void xtcp_mark_lost(struct sock *sk);
void xtcp_mark_all_lost(struct sock *sk);
void xtcp_skb_unaccount(struct xtcp_sock *xs, struct sk_buff *skb);
void xtcp_adjust_pcount(struct xtcp_sock *xs, const struct sk_buff *skb,
			int delta);
void xtcp_xmit_retransmit_queue(struct sock *sk);
void xtcp_simple_retransmit(struct sock *sk);

/* ofo.c: out-of-order queue and the SACK blocks we send. */
bool xtcp_ofo_queue(struct sock *sk, struct sk_buff *skb);
bool xtcp_ofo_drain(struct sock *sk);
void xtcp_ofo_purge(struct sock *sk);
bool xtcp_ofo_prune(struct sock *sk, unsigned int need);
int xtcp_sack_blocks(const struct sock *sk, struct xtcp_sack_block *out,
		     int max);
void xtcp_dsack_set(struct sock *sk, u32 seq, u32 end_seq);

/*
 * Buffer auto-tuning (lifecycle.c), as tcp_rcv_space_adjust() and
 * tcp_sndbuf_expand(), bounded by net.ipv4.tcp_rmem[2] / tcp_wmem[2].
 */
void xtcp_rcv_space_adjust(struct sock *sk);
void xtcp_sndbuf_expand(struct sock *sk);

/* sockopt.c */
int xtcp_setsockopt(struct socket *sock, int level, int optname,
		    sockptr_t optval, unsigned int optlen);
int xtcp_getsockopt(struct socket *sock, int level, int optname,
		    char __user *optval, int __user *optlen);

/* icmp.c */
void xtcp_mtu_reduced(struct sock *sk);
int xtcp_v4_err(struct sk_buff *skb, u32 info);

/* listen.c */
void xtcp_listen_rcv(struct sock *sk, struct sk_buff *skb);
void xtcp_listen_stop(struct sock *sk);
struct sock *xtcp_listener_lookup(struct xtcp_net *xn, __be32 saddr,
				  __be16 sport, __be32 daddr, __be16 dport,
				  int dif);

/* lifecycle.c */
void xtcp_init_sock(struct sock *sk);
void xtcp_done(struct sock *sk);
void xtcp_destroy_sock(struct sock *sk);
void xtcp_reset(struct sock *sk, int err);
int xtcp_disconnect(struct sock *sk);
bool xtcp_close_state(struct sock *sk);
void xtcp_close(struct sock *sk, long timeout);

/* bind.c */
void xtcp_bind_table_init(struct xtcp_net *xn);
int xtcp_bind_get_port(struct sock *sk, unsigned short snum);
unsigned int xtcp_lhash_slot(unsigned short port, __be32 addr);
int xtcp_bind_listen(struct sock *sk);
void xtcp_bind_unlisten(struct sock *sk);
void xtcp_bind_put_port(struct sock *sk);
int xtcp_bind_inherit_port(struct sock *child);
int xtcp_bind_connect_port(struct sock *sk);
void xtcp_bind_add_tw(struct sock *sk, struct hlist_node *node);
void __xtcp_bind_del_tw(struct xtcp_net *xn, struct hlist_node *node,
			unsigned short port);
void xtcp_bind_del_tw(struct xtcp_net *xn, struct hlist_node *node,
		      unsigned short port);
struct xtcp_bind_bucket *xtcp_bind_bucket_next(struct xtcp_net *xn,
					       unsigned int slot,
					       struct xtcp_bind_bucket *tb);

/* hash.c */
int xtcp_hash_net_init(struct xtcp_net *xn);
void xtcp_hash_net_exit(struct xtcp_net *xn);
void xtcp_set_tuple(struct sock *sk);
int xtcp_ehash_insert(struct sock *sk);
void xtcp_ehash_remove(struct sock *sk);
struct sock *xtcp_ehash_lookup(struct xtcp_net *xn,
			       const struct xtcp_tuple *t);

/* input.c */
int xtcp_input_init(void);
void xtcp_input_exit(void);
int xtcp_do_rcv(struct sock *sk, struct sk_buff *skb);
void xtcp_init_transfer(struct sock *sk);
int xtcp_rcv_state_process(struct sock *sk, struct sk_buff *skb);

/* output.c */
int xtcp_transmit_skb(struct sock *sk, struct sk_buff *skb);
void xtcp_push_pending(struct sock *sk);
int xtcp_connect_send_syn(struct sock *sk);
int xtcp_send_synack(struct sock *sk);
void xtcp_send_ack(struct sock *sk);
void xtcp_send_challenge_ack(struct sock *sk);
bool __xtcp_oow_rate_limited(struct net *net, int mib, u32 *last);
bool xtcp_oow_rate_limited(struct net *net, const struct sk_buff *skb,
			   int mib, u32 *last);
void xtcp_send_active_reset(struct sock *sk, gfp_t gfp);
void xtcp_send_fin(struct sock *sk);
void xtcp_send_keepalive_probe(struct sock *sk);
void xtcp_retransmit_head(struct sock *sk);
u32 xtcp_skb_mss(struct sock *sk, const struct sk_buff *skb);
int xtcp_trim_head(struct sock *sk, struct sk_buff *skb, u32 len);
u32 xtcp_size_goal(struct sock *sk, u32 mss);
bool xtcp_stream_memory_free(const struct sock *sk, int wake);
void xtcp_update_pacing_rate(struct sock *sk);
u32 xtcp_tso_segs(struct sock *sk, u32 mss);
/* Linux's defaults of tcp_pacing_ss_ratio, _ca_ratio, tcp_min_tso_segs
 * and tcp_tso_rtt_log.
 */
#define XTCP_PACING_SS_RATIO	200
#define XTCP_PACING_CA_RATIO	120
#define XTCP_MIN_TSO_SEGS	2
#define XTCP_TSO_RTT_LOG	9
bool xtcp_send_new_segment(struct sock *sk);
void xtcp_send_reset_reply(struct net *net, struct sk_buff *skb);
void xtcp_send_ack_reply(struct net *net, struct sk_buff *skb, u32 seq,
			 u32 ack, u16 win, u32 tsval, u32 tsecr, bool ts);
void xtcp_send_cookie_synack(struct net *net, struct sk_buff *skb, u32 isn,
			     u16 mss);
u16 xtcp_select_window(struct sock *sk);
u32 __xtcp_select_window(struct sock *sk);
void xtcp_select_initial_window(struct sock *sk, u32 mss);
void xtcp_init_buffer_space(struct sock *sk);
void __xtcp_push_pending(struct sock *sk, int nonagle);
int __xtcp_fragment(struct sock *sk, struct sk_buff *skb, u32 len, u32 mss,
		    bool sack);

static inline int xtcp_fragment(struct sock *sk, struct sk_buff *skb, u32 len,
				u32 mss)
{
	return __xtcp_fragment(sk, skb, len, mss, false);
}

u32 xtcp_current_mss(struct sock *sk);
int xtcp_retransmit_skb(struct sock *sk, struct sk_buff *skb, u32 segs);
void xtcp_sync_mss(struct sock *sk, u32 pmtu);
void xtcp_max_window_update(struct sock *sk);
void xtcp_free_skb(struct sock *sk, struct sk_buff *skb);

/* options.c */
void xtcp_parse_options(const struct tcphdr *th, struct xtcp_options *opt,
			bool syn);
unsigned int xtcp_options_size(const struct xtcp_sock *xs, u8 flags,
			       const struct xtcp_sack_block *sacks, int nsacks);
void xtcp_write_options(__be32 *ptr, const struct xtcp_sock *xs, u8 flags,
			u32 tsval, const struct xtcp_sack_block *sacks,
			int nsacks);
void xtcp_set_offers(struct sock *sk);
bool xtcp_paws_reject_rst(u32 ts_recent, u32 stamp, u32 tsval, bool rst);
void xtcp_negotiate(struct sock *sk, const struct xtcp_options *peer);

/* rtt.c */
void xtcp_rtt_sample(struct sock *sk, long rtt_us);
long xtcp_ack_update_rtt(struct sock *sk, long seq_rtt_us, long sack_rtt_us,
			 long ca_rtt_us, bool acked);
void xtcp_rtt_established(struct sock *sk);
long xtcp_rtt_since(u64 sent_ns);
u32 xtcp_rto_min(const struct sock *sk);
u32 xtcp_rto_max(const struct sock *sk);
void xtcp_set_rto(struct sock *sk);
u32 xtcp_rto_initial(const struct net *net);

/* timers.c */
void xtcp_init_timers(struct sock *sk);
void xtcp_clear_timers(struct sock *sk);
void xtcp_timer_on_send(struct sock *sk);
void xtcp_timer_on_ack(struct sock *sk);
void xtcp_timer_rearm_rtx(struct sock *sk);
void xtcp_timer_reo(struct sock *sk, u32 usecs);
void xtcp_timer_pto(struct sock *sk, u32 timeout);
bool xtcp_timer_reo_pending(const struct sock *sk);
void xtcp_timer_fin_wait2(struct sock *sk);
void xtcp_timer_syn_soon(struct sock *sk);
void xtcp_timer_keepalive(struct sock *sk);
void xtcp_timer_delack(struct sock *sk);
void xtcp_timer_delack_synack(struct sock *sk);
void xtcp_timer_delack_cancel(struct sock *sk);
int xtcp_keepalive_time(const struct sock *sk);
int xtcp_keepalive_intvl(const struct sock *sk);
int xtcp_keepalive_probes(const struct sock *sk);
void xtcp_release_cb(struct sock *sk);

/* timewait.c */
int xtcp_tw_init(void);
void xtcp_tw_exit(void);
int xtcp_tw_net_init(struct xtcp_net *xn);
void xtcp_tw_net_exit(struct xtcp_net *xn);
void xtcp_time_wait(struct sock *sk);
struct xtcp_tw *xtcp_tw_lookup(struct xtcp_net *xn,
			       const struct xtcp_tuple *t);
enum xtcp_tw_verdict {
	XTCP_TW_DROP,		/* consumed, nothing else to do */
	XTCP_TW_SYN,		/* entry killed: hand the SYN to a listener */
};

enum xtcp_tw_verdict xtcp_tw_rcv(struct xtcp_net *xn, struct xtcp_tw *tw,
				 struct sk_buff *skb);
bool xtcp_tw_port_conflict(const struct hlist_head *head,
			   const struct sock *sk, bool reuse_ok);
int xtcp_tw_check_reuse(struct sock *sk, const struct xtcp_tuple *t,
			bool bound);
int xtcp_tw_seq_show(struct seq_file *seq, struct hlist_node *node,
		     loff_t i);
size_t xtcp_tw_entry_size(void);
long xtcp_tw_count(void);

/* mib.c */
int xtcp_mib_net_init(struct xtcp_net *xn);
void xtcp_mib_net_exit(struct xtcp_net *xn);
int xtcp_mib_proc_init(struct net *net);
void xtcp_mib_proc_exit(struct net *net);

/* mem.c */
extern atomic_long_t xtcp_memory_allocated;
DECLARE_PER_CPU(int, xtcp_memory_per_cpu_fw_alloc);
extern long xtcp_sysctl_mem[3];
extern unsigned long xtcp_memory_pressure;
DECLARE_PER_CPU(unsigned int, xtcp_orphan_count);
void xtcp_mem_update(void);
void xtcp_enter_memory_pressure(struct sock *sk);
void xtcp_leave_memory_pressure(struct sock *sk);
long xtcp_memory_pages(void);
int xtcp_orphans(void);
void xtcp_orphan_add(struct sock *sk);
void xtcp_orphan_del(struct sock *sk);
void xtcp_wmem_charge(struct sock *sk, int delta);
bool xtcp_check_oom(struct sock *sk, int shift);
bool xtcp_out_of_resources(struct sock *sk, bool do_reset);
int xtcp_mem_proc_init(struct net *net);
void xtcp_mem_proc_exit(struct net *net);

/* proc.c */
int xtcp_proc_net_init(struct net *net);
void xtcp_proc_net_exit(struct net *net);

#endif /* _XTCP_H */
