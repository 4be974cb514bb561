// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: ICMP errors about our segments, and path MTU discovery.
 *
 * icmp_unreach() hands xtcp_v4_err() the quoted IP header and the first
 * 8 bytes of ours: enough for the ports and the sequence number, which
 * must be in flight for the error to count (RFC 5927 section 4.1).
 */
#include <linux/skbuff.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/icmp.h>
#include <net/inet_connection_sock.h>
#include <net/secure_seq.h>
#include <net/tcp.h>

#include "xtcp.h"

/*
 * The path MTU dropped (ICMP fragmentation needed, RFC 1191): update the
 * route, take the new MSS and send again at once what no longer fits
 * (tcp_v4_mtu_reduced(), tcp_simple_retransmit()). Socket locked, not
 * owned by the user (or called from release_cb).
 */
void xtcp_mtu_reduced(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct inet_sock *inet = inet_sk(sk);
	struct dst_entry *dst;
	u32 mtu;

	if ((1 << sk->sk_state) & (TCPF_LISTEN | TCPF_CLOSE))
		return;
	mtu = READ_ONCE(xs->mtu_info);
	dst = inet_csk_update_pmtu(sk, mtu);
	if (!dst)
		return;
	if (mtu < dst_mtu(dst) && ip_dont_fragment(sk, dst))
		WRITE_ONCE(sk->sk_err_soft, EMSGSIZE);
	mtu = dst_mtu(dst);
	if (inet->pmtudisc == IP_PMTUDISC_DONT)
		return;
	xtcp_sync_mss(sk, mtu);
	xtcp_simple_retransmit(sk);
}

/*
 * ICMP errors about a segment of ours (tcp_v4_err()): the quoted header
 * names the connection and a sequence number that must be in flight.
 * Fragmentation needed lowers the MSS; other errors abort an opening
 * connection and are soft errors (SO_ERROR, reported on time-out) on an
 * established one, hard ones only with IP_RECVERR.
 */
int xtcp_v4_err(struct sk_buff *skb, u32 info)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	const struct tcphdr *th = (const struct tcphdr *)(skb->data +
							  (iph->ihl << 2));
	const int type = icmp_hdr(skb)->type, code = icmp_hdr(skb)->code;
	struct net *net = dev_net(skb->dev);
	struct xtcp_tuple tuple;
	struct xtcp_sock *xs;
	struct sock *sk;
	int err;
	u32 seq;

	/* icmp_unreach() pulled the IP header and 8 bytes of ours. */
	tuple.laddr = iph->saddr;
	tuple.raddr = iph->daddr;
	tuple.lport = th->source;
	tuple.rport = th->dest;
	sk = xtcp_ehash_lookup(xtcp_pernet(net), &tuple);
	if (!sk)
		return -ENOENT;
	xs = xtcp_sk(sk);
	seq = ntohl(th->seq);

	bh_lock_sock(sk);
	if (sk->sk_state == TCP_CLOSE)
		goto out;
	if (!between(seq, xs->snd_una, xs->snd_nxt)) {
		XTCP_INC_STATS(net, XTCP_MIB_OUTOFWINDOW);
		goto out;
	}
	XTCP_INC_STATS(net, XTCP_MIB_ICMPERRORS);

	switch (type) {
	case ICMP_PARAMETERPROB:
		err = EPROTO;
		break;
	case ICMP_DEST_UNREACH:
		if (code > NR_ICMP_UNREACH)
			goto out;
		if (code == ICMP_FRAG_NEEDED) {
			XTCP_INC_STATS(net, XTCP_MIB_ICMPFRAGNEEDED);
			WRITE_ONCE(xs->mtu_info, info);
			if (!sock_owned_by_user(sk))
				xtcp_mtu_reduced(sk);
			else if (!test_and_set_bit(XTCP_MTU_DEFERRED,
						   &xs->deferred))
				sock_hold(sk);
			goto out;
		}
		err = icmp_err_convert[code].errno;
		break;
	case ICMP_TIME_EXCEEDED:
		err = EHOSTUNREACH;
		break;
	default:
		goto out;
	}

	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
		/* A passive child just waits for its SYN-ACK's time-out. */
		if (xs->parent)
			goto out;
		if (!sock_owned_by_user(sk)) {
			WRITE_ONCE(sk->sk_err, err);
			sk_error_report(sk);
			XTCP_INC_STATS(net, XTCP_MIB_ATTEMPTFAILS);
			xtcp_done(sk);
		} else {
			WRITE_ONCE(sk->sk_err_soft, err);
		}
		goto out;
	}
	if (!sock_owned_by_user(sk) && inet_sk(sk)->recverr) {
		WRITE_ONCE(sk->sk_err, err);
		sk_error_report(sk);
	} else {
		WRITE_ONCE(sk->sk_err_soft, err);
	}
out:
	bh_unlock_sock(sk);
	sock_put(sk);
	return 0;
}
