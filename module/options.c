// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: TCP options (RFC 9293 3.1 and 3.7.1, RFC 7323, RFC 2018).
 *
 * xtcp offers MSS, window scale, SACK-permitted and timestamps on its SYN
 * and echoes on its SYN-ACK what the peer offered. After the handshake
 * it sends timestamps and, on ACKs while it holds out-of-order data or
 * has a duplicate to report, SACK blocks (RFC 2018, D-SACK RFC 2883).
 * The layouts match what Linux TCP sends, so traces look familiar.
 */
#include <linux/kernel.h>
#include <net/tcp.h>

#include "xtcp.h"

/**
 * xtcp_parse_options - read the options of a received segment
 * @th: the TCP header; the caller has pulled th->doff * 4 bytes
 * @opt: where to store what was found
 * @syn: the segment carries SYN; MSS, window scale and SACK-permitted
 *	count only there
 *
 * A malformed option (length below 2 or past the header) ends the walk;
 * what was read before it stands, as in tcp_parse_options().
 */
void xtcp_parse_options(const struct tcphdr *th, struct xtcp_options *opt,
			bool syn)
{
	const unsigned char *ptr = (const unsigned char *)(th + 1);
	int length = th->doff * 4 - sizeof(struct tcphdr);

	opt->saw_tstamp = 0;
	opt->num_sacks = 0;
	while (length > 0) {
		int opcode = *ptr++;
		int opsize;

		if (opcode == TCPOPT_EOL)
			return;
		if (opcode == TCPOPT_NOP) {
			length--;
			continue;
		}
		if (length < 2)
			return;
		opsize = *ptr++;
		if (opsize < 2 || opsize > length)
			return;

		switch (opcode) {
		case TCPOPT_MSS:
			if (opsize == TCPOLEN_MSS && syn) {
				u16 mss = get_unaligned_be16(ptr);

				if (mss)
					opt->mss = mss;
			}
			break;
		case TCPOPT_WINDOW:
			if (opsize == TCPOLEN_WINDOW && syn) {
				opt->wscale_ok = 1;
				opt->snd_wscale = min_t(u8, *ptr, TCP_MAX_WSCALE);
			}
			break;
		case TCPOPT_SACK_PERM:
			if (opsize == TCPOLEN_SACK_PERM && syn)
				opt->sack_ok = 1;
			break;
		case TCPOPT_TIMESTAMP:
			if (opsize == TCPOLEN_TIMESTAMP) {
				opt->saw_tstamp = 1;
				opt->rcv_tsval = get_unaligned_be32(ptr);
				opt->rcv_tsecr = get_unaligned_be32(ptr + 4);
			}
			break;
		case TCPOPT_SACK:
			if (!syn && opsize >= TCPOLEN_SACK_BASE + TCPOLEN_SACK_PERBLOCK &&
			    !((opsize - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_PERBLOCK)) {
				int n = (opsize - TCPOLEN_SACK_BASE) /
					TCPOLEN_SACK_PERBLOCK;
				int i;

				n = min(n, XTCP_MAX_SACKS);
				for (i = 0; i < n; i++) {
					opt->sacks[i].start =
						get_unaligned_be32(ptr + 8 * i);
					opt->sacks[i].end =
						get_unaligned_be32(ptr + 8 * i + 4);
				}
				opt->num_sacks = n;
			}
			break;
		}
		ptr += opsize - 2;
		length -= opsize;
	}
}

/* SACK blocks that fit next to the other options of a segment. */
static int xtcp_sack_room(const struct xtcp_sock *xs, int nsacks)
{
	int room = MAX_TCP_OPTION_SPACE - TCPOLEN_SACK_BASE_ALIGNED;

	if (xs->rx_opt.tstamp_ok)
		room -= TCPOLEN_TSTAMP_ALIGNED;
	return min(nsacks, room / TCPOLEN_SACK_PERBLOCK);
}

/*
 * Bytes of options on a segment with @flags from @xs, carrying up to
 * @nsacks of @sacks (ignored on SYNs).
 */
unsigned int xtcp_options_size(const struct xtcp_sock *xs, u8 flags,
			       const struct xtcp_sack_block *sacks, int nsacks)
{
	const struct xtcp_options *o = &xs->rx_opt;
	unsigned int size = 0;

	if (flags & TCPHDR_SYN) {
		size += TCPOLEN_MSS_ALIGNED;
		if (o->tstamp_ok)
			size += TCPOLEN_TSTAMP_ALIGNED;
		else if (o->sack_ok)
			size += TCPOLEN_SACKPERM_ALIGNED;
		if (o->wscale_ok)
			size += TCPOLEN_WSCALE_ALIGNED;
	} else {
		if (o->tstamp_ok)
			size += TCPOLEN_TSTAMP_ALIGNED;
		nsacks = xtcp_sack_room(xs, nsacks);
		if (nsacks > 0)
			size += TCPOLEN_SACK_BASE_ALIGNED +
				nsacks * TCPOLEN_SACK_PERBLOCK;
	}
	return size;
}

/* Write the options counted by xtcp_options_size(), 32 bits at a time. */
void xtcp_write_options(__be32 *ptr, const struct xtcp_sock *xs, u8 flags,
			u32 tsval, const struct xtcp_sack_block *sacks,
			int nsacks)
{
	const struct xtcp_options *o = &xs->rx_opt;
	u32 tsecr = (flags & TCPHDR_SYN) && !(flags & TCPHDR_ACK) ?
		    0 : xs->ts_recent;

	if (flags & TCPHDR_SYN)
		*ptr++ = htonl((TCPOPT_MSS << 24) | (TCPOLEN_MSS << 16) |
			       xs->advmss);

	if (o->tstamp_ok) {
		if ((flags & TCPHDR_SYN) && o->sack_ok)
			*ptr++ = htonl((TCPOPT_SACK_PERM << 24) |
				       (TCPOLEN_SACK_PERM << 16) |
				       (TCPOPT_TIMESTAMP << 8) |
				       TCPOLEN_TIMESTAMP);
		else
			*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
				       (TCPOPT_TIMESTAMP << 8) |
				       TCPOLEN_TIMESTAMP);
		*ptr++ = htonl(tsval);
		*ptr++ = htonl(tsecr);
	} else if ((flags & TCPHDR_SYN) && o->sack_ok) {
		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
			       (TCPOPT_SACK_PERM << 8) | TCPOLEN_SACK_PERM);
	}

	if ((flags & TCPHDR_SYN) && o->wscale_ok)
		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_WINDOW << 16) |
			       (TCPOLEN_WINDOW << 8) | o->rcv_wscale);

	nsacks = (flags & TCPHDR_SYN) ? 0 : xtcp_sack_room(xs, nsacks);
	if (nsacks > 0) {
		int i;

		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
			       (TCPOPT_SACK << 8) |
			       (TCPOLEN_SACK_BASE +
				nsacks * TCPOLEN_SACK_PERBLOCK));
		for (i = 0; i < nsacks; i++) {
			*ptr++ = htonl(sacks[i].start);
			*ptr++ = htonl(sacks[i].end);
		}
	}
}

