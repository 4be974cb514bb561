// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: TIME_WAIT in compact entries, expired by hrtimer buckets.
 *
 * A connection that enters TIME_WAIT gives up its full socket and leaves
 * a struct xtcp_tw behind: the 4-tuple, the sequence and timestamp state
 * needed to answer the peer, the deadline, and the links of three tables
 * (lookup by 4-tuple, the bind table, a time bucket): 88 bytes, allocated
 * from its own slab; xtcp_tw_entry_size() reports the object size. The
 * namespace is not in the entry: it is in its bucket's queue, for the
 * one path that has nothing else to find it by (expiry).
 *
 * Time buckets. Each namespace keeps, on each CPU, a list of buckets
 * sorted by expiry time;
 * each bucket is a list of entries and one soft hrtimer pinned to that
 * CPU. An entry whose deadline is D goes into the bucket that expires in
 * [D, D + W), W = tw_bucket_ms or by default 2 * MSL / 64 (at least
 * 1 ms), or into a new one expiring at D rounded up to a multiple of W: it
 * dies no earlier than 2 * MSL and no later than 2 * MSL + W after it was
 * scheduled. Insertion takes only the
 * local CPU's lock; there is no global lock and no global timer (Linux
 * removed its central TIME_WAIT calendar in 4.1 because spinning on one
 * lock cost up to 30 ms per expiry). When a bucket fires it reaps at most
 * XTCP_TW_BATCH entries, then re-arms itself a little later if more are
 * left, so a mass expiry never holds a CPU in softirq for long.
 *
 * Lifetime. Whoever kills an entry first (a RST, a new SYN, tw_reuse,
 * namespace exit, or its expiry; the DEAD bit of ->state) unhashes it from
 * the lookup and bind tables and uncounts it, then takes it out of its
 * time bucket under that CPU's lock and frees it after an RCU grace
 * period, so killed entries never wait for their bucket: TIME_WAIT memory
 * is bounded by max_tw_buckets per namespace. An entry the reaper took
 * out of its bucket first is the reaper's to free. A retransmitted FIN or
 * an ACK moves the deadline forward (as in Linux, each restarts 2 * MSL);
 * the reaper finds the entry not yet due and moves it to a later bucket.
 * Readers find entries under RCU and check the DEAD bit.
 *
 * Buckets. Each namespace's entries need at most XTCP_TW_MAX_SLOTS armed
 * buckets per CPU whatever tw_bucket_ms says; idle buckets beyond a few
 * per CPU are freed, and all of them when the namespace goes.
 */
#include <linux/bitfield.h>
#include <linux/hrtimer.h>
#include <linux/percpu.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/seq_file.h>
#include <net/ip.h>
#include <net/tcp.h>

#include "xtcp.h"
#include "trace.h"

#define XTCP_TW_BATCH		128		/* entries per bucket run */
#define XTCP_TW_BATCH_GAP_NS	(50 * NSEC_PER_USEC)
#define XTCP_TW_SLOTS		64		/* buckets per 2 * MSL */

/*
 * tw->state: DEAD is set once, by whoever kills the entry; QUEUED says it
 * sits in a time bucket of CPU (state & XTCP_TWS_CPU), changed only under
 * that CPU's lock. TSTAMP (timestamps were in use) and REUSE (the socket
 * had SO_REUSEADDR) are set before the entry is published and never
 * change.
 */
#define XTCP_TWS_DEAD		BIT(31)
#define XTCP_TWS_QUEUED		BIT(30)
#define XTCP_TWS_TSTAMP		BIT(17)
#define XTCP_TWS_REUSE		BIT(16)
#define XTCP_TWS_CPU		GENMASK(15, 0)

/*
 * Idle buckets kept per CPU for reuse; more are freed. And the narrowest
 * bucket for entries that wait 2 * MSL: tw_bucket_ms may ask for less,
 * but no namespace makes one CPU keep more than about this many buckets
 * armed for its entries.
 */
#define XTCP_TW_FREE_KEEP	16
#define XTCP_TW_MAX_SLOTS	1024

