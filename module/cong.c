// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: congestion control.
 *
 * The window is counted in segments, as in Linux TCP. A connection starts
 * with 10 segments (RFC 6928) and no ssthresh, grows in slow start and
 * then by the algorithm's congestion avoidance, but only while it is
 * limited by cwnd and not in loss recovery (RFC 7661's idea, as Linux's
 * tcp_is_cwnd_limited()). A loss detected by duplicate ACKs or SACK sets
 * ssthresh from the algorithm and cwnd to it (RFC 6675 5); a
 * retransmission time-out sets cwnd to one segment (RFC 5681 3.1).
 *
 * Two algorithms: NewReno (RFC 5681, RFC 6582) and CUBIC (RFC 9438), the
 * default. The knob congestion_control ("reno", "cubic") picks a new
 * socket's algorithm; TCP_CONGESTION picks it per socket.
 */
#include <linux/kernel.h>
#include <linux/math64.h>
#include <net/tcp.h>

#include "xtcp.h"

/* RFC 5681 3.1 slow start; returns the ACKed segments left over. */
static u32 xtcp_slow_start(struct xtcp_sock *xs, u32 acked)
{
	u32 cwnd = min(xs->snd_cwnd + acked, xs->snd_ssthresh);

	acked -= cwnd - xs->snd_cwnd;
	xs->snd_cwnd = cwnd;
	return acked;
}

/* One segment more for every @w segments ACKed (tcp_cong_avoid_ai()). */
static void xtcp_cong_avoid_ai(struct xtcp_sock *xs, u32 w, u32 acked)
{
	if (xs->snd_cwnd_cnt >= w) {
		xs->snd_cwnd_cnt = 0;
		xs->snd_cwnd++;
	}
	xs->snd_cwnd_cnt += acked;
	if (xs->snd_cwnd_cnt >= w) {
		xs->snd_cwnd += xs->snd_cwnd_cnt / w;
		xs->snd_cwnd_cnt -= (xs->snd_cwnd_cnt / w) * w;
	}
}

/* NewReno */

static void xtcp_reno_init(struct sock *sk)
{
}

static u32 xtcp_reno_ssthresh(struct sock *sk)
{
	return max(xtcp_sk(sk)->snd_cwnd >> 1, 2U);
}

static void xtcp_reno_cong_avoid(struct sock *sk, u32 acked)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->snd_cwnd < xs->snd_ssthresh) {
		acked = xtcp_slow_start(xs, acked);
		if (!acked)
			return;
	}
	xtcp_cong_avoid_ai(xs, xs->snd_cwnd, acked);
}

static const struct xtcp_cong_ops xtcp_reno = {
	.name = "reno",
	.init = xtcp_reno_init,
	.ssthresh = xtcp_reno_ssthresh,
	.cong_avoid = xtcp_reno_cong_avoid,
};

/*
 * CUBIC (RFC 9438), as Linux's tcp_cubic.c computes it: W(t) = C * (t -
 * K)^3 + W_max, with C = 0.4 and beta = 0.7, t counted from the start of
 * the congestion avoidance epoch and looked one RTT ahead; never slower
 * than the Reno-friendly estimate W_est (section 4.3), never faster than
 * 1.5 times per RTT, and at least 5 % per RTT while no loss has set
 * W_max. Times in ms, windows in segments.
 *
 * Slow start ends early by HyStart (Linux's hystart 1, detect 3): a round
 * of ACKs arriving less than 2 ms apart for longer than half the minimum
 * delay (the ACK train), or the least RTT of a round's first 8 samples
 * above the minimum by an eighth of it (4 to 16 ms), once cwnd is at least
 * 16; ssthresh becomes cwnd.
 */
struct xtcp_cubic {
	u32 w_max;		/* W_max: cwnd before the last reduction */
	u32 epoch_start;	/* ms; 0: no epoch yet */
	u32 k_ms;		/* K */
	u32 origin;		/* W_max of this epoch */
	u64 w_est;		/* Reno-friendly window, << 20 */
	/* HyStart */
	u32 round_start;	/* us, when this round began */
	u32 last_ack;		/* us, the last ACK of the train */
	u32 end_seq;		/* snd_nxt when the round began */
	u32 curr_rtt;		/* us, least RTT of the round's samples */
	u32 delay_min;		/* us, least RTT seen; 0: none */
	u8 sample_cnt;
	bool found;		/* HyStart ended slow start */
};

