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
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/net.h>
#include <linux/in.h>
#include <net/sock.h>
#include <net/inet_sock.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/tcp_states.h>

#include "xtcp.h"

static struct proto xtcp_prot = {
	.name = "XTCP",
	.owner = THIS_MODULE,
	.obj_size = sizeof(struct xtcp_sock),
};

static int xtcp_bind(struct socket *sock, struct sockaddr *uaddr, int addr_len)
{
	struct sockaddr_in *addr = (struct sockaddr_in *)uaddr;
	struct sock *sk = sock->sk;
	struct inet_sock *inet = inet_sk(sk);
	struct net *net = sock_net(sk);
	unsigned short snum;
	int chk_addr_ret;
	int err;

	if (addr_len < sizeof(struct sockaddr_in))
		return -EINVAL;

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

	err = xtcp_bind_get_port(sk, snum);
	if (err) {
		inet->inet_rcv_saddr = 0;
		inet->inet_saddr = 0;
		goto out;
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

	xtcp_set_state(sk, TCP_LISTEN);
	if (!inet_sk(sk)->inet_num)
		err = xtcp_bind_get_port(sk, 0);
	else
		err = xtcp_bind_listen_check(sk);
	if (err)
		xtcp_set_state(sk, TCP_CLOSE);
out:
	release_sock(sk);
	return err;
}

static int xtcp_release(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk)
		return 0;

	lock_sock(sk);
	xtcp_set_state(sk, TCP_CLOSE);
	xtcp_bind_put_port(sk);
	sock_orphan(sk);
	release_sock(sk);

	sock->sk = NULL;
	sock_put(sk);
	return 0;
}

static const struct proto_ops xtcp_stream_ops = {
	.family = PF_XTCP,
	.owner = THIS_MODULE,
	.release = xtcp_release,
	.bind = xtcp_bind,
	.connect = sock_no_connect,
	.socketpair = sock_no_socketpair,
	.accept = sock_no_accept,
	.getname = inet_getname,
	.ioctl = sock_no_ioctl,
	.listen = xtcp_listen,
	.shutdown = sock_no_shutdown,
	.sendmsg = sock_no_sendmsg,
	.recvmsg = sock_no_recvmsg,
	.mmap = sock_no_mmap,
	.sendpage = sock_no_sendpage,
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
	sock_set_flag(sk, SOCK_RCU_FREE);

	/* What inet_create() would have set up for an AF_INET socket. */
	inet = inet_sk(sk);
	inet->uc_ttl = -1;
	inet->mc_loop = 1;
	inet->mc_ttl = 1;
	inet->mc_all = 1;
	inet->pmtudisc = READ_ONCE(net->ipv4.sysctl_ip_no_pmtu_disc) ?
			 IP_PMTUDISC_DONT : IP_PMTUDISC_WANT;
	atomic_set(&inet->inet_id, 0);

	INIT_HLIST_NODE(&xtcp_sk(sk)->bind_node);
	return 0;
}

static struct net_proto_family xtcp_family_ops __ro_after_init = {
	.create = xtcp_create,
	.owner = THIS_MODULE,
};

int xtcp_socket_init(void)
{
	int ret;

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
