// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the per-namespace bind table (local ports).
 *
 * Sockets that own a local port are linked into a small hash keyed by the
 * port. The table is per namespace, so the same port is free in every
 * other namespace. Writers hold bind_lock with BH disabled (the receive
 * path will add children of listeners from softirq); readers in softirq
 * walk a chain under RCU, which is why xtcp sockets are SOCK_RCU_FREE.
 *
 * The conflict rules follow Linux TCP (inet_bind_conflict): two sockets
 * on one port conflict unless they are bound to different devices, or
 * both set SO_REUSEADDR and the other one is not listening, or both set
 * SO_REUSEPORT under the same user; and then only if their local
 * addresses overlap (equal, or either one the wildcard). TIME_WAIT
 * entries keep their port in a second chain (tw_bind_hash) and conflict
 * the same way, with the SO_REUSEADDR setting of the socket they replaced.
 *
 * connect() on an unbound socket shares ports: a port may serve many
 * connections as long as their 4-tuples differ, but only among sockets
 * that connect() bound (port_shared), as __inet_hash_connect() does.
 */
#include <linux/random.h>
#include <net/ip.h>
#include <net/tcp_states.h>

#include "xtcp.h"

void xtcp_bind_table_init(struct xtcp_net *xn)
{
	unsigned int i;

	spin_lock_init(&xn->bind_lock);
	for (i = 0; i < XTCP_BHASH_SIZE; i++) {
		INIT_HLIST_HEAD(&xn->bind_hash[i]);
		INIT_HLIST_HEAD(&xn->tw_bind_hash[i]);
	}
}

static unsigned int xtcp_bhash_idx(unsigned short port)
{
	return hash_32(port, XTCP_BHASH_BITS);
}

static struct hlist_head *xtcp_bhash(struct xtcp_net *xn, unsigned short port)
{
	return &xn->bind_hash[xtcp_bhash_idx(port)];
}

static bool xtcp_bind_conflict(const struct sock *sk, const struct sock *sk2,
			       kuid_t uid)
{
	int dev2 = READ_ONCE(sk2->sk_bound_dev_if);
	__be32 a1 = sk->sk_rcv_saddr, a2 = sk2->sk_rcv_saddr;

	if (sk->sk_bound_dev_if && dev2 && sk->sk_bound_dev_if != dev2)
		return false;
	if (sk->sk_reuse && sk2->sk_reuse && sk2->sk_state != TCP_LISTEN)
		return false;
	if (sk->sk_reuseport && sk2->sk_reuseport &&
	    uid_eq(uid, sock_i_uid((struct sock *)sk2)))
		return false;
	return !a1 || !a2 || a1 == a2;
}

/* Caller holds xn->bind_lock. */
static bool xtcp_port_conflict(struct xtcp_net *xn, const struct sock *sk,
			       unsigned short port)
{
	kuid_t uid = sock_i_uid((struct sock *)sk);
	struct xtcp_sock *xs;

	lockdep_assert_held(&xn->bind_lock);
	hlist_for_each_entry(xs, xtcp_bhash(xn, port), bind_node) {
		struct sock *sk2 = (struct sock *)xs;

		if (sk2 == sk || sk2->sk_num != port)
			continue;
		if (xtcp_bind_conflict(sk, sk2, uid))
			return true;
	}
	return xtcp_tw_port_conflict(xn, &xn->tw_bind_hash[xtcp_bhash_idx(port)],
				     sk, port);
}

/* Caller holds xn->bind_lock. */
static bool xtcp_port_unused(struct xtcp_net *xn, unsigned short port)
{
	struct xtcp_sock *xs;

	lockdep_assert_held(&xn->bind_lock);
	hlist_for_each_entry(xs, xtcp_bhash(xn, port), bind_node)
		if (xs->inet.sk.sk_num == port)
			return false;
	/* A NULL socket matches every TIME_WAIT entry on the port. */
	return !xtcp_tw_port_conflict(xn, &xn->tw_bind_hash[xtcp_bhash_idx(port)],
				      NULL, port);
}

/*
 * Pick a port from ip_local_port_range that nobody in this namespace holds,
 * skipping ip_local_reserved_ports. Start at a random point of the range so
 * that successive binds do not probe the same ports over and over.
 * Caller holds xn->bind_lock. Returns 0 when the range is exhausted.
 */
static unsigned short xtcp_pick_ephemeral(struct xtcp_net *xn, struct sock *sk)
{
	int low, high;
	u32 remaining, offset, i;

	inet_sk_get_local_port_range(sk, &low, &high);
	remaining = high - low + 1;
	offset = get_random_u32_below(remaining);

	for (i = 0; i < remaining; i++) {
		unsigned short port = low + (offset + i) % remaining;

		if (inet_is_local_reserved_port(xn->net, port))
			continue;
		if (xtcp_port_unused(xn, port))
			return port;
	}
	return 0;
}

/**
 * xtcp_bind_get_port - claim a local port for @sk
 * @sk: an unbound socket, locked by the caller
 * @snum: the port in host order, or 0 for an ephemeral one
 *
 * Return: 0 and inet_num/inet_sport set, or -EADDRINUSE.
 */
