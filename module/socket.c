// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the socket family and the socket API (struct proto_ops).
 *
 * socket(PF_XTCP, SOCK_STREAM, 0) lands in xtcp_create(), which does by
 * hand what inet_create() does for AF_INET, since xtcp is not one of the
 * inetsw protocols. Addresses are plain struct sockaddr_in.
 *
 * Errors follow Linux TCP (af_inet.c, inet_connection_sock.c) so that code
 * written for TCP sees the same errno values.
 */
#define pr_fmt(fmt) "xtcp: " fmt

#include <linux/module.h>
#include <linux/net.h>
#include <linux/in.h>
#include <linux/bpf-cgroup.h>
#include <linux/igmp.h>
#include <linux/rtnetlink.h>
#include <net/sock.h>
#include <net/inet_sock.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/tcp_states.h>
#include <net/tcp.h>
#include <net/secure_seq.h>
#include <linux/sockios.h>
#include <asm/ioctls.h>
#include <linux/poll.h>

#include "xtcp.h"

static int xtcp_bind(struct socket *sock, struct sockaddr *uaddr, int addr_len)
{
	struct sockaddr_in *addr = (struct sockaddr_in *)uaddr;
	struct sock *sk = sock->sk;
	struct inet_sock *inet = inet_sk(sk);
	struct net *net = sock_net(sk);
	u32 flags = BIND_WITH_LOCK;
	unsigned short snum;
	int chk_addr_ret;
	int err;

	if (addr_len < sizeof(struct sockaddr_in))
		return -EINVAL;
	/*
	 * cgroup-BPF bind4 programs see (and may rewrite) the address before
	 * any check, as in inet_bind().
	 */
	err = BPF_CGROUP_RUN_PROG_INET_BIND_LOCK(sk, uaddr, CGROUP_INET4_BIND,
						 &flags);
	if (err)
		return err;

	/* As TCP: AF_UNSPEC is accepted only with the wildcard address. */
	if (addr->sin_family != AF_INET &&
	    (addr->sin_family != AF_UNSPEC ||
	     addr->sin_addr.s_addr != htonl(INADDR_ANY)))
		return -EAFNOSUPPORT;

	chk_addr_ret = inet_addr_type_table(net, addr->sin_addr.s_addr,
					    RT_TABLE_LOCAL);
	if (!inet_addr_valid_or_nonlocal(net, inet, addr->sin_addr.s_addr,
					 chk_addr_ret))
		return -EADDRNOTAVAIL;

	snum = ntohs(addr->sin_port);
	if (snum && inet_port_requires_bind_service(net, snum) &&
	    !(flags & BIND_NO_CAP_NET_BIND_SERVICE) &&
	    !ns_capable(net->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;

	lock_sock(sk);
	err = -EINVAL;
	if (sk->sk_state != TCP_CLOSE || inet->inet_num)
		goto out;

	inet->inet_rcv_saddr = addr->sin_addr.s_addr;
	inet->inet_saddr = addr->sin_addr.s_addr;
	if (chk_addr_ret == RTN_MULTICAST || chk_addr_ret == RTN_BROADCAST)
		inet->inet_saddr = 0;	/* use the device's address */
	err = 0;

	/*
	 * With IP_BIND_ADDRESS_NO_PORT, bind() to port 0 only sets the
	 * address; connect() picks the port later per 4-tuple, so that many
	 * connections from one address can share ports (__inet_bind()).
	 */
	if (snum || !(inet->bind_address_no_port ||
		      (flags & BIND_FORCE_ADDRESS_NO_PORT))) {
		err = xtcp_bind_get_port(sk, snum);
		if (err) {
			inet->inet_rcv_saddr = 0;
			inet->inet_saddr = 0;
			goto out;
		}
		err = BPF_CGROUP_RUN_PROG_INET4_POST_BIND(sk);
		if (err) {
			inet->inet_rcv_saddr = 0;
			inet->inet_saddr = 0;
			xtcp_bind_put_port(sk);
			goto out;
		}
	}
	if (inet->inet_rcv_saddr)
		sk->sk_userlocks |= SOCK_BINDADDR_LOCK;
	if (snum)
		sk->sk_userlocks |= SOCK_BINDPORT_LOCK;
	inet->inet_daddr = 0;
	inet->inet_dport = 0;
	sk_dst_reset(sk);
out:
	release_sock(sk);
	return err;
}

static int xtcp_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	unsigned char old_state;
	int err;

	lock_sock(sk);
	err = -EINVAL;
	if (sock->state != SS_UNCONNECTED)
		goto out;
	old_state = sk->sk_state;
	if (!((1 << old_state) & (TCPF_CLOSE | TCPF_LISTEN)))
		goto out;

	/* listen() on a listener only changes the backlog, as in TCP. */
	WRITE_ONCE(sk->sk_max_ack_backlog, backlog);
	if (old_state == TCP_LISTEN) {
		err = 0;
		goto out;
	}

	xtcp_sk(sk)->lq.closed = false;
	xtcp_set_state(sk, TCP_LISTEN);
	err = 0;
	if (!inet_sk(sk)->inet_num)
		err = xtcp_bind_get_port(sk, 0);
	if (!err)
		err = xtcp_bind_listen(sk);
	if (err)
		xtcp_set_state(sk, TCP_CLOSE);
out:
	release_sock(sk);
	return err;
}

/* Wait for a child in the accept queue (inet_csk_wait_for_connect()). */
static int xtcp_wait_for_child(struct sock *sk, long timeo)
{
	struct xtcp_listen_queue *lq = &xtcp_sk(sk)->lq;
	DEFINE_WAIT(wait);
	int err;

	for (;;) {
		prepare_to_wait_exclusive(sk_sleep(sk), &wait,
					  TASK_INTERRUPTIBLE);
		release_sock(sk);
		if (list_empty_careful(&lq->accept))
			timeo = schedule_timeout(timeo);
		sched_annotate_sleep();
		lock_sock(sk);
		err = 0;
		if (!list_empty_careful(&lq->accept))
			break;
		err = -EINVAL;
		if (sk->sk_state != TCP_LISTEN)
			break;
		err = sock_intr_errno(timeo);
		if (signal_pending(current))
			break;
		err = -EAGAIN;
		if (!timeo)
			break;
	}
	finish_wait(sk_sleep(sk), &wait);
	return err;
}

static int xtcp_accept(struct socket *sock, struct socket *newsock, int flags,
		       bool kern)
{
	struct sock *sk = sock->sk;
	struct xtcp_listen_queue *lq = &xtcp_sk(sk)->lq;
	struct xtcp_sock *cxs = NULL;
	struct sock *child, *parent;
	int err;

	lock_sock(sk);
	err = -EINVAL;
	if (sk->sk_state != TCP_LISTEN)
		goto out;
	for (;;) {
		spin_lock_bh(&lq->lock);
		cxs = list_first_entry_or_null(&lq->accept, struct xtcp_sock,
					       q_node);
		if (cxs) {
			list_del_init(&cxs->q_node);
			sk_acceptq_removed(sk);
		}
		spin_unlock_bh(&lq->lock);
		if (cxs)
			break;
		err = -EAGAIN;
		if (flags & O_NONBLOCK)
			goto out;
		err = xtcp_wait_for_child(sk, sock_rcvtimeo(sk, false));
		if (err)
			goto out;
	}
	release_sock(sk);

	child = &cxs->inet.sk;
	lock_sock(child);
	sock_graft(child, newsock);
	newsock->state = SS_CONNECTED;
	parent = cxs->parent;
	cxs->parent = NULL;
	cxs->in_accept_q = false;
	release_sock(child);
	if (parent)
		sock_put(parent);
	return 0;
out:
	release_sock(sk);
	return err;
}

/*
 * As inet_wait_for_connect() with no Fast Open data: the caller is not
 * a writer, so sk_write_pending stays as it is and the handshake's ACK
 * leaves at once instead of waiting for data to ride on.
 */
static long xtcp_wait_for_connect(struct sock *sk, long timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	add_wait_queue(sk_sleep(sk), &wait);
	while ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
		release_sock(sk);
		timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
		lock_sock(sk);
		if (signal_pending(current) || !timeo)
			break;
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	return timeo;
}

/* Route, pick the local port and ISN, send the SYN (tcp_v4_connect()). */
static int xtcp_v4_connect(struct sock *sk, struct sockaddr *uaddr,
			   int addr_len)
{
	struct sockaddr_in *usin = (struct sockaddr_in *)uaddr;
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	__be16 orig_sport, orig_dport;
	union tcp_seq_and_ts_off st;
	bool autobind;
	struct flowi4 *fl4;
	struct rtable *rt;
	int err;

	if (addr_len < sizeof(struct sockaddr_in))
		return -EINVAL;
	if (usin->sin_family != AF_INET)
		return -EAFNOSUPPORT;

	orig_sport = inet->inet_sport;
	orig_dport = usin->sin_port;
	fl4 = &inet->cork.fl.u.ip4;
	rt = ip_route_connect(fl4, usin->sin_addr.s_addr, inet->inet_saddr,
			      sk->sk_bound_dev_if, xtcp_ipproto, orig_sport,
			      orig_dport, sk);
	if (IS_ERR(rt))
		return PTR_ERR(rt);
	if (rt->rt_flags & (RTCF_MULTICAST | RTCF_BROADCAST)) {
		ip_rt_put(rt);
		return -ENETUNREACH;
	}

	if (!inet->inet_saddr)
		inet->inet_saddr = fl4->saddr;
	if (!sk->sk_rcv_saddr)
		sk->sk_rcv_saddr = inet->inet_saddr;
	sk->sk_daddr = fl4->daddr;
	sk->sk_dport = usin->sin_port;
	xs->write_seq = 0;
	autobind = !inet->inet_num;

	xtcp_set_state(sk, TCP_SYN_SENT);
	err = xtcp_bind_connect_port(sk);
	if (err)
		goto failure;

	rt = ip_route_newports(fl4, rt, orig_sport, orig_dport,
			       inet->inet_sport, sk->sk_dport, sk);
	if (IS_ERR(rt)) {
		err = PTR_ERR(rt);
		rt = NULL;
		goto failure;
	}
	sk_setup_caps(sk, &rt->dst);
	rt = NULL;
	xs->advmss = min_t(unsigned int,
			   dst_metric_advmss(__sk_dst_get(sk)), 65495U);
	if (xs->user_mss)
		xs->advmss = min(xs->advmss, xs->user_mss);
	xtcp_set_offers(sk);
	xtcp_sync_mss(sk, dst_mtu(__sk_dst_get(sk)));

	st = secure_tcp_seq_and_ts_off(net, inet->inet_saddr, sk->sk_daddr,
				       inet->inet_sport, sk->sk_dport);
	/* timestamps 2: the clock without an offset. */
	xs->ts_offset = xtcp_knob(net, XTCP_KNOB_timestamps) == 1 ?
			st.ts_off : 0;
	/* A TIME_WAIT taken over by tw_reuse left a safe ISN in write_seq. */
	xs->iss = xs->write_seq ? : st.seq;
	xs->write_seq = xs->iss;
	xs->snd_una = xs->iss;
	xs->snd_nxt = xs->iss;
	xs->snd_sml = xs->iss;	/* tcp_connect_init() */
	xtcp_select_initial_window(sk, xs->advmss);
	atomic_set(&inet->inet_id, get_random_u16());

	err = xtcp_connect_send_syn(sk);
	if (err)
		goto failure;
	XTCP_INC_STATS(net, XTCP_MIB_ACTIVEOPENS);
	return 0;

failure:
	xtcp_set_state(sk, TCP_CLOSE);
	if (rt)
		ip_rt_put(rt);
	xtcp_ehash_remove(sk);
	if (autobind)
		xtcp_bind_put_port(sk);
	sk_dst_reset(sk);
	sk->sk_dport = 0;
	return err;
}

static int xtcp_connect(struct socket *sock, struct sockaddr *uaddr,
			int addr_len, int flags)
{
	struct sock *sk = sock->sk;
	long timeo;
	int err;

	if (addr_len < sizeof(uaddr->sa_family))
		return -EINVAL;

	lock_sock(sk);
	if (uaddr->sa_family == AF_UNSPEC) {
		err = xtcp_disconnect(sk);
		sock->state = SS_UNCONNECTED;
		goto out;
	}

	switch (sock->state) {
	default:
		err = -EINVAL;
		goto out;
	case SS_CONNECTED:
		err = -EISCONN;
		goto out;
	case SS_CONNECTING:
		err = -EALREADY;
		break;
	case SS_UNCONNECTED:
		err = -EISCONN;
		if (sk->sk_state != TCP_CLOSE)
			goto out;
		/* cgroup-BPF connect4 programs (tcp_v4_pre_connect()). */
		if (cgroup_bpf_enabled(CGROUP_INET4_CONNECT)) {
			err = -EINVAL;
			if (addr_len < sizeof(struct sockaddr_in))
				goto out;
			err = BPF_CGROUP_RUN_PROG_INET4_CONNECT(sk, uaddr);
			if (err)
				goto out;
		}
		err = xtcp_v4_connect(sk, uaddr, addr_len);
		if (err < 0)
			goto out;
		sock->state = SS_CONNECTING;
		err = -EINPROGRESS;
		break;
	}

	timeo = sock_sndtimeo(sk, flags & O_NONBLOCK);
	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
		/* Error code is set above. */
		if (!timeo)
			goto out;
		timeo = xtcp_wait_for_connect(sk, timeo);
		if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
			err = signal_pending(current) ?
			      sock_intr_errno(timeo) : -EINPROGRESS;
			goto out;
		}
	}

	/* Connection was closed by RST, timeout, ICMP error or another
	 * process disconnected us.
	 */
	if (sk->sk_state == TCP_CLOSE) {
		err = sock_error(sk) ? : -ECONNABORTED;
		sock->state = SS_UNCONNECTED;
		/*
		 * Nothing of the failed attempt may live on into the next
		 * connect(): its SYN, retransmission count, backed-off RTO,
		 * options (__inet_stream_connect() calls ->disconnect()).
		 */
		if (xtcp_disconnect(sk))
			sock->state = SS_DISCONNECTING;
		goto out;
	}
	sock->state = SS_CONNECTED;
	err = 0;
