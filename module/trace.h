/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp: tracepoints, named and laid out as Linux's tcp: and sock: events
 * (include/trace/events/tcp.h, sock.h) so that scripts written for those
 * adapt by changing the event name. Addresses are IPv4 only (saddr and
 * daddr as 4 bytes; xtcp:xtcp_probe keeps tcp_probe's sockaddr fields).
 * sock_cookie is 0 until something asked for the socket's cookie (BPF,
 * SO_COOKIE): a module cannot make one (__sock_gen_cookie() is not
 * exported).
 * Disabled, each costs a static branch (TRACE_EVENT's static keys).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM xtcp

#if !defined(_XTCP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _XTCP_TRACE_H

#include <linux/tracepoint.h>
#include <asm/unaligned.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <net/inet_sock.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "xtcp.h"

#define xtcp_state_name(state)					\
	__print_symbolic(state,					\
		{ TCP_ESTABLISHED, "TCP_ESTABLISHED" },		\
		{ TCP_SYN_SENT, "TCP_SYN_SENT" },		\
		{ TCP_SYN_RECV, "TCP_SYN_RECV" },		\
		{ TCP_FIN_WAIT1, "TCP_FIN_WAIT1" },		\
		{ TCP_FIN_WAIT2, "TCP_FIN_WAIT2" },		\
		{ TCP_TIME_WAIT, "TCP_TIME_WAIT" },		\
		{ TCP_CLOSE, "TCP_CLOSE" },			\
		{ TCP_CLOSE_WAIT, "TCP_CLOSE_WAIT" },		\
		{ TCP_LAST_ACK, "TCP_LAST_ACK" },		\
		{ TCP_LISTEN, "TCP_LISTEN" },			\
		{ TCP_CLOSING, "TCP_CLOSING" })

#ifndef _XTCP_TRACE_HELPERS
#define _XTCP_TRACE_HELPERS
/* The ports and addresses of @sk, into an entry's fields. */
static inline void xtcp_trace_store(const struct sock *sk, __u16 *sport,
				    __u16 *dport, __u16 *family, __u8 *saddr,
				    __u8 *daddr)
{
	const struct inet_sock *inet = inet_sk(sk);

	*sport = ntohs(inet->inet_sport);
	*dport = ntohs(inet->inet_dport);
	*family = AF_INET;
	memcpy(saddr, &inet->inet_saddr, 4);
	memcpy(daddr, &inet->inet_daddr, 4);
}
#endif

/* A state change of a socket (sock:inet_sock_set_state). */
TRACE_EVENT(xtcp_set_state,
	TP_PROTO(const struct sock *sk, int oldstate, int newstate),
	TP_ARGS(sk, oldstate, newstate),
	TP_STRUCT__entry(
		__field(const void *, skaddr)
		__field(int, oldstate)
		__field(int, newstate)
		__field(__u16, sport)
		__field(__u16, dport)
		__field(__u16, family)
		__field(__u16, protocol)
		__array(__u8, saddr, 4)
		__array(__u8, daddr, 4)
	),
	TP_fast_assign(
		__entry->skaddr = sk;
		__entry->oldstate = oldstate;
		__entry->newstate = newstate;
		__entry->protocol = xtcp_ipproto;
		xtcp_trace_store(sk, &__entry->sport, &__entry->dport,
				 &__entry->family, __entry->saddr,
				 __entry->daddr);
	),
	TP_printk("protocol=%u sport=%hu dport=%hu saddr=%pI4 daddr=%pI4 oldstate=%s newstate=%s",
		  __entry->protocol, __entry->sport, __entry->dport,
		  __entry->saddr, __entry->daddr,
		  xtcp_state_name(__entry->oldstate),
		  xtcp_state_name(__entry->newstate))
);

/*
 * A segment of a socket's (tcp:tcp_retransmit_skb, tcp:tcp_send_reset).
 * For a RST answering a segment that matched no socket (@sk NULL), the
 * addresses and ports are the RST's own, from @iph and @th, and state is
 * TCP_CLOSE, as tcp:tcp_send_reset shows them there.
 */
DECLARE_EVENT_CLASS(xtcp_event_sk_skb,
	TP_PROTO(const struct sock *sk, const struct sk_buff *skb,
		 const struct iphdr *iph, const struct tcphdr *th),
	TP_ARGS(sk, skb, iph, th),
	TP_STRUCT__entry(
		__field(const void *, skbaddr)
		__field(const void *, skaddr)
		__field(int, state)
		__field(__u16, sport)
		__field(__u16, dport)
		__field(__u16, family)
		__array(__u8, saddr, 4)
		__array(__u8, daddr, 4)
	),
	TP_fast_assign(
		__entry->skbaddr = skb;
		__entry->skaddr = sk;
		if (sk) {
			__entry->state = sk->sk_state;
			xtcp_trace_store(sk, &__entry->sport, &__entry->dport,
					 &__entry->family, __entry->saddr,
					 __entry->daddr);
		} else {
			__entry->state = TCP_CLOSE;
			__entry->sport = ntohs(th->source);
			__entry->dport = ntohs(th->dest);
			__entry->family = AF_INET;
			memcpy(__entry->saddr, &iph->saddr, 4);
			memcpy(__entry->daddr, &iph->daddr, 4);
		}
	),
	TP_printk("skbaddr=%p skaddr=%p sport=%hu dport=%hu saddr=%pI4 daddr=%pI4 state=%s",
		  __entry->skbaddr, __entry->skaddr, __entry->sport,
		  __entry->dport, __entry->saddr, __entry->daddr,
		  xtcp_state_name(__entry->state))
);

/* A segment retransmitted (@iph, @th: NULL). */
DEFINE_EVENT(xtcp_event_sk_skb, xtcp_retransmit,
	TP_PROTO(const struct sock *sk, const struct sk_buff *skb,
		 const struct iphdr *iph, const struct tcphdr *th),
	TP_ARGS(sk, skb, iph, th)
);

/* A RST sent. */
DEFINE_EVENT(xtcp_event_sk_skb, xtcp_send_reset,
	TP_PROTO(const struct sock *sk, const struct sk_buff *skb,
		 const struct iphdr *iph, const struct tcphdr *th),
	TP_ARGS(sk, skb, iph, th)
);

/* A RST taken: the connection ends (tcp:tcp_receive_reset). */
TRACE_EVENT(xtcp_receive_reset,
	TP_PROTO(struct sock *sk),
	TP_ARGS(sk),
	TP_STRUCT__entry(
		__field(const void *, skaddr)
		__field(int, state)
		__field(__u16, sport)
		__field(__u16, dport)
		__field(__u16, family)
		__array(__u8, saddr, 4)
		__array(__u8, daddr, 4)
		__field(__u64, sock_cookie)
	),
	TP_fast_assign(
		__entry->skaddr = sk;
		__entry->state = sk->sk_state;
		xtcp_trace_store(sk, &__entry->sport, &__entry->dport,
				 &__entry->family, __entry->saddr,
				 __entry->daddr);
		__entry->sock_cookie = atomic64_read(&sk->sk_cookie);
	),
	TP_printk("sport=%hu dport=%hu saddr=%pI4 daddr=%pI4 state=%s sock_cookie=%llx",
		  __entry->sport, __entry->dport, __entry->saddr,
		  __entry->daddr, xtcp_state_name(__entry->state),
		  __entry->sock_cookie)
);

/* Every ACK a connection takes, with its sender's state (tcp:tcp_probe). */
TRACE_EVENT(xtcp_probe,
	TP_PROTO(struct sock *sk, const struct sk_buff *skb),
	TP_ARGS(sk, skb),
	TP_STRUCT__entry(
		__array(__u8, saddr, sizeof(struct sockaddr_in))
		__array(__u8, daddr, sizeof(struct sockaddr_in))
		__field(__u16, sport)
		__field(__u16, dport)
		__field(__u16, family)
		__field(__u32, mark)
		__field(__u16, data_len)
		__field(__u32, snd_nxt)
		__field(__u32, snd_una)
		__field(__u32, snd_cwnd)
		__field(__u32, ssthresh)
		__field(__u32, snd_wnd)
		__field(__u32, srtt)
		__field(__u32, rcv_wnd)
		__field(__u64, sock_cookie)
	),
	TP_fast_assign(
		const struct inet_sock *inet = inet_sk(sk);
		const struct xtcp_sock *xs = xtcp_sk(sk);
		struct sockaddr_in *s = (struct sockaddr_in *)__entry->saddr;
		struct sockaddr_in *d = (struct sockaddr_in *)__entry->daddr;

		memset(s, 0, sizeof(*s));
		memset(d, 0, sizeof(*d));
		s->sin_family = AF_INET;
		s->sin_port = inet->inet_sport;
		s->sin_addr.s_addr = inet->inet_saddr;
		d->sin_family = AF_INET;
		d->sin_port = inet->inet_dport;
		d->sin_addr.s_addr = inet->inet_daddr;
		__entry->sport = ntohs(inet->inet_sport);
		__entry->dport = ntohs(inet->inet_dport);
		__entry->family = AF_INET;
		__entry->mark = skb->mark;
		__entry->data_len = skb->len - tcp_hdr(skb)->doff * 4;
		__entry->snd_nxt = xs->snd_nxt;
		__entry->snd_una = xs->snd_una;
		__entry->snd_cwnd = xs->snd_cwnd;
		__entry->ssthresh = xs->snd_ssthresh;
		__entry->snd_wnd = xs->snd_wnd;
		__entry->srtt = xs->srtt_us >> 3;
		__entry->rcv_wnd = xs->rcv_wnd;
		__entry->sock_cookie = atomic64_read(&sk->sk_cookie);
	),
	TP_printk("src=%pISpc dest=%pISpc mark=%#x data_len=%d snd_nxt=%#x snd_una=%#x snd_cwnd=%u ssthresh=%u snd_wnd=%u srtt=%u rcv_wnd=%u sock_cookie=%llx",
		  __entry->saddr, __entry->daddr, __entry->mark,
		  __entry->data_len, __entry->snd_nxt, __entry->snd_una,
		  __entry->snd_cwnd, __entry->ssthresh, __entry->snd_wnd,
		  __entry->srtt, __entry->rcv_wnd, __entry->sock_cookie)
);

/*
 * A segment dropped, with the counter it was counted under as the reason
 * (the name in /proc/net/xtcp_stat); addresses and ports are the
 * segment's (skb:kfree_skb has the reason, without them).
 */
TRACE_EVENT(xtcp_drop,
	TP_PROTO(const struct sock *sk, const struct sk_buff *skb, int field),
	TP_ARGS(sk, skb, field),
	TP_STRUCT__entry(
		__field(const void *, skbaddr)
		__field(const void *, skaddr)
		__field(int, state)
		__field(__u16, sport)
		__field(__u16, dport)
		__array(__u8, saddr, 4)
		__array(__u8, daddr, 4)
		__string(reason, xtcp_mib_name(field))
	),
	TP_fast_assign(
		const unsigned char *th = skb_transport_header(skb);

		__entry->skbaddr = skb;
		__entry->skaddr = sk;
		__entry->state = sk ? sk->sk_state : TCP_CLOSE;
		memcpy(__entry->saddr, &ip_hdr(skb)->saddr, 4);
		memcpy(__entry->daddr, &ip_hdr(skb)->daddr, 4);
		__entry->sport = 0;
		__entry->dport = 0;
		if (skb_transport_header_was_set(skb) && th >= skb->head &&
		    th + 4 <= skb_tail_pointer(skb)) {
			__entry->sport = get_unaligned_be16(th);
			__entry->dport = get_unaligned_be16(th + 2);
		}
		__assign_str(reason, xtcp_mib_name(field));
	),
	TP_printk("skbaddr=%p skaddr=%p sport=%hu dport=%hu saddr=%pI4 daddr=%pI4 state=%s reason=%s",
		  __entry->skbaddr, __entry->skaddr, __entry->sport,
		  __entry->dport, __entry->saddr, __entry->daddr,
		  xtcp_state_name(__entry->state), __get_str(reason))
);

/*
 * A TIME_WAIT time bucket fired: how many entries it reaped, how many it
 * moved on (their 2 * MSL was restarted), and how late it fired.
 */
TRACE_EVENT(xtcp_tw_reap,
	TP_PROTO(int reaped, int moved, s64 late_ns),
	TP_ARGS(reaped, moved, late_ns),
	TP_STRUCT__entry(
		__field(int, reaped)
		__field(int, moved)
		__field(s64, late_ns)
		__field(int, cpu)
	),
	TP_fast_assign(
		__entry->reaped = reaped;
		__entry->moved = moved;
		__entry->late_ns = late_ns;
		__entry->cpu = smp_processor_id();
	),
	TP_printk("cpu=%d reaped=%d moved=%d late_us=%lld",
		  __entry->cpu, __entry->reaped, __entry->moved,
		  div_s64(__entry->late_ns, NSEC_PER_USEC))
);

#endif /* _XTCP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
