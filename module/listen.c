// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the passive open (RFC 9293 3.10.7.2, LISTEN).
 *
 * A listener answers a SYN by cloning itself into a child in SYN_RCVD on
 * its SYN queue (or, when that queue overflows, with a SYN cookie and no
 * state at all); the child moves to the accept queue when the handshake
 * completes, and accept() takes it from there. Both queues sit under the
 * listener's ->lq.lock; a child points back at its listener with a
 * reference until it leaves the queues (xtcp_child_unqueue_syn()).
 */
#include <linux/jhash.h>
#include <linux/rculist.h>
#include <linux/rculist_nulls.h>
#include <linux/skbuff.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/icmp.h>
#include <net/inet_connection_sock.h>
#include <net/secure_seq.h>
#include <net/tcp.h>

#include "xtcp.h"

/* What a child takes over from its listener's socket options. */
static void xtcp_inherit_settings(struct sock *child, const struct sock *sk)
{
	const struct xtcp_sock *lxs = xtcp_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(child);

	xs->nonagle = lxs->nonagle & XTCP_NAGLE_OFF;
	xs->user_mss = lxs->user_mss;
	xs->keepalive_time = lxs->keepalive_time;
	xs->keepalive_intvl = lxs->keepalive_intvl;
	xs->keepalive_probes = lxs->keepalive_probes;
	xs->syn_retries = lxs->syn_retries;
	xs->user_timeout = lxs->user_timeout;
	xs->notsent_lowat = lxs->notsent_lowat;
	xs->recvmsg_inq = lxs->recvmsg_inq;
	xs->save_syn = lxs->save_syn;
	xs->linger2 = lxs->linger2;
	xs->window_clamp = lxs->window_clamp;
	xs->thin_lto = lxs->thin_lto;
	xs->defer_accept = READ_ONCE(lxs->defer_accept);
	xs->cc = lxs->cc;
	xs->cc->init(child);
}

/*
 * TCP_SAVE_SYN (tcp_reqsk_record_syn()): the SYN's IPv4 and TCP headers,
 * with the link-layer header before them when @mode is 2, for the child
 * to hand out once through TCP_SAVED_SYN. Nothing if memory is short.
 */
static void xtcp_save_syn(struct sock *child, const struct sk_buff *skb,
			  int mode)
{
	u32 mac = 0, net = skb_network_header_len(skb), tcp = tcp_hdrlen(skb);
	struct saved_syn *saved;

	if (mode == 2 && skb_mac_header_was_set(skb))
		mac = skb_mac_header_len(skb);
	saved = kmalloc(struct_size(saved, data, mac + net + tcp), GFP_ATOMIC);
	if (!saved)
		return;
	saved->mac_hdrlen = mac;
	saved->network_hdrlen = net;
	saved->tcp_hdrlen = tcp;
	memcpy(saved->data, skb_network_header(skb) - mac, mac + net + tcp);
	xtcp_sk(child)->saved_syn = saved;
}

