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
 *	-m source  accept n connections; for each, send BYTES (-n) of seeded
 *		   data (-S) while reading whatever comes, shut down writing
 *		   once all is sent, read to EOF; print "tx BYTES HASH",
 *		   "eof SENT" (bytes sent when the peer's FIN was read) and
 *		   "rx BYTES HASH"
 *	-m rr      accept connections until SIGTERM; for each, answer every
 *		   byte with one byte until EOF (request/response)
 * Client:  xtcp_connect -c ADDR -p PORT [-m MODE] [-n BYTES|COUNT] [-t SEC]
 *	-m create  only create a socket, print "created", hold it (no -c)
 *	-m source  send BYTES (-n) of seeded pseudo-random data (-S SEED)
 *		   while reading what comes back, shut down writing once all
 *		   is sent, read to EOF; print "tx BYTES HASH", "eof SENT"
 *		   and "rx BYTES HASH" of what came back (-n 0: only receive)
 *	-m sink    read to EOF without sending or shutting down; print
 *		   "rx BYTES HASH"
 *	-m crr     for -t SEC (or -n COUNT): connect, 1-byte request, 1-byte
 *		   response, close; print "crr COUNT RATE/s"
 *	-m conn    for -t SEC (or -n COUNT): a non-blocking connect, 1-byte
 *		   request and response, close, each within 5 s; print "conn
 *		   OK FAILED p50_us p99_us max_us" (the time each took)
 *	-m rr      one connection, -n COUNT 1-byte round trips (or as many
 *		   as fit in -t SEC); print "rr COUNT p50_us p99_us max_us"
 * Common:  -s XTCP|TCP  -C how: how a connection ends: "close" (default),
 *	"linger0" (SO_LINGER {1,0}: RST), "shutdown" (shutdown(SHUT_WR) then
 *	wait for EOF)   -w wait for stdin EOF before closing a connection
 *	-W  once a connection is set up (client: connected; server: accepted)
 *	    print "connected" and wait for stdin EOF or SIGUSR1 before moving
 *	    any data
 *	-k  SO_KEEPALIVE (server: on the listener, accepted sockets inherit it)
 *	-K IDLE,INTVL,CNT  SO_KEEPALIVE with TCP_KEEPIDLE, TCP_KEEPINTVL and
 *	    TCP_KEEPCNT (seconds, seconds, probes)
 *	-e NETNS  enter a network namespace first (a name under /run/netns, or
 *	    a path), which costs less than "ip netns exec"
 *	-T SEC  give up after SEC seconds (a client: in all; a server: per
 *	    connection, from its accept): print "timeout sent N received N"
 *	    and a "tcpinfo ..." line (TCP_INFO of the connection), reset it
 *	    (SO_LINGER {1, 0}: no orphan is left behind) and exit 124, as
 *	    timeout(1) would
 * A failure on a connection also prints "tcpinfo ..." and, for xtcp,
 * "xtcp_stat NAME +N ..." (the namespace's counters that moved since start).
 * A server in -m source takes -n as a list, "N1,N2,...": connection i sends
 * Ni bytes (the last one for all further connections) seeded with SEED + i.
 *
 * HASH is FNV-1a 64 of the byte stream, to compare both ends. Exit status:
 * 0 on success; 1 with a message naming the failed call on stderr and a
 * line "error CALL ERRNO SECS" on stdout (the errno's name, e.g. ETIMEDOUT,
 * and the seconds since the connection was set up, or since start); 2 on
 * bad usage; 124 on -T.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "xtcp_lib.h"

static volatile sig_atomic_t stop, timed_out, go;
static uint64_t progress_sent, progress_rcvd;
static int active_fd = -1;
static int use_tcp;
static const char *how = "close";
static int wait_stdin;
static int wait_before;
static int keepalive;
static int keep_idle, keep_intvl, keep_cnt;
static double t_setup;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		go = 1;
	else
		stop = 1;
}

/*
 * -T: the first SIGALRM interrupts the blocking call, whose caller then
 * reports; should nothing report, the next one (default action) kills.
 */
static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
	stop = 1;
	signal(SIGALRM, SIG_DFL);
	alarm(2);
}

