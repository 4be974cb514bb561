// SPDX-License-Identifier: GPL-2.0
/*
 * Segment fuzzer: structured random segments at a connection in each
 * state, played through a tun device as the remote peer.
 *
 * In a network namespace of its own, a tun "xfz0" holds 192.0.2.1/24; the
 * peer is 192.0.2.2. For each state (CLOSED: a port with no socket,
 * LISTEN, SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT1, FIN_WAIT2,
 * CLOSE_WAIT, LAST_ACK, CLOSING, TIME_WAIT) a connection is driven there
 * with a handshake played by hand, then N segments are thrown at it:
 * every flag combination, sequence and acknowledgment numbers near the
 * edges of the window and anywhere, options well-formed and not (bad
 * lengths, SACK blocks with random edges, repeated timestamps, MSS 0 and
 * 1), lying data offsets, truncated headers, bad checksums, IP fragments,
 * payloads of 0 to MSS + 100 bytes, windows 0, 1 and the largest; and
 * ICMP errors (fragmentation needed with any MTU, unreachable, time
 * exceeded, source quench) that quote the connection's header or garbage.
 * When a segment ends the connection (a RST that fits, say), the state is
 * driven again and fuzzing goes on.
 *
 * Every batch of 100 segments every row of /proc/net/xtcp (or
 * /proc/net/tcp) must be sane: a state of the 11, queues that parse and
 * are not negative; and the scoreboard of TCP_INFO must add up. At
 * the end every socket is closed; the caller checks memory and rmmod.
 *
 * Usage: xtcp_fuzz [-p xtcp|tcp] [-n SEGMENTS_PER_STATE] [-S SEED]
 *                  [-s STATE[,STATE...]]
 * The seed is printed; the same seed replays the same segments (what the
 * stack answers may still differ with timing).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xtcp_lib.h"

#define LOCAL	"192.0.2.1"
#define PEER	"192.0.2.2"
#define MSS	1000
#define BATCH	100

enum { F_FIN = 1, F_SYN = 2, F_RST = 4, F_PSH = 8, F_ACK = 16, F_URG = 32,
       F_ECE = 64, F_CWR = 128 };

static int tun, family, proto;
static bool baseline;
static uint64_t rng;
static unsigned long sent_total, rebuilds;

static uint32_t rnd(void)
{
	/* xorshift64*: fast, and the seed replays it. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 2685821657736338717ULL) >> 32);
}

static uint32_t below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

static void die(const char *what)
{
	fprintf(stderr, "xtcp_fuzz: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint16_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += (p[0] << 8) | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static uint16_t csum(const void *data, size_t len, uint32_t start)
{
	return ~csum_add(start, data, len) & 0xffff;
}

/* The transport checksum of @t (@len bytes) from the peer to us. */
static uint16_t l4_csum(const uint8_t *t, size_t len, uint32_t saddr)
{
	uint8_t ps[12];

	memcpy(ps, &saddr, 4);
	inet_pton(AF_INET, LOCAL, ps + 4);
	ps[8] = 0;
	ps[9] = proto;
	ps[10] = len >> 8;
	ps[11] = len;
	return htons(csum(t, len, csum_add(0, ps, 12)));
}

/* ------------------------------------------------------------ tun */

static void tun_setup(void)
{
	struct sockaddr_in *sin;
	struct ifreq ifr = {};
	int fd;

	if (access("/dev/net/tun", F_OK) && system("modprobe tun 2>/dev/null"))
		fprintf(stderr, "xtcp_fuzz: modprobe tun failed\n");
	if (unshare(CLONE_NEWNET))
		die("unshare");
	tun = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
	if (tun < 0)
		die("/dev/net/tun");
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	strcpy(ifr.ifr_name, "xfz0");
	if (ioctl(tun, TUNSETIFF, &ifr))
		die("TUNSETIFF");
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, LOCAL, &sin->sin_addr);
	if (ioctl(fd, SIOCSIFADDR, &ifr))
		die("SIOCSIFADDR");
	inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
	if (ioctl(fd, SIOCSIFNETMASK, &ifr))
		die("SIOCSIFNETMASK");
	ifr.ifr_flags = IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr))
		die("SIOCSIFFLAGS");
	strcpy(ifr.ifr_name, "lo");
	ifr.ifr_flags = IFF_UP | IFF_RUNNING;
	ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
}

