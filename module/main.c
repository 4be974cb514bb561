// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: module entry points and load-time parameters.
 *
 * Load order is the TIME_WAIT slab, per-namespace state (sockets and
 * the receive path look it up; the TIME_WAIT buckets are part of it), the
 * GSO handler (before any socket can send a big skb), then the socket
 * family, then the IP protocol handler, so that nothing can reach a
 * half-initialised module. Unload is the exact reverse: when the
 * namespaces are gone every TIME_WAIT entry is dead and every bucket
 * stopped, and xtcp_tw_exit() waits for the last frees. A socket pins the
 * module (proto_ops, proto and family all name THIS_MODULE
 * as owner), so the exit path never runs while one exists.
 */
#define pr_fmt(fmt) "xtcp: " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/net.h>
#include <linux/socket.h>

#include "xtcp.h"

int xtcp_family = PF_XTCP;
module_param_named(family, xtcp_family, int, 0444);
MODULE_PARM_DESC(family, "socket family number to register (default 19)");

int xtcp_ipproto = IPPROTO_XTCP;
module_param_named(ipproto, xtcp_ipproto, int, 0444);
MODULE_PARM_DESC(ipproto, "IP protocol number on the wire (default 253)");

static int __init xtcp_init(void)
{
	int ret;

	if (xtcp_family <= 0 || xtcp_family >= NPROTO) {
		pr_err("family=%d is out of range (1..%d)\n",
		       xtcp_family, NPROTO - 1);
		return -EINVAL;
	}
	if (xtcp_ipproto <= 0 || xtcp_ipproto >= IPPROTO_RAW) {
		pr_err("ipproto=%d is out of range (1..%d)\n",
		       xtcp_ipproto, IPPROTO_RAW - 1);
		return -EINVAL;
	}

	ret = xtcp_tw_init();
	if (ret)
		goto err_tw;

	ret = xtcp_netns_init();
	if (ret)
		goto err_netns;

	ret = xtcp_offload_init();
	if (ret) {
		pr_err("IP protocol %d is already claimed (GSO); load with ipproto=<free number>\n",
		       xtcp_ipproto);
		goto err_offload;
	}

	ret = xtcp_socket_init();
	if (ret)
		goto err_socket;

	ret = xtcp_input_init();
	if (ret)
		goto err_input;

	pr_info("loaded: family %d, IP protocol %d, TIME_WAIT entry %zu bytes\n",
		xtcp_family, xtcp_ipproto, xtcp_tw_entry_size());
	return 0;

err_input:
	xtcp_socket_exit();
err_socket:
	xtcp_offload_exit();
err_offload:
	xtcp_netns_exit();
err_netns:
	xtcp_tw_exit();
err_tw:
	return ret;
}

static void __exit xtcp_exit(void)
{
	xtcp_input_exit();
	xtcp_socket_exit();
	xtcp_offload_exit();
	xtcp_netns_exit();
	xtcp_tw_exit();
	pr_info("unloaded\n");
}

module_init(xtcp_init);
module_exit(xtcp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xtcp: an experimental TCP variant in its own socket family");
MODULE_AUTHOR("The xtcp developers");
MODULE_ALIAS_NETPROTO(PF_XTCP);
