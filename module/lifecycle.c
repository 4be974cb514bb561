// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the life of a socket, from init to destroy.
 *
 * References: a socket is born with one reference that belongs to the
 * protocol for as long as the socket exists in it; xtcp_destroy_sock()
 * drops it. The user's file does not hold one of its own (as in TCP):
 * close() orphans the socket, and the protocol destroys it once it reaches
 * CLOSED. Lookups, pending timers and a child's link to its listener take
 * references of their own.
 *
 * Children of a listener live in its SYN queue until their handshake
 * completes, then in its accept queue until accept() takes them. A child
 * that dies in the SYN queue is destroyed at once; one that dies in the
 * accept queue stays there, closed, for accept() to return (as in TCP).
 * A listener that closes resets and destroys all its children.
 */
#include <linux/kernel.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

/*
 * sk->sk_write_space: wake writers once a third of the send buffer is
 * free (sk_stream_write_space(), which is not exported to modules).
 */
static void xtcp_write_space(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	struct socket_wq *wq;

	if (!sock || !__sk_stream_is_writeable(sk, 1))
		return;
	clear_bit(SOCK_NOSPACE, &sock->flags);
	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, EPOLLOUT | EPOLLWRNORM |
					   EPOLLWRBAND);
	if (wq && wq->fasync_list && !(sk->sk_shutdown & SEND_SHUTDOWN))
		sock_wake_async(wq, SOCK_WAKE_SPACE, POLL_OUT);
	rcu_read_unlock();
}

/*
 * What a SYN offers, and the MSS until the handshake settles it: a new
 * socket's, and again after a disconnect.
 */
static void xtcp_init_offers(struct xtcp_sock *xs)
{
	memset(&xs->rx_opt, 0, sizeof(xs->rx_opt));
	xs->rx_opt.wscale_ok = 1;
	xs->rx_opt.sack_ok = 1;
	xs->rx_opt.tstamp_ok = 1;
	xs->rx_opt.rcv_wscale = XTCP_RCV_WSCALE;
	xs->mss_cache = XTCP_DEFAULT_MSS;
	xs->advmss = XTCP_DEFAULT_MSS;
}

/* Set up the xtcp part of a new socket, or of a listener's fresh clone. */
void xtcp_init_sock(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);

	memset((char *)xs + offsetof(struct xtcp_sock, bind_node), 0,
	       sizeof(*xs) - offsetof(struct xtcp_sock, bind_node));
	INIT_HLIST_NODE(&xs->bind_node);
	INIT_LIST_HEAD(&xs->q_node);
	spin_lock_init(&xs->lq.lock);
	INIT_LIST_HEAD(&xs->lq.syn);
	INIT_LIST_HEAD(&xs->lq.accept);
	xtcp_init_timers(sk);

	xs->rto = xtcp_rto_initial(net);
	xtcp_init_offers(xs);
	xs->ooo_queue = RB_ROOT;
	xs->rtx_queue = RB_ROOT;
	INIT_LIST_HEAD(&xs->tsorted);
	xs->quickack = XTCP_QUICKACKS;
	xtcp_cong_init(sk);

	sk->sk_backlog_rcv = xtcp_do_rcv;
	sk->sk_write_space = xtcp_write_space;
	/* Big skbs of ours are cut by offload.c; sk_setup_caps() checks. */
	sk->sk_gso_type = SKB_GSO_SCTP;
	sock_set_flag(sk, SOCK_RCU_FREE);
}

/*
 * Receive buffer auto-tuning (tcp_rcv_space_adjust(), simplified): once
 * per round trip, let the buffer hold four times what the application
 * read in the last one (the window is half the buffer), so a fast reader
 * is never window-limited. Not when SO_RCVBUF fixed the size.
 */
void xtcp_rcv_space_adjust(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long rtt = max_t(unsigned long,
				  usecs_to_jiffies(xs->srtt_us >> 3), 1);
	int max = READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_rmem[2]);
	u64 want;

	if (!xs->rcvq_time) {
		xs->rcvq_time = jiffies ? : 1;
		xs->rcvq_seq = xs->copied_seq;
		return;
	}
	if (time_before(jiffies, xs->rcvq_time + rtt))
		return;
	want = 4ULL * (xs->copied_seq - xs->rcvq_seq);
	if (!(sk->sk_userlocks & SOCK_RCVBUF_LOCK) &&
	    want > READ_ONCE(sk->sk_rcvbuf)) {
		WRITE_ONCE(sk->sk_rcvbuf, (int)min_t(u64, want, max));
		/* The clamp follows the buffer. */
		xs->window_clamp = xtcp_full_space(sk);
	}
	xs->rcvq_time = jiffies ? : 1;
	xs->rcvq_seq = xs->copied_seq;
}