out:
	release_sock(sk);
	return err;
}

static __poll_t xtcp_poll(struct file *file, struct socket *sock,
			  poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	__poll_t mask = 0;
	int state;

	sock_poll_wait(file, sock, wait);
	state = inet_sk_state_load(sk);
	if (state == TCP_LISTEN)
		return READ_ONCE(sk->sk_ack_backlog) ? EPOLLIN | EPOLLRDNORM : 0;

	if (sk->sk_shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (sk->sk_shutdown & RCV_SHUTDOWN)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;

	if (state != TCP_SYN_SENT && state != TCP_SYN_RECV) {
		/* Readable once SO_RCVLOWAT bytes wait (tcp_stream_is_readable()). */
		int avail = READ_ONCE(xs->rcv_nxt) - READ_ONCE(xs->copied_seq);

		if (avail > 0 && sock_flag(sk, SOCK_DONE))
			avail--;	/* the FIN is no data */
		if (avail > 0 && avail >= sock_rcvlowat(sk, 0, INT_MAX) &&
		    !skb_queue_empty_lockless(&sk->sk_receive_queue))
			mask |= EPOLLIN | EPOLLRDNORM;
		if (!(sk->sk_shutdown & SEND_SHUTDOWN)) {
			if (sk_stream_is_writeable(sk)) {
				mask |= EPOLLOUT | EPOLLWRNORM;
			} else {
				sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
				set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
				/* Race with the ACK path freeing space. */
				smp_mb__after_atomic();
				if (sk_stream_is_writeable(sk))
					mask |= EPOLLOUT | EPOLLWRNORM;
			}
		} else {
			mask |= EPOLLOUT | EPOLLWRNORM;
		}
	}
	/* Pairs with the smp_wmb() in xtcp_reset(). */
	smp_rmb();
	if (READ_ONCE(sk->sk_err) ||
	    !skb_queue_empty_lockless(&sk->sk_error_queue))
		mask |= EPOLLERR;
	return mask;
}

/* A new, empty skb at the tail of the write queue for user data. */
static struct sk_buff *xtcp_new_data_skb(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = alloc_skb(XTCP_MAX_HEADER, sk->sk_allocation);

	if (!skb)
		return NULL;
	skb_reserve(skb, XTCP_MAX_HEADER);
	memset(XTCP_SKB_CB(skb), 0, sizeof(struct xtcp_skb_cb));
	XTCP_SKB_CB(skb)->seq = xs->write_seq;
	XTCP_SKB_CB(skb)->end_seq = xs->write_seq;
	XTCP_SKB_CB(skb)->tcp_flags = TCPHDR_ACK;
	xtcp_wmem_charge(sk, skb->truesize);
	__skb_queue_tail(&sk->sk_write_queue, skb);
	xtcp_cwnd_restart_check(sk);
	return skb;
}

/*
 * Copy up to @copy bytes from the user into page fragments of @skb, as
 * tcp_sendmsg_locked() does. Returns the bytes copied or a negative
 * errno; 0 means the skb has no fragment slot left.
 */
static int xtcp_copy_to_skb(struct sock *sk, struct sk_buff *skb,
			    struct msghdr *msg, int copy)
{
	struct page_frag *pfrag = sk_page_frag(sk);
	int i = skb_shinfo(skb)->nr_frags;
	bool merge;

	if (!sk_page_frag_refill(sk, pfrag))
		return -ENOMEM;
	merge = skb_can_coalesce(skb, i, pfrag->page, pfrag->offset);
	if (!merge && i >= MAX_SKB_FRAGS)
		return 0;
	copy = min_t(int, copy, pfrag->size - pfrag->offset);
	/* The protocol's memory (mem_max) has room for it, or we wait. */
	if (!sk_wmem_schedule(sk, copy))
		return -ENOMEM;
	if (copy_page_from_iter(pfrag->page, pfrag->offset, copy,
				&msg->msg_iter) != copy)
		return -EFAULT;
	if (merge) {
		skb_frag_size_add(&skb_shinfo(skb)->frags[i - 1], copy);
	} else {
		skb_fill_page_desc(skb, i, pfrag->page, pfrag->offset, copy);
		get_page(pfrag->page);
	}
	pfrag->offset += copy;
	skb->len += copy;
	skb->data_len += copy;
	skb->truesize += copy;
	xtcp_wmem_charge(sk, copy);
	return copy;
}

/* An empty data skb left at the tail by a copy that failed. */
static void xtcp_drop_empty_tail(struct sock *sk)
{
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);

	if (!skb || skb->len ||
	    (XTCP_SKB_CB(skb)->tcp_flags & (TCPHDR_SYN | TCPHDR_FIN)))
		return;
	__skb_unlink(skb, &sk->sk_write_queue);
	xtcp_free_skb(sk, skb);
}