#define CUBIC_BETA_NUM	7	/* beta = 7 / 10 */
#define CUBIC_BETA_DEN	10
/* alpha = 3 * (1 - beta) / (1 + beta) = 0.5294, << 20 */
#define CUBIC_ALPHA	555102ULL
#define HYSTART_LOW_WINDOW	16
#define HYSTART_ACK_DELTA_US	2000
#define HYSTART_MIN_SAMPLES	8
#define HYSTART_DELAY_MIN_US	4000U
#define HYSTART_DELAY_MAX_US	16000U

static struct xtcp_cubic *xtcp_cubic(struct sock *sk)
{
	BUILD_BUG_ON(sizeof(struct xtcp_cubic) > sizeof(xtcp_sk(sk)->cc_priv));
	return (struct xtcp_cubic *)xtcp_sk(sk)->cc_priv;
}

/* The integer cube root of @a: the largest r with r^3 <= a. */
static u32 xtcp_cbrt(u64 a)
{
	u32 lo = 0, hi = 1U << 21;	/* (2^21)^3 = 2^63 */

	while (lo < hi) {
		u32 mid = lo + (hi - lo + 1) / 2;

		if ((u64)mid * mid * mid <= a)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static u32 xtcp_clock_us(void)
{
	return div_u64(ktime_get_ns(), NSEC_PER_USEC);
}

/* A new HyStart round begins with what is sent from now on. */
static void xtcp_hystart_reset(struct sock *sk)
{
	struct xtcp_cubic *ca = xtcp_cubic(sk);

	ca->round_start = xtcp_clock_us();
	ca->last_ack = ca->round_start;
	ca->end_seq = xtcp_sk(sk)->snd_nxt;
	ca->curr_rtt = ~0U;
	ca->sample_cnt = 0;
}

static void xtcp_cubic_init(struct sock *sk)
{
	memset(xtcp_cubic(sk), 0, sizeof(struct xtcp_cubic));
	xtcp_hystart_reset(sk);
}

static u32 xtcp_cubic_ssthresh(struct sock *sk)
{
	struct xtcp_cubic *ca = xtcp_cubic(sk);
	u32 cwnd = xtcp_sk(sk)->snd_cwnd;

	ca->epoch_start = 0;
	/* Fast convergence (section 4.7): yield to newer flows. */
	if (cwnd < ca->w_max)
		ca->w_max = cwnd * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) /
			    (2 * CUBIC_BETA_DEN);
	else
		ca->w_max = cwnd;
	return max(cwnd * CUBIC_BETA_NUM / CUBIC_BETA_DEN, 2U);
}

/* Segments ACKed per one segment of growth, from W_cubic and W_est. */
static u32 xtcp_cubic_cnt(struct sock *sk, u32 acked)
{
	struct xtcp_cubic *ca = xtcp_cubic(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 cwnd = xs->snd_cwnd, now = xtcp_clock_ms(), cnt, est;
	s64 t, target;

	if (!ca->epoch_start) {
		ca->epoch_start = now ? : 1;
		if (cwnd < ca->w_max) {
			/* K = cbrt((W_max - cwnd) / C), in ms: 1e9 / 0.4 */
			ca->k_ms = xtcp_cbrt((u64)(ca->w_max - cwnd) *
					     2500000000ULL);
			ca->origin = ca->w_max;
		} else {
			ca->k_ms = 0;
			ca->origin = cwnd;
		}
		ca->w_est = (u64)cwnd << 20;
	}

	t = (s32)(now - ca->epoch_start) +
	    (xs->srtt_us >> 3) / USEC_PER_MSEC - (s64)ca->k_ms;
	t = clamp_t(s64, t, -(1LL << 20), 1LL << 20);
	/* C * t^3 with C = 0.4 per s^3 and t in ms: 2 t^3 / 5e9 */
	target = ca->origin + div_s64(div_s64(t * t * t * 2, 5000000), 1000);

	if (target > cwnd)
		cnt = cwnd / (u32)(target - cwnd);
	else
		cnt = 100 * cwnd;	/* plateau: grow very slowly */
	/* No loss yet: W_max unknown, grow 5 % per RTT at least. */
	if (!ca->w_max && cnt > 20)
		cnt = 20;

	ca->w_est += div_u64(CUBIC_ALPHA * acked, cwnd);
	est = ca->w_est >> 20;
	if (est > cwnd)
		cnt = min(cnt, cwnd / (est - cwnd));
	/* At most 1.5 times per RTT (section 4.4). */
	return max(cnt, 2U);
}

static void xtcp_cubic_cong_avoid(struct sock *sk, u32 acked)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->snd_cwnd < xs->snd_ssthresh) {
		if (after(xs->snd_una, xtcp_cubic(sk)->end_seq))
			xtcp_hystart_reset(sk);
		acked = xtcp_slow_start(xs, acked);
		if (!acked)
			return;
	}
	xtcp_cong_avoid_ai(xs, xtcp_cubic_cnt(sk, acked), acked);
}

