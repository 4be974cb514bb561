// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: per-socket timers.
 *
 * Three timer_lists per socket, as in Linux TCP before its hrtimer
 * conversions:
 *  - rtx_timer retransmits the oldest unacknowledged SYN, SYN-ACK, data or
 *    FIN (RFC 6298), and doubles as the persist timer that probes a zero
 *    window when nothing is in flight, as RACK's reordering timer and as
 *    the tail loss probe timer: xtcp_sock.pending says which it is armed
 *    for (Linux's icsk_pending);
 *  - sk->sk_timer ends orphaned FIN_WAIT_2 connections after fin_timeout
 *    and sends keepalive probes;
 *  - delack_timer sends an ACK that waited for data to ride on.
 * (TIME_WAIT has its own hrtimer buckets: timewait.c.)
 *
 * A pending timer holds a socket reference (sk_reset_timer). A timer that
 * fires while a user owns the socket sets a ->deferred bit, keeping its
 * reference, and the work runs from xtcp_release_cb() when the owner
 * calls release_sock(). Other files call the one-line hooks below.
 */
#include <linux/kernel.h>
#include <linux/jiffies.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

static void xtcp_rtx_timer_fn(struct timer_list *t);
static void xtcp_keepalive_timer_fn(struct timer_list *t);
static void xtcp_delack_timer_fn(struct timer_list *t);

void xtcp_init_timers(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	timer_setup(&xs->rtx_timer, xtcp_rtx_timer_fn, 0);
	timer_setup(&sk->sk_timer, xtcp_keepalive_timer_fn, 0);
	timer_setup(&xs->delack_timer, xtcp_delack_timer_fn, 0);
	xs->deferred = 0;
}

/* Keepalive settings: the socket's (TCP_KEEP*), else the namespace's. */
int xtcp_keepalive_time(const struct sock *sk)
{
	return xtcp_sk(sk)->keepalive_time ? :
	       xtcp_knob(sock_net(sk), XTCP_KNOB_keepalive_time);
}

int xtcp_keepalive_intvl(const struct sock *sk)
{
	return xtcp_sk(sk)->keepalive_intvl ? :
	       xtcp_knob(sock_net(sk), XTCP_KNOB_keepalive_intvl);
}

int xtcp_keepalive_probes(const struct sock *sk)
{
	return xtcp_sk(sk)->keepalive_probes ? :
	       xtcp_knob(sock_net(sk), XTCP_KNOB_keepalive_probes);
}

/* Received data waits for its ACK: at most delack_ms. */
void xtcp_timer_delack(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!timer_pending(&xs->delack_timer))
		sk_reset_timer(sk, &xs->delack_timer, jiffies +
			       msecs_to_jiffies(xtcp_knob(sock_net(sk),
							  XTCP_KNOB_delack_ms)));
}

/*
 * The ACK of a SYN-ACK waits up to TCP_DELACK_MAX for data to ride on
 * (tcp_rcv_synsent_state_process()).
 */
void xtcp_timer_delack_synack(struct sock *sk)
{
	sk_reset_timer(sk, &xtcp_sk(sk)->delack_timer, jiffies + TCP_DELACK_MAX);
}

/* An ACK left: the delayed one is not owed any more. */
void xtcp_timer_delack_cancel(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (timer_pending(&xs->delack_timer))
		sk_stop_timer(sk, &xs->delack_timer);
}

/* Stop every timer and drop the references they and deferrals held. */
void xtcp_clear_timers(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	sk_stop_timer(sk, &xs->rtx_timer);
	xs->pending = 0;
	sk_stop_timer(sk, &sk->sk_timer);
	sk_stop_timer(sk, &xs->delack_timer);
	if (test_and_clear_bit(XTCP_RTX_DEFERRED, &xs->deferred))
		__sock_put(sk);
	if (test_and_clear_bit(XTCP_KEEPALIVE_DEFERRED, &xs->deferred))
		__sock_put(sk);
	if (test_and_clear_bit(XTCP_DELACK_DEFERRED, &xs->deferred))
		__sock_put(sk);
	if (test_and_clear_bit(XTCP_MTU_DEFERRED, &xs->deferred))
		__sock_put(sk);
}

