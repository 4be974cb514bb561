// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the out-of-order queue and the SACK blocks we send.
 *
 * Segments that arrive beyond rcv_nxt wait in an rbtree ordered by
 * sequence number, charged to the receive buffer like queued data, their
 * headers already pulled. A segment that brings nothing new is dropped
 * and reported as a duplicate (D-SACK, RFC 2883); one that covers others
 * replaces them. Partial overlaps stay: the reader skips what it already
 * has, by sequence number. When rcv_nxt reaches the front of the tree,
 * the contiguous run moves to the receive queue.
 *
 * The SACK blocks (RFC 2018) are computed from the tree when an ACK is
 * built: the run holding the latest out-of-order segment first (found by
 * search), then the others in sequence order, as many as fit; a pending
 * D-SACK block goes before them all.
 * Everything here runs under the socket lock.
 */
#include <linux/kernel.h>
#include <linux/rbtree.h>
#include <net/tcp.h>

#include "xtcp.h"

/* Report [seq, end_seq) as received twice, on the next ACK. */
void xtcp_dsack_set(struct sock *sk, u32 seq, u32 end_seq)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->rx_opt.sack_ok || !before(seq, end_seq) ||
	    !xtcp_knob(sock_net(sk), XTCP_KNOB_dsack))
		return;
	xs->dsack.start = seq;
	xs->dsack.end = end_seq;
	xs->dsack_pending = true;
}

static void xtcp_ofo_drop(struct sock *sk, struct sk_buff *skb)
{
	rb_erase(&skb->rbnode, &xtcp_sk(sk)->ooo_queue);
	kfree_skb(skb);
}

/*
 * Keep @skb (payload only, charged to @sk) until the hole before it is
 * filled. Returns false if it brought nothing new: the caller frees it.
 */
bool xtcp_ofo_queue(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct rb_node **p = &xs->ooo_queue.rb_node, *parent = NULL;
	u32 seq = XTCP_SKB_CB(skb)->seq, end = XTCP_SKB_CB(skb)->end_seq;
	struct sk_buff *next;

	while (*p) {
		struct sk_buff *s = rb_to_skb(*p);
		struct xtcp_skb_cb *c = XTCP_SKB_CB(s);

		parent = *p;
		if (before(seq, c->seq)) {
			p = &parent->rb_left;
			continue;
		}
		if (before(seq, c->end_seq)) {
			if (!after(end, c->end_seq)) {
				/* All of it is here already. */
				xtcp_dsack_set(sk, seq, end);
				return false;
			}
			if (seq == c->seq) {
				/* It covers @s and more: take its place. */
				rb_replace_node(&s->rbnode, &skb->rbnode,
						&xs->ooo_queue);
				xtcp_dsack_set(sk, seq, c->end_seq);
				kfree_skb(s);
				goto merge_right;
			}
		}
		p = &parent->rb_right;
	}
	rb_link_node(&skb->rbnode, parent, p);
	rb_insert_color(&skb->rbnode, &xs->ooo_queue);

merge_right:
	/* Drop what the new segment covers entirely. */
	while ((next = skb_rb_next(skb)) &&
	       !after(XTCP_SKB_CB(next)->end_seq, end)) {
		xtcp_dsack_set(sk, XTCP_SKB_CB(next)->seq,
			       XTCP_SKB_CB(next)->end_seq);
		xtcp_ofo_drop(sk, next);
	}
	xs->ooo_last_seq = seq;
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_OFOQUEUE);
	return true;
}

/*
 * rcv_nxt moved: move what is now in order to the receive queue. Returns
 * true if that reached the peer's FIN (rcv_nxt then stops before it).
 */
