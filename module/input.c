// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the receive path and the state machine (RFC 9293 3.10.7).
 * The passive open is in listen.c, ICMP errors in icmp.c, the RTT
 * estimator in rtt.c.
 *
 * ip_local_deliver_finish() calls xtcp_v4_rcv() in softirq, under
 * rcu_read_lock(), for every datagram with protocol xtcp_ipproto. It
 * validates the segment, finds its socket (established table, then
 * TIME_WAIT entries, then listeners) and, unless a user owns the socket,
 * runs the whole state machine right there under the socket's bh lock.
 * When a user owns it, the segment waits on the socket's backlog and
 * release_sock() feeds it to xtcp_do_rcv() later. Every segment that is
 * dropped is counted under the reason why.
 */
#define pr_fmt(fmt) "xtcp: " fmt

#include <linux/sizes.h>
#include <linux/skbuff.h>
#include <net/protocol.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/icmp.h>
#include <net/inet_connection_sock.h>
#include <net/secure_seq.h>
#include <net/tcp.h>
#include <net/xfrm.h>
#include <linux/netfilter.h>

#include "xtcp.h"
#include "trace.h"

/* Duplicate ACKs, or SACKed segments above a hole, that mean a loss. */

static int xtcp_payload_len(const struct sk_buff *skb)
{
	return skb->len - tcp_hdr(skb)->doff * 4;
}

/*
 * RFC 9293 3.10.7.4 first check, in the form Linux TCP uses
 * (tcp_sequence()): the segment must not end before what we last
 * acknowledged, nor start beyond the right edge of our window. Overlaps
 * are trimmed when the payload is queued.
 */
static bool xtcp_sequence_ok(const struct xtcp_sock *xs,
			     const struct xtcp_skb_cb *cb)
{
	u32 right = xs->rcv_wup + xs->rcv_wnd;

	if (before(right, xs->rcv_nxt))
		right = xs->rcv_nxt;
	return !before(cb->end_seq, xs->rcv_wup) && !after(cb->seq, right);
}

/*
 * Take the peer's timestamp as ts_recent when the segment covers rcv_wup
 * and the timestamp is not older (tcp_replace_ts_recent()). Only for a
 * segment that passed every check, its ACK included: one spoofed segment
 * with a huge TSval would otherwise make PAWS drop all genuine traffic.
 */
static void xtcp_replace_ts_recent(struct xtcp_sock *xs,
				   const struct xtcp_skb_cb *cb)
{
	const struct xtcp_options *o = &xs->rx_opt;

	if (!o->tstamp_ok || !o->saw_tstamp || after(cb->seq, xs->rcv_wup))
		return;
	if ((s32)(xs->ts_recent - o->rcv_tsval) <= 0 || !xs->ts_recent ||
	    !time_before32(ktime_get_seconds(),
			   xs->ts_recent_stamp + TCP_PAWS_24DAYS)) {
		xs->ts_recent = o->rcv_tsval;
		xs->ts_recent_stamp = ktime_get_seconds();
	}
}

/*
 * The RTT sample of what an ACK newly SACKed (xtcp_sack_process() left
 * the earliest such skb's sending time), or -1; taken once.
 */
static long xtcp_sack_rtt(struct xtcp_sock *xs)
{
	u64 sent = xs->sack_first_sent;

	xs->sack_first_sent = 0;
	return sent ? xtcp_rtt_since(sent) : -1;
}

/*
 * Remove what @ack covers from the write queue and the scoreboard, with
 * the acknowledged head of an skb of several segments, and take the RTT
 * sample (rtt.c): the age of the oldest skb acknowledged that was not
 * SACKed before, unless any was retransmitted; or @sack_rtt_us. Returns
 * the number of segments acknowledged.
 */
static u32 xtcp_clean_rtx_queue(struct sock *sk, u32 ack, long sack_rtt_us,
				long *ca_rtt_us)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool retrans_acked = false;
	struct sk_buff *skb;
	u64 first = 0, last = 0;
	u32 acked = 0;

	while ((skb = xtcp_rtx_head(sk))) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
		bool whole = !after(cb->end_seq, ack);

		if (!whole) {
			u32 pcount = cb->pcount, mss = xtcp_skb_mss(sk, skb);
			u32 len = rounddown(ack - cb->seq, mss);

			/* Whole segments of it are acknowledged. */
			if (pcount < 2 || !len || !before(cb->seq, ack) ||
			    xtcp_trim_head(sk, skb, len))
				break;
			acked += pcount - cb->pcount;
		} else {
			acked += cb->pcount;
		}
		if (cb->retransmitted) {
			retrans_acked = true;
		} else if (!cb->sacked) {
			last = skb->tstamp;
			if (!first)
				first = last;
		}
		if (!cb->sacked)
			xtcp_rack_advance(sk, skb);
		if (!whole)
			break;
		xtcp_skb_unaccount(xs, skb);
		xtcp_rtx_unlink(sk, skb);
		xtcp_free_skb(sk, skb);
	}

	retrans_acked |= !first;
	*ca_rtt_us = xtcp_ack_update_rtt(sk, retrans_acked ? -1 :
					 xtcp_rtt_since(first), sack_rtt_us,
					 retrans_acked ? -1 :
					 xtcp_rtt_since(last), acked);
	return acked;
}

static bool xtcp_our_fin_acked(const struct xtcp_sock *xs)
{
	return xs->fin_queued && xs->snd_una == xs->write_seq;
}

/*
 * Loss detection and recovery after an ACK. With SACK, RACK (rack.c)
 * marks what is lost by time and recovery starts when something is; with
 * the rack knob off, the third duplicate ACK or three segments SACKed
 * above a hole start it (RFC 6675). Without SACK, NewReno (RFC 6582)
 * counts duplicate ACKs. Recovery ends once everything sent before it is
 * acknowledged; in it, cwnd follows proportional rate reduction, then
 * what is lost is sent again (tcp_fastretrans_alert(), tcp_cong_control()
 * and tcp_xmit_recovery() in this order). @prior_sacked and @prior_lost:
 * sacked_out and lost before the ACK; @una_advanced: it moved snd_una.
 */
