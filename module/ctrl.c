// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: run-time knobs, per network namespace (net.xtcp.*) and, for the
 * initial namespace, as module parameters (/sys/module/xtcp/parameters).
 *
 * knobs.h declares each knob once; this file derives the table of
 * defaults and ranges, the sysfs parameters and the sysctl table from it.
 *
 * Storage: the initial namespace uses xtcp_init_knobs[] directly, and so
 * do the module parameters, so the two views can never disagree and a
 * value given at insmod time is in place before any namespace exists. A
 * new namespace starts from a copy of the initial namespace's values.
 * Readers use xtcp_knob(), a READ_ONCE of one int: no lock is needed, and
 * a connection reads a knob when it needs it (so a change applies from the
 * next use on).
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>

#include "xtcp.h"

/*
 * <net/inet_timewait_sock.h> defines tw_reuse as a field alias; here it is
 * the name of a knob, turned into a string and a parameter name.
 */
#undef tw_reuse

struct xtcp_knob_desc {
	const char *name;
	int def;
	int min;
	int max;
};

/* Both tables follow knobs.h in order, as enum xtcp_knob does. */
static const struct xtcp_knob_desc xtcp_knob_table[XTCP_KNOB_MAX] = {
#define XTCP_KNOB(n, d, lo, hi) { #n, d, lo, hi },
#include "knobs.h"
#undef XTCP_KNOB
};

static int xtcp_init_knobs[XTCP_KNOB_MAX] = {
#define XTCP_KNOB(n, d, lo, hi) d,
#include "knobs.h"
#undef XTCP_KNOB
};

static int xtcp_knob_param_set(const char *val, const struct kernel_param *kp)
{
	const struct xtcp_knob_desc *d = kp->arg;
	int v, ret;

	ret = kstrtoint(val, 0, &v);
	if (ret)
		return ret;
	if (v < d->min || v > d->max)
		return -EINVAL;
	WRITE_ONCE(xtcp_init_knobs[d - xtcp_knob_table], v);
	xtcp_mem_update();
	return 0;
}

/*
 * A knob of the initial namespace: the global ones (max_orphans, mem_*)
 * are read here, also before any namespace exists.
 */
int xtcp_init_knob(enum xtcp_knob k)
{
	return READ_ONCE(xtcp_init_knobs[k]);
}

/* The sysctls: the initial namespace's mem_* knobs feed xtcp_sysctl_mem. */
static int xtcp_knob_proc(struct ctl_table *table, int write, void *buffer,
			  size_t *lenp, loff_t *ppos)
{
	int ret = proc_dointvec_minmax(table, write, buffer, lenp, ppos);

	if (write && !ret && (int *)table->data >= xtcp_init_knobs &&
	    (int *)table->data < xtcp_init_knobs + XTCP_KNOB_MAX)
		xtcp_mem_update();
	return ret;
}

static int xtcp_knob_param_get(char *buf, const struct kernel_param *kp)
{
	const struct xtcp_knob_desc *d = kp->arg;

	return sysfs_emit(buf, "%d\n",
			  READ_ONCE(xtcp_init_knobs[d - xtcp_knob_table]));
}

static const struct kernel_param_ops xtcp_knob_param_ops = {
	.set = xtcp_knob_param_set,
	.get = xtcp_knob_param_get,
};

/*
 * The module parameters, one per knob: module_param_cb() for the loader
 * and sysfs, and for modinfo the type and the description that
 * __MODULE_PARM_TYPE() and MODULE_PARM_DESC() would give. Each expansion
 * begins with the ";" that ends the previous knob's declarations (the
 * first one ends the static_assert() in front of the list); the lone
 * ";" after the list ends the last one.
 */
static_assert(XTCP_KNOB_MAX > 0)
#define XTCP_KNOB(n, d, lo, hi)						\
	; module_param_cb(n, &xtcp_knob_param_ops,			\
			  (void *)&xtcp_knob_table[XTCP_KNOB_##n], 0644);	\
	__MODULE_INFO(parmtype, n##__xtcp_type, #n ":int");		\
	static const char n##__xtcp_parm[] __used __section(".modinfo")	\
		__aligned(1) = "parm=" #n ":net.xtcp." #n			\
		" of the initial namespace (" #lo ".." #hi ", default " #d ")"
#include "knobs.h"
#undef XTCP_KNOB
;

int xtcp_ctrl_net_init(struct xtcp_net *xn)
{
	struct ctl_table *table;
	int i;

	if (net_eq(xn->net, &init_net)) {
		xn->knobs = xtcp_init_knobs;
	} else {
		xn->knobs = kmemdup(xtcp_init_knobs, sizeof(xtcp_init_knobs),
				    GFP_KERNEL);
		if (!xn->knobs)
			return -ENOMEM;
	}

	/* One entry per knob plus the empty terminator. */
	table = kcalloc(XTCP_KNOB_MAX + 1, sizeof(*table), GFP_KERNEL);
	if (!table)
		goto err_table;
	for (i = 0; i < XTCP_KNOB_MAX; i++) {
		table[i].procname = xtcp_knob_table[i].name;
		table[i].data = &xn->knobs[i];
		table[i].maxlen = sizeof(int);
		table[i].mode = 0644;
		table[i].proc_handler = xtcp_knob_proc;
		table[i].extra1 = (void *)&xtcp_knob_table[i].min;
		table[i].extra2 = (void *)&xtcp_knob_table[i].max;
	}

	xn->sysctl_header = register_net_sysctl(xn->net, "net/xtcp", table);
	if (!xn->sysctl_header)
		goto err_register;
	return 0;

err_register:
	kfree(table);
err_table:
	if (xn->knobs != xtcp_init_knobs)
		kfree(xn->knobs);
	xn->knobs = NULL;
	return -ENOMEM;
}

void xtcp_ctrl_net_exit(struct xtcp_net *xn)
{
	struct ctl_table *table = xn->sysctl_header->ctl_table_arg;

	unregister_net_sysctl_table(xn->sysctl_header);
	kfree(table);
	if (xn->knobs != xtcp_init_knobs)
		kfree(xn->knobs);
	xn->knobs = NULL;
}