/*
 * PSH goes on the unsent tail, as Linux's tcp_mark_push(): it leaves
 * with the last segment of that skb (a split moves it to the second
 * part, GSO to the last segment), and stays on its retransmissions.
 */
static void xtcp_mark_push(struct sock *sk, struct sk_buff *skb)
{
	XTCP_SKB_CB(skb)->tcp_flags |= TCPHDR_PSH;
	xtcp_sk(sk)->pushed_seq = xtcp_sk(sk)->write_seq;
}

/* Half a window of data went unpushed (forced_push()). */
static bool xtcp_forced_push(const struct xtcp_sock *xs)
{
	return after(xs->write_seq, xs->pushed_seq + (xs->max_window >> 1));
}

/*
 * Queue user data in skbs of up to a size goal of several segments
 * (xtcp_size_goal()), filling the last unsent one first, and send what
 * Nagle, cwnd and the peer's window allow. MSG_MORE holds a short tail
 * back like TCP_CORK. PSH marks the end of each call without MSG_MORE,
 * every half window of a long one, and what is queued when the call
 * waits for memory (tcp_sendmsg_locked(), tcp_push()).
 */
static int xtcp_sendmsg(struct socket *sock, struct msghdr *msg, size_t size)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	int copied = 0, err;
	long timeo;

	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;

	lock_sock(sk);
	timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);
	if (!((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))) {
		err = sk_stream_wait_connect(sk, &timeo);
		if (err)
			goto out_err;
	}
	sk_clear_bit(SOCKWQ_ASYNC_NOSPACE, sk);

	while (msg_data_left(msg)) {
		u32 goal = xtcp_size_goal(sk, xtcp_current_mss(sk));
		struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);
		int copy;

		err = -EPIPE;
		if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN))
			goto do_error;
		/* Only an unsent data skb with room can take more. */
		if (!skb || skb->len >= goal ||
		    (XTCP_SKB_CB(skb)->tcp_flags & (TCPHDR_SYN | TCPHDR_FIN))) {
			if (!sk_stream_memory_free(sk))
				goto wait_for_space;
			skb = xtcp_new_data_skb(sk);
			if (!skb)
				goto wait_for_space;
		}
		copy = min_t(size_t, msg_data_left(msg), goal - skb->len);
		copy = xtcp_copy_to_skb(sk, skb, msg, copy);
		if (copy < 0) {
			err = copy;
			if (err == -ENOMEM)
				goto wait_for_space;
			goto do_error;
		}
		if (!copy) {
			/* Out of fragment slots: the next skb takes the rest. */
			xtcp_mark_push(sk, skb);
			if (!sk_stream_memory_free(sk))
				goto wait_for_space;
			if (!xtcp_new_data_skb(sk))
				goto wait_for_space;
			continue;
		}
		XTCP_SKB_CB(skb)->end_seq += copy;
		xs->write_seq += copy;
		copied += copy;
		if (skb->len < goal)
			continue;
		if (xtcp_forced_push(xs)) {
			xtcp_mark_push(sk, skb);
			__xtcp_push_pending(sk, xs->nonagle | XTCP_NAGLE_PUSH);
		} else {
			xtcp_push_pending(sk);
		}
		continue;