static void xtcp_recovery(struct sock *sk, u32 acked, bool dupack,
			  u32 prior_sacked, u32 prior_lost, bool una_advanced,
			  bool ece)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool sack = xs->rx_opt.sack_ok, rack = xtcp_rack_enabled(sk);

	if (!sack) {
		/* Reno: each duplicate ACK stands for a segment that left. */
		if (dupack && xs->sacked_out + xs->lost_out + 1 < xs->packets_out)
			xs->sacked_out++;
		else if (acked)
			xs->sacked_out -= min(acked - 1, xs->sacked_out);
	}
	if (rack)
		xtcp_rack_mark_lost(sk);

	switch (xs->ca_state) {
	case XTCP_CA_CWR:
		/*
		 * Held until something above high_seq is acknowledged, so
		 * that our CWR reached the peer (tcp_fastretrans_alert()).
		 */
		if (after(xs->snd_una, xs->high_seq))
			xtcp_cong_end_reduction(sk);
		fallthrough;
	case XTCP_CA_OPEN:
		if (rack ? !xs->lost_out :
		    xs->dupacks < XTCP_DUPTHRESH &&
		    !(sack && xs->sacked_out >= XTCP_DUPTHRESH)) {
			/* An ECN echo: one reduction per window. */
			if (ece)
				xtcp_cong_enter_cwr(sk);
			break;
		}
		xtcp_enter_recovery(sk);
		if (!rack)
			xtcp_mark_lost(sk);
		break;
	case XTCP_CA_RECOVERY:
	case XTCP_CA_LOSS:
		if (!before(xs->snd_una, xs->high_seq)) {
			if (!sack)
				xs->sacked_out = 0;
			xtcp_cong_exit_recovery(sk);
			break;
		}
		/* A partial ACK: the new head was lost too (RFC 6582). */
		if (xs->ca_state == XTCP_CA_RECOVERY && !rack &&
		    (acked || sack))
			xtcp_mark_lost(sk);
		break;
	}
	/*
	 * Delivered: acknowledged or SACKed by this ACK, less what was
	 * SACKed before and is acknowledged now (Reno: what dupacks count).
	 */
	if (xs->ca_state == XTCP_CA_RECOVERY || xs->ca_state == XTCP_CA_CWR)
		xtcp_cwnd_reduction(sk, (int)(acked + xs->sacked_out -
					      prior_sacked),
				    xs->lost - prior_lost, una_advanced);
	xtcp_xmit_retransmit_queue(sk);
}

/*
 * RFC 9293 3.10.7.4 fifth check, for the synchronized states. Returns
 * false if the segment must be dropped.
 */
static bool xtcp_ack(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	u32 ack = cb->ack_seq, acked = 0, prior_sacked = xs->sacked_out;
	u32 prior_lost = xs->lost, prior_packets = xs->packets_out;
	bool dupack = false, dsack = false;
	long ca_rtt_us = -1;
	/* An ECN echo (tcp_ecn_rcv_ecn_echo()). */
	bool ece = (xs->ecn_flags & XTCP_ECN_OK) && th->ece && !th->syn;

	trace_xtcp_probe(sk, skb);
	if (before(ack, xs->snd_una)) {
		/*
		 * RFC 5961 5.2: an ACK older than a window is no genuine
		 * one; a window, that is, of what was ever sent and
		 * acknowledged, never more (tcp_ack()).
		 */
		u32 win = min_t(u64, xs->max_window, xs->bytes_acked);

		if (before(ack, xs->snd_una - win)) {
			xtcp_drop_stats(sock_net(sk), sk, skb, XTCP_MIB_BADACK);
			xtcp_send_challenge_ack(sk);
			return false;
		}
		/*
		 * Merely old: its SACK blocks still count, the window and
		 * ts_recent stay; the payload goes on to be processed.
		 */
		if (xs->rx_opt.num_sacks) {
			u32 prior_sacked = xs->sacked_out, prior_lost = xs->lost;

			xtcp_sack_process(sk, xs->snd_una);
			xs->sack_first_sent = 0;	/* old: not timed */
			if (xs->ca_state != XTCP_CA_OPEN || xs->sacked_out ||
			    xs->lost_out)
				xtcp_recovery(sk, 0, false, prior_sacked,
					      prior_lost, false, false);
		}
		return true;
	}
	if (after(ack, xs->snd_nxt)) {
		/* Acknowledges something not yet sent (RFC 9293 3.10.7.4). */
		xtcp_drop_stats(sock_net(sk), sk, skb, XTCP_MIB_BADACK);
		return false;
	}
	xtcp_replace_ts_recent(xs, cb);

	if (xs->rx_opt.num_sacks)
		dsack = xtcp_sack_process(sk, ack);
	/* Nothing new acknowledged: what it SACKed may still be timed. */
	if (!after(ack, xs->snd_una) && xs->sack_first_sent)
		ca_rtt_us = xtcp_ack_update_rtt(sk, -1, xtcp_sack_rtt(xs), -1,
						false);

	/* Any acceptable ACK shows the peer is alive (tcp_ack()). */
	xs->probes_out = 0;
	xs->ka_probes_out = 0;
	if (after(ack, xs->snd_una)) {
		acked = xtcp_clean_rtx_queue(sk, ack, xtcp_sack_rtt(xs),
					     &ca_rtt_us);
		xs->bytes_acked += ack - xs->snd_una;
		xs->snd_una = ack;
		/* The hint is a sequence number: keep it inside the window. */
		if (before(xs->rtx_hint, ack))
			xs->rtx_hint = ack;
		xs->dupacks = 0;
		xtcp_timer_on_ack(sk);
		if (sk->sk_socket &&
		    test_bit(SOCK_NOSPACE, &sk->sk_socket->flags))
			sk->sk_write_space(sk);
	} else if (ack == xs->snd_una && xs->packets_out &&
		   cb->end_seq == cb->seq && !th->syn && !th->fin &&
		   ((ntohs(th->window) << xs->rx_opt.snd_wscale) ==
		    xs->snd_wnd || xs->sacked_out > prior_sacked)) {
		/* A duplicate ACK (RFC 5681 2). */
		xs->dupacks++;
		dupack = true;
	}
	/* Congestion control sees each ACK's RTT (pkts_acked()). */
	if (ca_rtt_us >= 0 && xs->cc->acked)
		xs->cc->acked(sk, ca_rtt_us);

	/* RFC 9293: update the window from the most recent segment. */
	if (before(xs->snd_wl1, cb->seq) ||
	    (xs->snd_wl1 == cb->seq && !before(ack, xs->snd_wl2))) {
		u32 nwin = ntohs(th->window) << xs->rx_opt.snd_wscale;

		/*
		 * A window that opens after a long wait may restart cwnd;
		 * not if this ACK found anything in flight (Linux checks
		 * before it cleans the retransmission queue).
		 */
		if (nwin != xs->snd_wnd && xtcp_send_head(sk) && !prior_packets)
			xtcp_cwnd_restart_check(sk);
		xs->snd_wnd = nwin;
		xs->snd_wl1 = cb->seq;
		xs->snd_wl2 = ack;
		xtcp_max_window_update(sk);
	}

	if (xs->tlp_high_seq)
		xtcp_tlp_ack(sk, ack, dsack,
			     !acked && cb->end_seq == cb->seq &&
			     xs->sacked_out == prior_sacked);
	/*
	 * The peer entered CWR: no more ECE from us; data that says so is
	 * ACKed at once (xtcp_data_queue()).
	 */
	if (th->cwr)
		xs->ecn_flags &= ~XTCP_ECN_DEMAND_CWR;
	if (xs->ca_state != XTCP_CA_OPEN || dupack || xs->sacked_out ||
	    xs->lost_out || ece)
		xtcp_recovery(sk, acked, dupack, prior_sacked, prior_lost,
			      acked > 0, ece);
	if (xs->ca_state != XTCP_CA_RECOVERY && xs->ca_state != XTCP_CA_CWR)
		xtcp_cong_on_ack(sk, acked);
	xtcp_update_pacing_rate(sk);
	if (acked)
		xtcp_tlp_schedule(sk);
	return true;
}