/* A listener's new child, for @skb's SYN or for a valid cookie ACK. */
static struct sock *xtcp_create_child(struct sock *sk, struct sk_buff *skb,
				      const struct xtcp_options *peer,
				      bool from_cookie)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct net *net = sock_net(sk);
	union tcp_seq_and_ts_off st;
	struct xtcp_sock *xs;
	struct flowi4 *fl4;
	struct rtable *rt;
	struct sock *child;

	child = sk_clone_lock(sk, GFP_ATOMIC);
	if (!child)
		return NULL;
	xs = xtcp_sk(child);

	/* Reset everything of the listener's that must not be shared. */
	RCU_INIT_POINTER(inet_sk(child)->inet_opt, NULL);
	inet_sk(child)->mc_list = NULL;
	atomic_set(&inet_sk(child)->inet_id, get_random_u16());
	xtcp_init_sock(child);
	xtcp_inherit_settings(child, sk);
	if (!from_cookie && READ_ONCE(xtcp_sk(sk)->save_syn))
		xtcp_save_syn(child, skb, READ_ONCE(xtcp_sk(sk)->save_syn));
	xtcp_set_state(child, TCP_SYN_RECV);
	sock_hold(sk);
	xs->parent = sk;

	child->sk_rcv_saddr = iph->daddr;
	child->sk_daddr = iph->saddr;
	inet_sk(child)->inet_saddr = iph->daddr;
	child->sk_dport = th->source;

	/* ip_queue_xmit() takes the addresses from the cork's flow. */
	fl4 = &inet_sk(child)->cork.fl.u.ip4;
	rt = ip_route_output_ports(net, fl4, child, iph->saddr, iph->daddr,
				   th->source, th->dest, xtcp_ipproto,
				   RT_CONN_FLAGS(child), child->sk_bound_dev_if);
	if (IS_ERR(rt))
		goto err;
	sk_setup_caps(child, &rt->dst);
	xs->advmss = min_t(unsigned int, dst_metric_advmss(&rt->dst), 65495U);
	if (xs->user_mss)
		xs->advmss = min(xs->advmss, xs->user_mss);

	/* A cookie ACK comes one past the SYN it answers. */
	xs->irs = cb->seq - (from_cookie ? 1 : 0);
	xs->rcv_nxt = xs->irs + 1;
	xs->rcv_wup = xs->rcv_nxt;
	xs->copied_seq = xs->rcv_nxt;

	st = secure_tcp_seq_and_ts_off(net, iph->daddr, iph->saddr,
				       th->dest, th->source);
	xs->ts_offset = xtcp_knob(net, XTCP_KNOB_timestamps) == 1 ?
			st.ts_off : 0;
	if (from_cookie)
		xs->iss = cb->ack_seq - 1;
	else if (cb->tw_isn)
		xs->iss = cb->tw_isn;
	else
		xs->iss = st.seq;
	/* The cookie's SYN-ACK already took its sequence number. */
	xs->snd_una = xs->iss + from_cookie;
	xs->snd_nxt = xs->snd_una;
	xs->write_seq = xs->snd_una;
	/*
	 * No short segment is out: Nagle must not wait for one
	 * (tcp_create_openreq_child()). A SYN-ACK we send moves it on; a
	 * cookie's was stateless.
	 */
	xs->snd_sml = xs->snd_una;

	if (from_cookie) {
		/* A cookie keeps only the MSS (no timestamps here). */
		xs->rx_opt.wscale_ok = 0;
		xs->rx_opt.sack_ok = 0;
		xs->rx_opt.tstamp_ok = 0;
	} else {
		xtcp_set_offers(child);
		/*
		 * A SYN with ECE and CWR asks for ECN; granted unless the
		 * knob is 0, or the SYN itself is ECT, which no sender does
		 * (tcp_ecn_create_request()).
		 */
		if (th->ece && th->cwr && xtcp_knob(net, XTCP_KNOB_ecn) &&
		    (INET_ECN_is_not_ect(ipv4_get_dsfield(iph)) || th->res1))
			xs->ecn_flags = XTCP_ECN_OK;
	}
	/* The SYN's window first: the MSS is bound to half of it. */
	xs->snd_wnd = ntohs(th->window);
	xs->max_window = xs->snd_wnd;
	xtcp_negotiate(child, peer);
	/* In segments of the peer's payload: our MSS less its timestamps. */
	xtcp_select_initial_window(child, xs->advmss -
				   (xs->rx_opt.tstamp_ok ?
				    TCPOLEN_TSTAMP_ALIGNED : 0));
	xs->snd_wl1 = cb->seq;
	xs->snd_wl2 = xs->iss;
	xs->rcv_tstamp = jiffies;
	return child;

err:
	xtcp_set_state(child, TCP_CLOSE);
	sock_set_flag(child, SOCK_DEAD);
	bh_unlock_sock(child);
	xtcp_destroy_sock(child);
	sock_put(child);	/* sk_clone_lock()'s second reference */
	return NULL;
}

/*
 * Put a locked new child into the tables and its listener's queue, before
 * anything is sent for it: the peer's answer must find it. On failure the
 * child is destroyed (and stays locked, for the caller to unlock).
 */
static int xtcp_child_publish(struct sock *sk, struct sock *child,
			      bool established)
{
	struct xtcp_listen_queue *lq = &xtcp_sk(sk)->lq;
	struct xtcp_sock *xs = xtcp_sk(child);
	int err;

	err = xtcp_ehash_insert(child);
	if (!err)
		err = xtcp_bind_inherit_port(child);
	if (err)
		goto err;

	spin_lock_bh(&lq->lock);
	if (lq->closed) {
		spin_unlock_bh(&lq->lock);
		err = -ECONNABORTED;
		goto err;
	}
	if (established) {
		list_add_tail(&xs->q_node, &lq->accept);
		xs->in_accept_q = true;
		sk_acceptq_added(sk);
	} else {
		list_add_tail(&xs->q_node, &lq->syn);
		lq->syn_len++;
	}
	spin_unlock_bh(&lq->lock);
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_PASSIVEOPENS);
	return 0;

