// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: building and sending segments.
 *
 * Everything that consumes sequence space (SYN, data, FIN) is queued on
 * sk->sk_write_queue in sequence order; when an skb first leaves it moves
 * to the retransmission queue, the rb-tree xs->rtx_queue keyed by
 * sequence (as Linux TCP's tcp_rtx_queue), and stays there until
 * acknowledged: loss recovery finds a sequence number in it in O(log n).
 * A transmission sends a
 * clone (or a copy while an earlier clone is still in flight, since both
 * would write their header into the same headroom) through the IPv4
 * output path with the socket's route. Pure ACKs and RSTs are built on the
 * spot and not queued.
 *
 * The checksum covers the IPv4 pseudo-header with xtcp's protocol
 * number. Only a device that can checksum anything (NETIF_F_HW_CSUM:
 * loopback, veth, virtio-net, e1000, ...) gets a segment with
 * CHECKSUM_PARTIAL, and loopback and veth then skip it altogether. A
 * device that can only checksum TCP and UDP (NETIF_F_IP_CSUM: 8139cp,
 * many real NICs) would take ours for one, since the core lets any
 * checksum at offset 16 through (skb_csum_hwoffload_help()), and send it
 * wrong or WARN: such a device, and any other, gets the checksum computed
 * here. A GSO skb stays CHECKSUM_PARTIAL; offload.c completes its
 * segments for such a device. Socketless replies are checksummed here.
 */
#include <linux/kernel.h>
#include <linux/prandom.h>
#include <linux/skbuff.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/tcp.h>

#include "xtcp.h"
#include "trace.h"

u32 xtcp_clock_ms(void)
{
	return div_u64(ktime_get_ns(), NSEC_PER_MSEC);
}

static u32 xtcp_tsval(const struct xtcp_sock *xs)
{
	return xtcp_clock_ms() + xs->ts_offset;
}

/* Free a write queue skb and return its memory to the send buffer. */
void xtcp_free_skb(struct sock *sk, struct sk_buff *skb)
{
	xtcp_wmem_charge(sk, -skb->truesize);
	__kfree_skb(skb);
}

/* Queue a sent @skb in the retransmission queue, by sequence. */
void xtcp_rtx_insert(struct sock *sk, struct sk_buff *skb)
{
	struct rb_root *root = &xtcp_sk(sk)->rtx_queue;
	struct rb_node **p = &root->rb_node, *parent = NULL;
	u32 seq = XTCP_SKB_CB(skb)->seq;

	while (*p) {
		parent = *p;
		if (before(seq, XTCP_SKB_CB(rb_to_skb(parent))->seq))
			p = &parent->rb_left;
		else
			p = &parent->rb_right;
	}
	rb_link_node(&skb->rbnode, parent, p);
	rb_insert_color(&skb->rbnode, root);
}

void xtcp_rtx_unlink(struct sock *sk, struct sk_buff *skb)
{
	list_del(&XTCP_SKB_CB(skb)->tsorted);
	rb_erase(&skb->rbnode, &xtcp_sk(sk)->rtx_queue);
	/* The node shares its room with ->next, ->prev and ->dev. */
	memset(&skb->rbnode, 0, sizeof(skb->rbnode));
}

/*
 * In an rb-tree of skbs by sequence whose ends rise with their starts
 * (the retransmission queue, the out-of-order queue): the first skb that
 * ends after @seq (holds it, if any does), or NULL.
 */
struct sk_buff *xtcp_rb_find(const struct rb_root *root, u32 seq)
{
	struct rb_node *p = root->rb_node;
	struct sk_buff *found = NULL;

	while (p) {
		struct sk_buff *skb = rb_to_skb(p);

		if (after(XTCP_SKB_CB(skb)->end_seq, seq)) {
			found = skb;
			p = p->rb_left;
		} else {
			p = p->rb_right;
		}
	}
	return found;
}

/*
 * The window a SYN or SYN-ACK offers (tcp_select_initial_window()): the
 * space the receive buffer leaves for the window, in whole segments of
 * @mss (the peer's payload: our MSS less the timestamps it will carry),
 * at most 65535 and TCP_WINDOW_CLAMP. window_clamp becomes the largest
 * window the scale can say; rcv_ssthresh starts at the offer.
 */
void xtcp_select_initial_window(struct sock *sk, u32 mss)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int shift = xs->rx_opt.wscale_ok ? xs->rx_opt.rcv_wscale : 0;
	u32 space = max(xtcp_full_space(sk), 0);

	/* A fixed buffer fixes the window too (tcp_connect_init()). */
	if ((sk->sk_userlocks & SOCK_RCVBUF_LOCK) &&
	    (xs->window_clamp > space || !xs->window_clamp))
		xs->window_clamp = space;
	if (!xs->window_clamp)
		xs->window_clamp = U16_MAX << TCP_MAX_WSCALE;
	space = min(xs->window_clamp, space);
	if (mss && space > mss)
		space = rounddown(space, mss);
	xs->rcv_wnd = min_t(u32, space, U16_MAX);
	xs->rcv_ssthresh = xs->rcv_wnd;
	xs->window_clamp = min_t(u32, U16_MAX << shift, xs->window_clamp);
}

/*
 * The window the receive buffer allows now, in bytes (__tcp_select_window()):
 * the free buffer's worth, at most rcv_ssthresh. Receiver silly-window
 * avoidance (RFC 1122 4.2.3.3): once less than half the buffer is free,
 * a window smaller than a segment or a sixteenth of the buffer is offered
 * as zero, and quick ACKs stop; without window scaling the window moves
 * in whole segments. Nothing is changed but that: the ACK check asks it
 * too, whether an ACK would move the right edge.
 */
u32 __xtcp_select_window(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int shift = xs->rx_opt.wscale_ok ? xs->rx_opt.rcv_wscale : 0;
	int mss = xs->rcv_mss ? : min_t(int, xs->advmss, XTCP_DEFAULT_MSS);
	int free_space = xtcp_space(sk);
	int allowed_space = xtcp_full_space(sk);
	int full_space = allowed_space;
	int window;

	if (xs->window_clamp)
		full_space = min_t(u32, xs->window_clamp, allowed_space);
	if (mss > full_space) {
		mss = full_space;
		if (mss <= 0)
			return 0;
	}
	if (free_space < (full_space >> 1)) {
		xs->quickack = 0;
		/* So that the scale does not round it up. */
		free_space = round_down(free_space, 1 << shift);
		if (free_space < (allowed_space >> 4) || free_space < mss)
			return 0;
	}
	if (free_space > xs->rcv_ssthresh)
		free_space = xs->rcv_ssthresh;
	if (shift)
		return ALIGN(free_space, 1 << shift);
	/* Keep the offer while it is within a segment of the free space. */
	window = xs->rcv_wnd;
	if (window <= free_space - mss || window > free_space)
		window = rounddown(free_space, mss);
	else if (mss == full_space && free_space > window + (full_space >> 1))
		window = free_space;
	return window;
}