/*
 * RFC 3168 6.1.3 (tcp_ecn_check_ce()): data the network marked CE is
 * echoed with ECE on every ACK until the peer's CWR, and ACKed at once;
 * data without ECT after ECT data is likely a retransmission: ACK soon.
 */
static void xtcp_ecn_check_ce(struct sock *sk, const struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!(xs->ecn_flags & XTCP_ECN_OK))
		return;
	switch (ipv4_get_dsfield(ip_hdr(skb)) & INET_ECN_MASK) {
	case INET_ECN_NOT_ECT:
		if (xs->ecn_flags & XTCP_ECN_SEEN)
			xtcp_enter_quickack(xs, 2);
		return;
	case INET_ECN_CE:
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ECNCERECV);
		if (!(xs->ecn_flags & XTCP_ECN_DEMAND_CWR)) {
			xtcp_enter_quickack(xs, 2);
			xs->ecn_flags |= XTCP_ECN_DEMAND_CWR;
		}
		break;
	}
	xs->ecn_flags |= XTCP_ECN_SEEN;
}

/* What a segment's payload did to the receive side. */
struct xtcp_rcv_result {
	bool queued;		/* the skb is the socket's now */
	bool fin;		/* rcv_nxt reached the peer's FIN */
	bool ack_now;		/* out of order, duplicate, or hole filled */
};

/*
 * The peer's segment size, from in-order data (tcp_measure_rcv_mss()); a
 * GSO skb (veth, loopback) stands for segments of gso_size. @skb's
 * header is already pulled.
 */
static void xtcp_measure_rcv_mss(struct sock *sk, const struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned int lss = xs->last_seg_size;
	unsigned int len = skb_shinfo(skb)->gso_size ? : skb->len;
	const struct tcphdr *th = tcp_hdr(skb);

	xs->last_seg_size = 0;
	if (len >= xs->rcv_mss) {
		xs->rcv_mss = min_t(unsigned int, len, xs->advmss);
		/* A full segment with PSH most likely ends a write. */
		if (th->psh)
			xs->ack_pushed |= XTCP_ACK_PUSHED;
		return;
	}
	/*
	 * Smaller: the peer's MSS if it came twice running, full sized
	 * (no PSH, URG or FIN) or at least 536 bytes; the header that
	 * counts is the one every segment carries (timestamps), not SACK.
	 */
	len += skb->data - skb_transport_header(skb);
	if (len >= XTCP_DEFAULT_MSS + sizeof(struct tcphdr) ||
	    (len >= TCP_MIN_MSS + sizeof(struct tcphdr) &&
	     !th->psh && !th->urg && !th->fin && !th->syn)) {
		len -= sizeof(struct tcphdr) +
		       (xs->rx_opt.tstamp_ok ? TCPOLEN_TSTAMP_ALIGNED : 0);
		xs->last_seg_size = len;
		if (len == lss) {
			xs->rcv_mss = len;
			return;
		}
	}
	if (xs->ack_pushed & XTCP_ACK_PUSHED)
		xs->ack_pushed |= XTCP_ACK_PUSHED2;
	xs->ack_pushed |= XTCP_ACK_PUSHED;
}

/*
 * Receive window growth (tcp_grow_window()): rcv_ssthresh, the most the
 * window offers while the buffer is not yet known to be big enough, grows
 * by two segments for each segment whose memory cost (truesize) would fit
 * the buffer at the window's ratio, up to window_clamp and the free space.
 * A segment in page fragments counts without its head (@adjust: in-order
 * data, which the receive queue may merge). While it grows, ACKs go out
 * at once. Under memory pressure it shrinks to four segments instead.
 */
static void xtcp_grow_window(struct sock *sk, const struct sk_buff *skb,
			     bool adjust)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int room = min_t(int, xs->window_clamp, xtcp_space(sk)) -
		   xs->rcv_ssthresh;
	unsigned int truesize = skb->truesize;
	int incr = 0;

	if (room <= 0)
		return;
	if (sk_under_memory_pressure(sk)) {
		xs->rcv_ssthresh = min(xs->rcv_ssthresh, 4U * xs->advmss);
		return;
	}
	if (adjust && !skb_headlen(skb)) {
		truesize -= SKB_TRUESIZE(skb_end_offset(skb));
		if ((int)truesize < (int)skb->len)
			truesize = skb->truesize;
	}
	if (xtcp_win_from_space(truesize) <= skb->len) {
		incr = 2 * xs->advmss;
	} else {
		/* Would a window this large still fit the largest buffer? */
		int rmem2 = READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_rmem[2]);
		int ts = xtcp_win_from_space(truesize) >> 1;
		int window = xtcp_win_from_space(rmem2) >> 1;

		while (xs->rcv_ssthresh <= window) {
			if (ts <= skb->len) {
				incr = 2 * xs->rcv_mss;
				break;
			}
			ts >>= 1;
			window >>= 1;
		}
	}
	if (incr) {
		incr = max_t(int, incr, 2 * skb->len);
		xs->rcv_ssthresh += min(room, incr);
		if (!xs->quickack)
			xs->quickack = 1;
	}
}

/*
 * Payload and FIN of an acceptable segment (RFC 9293 3.10.7.4 seventh
 * and eighth checks): in order to the receive queue, beyond rcv_nxt to the
 * out-of-order queue, duplicates reported by D-SACK. A reader skips by
 * sequence number what an overlapping skb repeats, so nothing is trimmed
 * but the header.
 */