/*
 * When the handshake completes (tcp_init_buffer_space()): the send
 * buffer grows to what the initial window needs, and the window
 * stops a segment short of what the receive buffer allows, so that a
 * full-sized segment always fits beside what the application has not
 * read yet (tcp_app_win 31), and rcv_ssthresh starts no higher.
 */
void xtcp_init_buffer_space(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 maxwin = max(xtcp_full_space(sk), 0);
	u32 advmss = xs->advmss;

	xtcp_sndbuf_expand(sk);
	if (xs->window_clamp >= maxwin)
		xs->window_clamp = maxwin;
	if (xs->window_clamp > 2 * advmss &&
	    xs->window_clamp + advmss > maxwin)
		xs->window_clamp = max(2 * advmss, maxwin - advmss);
	xs->rcv_ssthresh = min(xs->rcv_ssthresh, xs->window_clamp);
}

/*
 * Send buffer auto-tuning (tcp_sndbuf_expand()): room for twice the
 * congestion window (at least the initial one) in skbs of a full
 * segment's memory cost, unless SO_SNDBUF fixed it.
 */
void xtcp_sndbuf_expand(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int max = READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_wmem[2]);
	u32 per_mss, segs;
	u64 want;

	if (sk->sk_userlocks & SOCK_SNDBUF_LOCK)
		return;
	per_mss = max_t(u32, xs->rx_opt.mss, xs->mss_cache) + MAX_TCP_HEADER +
		  SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	per_mss = roundup_pow_of_two(per_mss) +
		  SKB_DATA_ALIGN(sizeof(struct sk_buff));
	segs = max_t(u32, TCP_INIT_CWND, xs->snd_cwnd);
	want = 2ULL * segs * per_mss;
	if (want > READ_ONCE(sk->sk_sndbuf))
		WRITE_ONCE(sk->sk_sndbuf, (int)min_t(u64, want, max));
}

static void xtcp_write_queue_purge(struct sock *sk)
{
	struct sk_buff *skb, *tmp;

	while ((skb = __skb_dequeue(&sk->sk_write_queue)))
		xtcp_free_skb(sk, skb);
	skb = xtcp_rtx_head(sk);
	skb_rbtree_walk_from_safe(skb, tmp) {
		xtcp_rtx_unlink(sk, skb);
		xtcp_free_skb(sk, skb);
	}
	INIT_LIST_HEAD(&xtcp_sk(sk)->tsorted);
	xtcp_sk(sk)->rtx_hint_ok = false;
	xtcp_sk(sk)->sack_cache_n = 0;
}

/*
 * Take @sk off its listener's SYN queue. Return true if it was there: it
 * died half-open and nobody will ever accept it.
 */
static bool xtcp_child_unqueue_syn(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_listen_queue *lq = &xtcp_sk(xs->parent)->lq;
	bool was_syn = false;

	spin_lock_bh(&lq->lock);
	if (!list_empty(&xs->q_node) && !xs->in_accept_q) {
		list_del_init(&xs->q_node);
		lq->syn_len--;
		was_syn = true;
	}
	spin_unlock_bh(&lq->lock);
	return was_syn;
}

/* Release everything and drop the protocol's reference. @sk is locked. */
void xtcp_destroy_sock(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sock *parent = xs->parent;

	xtcp_clear_timers(sk);
	xtcp_ehash_remove(sk);
	xtcp_bind_put_port(sk);
	xtcp_write_queue_purge(sk);
	skb_queue_purge(&sk->sk_receive_queue);
	xtcp_ofo_purge(sk);
	xtcp_orphan_del(sk);
	kfree(xs->saved_syn);
	xs->saved_syn = NULL;

	if (parent) {
		struct xtcp_listen_queue *lq = &xtcp_sk(parent)->lq;

		spin_lock_bh(&lq->lock);
		if (!list_empty(&xs->q_node)) {
			list_del_init(&xs->q_node);
			if (xs->in_accept_q)
				sk_acceptq_removed(parent);
			else
				lq->syn_len--;
		}
		spin_unlock_bh(&lq->lock);
		xs->parent = NULL;
		sock_put(parent);
	}
	sock_put(sk);
}

/*
 * The connection reached CLOSED (tcp_done()). An orphan is destroyed; a
 * socket the user still holds stays, closed and unhashed, until close().
 */
