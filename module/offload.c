// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: segmentation offload (GSO) for our IP protocol number.
 *
 * A sender hands the IPv4 layer skbs of up to 64 KB that stand for several
 * segments of one MSS each (output.c). They carry gso_type SKB_GSO_SCTP,
 * the one segmentation type that no network hardware implements: only
 * software devices (loopback, veth, bridges, tunnels, ...) advertise it,
 * and they pass the big skb along whole, so a veth pair or loopback moves
 * one packet where there would be dozens. Every other device gets it cut
 * up by the core (validate_xmit_skb(), or netem, or a forwarding router)
 * through inet_gso_segment(), which calls xtcp_gso_segment() below for
 * protocol 253. Using TCPV4 instead would let a NIC's TSO engine loose
 * on a header it does not own.
 *
 * skb_gso_validate_network_len() sizes SKB_GSO_SCTP segments with a
 * 12-byte transport header. Ours is 20 to 60 bytes, so an MTU check of a
 * big skb can pass for segments up to 48 bytes too big; a sender cuts its
 * segments to the path MTU anyway, and what is too big is dropped with
 * "fragmentation needed" further on, as for any other packet.
 *
 * Each segment gets the big skb's header with its own sequence number;
 * FIN and PSH stay on the last segment, CWR on the first. The checksum
 * stays CHECKSUM_PARTIAL when the device checksums anything
 * (NETIF_F_HW_CSUM) and is completed here otherwise, over the
 * pseudo-header with the segment's own length: a device that only knows
 * TCP and UDP (NETIF_F_IP_CSUM) must never see ours.
 */
#include <linux/kernel.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/ip.h>
#include <net/protocol.h>

#include "xtcp.h"

static void xtcp_gso_fix_check(struct sk_buff *seg)
{
	struct tcphdr *th = tcp_hdr(seg);
	unsigned int len = skb_tail_pointer(seg) - skb_transport_header(seg) +
			   seg->data_len;

	/* The pseudo-header sum, uncomplemented, as the sender left it. */
	th->check = ~csum_tcpudp_magic(ip_hdr(seg)->saddr, ip_hdr(seg)->daddr,
				       len, xtcp_ipproto, 0);
	if (seg->ip_summed == CHECKSUM_PARTIAL)
		gso_reset_checksum(seg, ~th->check);
	else
		th->check = gso_make_checksum(seg, ~th->check);
}

static struct sk_buff *xtcp_gso_segment(struct sk_buff *skb,
					netdev_features_t features)
{
	struct sk_buff *segs, *seg;
	unsigned int thlen, mss;
	struct tcphdr *th;
	u32 seq;

	if (!(skb_shinfo(skb)->gso_type & SKB_GSO_SCTP) ||
	    skb->ip_summed != CHECKSUM_PARTIAL ||
	    !pskb_may_pull(skb, sizeof(*th)))
		return ERR_PTR(-EINVAL);
	thlen = tcp_hdr(skb)->doff * 4;
	if (thlen < sizeof(*th) || !pskb_may_pull(skb, thlen) ||
	    skb_checksum_start(skb) != skb_transport_header(skb))
		return ERR_PTR(-EINVAL);

	__skb_pull(skb, thlen);
	mss = skb_shinfo(skb)->gso_size;
	if (!mss || skb->len <= mss)
		return ERR_PTR(-EINVAL);
	if (skb_gso_ok(skb, features | NETIF_F_GSO_ROBUST)) {
		/* The device takes it whole; only the count is ours. */
		skb_shinfo(skb)->gso_segs = DIV_ROUND_UP(skb->len, mss);
		return NULL;
	}

	/*
	 * Only a device that checksums anything may finish ours: one that
	 * knows TCP and UDP alone (NETIF_F_IP_CSUM) would take our header
	 * for theirs, so for it skb_segment() completes the checksums.
	 */
	if (!(features & NETIF_F_HW_CSUM))
		features &= ~NETIF_F_CSUM_MASK;
	segs = skb_segment(skb, features);
	if (IS_ERR(segs))
		return segs;

	seq = ntohl(tcp_hdr(segs)->seq);
	for (seg = segs; seg; seg = seg->next) {
		th = tcp_hdr(seg);
		th->seq = htonl(seq);
		if (seg != segs)
			th->cwr = 0;
		if (seg->next) {
			th->fin = 0;
			th->psh = 0;
		}
		xtcp_gso_fix_check(seg);
		seq += skb_is_gso(seg) ? mss * skb_shinfo(seg)->gso_segs : mss;
	}
	return segs;
}

static const struct net_offload xtcp_offload = {
	.callbacks = {
		.gso_segment = xtcp_gso_segment,
	},
};

int xtcp_offload_init(void)
{
	return inet_add_offload(&xtcp_offload, xtcp_ipproto);
}

/*
 * inet_del_offload() waits for an RCU grace period: no CPU is inside
 * xtcp_gso_segment() afterwards, and a big skb of ours still queued
 * somewhere (netem) finds no handler and is dropped by the core.
 */
void xtcp_offload_exit(void)
{
	inet_del_offload(&xtcp_offload, xtcp_ipproto);
}