int xtcp_bind_get_port(struct sock *sk, unsigned short snum)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	int ret = -EADDRINUSE;

	spin_lock_bh(&xn->bind_lock);
	if (!snum)
		snum = xtcp_pick_ephemeral(xn, sk);
	else if (xtcp_port_conflict(xn, sk, snum))
		snum = 0;
	if (snum) {
		sk->sk_num = snum;
		inet_sk(sk)->inet_sport = htons(snum);
		hlist_add_head_rcu(&xtcp_sk(sk)->bind_node,
				   xtcp_bhash(xn, snum));
		ret = 0;
	}
	spin_unlock_bh(&xn->bind_lock);
	return ret;
}

/**
 * xtcp_bind_listen_check - may @sk listen on the port it holds?
 * @sk: a bound socket, locked by the caller, already in TCP_LISTEN
 *
 * Two sockets that shared a port through SO_REUSEADDR cannot both listen:
 * the second one to listen sees the first one as a listener, which no
 * longer qualifies for the SO_REUSEADDR exception (as in Linux TCP).
 *
 * Return: 0 or -EADDRINUSE.
 */
int xtcp_bind_listen_check(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	bool conflict;

	spin_lock_bh(&xn->bind_lock);
	conflict = xtcp_port_conflict(xn, sk, sk->sk_num);
	spin_unlock_bh(&xn->bind_lock);
	return conflict ? -EADDRINUSE : 0;
}

/*
 * A child of a listener takes the listener's port (__inet_inherit_port):
 * it is found by the bind table walk of /proc and keeps the port busy
 * after the listener closes.
 */
void xtcp_bind_inherit_port(struct sock *child)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(child));

	spin_lock_bh(&xn->bind_lock);
	hlist_add_head_rcu(&xtcp_sk(child)->bind_node,
			   xtcp_bhash(xn, child->sk_num));
	spin_unlock_bh(&xn->bind_lock);
}

/* May connect() share @port? Only with sockets that connect() bound. */
static bool xtcp_port_shareable(struct xtcp_net *xn, unsigned short port)
{
	struct xtcp_sock *xs;

	hlist_for_each_entry(xs, xtcp_bhash(xn, port), bind_node)
		if (xs->inet.sk.sk_num == port && !xs->port_shared)
			return false;
	return true;
}

/**
 * xtcp_bind_connect_port - bind and hash a connecting socket
 * @sk: socket with its addresses and destination port set, locked
 *
 * For an unbound socket, pick a local port whose 4-tuple is free among
 * connected sockets and TIME_WAIT entries (a TIME_WAIT entry may be taken
 * over when tw_reuse allows). For a bound one, check its 4-tuple. Either
 * way the socket ends up in the established table.
 *
 * Return: 0, -EADDRNOTAVAIL when no 4-tuple is free, or -ENOMEM.
 */
int xtcp_bind_connect_port(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 remaining, offset, i;
	int low, high, err;

	if (sk->sk_num) {
		xtcp_set_tuple(sk);
		spin_lock_bh(&xn->bind_lock);
		err = xtcp_tw_check_reuse(sk, &xs->tuple);
		if (!err)
			err = xtcp_ehash_insert(sk);
		spin_unlock_bh(&xn->bind_lock);
		return err;
	}

	inet_sk_get_local_port_range(sk, &low, &high);
	remaining = high - low + 1;
	offset = get_random_u32_below(remaining);

	spin_lock_bh(&xn->bind_lock);
	for (i = 0; i < remaining; i++) {
		unsigned short port = low + (offset + i) % remaining;

		if (inet_is_local_reserved_port(xn->net, port) ||
		    !xtcp_port_shareable(xn, port))
			continue;
		sk->sk_num = port;
		xtcp_set_tuple(sk);
		if (xtcp_tw_check_reuse(sk, &xs->tuple))
			continue;
		err = xtcp_ehash_insert(sk);
		if (err == -EADDRNOTAVAIL)
			continue;
		if (err)
			break;
		inet_sk(sk)->inet_sport = htons(port);
		xs->port_shared = true;
		hlist_add_head_rcu(&xs->bind_node, xtcp_bhash(xn, port));
		spin_unlock_bh(&xn->bind_lock);
		return 0;
	}
	sk->sk_num = 0;
	spin_unlock_bh(&xn->bind_lock);
	return i == remaining ? -EADDRNOTAVAIL : -ENOMEM;
}

void xtcp_bind_add_tw(struct xtcp_net *xn, struct hlist_node *node,
		      unsigned short port)
{
	spin_lock_bh(&xn->bind_lock);
	hlist_add_head_rcu(node, &xn->tw_bind_hash[xtcp_bhash_idx(port)]);
	spin_unlock_bh(&xn->bind_lock);
}

void xtcp_bind_del_tw(struct xtcp_net *xn, struct hlist_node *node)
{
	spin_lock_bh(&xn->bind_lock);
	if (!hlist_unhashed(node))
		hlist_del_init_rcu(node);
	spin_unlock_bh(&xn->bind_lock);
}

/* Release the port of @sk, if it holds one. */
void xtcp_bind_put_port(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));

	spin_lock_bh(&xn->bind_lock);
	if (!hlist_unhashed(&xtcp_sk(sk)->bind_node))
		hlist_del_init_rcu(&xtcp_sk(sk)->bind_node);
	spin_unlock_bh(&xn->bind_lock);
	xtcp_sk(sk)->port_shared = false;
	sk->sk_num = 0;
	inet_sk(sk)->inet_sport = 0;
}