static void xtcp_rtx_arm(struct sock *sk, enum xtcp_pending what,
			 unsigned long timeout)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->pending = what;
	sk_reset_timer(sk, &xs->rtx_timer, jiffies + timeout);
}

/*
 * The time-out proper, or the persist timer when nothing is in flight and
 * data waits for the peer's window.
 */
static enum xtcp_pending xtcp_rtx_what(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);

	return xtcp_send_head(sk) && xs->snd_una == xs->snd_nxt ?
	       XTCP_TIME_PROBE0 : XTCP_TIME_RETRANS;
}

/* Something was sent, or held back: make sure the timer is armed. */
void xtcp_timer_on_send(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	/* Data left after probing: the time-out proper takes over. */
	if (!timer_pending(&xs->rtx_timer) ||
	    (xs->pending == XTCP_TIME_PROBE0 &&
	     xtcp_rtx_what(sk) != XTCP_TIME_PROBE0))
		xtcp_rtx_arm(sk, xtcp_rtx_what(sk), xs->rto);
}

/* RACK: an outstanding skb is due in @usecs (rack.c). */
void xtcp_timer_reo(struct sock *sk, u32 usecs)
{
	xtcp_rtx_arm(sk, XTCP_TIME_REO_TIMEOUT, max(usecs_to_jiffies(usecs), 1UL));
}

/* TLP: a probe in @timeout jiffies unless an ACK comes (rack.c). */
void xtcp_timer_pto(struct sock *sk, u32 timeout)
{
	xtcp_rtx_arm(sk, XTCP_TIME_LOSS_PROBE, max(timeout, 1U));
}

bool xtcp_timer_reo_pending(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);

	return xs->pending == XTCP_TIME_REO_TIMEOUT &&
	       timer_pending(&xs->rtx_timer);
}

/* RFC 6298 5.3: restart on every ACK of new data; stop when all is acked. */
void xtcp_timer_on_ack(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->retransmits = 0;
	xs->retrans_stamp = 0;
	xs->probes_out = 0;
	xs->backoff = 0;
	xs->probes_tstamp = 0;
	if (xs->snd_una == xs->snd_nxt && !xtcp_send_head(sk)) {
		sk_stop_timer(sk, &xs->rtx_timer);
		xs->pending = 0;
	} else {
		xtcp_rtx_arm(sk, xtcp_rtx_what(sk), xs->rto);
	}
}

void xtcp_timer_rearm_rtx(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xtcp_rtx_arm(sk, xtcp_rtx_what(sk), xs->rto);
}

/*
 * An orphan entered FIN_WAIT_2: it may wait TCP_LINGER2 or fin_timeout
 * for the FIN, and never less than 3.5 RTOs (tcp_fin_time()).
 */
void xtcp_timer_fin_wait2(struct sock *sk)
{
	unsigned long tmo = READ_ONCE(xtcp_sk(sk)->linger2);
	u32 rto = xtcp_sk(sk)->rto;

	if ((long)tmo <= 0)
		tmo = xtcp_knob(sock_net(sk), XTCP_KNOB_fin_timeout) * HZ;

	tmo = max_t(unsigned long, tmo, (rto << 2) - (rto >> 1));
	sk_reset_timer(sk, &sk->sk_timer, jiffies + tmo);
}

/*
 * In SYN_SENT, an answer that acknowledges something else: a peer's
 * stale FIN/ACK or RST/ACK, which may have dropped our SYN. Unless it was
 * retransmitted already, the SYN goes again at once (tcp_rcv_synsent_
 * state_process(): TCP_TIMEOUT_MIN).
 */
void xtcp_timer_syn_soon(struct sock *sk)
{
	if (!xtcp_sk(sk)->retransmits)
		xtcp_rtx_arm(sk, XTCP_TIME_RETRANS, TCP_TIMEOUT_MIN);
}

static bool xtcp_keepalive_state(const struct sock *sk)
{
	return (1 << sk->sk_state) &
	       (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT | TCPF_FIN_WAIT1 |
		TCPF_FIN_WAIT2);
}