wait_for_space:
		set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		skb = skb_peek_tail(&sk->sk_write_queue);
		if (copied && skb)
			xtcp_mark_push(sk, skb);
		__xtcp_push_pending(sk, xs->nonagle | XTCP_NAGLE_PUSH);
		err = sk_stream_wait_memory(sk, &timeo);
		if (err)
			goto do_error;
	}
out:
	xtcp_drop_empty_tail(sk);
	if (copied) {
		struct sk_buff *tail = skb_peek_tail(&sk->sk_write_queue);

		if (tail && (!(msg->msg_flags & MSG_MORE) ||
			     xtcp_forced_push(xs)))
			xtcp_mark_push(sk, tail);
		__xtcp_push_pending(sk, msg->msg_flags & MSG_MORE ?
				    XTCP_NAGLE_CORK : xs->nonagle);
	}
	release_sock(sk);
	return copied;

do_error:
	if (copied)
		goto out;
out_err:
	xtcp_drop_empty_tail(sk);
	err = sk_stream_error(sk, msg->msg_flags, err);
	release_sock(sk);
	return err;
}

/*
 * After the user read data (__tcp_cleanup_rbuf()): an owed ACK leaves now
 * if more than a segment waits for it (the ACK check held it back, as it
 * would have shrunk the offer), or the reader took everything and the
 * peer's write ended there (PSH; twice running, or once outside
 * interactive mode). Otherwise an ACK goes when the window the reader made
 * room for is at least twice what the peer sees, and that is at most half
 * the clamp.
 */
