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

/* Longest name of a named knob's value, with its NUL. */
#define XTCP_KNOB_NAME_MAX	16

struct xtcp_knob_desc {
	const char *name;
	int def;
	int min;
	int max;
	const char *names;	/* a named knob's values, space-separated */
	const char *available;	/* and the name of the list's sysctl */
};

/* Both tables follow knobs.h in order, as enum xtcp_knob does. */
static const struct xtcp_knob_desc xtcp_knob_table[XTCP_KNOB_MAX] = {
#define XTCP_KNOB(n, d, lo, hi) { #n, d, lo, hi },
#define XTCP_KNOB_NAMED(n, d, lo, hi, names, dn)			\
	{ #n, d, lo, hi, names, "available_" #n },
#include "knobs.h"
#undef XTCP_KNOB_NAMED
#undef XTCP_KNOB
};

/* Named knobs: the index of @name (up to a newline) among the names. */
static int xtcp_knob_index(const struct xtcp_knob_desc *d, const char *name)
{
	size_t len = strcspn(name, "\n");
	const char *p = d->names;
	int i = 0;

	while (*p) {
		size_t w = strcspn(p, " ");

		if (w == len && !strncmp(p, name, len))
			return i;
		p += w;
		p += strspn(p, " ");
		i++;
	}
	return -ENOENT;
}

/* Named knobs: the name of index @i, into @buf. */
static void xtcp_knob_name(const struct xtcp_knob_desc *d, int i, char *buf,
			   size_t size)
{
	const char *p = d->names;

	while (i-- > 0 && *p) {
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	strscpy(buf, p, min(size, strcspn(p, " ") + 1));
}

static int xtcp_init_knobs[XTCP_KNOB_MAX] = {
#define XTCP_KNOB(n, d, lo, hi) d,
#include "knobs.h"
#undef XTCP_KNOB
};

static int xtcp_knob_param_set(const char *val, const struct kernel_param *kp)
{
	const struct xtcp_knob_desc *d = kp->arg;
	int v, ret;

	if (d->names) {
		v = xtcp_knob_index(d, val);
		if (v < 0)
			return v;
	} else {
		ret = kstrtoint(val, 0, &v);
		if (ret)
			return ret;
	}
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

/*
 * A named knob's sysctl reads and writes the name, as
 * proc_tcp_congestion_control() does; an unknown name is ENOENT.
 */
static int xtcp_knob_named_proc(struct ctl_table *table, int write,
				void *buffer, size_t *lenp, loff_t *ppos)
{
	const struct xtcp_knob_desc *d = table->extra1;
	char name[XTCP_KNOB_NAME_MAX];
	struct ctl_table tbl = { .data = name, .maxlen = sizeof(name) };
	int *val = table->data;
	int ret, i;

	xtcp_knob_name(d, READ_ONCE(*val), name, sizeof(name));
	ret = proc_dostring(&tbl, write, buffer, lenp, ppos);
	if (!write || ret)
		return ret;
	i = xtcp_knob_index(d, name);
	if (i < 0)
		return i;
	WRITE_ONCE(*val, i);
	return 0;
}

static int xtcp_knob_param_get(char *buf, const struct kernel_param *kp)
{
	const struct xtcp_knob_desc *d = kp->arg;
	char name[XTCP_KNOB_NAME_MAX];

	if (d->names) {
		xtcp_knob_name(d, READ_ONCE(xtcp_init_knobs[d - xtcp_knob_table]),
			       name, sizeof(name));
		return sysfs_emit(buf, "%s\n", name);
	}

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
#define XTCP_KNOB_NAMED(n, d, lo, hi, names, dn)			\
	; module_param_cb(n, &xtcp_knob_param_ops,			\
			  (void *)&xtcp_knob_table[XTCP_KNOB_##n], 0644);	\
	__MODULE_INFO(parmtype, n##__xtcp_type, #n ":charp");		\
	static const char n##__xtcp_parm[] __used __section(".modinfo")	\
		__aligned(1) = "parm=" #n ":net.xtcp." #n			\
		" of the initial namespace (one of: " names ", default " dn ")"
#include "knobs.h"
#undef XTCP_KNOB_NAMED
#undef XTCP_KNOB
;

int xtcp_ctrl_net_init(struct xtcp_net *xn)
{
	struct ctl_table *table;
	int i, n;

	if (net_eq(xn->net, &init_net)) {
		xn->knobs = xtcp_init_knobs;
	} else {
		xn->knobs = kmemdup(xtcp_init_knobs, sizeof(xtcp_init_knobs),
				    GFP_KERNEL);
		if (!xn->knobs)
			return -ENOMEM;
	}

	/*
	 * One entry per knob, one more per named knob for the list of its
	 * names, and the empty terminator.
	 */
	table = kcalloc(2 * XTCP_KNOB_MAX + 1, sizeof(*table), GFP_KERNEL);
	if (!table)
		goto err_table;
	for (i = 0, n = XTCP_KNOB_MAX; i < XTCP_KNOB_MAX; i++) {
		const struct xtcp_knob_desc *d = &xtcp_knob_table[i];

		table[i].procname = d->name;
		table[i].data = &xn->knobs[i];
		table[i].maxlen = sizeof(int);
		table[i].mode = 0644;
		table[i].proc_handler = xtcp_knob_proc;
		table[i].extra1 = (void *)&d->min;
		table[i].extra2 = (void *)&d->max;
		if (!d->names)
			continue;
		table[i].proc_handler = xtcp_knob_named_proc;
		table[i].extra1 = (void *)d;
		table[n].procname = d->available;
		table[n].data = (void *)d->names;
		table[n].maxlen = strlen(d->names) + 1;
		table[n].mode = 0444;
		table[n].proc_handler = proc_dostring;
		n++;
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