/* SO_KEEPALIVE changed, or the connection got established. */
void xtcp_timer_keepalive(struct sock *sk)
{
	if (sk->sk_state == TCP_FIN_WAIT2 && sock_flag(sk, SOCK_DEAD))
		return;		/* the FIN_WAIT_2 timer owns sk_timer */
	if (sock_flag(sk, SOCK_KEEPOPEN) && xtcp_keepalive_state(sk))
		sk_reset_timer(sk, &sk->sk_timer, jiffies + HZ *
			       xtcp_keepalive_time(sk));
	else
		sk_stop_timer(sk, &sk->sk_timer);
}

/*
 * How long @boundary retransmissions take with exponential back-off from
 * @rto_base, capped at the maximum RTO (tcp_model_timeout()).
 */
static unsigned long xtcp_model_timeout(struct sock *sk, unsigned int boundary,
					unsigned int rto_base)
{
	unsigned int thresh = ilog2(xtcp_rto_max(sk) / rto_base);

	if (boundary <= thresh)
		return ((2UL << boundary) - 1) * rto_base;
	return ((2UL << thresh) - 1) * rto_base +
	       (unsigned long)(boundary - thresh) * xtcp_rto_max(sk);
}

/*
 * Retransmissions an orphan makes (tcp_orphan_retries()): the knob, with
 * 0 meaning 8 while the RTO has not reached rto_max_ms (@alive); none
 * past that if an ICMP error came.
 */
static unsigned int xtcp_orphan_retries(struct sock *sk, bool alive)
{
	unsigned int retries = xtcp_knob(sock_net(sk),
					 XTCP_KNOB_orphan_retries);

	if (READ_ONCE(sk->sk_err_soft) && !alive)
		retries = 0;
	if (!retries && alive)
		retries = 8;
	return retries;
}

/* The retransmissions since retrans_stamp took @boundary back-offs. */
static bool xtcp_retrans_timed_out(struct sock *sk, unsigned int boundary)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	return xs->retrans_stamp &&
	       time_after_eq(jiffies, xs->retrans_stamp +
			     xtcp_model_timeout(sk, boundary,
						xtcp_rto_min(sk)));
}

/* The RTO backed off by the zero window probes sent, in jiffies. */
static u64 xtcp_probe_rto(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	return (u64)max(xs->rto, xtcp_rto_min(sk)) << min_t(u8, xs->backoff, 31);
}

/*
 * When the next zero window probe goes (tcp_probe0_when()): the backed
 * off RTO up to rto_max_ms, and no later than TCP_USER_TIMEOUT runs out
 * (tcp_clamp_probe0_to_user_timeout()).
 */
static unsigned long xtcp_probe0_when(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long when = min_t(u64, xtcp_probe_rto(sk), xtcp_rto_max(sk));

	if (xs->user_timeout && xs->probes_tstamp) {
		unsigned long limit = msecs_to_jiffies(xs->user_timeout);
		unsigned long spent = jiffies - xs->probes_tstamp;

		when = min(when, max(limit > spent ? limit - spent : 0, 2UL));
	}
	return max(when, 1UL);
}

static void xtcp_write_err(struct sock *sk, int err)
{
	WRITE_ONCE(sk->sk_err, READ_ONCE(sk->sk_err_soft) ? : err);
	sk_error_report(sk);
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ABORTONTIMEOUT);
	xtcp_done(sk);
}