static void xtcp_cleanup_rbuf(struct sock *sk, int copied)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 now = xs->rcv_wup + xs->rcv_wnd - xs->rcv_nxt;
	bool ack = false;

	if (sk->sk_state == TCP_CLOSE)
		return;
	if (xs->rcv_nxt != xs->rcv_wup &&
	    (xs->rcv_nxt - xs->rcv_wup > xs->rcv_mss ||
	     (copied > 0 &&
	      ((xs->ack_pushed & XTCP_ACK_PUSHED2) ||
	       ((xs->ack_pushed & XTCP_ACK_PUSHED) && !xs->pingpong)) &&
	      !atomic_read(&sk->sk_rmem_alloc))))
		ack = true;
	if ((s32)now < 0)
		now = 0;
	if (!ack && copied > 0 && !(sk->sk_shutdown & RCV_SHUTDOWN) &&
	    2 * now <= xs->window_clamp) {
		u32 win = __xtcp_select_window(sk);

		ack = win && win >= 2 * now;
	}
	if (ack)
		xtcp_send_ack(sk);
}

static int xtcp_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
			int flags)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 peek_seq, *seq;
	int copied = 0, target;
	long timeo;

	if (flags & MSG_OOB)
		return -EINVAL;
	/* The error queue (IP_RECVERR), as tcp_recvmsg() and inet_recvmsg(). */
	if (flags & MSG_ERRQUEUE) {
		int addr_len = 0, err = inet_recv_error(sk, msg, len, &addr_len);

		if (err >= 0)
			msg->msg_namelen = addr_len;
		return err;
	}

	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		copied = -ENOTCONN;
		goto out;
	}
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	seq = &xs->copied_seq;
	if (flags & MSG_PEEK) {
		peek_seq = xs->copied_seq;
		seq = &peek_seq;
	}

	do {
		struct sk_buff *skb, *last;
		u32 offset;
		size_t used;

		last = skb_peek_tail(&sk->sk_receive_queue);
		skb_queue_walk(&sk->sk_receive_queue, skb) {
			offset = *seq - XTCP_SKB_CB(skb)->seq;
			if (offset < skb->len)
				goto found_ok_skb;
		}

		if (copied >= target && !READ_ONCE(sk->sk_backlog.tail))
			break;
		if (copied) {
			if (sk->sk_err || sk->sk_state == TCP_CLOSE ||
			    (sk->sk_shutdown & RCV_SHUTDOWN) || !timeo ||
			    signal_pending(current))
				break;
		} else {
			if (sock_flag(sk, SOCK_DONE))
				break;
			if (sk->sk_err) {
				copied = sock_error(sk);
				break;
			}
			if (sk->sk_shutdown & RCV_SHUTDOWN)
				break;
			if (sk->sk_state == TCP_CLOSE) {
				/* Never connected. */
				copied = -ENOTCONN;
				break;
			}
			if (!timeo) {
				copied = -EAGAIN;
				break;
			}
			if (signal_pending(current)) {
				copied = sock_intr_errno(timeo);
				break;
			}
		}
		if (copied >= target) {
			/* Process the backlog, then look again. */
			release_sock(sk);
			lock_sock(sk);
		} else {
			/* Owed ACKs leave before the reader sleeps. */
			if (!(flags & MSG_PEEK))
				xtcp_cleanup_rbuf(sk, copied);
			sk_wait_data(sk, &timeo, last);
		}
		continue;

found_ok_skb:
		used = min_t(size_t, skb->len - offset, len);
		if (skb_copy_datagram_msg(skb, offset, msg, used)) {
			if (!copied)
				copied = -EFAULT;
			break;
		}
		*seq += used;
		copied += used;
		len -= used;
		if (!(flags & MSG_PEEK) && offset + used == skb->len) {
			__skb_unlink(skb, &sk->sk_receive_queue);
			consume_skb(skb);
		}
	} while (len > 0);

	if (!(flags & MSG_PEEK)) {
		if (copied > 0)
			xtcp_rcv_space_adjust(sk);
		xtcp_cleanup_rbuf(sk, copied);
	}
	/*
	 * TCP_INQ (tcp_inq_hint()): what is left to read; 1 after the FIN,
	 * so that the reader comes back for the end of file.
	 */
	if (xs->recvmsg_inq && copied >= 0) {
		int inq = max_t(int, xs->rcv_nxt - xs->copied_seq, 0);

		if (!inq && sock_flag(sk, SOCK_DONE))
			inq = 1;
		put_cmsg(msg, SOL_TCP, TCP_CM_INQ, sizeof(inq), &inq);
	}