static void xtcp_data_queue(struct sock *sk, struct sk_buff *skb,
			    struct xtcp_rcv_result *res)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	int len = xtcp_payload_len(skb);
	bool fin = tcp_hdr(skb)->fin;

	if (!len && !fin)
		return;
	/* Data with CWR: the peer's cwnd may be small (tcp_ecn_accept_cwr()). */
	if (tcp_hdr(skb)->cwr)
		res->ack_now = true;
	if (!after(cb->end_seq, xs->rcv_nxt)) {
		/* All of it arrived before. */
		xtcp_dsack_set(sk, cb->seq, cb->end_seq);
		res->ack_now = true;
		return;
	}
	/*
	 * A zero window takes no data, however it came (tcp_data_queue()):
	 * the ACK that drops it shows the window again. A bare FIN is
	 * still taken, it costs nothing.
	 */
	if (len && !after(xs->rcv_wup + xs->rcv_wnd, xs->rcv_nxt)) {
		if (before(cb->seq, xs->rcv_nxt))
			xtcp_dsack_set(sk, cb->seq, xs->rcv_nxt);
		xtcp_drop_stats(sock_net(sk), sk, skb, XTCP_MIB_ZEROWINDOWDROP);
		xtcp_enter_quickack(xs, XTCP_QUICKACKS);
		res->ack_now = true;
		return;
	}
	/*
	 * The window promised at most half the free buffer in payload; skb
	 * overhead can double that, so only beyond twice the buffer is it
	 * memory we must refuse.
	 */
	if (len && atomic_read(&sk->sk_rmem_alloc) + skb->truesize >
	    2 * READ_ONCE(sk->sk_rcvbuf) &&
	    (after(cb->seq, xs->rcv_nxt) ||
	     !xtcp_ofo_prune(sk, skb->truesize))) {
		/* Out-of-order data never pushes out data in order. */
		xtcp_drop_stats(sock_net(sk), sk, skb, XTCP_MIB_RCVBUFDROP);
		res->ack_now = true;
		return;
	}
	/* Nor is data taken beyond the protocol's memory (mem_max). */
	if (len && !sk_rmem_schedule(sk, skb, skb->truesize)) {
		xtcp_drop_stats(sock_net(sk), sk, skb, XTCP_MIB_RCVBUFDROP);
		res->ack_now = true;
		return;
	}
	if (len) {
		xs->data_segs_in += skb_shinfo(skb)->gso_segs ? : 1;
		xtcp_ecn_check_ce(sk, skb);
	}
	xs->last_data_recv = jiffies;
	__skb_pull(skb, tcp_hdr(skb)->doff * 4);
	skb_dst_drop(skb);

	if (after(cb->seq, xs->rcv_nxt)) {
		/* Out of order: keep it, ACK at once with SACK. */
		res->ack_now = true;
		/*
		 * Without SACK the window does not grow: the peer's fast
		 * retransmit needs duplicate ACKs (tcp_data_queue_ofo()).
		 */
		if (xs->rx_opt.sack_ok && len)
			xtcp_grow_window(sk, skb, false);
		skb_set_owner_r(skb, sk);
		res->queued = xtcp_ofo_queue(sk, skb);
		return;
	}
	if (before(cb->seq, xs->rcv_nxt))
		xtcp_dsack_set(sk, cb->seq, xs->rcv_nxt);
	xs->bytes_received += cb->end_seq - fin - xs->rcv_nxt;
	xs->rcv_nxt = cb->end_seq - fin;
	if (len)
		xtcp_measure_rcv_mss(sk, skb);
	if (len >= 128)
		xtcp_grow_window(sk, skb, true);
	if (len) {
		skb_set_owner_r(skb, sk);
		__skb_queue_tail(&sk->sk_receive_queue, skb);
		res->queued = true;
	}
	res->fin = fin;
	if (!RB_EMPTY_ROOT(&xs->ooo_queue)) {
		/* A hole filled: tell the peer at once. */
		res->ack_now = true;
		if (!fin)
			res->fin = xtcp_ofo_drain(sk);
	}
}

/*
 * Is an ACK owed, and must it leave now? At once for out-of-order data,
 * duplicates, a filled hole or a FIN (@now), in quick-ACK mode, and when
 * more than one full-sized segment is unacknowledged (RFC 5681 4.2) and
 * the ACK would not offer less window than the last one did: an ACK that
 * only shrinks the offer waits for the reader (xtcp_cleanup_rbuf()) or
 * the delayed-ACK timer (__tcp_ack_snd_check()), unless the reader waits
 * for more than SO_RCVLOWAT. Otherwise the delayed-ACK timer sends it
 * unless data of ours takes it along first.
 */
static void xtcp_ack_snd_check(struct sock *sk, bool now)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (sk->sk_state == TCP_CLOSE)
		return;
	if (!now && xs->rcv_nxt == xs->rcv_wup && !xs->dsack_pending)
		return;		/* nothing new, or already acknowledged */
	/* In Linux's order: the window check may end quick ACKs. */
	if (now ||
	    (xs->rcv_nxt - xs->rcv_wup > xs->rcv_mss &&
	     (xs->rcv_nxt - xs->copied_seq < READ_ONCE(sk->sk_rcvlowat) ||
	      __xtcp_select_window(sk) >= xs->rcv_wnd)) ||
	    (xs->quickack && !xs->pingpong)) {
		if (!now && xs->quickack && !xs->pingpong)
			xs->quickack--;
		xtcp_send_ack(sk);
		return;
	}
	xtcp_timer_delack(sk);
}

/*
 * RFC 7323 5: PAWS. A segment whose timestamp is older than ts_recent by
 * more than TCP_PAWS_WINDOW (one tick: segments stamped on two CPUs may
 * leave a millisecond out of order, as tcp_paws_discard() allows), with
 * ts_recent less than 24 days old and not 0, is an old duplicate. A pure
 * duplicate ACK that changes no window and is older by less than an RTO
 * is let through, as Linux TCP's tcp_disordered_ack() does, since ACKs
 * may overtake each other harmlessly.
 */
static bool xtcp_paws_reject(const struct xtcp_sock *xs,
			     const struct xtcp_skb_cb *cb,
			     const struct tcphdr *th)
{
	const struct xtcp_options *o = &xs->rx_opt;
	u32 nwin = ntohs(th->window) << o->snd_wscale;

	if (!o->tstamp_ok || !o->saw_tstamp || th->rst || !xs->ts_recent ||
	    (s32)(xs->ts_recent - o->rcv_tsval) <= TCP_PAWS_WINDOW)
		return false;
	if (!time_before32(ktime_get_seconds(),
			   xs->ts_recent_stamp + TCP_PAWS_24DAYS))
		return false;
	if (th->ack && !th->syn && cb->seq == cb->end_seq &&
	    cb->seq == xs->rcv_nxt && cb->ack_seq == xs->snd_una &&
	    !after(cb->seq, xs->snd_wl1) &&
	    !(cb->seq == xs->snd_wl1 && nwin > xs->snd_wnd) &&
	    (s32)(xs->ts_recent - o->rcv_tsval) <=
	    jiffies_to_msecs(xs->rto) * 1024 / 1000)
		return false;
	return true;
}

/* The peer's FIN (RFC 9293 3.10.7.4 eighth check). */
static void xtcp_fin(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->rcv_nxt++;
	xs->bytes_received++;	/* as Linux TCP counts it */
	sk->sk_shutdown |= RCV_SHUTDOWN;
	sock_set_flag(sk, SOCK_DONE);

	switch (sk->sk_state) {
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
		xtcp_set_state(sk, TCP_CLOSE_WAIT);
		/* What we send now answers the peer (tcp_fin()). */
		xs->pingpong = true;
		break;
	case TCP_FIN_WAIT1:
		/* Our FIN is not acknowledged yet: simultaneous close. */
		xtcp_set_state(sk, TCP_CLOSING);
		break;
	}
	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		if (sk->sk_shutdown == SHUTDOWN_MASK ||
		    sk->sk_state == TCP_CLOSE)
			sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_HUP);
		else
			sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_IN);
	}
}

/* A passive child got its ACK: hand it to the listener's accept queue. */
static void xtcp_child_established(struct sock *sk)
{
	struct sock *parent = xtcp_sk(sk)->parent;
	struct xtcp_listen_queue *lq;

	if (!parent)
		return;
	lq = &xtcp_sk(parent)->lq;
	spin_lock_bh(&lq->lock);
	/* A listener that is closing resets its children itself. */
	if (!lq->closed && !list_empty(&xtcp_sk(sk)->q_node)) {
		list_move_tail(&xtcp_sk(sk)->q_node, &lq->accept);
		xtcp_sk(sk)->in_accept_q = true;
		lq->syn_len--;
		sk_acceptq_added(parent);
	}
	spin_unlock_bh(&lq->lock);
	parent->sk_data_ready(parent);
}

