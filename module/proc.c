// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: /proc/net/xtcp, the per-namespace socket table.
 *
 * Same columns as /proc/net/tcp (get_tcp4_sock() in tcp_ipv4.c), so that
 * parsers written for TCP read it unchanged: addresses as raw hex of the
 * network-order word, ports in host order, states with TCP's codes.
 *
 * The walk holds the bind table lock (BH off) from ->start to ->stop;
 * seq_file never sleeps in between, and the lock is dropped between reads.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/tcp_states.h>
#include <net/sock.h>

#include "xtcp.h"

#define XTCP_PROC_ROW	150	/* row width, as TMPSZ in tcp_ipv4.c */

struct xtcp_proc_iter {
	struct seq_net_private p;
	unsigned int bucket;
};

static struct xtcp_net *xtcp_seq_xn(struct seq_file *seq)
{
	return xtcp_pernet(seq_file_net(seq));
}

static struct sock *xtcp_seq_first_in(struct seq_file *seq, unsigned int b)
{
	struct xtcp_proc_iter *it = seq->private;
	struct xtcp_net *xn = xtcp_seq_xn(seq);
	struct hlist_node *node;

	for (; b < XTCP_BHASH_SIZE; b++) {
		node = xn->bind_hash[b].first;
		if (node) {
			it->bucket = b;
			return (struct sock *)hlist_entry(node, struct xtcp_sock,
							  bind_node);
		}
	}
	return NULL;
}

static struct sock *xtcp_seq_next_sk(struct seq_file *seq, struct sock *sk)
{
	struct xtcp_proc_iter *it = seq->private;
	struct hlist_node *node = xtcp_sk(sk)->bind_node.next;

	if (node)
		return (struct sock *)hlist_entry(node, struct xtcp_sock,
						  bind_node);
	return xtcp_seq_first_in(seq, it->bucket + 1);
}

static void *xtcp_seq_start(struct seq_file *seq, loff_t *pos)
	__acquires(&xn->bind_lock)
{
	struct xtcp_net *xn = xtcp_seq_xn(seq);
	struct sock *sk;
	loff_t n;

	spin_lock_bh(&xn->bind_lock);
	if (!*pos)
		return SEQ_START_TOKEN;
	sk = xtcp_seq_first_in(seq, 0);
	for (n = 1; sk && n < *pos; n++)
		sk = xtcp_seq_next_sk(seq, sk);
	return sk;
}

static void *xtcp_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	++*pos;
	if (v == SEQ_START_TOKEN)
		return xtcp_seq_first_in(seq, 0);
	return xtcp_seq_next_sk(seq, v);
}

static void xtcp_seq_stop(struct seq_file *seq, void *v)
	__releases(&xn->bind_lock)
{
	spin_unlock_bh(&xtcp_seq_xn(seq)->bind_lock);
}

static void xtcp_seq_show_sock(struct seq_file *seq, struct sock *sk, loff_t i)
{
	const struct inet_sock *inet = inet_sk(sk);
	int state = inet_sk_state_load(sk);
	u32 txq = 0, rxq = 0;

	if (state == TCP_LISTEN) {
		rxq = READ_ONCE(sk->sk_ack_backlog);
		txq = READ_ONCE(sk->sk_max_ack_backlog);
	}

	seq_printf(seq,
		   "%4lld: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %d %pK %lu %lu %u %u %d",
		   i, inet->inet_rcv_saddr, inet->inet_num,
		   inet->inet_daddr, ntohs(inet->inet_dport), state,
		   txq, rxq, 0, 0UL, 0,
		   from_kuid_munged(seq_user_ns(seq), sock_i_uid(sk)),
		   0, sock_i_ino(sk), refcount_read(&sk->sk_refcnt), sk,
		   0UL, 0UL, 0U, 0U, -1);
}

static int xtcp_seq_show(struct seq_file *seq, void *v)
{
	seq_setwidth(seq, XTCP_PROC_ROW - 1);
	if (v == SEQ_START_TOKEN)
		seq_puts(seq, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode");
	else
		xtcp_seq_show_sock(seq, v, seq->index - 1);
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