out:
	release_sock(sk);
	return copied;
}

static int xtcp_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	int err = 0;

	/* SHUT_RD, SHUT_WR, SHUT_RDWR are 0, 1, 2; make them masks. */
	how++;
	if ((how & ~SHUTDOWN_MASK) || !how)
		return -EINVAL;

	lock_sock(sk);
	if (sock->state == SS_CONNECTING) {
		if ((1 << sk->sk_state) &
		    (TCPF_SYN_SENT | TCPF_SYN_RECV | TCPF_CLOSE))
			sock->state = SS_DISCONNECTING;
		else
			sock->state = SS_CONNECTED;
	}

	switch (sk->sk_state) {
	case TCP_CLOSE:
		err = -ENOTCONN;
		/* Hack to wake up other listeners, who can poll for
		 * EPOLLHUP, even on eg. unconnected UDP sockets -- RR
		 */
		fallthrough;
	default:
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | how);
		if ((how & SEND_SHUTDOWN) &&
		    (1 << sk->sk_state) &
		    (TCPF_ESTABLISHED | TCPF_SYN_RECV | TCPF_CLOSE_WAIT) &&
		    xtcp_close_state(sk))
			xtcp_send_fin(sk);
		break;
	case TCP_LISTEN:
		if (!(how & RCV_SHUTDOWN))
			break;
		fallthrough;
	case TCP_SYN_SENT:
		err = xtcp_disconnect(sk);
		sock->state = err ? SS_DISCONNECTING : SS_UNCONNECTED;
		break;
	}

	/* Wake up anyone sleeping in poll. */
	sk->sk_state_change(sk);
	release_sock(sk);
	return err;
}