/*
 * What a SYN or SYN-ACK of @sk offers, from the namespace's knobs: a
 * connecting socket's and a listener's new child's (Linux reads its
 * sysctls at the same points). The window scale is the least that lets
 * the window cover the largest receive buffer the socket may grow to, as
 * tcp_select_initial_window() finds it: the larger of tcp_rmem[2] and
 * rmem_max, or what a fixed SO_RCVBUF leaves for the window, at most
 * TCP_WINDOW_CLAMP.
 */
void xtcp_set_offers(struct sock *sk)
{
	struct xtcp_options *o = &xtcp_sk(sk)->rx_opt;
	const struct net *net = sock_net(sk);
	u32 space = max_t(int, xtcp_full_space(sk), 1);

	o->tstamp_ok = !!xtcp_knob(net, XTCP_KNOB_timestamps);
	o->sack_ok = !!xtcp_knob(net, XTCP_KNOB_sack);
	o->wscale_ok = !!xtcp_knob(net, XTCP_KNOB_window_scaling);
	o->rcv_wscale = 0;
	if (!o->wscale_ok)
		return;
	if (!(sk->sk_userlocks & SOCK_RCVBUF_LOCK)) {
		space = max_t(u32, space,
			      READ_ONCE(net->ipv4.sysctl_tcp_rmem[2]));
		space = max_t(u32, space, READ_ONCE(sysctl_rmem_max));
	}
	if (xtcp_sk(sk)->window_clamp)
		space = min(space, xtcp_sk(sk)->window_clamp);
	o->rcv_wscale = clamp_t(int, ilog2(space) - 15, 0, TCP_MAX_WSCALE);
}

/*
 * PAWS as a TIME_WAIT socket applies it (tcp_paws_reject()), for an
 * entry and for an orphan in FIN_WAIT2: @tsval older than @ts_recent is
 * an old duplicate, unless ts_recent is 0 or more than 24 days old
 * (@stamp, seconds); a RST only while ts_recent is less than a minute
 * old. The caller checks that both sides use timestamps.
 */
bool xtcp_paws_reject_rst(u32 ts_recent, u32 stamp, u32 tsval, bool rst)
{
	u32 now = ktime_get_seconds();

	if (!ts_recent || (s32)(ts_recent - tsval) <= 0 ||
	    !time_before32(now, stamp + TCP_PAWS_24DAYS))
		return false;
	return !(rst && !time_before32(now, stamp + TCP_PAWS_MSL));
}

/* Options of the peer's SYN: settle what both sides agreed on. */
void xtcp_negotiate(struct sock *sk, const struct xtcp_options *peer)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_options *o = &xs->rx_opt;

	o->mss = peer->mss;
	o->wscale_ok = o->wscale_ok && peer->wscale_ok;
	o->snd_wscale = o->wscale_ok ? peer->snd_wscale : 0;
	o->rcv_wscale = o->wscale_ok ? o->rcv_wscale : 0;
	/* Without a scale, 65535 is the largest window there is. */
	if (!o->wscale_ok && xs->window_clamp)
		xs->window_clamp = min(xs->window_clamp, 65535U);
	o->sack_ok = o->sack_ok && peer->sack_ok;
	o->tstamp_ok = o->tstamp_ok && peer->saw_tstamp;
	if (o->tstamp_ok) {
		xs->ts_recent = peer->rcv_tsval;
		xs->ts_recent_stamp = ktime_get_seconds();
	}
	xtcp_sync_mss(sk, __sk_dst_get(sk) ? dst_mtu(__sk_dst_get(sk)) :
		      IPV4_MIN_MTU);
}
