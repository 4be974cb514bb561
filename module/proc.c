// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: /proc/net/xtcp, the per-namespace socket table.
 *
 * Same columns as /proc/net/tcp (get_tcp4_sock() and get_timewait4_sock()
 * in tcp_ipv4.c), so that parsers written for TCP read it unchanged:
 * addresses as raw hex of the network-order word, ports in host order,
 * TCP's state codes. Rows come from the bind table: every socket that owns
 * a port (listeners, half-open children in SYN_RECV, connections) and
 * every TIME_WAIT entry. Closed sockets that merely hold a bound port are
 * not listed, as TCP does not list them.
 *
 * The walk runs under RCU: port buckets, sockets (SOCK_RCU_FREE) and
 * TIME_WAIT entries are all freed after a grace period, so neither the
 * bind lock nor BH is held and softirq never waits for a reader, however
 * large the table. A chain is one of the bind table's: the rows of each
 * port bucket in it in turn. Positions index the chains for the
 * sockets first, then for TIME_WAIT; each read() resumes where the
 * last one stopped (chain and row in it, as tcp_seek_last_pos()), so
 * reading the whole table is linear in its size. Rows that move while it
 * is read may be missed or shown twice, as in /proc/net/tcp.
 */
#include <linux/proc_fs.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/tcp_states.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

#define XTCP_PROC_ROW	180	/* row width: TMPSZ in tcp_ipv4.c, + 4 columns */

struct xtcp_proc_iter {
	struct seq_net_private p;
	unsigned int bucket;	/* < XTCP_BHASH_SIZE: sockets; then TW */
	struct xtcp_bind_bucket *tb;	/* the port's, in that chain */
	unsigned int offset;	/* listed rows of the chain before this one */
	loff_t pos;		/* position of the row the cursor is on */
};

static struct xtcp_net *xtcp_seq_xn(struct seq_file *seq)
{
	return xtcp_pernet(seq_file_net(seq));
}

static bool xtcp_seq_listed(struct seq_file *seq, struct hlist_node *node)
{
	struct xtcp_proc_iter *it = seq->private;
	struct sock *sk;

	if (it->bucket >= XTCP_BHASH_SIZE)
		return true;
	sk = &hlist_entry(node, struct xtcp_sock, bind_node)->inet.sk;
	return inet_sk_state_load(sk) != TCP_CLOSE;
}

static struct hlist_head *xtcp_seq_list(struct seq_file *seq)
{
	struct xtcp_proc_iter *it = seq->private;

	return it->bucket < XTCP_BHASH_SIZE ? &it->tb->owners : &it->tb->tw;
}

/* The first row of the port buckets after it->tb in the cursor's chain. */
static struct hlist_node *xtcp_seq_next_bucket(struct seq_file *seq)
{
	struct xtcp_proc_iter *it = seq->private;
	struct hlist_node *node;

	for (;;) {
		it->tb = xtcp_bind_bucket_next(xtcp_seq_xn(seq),
					       it->bucket % XTCP_BHASH_SIZE,
					       it->tb);
		if (!it->tb)
			return NULL;
		node = rcu_dereference(hlist_first_rcu(xtcp_seq_list(seq)));
		if (node)
			return node;
	}
}

/*
 * A chain of the table is that of bind.c's port buckets: its rows are
 * the sockets of each bucket in turn (or their TIME_WAIT entries).
 */
static struct hlist_node *xtcp_seq_chain(struct seq_file *seq)
{
	struct xtcp_proc_iter *it = seq->private;

	it->tb = NULL;
	return xtcp_seq_next_bucket(seq);
}

static struct hlist_node *xtcp_seq_after(struct seq_file *seq,
					 struct hlist_node *node)
{
	node = rcu_dereference(hlist_next_rcu(node));
	return node ? : xtcp_seq_next_bucket(seq);
}

/*
 * The first listed node at or after @node, moving on through chains; the
 * cursor's row in its chain follows (@offset: that of @node's chain).
 */
static struct hlist_node *xtcp_seq_settle(struct seq_file *seq,
					  struct hlist_node *node,
					  unsigned int offset)
{
	struct xtcp_proc_iter *it = seq->private;

	for (;;) {
		for (; node; node = xtcp_seq_after(seq, node)) {
			if (xtcp_seq_listed(seq, node)) {
				it->offset = offset;
				return node;
			}
		}
		if (++it->bucket >= 2 * XTCP_BHASH_SIZE)
			return NULL;
		offset = 0;
		node = xtcp_seq_chain(seq);
	}
}

static struct hlist_node *xtcp_seq_first(struct seq_file *seq)
{
	struct xtcp_proc_iter *it = seq->private;

	it->bucket = 0;
	return xtcp_seq_settle(seq, xtcp_seq_chain(seq), 0);
}

/* The row after @node: the next one in its chain, or a later chain's. */
static struct hlist_node *xtcp_seq_step(struct seq_file *seq,
					struct hlist_node *node)
{
	struct xtcp_proc_iter *it = seq->private;

	return xtcp_seq_settle(seq, xtcp_seq_after(seq, node), it->offset + 1);
}

/* Back to the cursor's row: its chain, that many listed rows in. */
static struct hlist_node *xtcp_seq_resume(struct seq_file *seq)
{
	struct xtcp_proc_iter *it = seq->private;
	unsigned int want = it->offset, bucket = it->bucket;
	struct hlist_node *node;