/*
 * A million of these is what a busy server holds, so every byte counts:
 * 88 bytes, packed without holes. Two fields are narrower than a full
 * socket's:
 * - deadline: milliseconds of xtcp_clock_ms(), which wraps after 49 days;
 *   an entry's deadline is never more than 2 * msl_ms (at most two hours)
 *   ahead, so a signed difference orders it.
 * - ts_recent_stamp: the low 16 bits of the seconds clock. Its age is
 *   read modulo 18 hours (xtcp_tw_stamp()); it is only ever asked whether
 *   it is more than a second old (tw_reuse) or older than PAWS' 24 days,
 *   and an entry that lived 18 hours on ACKs without timestamps answers
 *   the second one "no" where Linux would say yes: its PAWS check stays.
 */
struct xtcp_tw {
	struct rhash_head hnode;	/* xtcp_net.twhash */
	struct xtcp_tuple tuple;	/* key */
	u32 snd_nxt;
	u32 rcv_nxt;
	u32 ts_recent;
	u32 ts_offset;
	u32 last_oow_ack_time;		/* jiffies, for invalid_ratelimit */
	u32 deadline;			/* xtcp_clock_ms() */
	int bound_dev_if;
	atomic_t state;			/* XTCP_TWS_*, and the CPU */
	u16 rcv_wnd;			/* as sent: already scaled down */
	u16 ts_recent_stamp;		/* seconds, low 16 bits */
	struct hlist_node bind_node;	/* xtcp_net.tw_bind_hash */
	union {
		struct hlist_node bucket_node;	/* while in a bucket */
		struct rcu_head rcu;		/* once reaped */
	};
};

static_assert(sizeof(struct xtcp_tw) == 88);

struct xtcp_tw_cpu;

struct xtcp_tw_bucket {
	struct list_head link;		/* in cpu->active or cpu->free */
	struct hlist_head entries;
	ktime_t expires;
	struct hrtimer timer;
	struct xtcp_tw_cpu *cpu;
};

/* One per namespace and CPU: xtcp_net.tw_cpus. */
struct xtcp_tw_cpu {
	spinlock_t lock;		/* the lists and every bucket on them */
	struct list_head active;	/* sorted by ->expires */
	struct list_head free;		/* idle buckets, kept for reuse */
	unsigned int nr_free;
	struct xtcp_net *xn;		/* whose entries */
};

static struct kmem_cache *xtcp_tw_cache;
static atomic_long_t xtcp_tw_allocated = ATOMIC_LONG_INIT(0);

/*
 * The lookup table grows while it is 75 % full, so a million entries
 * would take 2^21 buckets (16 MiB, more than their share of the entries'
 * own memory). It stops at 2^20: chains of one or two entries on average
 * at a million or two, as Linux's established hash, which holds
 * TIME_WAIT sockets too, is at that count. rhashtable takes at most twice
 * max_size entries: 2,097,152 per namespace, whatever max_tw_buckets says
 * (beyond, a connection closes without an entry, counted in TWNoMem).
 */
#define XTCP_TW_HASH_MAX	BIT(20)

static const struct rhashtable_params xtcp_tw_params = {
	.key_len = sizeof(struct xtcp_tuple),
	.key_offset = offsetof(struct xtcp_tw, tuple),
	.head_offset = offsetof(struct xtcp_tw, hnode),
	.max_size = XTCP_TW_HASH_MAX,
	.automatic_shrinking = true,
};

size_t xtcp_tw_entry_size(void)
{
	return kmem_cache_size(xtcp_tw_cache);
}

static void xtcp_tw_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(xtcp_tw_cache, container_of(head, struct xtcp_tw, rcu));
	atomic_long_dec(&xtcp_tw_allocated);
}

/* Entries allocated, all namespaces: live ones and those not yet freed. */
long xtcp_tw_count(void)
{
	return atomic_long_read(&xtcp_tw_allocated);
}

static bool xtcp_tw_dead(const struct xtcp_tw *tw)
{
	return atomic_read(&tw->state) & XTCP_TWS_DEAD;
}

static bool xtcp_tw_tstamp(const struct xtcp_tw *tw)
{
	return atomic_read(&tw->state) & XTCP_TWS_TSTAMP;
}

/* ts_recent_stamp in full, from its low 16 bits: see struct xtcp_tw. */
static u32 xtcp_tw_stamp(const struct xtcp_tw *tw)
{
	u32 now = ktime_get_seconds();

	return now - (u16)(now - READ_ONCE(tw->ts_recent_stamp));
}

