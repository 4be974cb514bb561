/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp: internal interfaces shared by the files of the module.
 *
 * One concern per file; each file exports a flat xtcp_ API declared here.
 */
#ifndef _XTCP_H
#define _XTCP_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <net/inet_sock.h>
#include <net/netns/generic.h>
#include <net/snmp.h>

#include "uapi/xtcp.h"

/* Module parameters, fixed once the module is loaded (main.c). */
extern int xtcp_family;
extern int xtcp_ipproto;

/*
 * The xtcp socket. struct inet_sock comes first so that inet_sk(), the
 * IPv4 output path and the generic inet helpers (inet_getname) work on it.
 */
struct xtcp_sock {
	struct inet_sock inet;
	/*
	 * Link in the per-namespace bind table while the socket owns a local
	 * port. Written under xtcp_net.bind_lock, read under RCU; sockets
	 * are freed after a grace period (SOCK_RCU_FREE) for that reason.
	 */
	struct hlist_node bind_node;
};

static inline struct xtcp_sock *xtcp_sk(const struct sock *sk)
{
	return (struct xtcp_sock *)sk;
}

/*
 * Change the state of a socket owned by the caller (socket lock or bh
 * lock). Lockless readers (/proc) pair with inet_sk_state_load().
 */
static inline void xtcp_set_state(struct sock *sk, int state)
{
	/* Release: a reader that sees the new state sees what led to it. */
	smp_store_release(&sk->sk_state, state);
}

/* Counters (mib.c); names and meanings are documented there. */
enum xtcp_mib_field {
	XTCP_MIB_INSEGS,
	XTCP_MIB_INNOSOCKET,
	XTCP_MIB_MAX
};

struct xtcp_mib {
	unsigned long mibs[XTCP_MIB_MAX];
};

#define XTCP_BHASH_BITS	8
#define XTCP_BHASH_SIZE	BIT(XTCP_BHASH_BITS)

/* Per network namespace state (netns.c). */
struct xtcp_net {
	struct net *net;
	/* Bind table: sockets owning a local port, hashed by port. */
	spinlock_t bind_lock;
	struct hlist_head bind_hash[XTCP_BHASH_SIZE];
	DEFINE_SNMP_STAT(struct xtcp_mib, mib);
};

struct xtcp_net *xtcp_pernet(const struct net *net);

#define XTCP_INC_STATS(net, field) \
	SNMP_INC_STATS(xtcp_pernet(net)->mib, field)

/* netns.c */
int xtcp_netns_init(void);
void xtcp_netns_exit(void);

/* socket.c */
int xtcp_socket_init(void);
void xtcp_socket_exit(void);

/* bind.c */
void xtcp_bind_table_init(struct xtcp_net *xn);
int xtcp_bind_get_port(struct sock *sk, unsigned short snum);
int xtcp_bind_listen_check(struct sock *sk);
void xtcp_bind_put_port(struct sock *sk);

/* input.c */
int xtcp_input_init(void);
void xtcp_input_exit(void);

/* mib.c */
int xtcp_mib_net_init(struct xtcp_net *xn);
void xtcp_mib_net_exit(struct xtcp_net *xn);
int xtcp_mib_proc_init(struct net *net);
void xtcp_mib_proc_exit(struct net *net);

/* proc.c */
int xtcp_proc_net_init(struct net *net);
void xtcp_proc_net_exit(struct net *net);

#endif /* _XTCP_H */
