// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: connection lookup.
 *
 * Connected sockets (from SYN_SENT or SYN_RCVD on) live in a per-namespace
 * rhashtable keyed by their 4-tuple; the receive path looks a segment up
 * there first, then among TIME_WAIT entries (timewait.c), then among
 * listeners. Listeners are found through the bind table (bind.c): a
 * listener owns its port there, and at most one listener per address can
 * own a port, so walking one bind chain is enough.
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

/* How well @sk (a listener on the port) matches: -1 not at all. */
static int xtcp_listener_score(const struct sock *sk, __be32 daddr, int dif)
{
	int bound = READ_ONCE(sk->sk_bound_dev_if);

	if (inet_sk_state_load(sk) != TCP_LISTEN || (bound && bound != dif))
		return -1;
	if (sk->sk_rcv_saddr == daddr)
		return 2;
	return sk->sk_rcv_saddr ? -1 : 1;
}

/*
 * Find the listener for a segment from @saddr:@sport to @daddr:@dport
 * that arrived on @dif. A listener bound to the address wins over a
 * wildcard one; a listener bound to a device takes only segments from
 * that device. Among equal SO_REUSEPORT listeners the connection's
 * 4-tuple hash picks one, so connections spread over them as in TCP.
 * Caller holds rcu_read_lock(). Returns a referenced socket or NULL.
 */
struct sock *xtcp_listener_lookup(struct xtcp_net *xn, __be32 saddr,
				  __be16 sport, __be32 daddr, __be16 dport,
				  int dif)
{
	struct hlist_head *head = &xn->bind_hash[hash_32(ntohs(dport),
							 XTCP_BHASH_BITS)];
	unsigned short port = ntohs(dport);
	int score, best_score = -1;
	struct sock *best = NULL;
	struct xtcp_sock *xs;
	u32 n = 0, pick;

	hlist_for_each_entry_rcu(xs, head, bind_node) {
		struct sock *sk = &xs->inet.sk;

		if (sk->sk_num != port)
			continue;
		score = xtcp_listener_score(sk, daddr, dif);
		if (score > best_score) {
			best = sk;
			best_score = score;
			n = 1;
		} else if (score == best_score && score > 0 &&
			   best->sk_reuseport && sk->sk_reuseport) {
			n++;
		}
	}
	if (n > 1) {
		/* The n-th of the equal reuseport listeners, by hash. */
		pick = reciprocal_scale(jhash_3words((__force u32)saddr,
						     (__force u32)daddr,
						     (__force u32)sport << 16 |
						     (__force u32)dport, 0), n);
		hlist_for_each_entry_rcu(xs, head, bind_node) {
			struct sock *sk = &xs->inet.sk;

			if (sk->sk_num != port || !sk->sk_reuseport ||
			    xtcp_listener_score(sk, daddr, dif) != best_score)
				continue;
			if (!pick--) {
				best = sk;
				break;
			}
		}
	}
	if (best && !refcount_inc_not_zero(&best->sk_refcnt))
		best = NULL;
	return best;
}