static void knob(const char *path, int val)
{
	FILE *f = fopen(path, "w");

	if (!f || fprintf(f, "%d\n", val) < 0)
		fprintf(stderr, "xtcp_fuzz: cannot set %s\n", path);
	if (f)
		fclose(f);
}

/*
 * The namespace's knobs: orphans (the LAST_ACK connections, whatever the
 * fuzzing left in flight) give up within a second or two, so that the
 * module is free again soon after the run.
 */
static void knobs_setup(void)
{
	if (baseline) {
		knob("/proc/sys/net/ipv4/tcp_orphan_retries", 1);
		return;
	}
	knob("/proc/sys/net/xtcp/orphan_retries", 1);
	knob("/proc/sys/net/xtcp/rto_max_ms", 200);
}

/* What the stack sent, parsed. */
struct seg {
	uint32_t saddr, daddr, seq, ack;
	uint16_t sport, dport, win;
	uint8_t flags;
	int len;
};

/* The next segment of our protocol out of the tun, within @ms. */
static bool tun_read(struct seg *s, int ms)
{
	struct pollfd p = { .fd = tun, .events = POLLIN };
	uint8_t buf[65536];

	for (;;) {
		ssize_t n;
		int ihl;

		if (poll(&p, 1, ms) <= 0)
			return false;
		n = read(tun, buf, sizeof(buf));
		if (n < 40 || (buf[0] >> 4) != 4 || buf[9] != proto)
			continue;
		ihl = (buf[0] & 15) * 4;
		if (n < ihl + 20)
			continue;
		memcpy(&s->saddr, buf + 12, 4);
		memcpy(&s->daddr, buf + 16, 4);
		s->sport = (buf[ihl] << 8) | buf[ihl + 1];
		s->dport = (buf[ihl + 2] << 8) | buf[ihl + 3];
		s->seq = ntohl(*(uint32_t *)(buf + ihl + 4));
		s->ack = ntohl(*(uint32_t *)(buf + ihl + 8));
		s->flags = buf[ihl + 13];
		s->win = (buf[ihl + 14] << 8) | buf[ihl + 15];
		s->len = n - ihl - (buf[ihl + 12] >> 4) * 4;
		return true;
	}
}

/* Throw away whatever the stack sent. */
static void tun_drain(void)
{
	uint8_t buf[65536];

	while (read(tun, buf, sizeof(buf)) > 0)
		;
}

static void tun_write(const void *pkt, size_t len)
{
	/* A full queue or a refused packet is part of the game. */
	if (write(tun, pkt, len) > 0)
		sent_total++;
}

/* ------------------------------------------------------------ segments */

struct conn {
	int fd;			/* the socket, or -1 */
	int lfd;		/* its listener, or -1 */
	uint16_t lport, pport;	/* ours (the stack's) and the peer's */
	uint32_t snd;		/* the peer's next sequence number */
	uint32_t rcv;		/* what the peer acknowledges */
	uint32_t tsval;
};

static size_t ip_header(uint8_t *p, size_t total, uint8_t ipproto,
			uint32_t saddr, bool frag)
{
	uint16_t id = rnd();

	p[0] = 0x45;
	p[1] = below(4) ? 0 : rnd() & 0xff;	/* TOS, ECN bits too */
	p[2] = total >> 8;
	p[3] = total;
	p[4] = id >> 8;
	p[5] = id;
	p[6] = 0x40;				/* DF */
	p[7] = 0;
	if (frag) {				/* MF, or an offset */
		uint16_t off = below(2) ? 0x2000 : below(8192);

		p[6] = off >> 8;
		p[7] = off;
	}
	p[8] = below(8) ? 64 : rnd();
	p[9] = ipproto;
	p[10] = p[11] = 0;
	memcpy(p + 12, &saddr, 4);
	inet_pton(AF_INET, LOCAL, p + 16);
	*(uint16_t *)(p + 10) = htons(csum(p, 20, 0));
	return 20;
}