void xtcp_done(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xtcp_set_state(sk, TCP_CLOSE);
	xtcp_clear_timers(sk);
	xtcp_ehash_remove(sk);
	if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK))
		xtcp_bind_put_port(sk);
	sk->sk_shutdown = SHUTDOWN_MASK;

	if (xs->parent && xtcp_child_unqueue_syn(sk))
		sock_set_flag(sk, SOCK_DEAD);

	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_state_change(sk);
	else
		xtcp_destroy_sock(sk);
}

/*
 * The connection is reset (by the peer, or aborted): report @err, or the
 * errno TCP gives for the state when @err is 0, and close.
 */
void xtcp_reset(struct sock *sk, int err)
{
	if (!err) {
		switch (sk->sk_state) {
		case TCP_SYN_SENT:
			err = ECONNREFUSED;
			break;
		case TCP_CLOSE_WAIT:
			err = EPIPE;
			break;
		case TCP_CLOSE:
			return;
		default:
			err = ECONNRESET;
		}
	}
	WRITE_ONCE(sk->sk_err, err);
	/* Readers of sk_err must see it before the state change. */
	smp_wmb();
	xtcp_write_queue_purge(sk);
	if (!sock_flag(sk, SOCK_DEAD))
		sk_error_report(sk);
	xtcp_done(sk);
}

/*
 * connect(AF_UNSPEC), a connect() that failed, shutdown(SHUT_RD) of a
 * listener, SO_LINGER {1, 0}:
 * drop the connection, with a RST where the peer expects more
 * (tcp_disconnect()). The socket can be used again afterwards.
 */
int xtcp_disconnect(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int old_state = sk->sk_state;

	if (old_state != TCP_CLOSE)
		xtcp_set_state(sk, TCP_CLOSE);
	if (old_state == TCP_LISTEN) {
		xtcp_listen_stop(sk);
	} else if ((1 << old_state) &
		   (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT | TCPF_FIN_WAIT1 |
		    TCPF_FIN_WAIT2 | TCPF_SYN_RECV) ||
		   (xs->snd_nxt != xs->write_seq &&
		    (1 << old_state) & (TCPF_CLOSING | TCPF_LAST_ACK))) {
		xtcp_send_active_reset(sk, gfp_any());
		WRITE_ONCE(sk->sk_err, ECONNRESET);
	} else if (old_state == TCP_SYN_SENT) {
		WRITE_ONCE(sk->sk_err, ECONNRESET);
	}

	xtcp_clear_timers(sk);
	xtcp_ehash_remove(sk);
	if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK))
		xtcp_bind_put_port(sk);
	xtcp_write_queue_purge(sk);
	skb_queue_purge(&sk->sk_receive_queue);
	xtcp_ofo_purge(sk);
	sk->sk_shutdown = 0;
	sock_reset_flag(sk, SOCK_DONE);
	/* An address that bind() did not fix is chosen again (tcp_disconnect()). */
	if (!(sk->sk_userlocks & SOCK_BINDADDR_LOCK)) {
		inet_sk(sk)->inet_saddr = 0;
		sk->sk_rcv_saddr = 0;
	}
	sk->sk_daddr = 0;
	sk->sk_dport = 0;
	xs->fin_queued = false;
	kfree(xs->saved_syn);
	xs->saved_syn = NULL;
	xtcp_init_offers(xs);
	xs->ts_recent = 0;
	xs->ts_recent_stamp = 0;
	xs->snd_wnd = 0;
	xs->max_window = 0;
	xs->high_seq = 0;
	xs->snd_cwnd_cnt = 0;
	xs->is_cwnd_limited = false;
	xs->max_packets_out = 0;
	xs->snd_cwnd_used = 0;
	xs->probes_out = 0;
	xs->ka_probes_out = 0;
	xs->backoff = 0;
	xs->probes_tstamp = 0;
	xs->retrans_stamp = 0;
	xs->last_oow_ack_time = 0;
	xs->dsack_pending = false;
	/* As tcp_disconnect(): ACK timing and the window clamp start over. */
	xs->pingpong = false;
	xs->window_clamp = 0;
	xs->rcv_ssthresh = 0;
	xs->defer_acked = false;
	xs->rcv_mss = 0;
	xs->last_seg_size = 0;
	xs->ack_pushed = 0;
	xs->rcvq_time = 0;
	xs->bytes_acked = 0;
	xs->bytes_received = 0;
	xs->bytes_sent = 0;
	xs->bytes_retrans = 0;
	xs->total_retrans = 0;
	xs->segs_in = 0;
	xs->segs_out = 0;
	xs->data_segs_in = 0;
	xs->data_segs_out = 0;
	xs->dsack_dups = 0;
	xs->snd_sml = 0;
	xs->ooo_last_seq = 0;
	xs->tlp_retrans = false;
	xs->pending = 0;
	xs->srtt_us = 0;
	xs->prior_cwnd = 0;
	xs->prr_delivered = 0;
	xs->prr_out = 0;
	xs->lost = 0;
	xs->mdev_us = 0;
	xs->mdev_max_us = 0;
	xs->rttvar_us = 0;
	xs->rtt_seq = 0;
	xs->sack_first_sent = 0;
	xs->retransmits = 0;
	xs->write_seq = 0;
	xs->packets_out = 0;
	xs->sacked_out = 0;
	xs->lost_out = 0;
	xs->retrans_out = 0;
	xs->dupacks = 0;
	xs->rtt_min = 0;
	xs->rack_mstamp = 0;
	xs->rack_end_seq = 0;
	xs->rack_rtt_us = 0;
	xs->rack_advanced = false;
	xs->rack_reord = false;
	xs->tlp_high_seq = 0;
	xs->quickack = XTCP_QUICKACKS;
	xs->cc->init(sk);
	xs->snd_cwnd = XTCP_INIT_CWND;
	xs->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	xs->ca_state = XTCP_CA_OPEN;
	xs->rto = xtcp_rto_initial(sock_net(sk));
	sk_dst_reset(sk);
	sk_error_report(sk);
	return 0;
}