/*
 * A killed entry leaves its time bucket at once and is freed after a
 * grace period, so that killed entries do not pile up until their bucket
 * fires: the memory of TIME_WAIT stays bounded by max_tw_buckets, however
 * fast entries are made and killed. An entry its bucket's reaper took
 * first is the reaper's to free. The killer may hold bind_lock (the
 * CPU's lock nests inside it).
 */
static void xtcp_tw_unqueue(struct xtcp_net *xn, struct xtcp_tw *tw)
{
	struct xtcp_tw_cpu *c;
	bool mine = false;

	if (!(atomic_read(&tw->state) & XTCP_TWS_QUEUED))
		return;
	c = per_cpu_ptr(xn->tw_cpus, atomic_read(&tw->state) & XTCP_TWS_CPU);
	spin_lock_bh(&c->lock);
	if (atomic_read(&tw->state) & XTCP_TWS_QUEUED) {
		hlist_del(&tw->bucket_node);
		atomic_andnot(XTCP_TWS_QUEUED, &tw->state);
		mine = true;
	}
	spin_unlock_bh(&c->lock);
	if (mine)
		call_rcu(&tw->rcu, xtcp_tw_free_rcu);
}

/*
 * Kill @tw, an entry of @xn: take it out of the lookup and bind tables
 * and of its time bucket. Only the caller that sets the DEAD bit first
 * does so. @bind_locked: the caller holds xtcp_net.bind_lock.
 */
static bool xtcp_tw_kill(struct xtcp_net *xn, struct xtcp_tw *tw,
			 bool bind_locked, enum xtcp_mib_field why)
{
	if (atomic_fetch_or(XTCP_TWS_DEAD, &tw->state) & XTCP_TWS_DEAD)
		return false;
	rhashtable_remove_fast(&xn->twhash, &tw->hnode, xtcp_tw_params);
	if (bind_locked)
		__xtcp_bind_del_tw(xn, &tw->bind_node, ntohs(tw->tuple.lport));
	else
		xtcp_bind_del_tw(xn, &tw->bind_node, ntohs(tw->tuple.lport));
	if (why != XTCP_MIB_MAX)
		SNMP_INC_STATS(xn->mib, why);
	xtcp_count_transition(xn, TCP_TIME_WAIT, TCP_CLOSE);
	xtcp_tw_unqueue(xn, tw);
	/*
	 * Namespace exit waits for this count to reach zero: after the
	 * decrement the namespace may be gone, so it is the last access.
	 */
	smp_mb__before_atomic();
	atomic_dec(&xn->tw_count);
	return true;
}

static enum hrtimer_restart xtcp_tw_bucket_fire(struct hrtimer *timer);

/* Width of a bucket for entries that wait @len nanoseconds. */
static s64 xtcp_tw_width(s64 len)
{
	return max_t(s64, div_s64(len, XTCP_TW_SLOTS), NSEC_PER_MSEC);
}

/*
 * Put @tw into a bucket of @c expiring in [d, d + width), @d in ns of
 * ktime_get(). Caller holds c->lock. Returns false if no bucket could be
 * allocated.
 */
static bool xtcp_tw_bucket_add(struct xtcp_tw_cpu *c, struct xtcp_tw *tw,
			       s64 d, s64 width)
{
	struct xtcp_tw_bucket *b, *pos;
	s64 expires;

	lockdep_assert_held(&c->lock);
	/* Most entries join the newest bucket: search from the tail. */
	list_for_each_entry_reverse(b, &c->active, link) {
		s64 e = ktime_to_ns(b->expires);

		if (e < d)
			break;
		if (e < d + width) {
			hlist_add_head(&tw->bucket_node, &b->entries);
			atomic_or(XTCP_TWS_QUEUED, &tw->state);
			return true;
		}
	}

	b = list_first_entry_or_null(&c->free, struct xtcp_tw_bucket, link);
	if (b) {
		list_del(&b->link);
		c->nr_free--;
	} else {
		b = kzalloc(sizeof(*b), GFP_ATOMIC);
		if (!b)
			return false;
		hrtimer_init(&b->timer, CLOCK_MONOTONIC,
			     HRTIMER_MODE_ABS_PINNED_SOFT);
		b->timer.function = xtcp_tw_bucket_fire;
		b->cpu = c;
	}
	INIT_HLIST_HEAD(&b->entries);
	expires = roundup(d, width);
	b->expires = ns_to_ktime(expires);
	hlist_add_head(&tw->bucket_node, &b->entries);
	atomic_or(XTCP_TWS_QUEUED, &tw->state);

	/* Keep the list sorted: insert after the last earlier bucket. */
	list_for_each_entry_reverse(pos, &c->active, link)
		if (ktime_to_ns(pos->expires) <= expires)
			break;
	list_add(&b->link, &pos->link);
	hrtimer_start(&b->timer, b->expires, HRTIMER_MODE_ABS_PINNED_SOFT);
	return true;
}

