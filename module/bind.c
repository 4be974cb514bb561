// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the per-namespace bind table (local ports) and the listener table.
 *
 * Every local port in use has a bucket (struct xtcp_bind_bucket, Linux's
 * inet_bind_bucket) holding the sockets and TIME_WAIT entries on it; the
 * buckets hang in a small hash keyed by the port. The table is per
 * namespace, so the same port is free in every other namespace. Writers
 * hold bind_lock with BH disabled (the receive path adds children of
 * listeners from softirq); /proc walks the buckets under RCU, which is
 * why buckets are freed after a grace period and xtcp sockets are
 * SOCK_RCU_FREE.
 *
 * Listeners are also in a table of their own, keyed by (port, local
 * address) as Linux's lhash2: the receive path finds a segment's listener
 * by looking at two chains (the address, then the wildcard) and never
 * walks the connections on the port, however many there are.
 *
 * What a bind costs: picking an ephemeral port or a port for connect()
 * looks at one bucket per candidate port, not at its sockets. Binding a
 * given port walks that port's owners to check for conflicts, as
 * inet_csk_bind_conflict() does, unless every owner had SO_REUSEADDR and
 * none listened (the bucket's fastreuse, Linux's tb->fastreuse).
 *
 * The conflict rules follow Linux TCP (inet_bind_conflict): two sockets
 * on one port conflict unless they are bound to different devices, or
 * both set SO_REUSEADDR and the other one is not listening, or both set
 * SO_REUSEPORT under the same user; and then only if their local
 * addresses overlap (equal, or either one the wildcard). TIME_WAIT
 * entries conflict the same way, with the SO_REUSEADDR setting of the
 * socket they replaced.
 *
 * connect() on an unbound socket shares ports: a port may serve many
 * connections as long as their 4-tuples differ, but only among sockets
 * that connect() bound (port_shared), as __inet_hash_connect() does.
 * bind() to port 0 shares a port with sockets bound to other addresses,
 * as inet_csk_find_open_port() does.
 */
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/rculist.h>
#include <linux/rculist_nulls.h>
#include <linux/slab.h>
#include <net/ip.h>
#include <net/secure_seq.h>
#include <net/tcp_states.h>

#include "xtcp.h"

void xtcp_bind_table_init(struct xtcp_net *xn)
{
	unsigned int i;

	spin_lock_init(&xn->bind_lock);
	for (i = 0; i < XTCP_BHASH_SIZE; i++)
		INIT_HLIST_HEAD(&xn->bhash[i]);
	for (i = 0; i < XTCP_LHASH_SIZE; i++)
		INIT_HLIST_NULLS_HEAD(&xn->lhash[i], i);
}

static struct hlist_head *xtcp_bhash(struct xtcp_net *xn, unsigned short port)
{
	return &xn->bhash[hash_32(port, XTCP_BHASH_BITS)];
}

/* Caller holds xn->bind_lock. */
static struct xtcp_bind_bucket *xtcp_bb_find(struct xtcp_net *xn,
					     unsigned short port)
{
	struct xtcp_bind_bucket *tb;

	lockdep_assert_held(&xn->bind_lock);
	hlist_for_each_entry(tb, xtcp_bhash(xn, port), node)
		if (tb->port == port)
			return tb;
	return NULL;
}

/*
 * The bucket of @port, made if there is none yet; @sk is its first owner
 * then (NULL for a TIME_WAIT entry, with @reuse its SO_REUSEADDR).
 * Caller holds xn->bind_lock. Returns NULL when out of memory.
 */
static struct xtcp_bind_bucket *xtcp_bb_get(struct xtcp_net *xn,
					    unsigned short port, bool reuse)
{
	struct xtcp_bind_bucket *tb = xtcp_bb_find(xn, port);

	if (tb)
		return tb;
	tb = kzalloc(sizeof(*tb), GFP_ATOMIC);
	if (!tb)
		return NULL;
	tb->port = port;
	tb->fastreuse = reuse;
	INIT_HLIST_HEAD(&tb->owners);
	INIT_HLIST_HEAD(&tb->tw);
	hlist_add_head_rcu(&tb->node, xtcp_bhash(xn, port));
	return tb;
}