/* HyStart's two tests, on an ACK with an RTT sample (hystart_update()). */
static void xtcp_hystart_update(struct sock *sk, u32 delay)
{
	struct xtcp_cubic *ca = xtcp_cubic(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 now = xtcp_clock_us(), threshold;
	unsigned long rate = READ_ONCE(sk->sk_pacing_rate);

	if (after(xs->snd_una, ca->end_seq))
		xtcp_hystart_reset(sk);

	/* The ACK train: ACKs closer than 2 ms for over half delay_min. */
	if ((s32)(now - ca->last_ack) <= HYSTART_ACK_DELTA_US) {
		ca->last_ack = now;
		threshold = ca->delay_min;
		/* What 4 GSO packets take at the pacing rate, up to 1 ms. */
		if (rate && rate != ~0UL)
			threshold += min_t(u64, USEC_PER_MSEC,
					   div64_ul((u64)sk->sk_gso_max_size *
						    4 * USEC_PER_SEC, rate));
		threshold >>= 1;	/* not paced (sk_pacing_status) */
		if ((s32)(now - ca->round_start) > threshold) {
			ca->found = true;
			XTCP_INC_STATS(sock_net(sk), XTCP_MIB_HYSTARTTRAINDETECT);
			XTCP_ADD_STATS(sock_net(sk), XTCP_MIB_HYSTARTTRAINCWND,
				       xs->snd_cwnd);
			xs->snd_ssthresh = xs->snd_cwnd;
		}
	}

	/* The delay: the round's least RTT rose above delay_min. */
	if (ca->curr_rtt > delay)
		ca->curr_rtt = delay;
	if (ca->sample_cnt < HYSTART_MIN_SAMPLES) {
		ca->sample_cnt++;
	} else if (ca->curr_rtt > ca->delay_min +
		   clamp(ca->delay_min >> 3, HYSTART_DELAY_MIN_US,
			 HYSTART_DELAY_MAX_US)) {
		ca->found = true;
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_HYSTARTDELAYDETECT);
		XTCP_ADD_STATS(sock_net(sk), XTCP_MIB_HYSTARTDELAYCWND,
			       xs->snd_cwnd);
		xs->snd_ssthresh = xs->snd_cwnd;
	}
}