/* The namespace's xtcp counters at start, to print what moved on failure. */
#define NSTATS 128
static char stat_name[NSTATS][40];
static unsigned long long stat_start[NSTATS];
static int nstats;

static int read_stats(unsigned long long *val)
{
	FILE *f = fopen("/proc/self/net/xtcp_stat", "r");
	char name[40];
	int n = 0;

	if (!f)
		return 0;
	while (n < NSTATS && fscanf(f, "%39s %llu", name, &val[n]) == 2) {
		memcpy(stat_name[n], name, sizeof(name));
		n++;
	}
	fclose(f);
	return n;
}

static void stats_start(void)
{
	if (!use_tcp)
		nstats = read_stats(stat_start);
}

/* "xtcp_stat Name +N ..." of the counters that moved since the start. */
static void print_stats(void)
{
	static unsigned long long val[NSTATS];
	int i, n;

	if (use_tcp || !nstats)
		return;
	n = read_stats(val);
	printf("xtcp_stat");
	for (i = 0; i < n && i < nstats; i++)
		if (val[i] != stat_start[i])
			printf(" %s +%llu", stat_name[i], val[i] - stat_start[i]);
	printf("\n");
}

/* Where a failed connection stands (TCP_INFO), for whoever reads the log. */
static void print_tcpinfo(void)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (active_fd < 0)
		return;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(active_fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return;
	printf("tcpinfo state %u ca_state %u retransmits %u probes %u backoff %u rto_us %u mss %u",
	       ti.tcpi_state, ti.tcpi_ca_state, ti.tcpi_retransmits,
	       ti.tcpi_probes, ti.tcpi_backoff, ti.tcpi_rto, ti.tcpi_snd_mss);
	printf(" unacked %u sacked %u lost %u retrans %u cwnd %u ssthresh %u",
	       ti.tcpi_unacked, ti.tcpi_sacked, ti.tcpi_lost, ti.tcpi_retrans,
	       ti.tcpi_snd_cwnd, ti.tcpi_snd_ssthresh);
	printf(" rcv_space %u last_data_recv_ms %u last_ack_recv_ms %u total_retrans %u\n",
	       ti.tcpi_rcv_space, ti.tcpi_last_data_recv,
	       ti.tcpi_last_ack_recv, ti.tcpi_total_retrans);
}

static void check_timeout(void)
{
	if (!timed_out)
		return;
	printf("timeout sent %llu received %llu\n",
	       (unsigned long long)progress_sent,
	       (unsigned long long)progress_rcvd);
	if (active_fd >= 0) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		print_tcpinfo();
		print_stats();
		setsockopt(active_fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(active_fd);
	}
	exit(124);
}

static double now_s(void);

static void die(const char *what)
{
	int err = errno;
	const char *name = strerrorname_np(err);
	char call[64];
	size_t i;

	check_timeout();
	fprintf(stderr, "xtcp_connect: %s: %s\n", what, strerror(err));
	/* One word for the call: "setsockopt SO_LINGER" -> "setsockopt". */
	for (i = 0; what[i] && what[i] != ' ' && i < sizeof(call) - 1; i++)
		call[i] = what[i];
	call[i] = 0;
	printf("error %s %s %.3f\n", call, name ? name : "EUNKNOWN",
	       now_s() - t_setup);
	if (active_fd >= 0) {
		print_tcpinfo();
		print_stats();
	}
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: xtcp_connect -l|-c ADDR [-s XTCP|TCP] [-a ADDR] [-p PORT] [-b BACKLOG]\n"
		"                    [-m MODE] [-n N] [-N CONNS] [-t SEC] [-S SEED] [-C HOW] [-w]\n"
		"                    [-W] [-k] [-K IDLE,INTVL,CNT] [-e NETNS] [-T SEC]\n");
	exit(2);
}