/* Retransmission limits (RFC 1122 4.2.3.5). Return true if aborted. */
static bool xtcp_write_timeout(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	unsigned int boundary;

	if (sk->sk_state == TCP_SYN_SENT) {
		if (xs->retransmits >= (xs->syn_retries ? :
					xtcp_knob(net, XTCP_KNOB_syn_retries))) {
			XTCP_INC_STATS(net, XTCP_MIB_ATTEMPTFAILS);
			xtcp_write_err(sk, ETIMEDOUT);
			return true;
		}
		return false;
	}
	if (sk->sk_state == TCP_SYN_RECV) {
		/*
		 * A passive child: the listener's TCP_SYNCNT, else
		 * synack_retries, and no less than TCP_DEFER_ACCEPT's wait
		 * once the peer ACKed (syn_ack_recalc()); a simultaneous
		 * open: its own SYN's limit (tcp_write_timeout()).
		 */
		unsigned int max = xs->syn_retries ? :
			xtcp_knob(net, xs->parent ? XTCP_KNOB_synack_retries :
				  XTCP_KNOB_syn_retries);

		if (xs->retransmits >= max &&
		    (!xs->defer_acked || xs->retransmits >= xs->defer_accept)) {
			xtcp_write_err(sk, ETIMEDOUT);
			return true;
		}
		return false;
	}

	if (xs->retransmits >= xtcp_knob(net, XTCP_KNOB_retries1))
		__dst_negative_advice(sk);

	/* TCP_USER_TIMEOUT replaces retries2 when set (RFC 5482). */
	if (xs->user_timeout && xs->retrans_stamp &&
	    time_after_eq(jiffies, xs->retrans_stamp +
			  msecs_to_jiffies(xs->user_timeout))) {
		xtcp_write_err(sk, ETIMEDOUT);
		return true;
	}

	if (sock_flag(sk, SOCK_DEAD)) {
		bool alive = xs->rto < xtcp_rto_max(sk);

		boundary = xtcp_orphan_retries(sk, alive);
		if (xtcp_out_of_resources(sk, alive ||
					  !xtcp_retrans_timed_out(sk, boundary)))
			return true;
	} else {
		boundary = xtcp_knob(net, XTCP_KNOB_retries2);
	}
	if (!xs->user_timeout && xtcp_retrans_timed_out(sk, boundary)) {
		xtcp_write_err(sk, ETIMEDOUT);
		return true;
	}
	return false;
}

/*
 * The RTO doubles; the timer fires no later than TCP_USER_TIMEOUT says
 * the connection ends (tcp_clamp_rto_to_user_timeout()).
 */
static void xtcp_backoff(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long when;

	/*
	 * TCP_THIN_LINEAR_TIMEOUTS: a thin stream (fewer than 4 segments
	 * out, past the first slow start) keeps its RTO for the first 6
	 * time-outs (tcp_retransmit_timer()).
	 */
	if (xs->thin_lto && sk->sk_state == TCP_ESTABLISHED &&
	    xs->packets_out < 4 && xs->snd_ssthresh < TCP_INFINITE_SSTHRESH &&
	    xs->retransmits <= 6)
		xtcp_set_rto(sk);
	else
		xs->rto = min(xs->rto << 1, xtcp_rto_max(sk));
	when = xs->rto;

	if (xs->user_timeout && xs->retrans_stamp) {
		long left = (long)(xs->retrans_stamp +
				   msecs_to_jiffies(xs->user_timeout) - jiffies);

		when = left <= 0 ? 1 : min_t(unsigned long, when, left);
	}
	xtcp_rtx_arm(sk, xtcp_rtx_what(sk), when);
}

/*
 * Nothing in flight, and data waits: held by a cork (whose time is up,
 * as TCP's 200 ms ceiling) or by the peer's window. A window too small
 * for the next skb gets what fits (tcp_write_wakeup()); a zero window
 * gets a probe, with back-off (RFC 9293 3.8.6.1).
 */