/* Random options, mostly the ones a peer sends, sometimes broken. */
static int options(uint8_t *o, const struct conn *c)
{
	int n = 0, i, k = below(5);

	while (k-- > 0 && n < 36) {
		switch (below(9)) {
		case 0:	/* MSS, any value, any length */
			o[n++] = 2;
			o[n++] = below(6) ? 4 : below(8);
			o[n++] = below(3) ? 0 : rnd();
			o[n++] = below(3) ? below(2) : rnd();
			break;
		case 1:
			o[n++] = 3;
			o[n++] = below(6) ? 3 : below(8);
			o[n++] = below(20);
			break;
		case 2:
			o[n++] = 4;
			o[n++] = below(6) ? 2 : below(5);
			break;
		case 3:	/* timestamps, repeated, zero, or old */
			o[n++] = 8;
			o[n++] = below(6) ? 10 : below(12);
			*(uint32_t *)(o + n) = htonl(below(3) ? c->tsval :
						     below(2) ? 0 : rnd());
			*(uint32_t *)(o + n + 4) = htonl(below(2) ? 0 : rnd());
			n += 8;
			break;
		case 4:	/* SACK blocks with edges near our data, or anywhere */
			if (n > 36 - 18)
				break;
			o[n++] = 5;
			i = 1 + below(4);
			if (i * 8 + n + 1 > 40)
				i = (40 - n - 1) / 8;
			o[n++] = below(6) ? 2 + 8 * (uint32_t)i : below(40);
			while (i-- > 0) {
				uint32_t a = below(2) ? c->rcv + below(4 * MSS) -
						MSS : rnd();

				*(uint32_t *)(o + n) = htonl(a);
				*(uint32_t *)(o + n + 4) = htonl(below(4) ?
					a + below(3 * MSS) : rnd());
				n += 8;
			}
			break;
		case 5:
			o[n++] = 1;	/* NOP */
			break;
		case 6:
			o[n++] = 0;	/* EOL, then anything */
			break;
		case 7:	/* an unknown kind */
			o[n++] = 9 + below(240);
			o[n++] = below(10);
			break;
		default: /* garbage */
			for (i = below(8); i > 0 && n < 38; i--)
				o[n++] = rnd();
			break;
		}
	}
	if (n > 40)
		n = 40;
	while (n % 4)
		o[n++] = 1;
	return n;
}

