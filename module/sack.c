// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the sender's scoreboard and loss recovery.
 *
 * Every sent skb (the retransmission queue, an rb-tree by sequence)
 * carries three marks in its control
 * block: sacked (the peer holds it, RFC 2018), lost (deemed lost, to be
 * sent again) and retrans (sent again since it was marked lost). The
 * socket counts them in sacked_out, lost_out and retrans_out next to
 * packets_out, which gives the RFC 6675 pipe. All counts are in segments:
 * an skb of several (GSO) counts as many, and a mark that applies to only
 * part of one splits it first at a segment boundary, as Linux TCP's
 * tcp_match_skb_to_sack() and tcp_mark_head_lost() do.
 *
 * Without SACK the peer's duplicate ACKs stand in for SACKed segments
 * (sacked_out only, no marks), as Linux TCP's Reno emulation does, so the
 * same pipe arithmetic drives NewReno recovery (RFC 6582): the head is
 * lost on the third duplicate ACK and again on every partial ACK.
 *
 * With SACK, a segment is lost when three SACKed segments lie above it
 * (RFC 6675's IsLost with DupThresh 3, counted in segments), and the head
 * is lost when recovery starts. What is lost is retransmitted while the
 * pipe is below cwnd, lowest sequence first. All under the socket lock.
 */
#include <linux/kernel.h>
#include <net/tcp.h>

#include "xtcp.h"

static void xtcp_mark_skb_lost(struct xtcp_sock *xs, struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	if (cb->sacked || cb->lost)
		return;
	cb->lost = 1;
	xs->lost_out += cb->pcount;
	xs->lost += cb->pcount;
	xtcp_tsorted_drop(skb);
	xtcp_rtx_hint_lower(xs, skb);
}

/* A sent skb changed its segment count by @delta: so do its marks. */
void xtcp_adjust_pcount(struct xtcp_sock *xs, const struct sk_buff *skb,
			int delta)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	xs->packets_out += delta;
	if (cb->sacked)
		xs->sacked_out += delta;
	if (cb->lost)
		xs->lost_out += delta;
	if (cb->retrans)
		xs->retrans_out += delta;
}

/* An skb leaves the scoreboard: cumulatively acknowledged. */
void xtcp_skb_unaccount(struct xtcp_sock *xs, struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	xtcp_adjust_pcount(xs, skb, -(int)cb->pcount);
	cb->sacked = 0;
	cb->lost = 0;
	cb->retrans = 0;
}

/*
 * @skb of several segments is only partly inside [@start, @end): split it
 * at the segment boundary nearest inside the block. Returns true if @skb
 * itself is now inside; otherwise the walk goes on to its second half.
 */
static bool xtcp_sack_split(struct sock *sk, struct sk_buff *skb, u32 start,
			    u32 end)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	u32 mss = xtcp_skb_mss(sk, skb), len;

	if (cb->pcount < 2)
		return false;
	if (before(cb->seq, start)) {
		len = roundup(start - cb->seq, mss);
		if (len < skb->len)
			__xtcp_fragment(sk, skb, len, mss, true);
		return false;
	}
	len = rounddown(end - cb->seq, mss);
	return len && !__xtcp_fragment(sk, skb, len, mss, true);
}

/*
 * Tag what [@start, @end) covers. The first skb it touches is looked up
 * in the rb-tree (tcp_sacktag_bsearch()), so the work is in the skbs of
 * the block, not in those below it.
 */