/* Every ACK, with its RTT sample or a negative one (cubictcp_acked()). */
static void xtcp_cubic_acked(struct sock *sk, long rtt_us)
{
	struct xtcp_cubic *ca = xtcp_cubic(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 delay;

	if (rtt_us < 0)
		return;
	/* Not right after a reduction: its queue is draining. */
	if (ca->epoch_start && (s32)(xtcp_clock_ms() - ca->epoch_start) <
	    MSEC_PER_SEC)
		return;
	delay = clamp_t(long, rtt_us, 1, U32_MAX);
	if (!ca->delay_min || ca->delay_min > delay)
		ca->delay_min = delay;
	if (!ca->found && xs->snd_cwnd < xs->snd_ssthresh &&
	    xs->snd_cwnd >= HYSTART_LOW_WINDOW)
		xtcp_hystart_update(sk, delay);
}

/*
 * Sending resumes with nothing in flight: the idle time does not count
 * in the epoch, so that cwnd goes on along the curve (CA_EVENT_TX_START).
 */
static void xtcp_cubic_tx_start(struct sock *sk)
{
	struct xtcp_cubic *ca = xtcp_cubic(sk);
	u32 now = xtcp_clock_ms();
	s32 idle = jiffies_to_msecs(jiffies - xtcp_sk(sk)->last_data_sent);

	if (ca->epoch_start && idle > 0) {
		ca->epoch_start += idle;
		if ((s32)(ca->epoch_start - now) > 0)
			ca->epoch_start = now;
	}
}

/* A retransmission time-out: all starts over, W_max too (TCP_CA_Loss). */
static void xtcp_cubic_on_loss(struct sock *sk)
{
	xtcp_cubic_init(sk);
}

static const struct xtcp_cong_ops xtcp_cubic_ops = {
	.name = "cubic",
	.init = xtcp_cubic_init,
	.ssthresh = xtcp_cubic_ssthresh,
	.cong_avoid = xtcp_cubic_cong_avoid,
	.acked = xtcp_cubic_acked,
	.tx_start = xtcp_cubic_tx_start,
	.on_loss = xtcp_cubic_on_loss,
};

/* Indexed by the knob congestion_control: its names, in order (knobs.h). */
static const struct xtcp_cong_ops *const xtcp_cong_algos[] = {
	&xtcp_reno,
	&xtcp_cubic_ops,
};

const struct xtcp_cong_ops *xtcp_cong_find(const char *name)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(xtcp_cong_algos); i++)
		if (!strcmp(xtcp_cong_algos[i]->name, name))
			return xtcp_cong_algos[i];
	return NULL;
}

/* A new socket: the namespace's algorithm, the initial window. */
void xtcp_cong_init(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int i = xtcp_knob(sock_net(sk), XTCP_KNOB_congestion_control);

	xs->cc = xtcp_cong_algos[clamp(i, 0, (int)ARRAY_SIZE(xtcp_cong_algos) - 1)];
	xs->snd_cwnd = XTCP_INIT_CWND;
	xs->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	xs->snd_cwnd_cnt = 0;
	xs->ca_state = XTCP_CA_OPEN;
	xs->cc->init(sk);
}

/*
 * cwnd is about to start over after a loss or an idle period: the
 * ssthresh it may grow back to quickly (tcp_current_ssthresh()).
 */
static u32 xtcp_current_ssthresh(const struct xtcp_sock *xs)
{
	if (xs->ca_state == XTCP_CA_RECOVERY || xs->ca_state == XTCP_CA_CWR)
		return xs->snd_ssthresh;
	return max(xs->snd_ssthresh, (xs->snd_cwnd >> 1) + (xs->snd_cwnd >> 2));
}

/*
 * RFC 2861 (tcp_cwnd_application_limited()): for an RTO the sender did
 * not use all of cwnd, because the application or the peer's window held
 * it back; cwnd comes halfway down to what was used (at least the initial
 * window). Not while recovering, nor while the application waits for
 * send buffer.
 */
static void xtcp_cwnd_application_limited(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->ca_state == XTCP_CA_OPEN && sk->sk_socket &&
	    !test_bit(SOCK_NOSPACE, &sk->sk_socket->flags)) {
		u32 used = max_t(u32, xs->snd_cwnd_used, XTCP_INIT_CWND);

		if (used < xs->snd_cwnd) {
			xs->snd_ssthresh = xtcp_current_ssthresh(xs);
			xs->snd_cwnd = (xs->snd_cwnd + used) >> 1;
		}
		xs->snd_cwnd_used = 0;
	}
	xs->snd_cwnd_stamp = jiffies;
}

/*
 * May cwnd grow (tcp_is_cwnd_limited())? When this window used all of
 * it; in slow start also up to twice the packets that were out, so that
 * an application that sends in bursts still finds cwnd above its burst.
 * Never when the peer's window or the application held the sender back:
 * a cwnd that was not used proves nothing about the path (RFC 7661).
 */
static bool xtcp_is_cwnd_limited(const struct xtcp_sock *xs)
{
	if (xs->is_cwnd_limited)
		return true;
	if (xs->snd_cwnd < xs->snd_ssthresh)
		return xs->snd_cwnd < 2 * xs->max_packets_out;
	return false;
}

/*
 * A push just sent what it could (tcp_cwnd_validate()): note whether it
 * used all of cwnd, or else how many packets were out, for the window in
 * progress. A new window begins once everything sent when the last one
 * began is acknowledged, or as soon as cwnd is used up.
 */