/* One random segment (or ICMP error) at the connection. */
static void fuzz_one(struct conn *c)
{
	static const uint32_t wins[] = { 0, 1, 65535, 512, 29200 };
	uint8_t pkt[1600], *t;
	uint32_t saddr, seq, ack;
	size_t len, hl, iphl;
	uint16_t sport;
	uint8_t flags;
	int olen, plen, i;

	inet_pton(AF_INET, PEER, &saddr);
	if (!below(40)) {
		/* An ICMP error quoting our header, or garbage. */
		uint8_t *q;

		iphl = ip_header(pkt, 0, IPPROTO_ICMP, saddr, false);
		q = pkt + iphl;
		q[0] = (uint8_t[]){ 3, 3, 3, 11, 4, 12 }[below(6)];
		q[1] = q[0] == 3 ? (below(2) ? 4 : below(16)) : below(2);
		q[2] = q[3] = 0;
		*(uint32_t *)(q + 4) = 0;
		if (q[0] == 3 && q[1] == 4)
			*(uint16_t *)(q + 6) = htons(below(3) ? below(1600) :
						     rnd());
		/* The quoted IPv4 header: from us to the peer. */
		q[8] = 0x45;
		q[9] = 0;
		*(uint16_t *)(q + 10) = htons(1040);
		q[12] = q[13] = q[14] = q[15] = 0;
		q[16] = 64;
		q[17] = proto;
		q[18] = q[19] = 0;
		inet_pton(AF_INET, LOCAL, q + 20);
		memcpy(q + 24, &saddr, 4);
		/* The quoted TCP header's first 8 bytes. */
		*(uint16_t *)(q + 28) = htons(c->lport);
		*(uint16_t *)(q + 30) = htons(c->pport);
		*(uint32_t *)(q + 32) = htonl(below(4) ? c->rcv - below(MSS) :
					      rnd());
		len = 36;
		if (!below(5))
			for (i = 28; i < 36; i++)
				q[i] = rnd();
		if (!below(10))
			len = 8 + below(28);
		*(uint16_t *)(q + 2) = htons(csum(q, len, 0));
		len += iphl;
		pkt[2] = len >> 8;
		pkt[3] = len;
		pkt[10] = pkt[11] = 0;
		*(uint16_t *)(pkt + 10) = htons(csum(pkt, 20, 0));
		tun_write(pkt, len);
		return;
	}

	sport = below(16) ? c->pport : rnd();
	switch (below(6)) {
	case 0:
		seq = rnd();
		break;
	case 1:
		seq = c->snd - below(2 * MSS);
		break;
	case 2:
		seq = c->snd + 65535 - below(2 * MSS);
		break;
	default:
		seq = c->snd + below(3) - 1;
		break;
	}
	switch (below(5)) {
	case 0:
		ack = rnd();
		break;
	case 1:
		ack = c->rcv - below(100000);
		break;
	case 2:
		ack = c->rcv + below(3 * MSS);
		break;
	default:
		ack = c->rcv + below(3) - 1;
		break;
	}
	/* Flags: mostly an ACK with a few others, sometimes anything. */
	flags = below(4) ? F_ACK | (rnd() & (F_PSH | F_FIN)) : rnd();
	if (!below(12))
		flags |= F_RST;
	if (!below(12))
		flags |= F_SYN;

	iphl = 20;
	t = pkt + iphl;
	olen = below(3) ? 0 : options(t + 20, c);
	hl = 20 + olen;
	plen = below(3) ? 0 : below(MSS + 100);
	if (iphl + hl + plen > sizeof(pkt))
		plen = sizeof(pkt) - iphl - hl;
	for (i = 0; i < plen; i++)
		t[hl + i] = rnd();
	*(uint16_t *)(t + 0) = htons(sport);
	*(uint16_t *)(t + 2) = htons(c->lport);
	*(uint32_t *)(t + 4) = htonl(seq);
	*(uint32_t *)(t + 8) = htonl(ack);
	t[12] = (hl / 4) << 4;
	if (!below(20))
		t[12] = below(16) << 4;		/* a lying data offset */
	t[13] = flags;
	*(uint16_t *)(t + 14) = htons(below(3) ? 65535 :
				      wins[below(5)] ^ (below(4) ? 0 : rnd()));
	t[16] = t[17] = 0;
	*(uint16_t *)(t + 18) = htons(below(8) ? 0 : rnd());	/* URG ptr */
	len = hl + plen;
	/* The checksum, mostly right. */
	*(uint16_t *)(t + 16) = l4_csum(t, len, saddr);
	if (!below(30))
		t[16] ^= 1 + below(255);
	len += iphl;
	ip_header(pkt, len, proto, saddr, !below(50));
	if (!below(30))
		len = below(len);			/* truncated */
	tun_write(pkt, len);
	if (c->tsval)
		c->tsval += below(3);
}

/* ------------------------------------------------------------ states */

static const char *const state_names[] = {
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED",
	"FIN_WAIT1", "FIN_WAIT2", "CLOSE_WAIT", "LAST_ACK", "CLOSING",
	"TIME_WAIT",
};
#define NSTATES 11