static int new_socket(void)
{
	/*
	 * The family is read from sysfs once: per socket, the open and read
	 * would cost xtcp's side of a crr run syscalls that TCP's does not.
	 */
	static int family = -1;
	int fd;

	if (family < 0)
		family = use_tcp ? AF_INET : xtcp_family();
	fd = socket(family, SOCK_STREAM, 0);

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

/* -k / -K: keepalive on @fd (a listener's children inherit it). */
static void set_keepalive(int fd)
{
	int one = 1;

	if (!keepalive)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)))
		die("setsockopt SO_KEEPALIVE");
	if (!keep_cnt)
		return;
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &keep_idle,
		       sizeof(keep_idle)))
		die("setsockopt TCP_KEEPIDLE");
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &keep_intvl,
		       sizeof(keep_intvl)))
		die("setsockopt TCP_KEEPINTVL");
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &keep_cnt,
		       sizeof(keep_cnt)))
		die("setsockopt TCP_KEEPCNT");
}

/* Block until stdin reaches EOF, SIGUSR1, or a signal asks us to stop. */
static void hold(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char buf[64];

	while (!stop && !go) {
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

		if (n < 0 && errno == EINTR && !stop)
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

		if (n < 0 && errno == EINTR && !stop)
			continue;
		if (n < 0)
			die("read");
		if (!n)
			return total;
		*h = fnv(*h, buf, n);
		total += n;
		progress_rcvd = total;
		if (echo)
			write_all(fd, buf, n);
	}
}

/*
 * The data of -m source: a xorshift64* stream from the seed, 8 bytes per
 * step (far cheaper than a random() call per byte under emulation).
 */
static uint64_t prng_state;

static void prng_seed(unsigned int seed)
{
	prng_state = (seed + 1ULL) * 0x9e3779b97f4a7c15ULL;
}

static void prng_fill(unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t x = prng_state;

		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		prng_state = x;
		x *= 0x2545f4914f6cdd1dULL;
		memcpy(buf + i, &x, len - i < 8 ? len - i : 8);
	}
}

static void set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK :
			    fl & ~O_NONBLOCK))
		die("fcntl");
}

/*
 * Send @bytes of seeded data and read at the same time, so that neither
 * end can block the other however large the transfer (an echoing peer
 * needs this); shut down writing once everything is sent, return at EOF.
 */
static void duplex(int fd, uint64_t bytes, unsigned int seed)
{
	static unsigned char out[1 << 16], in[1 << 16];
	uint64_t sent = 0, rcvd = 0, h = FNV_INIT, rh = FNV_INIT;
	size_t have = 0, off = 0;
	int shut = 0;

	progress_sent = 0;
	progress_rcvd = 0;
	prng_seed(seed);
	set_nonblock(fd, 1);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (sent == bytes && !shut) {
			if (shutdown(fd, SHUT_WR))
				die("shutdown");
			shut = 1;
			printf("tx %llu %016llx\n", (unsigned long long)sent,
			       (unsigned long long)h);
		}
		if (!shut)
			p.events |= POLLOUT;
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR && !stop)
				continue;
			die("poll");
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, in, sizeof(in));
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				die("read");
			if (!n) {
				printf("eof %llu\n", (unsigned long long)sent);
				break;
			}
			if (n > 0) {
				rh = fnv(rh, in, n);
				rcvd += n;
				progress_rcvd = rcvd;
			}
		}
		if (!shut && (p.revents & (POLLOUT | POLLERR))) {
			if (off == have) {
				have = bytes - sent < sizeof(out) ?
				       bytes - sent : sizeof(out);
				prng_fill(out, have);
				off = 0;
			}
			n = write(fd, out + off, have - off);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				die("write");
			if (n > 0) {
				h = fnv(h, out + off, n);
				off += n;
				sent += n;
				progress_sent = sent;
			}
		}
	}
	/* The peer's FIN came first: finish sending before the verdict. */
	set_nonblock(fd, 0);
	if (!shut) {
		while (sent < bytes) {
			size_t chunk;

			if (off == have) {
				have = bytes - sent < sizeof(out) ?
				       bytes - sent : sizeof(out);
				prng_fill(out, have);
				off = 0;
			}
			chunk = have - off;
			write_all(fd, out + off, chunk);
			h = fnv(h, out + off, chunk);
			off += chunk;
			sent += chunk;
			progress_sent = sent;
		}
		if (shutdown(fd, SHUT_WR))
			die("shutdown");
		printf("tx %llu %016llx\n", (unsigned long long)sent,
		       (unsigned long long)h);
	}
	printf("rx %llu %016llx\n", (unsigned long long)rcvd,
	       (unsigned long long)rh);
}