err:
	xtcp_set_state(child, TCP_CLOSE);
	sock_set_flag(child, SOCK_DEAD);
	xtcp_destroy_sock(child);
	return err;
}

/* SYN cookies need the kernel's helpers (CONFIG_SYN_COOKIES). */
static int xtcp_syncookies(const struct sock *sk)
{
	if (!IS_ENABLED(CONFIG_SYN_COOKIES))
		return 0;
	return xtcp_knob(sock_net(sk), XTCP_KNOB_syncookies);
}

#if IS_ENABLED(CONFIG_SYN_COOKIES)
static u32 xtcp_cookie_isn(struct sk_buff *skb, u16 *mss)
{
	return __cookie_v4_init_sequence(ip_hdr(skb), tcp_hdr(skb), mss);
}

static int xtcp_cookie_check(struct sk_buff *skb)
{
	return __cookie_v4_check(ip_hdr(skb), tcp_hdr(skb),
				 XTCP_SKB_CB(skb)->ack_seq - 1);
}
#else
static u32 xtcp_cookie_isn(struct sk_buff *skb, u16 *mss)
{
	return 0;
}

static int xtcp_cookie_check(struct sk_buff *skb)
{
	return 0;
}
#endif

/*
 * A listener that answers a SYN with a cookie notes when, at most once a
 * second (tcp_synq_overflow()).
 */
static void xtcp_note_cookie_sent(struct sock *sk)
{
	struct xtcp_listen_queue *lq = &xtcp_sk(sk)->lq;
	u32 last = READ_ONCE(lq->last_overflow), now = (u32)jiffies ? : 1;

	if (!last || !time_between32(now, last, last + HZ))
		WRITE_ONCE(lq->last_overflow, now);
}

/*
 * An ACK is tried as a cookie only if the listener sent cookies in the
 * last two minutes, the life of a cookie (tcp_synq_no_recent_overflow()).
 * Otherwise any of the ~2^29 ACKs that happen to decode as a valid cookie
 * would plant an established connection "from" whatever address a blind
 * attacker spoofs. The lower bound is a second early: a concurrent
 * xtcp_note_cookie_sent() may have stored a later time than the jiffies
 * a cookie was made with. Unlike Linux, a listener that never sent one
 * is told apart by 0, not by a time two minutes back from jiffies 0.
 */
static bool xtcp_no_recent_cookie(const struct sock *sk)
{
	u32 last = READ_ONCE(xtcp_sk(sk)->lq.last_overflow);

	return !last || !time_between32((u32)jiffies, last - HZ,
					last + TCP_SYNCOOKIE_VALID);
}

/*
 * An ACK for no child: it may complete a SYN cookie handshake. Returns
 * true if the new child took @skb, which carried data (or a FIN) already.
 */
static bool xtcp_cookie_ack(struct sock *sk, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct xtcp_options peer = {};
	bool taken = false;
	struct sock *child;
	int mss;

	if (!xtcp_syncookies(sk) || xtcp_no_recent_cookie(sk)) {
		xtcp_send_reset_reply(sock_net(sk), skb);
		return false;
	}
	mss = xtcp_cookie_check(skb);
	if (!mss) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_SYNCOOKIESFAILED);
		xtcp_send_reset_reply(sock_net(sk), skb);
		return false;
	}
	if (sk_acceptq_is_full(sk)) {
		xtcp_drop_stats(sock_net(sk), sk, skb, XTCP_MIB_ACCEPTQUEUEDROP);
		return false;
	}
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_SYNCOOKIESRECV);
	peer.mss = mss;
	child = xtcp_create_child(sk, skb, &peer, true);
	if (!child)
		return false;
	xtcp_init_transfer(child);
	if (!xtcp_child_publish(sk, child, true)) {
		/*
		 * Its payload is the new connection's first data: the child
		 * processes the segment, still locked (tcp_child_process()).
		 */
		if (skb->len > th->doff * 4 || th->fin) {
			xtcp_rcv_state_process(child, skb);
			taken = true;
		}
		sk->sk_data_ready(sk);
	}
	bh_unlock_sock(child);
	sock_put(child);	/* sk_clone_lock()'s second reference */
	return taken;
}

