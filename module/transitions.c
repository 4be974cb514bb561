// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: every state change, counted and traced.
 *
 * xtcp_set_state() is the only writer of sk_state. It fires
 * xtcp:xtcp_set_state and counts the change in the namespace's matrix of
 * from -> to counters (per CPU, folded on read), shown by
 * /proc/net/xtcp_transitions as "FROM TO COUNT" rows for the cells that
 * are not zero. What the matrix counts:
 *
 *  - a listener's child is born LISTEN -> SYN_RECV (it is cloned from
 *    the listener, as RFC 9293's diagram draws it);
 *  - a connection that goes into TIME_WAIT counts X -> TIME_WAIT when its
 *    entry is made, and TIME_WAIT -> CLOSE when the entry ends (expiry, a
 *    RST, a new connection taking it over, namespace exit), not when the
 *    socket it replaced is freed; without an entry (max_tw_buckets,
 *    memory) the socket goes X -> CLOSE.
 *
 * Linux TCP has no such matrix; its sock:inet_sock_set_state tracepoint
 * sees the same changes, except that a connection going into TIME_WAIT
 * shows X -> CLOSE there (the socket; its timewait sock is not traced).
 */
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/tcp_states.h>

#include "xtcp.h"
#include "trace.h"

struct xtcp_transitions {
	u64 n[TCP_MAX_STATES][TCP_MAX_STATES];
};

static const char *const xtcp_state_names[TCP_MAX_STATES] = {
	[TCP_ESTABLISHED] = "ESTABLISHED",
	[TCP_SYN_SENT] = "SYN_SENT",
	[TCP_SYN_RECV] = "SYN_RECV",
	[TCP_FIN_WAIT1] = "FIN_WAIT1",
	[TCP_FIN_WAIT2] = "FIN_WAIT2",
	[TCP_TIME_WAIT] = "TIME_WAIT",
	[TCP_CLOSE] = "CLOSE",
	[TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_LAST_ACK] = "LAST_ACK",
	[TCP_LISTEN] = "LISTEN",
	[TCP_CLOSING] = "CLOSING",
};

void xtcp_count_transition(struct xtcp_net *xn, int from, int to)
{
	if (WARN_ON_ONCE((unsigned int)from >= TCP_MAX_STATES ||
			 (unsigned int)to >= TCP_MAX_STATES))
		return;
	this_cpu_inc(xn->transitions->n[from][to]);
}

/**
 * xtcp_set_state - move @sk to @state
 * @sk: the socket, locked (or not yet visible to anyone else)
 * @state: one of the 11 TCP states
 *
 * The socket that a TIME_WAIT entry replaced leaves TIME_WAIT uncounted
 * and untraced: the entry counts its own end.
 */
void xtcp_set_state(struct sock *sk, int state)
{
	int old = sk->sk_state;

	if (old != state && old != TCP_TIME_WAIT) {
		trace_xtcp_set_state(sk, old, state);
		xtcp_count_transition(xtcp_pernet(sock_net(sk)), old, state);
	}
	/* Release: a reader that sees the new state sees what led to it. */
	smp_store_release(&sk->sk_state, state);
}

static int xtcp_transitions_show(struct seq_file *seq, void *v)
{
	struct xtcp_net *xn = xtcp_pernet(seq_file_single_net(seq));
	int from, to, cpu;

	seq_printf(seq, "%-12s %-12s %s\n", "FROM", "TO", "COUNT");
	for (from = 0; from < TCP_MAX_STATES; from++) {
		for (to = 0; to < TCP_MAX_STATES; to++) {
			u64 sum = 0;

			for_each_possible_cpu(cpu)
				sum += per_cpu_ptr(xn->transitions, cpu)->n[from][to];
			if (!sum || !xtcp_state_names[from] ||
			    !xtcp_state_names[to])
				continue;
			seq_printf(seq, "%-12s %-12s %llu\n",
				   xtcp_state_names[from],
				   xtcp_state_names[to], sum);
		}
	}
	return 0;
}

int xtcp_transitions_net_init(struct xtcp_net *xn)
{
	xn->transitions = alloc_percpu(struct xtcp_transitions);
	if (!xn->transitions)
		return -ENOMEM;
	if (!proc_create_net_single("xtcp_transitions", 0444,
				    xn->net->proc_net, xtcp_transitions_show,
				    NULL)) {
		free_percpu(xn->transitions);
		return -ENOMEM;
	}
	return 0;
}

void xtcp_transitions_net_exit(struct xtcp_net *xn)
{
	remove_proc_entry("xtcp_transitions", xn->net->proc_net);
	free_percpu(xn->transitions);
}