static void xtcp_persist_timeout(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = xtcp_send_head(sk);
	unsigned int max_probes, retries2;
	u32 room;

	room = xs->snd_una + xs->snd_wnd - XTCP_SKB_CB(skb)->seq;
	if ((s32)room > 0 && room < skb->len)
		xtcp_fragment(sk, skb, room, xtcp_current_mss(sk));
	__xtcp_push_pending(sk, XTCP_NAGLE_PUSH);
	if (!xtcp_send_head(sk) || xs->snd_una != xs->snd_nxt) {
		/* The window opened. */
		xs->probes_out = 0;
		xs->probes_tstamp = 0;
		xs->backoff = 0;
		return;
	}

	/*
	 * RFC 1122 4.2.2.17: a peer that answers the probes keeps the
	 * connection open however long its window stays shut, so every
	 * ACK resets probes_out (input.c). But the back-off only grows,
	 * and the time since the first probe counts: TCP_USER_TIMEOUT ends
	 * the connection after that long, and an orphan dies once the probes
	 * are rto_max_ms apart (tcp_probe_timer()).
	 */
	if (!xs->probes_tstamp)
		xs->probes_tstamp = jiffies ? : 1;
	else if (xs->user_timeout &&
		 time_after_eq(jiffies, xs->probes_tstamp +
			       msecs_to_jiffies(xs->user_timeout)))
		goto abort;

	retries2 = xtcp_knob(sock_net(sk), XTCP_KNOB_retries2);
	max_probes = retries2;
	if (sock_flag(sk, SOCK_DEAD)) {
		bool alive = xtcp_probe_rto(sk) < xtcp_rto_max(sk);

		max_probes = xtcp_orphan_retries(sk, alive);
		if (!alive && xs->backoff >= max_probes)
			goto abort;
		if (xtcp_out_of_resources(sk, true))
			return;
	}
	if (xs->probes_out >= max_probes)
		goto abort;
	xs->probes_out++;
	if (xs->backoff < retries2)
		xs->backoff++;
	xtcp_send_keepalive_probe(sk);
	xtcp_rtx_arm(sk, XTCP_TIME_PROBE0, xtcp_probe0_when(sk));
	return;
abort:
	xtcp_write_err(sk, ETIMEDOUT);
}

static void xtcp_rtx_timeout(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	enum xtcp_pending what = xs->pending;
	struct sk_buff *skb;

	xs->pending = 0;
	if ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))
		return;
	skb = xtcp_rtx_head(sk);
	/* Nothing in flight: whatever it was armed for, probe the window. */
	if (!skb) {
		if (xtcp_send_head(sk))
			xtcp_persist_timeout(sk);
		return;
	}
	switch (what) {
	case XTCP_TIME_REO_TIMEOUT:
		xtcp_rack_reo_timeout(sk);
		return;
	case XTCP_TIME_LOSS_PROBE:
		xtcp_tlp_probe(sk);
		return;
	default:
		break;
	}
	if (xtcp_write_timeout(sk))
		return;
	xs->tlp_high_seq = 0;

	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_TIMEOUTS);
	if (!xs->retrans_stamp) {
		u32 when = XTCP_SKB_CB(skb)->when;

		/*
		 * when holds 32 bits of jiffies, which pass 2^32 five
		 * minutes after boot: widen it to the time it stands for,
		 * or every later time-out would find 2^32 jiffies gone.
		 */
		xs->retrans_stamp = when ? jiffies - (u32)((u32)jiffies - when) :
				    jiffies;
	}
	if (XTCP_SKB_CB(skb)->tcp_flags & TCPHDR_SYN) {
		/*
		 * The peer ACKed and TCP_DEFER_ACCEPT waits for its data: the
		 * SYN-ACK goes again only at the last time-out, to get one
		 * more ACK that will complete the handshake (syn_ack_recalc()).
		 */
		if (!xs->defer_acked || xs->retransmits + 1 >= xs->defer_accept) {
			XTCP_INC_STATS(sock_net(sk), XTCP_MIB_SYNRETRANS);
			xtcp_retransmit_head(sk);
		}
		xs->retransmits++;
	} else {
		/*
		 * Everything in flight is deemed lost: slow start from one
		 * segment, resending the lost ones as ACKs come (RFC 5681
		 * 3.1, RFC 6298 5.4).
		 */
		xtcp_cong_on_rto(sk);
		xtcp_mark_all_lost(sk);
		xs->retransmits++;
		xtcp_xmit_retransmit_queue(sk);
	}
	xtcp_backoff(sk);
}