/*
 * The receive window to advertise, already shifted by our scale
 * (tcp_select_window()): never less than what is still open of the last
 * advertisement, so the right edge never moves left (RFC 9293 3.8.6).
 */
u16 xtcp_select_window(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int shift = xs->rx_opt.wscale_ok ? xs->rx_opt.rcv_wscale : 0;
	u32 cur = xs->rcv_wup + xs->rcv_wnd - xs->rcv_nxt;
	u32 win = __xtcp_select_window(sk);

	if ((s32)cur < 0)
		cur = 0;
	if (win < cur)
		win = ALIGN(cur, 1U << shift);
	xs->rcv_wnd = win;
	xs->rcv_wup = xs->rcv_nxt;
	return min_t(u32, win, 65535U << shift) >> shift;
}

/*
 * Payload per segment for a path MTU of @pmtu. Whatever the peer's MSS
 * option and the path MTU say, a segment keeps room for min_snd_mss bytes
 * of options and payload (__tcp_mtu_to_mss()); the timestamps come off
 * that.
 */
void xtcp_sync_mss(struct sock *sk, u32 pmtu)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int mss = pmtu - sizeof(struct iphdr) - sizeof(struct tcphdr);
	struct ip_options_rcu *opt;
	u32 cutoff;

	mss = min_t(int, mss, xs->rx_opt.mss ? : XTCP_DEFAULT_MSS);
	if (xs->user_mss)
		mss = min_t(int, mss, xs->user_mss);
	rcu_read_lock();
	opt = rcu_dereference(inet_sk(sk)->inet_opt);
	if (opt)
		mss -= opt->opt.optlen;
	rcu_read_unlock();
	mss = max(mss, xtcp_knob(sock_net(sk), XTCP_KNOB_min_snd_mss));
	if (xs->rx_opt.tstamp_ok)
		mss -= TCPOLEN_TSTAMP_ALIGNED;
	/*
	 * Never more than half the largest window the peer offered
	 * (tcp_bound_to_half_wnd()): with a window hardly bigger than a
	 * segment (loopback's 64 KB MSS), a full segment would wait for the
	 * whole window to open, one in flight at a time.
	 */
	cutoff = xs->max_window > TCP_MSS_DEFAULT ? xs->max_window >> 1 :
						      xs->max_window;
	if (cutoff && mss > cutoff)
		mss = max_t(int, cutoff, 68 - sizeof(struct tcphdr) -
			    (xs->rx_opt.tstamp_ok ? TCPOLEN_TSTAMP_ALIGNED : 0));
	xs->pmtu_cookie = pmtu;
	xs->mss_cache = mss;
}

/*
 * The peer offers a larger window than ever before: segments may grow
 * with it (tcp_ack_update_window()).
 */
void xtcp_max_window_update(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->snd_wnd <= xs->max_window)
		return;
	xs->max_window = xs->snd_wnd;
	xtcp_sync_mss(sk, xs->pmtu_cookie);
}

u32 xtcp_current_mss(struct sock *sk)
{
	return xtcp_sk(sk)->mss_cache;
}

/* Build the header in front of @skb's payload and hand it to IPv4. */
/* Can the device of the socket's route checksum any protocol? */
static bool xtcp_dev_hw_csum(struct sock *sk)
{
	const struct dst_entry *dst = __sk_dst_get(sk);

	return dst && dst->dev && (dst->dev->features & NETIF_F_HW_CSUM);
}

/*
 * ECN on an outgoing segment (tcp_ecn_send()): new data leaves ECT(0),
 * with CWR once after a reduction; pure ACKs and retransmissions leave
 * Not-ECT (RFC 3168 6.1.5, 6.1.6); every segment carries ECE while the
 * peer must hear of a CE mark. The socket's TOS takes the ECN field to
 * IPv4, as INET_ECN_xmit() does for TCP.
 */
static u8 xtcp_ecn_send(struct sock *sk, u32 len, u32 seq, u8 flags)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!(xs->ecn_flags & XTCP_ECN_OK) || (flags & TCPHDR_SYN))
		return flags;
	if (len && !before(seq, xs->snd_nxt)) {
		INET_ECN_xmit(sk);
		if (xs->ecn_flags & XTCP_ECN_QUEUE_CWR) {
			xs->ecn_flags &= ~XTCP_ECN_QUEUE_CWR;
			flags |= TCPHDR_CWR;
		}
	} else {
		INET_ECN_dontxmit(sk);
	}
	if (xs->ecn_flags & XTCP_ECN_DEMAND_CWR)
		flags |= TCPHDR_ECE;
	return flags;
}

