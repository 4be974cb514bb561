// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: RACK-TLP loss detection (RFC 8985), for connections with SACK.
 *
 * RACK decides by time, not by counting: every sent skb keeps the time
 * it last left (skb->tstamp of the queued original, in ns; the clones that
 * leave carry no timestamp), and those still in the running (not SACKed,
 * not lost and waiting to go again) are in xs->tsorted in the order they
 * left, as Linux TCP's tsorted_sent_queue. When an skb is delivered (SACKed
 * or cumulatively acknowledged) RACK remembers the latest sent of those
 * and its round trip; any skb sent before it that is still outstanding
 * one RTT plus a reordering window after it left is lost, a retransmission
 * included. The window is a quarter of the minimum RTT while no reordering
 * was seen, and none once three segments are SACKed or recovery started;
 * a D-SACK shows reordering and keeps it open. An skb not yet due arms the
 * retransmission timer for the end of its reordering window
 * (XTCP_TIME_REO_TIMEOUT).
 *
 * TLP: in the open state, the retransmission timer first runs as a probe
 * time-out of two smoothed RTTs. When it fires, one new segment goes out,
 * or the last one again, so that the ACK it draws carries the SACK
 * information that lets RACK repair a lost tail without an RTO. A probe
 * that was a retransmission and repaired a loss (the ACK goes beyond it
 * without a D-SACK) reduces cwnd as a loss does.
 *
 * The knobs rack and tlp turn each off. All under the socket lock.
 */
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <net/tcp.h>

#include "xtcp.h"

bool xtcp_rack_enabled(const struct sock *sk)
{
	return xtcp_sk(sk)->rx_opt.sack_ok &&
	       xtcp_knob(sock_net(sk), XTCP_KNOB_rack);
}

/* Was (@t1, @seq1) sent after (@t2, @seq2)? At the same time: higher. */
static bool xtcp_rack_sent_after(u64 t1, u64 t2, u32 seq1, u32 seq2)
{
	return t1 > t2 || (t1 == t2 && after(seq1, seq2));
}

/*
 * RFC 8985 6.2 steps 1-3: @skb was just delivered. The round trip of a
 * retransmitted skb is ambiguous: the ACK may be for the original. Only
 * one longer than the minimum RTT is taken as the retransmission's.
 */
void xtcp_rack_advance(struct sock *sk, const struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	u64 sent = skb->tstamp;
	u32 rtt_us;

	if (!sent)
		return;
	rtt_us = max_t(u64, div_u64(ktime_get_ns() - sent, NSEC_PER_USEC), 1);
	if (cb->retransmitted) {
		if (rtt_us < xs->rtt_min)
			return;
	} else if (!xs->rtt_min || rtt_us < xs->rtt_min) {
		xs->rtt_min = rtt_us;
	}
	xs->rack_advanced = true;
	xs->rack_rtt_us = rtt_us;
	if (xtcp_rack_sent_after(sent, xs->rack_mstamp, cb->end_seq,
				 xs->rack_end_seq)) {
		xs->rack_mstamp = sent;
		xs->rack_end_seq = cb->end_seq;
	}
}

/* RFC 8985 6.2 step 4, without the D-SACK driven growth. */
static u32 xtcp_rack_reo_wnd(const struct xtcp_sock *xs)
{
	if (!xs->rack_reord && (xs->ca_state >= XTCP_CA_RECOVERY ||
				xs->sacked_out >= XTCP_DUPTHRESH))
		return 0;
	return min(xs->rtt_min / 4, xs->srtt_us >> 3);
}

/*
 * RFC 8985 6.2 step 5: mark what is lost. Returns the microseconds until
 * the next outstanding skb sent before the last delivered one is due,
 * 0 if none is. The walk is in sending order and stops at the first skb
 * sent after the last delivered one; what it marks lost leaves the list,
 * so it looks only at skbs still within their reordering window.
 */
static u32 xtcp_rack_detect(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u64 now = ktime_get_ns();
	u64 wnd = (u64)(xs->rack_rtt_us + xtcp_rack_reo_wnd(xs)) *
		  NSEC_PER_USEC;
	struct list_head *p, *n;
	u32 wait = 0;

	list_for_each_safe(p, n, &xs->tsorted) {
		struct sk_buff *skb = xtcp_tsorted_skb(p);
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
		u64 sent = skb->tstamp;

		/* SACKed, or lost and waiting (a probe sent it again). */
		if (cb->sacked || (cb->lost && !cb->retrans) || !sent) {
			xtcp_tsorted_drop(skb);
			continue;
		}
		/* Sent after the last delivered one, as all that follow. */
		if (!xtcp_rack_sent_after(xs->rack_mstamp, sent,
					  xs->rack_end_seq, cb->end_seq))
			break;
		if (sent + wnd > now) {
			wait = max_t(u32, wait,
				     div_u64(sent + wnd - now, NSEC_PER_USEC) + 1);
			continue;
		}
		if (cb->retrans) {
			/* The retransmission is lost too. */
			cb->retrans = 0;
			xs->retrans_out -= cb->pcount;
		}
		if (!cb->lost) {
			cb->lost = 1;
			xs->lost_out += cb->pcount;
			xs->lost += cb->pcount;
		}
		xtcp_tsorted_drop(skb);
		xtcp_rtx_hint_lower(xs, skb);
	}
	return wait;
}