bool xtcp_ofo_drain(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct rb_node *p;

	while ((p = rb_first(&xs->ooo_queue))) {
		struct sk_buff *skb = rb_to_skb(p);
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
		bool fin = cb->tcp_flags & TCPHDR_FIN;

		if (after(cb->seq, xs->rcv_nxt))
			break;
		if (!after(cb->end_seq, xs->rcv_nxt)) {
			xtcp_ofo_drop(sk, skb);
			continue;
		}
		rb_erase(p, &xs->ooo_queue);
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_OFOMERGE);
		xs->bytes_received += cb->end_seq - fin - xs->rcv_nxt;
		xs->rcv_nxt = cb->end_seq - fin;
		if (skb->len)
			__skb_queue_tail(&sk->sk_receive_queue, skb);
		else
			kfree_skb(skb);
		if (fin)
			return true;
	}
	return false;
}

/*
 * Memory is short and in-order data must fit: drop out-of-order data,
 * highest first, until @need more bytes fit in twice the receive buffer
 * (tcp_prune_ofo_queue()). What the peer saw SACKed is reneged; its RTO
 * recovers it. Returns true if the room was made.
 */
bool xtcp_ofo_prune(struct sock *sk, unsigned int need)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct rb_node *p;

	while (atomic_read(&sk->sk_rmem_alloc) + need >
	       2 * READ_ONCE(sk->sk_rcvbuf)) {
		p = rb_last(&xs->ooo_queue);
		if (!p)
			return false;
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_OFOPRUNE);
		xtcp_ofo_drop(sk, rb_to_skb(p));
	}
	return true;
}

void xtcp_ofo_purge(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct rb_node *p;

	while ((p = rb_first(&xs->ooo_queue)))
		xtcp_ofo_drop(sk, rb_to_skb(p));
	xs->dsack_pending = false;
}

/* The run of contiguous out-of-order skbs that @skb is part of. */
static void xtcp_ofo_run(const struct sk_buff *skb, struct xtcp_sack_block *run)
{
	const struct sk_buff *p;

	run->start = XTCP_SKB_CB(skb)->seq;
	run->end = XTCP_SKB_CB(skb)->end_seq;
	for (p = skb_rb_prev(skb);
	     p && !before(XTCP_SKB_CB(p)->end_seq, run->start);
	     p = skb_rb_prev(p))
		run->start = XTCP_SKB_CB(p)->seq;
	for (p = skb_rb_next(skb);
	     p && !after(XTCP_SKB_CB(p)->seq, run->end);
	     p = skb_rb_next(p))
		run->end = XTCP_SKB_CB(p)->end_seq;
}

/*
 * The SACK blocks for the next ACK, at most @max of them, into @out.
 * Returns how many. The run of the latest segment is looked up in the
 * tree, and only as many runs from the lowest as fit are looked at, not
 * the whole tree: an ACK costs the same whatever the tree holds. Starts
 * and ends of the skbs in the tree rise together (xtcp_ofo_queue() drops
 * what another covers).
 */
int xtcp_sack_blocks(const struct sock *sk, struct xtcp_sack_block *out,
		     int max)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_sack_block run, last = {};
	bool have_last = false;
	struct sk_buff *skb, *next;
	int n = 0;

	if (!xs->rx_opt.sack_ok || max <= 0)
		return 0;
	if (xs->dsack_pending)
		out[n++] = xs->dsack;
	if (n >= max || RB_EMPTY_ROOT(&xs->ooo_queue))
		return n;

	/* The run with the latest segment goes first (RFC 2018 4). */
	skb = xtcp_rb_find(&xs->ooo_queue, xs->ooo_last_seq);
	if (skb && !after(XTCP_SKB_CB(skb)->seq, xs->ooo_last_seq)) {
		xtcp_ofo_run(skb, &last);
		have_last = true;
		out[n++] = last;
	}
	for (skb = skb_rb_first(&xs->ooo_queue); skb && n < max;
	     skb = skb_rb_next(skb)) {
		run.start = XTCP_SKB_CB(skb)->seq;
		run.end = XTCP_SKB_CB(skb)->end_seq;
		while ((next = skb_rb_next(skb)) &&
		       !after(XTCP_SKB_CB(next)->seq, run.end)) {
			run.end = XTCP_SKB_CB(next)->end_seq;
			skb = next;
		}
		if (!have_last || run.start != last.start)
			out[n++] = run;
	}
	return n;
}