static enum hrtimer_restart xtcp_tw_bucket_fire(struct hrtimer *timer)
{
	struct xtcp_tw_bucket *b = container_of(timer, struct xtcp_tw_bucket,
						timer);
	struct xtcp_tw_cpu *c = b->cpu;
	ktime_t now = ktime_get();
	u32 now_ms = div_u64(ktime_to_ns(now), NSEC_PER_MSEC);
	HLIST_HEAD(reaped);
	struct hlist_node *tmp;
	struct xtcp_tw *tw;
	int budget = XTCP_TW_BATCH, nreaped = 0, moved = 0;
	s32 left;
	s64 late = ktime_to_ns(ktime_sub(now, b->expires));
	bool more;

	spin_lock(&c->lock);
	while (budget-- > 0 && !hlist_empty(&b->entries)) {
		tw = hlist_entry(b->entries.first, struct xtcp_tw, bucket_node);
		hlist_del(&tw->bucket_node);
		atomic_andnot(XTCP_TWS_QUEUED, &tw->state);
		left = (s32)(READ_ONCE(tw->deadline) - now_ms);
		if (!xtcp_tw_dead(tw) && left > 0) {
			/*
			 * A retransmitted FIN or an ACK restarted its 2 * MSL.
			 * The deadline is in whole ms, rounded down: a ms
			 * more, so that it does not die early.
			 */
			s64 len = (left + 1) * NSEC_PER_MSEC;

			if (xtcp_tw_bucket_add(c, tw, ktime_to_ns(now) + len,
					       xtcp_tw_width(len))) {
				moved++;
				continue;
			}
		}
		hlist_add_head(&tw->bucket_node, &reaped);
		nreaped++;
	}
	more = !hlist_empty(&b->entries);
	if (!more) {
		list_move(&b->link, &c->free);
		c->nr_free++;
	}
	spin_unlock(&c->lock);
	trace_xtcp_tw_reap(nreaped, moved, late);

	hlist_for_each_entry_safe(tw, tmp, &reaped, bucket_node) {
		xtcp_tw_kill(c->xn, tw, false, XTCP_MIB_TWEXPIRED);
		call_rcu(&tw->rcu, xtcp_tw_free_rcu);
	}

	if (!more)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, ns_to_ktime(XTCP_TW_BATCH_GAP_NS));
	return HRTIMER_RESTART;
}

/*
 * Free the idle buckets of @c beyond a few. Their callbacks are done
 * (they put them there), unless CPU hot-unplug moved one elsewhere:
 * then it stays for later. Caller holds c->lock, with BH off.
 */
static void xtcp_tw_trim_free(struct xtcp_tw_cpu *c)
{
	struct xtcp_tw_bucket *b, *tmp;

	list_for_each_entry_safe(b, tmp, &c->free, link) {
		if (c->nr_free <= XTCP_TW_FREE_KEEP)
			return;
		if (hrtimer_try_to_cancel(&b->timer) < 0)
			continue;
		list_del(&b->link);
		c->nr_free--;
		kfree(b);
	}
}

