// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the IPv4 protocol handler (receive path, softirq).
 *
 * ip_local_deliver_finish() calls xtcp_v4_rcv() under rcu_read_lock() for
 * every datagram whose protocol field is xtcp_ipproto. No xtcp socket can
 * receive yet, so every segment is counted and dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/skbuff.h>
#include <net/protocol.h>
#include <net/ip.h>

#include "xtcp.h"

static int xtcp_v4_rcv(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);

	XTCP_INC_STATS(net, XTCP_MIB_INSEGS);
	XTCP_INC_STATS(net, XTCP_MIB_INNOSOCKET);
	kfree_skb_reason(skb, SKB_DROP_REASON_NO_SOCKET);
	return 0;
}

static int xtcp_v4_err(struct sk_buff *skb, u32 info)
{
	return 0;
}

static const struct net_protocol xtcp_protocol = {
	.handler = xtcp_v4_rcv,
	.err_handler = xtcp_v4_err,
	.no_policy = 1,
};

int xtcp_input_init(void)
{
	if (inet_add_protocol(&xtcp_protocol, xtcp_ipproto) < 0) {
		pr_err("IP protocol %d is already claimed; load with ipproto=<free number>\n",
		       xtcp_ipproto);
		return -EBUSY;
	}
	return 0;
}

void xtcp_input_exit(void)
{
	inet_del_protocol(&xtcp_protocol, xtcp_ipproto);
	/* inet_del_protocol() waited for readers; nothing runs the handler. */
}