/* RFC 9293 3.10.7.2: LISTEN. */
void xtcp_listen_rcv(struct sock *sk, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct xtcp_listen_queue *lq = &xtcp_sk(sk)->lq;
	struct net *net = sock_net(sk);
	struct xtcp_options peer = {};
	int cookies, qlen, max_syn;
	struct sock *child;
	bool want_cookie;

	if (th->rst)
		goto drop;
	if (th->ack) {
		if (th->syn)
			xtcp_send_reset_reply(net, skb);
		else if (xtcp_cookie_ack(sk, skb))
			return;
		goto drop;
	}
	if (!th->syn || th->fin)
		goto drop;

	/*
	 * As tcp_conn_request(): the SYN queue is full past the listen()
	 * backlog; then, or always with syncookies 2, a cookie answers, or
	 * without cookies the SYN is dropped. Without cookies the last
	 * quarter of max_syn_backlog is kept for peers proven alive, which
	 * for xtcp (no per-destination metrics) is none.
	 */
	cookies = xtcp_syncookies(sk);
	qlen = READ_ONCE(lq->syn_len);
	want_cookie = cookies == 2 ||
		      (cookies && qlen > READ_ONCE(sk->sk_max_ack_backlog));
	if (!cookies && qlen > READ_ONCE(sk->sk_max_ack_backlog)) {
		xtcp_drop_stats(net, sk, skb, XTCP_MIB_SYNQUEUEDROP);
		goto drop;
	}
	if (sk_acceptq_is_full(sk)) {
		xtcp_drop_stats(net, sk, skb, XTCP_MIB_ACCEPTQUEUEDROP);
		goto drop;
	}
	xtcp_parse_options(th, &peer, true);
	if (want_cookie) {
		u16 mss = peer.mss ? : XTCP_DEFAULT_MSS;
		u32 isn = xtcp_cookie_isn(skb, &mss);

		XTCP_INC_STATS(net, XTCP_MIB_SYNCOOKIESSENT);
		xtcp_note_cookie_sent(sk);
		xtcp_send_cookie_synack(net, skb, isn, mss);
		goto drop;
	}
	max_syn = xtcp_knob(net, XTCP_KNOB_max_syn_backlog);
	if (!cookies && max_syn - qlen < (max_syn >> 2)) {
		xtcp_drop_stats(net, sk, skb, XTCP_MIB_SYNQUEUEDROP);
		goto drop;
	}

	child = xtcp_create_child(sk, skb, &peer, false);
	if (!child)
		goto drop;
	/* A half-open child dies with its SYN-ACK: done() destroys it. */
	if (!xtcp_child_publish(sk, child, false) && xtcp_send_synack(child))
		xtcp_done(child);
	bh_unlock_sock(child);
	sock_put(child);	/* sk_clone_lock()'s second reference */
drop:
	kfree_skb(skb);
}

/*
 * Forget every child of a listener that is closing: reset those in the
 * accept queue, drop the half-open ones silently (inet_csk_listen_stop()).
 */
void xtcp_listen_stop(struct sock *sk)
{
	struct xtcp_listen_queue *lq = &xtcp_sk(sk)->lq;
	struct xtcp_sock *cxs;
	struct sock *child;
	bool half_open;

	xtcp_bind_unlisten(sk);
	spin_lock_bh(&lq->lock);
	lq->closed = true;
	spin_unlock_bh(&lq->lock);

	for (;;) {
		spin_lock_bh(&lq->lock);
		cxs = list_first_entry_or_null(&lq->syn, struct xtcp_sock,
					       q_node);
		if (!cxs)
			cxs = list_first_entry_or_null(&lq->accept,
						       struct xtcp_sock, q_node);
		if (!cxs) {
			spin_unlock_bh(&lq->lock);
			break;
		}
		list_del_init(&cxs->q_node);
		half_open = !cxs->in_accept_q;
		if (half_open)
			lq->syn_len--;
		else
			sk_acceptq_removed(sk);
		child = &cxs->inet.sk;
		/* Being on the queue kept it alive: a reference is safe. */
		sock_hold(child);
		spin_unlock_bh(&lq->lock);

		local_bh_disable();
		bh_lock_sock(child);
		sock_set_flag(child, SOCK_DEAD);
		if (child->sk_state == TCP_CLOSE) {
			xtcp_destroy_sock(child);
		} else if (half_open && child->sk_state == TCP_SYN_RECV) {
			/*
			 * As Linux's request socks: gone without a word; an
			 * ACK for it finds no socket and gets the RST then.
			 */
			xtcp_done(child);
		} else {
			xtcp_send_active_reset(child, GFP_ATOMIC);
			XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ABORTONCLOSE);
			xtcp_done(child);
		}
		bh_unlock_sock(child);
		local_bh_enable();
		sock_put(child);
	}
}