/*
 * The handshake is over, by its ACK or a cookie's (tcp_init_transfer()):
 * the RTO from the handshake's sample, and the clocks of TCP_INFO's idle
 * times and of cwnd's use start now.
 */
void xtcp_init_transfer(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xtcp_set_state(sk, TCP_ESTABLISHED);
	/*
	 * From here advmss is the payload the peer's full segments carry:
	 * less the timestamps (tcp_rcv_synsent_state_process(),
	 * tcp_rcv_state_process()). The MSS option has been sent.
	 */
	if (xs->rx_opt.tstamp_ok)
		xs->advmss -= TCPOLEN_TSTAMP_ALIGNED;
	/* The first guess at the peer's segments (tcp_initialize_rcv_mss()). */
	xs->rcv_mss = clamp_t(u32, min3((u32)xs->advmss, (u32)xs->mss_cache,
					xs->rcv_wnd / 2),
			      TCP_MIN_MSS, XTCP_DEFAULT_MSS);
	xtcp_init_buffer_space(sk);
	/* The algorithm starts here (tcp_init_congestion_control()). */
	xs->cc->init(sk);
	xs->pushed_seq = xs->write_seq;
	xtcp_rtt_established(sk);
	xtcp_update_pacing_rate(sk);
	xs->rcv_tstamp = jiffies;
	xs->last_data_recv = jiffies;
	xs->last_data_sent = jiffies;
	xs->snd_cwnd_stamp = jiffies;
	xtcp_timer_keepalive(sk);
}

static void xtcp_established(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xtcp_init_transfer(sk);
	if (xs->parent) {
		/* The listener's TCP_DEFER_ACCEPT is not the child's. */
		WRITE_ONCE(xs->defer_accept, 0);
		xtcp_child_established(sk);
	} else if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		sk_wake_async(sk, SOCK_WAKE_IO, POLL_OUT);
	}
}

/* RFC 9293 3.10.7.3: SYN-SENT. */
static void xtcp_synsent_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	struct xtcp_options peer = {};
	long ca_rtt_us = -1;

	if (th->ack && (!after(cb->ack_seq, xs->iss) ||
			after(cb->ack_seq, xs->snd_nxt))) {
		xtcp_drop_stats(sock_net(sk), sk, skb, XTCP_MIB_BADACK);
		xtcp_timer_syn_soon(sk);
		xtcp_send_reset_reply(sock_net(sk), skb);
		goto drop;
	}
	if (th->rst) {
		if (th->ack) {
			XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ATTEMPTFAILS);
			trace_xtcp_receive_reset(sk);
			xtcp_reset(sk, ECONNREFUSED);
		}
		goto drop;
	}
	if (!th->syn)
		goto drop;

	xtcp_parse_options(th, &peer, true);
	/*
	 * ECN holds if the SYN-ACK has ECE without CWR
	 * (tcp_ecn_rcv_synack()), or a crossing SYN has both
	 * (tcp_ecn_rcv_syn()).
	 */
	if ((xs->ecn_flags & XTCP_ECN_OK) &&
	    (!th->ece || (th->ack ? th->cwr : !th->cwr)))
		xs->ecn_flags &= ~XTCP_ECN_OK;
	xs->irs = cb->seq;
	xs->rcv_nxt = cb->seq + 1;
	xs->rcv_wup = xs->rcv_nxt;
	xs->copied_seq = xs->rcv_nxt;
	/* A SYN's window is never scaled (RFC 7323 2.2). */
	xs->snd_wnd = ntohs(th->window);
	xs->max_window = xs->snd_wnd;
	/* After max_window: the MSS is bound to half of it. */
	xtcp_negotiate(sk, &peer);
	xs->snd_wl1 = cb->seq;
	xs->snd_wl2 = cb->ack_seq;
	xs->rcv_tstamp = jiffies;

	if (th->ack) {
		/* The SYN's round trip is the first sample (Karn's rule). */
		xtcp_clean_rtx_queue(sk, cb->ack_seq, -1, &ca_rtt_us);
		/* Our SYN counts as acknowledged, as in Linux TCP. */
		xs->bytes_acked += cb->ack_seq - xs->snd_una;
		xs->snd_una = cb->ack_seq;
		xtcp_timer_on_ack(sk);
		xtcp_established(sk, skb);
		/*
		 * A writer waiting for the connection, TCP_DEFER_ACCEPT or
		 * interactive mode: the ACK waits for data to ride on. Until
		 * it leaves, rcv_wup stays on the SYN, which marks it owed.
		 */
		if (sk->sk_write_pending || READ_ONCE(xs->defer_accept) ||
		    xs->pingpong) {
			xtcp_enter_quickack(xs, XTCP_QUICKACKS);
			xs->rcv_wup = xs->irs;
			xtcp_timer_delack_synack(sk);
		} else {
			xtcp_send_ack(sk);
		}
		xtcp_push_pending(sk);
	} else {
		/* Simultaneous open: our SYN goes out again as a SYN-ACK. */
		struct sk_buff *syn = xtcp_rtx_head(sk);

		/* It says ECE if ECN holds, never CWR (tcp_ecn_send_synack()). */
		if (syn) {
			XTCP_SKB_CB(syn)->tcp_flags &= ~TCPHDR_CWR;
			if (!(xs->ecn_flags & XTCP_ECN_OK))
				XTCP_SKB_CB(syn)->tcp_flags &= ~TCPHDR_ECE;
		}
		xtcp_set_state(sk, TCP_SYN_RECV);
		xtcp_retransmit_head(sk);
		xtcp_timer_rearm_rtx(sk);
	}
drop:
	kfree_skb(skb);
}

/*
 * The duplicate ACK for an unacceptable segment (tcp_send_dupack()): data
 * we had already gets a D-SACK and speeds up our ACKs, since ours seem
 * to have been lost.
 */
static void xtcp_send_dupack(struct sock *sk, const struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	if (cb->end_seq != cb->seq && before(cb->seq, xs->rcv_nxt)) {
		xtcp_enter_quickack(xs, XTCP_QUICKACKS);
		xtcp_dsack_set(sk, cb->seq, after(cb->end_seq, xs->rcv_nxt) ?
			       xs->rcv_nxt : cb->end_seq);
	}
	xtcp_send_ack(sk);
}

/*
 * A RST one below rcv_nxt after the peer's FIN also resets: some stacks
 * send it so (tcp_reset_check()).
 */
static bool xtcp_reset_check(const struct sock *sk,
			     const struct xtcp_skb_cb *cb)
{
	return cb->seq == xtcp_sk(sk)->rcv_nxt - 1 &&
	       (1 << sk->sk_state) &
	       (TCPF_CLOSE_WAIT | TCPF_LAST_ACK | TCPF_CLOSING);
}