/* The connection is up; -W: announce it, wait for stdin EOF or SIGUSR1. */
static void setup_done(int fd)
{
	active_fd = fd;
	t_setup = now_s();
	if (wait_before) {
		printf("connected\n");
		hold();
		check_timeout();
		if (stop)	/* SIGTERM or SIGINT: not a go */
			exit(1);
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

/* The i-th number of "N1,N2,...", or the last one if there are fewer. */
static uint64_t nth_size(const char *list, int i)
{
	uint64_t v = 0;
	char *end;

	do {
		v = strtoull(list, &end, 0);
		if (*end != ',')
			break;
		list = end + 1;
	} while (i-- > 0);
	return v;
}

static void server(const char *addr, int port, int backlog, const char *mode,
		   int conns, const char *sizes, unsigned int seed,
		   unsigned int limit)
{
	struct sockaddr_in sa = xtcp_addr(addr, port);
	socklen_t len = sizeof(sa);
	int fd = new_socket(), one = 1, i;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("setsockopt SO_REUSEADDR");
	set_keepalive(fd);
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
		alarm(limit);
		setup_done(c);
		if (!strcmp(mode, "sink")) {
			n = read_all(c, &h, 0);
			printf("rx %llu %016llx\n", (unsigned long long)n,
			       (unsigned long long)h);
		} else if (!strcmp(mode, "echo")) {
			n = read_all(c, &h, 1);
			printf("echoed %llu %016llx\n", (unsigned long long)n,
			       (unsigned long long)h);
		} else if (!strcmp(mode, "source")) {
			duplex(c, nth_size(sizes, i), seed + i);
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
		active_fd = -1;
		alarm(0);
	}
	close(fd);
}

/* -e: join the network namespace NAME (under /run/netns) or PATH. */
static void enter_netns(const char *ns)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s%s", strchr(ns, '/') ? "" :
		 "/run/netns/", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open netns");
	if (setns(fd, CLONE_NEWNET))
		die("setns");
	close(fd);
}

static int connect_to(const char *addr, int port)
{
	struct sockaddr_in sa = xtcp_addr(addr, port);
	int fd = new_socket();

	set_keepalive(fd);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	return fd;
}

static void client_source(const char *addr, int port, uint64_t bytes,
			  unsigned int seed)
{
	int fd = connect_to(addr, port);

	setup_done(fd);
	duplex(fd, bytes, seed);
	finish(fd);
}

static void client_sink(const char *addr, int port)
{
	int fd = connect_to(addr, port);
	uint64_t h = FNV_INIT, n;

	setup_done(fd);
	n = read_all(fd, &h, 0);
	printf("rx %llu %016llx\n", (unsigned long long)n,
	       (unsigned long long)h);
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

/* Wait up to @ms for @events on @fd; 1 if they came. */
static int wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, ms) == 1 && (p.revents & events);
}