/* /proc state numbers (include/net/tcp_states.h) of the states above. */
static const int proc_state[] = { 7, 10, 2, 3, 1, 4, 5, 8, 9, 11, 6 };

static uint16_t next_pport = 20000;

/* Send a well-formed segment from the peer. */
static void peer_send(struct conn *c, uint8_t flags, uint32_t seq,
		      uint32_t ack, const void *data, int dlen)
{
	uint8_t pkt[1600], *t = pkt + 20;
	uint32_t saddr;
	size_t len = 24 + dlen;

	inet_pton(AF_INET, PEER, &saddr);
	memset(t, 0, 24);
	*(uint16_t *)(t + 0) = htons(c->pport);
	*(uint16_t *)(t + 2) = htons(c->lport);
	*(uint32_t *)(t + 4) = htonl(seq);
	*(uint32_t *)(t + 8) = htonl(ack);
	t[12] = 6 << 4;
	t[13] = flags;
	*(uint16_t *)(t + 14) = htons(65535);
	t[20] = 2;		/* MSS */
	t[21] = 4;
	*(uint16_t *)(t + 22) = htons(MSS);
	memcpy(t + 24, data, dlen);
	*(uint16_t *)(t + 16) = l4_csum(t, len, saddr);
	len += 20;
	ip_header(pkt, len, proto, saddr, false);
	pkt[1] = 0;
	pkt[8] = 64;
	pkt[10] = pkt[11] = 0;
	*(uint16_t *)(pkt + 10) = htons(csum(pkt, 20, 0));
	if (write(tun, pkt, len) < 0)
		die("tun write");
}

/* The next segment for this connection with all of @flags, within 3 s. */
static bool expect(struct conn *c, uint8_t flags, struct seg *s)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 3)
			return false;
		if (!tun_read(s, 500))
			continue;
		if (s->dport != c->pport || (c->lport && s->sport != c->lport))
			continue;
		if ((s->flags & flags) == flags)
			return true;
	}
}

static int xsocket(void)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, baseline ?
			IPPROTO_TCP : 0);

	if (fd < 0)
		die("socket");
	return fd;
}

static int listener(uint16_t port)
{
	struct sockaddr_in a = xtcp_addr(LOCAL, port);
	int fd = xsocket(), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64))
		die("listen");
	return fd;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		struct linger l = { 1, 0 };

		/* An abortive close: nothing lingers into the next state. */
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(c->fd);
	}
	if (c->lfd >= 0)
		close(c->lfd);
	c->fd = c->lfd = -1;
}