/*
 * RST processing for the synchronized states and SYN-RECEIVED
 * (RFC 9293 3.10.7.4 second check, with RFC 5961 section 3): only a RST
 * at exactly rcv_nxt resets; one merely in the window gets a challenge
 * ACK.
 */
static void xtcp_rcv_rst(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (XTCP_SKB_CB(skb)->seq != xs->rcv_nxt &&
	    !xtcp_reset_check(sk, XTCP_SKB_CB(skb))) {
		xtcp_send_challenge_ack(sk);
		return;
	}
	if ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ESTABRESETS);
	trace_xtcp_receive_reset(sk);
	xtcp_reset(sk, 0);
}

/*
 * An orphan in FIN_WAIT2 waits for nothing but the peer's FIN. Linux TCP
 * keeps it as a TIME_WAIT socket in FIN_WAIT2 (tcp_timewait_state_
 * process()), whose rules are not a full socket's, and xtcp follows them:
 * outside the window (or PAWS) an ACK, rate limited; a RST in the window
 * ends it silently, with no challenge ACK; a SYN at or above rcv_nxt, or
 * new data, gets a RST and ends it; an ACK without news is taken
 * silently. Returns false for the FIN at rcv_nxt, which the state
 * machine takes into TIME_WAIT.
 */
static bool xtcp_orphan_fin_wait2_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	struct net *net = sock_net(sk);
	u32 right = xs->rcv_nxt + xs->rcv_wnd;

	/* tcp_in_window() against [rcv_nxt, rcv_nxt + rcv_wnd]. */
	if ((xs->rx_opt.tstamp_ok && xs->rx_opt.saw_tstamp &&
	     xtcp_paws_reject_rst(xs->ts_recent, xs->ts_recent_stamp,
				  xs->rx_opt.rcv_tsval, th->rst)) ||
	    !(cb->seq == xs->rcv_nxt ||
	      (after(cb->end_seq, xs->rcv_nxt) && before(cb->seq, right)) ||
	      (cb->seq == right && cb->seq == cb->end_seq))) {
		if (!xtcp_oow_rate_limited(net, skb, XTCP_MIB_ACKSKIPPEDFINWAIT2,
					   &xs->last_oow_ack_time))
			xtcp_send_ack(sk);
		return true;
	}
	if (th->rst) {
		xtcp_done(sk);
		return true;
	}
	if (th->syn && !before(cb->seq, xs->rcv_nxt))
		goto reset;
	if (!th->ack || !after(cb->end_seq, xs->rcv_nxt) ||
	    cb->end_seq == cb->seq)
		return true;
	if (th->fin && cb->end_seq == xs->rcv_nxt + 1)
		return false;
reset:
	xtcp_send_reset_reply(net, skb);
	xtcp_done(sk);
	return true;
}

/*
 * The state machine for every state but TIME_WAIT (timewait.c). Called
 * with the socket locked (bh lock in softirq, or owned by the user while
 * its backlog is processed). Consumes @skb.
 */