/* The last one out frees the bucket. Caller holds xn->bind_lock. */
static void xtcp_bb_put(struct xtcp_bind_bucket *tb)
{
	if (!hlist_empty(&tb->owners) || !hlist_empty(&tb->tw))
		return;
	hlist_del_rcu(&tb->node);
	kfree_rcu(tb, rcu);
}

/* Caller holds xn->bind_lock. */
static void xtcp_bb_add(struct xtcp_bind_bucket *tb, struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!sk->sk_reuse || sk->sk_state == TCP_LISTEN)
		tb->fastreuse = false;
	if (!xs->port_shared)
		tb->exclusive++;
	xs->bind_bucket = tb;
	hlist_add_head_rcu(&xs->bind_node, &tb->owners);
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

/*
 * Does @sk conflict with an owner of @tb? @fast: it may trust the
 * bucket's fastreuse (not for listen(), where @sk is an owner already).
 * Caller holds xn->bind_lock.
 */
static bool xtcp_port_conflict(const struct xtcp_bind_bucket *tb,
			       const struct sock *sk, bool fast)
{
	kuid_t uid = sock_i_uid((struct sock *)sk);
	struct xtcp_sock *xs;

	if (fast && tb->fastreuse && sk->sk_reuse)
		return false;
	hlist_for_each_entry(xs, &tb->owners, bind_node) {
		struct sock *sk2 = (struct sock *)xs;

		if (sk2 != sk && xtcp_bind_conflict(sk, sk2, uid))
			return true;
	}
	return xtcp_tw_port_conflict(&tb->tw, sk, true);
}

/*
 * Would @sk, binding to an ephemeral port, collide with an owner or a
 * TIME_WAIT entry of @tb? There SO_REUSEADDR and SO_REUSEPORT do not
 * count (inet_csk_find_open_port() without relax): only another device
 * or another local address, neither of them the wildcard, lets two
 * sockets share the port. Caller holds xn->bind_lock.
 */
static bool xtcp_port_taken(const struct xtcp_bind_bucket *tb,
			    const struct sock *sk)
{
	__be32 a1 = sk->sk_rcv_saddr;
	struct xtcp_sock *xs;

	hlist_for_each_entry(xs, &tb->owners, bind_node) {
		struct sock *sk2 = (struct sock *)xs;
		int dev2 = READ_ONCE(sk2->sk_bound_dev_if);

		if (sk->sk_bound_dev_if && dev2 && sk->sk_bound_dev_if != dev2)
			continue;
		if (!a1 || !sk2->sk_rcv_saddr || a1 == sk2->sk_rcv_saddr)
			return true;
	}
	return xtcp_tw_port_conflict(&tb->tw, sk, false);
}

/*
 * Pick a port from ip_local_port_range for bind() with port 0, skipping
 * ip_local_reserved_ports, as inet_csk_find_open_port() does: from a
 * random point, odd offsets first (connect() starts with even ones, so
 * that the two do not crowd each other), and a socket with SO_REUSEADDR
 * tries the lower half of the range before the upper one. A port in use
 * is shared when the sockets on it are bound to other addresses or
 * devices. Caller holds xn->bind_lock. Returns 0 when nothing is free.
 */