/* Drive a new connection into @state; false if the stack did not follow. */
static bool drive(struct conn *c, int state)
{
	struct sockaddr_in a;
	struct seg s;
	socklen_t al = sizeof(a);
	int e;

	memset(c, 0, sizeof(*c));
	c->fd = c->lfd = -1;
	c->pport = next_pport++;
	if (next_pport > 60000)
		next_pport = 20000;
	tun_drain();
	switch (state) {
	case 0:				/* CLOSED: nothing on port 4999 */
	case 1:				/* LISTEN on 5000 */
		c->lport = 4999 + state;
		if (state)
			c->lfd = listener(c->lport);
		c->snd = rnd();
		c->rcv = rnd();
		return true;
	case 3:				/* SYN_RECV */
		c->lport = 5001;
		c->lfd = listener(c->lport);
		c->snd = rnd();
		peer_send(c, F_SYN, c->snd, 0, NULL, 0);
		if (!expect(c, F_SYN | F_ACK, &s))
			return false;
		c->snd++;
		c->rcv = s.seq + 1;
		return true;
	}

	/* The others start with an active open. */
	c->fd = xsocket();
	a = xtcp_addr(PEER, c->pport);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) == 0 ||
	    errno != EINPROGRESS)
		die("connect");
	if (!expect(c, F_SYN, &s))
		return false;
	getsockname(c->fd, (struct sockaddr *)&a, &al);
	c->lport = ntohs(a.sin_port);
	c->rcv = s.seq + 1;
	c->snd = rnd();
	if (state == 2)
		return true;		/* SYN_SENT */
	peer_send(c, F_SYN | F_ACK, c->snd, c->rcv, NULL, 0);
	c->snd++;
	if (!expect(c, F_ACK, &s))
		return false;
	if (state == 4)
		return true;		/* ESTABLISHED */
	if (state == 7 || state == 8) {	/* CLOSE_WAIT, LAST_ACK */
		peer_send(c, F_FIN | F_ACK, c->snd, c->rcv, NULL, 0);
		c->snd++;
		if (!expect(c, F_ACK, &s))
			return false;
		if (state == 7)
			return true;
		close(c->fd);
		c->fd = -1;
		if (!expect(c, F_FIN, &s))
			return false;
		return true;
	}
	/* FIN_WAIT1, FIN_WAIT2, CLOSING, TIME_WAIT: our FIN first. */
	e = shutdown(c->fd, SHUT_WR);
	if (e || !expect(c, F_FIN, &s))
		return false;
	if (state == 5)
		return true;
	if (state == 9) {		/* CLOSING: their FIN, ours not ACKed */
		peer_send(c, F_FIN | F_ACK, c->snd, c->rcv, NULL, 0);
		c->snd++;
		c->rcv++;
		return expect(c, F_ACK, &s);
	}
	c->rcv++;
	peer_send(c, F_ACK, c->snd, c->rcv, NULL, 0);
	if (state == 6)
		return true;		/* FIN_WAIT2 */
	peer_send(c, F_FIN | F_ACK, c->snd, c->rcv, NULL, 0);
	c->snd++;
	return expect(c, F_ACK, &s);	/* TIME_WAIT */
}

/*
 * The connection's row in the proc table (for LISTEN the listener's):
 * -1 if there is none, else its state. Every row must parse, with a
 * state of the 11.
 */
static int proc_check(const struct conn *c, int state, bool *bad)
{
	FILE *f = fopen(baseline ? "/proc/net/tcp" : "/proc/net/xtcp", "r");
	char line[512];
	int found = -1;

	if (!f)
		die("proc table");
	if (!fgets(line, sizeof(line), f))
		die("proc header");
	while (fgets(line, sizeof(line), f)) {
		unsigned int la, lp, ra, rp, st, tx, rx;

		if (sscanf(line, " %*d: %x:%x %x:%x %x %x:%x", &la, &lp, &ra,
			   &rp, &st, &tx, &rx) != 7) {
			fprintf(stderr, "unparsable row: %s", line);
			*bad = true;
			continue;
		}
		if (st < 1 || st > 11) {
			fprintf(stderr, "row in state %u: %s", st, line);
			*bad = true;
		}
		/* A queue gone negative shows as a huge number. */
		if (tx > 1U << 30 || rx > 1U << 30) {
			fprintf(stderr, "row with queues %u:%u: %s", tx, rx,
				line);
			*bad = true;
		}
		if (lp == c->lport && (state == 1 ? st == 10 && !rp :
				       rp == c->pport && st != 10))
			found = st;
	}
	fclose(f);
	return found;
}

/*
 * The scoreboard of a connection we hold, from TCP_INFO: SACKed, lost and
 * retransmitted segments are among those out, and no count went negative.
 * Not once it is closed: Linux's tcp_done() empties the queue but leaves
 * lost_out and retrans_out for tcp_disconnect().
 */