	if (bucket >= 2 * XTCP_BHASH_SIZE)
		return NULL;
	node = xtcp_seq_settle(seq, xtcp_seq_chain(seq), 0);
	/* Rows that left the chain meanwhile: go on from its end. */
	while (node && it->bucket == bucket && it->offset < want)
		node = xtcp_seq_step(seq, node);
	return node;
}

static void *xtcp_seq_start(struct seq_file *seq, loff_t *pos)
	__acquires(RCU)
{
	struct xtcp_proc_iter *it = seq->private;
	struct hlist_node *node;
	loff_t n;

	rcu_read_lock();
	if (!*pos)
		return SEQ_START_TOKEN;
	if (*pos == it->pos)
		return xtcp_seq_resume(seq);
	node = xtcp_seq_first(seq);
	for (n = 1; node && n < *pos; n++)
		node = xtcp_seq_step(seq, node);
	it->pos = *pos;
	return node;
}

static void *xtcp_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	struct xtcp_proc_iter *it = seq->private;

	it->pos = ++*pos;
	if (v == SEQ_START_TOKEN)
		return xtcp_seq_first(seq);
	return xtcp_seq_step(seq, v);
}

static void xtcp_seq_stop(struct seq_file *seq, void *v)
	__releases(RCU)
{
	rcu_read_unlock();
}

static void xtcp_seq_show_sock(struct seq_file *seq, struct sock *sk, loff_t i)
{
	const struct inet_sock *inet = inet_sk(sk);
	const struct xtcp_sock *xs = xtcp_sk(sk);
	int state = inet_sk_state_load(sk);
	unsigned long expires = 0;
	int timer = 0;
	u32 txq, rxq;

	if (state == TCP_LISTEN) {
		/* As get_tcp4_sock(): nothing unacked (ss takes the backlog
		 * from sock_diag, not from here).
		 */
		rxq = READ_ONCE(sk->sk_ack_backlog);
		txq = 0;
	} else {
		txq = READ_ONCE(xs->write_seq) - READ_ONCE(xs->snd_una);
		rxq = max_t(int, READ_ONCE(xs->rcv_nxt) -
			    READ_ONCE(xs->copied_seq), 0);
	}
	/* Timer codes of /proc/net/tcp: 1 retransmit, 2 keepalive/other. */
	if (timer_pending(&xs->rtx_timer)) {
		/* 4: probing a zero window, as /proc/net/tcp shows it. */
		timer = READ_ONCE(xs->pending) == XTCP_TIME_PROBE0 ? 4 : 1;
		expires = xs->rtx_timer.expires;
	} else if (timer_pending(&sk->sk_timer)) {
		timer = 2;
		expires = sk->sk_timer.expires;
	}

	seq_printf(seq,
		   "%4lld: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %d %pK %lu %lu %u %u %d %u %u %u %u",
		   i, inet->inet_rcv_saddr, inet->inet_num,
		   inet->inet_daddr, ntohs(inet->inet_dport), state,
		   txq, rxq, timer,
		   timer ? jiffies_delta_to_clock_t(expires - jiffies) : 0L,
		   xs->retransmits,
		   from_kuid_munged(seq_user_ns(seq), sock_i_uid(sk)),
		   max(xs->probes_out, xs->ka_probes_out), sock_i_ino(sk),
		   refcount_read(&sk->sk_refcnt), sk,
		   jiffies_to_clock_t(xs->rto),
		   jiffies_to_clock_t(msecs_to_jiffies(xtcp_knob(sock_net(sk),
								 XTCP_KNOB_delack_ms))),
		   (READ_ONCE(xs->quickack) << 1) | READ_ONCE(xs->pingpong),
		   READ_ONCE(xs->snd_cwnd),
		   state == TCP_LISTEN ? 0 :
		   READ_ONCE(xs->snd_ssthresh) >= TCP_INFINITE_SSTHRESH ? -1 :
		   (int)READ_ONCE(xs->snd_ssthresh),
		   /* xtcp's own, for xtcp-stat -i: what ss reads from diag. */
		   READ_ONCE(xs->srtt_us) >> 3, READ_ONCE(xs->mdev_us) >> 2,
		   READ_ONCE(xs->mss_cache),
		   state == TCP_LISTEN ? READ_ONCE(sk->sk_max_ack_backlog) : 0);
}

static int xtcp_seq_show(struct seq_file *seq, void *v)
{
	struct xtcp_proc_iter *it = seq->private;

	seq_setwidth(seq, XTCP_PROC_ROW - 1);
	if (v == SEQ_START_TOKEN)
		seq_puts(seq, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode");
	else if (it->bucket < XTCP_BHASH_SIZE)
		xtcp_seq_show_sock(seq, &hlist_entry(v, struct xtcp_sock,
						     bind_node)->inet.sk,
				   seq->index - 1);
	else
		xtcp_tw_seq_show(seq, v, seq->index - 1);
	seq_pad(seq, '\n');
	return 0;
}

static const struct seq_operations xtcp_seq_ops = {
	.start = xtcp_seq_start,
	.next = xtcp_seq_next,
	.stop = xtcp_seq_stop,
	.show = xtcp_seq_show,
};

int xtcp_proc_net_init(struct net *net)
{
	if (!proc_create_net("xtcp", 0444, net->proc_net, &xtcp_seq_ops,
			     sizeof(struct xtcp_proc_iter)))
		return -ENOMEM;
	return 0;
}

void xtcp_proc_net_exit(struct net *net)
{
	remove_proc_entry("xtcp", net->proc_net);
}
