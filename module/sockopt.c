// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: socket options.
 *
 * SOL_TCP options keep TCP's numbers, ranges and errnos (see
 * do_tcp_setsockopt() and do_tcp_getsockopt()), so code written for TCP
 * works unchanged: TCP_NODELAY, TCP_MAXSEG, TCP_CORK, TCP_KEEPIDLE,
 * TCP_KEEPINTVL, TCP_KEEPCNT, TCP_SYNCNT, TCP_LINGER2, TCP_DEFER_ACCEPT,
 * TCP_WINDOW_CLAMP, TCP_INFO, TCP_QUICKACK, TCP_CONGESTION,
 * TCP_THIN_LINEAR_TIMEOUTS, TCP_THIN_DUPACK, TCP_USER_TIMEOUT,
 * TCP_TIMESTAMP (read; set only in repair mode: EPERM), TCP_NOTSENT_LOWAT,
 * TCP_CC_INFO, TCP_INQ, TCP_SAVE_SYN and TCP_SAVED_SYN. The others (MD5
 * signatures, repair, Fast Open, ULPs, zero-copy receive, TCP_TX_DELAY)
 * give ENOPROTOOPT; Documentation/xtcp.rst says why. Other levels go
 * to IPv4 (IP_TOS, IP_TTL, ...), but for IP_ADD_MEMBERSHIP and
 * IP_DROP_MEMBERSHIP, which TCP refuses with EPROTO; the other multicast
 * memberships a stream socket may hold, as on TCP, and they end with it
 * (socket.c). SOL_SOCKET never reaches here, the socket core handles it
 * (so SO_ZEROCOPY is refused: see Documentation/xtcp.rst).
 */
#include <linux/kernel.h>
#include <linux/sockptr.h>
#include <net/ip.h>
#include <net/tcp.h>

#include "xtcp.h"

static void xtcp_keepalive_changed(struct sock *sk)
{
	if (sock_flag(sk, SOCK_KEEPOPEN) &&
	    !((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)))
		xtcp_timer_keepalive(sk);
}

static int xtcp_set_congestion(struct sock *sk, sockptr_t optval,
			       unsigned int optlen)
{
	char name[XTCP_CONG_NAME_MAX];
	const struct xtcp_cong_ops *cc;
	long n = min_t(long, XTCP_CONG_NAME_MAX - 1, optlen);

	if ((int)optlen < 1)
		return -EINVAL;
	n = strncpy_from_sockptr(name, optval, n);
	if (n < 0)
		return -EFAULT;
	name[n] = 0;
	cc = xtcp_cong_find(name);
	if (!cc)
		return -ENOENT;
	lock_sock(sk);
	if (xtcp_sk(sk)->cc != cc) {
		xtcp_sk(sk)->cc = cc;
		cc->init(sk);
	}
	release_sock(sk);
	return 0;
}

/*
 * TCP_DEFER_ACCEPT's seconds as SYN-ACK time-outs and back, with TCP's
 * constants whatever rto_initial_ms says, so that both read the same.
 */
static u8 xtcp_secs_to_retrans(int secs)
{
	int timeout = TCP_TIMEOUT_INIT / HZ, period = timeout;
	u8 res = 1;

	if (secs <= 0)
		return 0;
	while (secs > period && res < 255) {
		res++;
		timeout = min(timeout << 1, TCP_RTO_MAX / HZ);
		period += timeout;
	}
	return res;
}

static int xtcp_retrans_to_secs(u8 retrans)
{
	int timeout = TCP_TIMEOUT_INIT / HZ, period;

	if (!retrans)
		return 0;
	period = timeout;
	while (--retrans) {
		timeout = min(timeout << 1, TCP_RTO_MAX / HZ);
		period += timeout;
	}
	return period;
}

/*
 * TCP_QUICKACK (__tcp_sock_set_quickack()): 0 enters interactive mode,
 * where ACKs wait for our data; anything else leaves it and sends an ACK
 * that is owed; an even value other than 0 enters it again after that.
 */
static void xtcp_set_quickack(struct sock *sk, int val)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!val) {
		xs->pingpong = true;
		return;
	}
	xs->pingpong = false;
	if ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT) &&
	    (xs->rcv_nxt != xs->rcv_wup || xs->dsack_pending)) {
		xtcp_send_ack(sk);
		if (!(val & 1))
			xs->pingpong = true;
	}
}