/* Schedule @tw, an entry of @xn, to expire @len ns from now on this CPU. */
static bool xtcp_tw_schedule(struct xtcp_net *xn, struct xtcp_tw *tw,
			     s64 len)
{
	s64 width = xtcp_knob(xn->net, XTCP_KNOB_tw_bucket_ms) *
		    NSEC_PER_MSEC;
	struct xtcp_tw_cpu *c;
	bool ok;
	s64 d;

	width = max_t(s64, width ? : xtcp_tw_width(len),
		      div_s64(len, XTCP_TW_MAX_SLOTS));
	local_bh_disable();
	c = this_cpu_ptr(xn->tw_cpus);
	/* Killed already, maybe: the CPU goes next to its DEAD bit. */
	atomic_or(smp_processor_id(), &tw->state);
	spin_lock(&c->lock);
	d = ktime_get_ns() + len;
	WRITE_ONCE(tw->deadline, div_u64(d, NSEC_PER_MSEC));
	ok = xtcp_tw_bucket_add(c, tw, d, width);
	xtcp_tw_trim_free(c);
	spin_unlock(&c->lock);
	local_bh_enable();
	return ok;
}

static s64 xtcp_tw_len(struct net *net)
{
	return 2LL * xtcp_knob(net, XTCP_KNOB_msl_ms) * NSEC_PER_MSEC;
}

/*
 * @sk (locked) enters TIME_WAIT: leave an entry behind and close the
 * socket. Above max_tw_buckets the connection closes at once.
 */
void xtcp_time_wait(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	struct xtcp_net *xn = xtcp_pernet(net);
	struct xtcp_tw *tw;

	if (atomic_read(&xn->tw_count) >=
	    xtcp_knob(net, XTCP_KNOB_max_tw_buckets)) {
		XTCP_INC_STATS(net, XTCP_MIB_TWOVERFLOW);
		goto done;
	}
	tw = kmem_cache_alloc(xtcp_tw_cache, GFP_ATOMIC);
	if (!tw) {
		XTCP_INC_STATS(net, XTCP_MIB_TWNOMEM);
		goto done;
	}
	atomic_long_inc(&xtcp_tw_allocated);

	tw->tuple = xs->tuple;
	tw->snd_nxt = xs->snd_nxt;
	tw->rcv_nxt = xs->rcv_nxt;
	tw->ts_recent = xs->ts_recent;
	tw->ts_offset = xs->ts_offset;
	tw->ts_recent_stamp = (u16)xs->ts_recent_stamp;
	tw->rcv_wnd = min_t(u32, xs->rcv_wnd >> xs->rx_opt.rcv_wscale, 65535U);
	tw->bound_dev_if = sk->sk_bound_dev_if;
	atomic_set(&tw->state,
		   (xs->rx_opt.tstamp_ok ? XTCP_TWS_TSTAMP : 0) |
		   (sk->sk_reuse ? XTCP_TWS_REUSE : 0));
	tw->last_oow_ack_time = 0;
	INIT_HLIST_NODE(&tw->bind_node);

	/*
	 * Bind table first: once in twhash the entry can be killed, and a
	 * kill must find it there to take it out.
	 */
	atomic_inc(&xn->tw_count);
	xtcp_bind_add_tw(sk, &tw->bind_node);
	if (rhashtable_lookup_insert_fast(&xn->twhash, &tw->hnode,
					  xtcp_tw_params)) {
		xtcp_bind_del_tw(xn, &tw->bind_node, sk->sk_num);
		atomic_dec(&xn->tw_count);
		/* /proc may be reading it in the bind table. */
		call_rcu(&tw->rcu, xtcp_tw_free_rcu);
		XTCP_INC_STATS(net, XTCP_MIB_TWNOMEM);
		goto done;
	}
	/* Counted before any end of the entry, which counts TIME_WAIT -> CLOSE. */
	xtcp_set_state(sk, TCP_TIME_WAIT);
	if (!xtcp_tw_schedule(xn, tw, xtcp_tw_len(net))) {
		/* No bucket: the entry dies now, freed after RCU. */
		xtcp_tw_kill(xn, tw, false, XTCP_MIB_TWNOMEM);
		call_rcu(&tw->rcu, xtcp_tw_free_rcu);
		goto done;
	}
	XTCP_INC_STATS(net, XTCP_MIB_TWENTERED);
done:
	xtcp_done(sk);
}

/* Caller holds rcu_read_lock(). */
struct xtcp_tw *xtcp_tw_lookup(struct xtcp_net *xn, const struct xtcp_tuple *t)
{
	struct xtcp_tw *tw = rhashtable_lookup(&xn->twhash, t, xtcp_tw_params);