static int xtcp_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	int answ;

	switch (cmd) {
	case SIOCINQ:
		if (sk->sk_state == TCP_LISTEN)
			return -EINVAL;
		lock_sock(sk);
		answ = xs->rcv_nxt - xs->copied_seq;
		/* The FIN took a sequence number but is no data. */
		if (answ && sock_flag(sk, SOCK_DONE))
			answ--;
		release_sock(sk);
		break;
	case SIOCOUTQ:
		if (sk->sk_state == TCP_LISTEN)
			return -EINVAL;
		answ = (1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV) ?
		       0 : READ_ONCE(xs->write_seq) - READ_ONCE(xs->snd_una);
		break;
	case SIOCOUTQNSD:
		if (sk->sk_state == TCP_LISTEN)
			return -EINVAL;
		answ = (1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV) ?
		       0 : READ_ONCE(xs->write_seq) - READ_ONCE(xs->snd_nxt);
		break;
	default:
		return -ENOIOCTLCMD;
	}
	return put_user(answ, (int __user *)arg);
}

/*
 * Multicast memberships end with the socket. MCAST_JOIN_GROUP and the
 * source-specific joins reach ip_setsockopt() as on TCP, whose
 * inet_release() drops them with ip_mc_drop_socket(); that is not
 * exported, so leave each group, under RTNL as it wants. Nobody else can
 * reach the socket's list any more: the file is being released.
 */
static void xtcp_mc_drop(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	struct ip_mc_socklist *iml;

	if (!rcu_access_pointer(inet->mc_list))
		return;
	rtnl_lock();
	while ((iml = rtnl_dereference(inet->mc_list))) {
		struct ip_mreqn imr = iml->multi;

		/* It matches by group and ifindex, as joined: it cannot fail. */
		if (WARN_ON_ONCE(ip_mc_leave_group(sk, &imr)))
			break;
	}
	rtnl_unlock();
}

static int xtcp_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	long timeout = 0;

	if (!sk)
		return 0;
	if (!sk->sk_kern_sock)
		BPF_CGROUP_RUN_PROG_INET_SOCK_RELEASE(sk);
	xtcp_mc_drop(sk);
	if (sock_flag(sk, SOCK_LINGER) && !(current->flags & PF_EXITING))
		timeout = sk->sk_lingertime;
	xtcp_close(sk, timeout);
	sock->sk = NULL;
	return 0;
}

static const struct proto_ops xtcp_stream_ops = {
	.family = PF_XTCP,
	.owner = THIS_MODULE,
	.release = xtcp_release,
	.bind = xtcp_bind,
	.connect = xtcp_connect,
	.socketpair = sock_no_socketpair,
	.accept = xtcp_accept,
	.getname = inet_getname,
	.poll = xtcp_poll,
	.ioctl = xtcp_ioctl,
	.listen = xtcp_listen,
	.shutdown = xtcp_shutdown,
	.sendmsg = xtcp_sendmsg,
	.recvmsg = xtcp_recvmsg,
	.setsockopt = xtcp_setsockopt,
	.getsockopt = xtcp_getsockopt,
	.mmap = sock_no_mmap,
	.sendpage = sock_no_sendpage,
	.gettstamp = sock_gettstamp,
};

/* SO_KEEPALIVE; sock_setsockopt() sets SOCK_KEEPOPEN after this. */
static void xtcp_set_keepalive(struct sock *sk, int val)
{
	if (val)
		sock_set_flag(sk, SOCK_KEEPOPEN);
	else
		sock_reset_flag(sk, SOCK_KEEPOPEN);
	xtcp_timer_keepalive(sk);
}