static int xtcp_set_int(struct sock *sk, int optname, int val)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	switch (optname) {
	case TCP_NODELAY:
		if (val) {
			xs->nonagle |= XTCP_NAGLE_OFF;
			__xtcp_push_pending(sk, xs->nonagle | XTCP_NAGLE_PUSH);
		} else {
			xs->nonagle &= ~XTCP_NAGLE_OFF;
		}
		return 0;
	case TCP_CORK:
		if (val) {
			xs->nonagle |= XTCP_NAGLE_CORK;
		} else {
			xs->nonagle &= ~XTCP_NAGLE_CORK;
			__xtcp_push_pending(sk, xs->nonagle | XTCP_NAGLE_PUSH);
		}
		return 0;
	case TCP_MAXSEG:
		if (val && (val < TCP_MIN_MSS || val > MAX_TCP_WINDOW))
			return -EINVAL;
		xs->user_mss = val;
		return 0;
	case TCP_KEEPIDLE:
		if (val < 1 || val > MAX_TCP_KEEPIDLE)
			return -EINVAL;
		xs->keepalive_time = val;
		xtcp_keepalive_changed(sk);
		return 0;
	case TCP_KEEPINTVL:
		if (val < 1 || val > MAX_TCP_KEEPINTVL)
			return -EINVAL;
		xs->keepalive_intvl = val;
		return 0;
	case TCP_KEEPCNT:
		if (val < 1 || val > MAX_TCP_KEEPCNT)
			return -EINVAL;
		xs->keepalive_probes = val;
		return 0;
	case TCP_SYNCNT:
		if (val < 1 || val > MAX_TCP_SYNCNT)
			return -EINVAL;
		xs->syn_retries = val;
		return 0;
	case TCP_USER_TIMEOUT:
		if (val < 0)
			return -EINVAL;
		xs->user_timeout = val;
		return 0;
	case TCP_NOTSENT_LOWAT:
		WRITE_ONCE(xs->notsent_lowat, val);
		sk->sk_write_space(sk);
		return 0;
	case TCP_INQ:
		if (val < 0 || val > 1)
			return -EINVAL;
		xs->recvmsg_inq = val;
		return 0;
	case TCP_SAVE_SYN:
		/* 0 off, 1 the IPv4 and TCP headers, 2 the link layer's too */
		if (val < 0 || val > 2)
			return -EINVAL;
		WRITE_ONCE(xs->save_syn, val);
		return 0;
	case TCP_QUICKACK:
		xtcp_set_quickack(sk, val);
		return 0;
	case TCP_DEFER_ACCEPT:
		WRITE_ONCE(xs->defer_accept, xtcp_secs_to_retrans(val));
		return 0;
	case TCP_WINDOW_CLAMP:
		/* tcp_set_window_clamp() */
		if (!val) {
			if (sk->sk_state != TCP_CLOSE)
				return -EINVAL;
			xs->window_clamp = 0;
		} else {
			u32 old = xs->window_clamp;

			xs->window_clamp = max_t(int, val, SOCK_MIN_RCVBUF / 2);
			/* rcv_ssthresh follows a smaller clamp, or the offer. */
			if (xs->window_clamp < old)
				xs->rcv_ssthresh = min(xs->rcv_ssthresh,
						       xs->window_clamp);
			else
				xs->rcv_ssthresh = max(xs->rcv_ssthresh,
						       min(xs->rcv_wnd,
							   xs->window_clamp));
		}
		return 0;
	case TCP_LINGER2:
		if (val < 0)
			WRITE_ONCE(xs->linger2, -1);
		else if (val > TCP_FIN_TIMEOUT_MAX / HZ)
			WRITE_ONCE(xs->linger2, TCP_FIN_TIMEOUT_MAX);
		else
			WRITE_ONCE(xs->linger2, val * HZ);
		return 0;
	case TCP_THIN_LINEAR_TIMEOUTS:
		if (val < 0 || val > 1)
			return -EINVAL;
		xs->thin_lto = val;
		return 0;
	case TCP_THIN_DUPACK:
		/* Accepted and ignored, as by Linux since 4.20. */
		if (val < 0 || val > 1)
			return -EINVAL;
		return 0;
	case TCP_TIMESTAMP:
		/* Only in TCP_REPAIR mode, which xtcp does not have. */
		return -EPERM;
	}
	return -ENOPROTOOPT;
}

int xtcp_setsockopt(struct socket *sock, int level, int optname,
		    sockptr_t optval, unsigned int optlen)
{
	struct sock *sk = sock->sk;
	int val, err;

	/* Refused on a connection-oriented socket, as on TCP (is_icsk). */
	if (level == SOL_IP &&
	    (optname == IP_ADD_MEMBERSHIP || optname == IP_DROP_MEMBERSHIP))
		return -EPROTO;
	if (level != SOL_TCP)
		return ip_setsockopt(sk, level, optname, optval, optlen);
	if (optname == TCP_CONGESTION)
		return xtcp_set_congestion(sk, optval, optlen);
	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;
	lock_sock(sk);
	err = xtcp_set_int(sk, optname, val);
	release_sock(sk);
	return err;
}