static int xtcp_xmit(struct sock *sk, struct sk_buff *skb, u32 seq, u8 flags)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_sack_block sacks[XTCP_MAX_SACKS];
	unsigned int optlen, hlen, len = skb->len;
	u16 segs = skb_shinfo(skb)->gso_segs ? : 1;
	struct tcphdr *th;
	int nsacks = 0;
	int err;

	if ((flags & TCPHDR_ACK) && !(flags & TCPHDR_SYN))
		nsacks = xtcp_sack_blocks(sk, sacks, XTCP_MAX_SACKS);
	if (nsacks && len) {
		/*
		 * The MSS left no room for SACK blocks next to a full
		 * payload: only what fits in the path MTU rides along (the
		 * pure ACKs carry them all). A bigger packet would be dropped
		 * with fragmentation needed, over and over.
		 */
		int room = (int)xs->mss_cache - (int)len -
			   TCPOLEN_SACK_BASE_ALIGNED;

		nsacks = room < TCPOLEN_SACK_PERBLOCK ? 0 :
			 min_t(int, nsacks, room / TCPOLEN_SACK_PERBLOCK);
	}
	optlen = xtcp_options_size(xs, flags, sacks, nsacks);
	hlen = sizeof(struct tcphdr) + optlen;

	flags = xtcp_ecn_send(sk, len, seq, flags);
	th = skb_push(skb, hlen);
	skb_reset_transport_header(skb);
	memset(th, 0, sizeof(*th));
	th->source = inet->inet_sport;
	th->dest = inet->inet_dport;
	th->seq = htonl(seq);
	th->doff = hlen >> 2;
	tcp_flag_byte(th) = flags;
	if (flags & TCPHDR_ACK)
		th->ack_seq = htonl(xs->rcv_nxt);
	if (flags & TCPHDR_SYN)
		th->window = htons(min_t(u32, xs->rcv_wnd, 65535U));
	else
		th->window = htons(xtcp_select_window(sk));
	xtcp_write_options((__be32 *)(th + 1), xs, flags, xtcp_tsval(xs),
			   sacks, nsacks);

	if (skb_is_gso(skb) || xtcp_dev_hw_csum(sk)) {
		th->check = ~csum_tcpudp_magic(inet->inet_saddr,
					       inet->inet_daddr, skb->len,
					       xtcp_ipproto, 0);
		skb->ip_summed = CHECKSUM_PARTIAL;
		skb->csum_start = skb_transport_header(skb) - skb->head;
		skb->csum_offset = offsetof(struct tcphdr, check);
	} else {
		th->check = csum_tcpudp_magic(inet->inet_saddr,
					      inet->inet_daddr, skb->len,
					      xtcp_ipproto,
					      skb_checksum(skb, 0, skb->len, 0));
		skb->ip_summed = CHECKSUM_NONE;
	}

	skb_set_owner_w(skb, sk);
	skb->protocol = htons(ETH_P_IP);
	skb->priority = sk->sk_priority;
	skb->mark = sk->sk_mark;

	if (flags & TCPHDR_ACK) {
		xs->rcv_wup = xs->rcv_nxt;
		xs->ack_pushed = 0;
		if (xs->dsack_pending && nsacks) {
			xs->dsack_pending = false;
			XTCP_INC_STATS(sock_net(sk), XTCP_MIB_DSACKSENT);
		}
		xtcp_timer_delack_cancel(sk);
	}
	xs->segs_out += segs;
	if (len) {
		/* Nothing in flight: sending starts again (CA_EVENT_TX_START). */
		if (!xtcp_packets_in_flight(xs) && xs->cc->tx_start)
			xs->cc->tx_start(sk);
		xs->data_segs_out += segs;
		xs->last_data_sent = jiffies;
		/*
		 * An answer within an ACK delay of the peer's last data:
		 * interactive (tcp_event_data_sent(); ato is delack_ms).
		 */
		if (xs->data_segs_in &&
		    time_before(jiffies, xs->last_data_recv +
				msecs_to_jiffies(xtcp_knob(sock_net(sk),
							   XTCP_KNOB_delack_ms))))
			xs->pingpong = true;
	}
	XTCP_ADD_STATS(sock_net(sk), XTCP_MIB_OUTSEGS, segs);
	if (flags & TCPHDR_RST) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_OUTRSTS);
		trace_xtcp_send_reset(sk, skb, NULL, NULL);
	}

	err = ip_queue_xmit(sk, skb, &inet->cork.fl);
	return net_xmit_eval(err);
}

/*
 * Send a queued skb (SYN, SYN-ACK, data or FIN). The queue keeps the
 * original; what leaves is a clone, or a private copy if the previous
 * clone has not left the host yet.
 */
int xtcp_transmit_skb(struct sock *sk, struct sk_buff *oskb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(oskb);
	struct sk_buff *skb;
	u8 flags = cb->tcp_flags;

	if (skb_cloned(oskb))
		skb = pskb_copy(oskb, GFP_ATOMIC);
	else
		skb = skb_clone(oskb, GFP_ATOMIC);
	if (!skb)
		return -ENOBUFS;
	cb->when = jiffies;
	if (xtcp_sk(sk)->ca_state == XTCP_CA_RECOVERY ||
	    xtcp_sk(sk)->ca_state == XTCP_CA_CWR)
		xtcp_sk(sk)->prr_out += xtcp_skb_pcount(oskb);
	/* RACK's clock (rack.c) is the original's; the clone leaves bare. */
	oskb->tstamp = xtcp_sk(sk)->xmit_clock ? : ktime_get_ns();
	skb->tstamp = 0;
	/* Sent before: it goes to the end of RACK's list in sending order. */
	if (before(cb->seq, xtcp_sk(sk)->snd_nxt))
		list_move_tail(&cb->tsorted, &xtcp_sk(sk)->tsorted);
	/* Our list link is no IPv4 control block. */
	memset(IPCB(skb), 0, sizeof(struct inet_skb_parm));
	/* The original's rb-tree node shares its room with ->dev. */
	skb->dev = NULL;
	/* Everything but the very first SYN acknowledges. */
	if (sk->sk_state != TCP_SYN_SENT)
		flags |= TCPHDR_ACK;
	/*
	 * A GSO packet ends with PSH, so that the receiver's GRO flushes it
	 * (__tcp_transmit_skb()); a single segment keeps what it had.
	 */
	if (xtcp_skb_pcount(oskb) > 1 && !(flags & TCPHDR_SYN))
		flags |= TCPHDR_PSH;
	return xtcp_xmit(sk, skb, cb->seq, flags);
}

/* An skb with no payload, for a control segment. */
static struct sk_buff *xtcp_alloc_ctl_skb(struct sock *sk, gfp_t gfp)
{
	struct sk_buff *skb = alloc_skb(XTCP_MAX_HEADER, gfp);

	if (skb)
		skb_reserve(skb, XTCP_MAX_HEADER);
	return skb;
}

/* Queue a SYN, SYN-ACK or FIN-only skb at the tail of the write queue. */
static int xtcp_queue_ctl(struct sock *sk, u8 flags, gfp_t gfp)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = xtcp_alloc_ctl_skb(sk, gfp);

	if (!skb)
		return -ENOBUFS;
	XTCP_SKB_CB(skb)->seq = xs->write_seq;
	XTCP_SKB_CB(skb)->end_seq = xs->write_seq + 1;
	XTCP_SKB_CB(skb)->tcp_flags = flags;
	XTCP_SKB_CB(skb)->retransmitted = 0;
	xs->write_seq++;
	xtcp_wmem_charge(sk, skb->truesize);
	__skb_queue_tail(&sk->sk_write_queue, skb);
	return 0;
}

/*
 * Segments of one MSS for @skb's payload (one for none), and the GSO
 * fields that have the IPv4 layer or the device cut it so. Only for an
 * skb no clone shares (the fields live in the shared info).
 */