void xtcp_cwnd_validate(struct sock *sk, bool is_cwnd_limited)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!before(xs->snd_una, xs->cwnd_usage_seq) || is_cwnd_limited ||
	    (!xs->is_cwnd_limited && xs->packets_out > xs->max_packets_out)) {
		xs->is_cwnd_limited = is_cwnd_limited;
		xs->max_packets_out = xs->packets_out;
		xs->cwnd_usage_seq = xs->snd_nxt;
	}

	if (xtcp_is_cwnd_limited(xs)) {
		xs->snd_cwnd_used = 0;
		xs->snd_cwnd_stamp = jiffies;
		return;
	}
	/* The network starves: the application or the peer holds it back. */
	xs->snd_cwnd_used = max(xs->snd_cwnd_used, xs->packets_out);
	if (xtcp_knob(sock_net(sk), XTCP_KNOB_slow_start_after_idle) &&
	    (s32)(jiffies - xs->snd_cwnd_stamp) >= (s32)xs->rto)
		xtcp_cwnd_application_limited(sk);
}

/*
 * New data to send after the connection sent nothing for more than an
 * RTO (tcp_slow_start_after_idle_check(), tcp_cwnd_restart()): what cwnd
 * knew of the path is stale. It halves for each RTO of the idle time,
 * down to the initial window, and ssthresh keeps three quarters of it.
 * Not while anything is in flight.
 */
void xtcp_cwnd_restart_check(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 restart = min_t(u32, XTCP_INIT_CWND, xs->snd_cwnd);
	u32 cwnd = xs->snd_cwnd;
	s32 delta;

	if (!xtcp_knob(sock_net(sk), XTCP_KNOB_slow_start_after_idle) ||
	    xs->packets_out)
		return;
	delta = (s32)(jiffies - xs->last_data_sent);
	if (delta <= (s32)xs->rto)
		return;
	xs->snd_ssthresh = xtcp_current_ssthresh(xs);
	while ((delta -= xs->rto) > 0 && cwnd > restart)
		cwnd >>= 1;
	xs->snd_cwnd = max(cwnd, restart);
	xs->snd_cwnd_stamp = jiffies;
	xs->snd_cwnd_used = 0;
}

/* @acked segments were newly acknowledged outside fast recovery. */
void xtcp_cong_on_ack(struct sock *sk, u32 acked)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!acked || xs->ca_state == XTCP_CA_RECOVERY ||
	    !xtcp_is_cwnd_limited(xs))
		return;
	xs->cc->cong_avoid(sk, acked);
	xs->snd_cwnd = min(xs->snd_cwnd, 65535U * 16);
	xtcp_sndbuf_expand(sk);
}

/*
 * The start of a cwnd reduction, for a loss or an ECN echo
 * (tcp_init_cwnd_reduction()): ssthresh from the algorithm, and PRR
 * counts from zero; the next new data tells the peer (CWR).
 */
static void xtcp_init_cwnd_reduction(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->high_seq = xs->snd_nxt;
	xs->tlp_high_seq = 0;
	xs->snd_cwnd_cnt = 0;
	xs->prior_cwnd = xs->snd_cwnd;
	xs->prr_delivered = 0;
	xs->prr_out = 0;
	xs->snd_ssthresh = xs->cc->ssthresh(sk);
	if (xs->ecn_flags & XTCP_ECN_OK)
		xs->ecn_flags |= XTCP_ECN_QUEUE_CWR;
}

/*
 * Duplicate ACKs or SACK found a loss: fast recovery (RFC 6675 section
 * 5). ssthresh comes down at once; cwnd follows on each ACK by
 * proportional rate reduction (xtcp_cwnd_reduction()). A reduction
 * already running for an ECN echo goes on: one per window
 * (tcp_enter_recovery()).
 */
void xtcp_cong_enter_recovery(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->ca_state != XTCP_CA_CWR)
		xtcp_init_cwnd_reduction(sk);
	xs->ca_state = XTCP_CA_RECOVERY;
}

/*
 * The peer echoed a congestion mark (ECE): cwnd comes down to ssthresh by
 * proportional rate reduction over this window, as for a loss but
 * without retransmitting (tcp_enter_cwr()).
 */