static void info_check(const struct conn *c, int state, bool *bad)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (c->fd < 0 || getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
	    ti.tcpi_state == 7)
		return;
	if (ti.tcpi_sacked > ti.tcpi_unacked ||
	    ti.tcpi_lost > ti.tcpi_unacked ||
	    ti.tcpi_retrans > ti.tcpi_unacked ||
	    ti.tcpi_unacked > 1U << 20 || ti.tcpi_notsent_bytes > 1U << 30 ||
	    !ti.tcpi_snd_cwnd) {
		printf("not ok: %s: TCP_INFO unacked %u sacked %u lost %u retrans %u notsent %u cwnd %u\n",
		       state_names[state], ti.tcpi_unacked, ti.tcpi_sacked,
		       ti.tcpi_lost, ti.tcpi_retrans, ti.tcpi_notsent_bytes,
		       ti.tcpi_snd_cwnd);
		*bad = true;
	}
}

int main(int argc, char **argv)
{
	unsigned long per_state = 20000, seed = 0;
	unsigned int mask = (1U << NSTATES) - 1;
	struct timespec t0, t1;
	bool bad = false;
	int opt, st;

	while ((opt = getopt(argc, argv, "p:n:S:s:")) != -1) {
		switch (opt) {
		case 'p':
			baseline = !strcmp(optarg, "tcp");
			break;
		case 'n':
			per_state = strtoul(optarg, NULL, 0);
			break;
		case 'S':
			seed = strtoul(optarg, NULL, 0);
			break;
		case 's': {
			char *tok, *save = NULL;

			mask = 0;
			for (tok = strtok_r(optarg, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save))
				for (st = 0; st < NSTATES; st++)
					if (!strcasecmp(tok, state_names[st]))
						mask |= 1U << st;
			break;
		}
		default:
			fprintf(stderr, "usage: xtcp_fuzz [-p xtcp|tcp] [-n SEGMENTS] [-S SEED] [-s STATE,...]\n");
			return 2;
		}
	}
	if (!seed) {
		clock_gettime(CLOCK_REALTIME, &t0);
		seed = (t0.tv_sec * 1000003UL) ^ t0.tv_nsec ^ getpid();
	}
	rng = seed | 1;
	family = baseline ? AF_INET : xtcp_family();
	proto = baseline ? IPPROTO_TCP : xtcp_ipproto();
	printf("# %s: seed %lu, %lu segments per state\n",
	       baseline ? "tcp" : "xtcp", seed, per_state);
	fflush(stdout);
	tun_setup();
	knobs_setup();

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (st = 0; st < NSTATES; st++) {
		unsigned long n = 0, rebuilt = 0, start = sent_total;
		struct conn c;

		if (!(mask & (1U << st)))
			continue;
		if (!drive(&c, st)) {
			printf("not ok: %s: could not drive a connection there\n",
			       state_names[st]);
			bad = true;
			conn_close(&c);
			continue;
		}
		if (st && proc_check(&c, st, &bad) != proc_state[st]) {
			printf("not ok: %s: /proc shows state %d after driving\n",
			       state_names[st], proc_check(&c, st, &bad));
			bad = true;
		}
		while (n < per_state) {
			int i;

			for (i = 0; i < BATCH && n < per_state; i++, n++)
				fuzz_one(&c);
			tun_drain();
			info_check(&c, st, &bad);
			/* Ended (or moved on): drive another one there. */
			if (st && proc_check(&c, st, &bad) != proc_state[st]) {
				conn_close(&c);
				rebuilt++;
				if (!drive(&c, st)) {
					printf("not ok: %s: could not drive a connection there again\n",
					       state_names[st]);
					bad = true;
					break;
				}
			}
		}
		rebuilds += rebuilt;
		conn_close(&c);
		printf("# %s: %lu segments, the connection driven again %lu times\n",
		       state_names[st], sent_total - start, rebuilt);
		fflush(stdout);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# %lu segments in %.1f s (%.0f/s), seed %lu\n", sent_total,
	       t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       sent_total / (t1.tv_sec - t0.tv_sec +
			     (t1.tv_nsec - t0.tv_nsec) / 1e9 + 1e-9), seed);
	if (bad)
		printf("not ok: %s fuzzing found insane state\n",
		       baseline ? "tcp" : "xtcp");
	return bad;
}