	if (tw && xtcp_tw_dead(tw))
		return NULL;
	return tw;
}

static void xtcp_tw_send_ack(struct net *net, struct xtcp_tw *tw,
			     struct sk_buff *skb)
{
	xtcp_send_ack_reply(net, skb, tw->snd_nxt, tw->rcv_nxt,
			    tw->rcv_wnd, xtcp_clock_ms() + tw->ts_offset,
			    tw->ts_recent, xtcp_tw_tstamp(tw));
}

/* The peer may not have our last ACK: another 2 * MSL from now. */
static void xtcp_tw_restart(struct net *net, struct xtcp_tw *tw)
{
	WRITE_ONCE(tw->deadline,
		   div_u64(ktime_get_ns() + xtcp_tw_len(net), NSEC_PER_MSEC));
}

/*
 * A segment for a TIME_WAIT entry (RFC 9293 3.10.7.4 for TIME-WAIT, RFC
 * 6191 for new SYNs, RFC 1337), as Linux's tcp_timewait_state_process():
 * at rcv_nxt only a RST (kills the entry, unless rfc1337) or a bare ACK
 * (restarts it) are acceptable, and take no answer; a new SYN that is
 * provably new reopens the connection; everything else is answered with
 * an ACK, at most one per invalid_ratelimit unless it carries data or a
 * FIN, so that two desynchronised hosts cannot ACK each other at line
 * rate. Consumes @skb unless it returns XTCP_TW_SYN: then the entry is
 * gone and the SYN goes to a listener, with an ISN above anything the old
 * connection used in its cb. Lockless: the entry is only read, and its
 * few written fields are single words (WRITE_ONCE).
 */
enum xtcp_tw_verdict xtcp_tw_rcv(struct xtcp_net *xn, struct xtcp_tw *tw,
				 struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	struct net *net = xn->net;
	struct xtcp_options opt = {};
	bool ts, paws_reject;

	xtcp_parse_options(th, &opt, false);
	ts = xtcp_tw_tstamp(tw) && opt.saw_tstamp;
	paws_reject = ts &&
		      xtcp_paws_reject_rst(tw->ts_recent, xtcp_tw_stamp(tw),
					   opt.rcv_tsval, th->rst);

	if (!paws_reject && cb->seq == READ_ONCE(tw->rcv_nxt) &&
	    (cb->seq == cb->end_seq || th->rst)) {
		if (th->rst) {
			if (!xtcp_knob(net, XTCP_KNOB_rfc1337)) {
				xtcp_tw_kill(xn, tw, false, XTCP_MIB_TWKILLED);
				goto drop;
			}
			XTCP_INC_STATS(net, XTCP_MIB_RSTIGNORED);
		} else {
			xtcp_tw_restart(net, tw);
		}
		if (ts) {
			WRITE_ONCE(tw->ts_recent, opt.rcv_tsval);
			WRITE_ONCE(tw->ts_recent_stamp, (u16)ktime_get_seconds());
		}
		goto drop;
	}

	if (th->syn && !th->rst && !th->ack && !paws_reject &&
	    (after(cb->seq, tw->rcv_nxt) ||
	     (ts && (s32)(tw->ts_recent - opt.rcv_tsval) < 0))) {
		if (xtcp_tw_kill(xn, tw, false, XTCP_MIB_TWRECYCLED)) {
			cb->tw_isn = tw->snd_nxt + 65535 + 2 ? : 1;
			return XTCP_TW_SYN;
		}
		goto drop;
	}

	if (paws_reject)
		xtcp_drop_stats(net, NULL, skb, XTCP_MIB_PAWSDROP);
	if (!th->rst) {
		/*
		 * A retransmitted FIN, or any ACK: restart 2 * MSL. Not for
		 * an ACK-less SYN below rcv_nxt: that may be a new
		 * connection's, with a random ISN.
		 */
		if (paws_reject || th->ack)
			xtcp_tw_restart(net, tw);
		if (!xtcp_oow_rate_limited(net, skb,
					   XTCP_MIB_ACKSKIPPEDTIMEWAIT,
					   &tw->last_oow_ack_time))
			xtcp_tw_send_ack(net, tw, skb);
	}
drop:
	kfree_skb(skb);
	return XTCP_TW_DROP;
}