void xtcp_cong_enter_cwr(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->ca_state != XTCP_CA_OPEN)
		return;
	xtcp_init_cwnd_reduction(sk);
	xs->ca_state = XTCP_CA_CWR;
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ECNCWR);
}

/* The window of an ECN reduction is acknowledged (tcp_end_cwnd_reduction()). */
void xtcp_cong_end_reduction(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->snd_ssthresh < TCP_INFINITE_SSTHRESH) {
		xs->snd_cwnd = xs->snd_ssthresh;
		xs->snd_cwnd_stamp = jiffies;
	}
	xs->ca_state = XTCP_CA_OPEN;
}

/*
 * An ACK in fast recovery delivered @delivered segments (newly
 * acknowledged or SACKed) and showed @newly_lost lost: cwnd becomes what
 * is in flight plus what proportional rate reduction (RFC 6937) lets
 * leave, as Linux's tcp_cwnd_reduction(). While more than ssthresh is in
 * flight, sending follows delivery scaled by ssthresh / prior_cwnd; below
 * it, up to what was delivered (one more when snd_una moved and nothing
 * new was lost), but never past ssthresh (the slow start reduction
 * bound). The first ACK always lets the fast retransmission go.
 */
void xtcp_cwnd_reduction(struct sock *sk, int delivered, int newly_lost,
			 bool una_advanced)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int in_flight = xtcp_packets_in_flight(xs);
	int room = (int)xs->snd_ssthresh - in_flight;
	int sndcnt;

	if (delivered <= 0 || !xs->prior_cwnd)
		return;
	xs->prr_delivered += delivered;
	if (room < 0) {
		u64 due = (u64)xs->snd_ssthresh * xs->prr_delivered +
			  xs->prior_cwnd - 1;

		sndcnt = (int)div_u64(due, xs->prior_cwnd) - (int)xs->prr_out;
	} else {
		sndcnt = max_t(int, xs->prr_delivered - xs->prr_out, delivered);
		if (una_advanced && !newly_lost)
			sndcnt++;
		sndcnt = min(room, sndcnt);
	}
	sndcnt = max(sndcnt, xs->prr_out ? 0 : 1);
	xs->snd_cwnd = in_flight + sndcnt;
}

/* Everything sent before the loss is acknowledged. */
void xtcp_cong_exit_recovery(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->ca_state == XTCP_CA_RECOVERY)
		xs->snd_cwnd = max(xs->snd_ssthresh, 2U);
	xs->ca_state = XTCP_CA_OPEN;
	xs->dupacks = 0;
}

/*
 * A loss repaired without fast recovery (a tail loss probe): the window
 * goes down as for a loss, at once (Linux's CWR state, ended at once).
 */
void xtcp_cong_reduce(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->ecn_flags & XTCP_ECN_OK)
		xs->ecn_flags |= XTCP_ECN_QUEUE_CWR;
	xs->snd_ssthresh = xs->cc->ssthresh(sk);
	xs->snd_cwnd = max(xs->snd_ssthresh, 2U);
	/* Linux passes through CWR and ends it at once. */
	if (xs->ca_state == XTCP_CA_CWR)
		xs->ca_state = XTCP_CA_OPEN;
	xs->snd_cwnd_cnt = 0;
}

/* A retransmission time-out: RFC 5681 3.1 (5.5), one segment. */
void xtcp_cong_on_rto(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	/*
	 * ssthresh comes down unless a reduction of this window already
	 * brought it down: in recovery or CWR with high_seq not yet
	 * acknowledged, or at a time-out of a retransmission
	 * (tcp_enter_loss()).
	 */
	if (xs->ca_state == XTCP_CA_OPEN ||
	    !after(xs->high_seq, xs->snd_una) ||
	    (xs->ca_state == XTCP_CA_LOSS && !xs->retransmits))
		xs->snd_ssthresh = xs->cc->ssthresh(sk);
	if (xs->cc->on_loss)
		xs->cc->on_loss(sk);
	if (xs->ecn_flags & XTCP_ECN_OK)
		xs->ecn_flags |= XTCP_ECN_QUEUE_CWR;
	xs->snd_cwnd = 1;
	xs->snd_cwnd_cnt = 0;
	xs->ca_state = XTCP_CA_LOSS;
	xs->high_seq = xs->snd_nxt;
	xs->dupacks = 0;
}
