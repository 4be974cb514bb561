// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_connect: the selftests' and benchmark's socket tool. It speaks
 * xtcp or, as the baseline, the kernel's TCP ("-s TCP"), in the manner of
 * MPTCP's mptcp_connect, so the same program measures both.
 *
 * Server:  xtcp_connect -l [-a ADDR] [-p PORT] [-b BACKLOG] [-m MODE] [-N n]
 *	Prints "listening PORT" once bound.
 *	-m hold    hold the listener until stdin closes or SIGTERM (default)
 *	-m sink    accept n connections (-N, default 1); for each, read to EOF
 *		   and print "rx BYTES HASH"; then close
 *	-m echo    accept n connections; echo everything back until EOF
 *	-m rr      accept connections until SIGTERM; for each, answer every
 *		   byte with one byte until EOF (request/response)
 * Client:  xtcp_connect -c ADDR -p PORT [-m MODE] [-n BYTES|COUNT] [-t SEC]
 *	-m create  only create a socket, print "created", hold it (no -c)
 *	-m source  send BYTES (-n) of seeded pseudo-random data (-S SEED),
 *		   shut down writing, read to EOF; print "tx BYTES HASH" and
 *		   "rx BYTES HASH" of what came back
 *	-m crr     for -t SEC (or -n COUNT): connect, 1-byte request, 1-byte
 *		   response, close; print "crr COUNT RATE/s"
 *	-m rr      one connection, -n COUNT 1-byte round trips (or as many
 *		   as fit in -t SEC); print "rr COUNT p50_us p99_us max_us"
 * Common:  -s XTCP|TCP  -C how: how a connection ends: "close" (default),
 *	"linger0" (SO_LINGER {1,0}: RST), "shutdown" (shutdown(SHUT_WR) then
 *	wait for EOF)   -w wait for stdin EOF before closing a connection
 *
 * HASH is FNV-1a 64 of the byte stream, to compare both ends. Exit status:
 * 0 on success; 1 with a message naming the failed call; 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "xtcp_lib.h"

static volatile sig_atomic_t stop;
static int use_tcp;
static const char *how = "close";
static int wait_stdin;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "xtcp_connect: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: xtcp_connect -l|-c ADDR [-s XTCP|TCP] [-a ADDR] [-p PORT] [-b BACKLOG]\n"
		"                    [-m MODE] [-n N] [-N CONNS] [-t SEC] [-S SEED] [-C HOW] [-w]\n");
	exit(2);
}

static int new_socket(void)
{
	int fd = socket(use_tcp ? AF_INET : xtcp_family(), SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	return fd;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Block until stdin reaches EOF or a signal asks us to stop. */
static void hold(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char buf[64];

	while (!stop) {
		int n = poll(&p, 1, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("poll");
		if (read(STDIN_FILENO, buf, sizeof(buf)) <= 0)
			break;
	}
}

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ULL

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write");
		p += n;
		len -= n;
	}
}

/* Read to EOF; return the byte count and hash the stream into *h. */
static uint64_t read_all(int fd, uint64_t *h, int echo)
{
	static unsigned char buf[1 << 16];
	uint64_t total = 0;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		if (!n)
			return total;
		*h = fnv(*h, buf, n);
		total += n;
		if (echo)
			write_all(fd, buf, n);
	}
}

/* End a connection the way -C asks. */
static void finish(int fd)
{
	if (wait_stdin)
		hold();
	if (!strcmp(how, "linger0")) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)))
			die("setsockopt SO_LINGER");
	} else if (!strcmp(how, "shutdown")) {
		uint64_t h = FNV_INIT;

		if (shutdown(fd, SHUT_WR))
			die("shutdown");
		read_all(fd, &h, 0);
	}
	if (close(fd))
		die("close");
}