static unsigned short xtcp_pick_ephemeral(struct xtcp_net *xn, struct sock *sk)
{
	int attempt_half = sk->sk_reuse == SK_CAN_REUSE ? 1 : 0;
	u32 remaining, offset, i;
	int low, high, port;

other_half:
	inet_sk_get_local_port_range(sk, &low, &high);
	high++;				/* [low, high[ */
	if (high - low < 4)
		attempt_half = 0;
	if (attempt_half) {
		int half = low + (((high - low) >> 2) << 1);

		if (attempt_half == 1)
			high = half;
		else
			low = half;
	}
	remaining = high - low;
	if (likely(remaining > 1))
		remaining &= ~1U;
	offset = get_random_u32_below(remaining) | 1U;
other_parity:
	port = low + offset;
	for (i = 0; i < remaining; i += 2, port += 2) {
		struct xtcp_bind_bucket *tb;

		if (unlikely(port >= high))
			port -= remaining;
		if (inet_is_local_reserved_port(xn->net, port))
			continue;
		tb = xtcp_bb_find(xn, port);
		if (!tb || !xtcp_port_taken(tb, sk))
			return port;
	}
	offset--;
	if (!(offset & 1))
		goto other_parity;
	if (attempt_half == 1) {
		attempt_half = 2;
		goto other_half;
	}
	return 0;
}

/**
 * xtcp_bind_get_port - claim a local port for @sk
 * @sk: an unbound socket, locked by the caller
 * @snum: the port in host order, or 0 for an ephemeral one
 *
 * Return: 0 and inet_num/inet_sport set, -EADDRINUSE, or -ENOMEM.
 */
int xtcp_bind_get_port(struct sock *sk, unsigned short snum)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_bind_bucket *tb;
	int ret = -EADDRINUSE;

	spin_lock_bh(&xn->bind_lock);
	if (!snum) {
		snum = xtcp_pick_ephemeral(xn, sk);
	} else {
		tb = xtcp_bb_find(xn, snum);
		if (tb && xtcp_port_conflict(tb, sk, true))
			snum = 0;
	}
	if (!snum)
		goto out;
	tb = xtcp_bb_get(xn, snum, sk->sk_reuse && sk->sk_state != TCP_LISTEN);
	if (!tb) {
		ret = -ENOMEM;
		goto out;
	}
	sk->sk_num = snum;
	inet_sk(sk)->inet_sport = htons(snum);
	xtcp_bb_add(tb, sk);
	ret = 0;
out:
	spin_unlock_bh(&xn->bind_lock);
	return ret;
}

/* The listener chain of (@port, @addr): also its nulls marker. */
unsigned int xtcp_lhash_slot(unsigned short port, __be32 addr)
{
	return hash_32(jhash_1word((__force u32)addr, port), XTCP_LHASH_BITS);
}

/**
 * xtcp_bind_listen - may @sk listen on the port it holds? Then it does.
 * @sk: a bound socket, locked by the caller, already in TCP_LISTEN
 *
 * Two sockets that shared a port through SO_REUSEADDR cannot both listen:
 * the second one to listen sees the first one as a listener, which no
 * longer qualifies for the SO_REUSEADDR exception (as in Linux TCP).
 * Once it may, the listener goes into the listener table.
 *
 * Return: 0 or -EADDRINUSE.
 */
int xtcp_bind_listen(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_bind_bucket *tb;
	int err = -EADDRINUSE;

	spin_lock_bh(&xn->bind_lock);
	tb = xtcp_sk(sk)->bind_bucket;
	if (WARN_ON_ONCE(!tb) || xtcp_port_conflict(tb, sk, false))
		goto out;
	tb->fastreuse = false;
	hlist_nulls_add_head_rcu(&xtcp_sk(sk)->lhash_node,
				 &xn->lhash[xtcp_lhash_slot(sk->sk_num,
							    sk->sk_rcv_saddr)]);
	err = 0;
out:
	spin_unlock_bh(&xn->bind_lock);
	return err;
}

/* @sk stops listening: no new segment finds it from now on. */
void xtcp_bind_unlisten(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);

	spin_lock_bh(&xn->bind_lock);
	if (!hlist_nulls_unhashed(&xs->lhash_node))
		hlist_nulls_del_init_rcu(&xs->lhash_node);
	spin_unlock_bh(&xn->bind_lock);
}

/*
 * A child of a listener takes the listener's port (__inet_inherit_port):
 * /proc lists it from there and it keeps the port busy after the listener
 * closes. Return: 0 or -ENOMEM.
 */