static void xtcp_set_pcount(struct sk_buff *skb, u32 mss)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);

	if (skb->len <= mss) {
		XTCP_SKB_CB(skb)->pcount = 1;
		shinfo->gso_size = 0;
		shinfo->gso_segs = 0;
		shinfo->gso_type = 0;
		return;
	}
	XTCP_SKB_CB(skb)->pcount = DIV_ROUND_UP(skb->len, mss);
	shinfo->gso_size = mss;
	shinfo->gso_segs = XTCP_SKB_CB(skb)->pcount;
	shinfo->gso_type = SKB_GSO_SCTP;	/* see offload.c */
}

/* The segment size @skb was sent with: its own MSS (tcp_skb_mss()). */
u32 xtcp_skb_mss(struct sock *sk, const struct sk_buff *skb)
{
	return skb_shinfo(skb)->gso_size ? : xtcp_current_mss(sk);
}

/*
 * Re-count a sent skb for a new MSS (path MTU went down), keeping the
 * scoreboard in step.
 */
static int xtcp_repcount(struct sock *sk, struct sk_buff *skb, u32 mss)
{
	unsigned int old = skb->truesize;
	u32 pcount = xtcp_skb_pcount(skb);

	if (skb_unclone(skb, GFP_ATOMIC))
		return -ENOMEM;
	xtcp_wmem_charge(sk, skb->truesize - old);
	xtcp_set_pcount(skb, mss);
	xtcp_adjust_pcount(xtcp_sk(sk), skb, xtcp_skb_pcount(skb) - pcount);
	return 0;
}

/*
 * May a sent @skb be split? Not once the write queue takes more than
 * twice the send buffer and two 64 KB skbs, unless it is the first or
 * the last sent skb and the split is for loss recovery or a tail loss
 * probe (@ends_ok), which must be able to cut them: a peer that SACKs
 * every other small range would make each 64 KB skb into a thousand
 * (CVE-2019-11478). The cap of Linux TCP's tcp_fragment(), which lets
 * SACK tagging cut the first and last skb too: xtcp does not, so that
 * the bound holds however large the last sent skb is (Linux's holds as
 * its skbs are small, tcp_tso_autosize()). Unsent skbs are cut only to
 * send them.
 */
static bool xtcp_fragment_ok(struct sock *sk, const struct sk_buff *skb,
			     bool ends_ok)
{
	long limit = READ_ONCE(sk->sk_sndbuf) +
		     2 * SKB_TRUESIZE(GSO_LEGACY_MAX_SIZE);

	if (likely((sk->sk_wmem_queued >> 1) <= limit) ||
	    (ends_ok && (skb == xtcp_rtx_head(sk) || skb == xtcp_rtx_tail(sk))))
		return true;
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_WQUEUETOOBIG);
	return false;
}

/*
 * Split @skb of the write or retransmission queue after @len bytes of
 * payload, into segments of @mss; the second part follows it in its queue
 * and inherits
 * its marks. A FIN or PSH goes with the second part. -ENOMEM if memory
 * or the cap on the write queue (xtcp_fragment_ok()) says no; @sack: the
 * split is for SACK tagging.
 */
int __xtcp_fragment(struct sock *sk, struct sk_buff *skb, u32 len, u32 mss,
		    bool sack)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb), *ncb;
	/* Sent, in the retransmission queue: it starts below snd_nxt. */
	bool sent = before(cb->seq, xs->snd_nxt);
	u32 nlen = skb->len - len, pcount = xtcp_skb_pcount(skb);
	unsigned int old = skb->truesize;
	struct sk_buff *buff;

	if (!len || len >= skb->len)
		return -EINVAL;
	if (sent && !xtcp_fragment_ok(sk, skb, !sack))
		return -ENOMEM;
	if (skb_unclone(skb, GFP_ATOMIC))
		return -ENOMEM;
	buff = xtcp_alloc_ctl_skb(sk, GFP_ATOMIC);
	if (!buff) {
		xtcp_wmem_charge(sk, skb->truesize - old);
		return -ENOMEM;
	}
	skb_split(skb, buff, len);
	skb->truesize -= nlen;
	buff->truesize += nlen;
	xtcp_wmem_charge(sk, skb->truesize + buff->truesize - old);

	ncb = XTCP_SKB_CB(buff);
	*ncb = *cb;
	/* Sent as one: the second part left right after the first. */
	if (sent && !list_empty(&cb->tsorted))
		list_add(&ncb->tsorted, &cb->tsorted);
	else if (sent)
		INIT_LIST_HEAD(&ncb->tsorted);
	buff->tstamp = skb->tstamp;
	ncb->seq = cb->seq + len;
	cb->end_seq = ncb->seq;
	cb->tcp_flags &= ~(TCPHDR_FIN | TCPHDR_PSH);
	if (sent)
		xtcp_rtx_insert(sk, buff);
	else
		__skb_queue_after(&sk->sk_write_queue, skb, buff);
	xtcp_set_pcount(skb, mss);
	xtcp_set_pcount(buff, mss);
	if (sent) {
		/* Both halves carry the marks the whole one had. */
		xs->packets_out += xtcp_skb_pcount(buff);
		xs->sacked_out += ncb->sacked * xtcp_skb_pcount(buff);
		xs->lost_out += ncb->lost * xtcp_skb_pcount(buff);
		xs->retrans_out += ncb->retrans * xtcp_skb_pcount(buff);
		xtcp_adjust_pcount(xs, skb, xtcp_skb_pcount(skb) - pcount);
	}
	return 0;
}

/*
 * The first @len bytes of a sent skb are acknowledged: drop them from its
 * page fragments (write queue skbs carry no payload in the head) and count
 * it again. As tcp_trim_head(), without a new skb.
 */
int xtcp_trim_head(struct sock *sk, struct sk_buff *skb, u32 len)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	u32 mss = xtcp_skb_mss(sk, skb), pcount = xtcp_skb_pcount(skb);
	unsigned int old = skb->truesize, eat = len;
	struct skb_shared_info *shinfo;
	int i, k = 0;

	if (!len || len >= skb->len || skb_headlen(skb))
		return -EINVAL;
	if (skb_unclone(skb, GFP_ATOMIC))
		return -ENOMEM;
	shinfo = skb_shinfo(skb);
	for (i = 0; i < shinfo->nr_frags; i++) {
		skb_frag_t *frag = &shinfo->frags[i];
		unsigned int size = skb_frag_size(frag);

		if (size <= eat) {
			skb_frag_unref(skb, i);
			eat -= size;
			continue;
		}
		shinfo->frags[k] = *frag;
		if (eat) {
			skb_frag_off_add(&shinfo->frags[k], eat);
			skb_frag_size_sub(&shinfo->frags[k], eat);
			eat = 0;
		}
		k++;
	}
	shinfo->nr_frags = k;
	skb->len -= len;
	skb->data_len -= len;
	skb->truesize -= len;
	xtcp_wmem_charge(sk, skb->truesize - old);
	cb->seq += len;
	xtcp_set_pcount(skb, mss);
	xtcp_adjust_pcount(xtcp_sk(sk), skb, xtcp_skb_pcount(skb) - pcount);
	return 0;
}

