// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: connection lookup.
 *
 * Connected sockets (from SYN_SENT or SYN_RCVD on) live in a per-namespace
 * rhashtable keyed by their 4-tuple; the receive path looks a segment up
 * there first, then among TIME_WAIT entries (timewait.c), then among
 * listeners (listen.c, in the listener table of bind.c).
 *
 * Lookups run under RCU from softirq and take a reference with
 * refcount_inc_not_zero(); sockets are SOCK_RCU_FREE, so a socket found in
 * a chain is never freed under the reader.
 */
#include <linux/rhashtable.h>
#include <net/sock.h>
#include <net/ip.h>
#include <linux/jhash.h>

#include "xtcp.h"

static const struct rhashtable_params xtcp_ehash_params = {
	.key_len = sizeof(struct xtcp_tuple),
	.key_offset = offsetof(struct xtcp_sock, tuple),
	.head_offset = offsetof(struct xtcp_sock, ehash_node),
	.automatic_shrinking = true,
};

int xtcp_hash_net_init(struct xtcp_net *xn)
{
	return rhashtable_init(&xn->ehash, &xtcp_ehash_params);
}

/* Every socket of the namespace is gone: the table is empty. */
void xtcp_hash_net_exit(struct xtcp_net *xn)
{
	rhashtable_destroy(&xn->ehash);
}

void xtcp_set_tuple(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->tuple.laddr = sk->sk_rcv_saddr;
	xs->tuple.raddr = sk->sk_daddr;
	xs->tuple.lport = htons(sk->sk_num);
	xs->tuple.rport = sk->sk_dport;
}

/*
 * Insert @sk under its tuple. Return: 0, -EADDRNOTAVAIL when the 4-tuple
 * is taken, or -ENOMEM.
 */
int xtcp_ehash_insert(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	int err;

	xtcp_set_tuple(sk);
	err = rhashtable_lookup_insert_fast(&xn->ehash, &xs->ehash_node,
					    xtcp_ehash_params);
	if (err == -EEXIST)
		return -EADDRNOTAVAIL;
	if (err)
		return -ENOMEM;
	xs->ehashed = true;
	return 0;
}

void xtcp_ehash_remove(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->ehashed)
		return;
	rhashtable_remove_fast(&xn->ehash, &xs->ehash_node, xtcp_ehash_params);
	xs->ehashed = false;
}

/* Caller holds rcu_read_lock(). Returns a referenced socket or NULL. */
struct sock *xtcp_ehash_lookup(struct xtcp_net *xn, const struct xtcp_tuple *t)
{
	struct xtcp_sock *xs;

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "lookup without RCU");
	xs = rhashtable_lookup(&xn->ehash, t, xtcp_ehash_params);
	if (!xs || !refcount_inc_not_zero(&xs->inet.sk.sk_refcnt))
		return NULL;
	return &xs->inet.sk;
}