int xtcp_rcv_state_process(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	struct net *net = sock_net(sk);
	struct xtcp_rcv_result res = {};
	long rtt_us;
	int oow_mib;

	/* The bh lock in softirq, or the owner draining its backlog. */
	lockdep_assert(lockdep_sock_is_held(sk));
	if (sk->sk_state != TCP_LISTEN)
		xs->segs_in += skb_shinfo(skb)->gso_segs ? : 1;
	switch (sk->sk_state) {
	case TCP_CLOSE:
		/*
		 * It closed while this segment waited in the backlog (most
		 * often into TIME_WAIT, whose entry answers for it now). As
		 * in Linux TCP, no RST: it would kill the entry's peer state.
		 */
		xtcp_drop_stats(net, sk, skb, XTCP_MIB_INCLOSED);
		goto drop;
	case TCP_LISTEN:
		xtcp_listen_rcv(sk, skb);
		return 0;
	case TCP_SYN_SENT:
		xtcp_synsent_rcv(sk, skb);
		return 0;
	}

	xtcp_parse_options(th, &xs->rx_opt, false);
	if (sk->sk_state == TCP_FIN_WAIT2 && sock_flag(sk, SOCK_DEAD) &&
	    xtcp_orphan_fin_wait2_rcv(sk, skb))
		goto drop;

	/*
	 * A segment with neither ACK, RST nor SYN means nothing in these
	 * states; dropped before it can draw an answer (tcp_rcv_established(),
	 * tcp_rcv_state_process()).
	 */
	if (!th->ack && !th->rst && !th->syn)
		goto drop;
	/* Answers to unacceptable segments count here as Linux TCP's. */
	oow_mib = sk->sk_state == TCP_SYN_RECV && xs->parent ?
		  XTCP_MIB_ACKSKIPPEDSYNRECV : XTCP_MIB_ACKSKIPPEDSEQ;

	/*
	 * A retransmitted SYN of a passive open: the SYN-ACK again, as
	 * often as invalid_ratelimit allows (tcp_check_req()).
	 */
	if (sk->sk_state == TCP_SYN_RECV && xs->parent && th->syn &&
	    !th->ack && !th->rst && cb->seq == xs->irs) {
		if (!xtcp_oow_rate_limited(net, skb, XTCP_MIB_ACKSKIPPEDSYNRECV,
					   &xs->last_oow_ack_time))
			xtcp_retransmit_head(sk);
		goto drop;
	}

	/*
	 * First: timestamps (PAWS), then the sequence number. What fails
	 * gets a duplicate ACK, at most one per invalid_ratelimit, so that
	 * two desynchronised hosts do not ACK each other at line rate.
	 */
	if (xtcp_paws_reject(xs, cb, th)) {
		xtcp_drop_stats(net, sk, skb, XTCP_MIB_PAWSDROP);
		if (!xtcp_oow_rate_limited(net, skb, XTCP_MIB_ACKSKIPPEDPAWS,
					   &xs->last_oow_ack_time))
			xtcp_send_dupack(sk, skb);
		goto drop;
	}
	if (!xtcp_sequence_ok(xs, cb)) {
		xtcp_drop_stats(net, sk, skb, XTCP_MIB_OUTOFWINDOW);
		if (th->rst) {
			if (xtcp_reset_check(sk, cb))
				xtcp_rcv_rst(sk, skb);
			goto drop;
		}
		if (th->syn)
			goto syn_challenge;
		if (!xtcp_oow_rate_limited(net, skb, oow_mib,
					   &xs->last_oow_ack_time))
			xtcp_send_dupack(sk, skb);
		goto drop;
	}
	/* Second: RST. */
	if (th->rst) {
		xtcp_rcv_rst(sk, skb);
		goto drop;
	}
	/*
	 * Fourth: SYN in a synchronized state (RFC 5961 section 4), except
	 * the SYN-ACK that completes a simultaneous open, as in Linux TCP.
	 */
	if (th->syn &&
	    !(sk->sk_state == TCP_SYN_RECV && !xs->parent && th->ack &&
	      cb->seq + 1 == xs->rcv_nxt && cb->ack_seq == xs->snd_nxt)) {
syn_challenge:
		XTCP_INC_STATS(net, XTCP_MIB_SYNCHALLENGE);
		xtcp_send_challenge_ack(sk);
		goto drop;
	}
	/* Fifth: ACK. */
	if (!th->ack)
		goto drop;

	if (sk->sk_state == TCP_SYN_RECV) {
		if (!after(cb->ack_seq, xs->snd_una) ||
		    after(cb->ack_seq, xs->snd_nxt)) {
			xtcp_drop_stats(net, sk, skb, XTCP_MIB_BADACK);
			xtcp_send_reset_reply(net, skb);
			goto drop;
		}
		xtcp_replace_ts_recent(xs, cb);
		/*
		 * TCP_DEFER_ACCEPT: a bare ACK completes nothing until the
		 * SYN-ACK timed out that many times; data does
		 * (tcp_check_req()).
		 */
		if (xs->parent && xs->retransmits < xs->defer_accept &&
		    cb->end_seq == xs->irs + 1) {
			xs->defer_acked = true;
			xtcp_drop_stats(net, sk, skb, XTCP_MIB_DEFERACCEPTDROP);
			goto drop;
		}
		/*
		 * No room in the accept queue: the ACK is dropped and the
		 * SYN-ACK's retransmission asks for it again later
		 * (tcp_v4_syn_recv_sock(), tcp_abort_on_overflow 0).
		 */
		if (xs->parent && sk_acceptq_is_full(xs->parent)) {
			xtcp_drop_stats(net, sk, skb, XTCP_MIB_ACCEPTQUEUEDROP);
			goto drop;
		}
		/*
		 * The SYN-ACK's round trip, or the echo of its timestamp
		 * if it went again (tcp_synack_rtt_meas()).
		 */
		xtcp_clean_rtx_queue(sk, cb->ack_seq, -1, &rtt_us);
		xs->snd_una = cb->ack_seq;
		xs->snd_wnd = ntohs(th->window) << xs->rx_opt.snd_wscale;
		xtcp_max_window_update(sk);
		xs->snd_wl1 = cb->seq;
		xs->snd_wl2 = cb->ack_seq;
		xtcp_timer_on_ack(sk);
		xtcp_established(sk, skb);
	} else if (!xtcp_ack(sk, skb)) {
		/*
		 * An unacceptable ACK. Linux TCP drops it silently in
		 * ESTABLISHED and challenges it in the other states.
		 */
		if (sk->sk_state != TCP_ESTABLISHED &&
		    !before(cb->ack_seq, xs->snd_una))
			xtcp_send_challenge_ack(sk);
		goto drop;
	}
	xs->rcv_tstamp = jiffies;

	switch (sk->sk_state) {
	case TCP_FIN_WAIT1:
		if (!xtcp_our_fin_acked(xs))
			break;
		if (sock_flag(sk, SOCK_DEAD) && xs->linger2 < 0) {
			/*
			 * TCP_LINGER2 < 0: the orphan ends, and the
			 * segment gets a RST (tcp_rcv_state_process()).
			 */
			XTCP_INC_STATS(net, XTCP_MIB_ABORTONDATA);
			xtcp_send_reset_reply(net, skb);
			xtcp_done(sk);
			goto drop;
		}
		xtcp_set_state(sk, TCP_FIN_WAIT2);
		sk->sk_shutdown |= SEND_SHUTDOWN;
		if (sock_flag(sk, SOCK_DEAD))
			xtcp_timer_fin_wait2(sk);
		else
			sk->sk_state_change(sk);
		break;
	case TCP_CLOSING:
		if (xtcp_our_fin_acked(xs)) {
			xtcp_time_wait(sk);
			goto drop;
		}
		break;
	case TCP_LAST_ACK:
		if (xtcp_our_fin_acked(xs)) {
			xtcp_done(sk);
			goto drop;
		}
		break;
	}

	/* Seventh: payload, in the states that still receive. */
	if ((1 << sk->sk_state) &
	    (TCPF_ESTABLISHED | TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2)) {
		int len = xtcp_payload_len(skb);

		if (len && (sk->sk_shutdown & RCV_SHUTDOWN) &&
		    sk->sk_state != TCP_ESTABLISHED &&
		    after(cb->end_seq - th->fin, xs->rcv_nxt)) {
			/* Data for an application that will never read it. */
			XTCP_INC_STATS(net, XTCP_MIB_ABORTONDATA);
			xtcp_send_active_reset(sk, GFP_ATOMIC);
			/* Traced as taking a RST, as tcp_reset() does here. */
			trace_xtcp_receive_reset(sk);
			xtcp_reset(sk, 0);
			goto drop;
		}
		xtcp_data_queue(sk, skb, &res);
	} else if (th->fin && !after(cb->end_seq, xs->rcv_nxt)) {
		/* A FIN again, after ours or theirs: ACK it again. */
		res.ack_now = true;
	}

	/* Eighth: FIN, once everything before it has arrived. */
	if (res.fin) {
		xtcp_fin(sk);
		if (sk->sk_state == TCP_FIN_WAIT2) {
			xtcp_send_ack(sk);
			xtcp_time_wait(sk);
			goto out;
		}
		res.ack_now = true;
	}

	if (res.queued && !sock_flag(sk, SOCK_DEAD))
		sk->sk_data_ready(sk);
	/* Data of ours takes the ACK along when it can. */
	xtcp_push_pending(sk);
	/*
	 * What left may make a writer's unsent bytes few enough
	 * (TCP_NOTSENT_LOWAT): tcp_check_space(), after the push.
	 */
	smp_mb();
	if (sk->sk_socket && test_bit(SOCK_NOSPACE, &sk->sk_socket->flags))
		sk->sk_write_space(sk);
	xtcp_ack_snd_check(sk, res.ack_now);
out:
	if (res.queued)
		return 0;
drop:
	kfree_skb(skb);
	return 0;
}

/*
 * sk->sk_backlog_rcv, and the direct path when nobody owns the socket.
 * release_sock() feeds the backlog with BH enabled; the state machine
 * runs with BH off all the same, as in softirq: it takes other sockets'
 * bh locks (a listener's new children) and must not be interrupted on
 * this CPU by a softirq that wants them, and what it transmits over
 * loopback is then processed only after it returns.
 */
int xtcp_do_rcv(struct sock *sk, struct sk_buff *skb)
{
	local_bh_disable();
	xtcp_rcv_state_process(sk, skb);
	local_bh_enable();
	return 0;
}

static void xtcp_fill_cb(struct sk_buff *skb, const struct tcphdr *th)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	cb->seq = ntohl(th->seq);
	cb->end_seq = cb->seq + th->syn + th->fin + skb->len - th->doff * 4;
	cb->ack_seq = ntohl(th->ack_seq);
	cb->tcp_flags = tcp_flag_byte(th);
	cb->tw_isn = 0;
	cb->when = 0;
	cb->retransmitted = 0;
}

/*
 * What the IPv4 stack runs for a socket before it sees a segment
 * (tcp_v4_rcv()): IP_MINTTL, the IPsec inbound policy, then the socket's
 * filters: SO_ATTACH_FILTER, cgroup-BPF ingress programs and the LSM
 * (sk_filter_trim_cap(), which may also trim the payload). Connection
 * tracking lets go of the skb as it enters the socket. Returns false if
 * the segment is to be dropped, counted.
 */
