// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: per network namespace state.
 *
 * Every table, knob and counter lives in struct xtcp_net, reached through
 * net_generic(). The pernet exit runs after every socket of the namespace
 * is gone (a socket holds a reference on its namespace), so the socket
 * tables are empty by then; TIME_WAIT entries hold no such reference and
 * are killed here.
 */
#include <linux/module.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "xtcp.h"

static unsigned int xtcp_net_id __read_mostly;

struct xtcp_net *xtcp_pernet(const struct net *net)
{
	return net_generic(net, xtcp_net_id);
}

static int __net_init xtcp_net_init(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	int ret;

	xn->net = net;
	xtcp_bind_table_init(xn);

	ret = xtcp_ctrl_net_init(xn);
	if (ret)
		goto err_ctrl;
	ret = xtcp_mib_net_init(xn);
	if (ret)
		goto err_mib;
	/* Before the tables: a TIME_WAIT entry counts its end there. */
	ret = xtcp_transitions_net_init(xn);
	if (ret)
		goto err_transitions;
	ret = xtcp_hash_net_init(xn);
	if (ret)
		goto err_hash;
	ret = xtcp_tw_net_init(xn);
	if (ret)
		goto err_tw;
	ret = xtcp_proc_net_init(net);
	if (ret)
		goto err_proc;
	ret = xtcp_mib_proc_init(net);
	if (ret)
		goto err_mib_proc;
	ret = xtcp_mem_proc_init(net);
	if (ret)
		goto err_mem_proc;
	return 0;

err_mem_proc:
	xtcp_mib_proc_exit(net);
err_mib_proc:
	xtcp_proc_net_exit(net);
err_proc:
	xtcp_tw_net_exit(xn);
err_tw:
	xtcp_hash_net_exit(xn);
err_hash:
	xtcp_transitions_net_exit(xn);
err_transitions:
	xtcp_mib_net_exit(xn);
err_mib:
	xtcp_ctrl_net_exit(xn);
err_ctrl:
	return ret;
}

static void __net_exit xtcp_net_exit(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);

	xtcp_mem_proc_exit(net);
	xtcp_mib_proc_exit(net);
	xtcp_proc_net_exit(net);
	xtcp_tw_net_exit(xn);
	xtcp_hash_net_exit(xn);
	xtcp_transitions_net_exit(xn);
	xtcp_mib_net_exit(xn);
	xtcp_ctrl_net_exit(xn);
}

static struct pernet_operations xtcp_net_ops = {
	.init = xtcp_net_init,
	.exit = xtcp_net_exit,
	.id = &xtcp_net_id,
	.size = sizeof(struct xtcp_net),
};

int xtcp_netns_init(void)
{
	return register_pernet_subsys(&xtcp_net_ops);
}

void xtcp_netns_exit(void)
{
	unregister_pernet_subsys(&xtcp_net_ops);
}
