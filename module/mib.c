// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: per-namespace counters, shown in /proc/net/xtcp_stat.
 *
 * Counters are per CPU (SNMP helpers) and folded on read. Each line of the
 * file is "Name value"; the names are stable and documented in
 * Documentation/xtcp.rst.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/ip.h>

#include "xtcp.h"

static const struct snmp_mib xtcp_mib_list[] = {
	/* Segments handed to xtcp by IPv4, valid or not. */
	SNMP_MIB_ITEM("InSegs", XTCP_MIB_INSEGS),
	/* Segments dropped because no xtcp socket matched them. */
	SNMP_MIB_ITEM("InNoSocket", XTCP_MIB_INNOSOCKET),
	SNMP_MIB_SENTINEL
};

int xtcp_mib_net_init(struct xtcp_net *xn)
{
	xn->mib = alloc_percpu(struct xtcp_mib);
	return xn->mib ? 0 : -ENOMEM;
}

void xtcp_mib_net_exit(struct xtcp_net *xn)
{
	free_percpu(xn->mib);
	xn->mib = NULL;
}

static int xtcp_mib_seq_show(struct seq_file *seq, void *v)
{
	struct net *net = seq->private;
	struct xtcp_net *xn = xtcp_pernet(net);
	int i;

	for (i = 0; xtcp_mib_list[i].name; i++)
		seq_printf(seq, "%-24s %lu\n", xtcp_mib_list[i].name,
			   snmp_fold_field(xn->mib, xtcp_mib_list[i].entry));
	return 0;
}

int xtcp_mib_proc_init(struct net *net)
{
	if (!proc_create_net_single("xtcp_stat", 0444, net->proc_net,
				    xtcp_mib_seq_show, NULL))
		return -ENOMEM;
	return 0;
}

void xtcp_mib_proc_exit(struct net *net)
{
	remove_proc_entry("xtcp_stat", net->proc_net);
}