static struct proto xtcp_prot = {
	.name = "XTCP",
	.owner = THIS_MODULE,
	.obj_size = sizeof(struct xtcp_sock),
	.keepalive = xtcp_set_keepalive,
	.backlog_rcv = xtcp_do_rcv,
	.release_cb = xtcp_release_cb,
	.stream_memory_free = xtcp_stream_memory_free,
	/* Global accounting, as tcp_prot's (mem.c). */
	.memory_allocated = &xtcp_memory_allocated,
	.per_cpu_fw_alloc = &xtcp_memory_per_cpu_fw_alloc,
	.sysctl_mem = xtcp_sysctl_mem,
	.memory_pressure = &xtcp_memory_pressure,
	.enter_memory_pressure = xtcp_enter_memory_pressure,
	.leave_memory_pressure = xtcp_leave_memory_pressure,
	.orphan_count = &xtcp_orphan_count,
	/* Buffers a socket keeps under pressure: TCP's tcp_wmem/rmem[0]. */
	.sysctl_wmem_offset = offsetof(struct net, ipv4.sysctl_tcp_wmem),
	.sysctl_rmem_offset = offsetof(struct net, ipv4.sysctl_tcp_rmem),
};

static int xtcp_create(struct net *net, struct socket *sock, int protocol,
		       int kern)
{
	struct inet_sock *inet;
	struct sock *sk;

	if (sock->type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (protocol && protocol != xtcp_ipproto)
		return -EPROTONOSUPPORT;

	sock->state = SS_UNCONNECTED;
	sock->ops = &xtcp_stream_ops;

	sk = sk_alloc(net, xtcp_family, GFP_KERNEL, &xtcp_prot, kern);
	if (!sk)
		return -ENOMEM;

	sock_init_data(sock, sk);
	sk->sk_destruct = inet_sock_destruct;
	sk->sk_protocol = xtcp_ipproto;
	/*
	 * PF_XTCP is only the way in through socket(); below it this is an
	 * IPv4 socket (sockaddr_in, inet_sock, IPv4 output), and the core
	 * says so to the generic code that asks (SO_REUSEPORT, SO_DOMAIN).
	 * The lock class was already taken from PF_XTCP by sk_alloc().
	 */
	sk->sk_family = AF_INET;

	/* What inet_create() would have set up for an AF_INET socket. */
	inet = inet_sk(sk);
	inet->uc_ttl = -1;
	inet->mc_loop = 1;
	inet->mc_ttl = 1;
	inet->mc_all = 1;
	inet->pmtudisc = READ_ONCE(net->ipv4.sysctl_ip_no_pmtu_disc) ?
			 IP_PMTUDISC_DONT : IP_PMTUDISC_WANT;
	atomic_set(&inet->inet_id, 0);

	xtcp_init_sock(sk);
	/*
	 * The buffers start where TCP's do (tcp_init_sock()), not at the
	 * core's rmem_default/wmem_default: tcp_rmem[1] and tcp_wmem[1] of
	 * the namespace; auto-tuning grows them from there. A listener's
	 * children inherit the listener's.
	 */
	WRITE_ONCE(sk->sk_sndbuf, READ_ONCE(net->ipv4.sysctl_tcp_wmem[1]));
	WRITE_ONCE(sk->sk_rcvbuf, READ_ONCE(net->ipv4.sysctl_tcp_rmem[1]));
	/* cgroup-BPF sock_create programs may refuse it (inet_create()). */
	if (!kern) {
		int err = BPF_CGROUP_RUN_PROG_INET_SOCK(sk);

		if (err) {
			xtcp_close(sk, 0);
			sock->sk = NULL;
			return err;
		}
	}
	return 0;
}

static struct net_proto_family xtcp_family_ops __ro_after_init = {
	.create = xtcp_create,
	.owner = THIS_MODULE,
};

int xtcp_socket_init(void)
{
	int ret;

	xtcp_mem_update();
	ret = proto_register(&xtcp_prot, 1);
	if (ret) {
		pr_err("cannot register the XTCP protocol (%d)\n", ret);
		return ret;
	}

	xtcp_family_ops.family = xtcp_family;
	ret = sock_register(&xtcp_family_ops);
	if (ret) {
		if (ret == -EEXIST)
			pr_err("socket family %d is already registered; load with family=<free number>\n",
			       xtcp_family);
		else
			pr_err("cannot register socket family %d (%d)\n",
			       xtcp_family, ret);
		proto_unregister(&xtcp_prot);
		return ret;
	}
	return 0;
}

void xtcp_socket_exit(void)
{
	sock_unregister(xtcp_family);
	proto_unregister(&xtcp_prot);
}