/*
 * Does a TIME_WAIT entry of port bucket list @head stand in the way of
 * binding @sk to the port? With @reuse_ok, not one that had SO_REUSEADDR
 * when @sk has it too; without (an ephemeral port, as
 * inet_csk_find_open_port() looks), only another device or local address
 * lets them share. Caller holds bind_lock.
 */
bool xtcp_tw_port_conflict(const struct hlist_head *head,
			   const struct sock *sk, bool reuse_ok)
{
	struct xtcp_tw *tw;

	hlist_for_each_entry(tw, head, bind_node) {
		if (sk->sk_bound_dev_if && tw->bound_dev_if &&
		    sk->sk_bound_dev_if != tw->bound_dev_if)
			continue;
		if (reuse_ok && sk->sk_reuse &&
		    (atomic_read(&tw->state) & XTCP_TWS_REUSE))
			continue;
		if (!sk->sk_rcv_saddr || sk->sk_rcv_saddr == tw->tuple.laddr)
			return true;
	}
	return false;
}

/*
 * connect() wants 4-tuple @t, held by a TIME_WAIT entry? It may take the
 * entry over when timestamps protect the new connection, as
 * tcp_twsk_unique() decides: from a port the application bound (@bound),
 * always; from a port connect() picks, when tw_reuse allows and the
 * entry saw its last timestamp more than a second ago. Then @sk starts
 * with a sequence number above the old connection's.
 * Caller holds bind_lock. Return: 0, or -EADDRNOTAVAIL.
 */
int xtcp_tw_check_reuse(struct sock *sk, const struct xtcp_tuple *t,
			bool bound)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_tw *tw;
	int reuse, err = -EADDRNOTAVAIL;

	rcu_read_lock();
	tw = xtcp_tw_lookup(xn, t);
	if (!tw) {
		err = 0;
		goto out;
	}
	if (!xtcp_tw_tstamp(tw))
		goto out;
	reuse = xtcp_knob(sock_net(sk), XTCP_KNOB_tw_reuse);
	if (reuse == 2 && !ipv4_is_loopback(t->laddr) &&
	    !ipv4_is_loopback(t->raddr))
		reuse = 0;
	if (!bound && (!reuse ||
		       !time_after32(ktime_get_seconds(), xtcp_tw_stamp(tw))))
		goto out;
	if (!xtcp_tw_kill(xn, tw, true, XTCP_MIB_TWREUSED))
		goto out;
	xs->write_seq = tw->snd_nxt + 65535 + 2 ? : 1;
	xs->ts_recent = tw->ts_recent;
	xs->ts_recent_stamp = xtcp_tw_stamp(tw);
	err = 0;
out:
	rcu_read_unlock();
	return err;
}

/* One row of /proc/net/xtcp, as get_timewait4_sock() prints it. */
int xtcp_tw_seq_show(struct seq_file *seq, struct hlist_node *node, loff_t i)
{
	struct xtcp_tw *tw = hlist_entry(node, struct xtcp_tw, bind_node);
	long delta = (s32)(READ_ONCE(tw->deadline) - xtcp_clock_ms());

	seq_printf(seq,
		   "%4lld: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5d %8d %d %d %pK",
		   i, tw->tuple.laddr, ntohs(tw->tuple.lport),
		   tw->tuple.raddr, ntohs(tw->tuple.rport), TCP_TIME_WAIT,
		   0, 0, 3,
		   jiffies_delta_to_clock_t(msecs_to_jiffies(max(delta, 0L))),
		   0, 0, 0, 0, 0, tw);
	return 0;
}

/*
 * Free a bucket that no timer or list refers to any more, and the dead
 * entries still in it: one killed before its scheduling queued it, whose
 * bucket's reaper would have freed it. Readers may still see it: after a
 * grace period.
 */
static void xtcp_tw_bucket_free(struct xtcp_tw_bucket *b)
{
	struct hlist_node *tmp;
	struct xtcp_tw *tw;

	hlist_for_each_entry_safe(tw, tmp, &b->entries, bucket_node) {
		hlist_del(&tw->bucket_node);
		call_rcu(&tw->rcu, xtcp_tw_free_rcu);
	}
	kfree(b);
}