static void server(const char *addr, int port, int backlog, const char *mode,
		   int conns)
{
	struct sockaddr_in sa = xtcp_addr(addr, port);
	socklen_t len = sizeof(sa);
	int fd = new_socket(), one = 1, i;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("setsockopt SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("bind");
	if (listen(fd, backlog))
		die("listen");
	if (getsockname(fd, (struct sockaddr *)&sa, &len))
		die("getsockname");
	printf("listening %u\n", ntohs(sa.sin_port));

	if (!strcmp(mode, "hold")) {
		hold();
		close(fd);
		return;
	}
	for (i = 0; !stop && (conns <= 0 || i < conns); i++) {
		int c = accept(fd, NULL, NULL);
		uint64_t h = FNV_INIT, n;

		if (c < 0 && errno == EINTR)
			break;
		if (c < 0)
			die("accept");
		if (!strcmp(mode, "sink")) {
			n = read_all(c, &h, 0);
			printf("rx %llu %016llx\n", (unsigned long long)n,
			       (unsigned long long)h);
		} else if (!strcmp(mode, "echo")) {
			n = read_all(c, &h, 1);
			printf("echoed %llu %016llx\n", (unsigned long long)n,
			       (unsigned long long)h);
		} else if (!strcmp(mode, "rr")) {
			char b;
			ssize_t r;

			while ((r = read(c, &b, 1)) == 1)
				write_all(c, &b, 1);
			if (r < 0 && errno != ECONNRESET)
				die("read");
		} else {
			usage();
		}
		finish(c);
	}
	close(fd);
}

static int connect_to(const char *addr, int port)
{
	struct sockaddr_in sa = xtcp_addr(addr, port);
	int fd = new_socket();

	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	return fd;
}

static void client_source(const char *addr, int port, uint64_t bytes,
			  unsigned int seed)
{
	static unsigned char buf[1 << 16];
	uint64_t sent = 0, h = FNV_INIT, rh = FNV_INIT, rn;
	int fd = connect_to(addr, port);

	srandom(seed);
	while (sent < bytes) {
		size_t chunk = bytes - sent < sizeof(buf) ? bytes - sent :
			       sizeof(buf);
		size_t i;

		for (i = 0; i < chunk; i++)
			buf[i] = random() & 0xff;
		h = fnv(h, buf, chunk);
		write_all(fd, buf, chunk);
		sent += chunk;
	}
	if (shutdown(fd, SHUT_WR))
		die("shutdown");
	printf("tx %llu %016llx\n", (unsigned long long)sent,
	       (unsigned long long)h);
	rn = read_all(fd, &rh, 0);
	printf("rx %llu %016llx\n", (unsigned long long)rn,
	       (unsigned long long)rh);
	finish(fd);
}

static void client_crr(const char *addr, int port, uint64_t count, double secs)
{
	double t0 = now_s(), t;
	uint64_t n = 0;

	for (;;) {
		int fd = connect_to(addr, port);
		char b = 'x';

		write_all(fd, &b, 1);
		if (read(fd, &b, 1) != 1)
			die("read response");
		close(fd);
		n++;
		t = now_s() - t0;
		if ((count && n >= count) || (!count && t >= secs) || stop)
			break;
	}
	printf("crr %llu %.1f\n", (unsigned long long)n, n / (now_s() - t0));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void client_rr(const char *addr, int port, uint64_t count, double secs)
{
	uint64_t cap = count ? count : 1 << 22, i;
	double *lat = calloc(cap, sizeof(double));
	int fd = connect_to(addr, port);
	double start = now_s();

	if (!lat)
		die("calloc");
	for (i = 0; i < cap && !stop; i++) {
		double t0 = now_s();
		char b = 'x';

		if (!count && t0 - start >= secs)
			break;
		write_all(fd, &b, 1);
		if (read(fd, &b, 1) != 1)
			die("read response");
		lat[i] = (now_s() - t0) * 1e6;
	}
	if (!i)
		die("no round trip");
	qsort(lat, i, sizeof(double), cmp_double);
	printf("rr %llu %.1f %.1f %.1f\n", (unsigned long long)i,
	       lat[i / 2], lat[i * 99 / 100], lat[i - 1]);
	free(lat);
	finish(fd);
}

int main(int argc, char **argv)
{
	const char *addr = "0.0.0.0", *mode = NULL, *peer = NULL;
	int port = 0, backlog = 128, conns = 1, listen_mode = 0, c;
	unsigned long long n = 0;
	unsigned int seed = 1;
	double secs = 0;

	while ((c = getopt(argc, argv, "lc:s:a:p:b:m:n:N:t:S:C:w")) != -1) {
		switch (c) {
		case 'l':
			listen_mode = 1;
			break;
		case 'c':
			peer = optarg;
			break;
		case 's':
			if (!strcmp(optarg, "TCP"))
				use_tcp = 1;
			else if (strcmp(optarg, "XTCP"))
				usage();
			break;
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'b':
			backlog = atoi(optarg);
			break;
		case 'm':
			mode = optarg;
			break;
		case 'n':
			n = strtoull(optarg, NULL, 0);
			break;
		case 'N':
			conns = atoi(optarg);
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'S':
			seed = strtoul(optarg, NULL, 0);
			break;
		case 'C':
			how = optarg;
			break;
		case 'w':
			wait_stdin = 1;
			break;
		default:
			usage();
		}
	}

	/* No SA_RESTART: a signal must end a blocking accept() or read(). */
	{
		struct sigaction sa = { .sa_handler = on_signal };

		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (listen_mode) {
		server(addr, port, backlog, mode ? mode : "hold", conns);
	} else if (mode && !strcmp(mode, "create")) {
		int fd = new_socket();

		printf("created\n");
		hold();
		close(fd);
	} else if (peer && mode && !strcmp(mode, "source")) {
		client_source(peer, port, n, seed);
	} else if (peer && mode && !strcmp(mode, "crr")) {
		client_crr(peer, port, n, secs ? secs : 5);
	} else if (peer && mode && !strcmp(mode, "rr")) {
		client_rr(peer, port, n ? n : (secs ? 0 : 1000), secs);
	} else {
		usage();
	}
	return 0;
}