static void xtcp_sack_block(struct sock *sk, u32 start, u32 end)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	for (skb = xtcp_rtx_find(sk, start); skb; skb = skb_rb_next(skb)) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (!before(cb->seq, end))
			break;
		if (cb->sacked || !after(cb->end_seq, start))
			continue;
		if ((before(cb->seq, start) || after(cb->end_seq, end)) &&
		    !xtcp_sack_split(sk, skb, start, end))
			continue;
		if (cb->lost) {
			cb->lost = 0;
			xs->lost_out -= cb->pcount;
		}
		if (cb->retrans) {
			cb->retrans = 0;
			xs->retrans_out -= cb->pcount;
		}
		cb->sacked = 1;
		xs->sacked_out += cb->pcount;
		/* Its round trip, if it left only once (tcp_sacktag_one()). */
		if (!cb->retransmitted && skb->tstamp &&
		    (!xs->sack_first_sent || skb->tstamp < xs->sack_first_sent))
			xs->sack_first_sent = skb->tstamp;
		xtcp_tsorted_drop(skb);
		xtcp_rack_advance(sk, skb);
	}
}

/*
 * Tag [@start, @end) but what the blocks of the ACK before covered: those
 * were tagged then (Linux TCP's recv_sack_cache). A peer repeats its
 * blocks, growing them at the edges, on every ACK; without this each ACK
 * would walk all the skbs of a block again. Not while nothing is SACKed:
 * an RTO forgot the marks.
 */
static void xtcp_sack_new_part(struct sock *sk, u32 start, u32 end,
			       int ncache)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int i;

	for (i = 0; i < ncache; i++) {
		const struct xtcp_sack_block *c = &xs->sack_cache[i];

		if (!after(c->end, start))
			continue;
		if (!before(c->start, end))
			break;
		if (after(c->start, start))
			xtcp_sack_block(sk, start, c->start);
		start = c->end;
		if (!before(start, end))
			return;
	}
	xtcp_sack_block(sk, start, end);
}

/*
 * Read the SACK blocks of an ACK for @ack. A first block below @ack, or
 * inside the second, reports a duplicate (D-SACK, RFC 2883 4): it is
 * counted, shows RACK that the path reorders, and is returned as true;
 * blocks outside what was sent are ignored.
 */
bool xtcp_sack_process(struct sock *sk, u32 ack)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_options *o = &xs->rx_opt;
	struct xtcp_sack_block used[XTCP_MAX_SACKS];
	bool dsack = false;
	int i, j, n = 0;

	if (!o->sack_ok)
		return false;
	for (i = 0; i < o->num_sacks; i++) {
		u32 start = o->sacks[i].start, end = o->sacks[i].end;

		if (!before(start, end))
			continue;
		if (i == 0 &&
		    (before(start, ack) ||
		     (o->num_sacks > 1 && !before(start, o->sacks[1].start) &&
		      !after(end, o->sacks[1].end)))) {
			xs->dsack_dups++;
			xs->rack_reord = true;
			dsack = true;
			XTCP_INC_STATS(sock_net(sk), XTCP_MIB_DSACKRECV);
			continue;
		}
		if (before(start, xs->snd_una) || after(end, xs->snd_nxt))
			continue;
		/* In sequence order, for the cache. */
		for (j = n; j > 0 && before(start, used[j - 1].start); j--)
			used[j] = used[j - 1];
		used[j].start = start;
		used[j].end = end;
		n++;
	}
	/* Nothing SACKed when the ACK came: no block before counts. */
	j = xs->sacked_out ? xs->sack_cache_n : 0;
	for (i = 0; i < n; i++)
		xtcp_sack_new_part(sk, used[i].start, used[i].end, j);
	memcpy(xs->sack_cache, used, n * sizeof(*used));
	xs->sack_cache_n = n;
	return dsack;
}

/* Fast recovery starts (RFC 6675 5, RFC 6582 3.2). */
void xtcp_enter_recovery(struct sock *sk)
{
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_FASTRETRANS);
	XTCP_INC_STATS(sock_net(sk), xtcp_sk(sk)->rx_opt.sack_ok ?
				     XTCP_MIB_SACKRECOVERY :
				     XTCP_MIB_RENORECOVERY);
	xtcp_cong_enter_recovery(sk);
}