/*
 * How much user data one skb of the write queue should take: as many
 * segments as one GSO packet of the route carries (64 KB), but not more
 * than half the largest window the peer offered (tcp_xmit_size_goal()).
 */
u32 xtcp_size_goal(struct sock *sk, u32 mss)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 goal, segs;

	if (!sk_can_gso(sk) || sk->sk_gso_max_segs < 2)
		return mss;
	goal = sk->sk_gso_max_size;
	if (xs->max_window)
		goal = min(goal, max(xs->max_window / 2, mss));
	segs = clamp_t(u32, goal / mss, 1, sk->sk_gso_max_segs);
	return segs * mss;
}

/*
 * sk_stream_memory_free() beyond the send buffer (proto
 * ->stream_memory_free): fewer unsent bytes than TCP_NOTSENT_LOWAT or
 * the knob. @wake (poll, write_space) asks for twice as few, so that a
 * writer woken can queue a good amount (tcp_stream_memory_free()).
 */
bool xtcp_stream_memory_free(const struct sock *sk, int wake)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 notsent = READ_ONCE(xs->write_seq) - READ_ONCE(xs->snd_nxt);
	u32 lowat = READ_ONCE(xs->notsent_lowat) ? :
		    xtcp_knob(sock_net(sk), XTCP_KNOB_notsent_lowat);

	return ((u64)notsent << wake) < lowat;
}

/*
 * The rate the connection should keep to, as tcp_update_pacing_rate():
 * twice cwnd per SRTT in slow start (below half ssthresh), 1.2 times
 * after. A qdisc that paces (fq) follows sk_pacing_rate; the size of
 * what leaves at once follows it too (xtcp_tso_segs()). Called after
 * every ACK and when the connection is established.
 */
void xtcp_update_pacing_rate(struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u64 rate = (u64)xtcp_current_mss(sk) * ((USEC_PER_SEC / 100) << 3);
	u32 srtt_us = xs->srtt_us;	/* << 3 */

	if (xs->snd_cwnd < xs->snd_ssthresh / 2)
		rate *= XTCP_PACING_SS_RATIO;
	else
		rate *= XTCP_PACING_CA_RATIO;
	rate *= max(xs->snd_cwnd, xs->packets_out);
	if (likely(srtt_us))
		rate = div_u64(rate, srtt_us);
	WRITE_ONCE(sk->sk_pacing_rate,
		   min_t(u64, rate, READ_ONCE(sk->sk_max_pacing_rate)));
}

/*
 * Segments one skb takes when it leaves, as tcp_tso_autosize(): about a
 * millisecond of the pacing rate (sk_pacing_shift), plus a share of a
 * GSO packet that shrinks as the smallest RTT grows (64 KB below 512 us),
 * at least two. Unlike filling whole GSO packets, this keeps the sent
 * skbs, and so what SACKs of a tiny MSS can make of the tail of the
 * retransmission queue, as small as Linux TCP's.
 */
u32 xtcp_tso_segs(struct sock *sk, u32 mss)
{
	unsigned long bytes = READ_ONCE(sk->sk_pacing_rate) >>
			      READ_ONCE(sk->sk_pacing_shift);
	u32 r = (xtcp_sk(sk)->rtt_min ? : ~0U) >> XTCP_TSO_RTT_LOG;

	if (r < BITS_PER_TYPE(sk->sk_gso_max_size))
		bytes += sk->sk_gso_max_size >> r;
	bytes = min_t(unsigned long, bytes, sk->sk_gso_max_size);
	return min_t(u32, max_t(u32, bytes / mss, XTCP_MIN_TSO_SEGS),
		     sk->sk_gso_max_segs);
}

/*
 * Nagle (RFC 896, with Minshall's change as in Linux TCP): a segment
 * shorter than the MSS waits while an earlier short one is unacknowledged,
 * unless TCP_NODELAY; it always waits under TCP_CORK or MSG_MORE, until
 * the cork comes off (or the persist timer pushes it, as TCP's 200 ms
 * ceiling).
 */
static bool xtcp_nagle_ok(const struct xtcp_sock *xs, const struct sk_buff *skb,
			  u32 len, u32 mss, int nonagle)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	if ((nonagle & XTCP_NAGLE_PUSH) || len >= mss ||
	    (cb->tcp_flags & (TCPHDR_SYN | TCPHDR_FIN)))
		return true;
	if (nonagle & XTCP_NAGLE_CORK)
		return false;
	if (nonagle & XTCP_NAGLE_OFF)
		return true;
	return !after(xs->snd_sml, xs->snd_una);
}

/*
 * May the unsent @skb leave now, and how much of it (@limit bytes, in
 * whole segments)? What the congestion window has room for and what the
 * peer's window takes; nothing if not even its first segment fits. A
 * short last segment that Nagle holds back stays behind
 * (tcp_mss_split_point()).
 */
static bool xtcp_send_limit(struct sock *sk, struct sk_buff *skb, u32 mss,
			    int nonagle, u32 *limit)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	u32 in_flight = xtcp_packets_in_flight(xs);
	u32 wnd_end = xs->snd_una + xs->snd_wnd;

	if (in_flight >= xs->snd_cwnd)
		return false;
	*limit = skb->len;
	if (skb->len <= mss)
		return !after(cb->end_seq, wnd_end);
	if (after(cb->seq + mss, wnd_end))
		return false;
	/*
	 * A cwnd of a million segments times the MSS overflows 32 bits.
	 * What leaves at once is what the pacing rate gives (tcp_write_xmit()).
	 */
	*limit = min_t(u64, (u64)min(xs->snd_cwnd - in_flight,
				     xtcp_tso_segs(sk, mss)) * mss,
		       rounddown(wnd_end - cb->seq, mss));
	if (skb->len % mss && skb_queue_is_last(&sk->sk_write_queue, skb) &&
	    !xtcp_nagle_ok(xs, skb, skb->len % mss, mss, nonagle))
		*limit = min(*limit, rounddown(skb->len, mss));
	return true;
}