static void xtcp_keepalive_timeout(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	unsigned long idle, ktime, intvl;

	if (sk->sk_state == TCP_FIN_WAIT2 && sock_flag(sk, SOCK_DEAD)) {
		/*
		 * The wait for the peer's FIN is over. Linux TCP spends it
		 * as a TIME_WAIT socket in FIN_WAIT2, which ends silently.
		 */
		XTCP_INC_STATS(net, XTCP_MIB_FINWAIT2TIMEOUT);
		xtcp_done(sk);
		return;
	}
	if (!sock_flag(sk, SOCK_KEEPOPEN) || !xtcp_keepalive_state(sk))
		return;

	ktime = xtcp_keepalive_time(sk) * HZ;
	intvl = xtcp_keepalive_intvl(sk) * HZ;
	/* Data in flight: the retransmission timer watches the peer. */
	if (xs->snd_una != xs->snd_nxt || xtcp_send_head(sk)) {
		sk_reset_timer(sk, &sk->sk_timer, jiffies + ktime);
		return;
	}
	idle = jiffies - xs->rcv_tstamp;
	if (idle < ktime) {
		sk_reset_timer(sk, &sk->sk_timer, jiffies + ktime - idle);
		return;
	}
	if (xs->ka_probes_out >= xtcp_keepalive_probes(sk) ||
	    (xs->user_timeout && xs->ka_probes_out &&
	     time_after_eq(jiffies, xs->rcv_tstamp +
			   msecs_to_jiffies(xs->user_timeout)))) {
		xtcp_send_active_reset(sk, GFP_ATOMIC);
		xtcp_write_err(sk, ETIMEDOUT);
		return;
	}
	xs->ka_probes_out++;
	xtcp_send_keepalive_probe(sk);
	sk_reset_timer(sk, &sk->sk_timer, jiffies + intvl);
}

static void xtcp_rtx_timer_fn(struct timer_list *t)
{
	struct xtcp_sock *xs = from_timer(xs, t, rtx_timer);
	struct sock *sk = &xs->inet.sk;

	bh_lock_sock(sk);
	if (!sock_owned_by_user(sk))
		xtcp_rtx_timeout(sk);
	else if (!test_and_set_bit(XTCP_RTX_DEFERRED, &xs->deferred))
		sock_hold(sk);
	bh_unlock_sock(sk);
	sock_put(sk);
}

static void xtcp_delack_timeout(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_LISTEN ||
	    xs->rcv_nxt == xs->rcv_wup)
		return;
	/* Our data did not take it along: not so interactive after all. */
	xs->pingpong = false;
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_DELAYEDACKS);
	xtcp_send_ack(sk);
}

static void xtcp_delack_timer_fn(struct timer_list *t)
{
	struct xtcp_sock *xs = from_timer(xs, t, delack_timer);
	struct sock *sk = &xs->inet.sk;

	bh_lock_sock(sk);
	if (!sock_owned_by_user(sk))
		xtcp_delack_timeout(sk);
	else if (!test_and_set_bit(XTCP_DELACK_DEFERRED, &xs->deferred))
		sock_hold(sk);
	bh_unlock_sock(sk);
	sock_put(sk);
}

static void xtcp_keepalive_timer_fn(struct timer_list *t)
{
	struct sock *sk = from_timer(sk, t, sk_timer);
	struct xtcp_sock *xs = xtcp_sk(sk);

	bh_lock_sock(sk);
	if (!sock_owned_by_user(sk))
		xtcp_keepalive_timeout(sk);
	else if (!test_and_set_bit(XTCP_KEEPALIVE_DEFERRED, &xs->deferred))
		sock_hold(sk);
	bh_unlock_sock(sk);
	sock_put(sk);
}

/*
 * Called by release_sock() (with the socket still owned and its spinlock
 * held) after the backlog has been processed: run what timers deferred.
 * The caller holds a reference, so dropping the deferral's one is safe.
 */
void xtcp_release_cb(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (test_and_clear_bit(XTCP_RTX_DEFERRED, &xs->deferred)) {
		xtcp_rtx_timeout(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(XTCP_KEEPALIVE_DEFERRED, &xs->deferred)) {
		xtcp_keepalive_timeout(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(XTCP_DELACK_DEFERRED, &xs->deferred)) {
		xtcp_delack_timeout(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(XTCP_MTU_DEFERRED, &xs->deferred)) {
		xtcp_mtu_reduced(sk);
		__sock_put(sk);
	}
}