/*
 * -m conn: connections one after the other, each a non-blocking connect()
 * and a 1-byte request and response within CONN_MS, then close(); the
 * time each took, and how many did not make it in time or failed.
 */
#define CONN_MS 5000
static void client_conn(const char *addr, int port, uint64_t count,
			double secs)
{
	uint64_t cap = count ? count : 1 << 20, ok = 0, failed = 0;
	struct sockaddr_in sa = xtcp_addr(addr, port);
	double *lat = calloc(cap, sizeof(double));
	double start = now_s();

	if (!lat)
		die("calloc");
	while (ok + failed < cap && !stop) {
		double t0 = now_s();
		int fd = new_socket(), err = 0;
		socklen_t len = sizeof(err);
		char b = 'x';

		if (!count && t0 - start >= secs) {
			close(fd);
			break;
		}
		fcntl(fd, F_SETFL, O_NONBLOCK);
		if ((!connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		     (errno == EINPROGRESS && wait_fd(fd, POLLOUT, CONN_MS))) &&
		    !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) && !err &&
		    write(fd, &b, 1) == 1 &&
		    wait_fd(fd, POLLIN, CONN_MS - (now_s() - t0) * 1e3) &&
		    read(fd, &b, 1) == 1)
			lat[ok++] = (now_s() - t0) * 1e6;
		else
			failed++;
		close(fd);
	}
	if (!ok)
		die("no connection");
	qsort(lat, ok, sizeof(double), cmp_double);
	printf("conn %llu %llu %.1f %.1f %.1f\n", (unsigned long long)ok,
	       (unsigned long long)failed, lat[ok / 2], lat[ok * 99 / 100],
	       lat[ok - 1]);
	free(lat);
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
	const char *addr = "0.0.0.0", *mode = NULL, *peer = NULL, *sizes = "0";
	int port = 0, backlog = 128, conns = 1, listen_mode = 0, c;
	unsigned long long n = 0;
	unsigned int seed = 1, limit = 0;
	double secs = 0;

	t_setup = now_s();
	while ((c = getopt(argc, argv, "lc:s:a:p:b:m:n:N:t:S:C:wWkK:e:T:")) != -1) {
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
			sizes = optarg;
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
		case 'W':
			wait_before = 1;
			break;
		case 'e':
			enter_netns(optarg);
			break;
		case 'T':
			limit = strtoul(optarg, NULL, 0);
			break;
		case 'k':
			keepalive = 1;
			break;
		case 'K':
			keepalive = 1;
			if (sscanf(optarg, "%d,%d,%d", &keep_idle, &keep_intvl,
				   &keep_cnt) != 3 || keep_idle < 1 ||
			    keep_intvl < 1 || keep_cnt < 1)
				usage();
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
		sigaction(SIGUSR1, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		sa.sa_handler = on_alarm;
		sigaction(SIGALRM, &sa, NULL);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	stats_start();

	if (!listen_mode)
		alarm(limit);
	if (listen_mode) {
		server(addr, port, backlog, mode ? mode : "hold", conns, sizes,
		       seed, limit);
	} else if (mode && !strcmp(mode, "create")) {
		int fd = new_socket();

		printf("created\n");
		hold();
		close(fd);
	} else if (peer && mode && !strcmp(mode, "source")) {
		client_source(peer, port, n, seed);
	} else if (peer && mode && !strcmp(mode, "sink")) {
		client_sink(peer, port);
	} else if (peer && mode && !strcmp(mode, "crr")) {
		client_crr(peer, port, n, secs ? secs : 5);
	} else if (peer && mode && !strcmp(mode, "rr")) {
		client_rr(peer, port, n ? n : (secs ? 0 : 1000), secs);
	} else if (peer && mode && !strcmp(mode, "conn")) {
		client_conn(peer, port, n, secs ? secs : 5);
	} else {
		usage();
	}
	return 0;
}