/*
 * Send the unsent @skb, the head of the write queue, as it is now; it
 * moves to the retransmission queue.
 */
static int xtcp_xmit_new(struct sock *sk, struct sk_buff *skb, u32 mss)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	xtcp_set_pcount(skb, mss);
	if (xtcp_transmit_skb(sk, skb) == -ENOBUFS)
		return -ENOBUFS;
	list_add_tail(&cb->tsorted, &xs->tsorted);
	xs->snd_nxt = cb->end_seq;
	xs->packets_out += xtcp_skb_pcount(skb);
	xs->bytes_sent += skb->len;
	if (skb->len < xtcp_skb_pcount(skb) * mss)
		xs->snd_sml = cb->end_seq;
	__skb_unlink(skb, &sk->sk_write_queue);
	xtcp_rtx_insert(sk, skb);
	xtcp_timer_on_send(sk);
	return 0;
}

/*
 * A tail loss probe (rack.c): one new segment from the write queue if the
 * peer's window takes it, whatever cwnd says.
 */
bool xtcp_send_new_segment(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = xtcp_send_head(sk);
	u32 mss = xtcp_current_mss(sk);

	if (!skb || after(XTCP_SKB_CB(skb)->seq + min(skb->len, mss),
			  xs->snd_una + xs->snd_wnd))
		return false;
	if (skb->len > mss && xtcp_fragment(sk, skb, mss, mss))
		return false;
	return !xtcp_xmit_new(sk, skb, mss);
}

/*
 * Send what cwnd, the peer's window and Nagle allow of the write queue,
 * in skbs of several segments that GSO cuts up (offload.c). If the window
 * stops everything with nothing in flight, the retransmission timer
 * doubles as the persist timer and probes the window (timers.c); after
 * new data, it is a tail loss probe first (rack.c).
 */
void __xtcp_push_pending(struct sock *sk, int nonagle)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mss = xtcp_current_mss(sk);
	u64 clock = xtcp_xmit_clock_start(xs);
	struct sk_buff *skb;
	bool sent = false;

	while ((skb = xtcp_send_head(sk))) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (!(cb->tcp_flags & TCPHDR_SYN)) {
			u32 limit;

			if (!xtcp_send_limit(sk, skb, mss, nonagle, &limit))
				break;
			if (skb->len > limit &&
			    xtcp_fragment(sk, skb, limit, mss))
				break;
			if (!xtcp_nagle_ok(xs, skb, skb->len, mss, nonagle))
				break;
		}
		if (xtcp_xmit_new(sk, skb, mss))
			break;
		sent = true;
	}
	xs->xmit_clock = clock;
	if (xtcp_packets_in_flight(xs) >= xs->snd_cwnd)
		xtcp_cwnd_validate(sk, true);
	else if (sent)
		xtcp_cwnd_validate(sk, false);
	if (xtcp_send_head(sk) && xs->snd_una == xs->snd_nxt)
		xtcp_timer_on_send(sk);
	if (sent)
		xtcp_tlp_schedule(sk);
}

void xtcp_push_pending(struct sock *sk)
{
	__xtcp_push_pending(sk, xtcp_sk(sk)->nonagle);
}

/*
 * A short segment going out again takes the short ones behind it along
 * while all of them fit in one segment and in the peer's window, as
 * Linux's tcp_retrans_try_collapse(): each a single segment, none SACKed
 * nor still in the host. Their page fragments move over, the FIN with
 * the last; PSH and the FIN go with the flags.
 */
static void xtcp_retrans_collapse(struct sock *sk, struct sk_buff *skb,
				  u32 space)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb), *ncb;
	struct sk_buff *next;

	if ((cb->tcp_flags & (TCPHDR_SYN | TCPHDR_FIN)) || cb->sacked ||
	    cb->pcount > 1 || skb_cloned(skb) || skb_headlen(skb))
		return;
	while ((next = skb_rb_next(skb))) {
		struct skb_shared_info *to = skb_shinfo(skb);
		struct skb_shared_info *from = skb_shinfo(next);
		int i;

		ncb = XTCP_SKB_CB(next);
		if (ncb->sacked || ncb->pcount > 1 || skb_cloned(next) ||
		    skb_headlen(next) || next->len > space - skb->len ||
		    after(ncb->end_seq, xs->snd_una + xs->snd_wnd) ||
		    to->nr_frags + from->nr_frags > MAX_SKB_FRAGS)
			return;
		/* The page references move with the fragments. */
		for (i = 0; i < from->nr_frags; i++)
			to->frags[to->nr_frags++] = from->frags[i];
		from->nr_frags = 0;
		skb->len += next->len;
		skb->data_len += next->len;
		skb->truesize += next->len;
		next->truesize -= next->len;
		next->len = 0;
		next->data_len = 0;
		cb->end_seq = ncb->end_seq;
		cb->tcp_flags |= ncb->tcp_flags;
		cb->retransmitted |= ncb->retransmitted;
		xtcp_skb_unaccount(xs, next);
		xtcp_rtx_unlink(sk, next);
		xtcp_free_skb(sk, next);
		if (cb->tcp_flags & TCPHDR_FIN)
			return;
	}
}

/*
 * Send a sent skb again, at most @segs segments of the current MSS of it;
 * the rest stays behind as an skb of its own. -ENOMEM, and nothing sent,
 * if it could not be cut.
 */
int xtcp_retransmit_skb(struct sock *sk, struct sk_buff *skb, u32 segs)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mss = xtcp_current_mss(sk);

	if (skb->len > segs * mss) {
		if (xtcp_fragment(sk, skb, segs * mss, mss))
			return -ENOMEM;
	} else if (skb->len > mss && skb_shinfo(skb)->gso_size != mss) {
		xtcp_repcount(sk, skb, mss);
	} else if (skb->len < mss &&
		   before(XTCP_SKB_CB(skb)->seq + skb->len,
			  xs->snd_una + xs->snd_wnd)) {
		xtcp_retrans_collapse(sk, skb,
				      min(mss, xs->snd_una + xs->snd_wnd -
					  XTCP_SKB_CB(skb)->seq));
	}
	/* RFC 3168 6.1.1.1: a SYN again goes without asking for ECN. */
	if ((XTCP_SKB_CB(skb)->tcp_flags & XTCP_SYN_ECN) == XTCP_SYN_ECN &&
	    xtcp_knob(sock_net(sk), XTCP_KNOB_ecn_fallback))
		XTCP_SKB_CB(skb)->tcp_flags &= ~(TCPHDR_ECE | TCPHDR_CWR);
	XTCP_SKB_CB(skb)->retransmitted = 1;
	xs->total_retrans += xtcp_skb_pcount(skb);
	xs->bytes_retrans += skb->len;
	XTCP_ADD_STATS(sock_net(sk), XTCP_MIB_RETRANSSEGS,
		       xtcp_skb_pcount(skb));
	trace_xtcp_retransmit(sk, skb, NULL, NULL);
	xtcp_transmit_skb(sk, skb);
	return 0;
}

