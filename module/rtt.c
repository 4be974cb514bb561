// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the round-trip time estimator and the retransmission timeout
 * (RFC 6298), bounded by the rto_min_ms / rto_max_ms knobs.
 *
 * Samples are in microseconds, from the time an skb left (->tstamp) to
 * the ACK that newly acknowledges or SACKs it, taken only when nothing
 * that ACK covers was ever retransmitted (Karn's rule), or failing that
 * from a sane timestamp echo (RFC 7323 section 4, tcp_ack_update_rtt()).
 * The handshake gives the first: SYN to SYN-ACK on the active side,
 * SYN-ACK to its ACK on the passive one (tcp_synack_rtt_meas()). SRTT
 * and the deviation are kept scaled as in Linux: srtt_us is 8 * SRTT,
 * mdev_us is 4 * the mean deviation.
 */
#include <linux/kernel.h>
#include <linux/jiffies.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

u32 xtcp_rto_min(const struct sock *sk)
{
	return max_t(u32, msecs_to_jiffies(xtcp_knob(sock_net(sk),
						     XTCP_KNOB_rto_min_ms)), 1);
}

u32 xtcp_rto_max(const struct sock *sk)
{
	return max(msecs_to_jiffies(xtcp_knob(sock_net(sk),
					      XTCP_KNOB_rto_max_ms)),
		   xtcp_rto_min(sk));
}

u32 xtcp_rto_initial(const struct net *net)
{
	return max_t(u32, msecs_to_jiffies(xtcp_knob(net,
						     XTCP_KNOB_rto_initial_ms)), 1);
}

/* Microseconds since @sent_ns (an skb's ->tstamp), at least 1. */
long xtcp_rtt_since(u64 sent_ns)
{
	return max_t(long, div_u64(ktime_get_ns() - sent_ns, NSEC_PER_USEC), 1);
}

static u32 xtcp_rto_min_us(const struct sock *sk)
{
	return jiffies_to_usecs(xtcp_rto_min(sk));
}

/* RTO = SRTT + rttvar_us, at most rto_max_ms (tcp_set_rto()). */
void xtcp_set_rto(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->rto = min(usecs_to_jiffies((xs->srtt_us >> 3) + xs->rttvar_us),
		      xtcp_rto_max(sk));
}

/*
 * Fold one round-trip sample into SRTT and the variance, as Linux's
 * tcp_rtt_estimator() does it (RFC 6298 section 2 with Linux's changes):
 *
 * - The first sample sets SRTT to it and the deviation to half of it, so
 *   that the RTO is three times the RTT, and never less than SRTT plus
 *   rto_min_ms.
 * - A sample below SRTT moves the deviation down eight times slower than
 *   one above moves it up: a drop of the RTT is no reason to trust it
 *   more.
 * - What the RTO adds to SRTT (rttvar_us) follows the largest deviation
 *   seen in the current round trip: it rises at once, falls by a quarter
 *   of the excess once per round trip, and never goes below rto_min_ms.
 *   So the RTO bound is SRTT + max(4 * RTTVAR, rto_min), not
 *   max(SRTT + 4 * RTTVAR, rto_min).
 */
void xtcp_rtt_sample(struct sock *sk, long rtt_us)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	long err;

	if (rtt_us <= 0)
		rtt_us = 1;
	if (!xs->srtt_us) {
		xs->srtt_us = rtt_us << 3;
		xs->mdev_us = rtt_us << 1;
		xs->rttvar_us = max(xs->mdev_us, xtcp_rto_min_us(sk));
		xs->mdev_max_us = xs->rttvar_us;
		xs->rtt_seq = xs->snd_nxt;
		xtcp_set_rto(sk);
		return;
	}
	err = rtt_us - (xs->srtt_us >> 3);
	xs->srtt_us = max_t(long, (long)xs->srtt_us + err, 1);
	if (err < 0) {
		err = -err - (xs->mdev_us >> 2);
		if (err > 0)
			err >>= 3;
	} else {
		err -= xs->mdev_us >> 2;
	}
	xs->mdev_us += err;
	if (xs->mdev_us > xs->mdev_max_us) {
		xs->mdev_max_us = xs->mdev_us;
		xs->rttvar_us = max(xs->rttvar_us, xs->mdev_max_us);
	}
	/* A round trip is over: let rttvar_us come down, start the next. */
	if (after(xs->snd_una, xs->rtt_seq)) {
		if (xs->mdev_max_us < xs->rttvar_us)
			xs->rttvar_us -= (xs->rttvar_us - xs->mdev_max_us) >> 2;
		xs->rtt_seq = xs->snd_nxt;
		xs->mdev_max_us = xtcp_rto_min_us(sk);
	}
	xtcp_set_rto(sk);
}

/*
 * An ACK came (tcp_ack_update_rtt()): @seq_rtt_us is the age of the
 * oldest data it newly acknowledged, if none of what it acknowledged was
 * ever retransmitted (Karn), else negative; @ca_rtt_us that of the
 * newest; @sack_rtt_us the same for what it newly SACKed. @acked: it
 * acknowledged something new, the SYN included. Without either sample, a
 * sane timestamp echo gives one, but only for an ACK of new data (RFC
 * 7323 section 4): a TSecr is only as good as the peer that echoes it.
 * Returns the sample for congestion control (the newest data's age), or
 * a negative one.
 */
long xtcp_ack_update_rtt(struct sock *sk, long seq_rtt_us, long sack_rtt_us,
			 long ca_rtt_us, bool acked)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (seq_rtt_us < 0)
		seq_rtt_us = sack_rtt_us;
	if (ca_rtt_us < 0)
		ca_rtt_us = sack_rtt_us;
	if (seq_rtt_us < 0 && acked && xs->rx_opt.tstamp_ok &&
	    xs->rx_opt.saw_tstamp && xs->rx_opt.rcv_tsecr) {
		u32 delta = xtcp_clock_ms() + xs->ts_offset -
			    xs->rx_opt.rcv_tsecr;

		if (delta < INT_MAX / USEC_PER_MSEC)
			seq_rtt_us = max_t(u32, delta, 1) * USEC_PER_MSEC;
		ca_rtt_us = seq_rtt_us;
	}
	if (seq_rtt_us < 0)
		return ca_rtt_us;
	/* The smallest RTT seen (tcp_update_rtt_min(), not windowed). */
	if (!xs->rtt_min || seq_rtt_us < xs->rtt_min)
		xs->rtt_min = max_t(long, seq_rtt_us, 1);
	xtcp_rtt_sample(sk, seq_rtt_us);
	return ca_rtt_us;
}

/*
 * The handshake is over. Without a sample from it (the SYN or SYN-ACK
 * went more than once, or a SYN cookie made the connection), the RTO is
 * 3 s until the first one, as Linux's tcp_init_metrics() (RFC 6298 5.7);
 * xtcp keeps no per-destination metrics to start from.
 */
void xtcp_rtt_established(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->srtt_us)
		return;
	xs->rttvar_us = jiffies_to_usecs(TCP_TIMEOUT_FALLBACK);
	xs->mdev_us = xs->rttvar_us;
	xs->mdev_max_us = xs->rttvar_us;
	xs->rto = min_t(u32, TCP_TIMEOUT_FALLBACK, xtcp_rto_max(sk));
}