/* struct tcp_info from xtcp's state (tcp_get_info()). Socket locked. */
static void xtcp_get_info(struct sock *sk, struct tcp_info *info)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	const struct xtcp_options *o = &xs->rx_opt;
	unsigned long now = jiffies, rate;
	struct dst_entry *dst;

	memset(info, 0, sizeof(*info));
	info->tcpi_state = inet_sk_state_load(sk);
	if (info->tcpi_state == TCP_LISTEN) {
		info->tcpi_unacked = READ_ONCE(sk->sk_ack_backlog);
		info->tcpi_sacked = READ_ONCE(sk->sk_max_ack_backlog);
		return;
	}
	info->tcpi_ca_state = xs->ca_state;
	info->tcpi_retransmits = xs->retransmits;
	info->tcpi_probes = max(xs->probes_out, xs->ka_probes_out);
	info->tcpi_backoff = xs->backoff ? : xs->retransmits;
	if (o->tstamp_ok)
		info->tcpi_options |= TCPI_OPT_TIMESTAMPS;
	if (o->sack_ok)
		info->tcpi_options |= TCPI_OPT_SACK;
	if (xs->ecn_flags & XTCP_ECN_OK)
		info->tcpi_options |= TCPI_OPT_ECN;
	if (xs->ecn_flags & XTCP_ECN_SEEN)
		info->tcpi_options |= TCPI_OPT_ECN_SEEN;
	if (o->wscale_ok) {
		info->tcpi_options |= TCPI_OPT_WSCALE;
		info->tcpi_snd_wscale = o->snd_wscale;
		info->tcpi_rcv_wscale = o->rcv_wscale;
	}
	info->tcpi_rto = jiffies_to_usecs(xs->rto);
	info->tcpi_ato = xtcp_knob(sock_net(sk), XTCP_KNOB_delack_ms) *
			 USEC_PER_MSEC;
	info->tcpi_snd_mss = xs->mss_cache;
	info->tcpi_rcv_mss = xs->rcv_mss ? : XTCP_DEFAULT_MSS;
	info->tcpi_unacked = xs->packets_out;
	info->tcpi_sacked = xs->sacked_out;
	info->tcpi_lost = xs->lost_out;
	info->tcpi_retrans = xs->retrans_out;
	info->tcpi_last_data_sent = jiffies_to_msecs(now - xs->last_data_sent);
	info->tcpi_last_data_recv = jiffies_to_msecs(now - xs->last_data_recv);
	info->tcpi_last_ack_recv = jiffies_to_msecs(now - xs->rcv_tstamp);
	dst = __sk_dst_get(sk);
	info->tcpi_pmtu = dst ? dst_mtu(dst) : 0;
	info->tcpi_rcv_ssthresh = xs->rcv_ssthresh;
	info->tcpi_rtt = xs->srtt_us >> 3;
	info->tcpi_rttvar = xs->mdev_us >> 2;
	info->tcpi_snd_ssthresh = xs->snd_ssthresh;
	info->tcpi_snd_cwnd = xs->snd_cwnd;
	info->tcpi_advmss = xs->advmss;
	info->tcpi_reordering = 3;
	info->tcpi_rcv_space = xs->rcv_wnd;
	info->tcpi_total_retrans = xs->total_retrans;
	info->tcpi_bytes_acked = xs->bytes_acked;
	info->tcpi_bytes_received = xs->bytes_received;
	info->tcpi_segs_out = xs->segs_out;
	info->tcpi_segs_in = xs->segs_in;
	info->tcpi_notsent_bytes = xs->write_seq - xs->snd_nxt;
	info->tcpi_min_rtt = xs->rtt_min;
	info->tcpi_data_segs_in = xs->data_segs_in;
	info->tcpi_data_segs_out = xs->data_segs_out;
	info->tcpi_bytes_sent = xs->bytes_sent;
	info->tcpi_bytes_retrans = xs->bytes_retrans;
	info->tcpi_dsack_dups = xs->dsack_dups;
	info->tcpi_snd_wnd = xs->snd_wnd;
	/* As tcp_get_info(): ~0ULL stands for no limit. */
	rate = READ_ONCE(sk->sk_pacing_rate);
	info->tcpi_pacing_rate = rate != ~0UL ? rate : ~0ULL;
	rate = READ_ONCE(sk->sk_max_pacing_rate);
	info->tcpi_max_pacing_rate = rate != ~0UL ? rate : ~0ULL;
}