/* Mark what the scoreboard shows to be lost; the head is, at any rate. */
void xtcp_mark_lost(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = xtcp_rtx_tail(sk), *head;
	u32 above = 0;

	if (!skb)
		return;
	if (xs->rx_opt.sack_ok && xs->sacked_out) {
		for (; skb; skb = skb_rb_prev(skb)) {
			if (XTCP_SKB_CB(skb)->sacked)
				above += xtcp_skb_pcount(skb);
			else if (above >= XTCP_DUPTHRESH)
				xtcp_mark_skb_lost(xs, skb);
		}
	}
	/* Of the head, the first segment is lost. */
	head = xtcp_rtx_head(sk);
	if (xtcp_skb_pcount(head) > 1 && !XTCP_SKB_CB(head)->lost &&
	    !XTCP_SKB_CB(head)->sacked)
		xtcp_fragment(sk, head, xtcp_skb_mss(sk, head),
			      xtcp_skb_mss(sk, head));
	xtcp_mark_skb_lost(xs, head);
}

/*
 * A retransmission time-out: everything in flight is lost, SACKed or not.
 * The scoreboard is forgotten (RFC 6675 5.1): a receiver may have dropped
 * what it SACKed (reneging, RFC 2018 8), and only the cumulative ACK is
 * binding.
 */
void xtcp_mark_all_lost(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	for (skb = xtcp_rtx_head(sk); skb; skb = skb_rb_next(skb)) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (cb->retrans) {
			cb->retrans = 0;
			xs->retrans_out -= cb->pcount;
		}
		if (cb->sacked) {
			cb->sacked = 0;
			xs->sacked_out -= cb->pcount;
		}
		xtcp_mark_skb_lost(xs, skb);
		xtcp_tsorted_drop(skb);
	}
	xs->rtx_hint_ok = false;
	xs->sack_cache_n = 0;
	if (!xs->rx_opt.sack_ok)
		xs->sacked_out = 0;
}

/*
 * Send again what is lost, lowest first, while the pipe has room; an skb
 * of more segments than there is room for goes in part. The walk starts
 * where the last one stopped, unless something below was marked lost
 * since (rtx_hint, as Linux TCP's retransmit hint), and stops when the
 * pipe is full: what it passes was sent again already or is not lost.
 */
void xtcp_xmit_retransmit_queue(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;
	u64 clock;

	if (xs->lost_out <= xs->retrans_out)
		return;
	clock = xtcp_xmit_clock_start(xs);
	skb = xs->rtx_hint_ok ? xtcp_rtx_find(sk, xs->rtx_hint) :
				xtcp_rtx_head(sk);
	for (; skb; skb = skb_rb_next(skb)) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
		u32 in_flight = xtcp_packets_in_flight(xs);

		if (!cb->lost || cb->retrans)
			continue;
		if (in_flight >= xs->snd_cwnd) {
			/* Window-limited: recovery after an RTO may grow. */
			xtcp_cwnd_validate(sk, true);
			break;
		}
		if (xtcp_retransmit_skb(sk, skb, xs->snd_cwnd - in_flight))
			break;
		cb->retrans = 1;
		xs->retrans_out += cb->pcount;
	}
	xs->xmit_clock = clock;
	xs->rtx_hint = skb ? XTCP_SKB_CB(skb)->seq : xs->snd_nxt;
	xs->rtx_hint_ok = true;
}

/*
 * The MSS shrank: what was sent in bigger segments is lost now, and goes
 * again, cut to size, without a congestion response (RFC 1191 is not a
 * congestion signal; tcp_simple_retransmit()).
 */
void xtcp_simple_retransmit(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mss = xtcp_current_mss(sk);
	struct sk_buff *skb;

	for (skb = xtcp_rtx_head(sk); skb; skb = skb_rb_next(skb)) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if ((cb->pcount > 1 ? xtcp_skb_mss(sk, skb) : skb->len) <= mss)
			continue;
		if (cb->retrans) {
			cb->retrans = 0;
			xs->retrans_out -= cb->pcount;
		}
		xtcp_mark_skb_lost(xs, skb);
		xtcp_tsorted_drop(skb);
	}
	xs->rtx_hint_ok = false;
	xtcp_xmit_retransmit_queue(sk);
}