/* How well @sk, a listener on the port, matches: -1 not at all. */
static int xtcp_listener_score(const struct sock *sk, unsigned short port,
			       __be32 daddr, int dif)
{
	int bound = READ_ONCE(sk->sk_bound_dev_if);

	if (sk->sk_num != port || inet_sk_state_load(sk) != TCP_LISTEN ||
	    (bound && bound != dif))
		return -1;
	if (sk->sk_rcv_saddr == daddr)
		return 2;
	return sk->sk_rcv_saddr ? -1 : 1;
}

/*
 * The best listener of chain @slot for the segment, or NULL; the n-th of
 * equal SO_REUSEPORT listeners by the connection's 4-tuple hash, so that
 * connections spread over them as in TCP. Listeners may move between
 * chains while we walk (a socket that stops listening and listens again
 * elsewhere): a walk that does not end at its own chain's nulls marker
 * starts over, as __inet_lookup_listener() relies on.
 */
static struct sock *xtcp_listener_chain(struct xtcp_net *xn, unsigned int slot,
					__be32 saddr, __be16 sport,
					__be32 daddr, unsigned short port,
					int dif)
{
	const struct hlist_nulls_node *node;
	int score, best_score;
	struct xtcp_sock *xs;
	struct sock *best;
	u32 n, pick;

begin:
	best = NULL;
	best_score = -1;
	n = 0;
	hlist_nulls_for_each_entry_rcu(xs, node, &xn->lhash[slot], lhash_node) {
		struct sock *sk = &xs->inet.sk;

		score = xtcp_listener_score(sk, port, daddr, dif);
		if (score > best_score) {
			best = sk;
			best_score = score;
			n = 1;
		} else if (score == best_score && score > 0 &&
			   best->sk_reuseport && sk->sk_reuseport) {
			n++;
		}
	}
	if (get_nulls_value(node) != slot)
		goto begin;
	if (n < 2)
		return best;
	pick = reciprocal_scale(jhash_3words((__force u32)saddr,
					     (__force u32)daddr,
					     (__force u32)sport << 16 | port, 0),
				n);
	hlist_nulls_for_each_entry_rcu(xs, node, &xn->lhash[slot], lhash_node) {
		struct sock *sk = &xs->inet.sk;

		if (sk->sk_reuseport &&
		    xtcp_listener_score(sk, port, daddr, dif) == best_score &&
		    !pick--)
			return sk;
	}
	/* The group changed under us: the first choice is as good. */
	return best;
}

/*
 * Find the listener for a segment from @saddr:@sport to @daddr:@dport
 * that arrived on @dif: one bound to the address wins over a wildcard
 * one; one bound to a device takes only segments from that device.
 * Two chains at most, whatever the number of connections on the port.
 * Caller holds rcu_read_lock(). Returns a referenced socket or NULL.
 */
struct sock *xtcp_listener_lookup(struct xtcp_net *xn, __be32 saddr,
				  __be16 sport, __be32 daddr, __be16 dport,
				  int dif)
{
	unsigned short port = ntohs(dport);
	struct sock *sk;

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "lookup without RCU");
	sk = xtcp_listener_chain(xn, xtcp_lhash_slot(port, daddr), saddr,
				 sport, daddr, port, dif);
	if (!sk || sk->sk_rcv_saddr != daddr)
		sk = xtcp_listener_chain(xn, xtcp_lhash_slot(port, 0), saddr,
					 sport, daddr, port, dif) ? : sk;
	if (sk && !refcount_inc_not_zero(&sk->sk_refcnt))
		sk = NULL;
	return sk;
}