/* Retransmit the oldest unacknowledged skb (SYN, SYN-ACK), one segment. */
void xtcp_retransmit_head(struct sock *sk)
{
	struct sk_buff *skb = xtcp_rtx_head(sk);

	if (!skb)
		return;
	xtcp_retransmit_skb(sk, skb, 1);
}

/* Active open: queue and send the SYN. */
int xtcp_connect_send_syn(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u8 flags = TCPHDR_SYN;
	int err;

	/* ecn 1: ask for ECN (tcp_ecn_send_syn()). */
	xs->ecn_flags = 0;
	INET_ECN_dontxmit(sk);
	if (xtcp_knob(sock_net(sk), XTCP_KNOB_ecn) == 1) {
		xs->ecn_flags = XTCP_ECN_OK;
		flags |= TCPHDR_ECE | TCPHDR_CWR;
	}
	err = xtcp_queue_ctl(sk, flags, sk->sk_allocation);
	if (err)
		return err;
	xtcp_push_pending(sk);
	return 0;
}

/* Passive open or simultaneous open: queue and send the SYN-ACK. */
int xtcp_send_synack(struct sock *sk)
{
	u8 ece = xtcp_sk(sk)->ecn_flags & XTCP_ECN_OK ? TCPHDR_ECE : 0;
	int err = xtcp_queue_ctl(sk, TCPHDR_SYN | TCPHDR_ACK | ece, GFP_ATOMIC);

	if (err)
		return err;
	xtcp_push_pending(sk);
	return 0;
}

/*
 * Queue our FIN behind the data. If the last queued skb has not been sent
 * yet the FIN rides on it, as in tcp_send_fin().
 */
void xtcp_send_fin(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *tail = skb_peek_tail(&sk->sk_write_queue);

	if (xs->fin_queued)
		return;
	xs->fin_queued = true;
	/* The write queue holds only what was not sent. */
	if (tail &&
	    !(XTCP_SKB_CB(tail)->tcp_flags & (TCPHDR_SYN | TCPHDR_FIN))) {
		XTCP_SKB_CB(tail)->tcp_flags |= TCPHDR_FIN;
		XTCP_SKB_CB(tail)->end_seq++;
		xs->write_seq++;
	} else if (xtcp_queue_ctl(sk, TCPHDR_FIN | TCPHDR_ACK,
				  sk->sk_allocation)) {
		/*
		 * No memory for a FIN of its own: let the retransmission
		 * timer's abort path tear the connection down instead of
		 * hanging forever in a state that waits for our FIN.
		 */
		xs->fin_queued = false;
		xtcp_reset(sk, ENOMEM);
		return;
	}
	xtcp_push_pending(sk);
}

/* A segment of ours that carries no sequence space: ACK, RST, probe. */
static void xtcp_send_ctl(struct sock *sk, u32 seq, u8 flags, gfp_t gfp)
{
	struct sk_buff *skb = xtcp_alloc_ctl_skb(sk, gfp);

	if (!skb)
		return;
	xtcp_xmit(sk, skb, seq, flags);
}

void xtcp_send_ack(struct sock *sk)
{
	if (sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_LISTEN)
		return;
	xtcp_send_ctl(sk, xtcp_sk(sk)->snd_nxt, TCPHDR_ACK, GFP_ATOMIC);
}

/*
 * May a connection (or TIME_WAIT entry) answer an unacceptable segment
 * now? Not within invalid_ratelimit of its last such answer (@last, in
 * jiffies, 0: none yet): the limited answer counts under @mib. Lockless
 * for TIME_WAIT entries, hence the ONCE accessors; as in Linux's
 * __tcp_oow_rate_limited().
 */
bool __xtcp_oow_rate_limited(struct net *net, int mib, u32 *last)
{
	u32 val = READ_ONCE(*last), now = (u32)jiffies;

	if (val) {
		s32 elapsed = (s32)(now - val);

		if (elapsed >= 0 &&
		    elapsed < msecs_to_jiffies(xtcp_knob(net,
					XTCP_KNOB_invalid_ratelimit))) {
			XTCP_INC_STATS(net, mib);
			return true;
		}
	}
	WRITE_ONCE(*last, now ? : 1);
	return false;
}

/*
 * The same for the answer to @skb: a segment with data and no SYN is no
 * part of an ACK loop and is always answered (tcp_oow_rate_limited()).
 */
bool xtcp_oow_rate_limited(struct net *net, const struct sk_buff *skb,
			   int mib, u32 *last)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	if (cb->seq != cb->end_seq && !tcp_hdr(skb)->syn)
		return false;
	return __xtcp_oow_rate_limited(net, mib, last);
}

/*
 * RFC 5961 section 7 budget of the namespace: challenge_ack_limit per
 * second, drawn at random each second between half and one and a half
 * times the limit (tcp_challenge_ack_allowed()). A fixed budget shared by
 * all connections is a side channel (CVE-2016-5696): an off-path attacker
 * who exhausts it with its own connection and counts the challenge ACKs
 * it gets back learns whether its spoofed segments drew one from a
 * connection it cannot see, and so that connection's 4-tuple and window.
 */
static bool xtcp_challenge_ack_allowed(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	u32 limit = xtcp_knob(net, XTCP_KNOB_challenge_ack_limit);
	unsigned long now = jiffies / HZ;
	u32 count;

	if (limit == INT_MAX)
		return true;
	if (READ_ONCE(xn->challenge_stamp) != now) {
		WRITE_ONCE(xn->challenge_stamp, now);
		WRITE_ONCE(xn->challenge_count,
			   ((limit + 1) >> 1) + prandom_u32_max(limit));
	}
	count = READ_ONCE(xn->challenge_count);
	if (!count)
		return false;
	WRITE_ONCE(xn->challenge_count, count - 1);
	return true;
}

