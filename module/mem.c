// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: memory of all sockets together, and the orphans.
 *
 * As Linux TCP (tcp_mem, tcp_memory_allocated, tcp_orphan_count), the
 * protocol's struct proto carries global accounting that the socket core
 * keeps: every skb a socket queues is charged to its forward allocation
 * (sk_mem_charge()), which the core takes from the global
 * memory_allocated page by page (sk_wmem_schedule(), sk_rmem_schedule())
 * and checks against mem_min, mem_pressure and mem_max. Above mem_max a
 * writer waits and received data is dropped; above mem_pressure sockets
 * shrink to their minimum buffers until the total falls below mem_min.
 *
 * Orphans, connections the application closed that still have work to
 * do, are counted per CPU. Too many of them (max_orphans), or an orphan
 * holding send buffer while the protocol is over mem_max, is reset at
 * close() or at its next time-out (tcp_out_of_resources()), and counted
 * as AbortOnMemory. These knobs are global, as TCP's are: the initial
 * namespace's values (the module parameters) count.
 */
#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/swap.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

atomic_long_t xtcp_memory_allocated ____cacheline_aligned_in_smp;
DEFINE_PER_CPU(int, xtcp_memory_per_cpu_fw_alloc);
long xtcp_sysctl_mem[3] __read_mostly;
unsigned long xtcp_memory_pressure;
DEFINE_PER_CPU(unsigned int, xtcp_orphan_count);

/*
 * A knob of the three, in pages; 0 sizes it from the memory free at load
 * as tcp_mem's boot values are (tcp_init_mem()).
 */
static long xtcp_mem_limit(int knob, int i)
{
	unsigned long limit = max(nr_free_buffer_pages() / 16, 128UL);
	long auto_val[3] = { limit / 4 * 3, limit, limit / 4 * 3 * 2 };
	int v = xtcp_init_knob(knob);

	return v ? v : auto_val[i];
}

/* The initial namespace's mem_* knobs changed (ctrl.c), or at load. */
void xtcp_mem_update(void)
{
	WRITE_ONCE(xtcp_sysctl_mem[0], xtcp_mem_limit(XTCP_KNOB_mem_min, 0));
	WRITE_ONCE(xtcp_sysctl_mem[1],
		   xtcp_mem_limit(XTCP_KNOB_mem_pressure, 1));
	WRITE_ONCE(xtcp_sysctl_mem[2], xtcp_mem_limit(XTCP_KNOB_mem_max, 2));
}

/* ->enter_memory_pressure (tcp_enter_memory_pressure()). */
void xtcp_enter_memory_pressure(struct sock *sk)
{
	if (READ_ONCE(xtcp_memory_pressure))
		return;
	/* Nonzero, as TCP stores the time it entered. */
	if (!cmpxchg(&xtcp_memory_pressure, 0, jiffies | 1))
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_MEMORYPRESSURES);
}

/* ->leave_memory_pressure. */
void xtcp_leave_memory_pressure(struct sock *sk)
{
	if (READ_ONCE(xtcp_memory_pressure))
		WRITE_ONCE(xtcp_memory_pressure, 0);
}

/* Pages charged to the protocol, exactly (the per-CPU reserves too). */
long xtcp_memory_pages(void)
{
	long pages = atomic_long_read(&xtcp_memory_allocated);
	int cpu;

	for_each_possible_cpu(cpu)
		pages += per_cpu(xtcp_memory_per_cpu_fw_alloc, cpu);
	return pages;
}

int xtcp_orphans(void)
{
	int cpu, n = 0;

	for_each_possible_cpu(cpu)
		n += per_cpu(xtcp_orphan_count, cpu);
	return max(n, 0);
}

/* close() made @sk an orphan. */
void xtcp_orphan_add(struct sock *sk)
{
	xtcp_sk(sk)->orphan = true;
	this_cpu_inc(xtcp_orphan_count);
}

/* @sk is destroyed. */
void xtcp_orphan_del(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->orphan) {
		xs->orphan = false;
		this_cpu_dec(xtcp_orphan_count);
	}
}

/*
 * The write queue grew (or, negative, shrank) by @delta bytes of truesize.
 * Growth that sk_wmem_schedule() did not cover beforehand (control
 * segments, splits of an skb) is charged all the same, as TCP's
 * sk_forced_mem_schedule(): the next schedule makes up for it.
 */
void xtcp_wmem_charge(struct sock *sk, int delta)
{
	sk_wmem_queued_add(sk, delta);
	if (delta >= 0)
		sk_mem_charge(sk, delta);
	else
		sk_mem_uncharge(sk, -delta);
}

/*
 * tcp_check_oom(): too many orphans (counted << @shift), or @sk holds send
 * buffer while the protocol is over mem_max.
 */
bool xtcp_check_oom(struct sock *sk, int shift)
{
	int max = xtcp_init_knob(XTCP_KNOB_max_orphans);
	bool orphans = (long)xtcp_orphans() << shift > max;
	bool mem = sk->sk_wmem_queued > SOCK_MIN_SNDBUF &&
		   sk_memory_allocated(sk) > sk_prot_mem_limits(sk, 2);

	if (orphans)
		net_info_ratelimited("xtcp: too many orphaned sockets\n");
	if (mem)
		net_info_ratelimited("xtcp: out of memory -- consider tuning mem_max\n");
	return orphans || mem;
}

/*
 * An orphan's timer fired (tcp_out_of_resources()): reset and destroy it
 * if it is one too many or memory is short; one that went long without
 * sending counts double. Returns true if @sk is gone.
 */
bool xtcp_out_of_resources(struct sock *sk, bool do_reset)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long idle = jiffies - xs->last_data_sent;
	int shift = 0;

	if (idle > 2UL * xtcp_rto_max(sk) || !do_reset)
		shift++;
	if (READ_ONCE(sk->sk_err_soft))
		shift++;
	if (!xtcp_check_oom(sk, shift))
		return false;
	/* Still worth telling the peer: it heard from us lately, or waits. */
	if (idle <= 60UL * HZ || (!xs->snd_wnd && !xs->packets_out))
		do_reset = true;
	if (do_reset)
		xtcp_send_active_reset(sk, GFP_ATOMIC);
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ABORTONMEMORY);
	xtcp_done(sk);
	return true;
}

/* /proc/net/xtcp_sockstat, as the TCP line of /proc/net/sockstat. */
static int xtcp_sockstat_show(struct seq_file *seq, void *v)
{
	seq_printf(seq, "XTCP: orphan %d tw %ld mem %ld pressure %d\n",
		   xtcp_orphans(), xtcp_tw_count(), xtcp_memory_pages(),
		   !!READ_ONCE(xtcp_memory_pressure));
	return 0;
}

int xtcp_mem_proc_init(struct net *net)
{
	if (!proc_create_net_single("xtcp_sockstat", 0444, net->proc_net,
				    xtcp_sockstat_show, NULL))
		return -ENOMEM;
	return 0;
}

void xtcp_mem_proc_exit(struct net *net)
{
	remove_proc_entry("xtcp_sockstat", net->proc_net);
}