static bool xtcp_socket_filter(struct sock *sk, struct sk_buff *skb)
{
	struct net *net = sock_net(sk);
	u32 tw_isn = XTCP_SKB_CB(skb)->tw_isn;

	if (ip_hdr(skb)->ttl < READ_ONCE(inet_sk(sk)->min_ttl)) {
		xtcp_drop_stats(net, sk, skb, XTCP_MIB_MINTTLDROP);
		return false;
	}
	if (!xfrm4_policy_check(sk, XFRM_POLICY_IN, skb)) {
		xtcp_drop_stats(net, NULL, skb, XTCP_MIB_XFRMPOLICYDROP);
		return false;
	}
	nf_reset_ct(skb);
	if (sk_filter_trim_cap(sk, skb, tcp_hdr(skb)->doff * 4)) {
		XTCP_INC_STATS(net, XTCP_MIB_FILTERDROP);
		return false;
	}
	/* A trimmed payload ends earlier; keep what TIME_WAIT set. */
	xtcp_fill_cb(skb, tcp_hdr(skb));
	XTCP_SKB_CB(skb)->tw_isn = tw_isn;
	return true;
}

static int xtcp_v4_rcv(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);
	struct xtcp_net *xn = xtcp_pernet(net);
	const struct tcphdr *th;
	const struct iphdr *iph;
	struct xtcp_tuple tuple;
	bool retried = false;
	struct xtcp_tw *tw;
	struct sock *sk;

	BUILD_BUG_ON(sizeof(struct xtcp_skb_cb) > sizeof(skb->cb));
	XTCP_ADD_STATS(net, XTCP_MIB_INSEGS, skb_shinfo(skb)->gso_segs ? : 1);

	/* Unicast only: no link or IP broadcast, no multicast. */
	if (skb->pkt_type != PACKET_HOST ||
	    (skb_rtable(skb) && skb_rtable(skb)->rt_flags &
	     (RTCF_BROADCAST | RTCF_MULTICAST))) {
		xtcp_drop_stats(net, NULL, skb, XTCP_MIB_INNOTHOST);
		goto discard;
	}
	if (!pskb_may_pull(skb, sizeof(struct tcphdr)))
		goto bad_header;
	th = (const struct tcphdr *)skb->data;
	if (th->doff < sizeof(struct tcphdr) / 4 ||
	    !pskb_may_pull(skb, th->doff * 4))
		goto bad_header;
	if (skb_checksum_init(skb, xtcp_ipproto, inet_compute_pseudo) ||
	    skb_checksum_complete(skb)) {
		xtcp_drop_stats(net, NULL, skb, XTCP_MIB_INCSUMERRORS);
		goto discard;
	}

	th = tcp_hdr(skb);
	iph = ip_hdr(skb);
	xtcp_fill_cb(skb, th);
	tuple.laddr = iph->daddr;
	tuple.raddr = iph->saddr;
	tuple.lport = th->dest;
	tuple.rport = th->source;

lookup:
	sk = xtcp_ehash_lookup(xn, &tuple);
	if (!sk) {
		tw = xtcp_tw_lookup(xn, &tuple);
		if (tw) {
			/* IPsec policy first, as tcp_v4_rcv() does. */
			if (!xfrm4_policy_check(NULL, XFRM_POLICY_IN, skb)) {
				xtcp_drop_stats(net, NULL, skb, XTCP_MIB_XFRMPOLICYDROP);
				goto discard;
			}
			if (xtcp_tw_rcv(xn, tw, skb) == XTCP_TW_DROP)
				goto consumed;
		}
		sk = xtcp_listener_lookup(xn, iph->saddr, th->source,
					  iph->daddr, th->dest, inet_iif(skb));
		if (!sk)
			goto no_socket;
	}
	if (!xtcp_socket_filter(sk, skb))
		goto discard_and_relse;
	th = tcp_hdr(skb);
	iph = ip_hdr(skb);

	/*
	 * A listener takes its segments without the socket lock, as Linux's
	 * has since 4.4 (tcp_v4_rcv()): its SYN and accept queues have a
	 * lock of their own, a new child is locked from its birth
	 * (sk_clone_lock()), and what xtcp_listen_rcv() reads of the
	 * listener is read once. Taking the lock would send every SYN that
	 * comes while the owner is in accept() or setsockopt() to the
	 * backlog, which the owner then works through in its own context:
	 * under a SYN flood, seconds before accept() returns.
	 */
	if (sk->sk_state == TCP_LISTEN) {
		xtcp_listen_rcv(sk, skb);
		sock_put(sk);
		return 0;
	}

	bh_lock_sock_nested(sk);
	if (sk->sk_state == TCP_CLOSE && !retried) {
		/*
		 * It closed (perhaps into TIME_WAIT) between the lookup and
		 * the lock: look again, once.
		 */
		bh_unlock_sock(sk);
		sock_put(sk);
		retried = true;
		goto lookup;
	}
	/*
	 * The backlog takes both buffers' worth, and one more GSO skb of
	 * 64 KB on top, as tcp_add_backlog() allows.
	 */
	if (!sock_owned_by_user(sk)) {
		xtcp_do_rcv(sk, skb);
	} else if (sk_add_backlog(sk, skb, READ_ONCE(sk->sk_rcvbuf) +
				  READ_ONCE(sk->sk_sndbuf) + SZ_64K)) {
		bh_unlock_sock(sk);
		sock_put(sk);
		xtcp_drop_stats(net, NULL, skb, XTCP_MIB_BACKLOGDROP);
		goto discard;
	}
	bh_unlock_sock(sk);
	sock_put(sk);
	return 0;

discard_and_relse:
	sock_put(sk);
	goto discard;
bad_header:
	xtcp_drop_stats(net, NULL, skb, XTCP_MIB_INHDRERRORS);
	goto discard;
no_socket:
	if (!xfrm4_policy_check(NULL, XFRM_POLICY_IN, skb)) {
		xtcp_drop_stats(net, NULL, skb, XTCP_MIB_XFRMPOLICYDROP);
		goto discard;
	}
	xtcp_drop_stats(net, NULL, skb, XTCP_MIB_INNOSOCKET);
	xtcp_send_reset_reply(net, skb);
discard:
	kfree_skb(skb);
consumed:
	return 0;
}

static const struct net_protocol xtcp_protocol = {
	.handler = xtcp_v4_rcv,
	.err_handler = xtcp_v4_err,
	.no_policy = 1,
};

int xtcp_input_init(void)
{
	if (inet_add_protocol(&xtcp_protocol, xtcp_ipproto) < 0) {
		pr_err("IP protocol %d is already claimed; load with ipproto=<free number>\n",
		       xtcp_ipproto);
		return -EBUSY;
	}
	return 0;
}

void xtcp_input_exit(void)
{
	/* inet_del_protocol() waits until no CPU runs the handler. */
	inet_del_protocol(&xtcp_protocol, xtcp_ipproto);
}