int xtcp_bind_inherit_port(struct sock *child)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(child));
	struct xtcp_bind_bucket *tb;

	spin_lock_bh(&xn->bind_lock);
	tb = xtcp_bb_get(xn, child->sk_num, child->sk_reuse);
	if (tb)
		xtcp_bb_add(tb, child);
	spin_unlock_bh(&xn->bind_lock);
	return tb ? 0 : -ENOMEM;
}

/*
 * Where the search for a connect() port starts, per (source, destination,
 * destination port) as Linux's table_perturb: secure_ipv4_port_ephemeral()
 * picks the slot and an offset, and the slot moves past each port found,
 * so that successive connections to one destination take successive
 * ports instead of searching the range from a random point each time.
 */
#define XTCP_PORT_PERTURB_SIZE	256
static u32 xtcp_port_perturb[XTCP_PORT_PERTURB_SIZE];

/*
 * connect() on an unbound socket tries @port: free, or held only by
 * sockets connect() placed, and the 4-tuple not taken (a TIME_WAIT entry
 * may give way). Caller holds xn->bind_lock.
 * Return: 0 (@sk holds the port and is hashed), -EADDRNOTAVAIL (try the
 * next port) or -ENOMEM.
 */
static int xtcp_connect_try_port(struct xtcp_net *xn, struct sock *sk,
				 unsigned short port)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_bind_bucket *tb;
	int err;

	if (inet_is_local_reserved_port(xn->net, port))
		return -EADDRNOTAVAIL;
	tb = xtcp_bb_find(xn, port);
	if (tb && tb->exclusive)
		return -EADDRNOTAVAIL;
	sk->sk_num = port;
	xtcp_set_tuple(sk);
	if (xtcp_tw_check_reuse(sk, &xs->tuple, false))
		return -EADDRNOTAVAIL;
	/* The check may have freed the bucket with the entry. */
	tb = xtcp_bb_get(xn, port, sk->sk_reuse);
	if (!tb)
		return -ENOMEM;
	err = xtcp_ehash_insert(sk);
	if (err) {
		xtcp_bb_put(tb);
		return err;
	}
	inet_sk(sk)->inet_sport = htons(port);
	xs->port_shared = true;
	xtcp_bb_add(tb, sk);
	return 0;
}

/**
 * xtcp_bind_connect_port - bind and hash a connecting socket
 * @sk: socket with its addresses and destination port set, locked
 *
 * For an unbound socket, pick a local port whose 4-tuple is free among
 * connected sockets and TIME_WAIT entries (a TIME_WAIT entry may be taken
 * over when tw_reuse allows). For a bound one, check its 4-tuple (a
 * TIME_WAIT entry with timestamps gives way, as in Linux). Either way the
 * socket ends up in the established table.
 *
 * Return: 0, -EADDRNOTAVAIL when no 4-tuple is free, or -ENOMEM.
 */
int xtcp_bind_connect_port(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 remaining, offset, index, *perturb;
	int low, high, port, i, err;
	u64 port_offset;

	if (sk->sk_num) {
		xtcp_set_tuple(sk);
		spin_lock_bh(&xn->bind_lock);
		err = xtcp_tw_check_reuse(sk, &xs->tuple, true);
		if (!err)
			err = xtcp_ehash_insert(sk);
		spin_unlock_bh(&xn->bind_lock);
		return err;
	}

	inet_sk_get_local_port_range(sk, &low, &high);
	high++;				/* [low, high[ */
	remaining = high - low;
	if (likely(remaining > 1))
		remaining &= ~1U;
	get_random_once(xtcp_port_perturb, sizeof(xtcp_port_perturb));
	port_offset = secure_ipv4_port_ephemeral(sk->sk_rcv_saddr,
						 sk->sk_daddr, sk->sk_dport);
	index = port_offset & (XTCP_PORT_PERTURB_SIZE - 1);
	perturb = &xtcp_port_perturb[index];
	offset = (READ_ONCE(*perturb) + (port_offset >> 32)) % remaining;
	offset &= ~1U;			/* even offsets first */

	spin_lock_bh(&xn->bind_lock);
other_parity:
	port = low + offset;
	for (i = 0; i < remaining; i += 2, port += 2) {
		if (unlikely(port >= high))
			port -= remaining;
		/* No long stretch with BHs off: take a breath now and then. */
		if (i && !(i % 256)) {
			spin_unlock_bh(&xn->bind_lock);
			cond_resched();
			spin_lock_bh(&xn->bind_lock);
		}
		err = xtcp_connect_try_port(xn, sk, port);
		if (!err)
			goto ok;
		if (err != -EADDRNOTAVAIL)
			goto fail;
	}
	offset++;
	if ((offset & 1) && remaining > 1)
		goto other_parity;
	err = -EADDRNOTAVAIL;
fail:
	sk->sk_num = 0;
	spin_unlock_bh(&xn->bind_lock);
	return err;
ok:
	spin_unlock_bh(&xn->bind_lock);
	/*
	 * The next connect() to this destination starts after this port,
	 * with a little randomness while ports are plenty.
	 */
	i = max_t(int, i, get_random_u32_below(8) * 2);
	WRITE_ONCE(*perturb, READ_ONCE(*perturb) + i + 2);
	return 0;
}