/* After an ACK that delivered something. */
void xtcp_rack_mark_lost(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 wait;

	if (!xs->rack_advanced)
		return;
	xs->rack_advanced = false;
	wait = xtcp_rack_detect(sk);
	if (wait)
		xtcp_timer_reo(sk, wait);
}

/* The reordering window of an outstanding skb is over. */
void xtcp_rack_reo_timeout(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 lost = xs->lost_out, ever_lost = xs->lost, wait;

	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_RACKREOTIMEOUTS);
	wait = xtcp_rack_detect(sk);
	if (xs->lost_out != lost) {
		/* As tcp_rack_reo_timeout(): the timer counts as a delivery. */
		if (xs->ca_state != XTCP_CA_RECOVERY) {
			xtcp_enter_recovery(sk);
			xtcp_cwnd_reduction(sk, 1, xs->lost - ever_lost, false);
		}
		xtcp_xmit_retransmit_queue(sk);
	}
	if (wait)
		xtcp_timer_reo(sk, wait);
	else
		xtcp_timer_rearm_rtx(sk);
}

/*
 * RFC 8985 7.2: after new data left or an ACK came in the open state,
 * the retransmission timer runs as the probe time-out, never later than
 * the RTO would have fired, and not over a pending reordering window.
 * In every synchronized state, as Linux's tcp_schedule_loss_probe(): a
 * FIN at the tail is probed as data is. The handshake gave the first
 * RTT; a connection without one probes after 1 s (TCP_TIMEOUT_INIT).
 */
void xtcp_tlp_schedule(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 pto;

	if (!xs->rx_opt.sack_ok || xs->ca_state >= XTCP_CA_RECOVERY ||
	    !xs->packets_out || xs->tlp_high_seq ||
	    ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV |
				    TCPF_CLOSE | TCPF_LISTEN)) ||
	    xtcp_timer_reo_pending(sk) ||
	    !xtcp_knob(sock_net(sk), XTCP_KNOB_tlp))
		return;
	/*
	 * Two SRTTs. A lone segment may wait for the peer's delayed ACK:
	 * the minimum RTO covers that, as in Linux (RFC 8985's WCDelAckT is
	 * 200 ms); otherwise 2 ms more (TCP_TIMEOUT_MIN_US).
	 */
	if (xs->srtt_us)
		pto = usecs_to_jiffies((xs->srtt_us >> 2) +
				       (xs->packets_out == 1 ?
					jiffies_to_usecs(xtcp_rto_min(sk)) :
					2 * USEC_PER_MSEC));
	else
		pto = TCP_TIMEOUT_INIT;
	xtcp_timer_pto(sk, min(pto, xs->rto));
}

/* The last sent skb, cut so that its last segment stands alone. */
static struct sk_buff *xtcp_tlp_last_segment(struct sock *sk)
{
	struct sk_buff *skb = xtcp_rtx_tail(sk);
	u32 mss;

	if (!skb)
		return NULL;
	if (xtcp_skb_pcount(skb) < 2)
		return skb;
	mss = xtcp_skb_mss(sk, skb);
	if (xtcp_fragment(sk, skb, rounddown(skb->len - 1, mss), mss))
		return NULL;
	return skb_rb_next(skb);
}

/* RFC 8985 7.3: the probe time-out fired. The RTO follows. */
void xtcp_tlp_probe(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	/* Recovery started since it was armed: the RTO takes over. */
	if (xs->tlp_high_seq || !xs->packets_out ||
	    xs->ca_state >= XTCP_CA_RECOVERY)
		goto rearm;
	if (xtcp_send_new_segment(sk)) {
		xs->tlp_retrans = false;
	} else {
		skb = xtcp_tlp_last_segment(sk);
		if (!skb)
			goto rearm;
		xtcp_retransmit_skb(sk, skb, 1);
		xs->tlp_retrans = true;
	}
	xs->tlp_high_seq = xs->snd_nxt;
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_LOSSPROBES);
rearm:
	xtcp_timer_rearm_rtx(sk);
}

/*
 * RFC 8985 7.4: an ACK while a probe is out. New data probed, or a D-SACK
 * for the probe, or a plain duplicate ACK for it: original and probe both
 * arrived, nothing was lost. An ACK beyond a retransmitted probe without
 * a D-SACK: the probe repaired a loss, which gets its congestion response.
 */
void xtcp_tlp_ack(struct sock *sk, u32 ack, bool dsack, bool pure_dup)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (before(ack, xs->tlp_high_seq))
		return;
	if (!xs->tlp_retrans || dsack) {
		xs->tlp_high_seq = 0;
	} else if (after(ack, xs->tlp_high_seq)) {
		xs->tlp_high_seq = 0;
		xtcp_cong_reduce(sk);
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_LOSSPROBERECOVERY);
	} else if (pure_dup) {
		xs->tlp_high_seq = 0;
	}
}