/*
 * A challenge ACK (RFC 5961): first the connection's own limit for
 * answers to unacceptable segments, then the namespace's budget, as Linux
 * TCP's tcp_send_challenge_ack(). With the per-connection limit an
 * attacker learns from counting challenge ACKs only about connections it
 * is a party to.
 */
void xtcp_send_challenge_ack(struct sock *sk)
{
	struct net *net = sock_net(sk);

	if (__xtcp_oow_rate_limited(net, XTCP_MIB_ACKSKIPPEDCHALLENGE,
				    &xtcp_sk(sk)->last_oow_ack_time))
		return;
	if (!xtcp_challenge_ack_allowed(net))
		return;
	XTCP_INC_STATS(net, XTCP_MIB_CHALLENGEACK);
	xtcp_send_ack(sk);
}

/* Abort: RST with our next sequence number (tcp_send_active_reset()). */
void xtcp_send_active_reset(struct sock *sk, gfp_t gfp)
{
	xtcp_send_ctl(sk, xtcp_sk(sk)->snd_nxt, TCPHDR_RST | TCPHDR_ACK, gfp);
}

/* Keepalive or window probe: an ACK with an old sequence number. */
void xtcp_send_keepalive_probe(struct sock *sk)
{
	xtcp_send_ctl(sk, xtcp_sk(sk)->snd_una - 1, TCPHDR_ACK, GFP_ATOMIC);
}

/*
 * A segment from no socket: a RST or ACK answering @in, routed on its own
 * and sent with ip_local_out() (see nf_reject_ipv4.c for the pattern).
 */
static void xtcp_send_reply(struct net *net, struct sk_buff *in, u32 seq,
			    u32 ack, u8 flags, u16 win, bool ts, u32 tsval,
			    u32 tsecr, u16 mss)
{
	const struct iphdr *iph = ip_hdr(in);
	const struct tcphdr *th = tcp_hdr(in);
	unsigned int len = sizeof(struct tcphdr) +
			   (ts ? TCPOLEN_TSTAMP_ALIGNED : 0) +
			   (mss ? TCPOLEN_MSS_ALIGNED : 0);
	struct tcphdr *rth;
	struct iphdr *niph;
	struct flowi4 fl4;
	struct rtable *rt;
	struct sk_buff *skb;

	skb = alloc_skb(MAX_HEADER + sizeof(struct iphdr) + len, GFP_ATOMIC);
	if (!skb)
		return;
	skb_reserve(skb, MAX_HEADER + sizeof(struct iphdr));

	rth = skb_push(skb, len);
	skb_reset_transport_header(skb);
	memset(rth, 0, sizeof(*rth));
	rth->source = th->dest;
	rth->dest = th->source;
	rth->seq = htonl(seq);
	rth->ack_seq = htonl(ack);
	rth->doff = len >> 2;
	tcp_flag_byte(rth) = flags;
	rth->window = htons(win);
	if (mss)
		*(__be32 *)(rth + 1) = htonl((TCPOPT_MSS << 24) |
					     (TCPOLEN_MSS << 16) | mss);
	if (ts) {
		__be32 *ptr = (__be32 *)(rth + 1);

		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
			       (TCPOPT_TIMESTAMP << 8) | TCPOLEN_TIMESTAMP);
		*ptr++ = htonl(tsval);
		*ptr = htonl(tsecr);
	}
	rth->check = csum_tcpudp_magic(iph->daddr, iph->saddr, len,
				       xtcp_ipproto, csum_partial(rth, len, 0));
	skb->ip_summed = CHECKSUM_NONE;

	flowi4_init_output(&fl4, 0, 0, RT_TOS(iph->tos), RT_SCOPE_UNIVERSE,
			   xtcp_ipproto, 0, iph->saddr, iph->daddr,
			   th->source, th->dest, sock_net_uid(net, NULL));
	rt = ip_route_output_key(net, &fl4);
	if (IS_ERR(rt)) {
		kfree_skb(skb);
		return;
	}
	skb_dst_set(skb, &rt->dst);

	niph = skb_push(skb, sizeof(*niph));
	skb_reset_network_header(skb);
	memset(niph, 0, sizeof(*niph));
	niph->version = 4;
	niph->ihl = sizeof(*niph) >> 2;
	niph->tos = iph->tos;
	niph->frag_off = htons(IP_DF);
	niph->ttl = ip4_dst_hoplimit(&rt->dst);
	niph->protocol = xtcp_ipproto;
	niph->saddr = fl4.saddr;
	niph->daddr = fl4.daddr;
	skb->protocol = htons(ETH_P_IP);
	ip_select_ident(net, skb, NULL);

	XTCP_INC_STATS(net, XTCP_MIB_OUTSEGS);
	if (flags & TCPHDR_RST) {
		XTCP_INC_STATS(net, XTCP_MIB_OUTRSTS);
		trace_xtcp_send_reset(NULL, skb, niph, rth);
	}
	ip_local_out(net, NULL, skb);
}

/*
 * RFC 9293 3.10.7.1: the answer to a segment for no connection. Never a
 * RST for a RST. If the segment has an ACK, the RST takes its sequence
 * number from it; otherwise it acknowledges everything the segment
 * occupied.
 */
void xtcp_send_reset_reply(struct net *net, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	if (th->rst)
		return;
	if (th->ack)
		xtcp_send_reply(net, skb, cb->ack_seq, 0, TCPHDR_RST, 0,
				false, 0, 0, 0);
	else
		xtcp_send_reply(net, skb, 0, cb->end_seq,
				TCPHDR_RST | TCPHDR_ACK, 0, false, 0, 0, 0);
}

void xtcp_send_ack_reply(struct net *net, struct sk_buff *skb, u32 seq,
			 u32 ack, u16 win, u32 tsval, u32 tsecr, bool ts)
{
	xtcp_send_reply(net, skb, seq, ack, TCPHDR_ACK, win, ts, tsval, tsecr,
			0);
}

/*
 * A SYN cookie SYN-ACK (RFC 4987): no state is kept; the ISN encodes the
 * 4-tuple, a time counter and the MSS, which is all that comes back.
 */
void xtcp_send_cookie_synack(struct net *net, struct sk_buff *skb, u32 isn,
			     u16 mss)
{
	xtcp_send_reply(net, skb, isn, XTCP_SKB_CB(skb)->seq + 1,
			TCPHDR_SYN | TCPHDR_ACK, 65535, false, 0, 0, mss);
}