/*
 * The state a close() or shutdown(SHUT_WR) moves to (RFC 9293 3.10.4);
 * returns true if a FIN has to be sent.
 */
bool xtcp_close_state(struct sock *sk)
{
	switch (sk->sk_state) {
	case TCP_ESTABLISHED:
	case TCP_SYN_RECV:
		xtcp_set_state(sk, TCP_FIN_WAIT1);
		return true;
	case TCP_CLOSE_WAIT:
		xtcp_set_state(sk, TCP_LAST_ACK);
		return true;
	case TCP_SYN_SENT:
		xtcp_done(sk);
		return false;
	default:
		return false;
	}
}

/* close() (tcp_close()). */
void xtcp_close(struct sock *sk, long timeout)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool data_was_unread = false;
	struct sk_buff *skb;
	int state;

	lock_sock(sk);
	sk->sk_shutdown = SHUTDOWN_MASK;

	if (sk->sk_state == TCP_LISTEN) {
		xtcp_set_state(sk, TCP_CLOSE);
		xtcp_listen_stop(sk);
		goto adjudge_to_death;
	}

	/* Unread data is lost: the peer must learn of it (RFC 2525 2.17). */
	while ((skb = __skb_dequeue(&sk->sk_receive_queue))) {
		if (after(XTCP_SKB_CB(skb)->seq + skb->len, xs->copied_seq))
			data_was_unread = true;
		__kfree_skb(skb);
	}

	if (sk->sk_state == TCP_CLOSE)
		goto adjudge_to_death;

	if (data_was_unread) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ABORTONCLOSE);
		xtcp_set_state(sk, TCP_CLOSE);
		xtcp_send_active_reset(sk, sk->sk_allocation);
	} else if (sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ABORTONLINGER);
		xtcp_disconnect(sk);
	} else if (xtcp_close_state(sk)) {
		xtcp_send_fin(sk);
	}

	sk_stream_wait_close(sk, timeout);

adjudge_to_death:
	state = sk->sk_state;
	sock_hold(sk);
	sock_orphan(sk);
	xtcp_orphan_add(sk);
	/* Segments and timers that waited for us run now. */
	release_sock(sk);

	local_bh_disable();
	bh_lock_sock(sk);
	/* It reached CLOSED meanwhile and was destroyed as an orphan. */
	if (state != TCP_CLOSE && sk->sk_state == TCP_CLOSE)
		goto out;

	/* One orphan too many, or memory is short: reset it now. */
	if (sk->sk_state != TCP_CLOSE && xtcp_check_oom(sk, 0)) {
		xtcp_send_active_reset(sk, GFP_ATOMIC);
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ABORTONMEMORY);
		xtcp_done(sk);
		goto out;
	}

	if (sk->sk_state == TCP_FIN_WAIT2) {
		/* TCP_LINGER2 < 0: no FIN_WAIT_2 for orphans (tcp_close()). */
		if (xtcp_sk(sk)->linger2 < 0) {
			xtcp_set_state(sk, TCP_CLOSE);
			xtcp_send_active_reset(sk, GFP_ATOMIC);
			XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ABORTONLINGER);
		} else {
			xtcp_timer_fin_wait2(sk);
		}
	}
	if (sk->sk_state == TCP_CLOSE)
		xtcp_destroy_sock(sk);
out:
	bh_unlock_sock(sk);
	local_bh_enable();
	sock_put(sk);
}