static int xtcp_get_int(struct sock *sk, int optname, int *val)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	switch (optname) {
	case TCP_NODELAY:
		*val = !!(xs->nonagle & XTCP_NAGLE_OFF);
		return 0;
	case TCP_CORK:
		*val = !!(xs->nonagle & XTCP_NAGLE_CORK);
		return 0;
	case TCP_MAXSEG:
		*val = xs->mss_cache;
		if (xs->user_mss &&
		    (1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))
			*val = xs->user_mss;
		return 0;
	case TCP_KEEPIDLE:
		*val = xtcp_keepalive_time(sk);
		return 0;
	case TCP_KEEPINTVL:
		*val = xtcp_keepalive_intvl(sk);
		return 0;
	case TCP_KEEPCNT:
		*val = xtcp_keepalive_probes(sk);
		return 0;
	case TCP_SYNCNT:
		*val = xs->syn_retries ? :
		       xtcp_knob(sock_net(sk), XTCP_KNOB_syn_retries);
		return 0;
	case TCP_USER_TIMEOUT:
		*val = xs->user_timeout;
		return 0;
	case TCP_NOTSENT_LOWAT:
		*val = READ_ONCE(xs->notsent_lowat);
		return 0;
	case TCP_QUICKACK:
		*val = !xs->pingpong;
		return 0;
	case TCP_DEFER_ACCEPT:
		*val = xtcp_retrans_to_secs(READ_ONCE(xs->defer_accept));
		return 0;
	case TCP_WINDOW_CLAMP:
		*val = xs->window_clamp;
		return 0;
	case TCP_LINGER2:
		*val = READ_ONCE(xs->linger2);
		if (*val >= 0)
			*val = (*val ? : xtcp_knob(sock_net(sk),
						   XTCP_KNOB_fin_timeout) * HZ) / HZ;
		return 0;
	case TCP_THIN_LINEAR_TIMEOUTS:
		*val = xs->thin_lto;
		return 0;
	case TCP_THIN_DUPACK:
		*val = 0;
		return 0;
	case TCP_TIMESTAMP:
		/* The clock our TSval is read from, with this connection's offset. */
		*val = xtcp_clock_ms() + xs->ts_offset;
		return 0;
	case TCP_INQ:
		*val = xs->recvmsg_inq;
		return 0;
	case TCP_SAVE_SYN:
		*val = xs->save_syn;
		return 0;
	}
	return -ENOPROTOOPT;
}

/*
 * TCP_SAVED_SYN: the headers of the SYN that made this connection, once;
 * too small a buffer gives EINVAL and the length it needs; none saved
 * gives length 0 (do_tcp_getsockopt()).
 */
static int xtcp_get_saved_syn(struct sock *sk, char __user *optval,
			      int __user *optlen, int len)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int err = 0;
	u32 need;

	lock_sock(sk);
	if (!xs->saved_syn) {
		err = put_user(0, optlen);
		goto out;
	}
	need = tcp_saved_syn_len(xs->saved_syn);
	if (len < need) {
		err = put_user(need, optlen) ? : -EINVAL;
		goto out;
	}
	if (put_user(need, optlen) ||
	    copy_to_user(optval, xs->saved_syn->data, need)) {
		err = -EFAULT;
		goto out;
	}
	kfree(xs->saved_syn);
	xs->saved_syn = NULL;
out:
	release_sock(sk);
	return err;
}

int xtcp_getsockopt(struct socket *sock, int level, int optname,
		    char __user *optval, int __user *optlen)
{
	struct sock *sk = sock->sk;
	int len, val, err;

	if (level != SOL_TCP)
		return ip_getsockopt(sk, level, optname, optval, optlen);
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;

	if (optname == TCP_INFO) {
		struct tcp_info info;

		lock_sock(sk);
		xtcp_get_info(sk, &info);
		release_sock(sk);
		len = min_t(unsigned int, len, sizeof(info));
		if (put_user(len, optlen) || copy_to_user(optval, &info, len))
			return -EFAULT;
		return 0;
	}
	if (optname == TCP_CONGESTION) {
		char name[XTCP_CONG_NAME_MAX] = {};

		strscpy(name, READ_ONCE(xtcp_sk(sk)->cc)->name, sizeof(name));
		len = min_t(unsigned int, len, sizeof(name));
		if (put_user(len, optlen) || copy_to_user(optval, name, len))
			return -EFAULT;
		return 0;
	}

	if (optname == TCP_CC_INFO) {
		/* Neither algorithm has a get_info(): nothing, as on TCP. */
		return put_user(0, optlen);
	}
	if (optname == TCP_SAVED_SYN)
		return xtcp_get_saved_syn(sk, optval, optlen, len);

	lock_sock(sk);
	err = xtcp_get_int(sk, optname, &val);
	release_sock(sk);
	if (err)
		return err;
	len = min_t(unsigned int, len, sizeof(int));
	if (put_user(len, optlen) || copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
}
