// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the round-trip time estimator and the retransmission timeout
 * (RFC 6298), bounded by the rto_min_ms / rto_max_ms knobs.
 *
 * Samples come from new data acknowledged that was sent only once (Karn's
 * rule) or, failing that, from a sane timestamp echo (RFC 7323 section 4,
 * tcp_ack_update_rtt()). SRTT and RTTVAR are kept scaled as in Linux:
 * srtt is 8 * SRTT, rttvar is 4 * RTTVAR, both in jiffies.
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

static u32 xtcp_rto_clamp(const struct sock *sk, u32 rto)
{
	return clamp(rto, xtcp_rto_min(sk), xtcp_rto_max(sk));
}

/* RFC 6298 section 2: fold one round-trip sample, in jiffies, into RTO. */
void xtcp_rtt_sample(struct sock *sk, long m)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (m <= 0)
		m = 1;
	if (!xs->srtt) {
		xs->srtt = m << 3;	/* SRTT = R */
		xs->rttvar = m << 1;	/* RTTVAR = R / 2, kept << 2 */
	} else {
		m -= xs->srtt >> 3;
		xs->srtt += m;			/* SRTT += (R - SRTT) / 8 */
		if (m < 0)
			m = -m;
		m -= xs->rttvar >> 2;
		xs->rttvar += m;		/* RTTVAR += (|d| - RTTVAR) / 4 */
	}
	/* RTO = SRTT + max(G, 4 * RTTVAR); rttvar is already 4 * RTTVAR. */
	xs->rto = xtcp_rto_clamp(sk, (xs->srtt >> 3) + max_t(u32, xs->rttvar, 1));
}

/*
 * An ACK acknowledged new data: @rtt is the age of the newest of it that
 * was never retransmitted, or negative when all of it was. Then the echoed
 * timestamp may give the sample, when it is sane: a TSecr is only as good
 * as the peer that echoes it.
 */
void xtcp_ack_update_rtt(struct sock *sk, long rtt)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (rtt < 0 && xs->rx_opt.tstamp_ok && xs->rx_opt.saw_tstamp &&
	    xs->rx_opt.rcv_tsecr) {
		u32 delta = xtcp_clock_ms() + xs->ts_offset -
			    xs->rx_opt.rcv_tsecr;

		if (delta < INT_MAX / USEC_PER_MSEC)
			rtt = msecs_to_jiffies(delta);
	}
	if (rtt >= 0)
		xtcp_rtt_sample(sk, rtt);
}