/*
 * A TIME_WAIT entry takes over the port of @sk, which still holds it.
 * A socket that lost its port meanwhile (it cannot while it is in the
 * established table) leaves the entry out of the bind table.
 */
void xtcp_bind_add_tw(struct sock *sk, struct hlist_node *node)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_bind_bucket *tb;

	spin_lock_bh(&xn->bind_lock);
	tb = xtcp_sk(sk)->bind_bucket;
	if (tb) {
		if (!sk->sk_reuse)
			tb->fastreuse = false;
		hlist_add_head_rcu(node, &tb->tw);
	}
	spin_unlock_bh(&xn->bind_lock);
}

/* Caller holds xn->bind_lock. */
void __xtcp_bind_del_tw(struct xtcp_net *xn, struct hlist_node *node,
			unsigned short port)
{
	struct xtcp_bind_bucket *tb;

	lockdep_assert_held(&xn->bind_lock);
	if (hlist_unhashed(node))
		return;
	hlist_del_init_rcu(node);
	tb = xtcp_bb_find(xn, port);
	if (!WARN_ON_ONCE(!tb))
		xtcp_bb_put(tb);
}

void xtcp_bind_del_tw(struct xtcp_net *xn, struct hlist_node *node,
		      unsigned short port)
{
	spin_lock_bh(&xn->bind_lock);
	__xtcp_bind_del_tw(xn, node, port);
	spin_unlock_bh(&xn->bind_lock);
}

/* Release the port of @sk, if it holds one (and its listener link). */
void xtcp_bind_put_port(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_bind_bucket *tb;

	spin_lock_bh(&xn->bind_lock);
	if (!hlist_nulls_unhashed(&xs->lhash_node))
		hlist_nulls_del_init_rcu(&xs->lhash_node);
	tb = xs->bind_bucket;
	if (tb) {
		hlist_del_init_rcu(&xs->bind_node);
		if (!xs->port_shared)
			tb->exclusive--;
		xs->bind_bucket = NULL;
		xtcp_bb_put(tb);
	}
	spin_unlock_bh(&xn->bind_lock);
	xs->port_shared = false;
	sk->sk_num = 0;
	inet_sk(sk)->inet_sport = 0;
}

/*
 * For /proc: the bucket after @tb in chain @slot, or the chain's first
 * with @tb NULL. Caller holds rcu_read_lock(); a bucket that leaves the
 * chain meanwhile still leads on to the rest of it.
 */
struct xtcp_bind_bucket *xtcp_bind_bucket_next(struct xtcp_net *xn,
					       unsigned int slot,
					       struct xtcp_bind_bucket *tb)
{
	struct hlist_node *n;

	n = tb ? rcu_dereference(hlist_next_rcu(&tb->node)) :
		 rcu_dereference(hlist_first_rcu(&xn->bhash[slot]));
	return n ? hlist_entry(n, struct xtcp_bind_bucket, node) : NULL;
}