/* Take the first bucket off @list, or NULL. */
static struct xtcp_tw_bucket *xtcp_tw_take(struct xtcp_tw_cpu *c,
					   struct list_head *list)
{
	struct xtcp_tw_bucket *b;

	spin_lock_bh(&c->lock);
	b = list_first_entry_or_null(list, struct xtcp_tw_bucket, link);
	if (b)
		list_del_init(&b->link);
	spin_unlock_bh(&c->lock);
	return b;
}

/*
 * Stop and free every bucket of @xn, once every entry is dead. Take the
 * buckets off their lists one by one and cancel their timers outside the
 * lock (a running callback takes it); a callback that ran meanwhile may
 * have put its bucket on the free list, or moved entries to a bucket it
 * made, and both lists are emptied until nothing is left: then no
 * callback runs, and none will.
 */
static void xtcp_tw_stop_buckets(struct xtcp_net *xn)
{
	struct xtcp_tw_bucket *b;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct xtcp_tw_cpu *c = per_cpu_ptr(xn->tw_cpus, cpu);

		/* Active buckets first: their callbacks move them to free. */
		while ((b = xtcp_tw_take(c, &c->active)) ||
		       (b = xtcp_tw_take(c, &c->free))) {
			hrtimer_cancel(&b->timer);
			spin_lock_bh(&c->lock);
			list_del_init(&b->link);
			spin_unlock_bh(&c->lock);
			xtcp_tw_bucket_free(b);
		}
		cond_resched();
	}
}

int xtcp_tw_net_init(struct xtcp_net *xn)
{
	int cpu, err;

	atomic_set(&xn->tw_count, 0);
	xn->tw_cpus = alloc_percpu(struct xtcp_tw_cpu);
	if (!xn->tw_cpus)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct xtcp_tw_cpu *c = per_cpu_ptr(xn->tw_cpus, cpu);

		spin_lock_init(&c->lock);
		INIT_LIST_HEAD(&c->active);
		INIT_LIST_HEAD(&c->free);
		c->xn = xn;
	}
	err = rhashtable_init(&xn->twhash, &xtcp_tw_params);
	if (err)
		free_percpu(xn->tw_cpus);
	return err;
}

/*
 * Namespace exit: kill every entry of the namespace, then stop its
 * buckets. Reapers that won an entry's dead bit first may still be
 * unhashing it on another CPU; the count reaches zero once they are done
 * with the tables, and stopping the buckets waits for their callbacks.
 */
void xtcp_tw_net_exit(struct xtcp_net *xn)
{
	struct rhashtable_iter iter;
	struct xtcp_tw *tw;

	rhashtable_walk_enter(&xn->twhash, &iter);
	do {
		rhashtable_walk_start(&iter);
		while ((tw = rhashtable_walk_next(&iter)) && !IS_ERR(tw))
			xtcp_tw_kill(xn, tw, false, XTCP_MIB_MAX);
		rhashtable_walk_stop(&iter);
	} while (tw == ERR_PTR(-EAGAIN));
	rhashtable_walk_exit(&iter);

	while (atomic_read(&xn->tw_count))
		schedule_timeout_uninterruptible(1);
	rhashtable_destroy(&xn->twhash);
	xtcp_tw_stop_buckets(xn);
	free_percpu(xn->tw_cpus);
}

/*
 * No constructor: with one, SLUB would keep its free-list pointer after
 * the object (8 bytes more per entry) instead of inside it. The cache may
 * then be merged with another of its size; /proc/net/xtcp_sockstat's tw
 * counts the entries either way.
 */
int xtcp_tw_init(void)
{
	xtcp_tw_cache = kmem_cache_create("xtcp_tw", sizeof(struct xtcp_tw),
					  0, 0, NULL);
	return xtcp_tw_cache ? 0 : -ENOMEM;
}

/*
 * Module exit, after every namespace is gone with its buckets: every
 * entry is dead and waits for its grace period at most.
 */
void xtcp_tw_exit(void)
{
	rcu_barrier();
	WARN_ONCE(atomic_long_read(&xtcp_tw_allocated),
		  "xtcp: %ld TIME_WAIT entries outlived their namespace\n",
		  atomic_long_read(&xtcp_tw_allocated));
	kmem_cache_destroy(xtcp_tw_cache);
}
