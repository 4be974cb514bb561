// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_race: the syscall and race fuzzer.
 *
 * The run is a series of rounds of a few seconds, each in a child process
 * in a network namespace of its own. In a round:
 *
 *  - THREADS workers call random socket calls with random arguments on a
 *    shared table of socket descriptors. The slots are fixed descriptor
 *    numbers, so that one worker can replace a socket (dup2()) or close it
 *    while another is inside a call on it: socket, bind, listen, connect
 *    (also AF_UNSPEC), accept4, shutdown, close (with and without
 *    SO_LINGER), send/recv in every form and flag (MSG_OOB, MSG_PEEK,
 *    MSG_WAITALL, MSG_ZEROCOPY, MSG_FASTOPEN, MSG_ERRQUEUE, ...),
 *    setsockopt/getsockopt at SOL_SOCKET, SOL_IP, SOL_TCP and random levels
 *    with random names, values and lengths (short, huge, unaligned, bad
 *    pointers), poll, a shared epoll set (edge-triggered, one-shot,
 *    exclusive), splice both ways, sendfile, ioctl, fcntl, getsockname.
 *    The sockets connect to each other over loopback, so that inbound
 *    segments and timers race the calls;
 *  - a raw socket sprays random segments (RST, SYN, data, ... at random
 *    sequence numbers) at the ports in use;
 *  - a knob thread rewrites the namespace's sysctls (net.xtcp.*, or
 *    net.ipv4.tcp_* for kernel TCP) with random values;
 *  - the round's main thread interrupts blocked calls with a signal every
 *    few milliseconds and checks every row of the proc table (a state of
 *    the 11, queues that did not go negative) four times a second.
 *
 * The parent pins each round's namespace until no full socket is left in
 * it; at the end every socket of every round must be gone within SETTLE
 * seconds (60), or, with their knobs then made short, LONG_SETTLE while
 * each one left has a timer pending; what is left is printed with the
 * namespace's sysctls. (Only on xtcp: what kernel TCP leaves is shown,
 * not counted.)
 *
 * Half of the rounds end in order: the workers are stopped and must come
 * back within STUCK_SECS (a call that cannot be interrupted is a hang),
 * then every socket is closed. The other half end abruptly: the process
 * exits with everything open and the namespace goes away under load.
 *
 * Usage: xtcp_race [-p xtcp|tcp] [-t SECONDS] [-T THREADS] [-r ROUND]
 *                  [-S SEED] [-w SETTLE] [-v]
 * -v: per kind of call, how often it ran, its share of the time, how often
 * it succeeded, and its commonest errnos.
 * Exit status 0 if every round ended, every row was sane and every socket
 * went away. The kernel's
 * own checkers (KASAN, lockdep, kmemleak, the hung task detector) report
 * through the kernel log, which the VM runner scans.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xtcp_lib.h"

#ifndef SOL_TCP
#define SOL_TCP		IPPROTO_TCP
#endif

#define SLOT0		512	/* descriptor of slot 0 */
#define NSLOTS		32
#define HOT		4	/* slots that half of the calls go to */
#define PORT0		47000
#define NPORTS		8
#define MAXTHREADS	16
#define BUFSZ		(256 * 1024)
#define FILESZ		(1024 * 1024)
#define STUCK_SECS	20
#define MAXPAIRS	64
#define NERR		136	/* errno values counted */
#define NCALLS_MAX	16

static int family, proto, nthreads = 4;
static bool baseline;
static volatile int stop;

/* Shared by a round's threads. */
static int epfd, rawfd, filefd;
static char *guard, *ropage;
static struct {
	uint16_t lport, rport;
} pairs[MAXPAIRS];
static int npairs;

struct worker {
	pthread_t tid;
	uint64_t rng;
	int pipe[2];
	char *buf;
	volatile int op;		/* the call running, -1 for none */
	volatile pid_t ktid;		/* its thread id, for its kernel stack */
	unsigned long calls;
	unsigned long errs[NCALLS_MAX][NERR];	/* by errno, 0: success */
};
static struct worker workers[MAXTHREADS];
static unsigned long errs[NCALLS_MAX][NERR];	/* summed over workers */
static unsigned long busy[NCALLS_MAX];	/* samples of workers inside each */

/* ------------------------------------------------------------ random */

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint32_t below(struct worker *w, uint32_t n)
{
	return n ? next(&w->rng) % n : 0;
}

static int slot(struct worker *w)
{
	return SLOT0 + (below(w, 2) ? below(w, HOT) : below(w, NSLOTS));
}

/* A pointer the kernel must refuse: NULL, odd, unmapped, kernel. */
static void *bad_ptr(struct worker *w)
{
	switch (below(w, 4)) {
	case 0:
		return NULL;
	case 1:
		return (void *)1;
	case 2:
		return guard;
	default:
		return (void *)0xffffffff81000000UL;
	}
}

/* Mostly a good buffer, sometimes a bad one. */
static void *buf_or_bad(struct worker *w)
{
	return below(w, 12) ? w->buf + below(w, 2) * below(w, 8) : bad_ptr(w);
}

static int rand_int(struct worker *w)
{
	static const int v[] = { 0, 1, -1, 2, 3, 4, 7, 8, 16, 255, 256,
				 1000, 4096, 65535, 65536, INT32_MAX,
				 INT32_MIN, 1 << 30 };

	return below(w, 4) ? v[below(w, sizeof(v) / sizeof(v[0]))] :
			     (int)next(&w->rng);
}

static size_t rand_len(struct worker *w)
{
	static const size_t v[] = { 0, 1, 2, 3, 4, 7, 8, 12, 16, 100, 104,
				    232, 256, 1448, 4096, 65536, BUFSZ };

	return v[below(w, sizeof(v) / sizeof(v[0]))];
}

/* A destination or source address, with a length that is mostly right. */
static socklen_t rand_addr(struct worker *w, struct sockaddr_in *a)
{
	static const char *const ips[] = { "127.0.0.1", "127.0.0.1",
					   "127.0.0.1", "0.0.0.0",
					   "127.0.0.2", "192.0.2.1" };
	static const socklen_t lens[] = { 0, 2, 8, 15, 64 };

	memset(a, 0, sizeof(*a));
	a->sin_family = below(w, 20) ? AF_INET :
			below(w, 2) ? AF_UNSPEC : AF_INET6;
	a->sin_port = htons(below(w, 10) ? PORT0 + below(w, NPORTS) :
			    below(w, 2) ? 0 : below(w, 65536));
	inet_pton(AF_INET, ips[below(w, 6)], &a->sin_addr);
	return below(w, 20) ? sizeof(*a) : lens[below(w, 5)];
}

static int msg_flags(struct worker *w, bool rx)
{
	static const int tx[] = { MSG_MORE, MSG_OOB, MSG_EOR, MSG_ZEROCOPY,
				  MSG_FASTOPEN, MSG_CONFIRM, MSG_DONTROUTE };
	static const int rxf[] = { MSG_PEEK, MSG_OOB, MSG_WAITALL, MSG_TRUNC,
				   MSG_ERRQUEUE, MSG_CMSG_CLOEXEC };
	int f = MSG_NOSIGNAL, i;

	if (below(w, 4))
		f |= MSG_DONTWAIT;
	for (i = 0; i < 2; i++)
		f |= rx ? rxf[below(w, 6)] * !below(w, 3) :
			  tx[below(w, 7)] * !below(w, 3);
	return f;
}

/* ------------------------------------------------------------ calls */

static void put(int fd, int at)
{
	if (fd < 0)
		return;
	dup2(fd, at);
	close(fd);
}

static void do_socket(struct worker *w)
{
	int type = SOCK_STREAM | SOCK_CLOEXEC;
	int p = below(w, 8) ? 0 : proto;

	if (below(w, 2))
		type |= SOCK_NONBLOCK;
	/*
	 * Other protocols and types only on xtcp's own family: for AF_INET
	 * they make Linux ask user space for a module, or make a UDP socket.
	 */
	if (!baseline && !below(w, 16))
		p = below(w, 300);
	if (!baseline && !below(w, 30))
		type = below(w, 2) ? SOCK_DGRAM : SOCK_SEQPACKET;
	put(socket(family, type, p), slot(w));
}

static void do_close(struct worker *w)
{
	int fd = slot(w);

	if (!below(w, 3)) {
		struct linger l = { 1, below(w, 3) };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	close(fd);
}

static void do_bind(struct worker *w)
{
	struct sockaddr_in a;
	socklen_t len = rand_addr(w, &a);

	bind(slot(w), below(w, 30) ? (void *)&a : bad_ptr(w), len);
}

static void do_listen(struct worker *w)
{
	static const int backlog[] = { -1, 0, 1, 2, 5, 128, INT32_MAX };

	listen(slot(w), backlog[below(w, 7)]);
}

static void do_connect(struct worker *w)
{
	struct sockaddr_in a;
	socklen_t len = rand_addr(w, &a);

	if (!below(w, 10))
		a.sin_family = AF_UNSPEC;	/* disconnect */
	connect(slot(w), below(w, 30) ? (void *)&a : bad_ptr(w), len);
}

static void do_accept(struct worker *w)
{
	struct sockaddr_in a;
	socklen_t len = below(w, 4) ? sizeof(a) : rand_len(w);
	int flags = (below(w, 2) ? SOCK_NONBLOCK : 0) | SOCK_CLOEXEC;

	put(accept4(slot(w), below(w, 2) ? (void *)&a : NULL,
		    below(w, 2) ? &len : NULL, flags), slot(w));
}

static void do_shutdown(struct worker *w)
{
	shutdown(slot(w), below(w, 5) - (int)below(w, 2));
}

static void do_send(struct worker *w)
{
	size_t len = rand_len(w);
	int fd = slot(w), flags = msg_flags(w, false);
	struct sockaddr_in a;
	struct iovec iov[3];
	struct msghdr m = {};

	switch (below(w, 4)) {
	case 0:
		send(fd, buf_or_bad(w), len, flags);
		break;
	case 1:
		sendto(fd, buf_or_bad(w), len, flags, (void *)&a,
		       rand_addr(w, &a));
		break;
	case 2:
		iov[0].iov_base = buf_or_bad(w);
		iov[0].iov_len = len;
		iov[1].iov_base = w->buf;
		iov[1].iov_len = below(w, 2000);
		iov[2].iov_base = buf_or_bad(w);
		iov[2].iov_len = below(w, 3) ? 0 : below(w, 70000);
		m.msg_iov = iov;
		m.msg_iovlen = 1 + below(w, 3);
		if (!below(w, 4)) {
			m.msg_control = w->buf + 1000;
			m.msg_controllen = rand_len(w);
		}
		sendmsg(fd, &m, flags);
		break;
	default:
		write(fd, buf_or_bad(w), len);
	}
}

static void do_recv(struct worker *w)
{
	size_t len = rand_len(w);
	int fd = slot(w), flags = msg_flags(w, true);
	char cbuf[256];
	struct iovec iov[2];
	struct msghdr m = {};

	switch (below(w, 3)) {
	case 0:
		recv(fd, buf_or_bad(w), len, flags);
		break;
	case 1:
		iov[0].iov_base = buf_or_bad(w);
		iov[0].iov_len = len;
		iov[1].iov_base = w->buf;
		iov[1].iov_len = below(w, 5000);
		m.msg_iov = iov;
		m.msg_iovlen = 1 + below(w, 2);
		m.msg_control = below(w, 2) ? cbuf : NULL;
		m.msg_controllen = below(w, 2) ? sizeof(cbuf) : below(w, 20);
		recvmsg(fd, &m, flags);
		break;
	default:
		if (fcntl(fd, F_GETFL) & O_NONBLOCK)
			read(fd, buf_or_bad(w), len);
		else
			recv(fd, w->buf, len, MSG_DONTWAIT);
	}
}

/*
 * A socket option with a random name, value and length. The congestion
 * control and ULP names are kept to known ones: an unknown name makes
 * Linux ask user space for a module, a process per call.
 */
static void do_sockopt(struct worker *w)
{
	static const int levels[] = { SOL_SOCKET, SOL_IP, SOL_TCP };
	static const int maxname[] = { 80, 70, 45 };
	static const char *const names[] = { "cubic", "reno", "" };
	int fd = slot(w), level, name, l = below(w, 4);
	socklen_t len = rand_len(w);
	void *val = w->buf;
	size_t i;

	if (l < 3) {
		level = levels[l];
		name = below(w, maxname[l]);
	} else {
		level = below(w, 2) ? (int)below(w, 300) : rand_int(w);
		name = rand_int(w);
	}
	for (i = 0; i < 64; i += 4)
		*(int *)(w->buf + i) = rand_int(w);
	/*
	 * Not kernel TCP's repair mode: it sets the sequence numbers and
	 * queues at will (xtcp refuses it: ENOPROTOOPT).
	 */
	if (baseline && level == SOL_TCP &&
	    (name == TCP_REPAIR || name == TCP_REPAIR_QUEUE ||
	     name == TCP_QUEUE_SEQ || name == TCP_REPAIR_OPTIONS ||
	     name == TCP_REPAIR_WINDOW))
		name = TCP_NODELAY;
	if (level == SOL_TCP && (name == TCP_CONGESTION || name == TCP_ULP)) {
		strcpy(w->buf, names[below(w, 3)]);
		len = strlen(w->buf) + below(w, 2);
	}
	if (level == SOL_SOCKET && name == SO_LINGER)
		*(int *)(w->buf + 4) &= 3;	/* a close that lingers long */
	if (!below(w, 12))
		val = bad_ptr(w);
	else if (!below(w, 8))
		val = w->buf + 1;		/* unaligned */
	if (below(w, 2)) {
		setsockopt(fd, level, name, val, len);
	} else {
		socklen_t *lp = below(w, 20) ? &len : bad_ptr(w);

		if (!below(w, 12))
			val = ropage;
		if (!below(w, 10))
			len = -1;
		getsockopt(fd, level, name, val, lp);
	}
}

static void do_poll(struct worker *w)
{
	struct pollfd p[4];
	int i, n = 1 + below(w, 4);

	for (i = 0; i < n; i++) {
		p[i].fd = slot(w);
		p[i].events = below(w, 2) ? POLLIN | POLLOUT | POLLRDHUP :
					    (short)next(&w->rng);
	}
	poll(p, n, below(w, 3) ? 0 : below(w, 5));
}

static void do_epoll(struct worker *w)
{
	static const uint32_t extra[] = { 0, EPOLLET, EPOLLONESHOT,
					  EPOLLEXCLUSIVE, EPOLLRDHUP,
					  EPOLLET | EPOLLONESHOT };
	struct epoll_event ev[8];
	int op = below(w, 4);

	if (op == 3) {
		epoll_wait(epfd, ev, 8, below(w, 3) ? 0 : below(w, 5));
		return;
	}
	ev[0].events = EPOLLIN | EPOLLOUT | EPOLLERR | extra[below(w, 6)];
	ev[0].data.u64 = 0;
	epoll_ctl(epfd, op == 0 ? EPOLL_CTL_ADD : op == 1 ? EPOLL_CTL_MOD :
		  EPOLL_CTL_DEL, slot(w), ev);
}

static void do_splice(struct worker *w)
{
	size_t len = below(w, 2) ? below(w, 70000) : rand_len(w);
	unsigned int flags = below(w, 2) ? SPLICE_F_NONBLOCK : 0;

	if (below(w, 2)) {
		splice(slot(w), NULL, w->pipe[1], NULL, len,
		       flags | (below(w, 2) ? SPLICE_F_MOVE : 0));
	} else {
		write(w->pipe[1], w->buf, below(w, 10000));
		splice(w->pipe[0], NULL, slot(w), NULL, len,
		       flags | (below(w, 2) ? SPLICE_F_MORE : 0));
	}
	if (!below(w, 4))
		while (read(w->pipe[0], w->buf, BUFSZ) > 0)
			;
}

static void do_sendfile(struct worker *w)
{
	off_t off = below(w, FILESZ);

	sendfile(slot(w), filefd, below(w, 10) ? &off : NULL,
		 below(w, 2) ? below(w, FILESZ) : rand_len(w));
}

static void do_ioctl(struct worker *w)
{
	static const unsigned long cmds[] = { SIOCINQ, SIOCOUTQ, SIOCOUTQNSD,
					      SIOCATMARK, FIONBIO, FIONREAD,
					      SIOCGSTAMP_OLD, SIOCGSTAMPNS_OLD,
					      SIOCPROTOPRIVATE, 0x89ef };

	ioctl(slot(w), cmds[below(w, 10)],
	      below(w, 8) ? (void *)w->buf : bad_ptr(w));
}

static void do_misc(struct worker *w)
{
	struct sockaddr_in a;
	socklen_t len = below(w, 3) ? sizeof(a) : rand_len(w);
	int fd = slot(w), fl;

	switch (below(w, 6)) {
	case 0:
		getsockname(fd, below(w, 10) ? (void *)&a : bad_ptr(w), &len);
		break;
	case 1:
		getpeername(fd, (void *)&a, &len);
		break;
	case 2:
		fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl ^ O_NONBLOCK);
		break;
	case 3:
		dup2(fd, slot(w));
		break;
	case 4: {
		void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);

		if (p != MAP_FAILED)
			munmap(p, 4096);
		break;
	}
	default: {
		struct tcp_info ti;

		len = below(w, 4) ? sizeof(ti) : rand_len(w);
		getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &len);
	}
	}
}

static const struct {
	const char *name;
	void (*fn)(struct worker *w);
	int weight;
} calls[] = {
	{ "socket", do_socket, 6 },
	{ "close", do_close, 3 },
	{ "bind", do_bind, 4 },
	{ "listen", do_listen, 3 },
	{ "connect", do_connect, 5 },
	{ "accept", do_accept, 4 },
	{ "shutdown", do_shutdown, 2 },
	{ "send", do_send, 8 },
	{ "recv", do_recv, 8 },
	{ "sockopt", do_sockopt, 12 },
	{ "poll", do_poll, 3 },
	{ "epoll", do_epoll, 3 },
	{ "splice", do_splice, 2 },
	{ "sendfile", do_sendfile, 2 },
	{ "ioctl", do_ioctl, 2 },
	{ "misc", do_misc, 4 },
};
#define NCALLS (sizeof(calls) / sizeof(calls[0]))
_Static_assert(NCALLS <= NCALLS_MAX, "NCALLS_MAX");

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int total = 0;
	size_t i;

	w->ktid = gettid();
	for (i = 0; i < NCALLS; i++)
		total += calls[i].weight;
	while (!stop) {
		int r = below(w, total);

		for (i = 0; r >= calls[i].weight; i++)
			r -= calls[i].weight;
		w->op = i;
		errno = 0;
		calls[i].fn(w);
		w->errs[i][errno < NERR ? errno : NERR - 1]++;
		w->op = -1;
		w->calls++;
	}
	return NULL;
}

/* ------------------------------------------------------------ the others */

static uint16_t csum16(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Random segments at the ports in use, from a raw socket over loopback. */
static void *injector_main(void *arg)
{
	static const uint8_t flags[] = { 0x04, 0x14, 0x02, 0x12, 0x10, 0x18,
					 0x11, 0x01, 0x3f, 0xff, 0x00, 0x24 };
	struct worker *w = arg;
	struct sockaddr_in dst = { .sin_family = AF_INET };
	uint8_t seg[600], ps[12];
	size_t len, i;

	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	memcpy(ps, &dst.sin_addr, 4);
	memcpy(ps + 4, &dst.sin_addr, 4);
	ps[8] = 0;
	ps[9] = proto;
	while (!stop) {
		int n = __atomic_load_n(&npairs, __ATOMIC_RELAXED);
		uint16_t sp = PORT0 + below(w, NPORTS), dp = below(w, 65536);
		uint32_t sum;

		if (n && below(w, 4)) {
			i = below(w, n);
			sp = __atomic_load_n(&pairs[i].rport, __ATOMIC_RELAXED);
			dp = __atomic_load_n(&pairs[i].lport, __ATOMIC_RELAXED);
		}
		len = 20 + (below(w, 3) ? 0 : below(w, 500));
		for (i = 0; i < len; i += 4)
			*(uint32_t *)(seg + i) = next(&w->rng);
		*(uint16_t *)(seg + 0) = htons(sp);
		*(uint16_t *)(seg + 2) = htons(dp);
		seg[12] = below(w, 10) ? 5 << 4 : below(w, 16) << 4;
		seg[13] = flags[below(w, sizeof(flags))];
		seg[16] = seg[17] = 0;
		ps[10] = len >> 8;
		ps[11] = len;
		sum = ~csum16(ps, sizeof(ps), 0) & 0xffff;
		*(uint16_t *)(seg + 16) = htons(csum16(seg, len, sum));
		if (!below(w, 20))
			seg[16] ^= 0x40;
		sendto(rawfd, seg, len, 0, (void *)&dst, sizeof(dst));
		w->calls++;
	}
	return NULL;
}

/* Does sysctl @name bound how long a socket lives? */
static bool lifetime_knob(const char *name)
{
	static const char *const names[] = {
		"msl_ms", "fin_timeout", "syn_retries", "synack_retries",
		"retries1", "retries2", "orphan_retries", "keepalive_time",
		"keepalive_intvl", "keepalive_probes", "rto_min_ms",
		"rto_max_ms", "rto_initial_ms", "tw_bucket_ms",
	};
	size_t i;

	if (baseline && !strncmp(name, "tcp_", 4))
		name += 4;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/* The namespace's sysctls, rewritten with random values. */
static void *knobs_main(void *arg)
{
	static const char *const short_vals[] = { "0", "1", "2", "3", "10",
						  "-1", "abc", "", "100",
						  "1000" };
	static const char *const vals[] = { "0", "1", "2", "3", "10", "100",
					    "1000", "100000", "-1", "abc",
					    "2147483647", "reno", "cubic",
					    "4096 16384 65536", "" };
	const char *dir = baseline ? "/proc/sys/net/ipv4" : "/proc/sys/net/xtcp";
	struct worker *w = arg;
	char names[64][64], path[160];
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	struct dirent *d;
	int n = 0;
	DIR *dp = opendir(dir);

	if (!dp)
		return NULL;
	while ((d = readdir(dp)) && n < 64)
		if (d->d_name[0] != '.' &&
		    (!baseline || !strncmp(d->d_name, "tcp_", 4)) &&
		    strlen(d->d_name) < sizeof(names[0]))
			strcpy(names[n++], d->d_name);
	closedir(dp);
	while (!stop && n) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, names[below(w, n)]);
		fd = open(path, O_WRONLY);
		if (fd >= 0) {
			const char *name = strrchr(path, '/') + 1;
			const char *v = vals[below(w, 15)];

			/*
			 * Timeouts and retry counts stay small: the sockets a
			 * round leaves behind must go within a minute or two
			 * for the leak check at the end.
			 */
			if (lifetime_knob(name))
				v = short_vals[below(w, 8 + 2 * !!strstr(name, "_ms"))];

			write(fd, v, strlen(v));
			close(fd);
		}
		w->calls++;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/*
 * Every row of the proc table parses, with one of the 11 states and
 * queues that did not go negative; the connected port pairs are kept for
 * the injector.
 */
static bool proc_sane(void)
{
	FILE *f = fopen(baseline ? "/proc/net/tcp" : "/proc/net/xtcp", "r");
	char line[512];
	bool ok = true;
	int n = 0;

	if (!f) {
		if (errno == ENOENT && !baseline)
			return true;	/* the module is away: rmmod won */
		perror("proc table");
		return false;
	}
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return true;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned int la, lp, ra, rp, st, tx, rx;

		if (sscanf(line, " %*d: %x:%x %x:%x %x %x:%x", &la, &lp, &ra,
			   &rp, &st, &tx, &rx) != 7) {
			printf("not ok: unparsable row: %s", line);
			ok = false;
			continue;
		}
		/*
		 * Not the queues of a SYN_SENT row: Linux reads them without
		 * the socket lock, and connect() hashes the socket before it
		 * sets snd_una to the new write_seq.
		 */
		if (st < 1 || st > 11 ||
		    (st != 2 && (tx > 1U << 30 || rx > 1U << 30))) {
			printf("not ok: insane row: %s", line);
			ok = false;
		}
		if (rp && n < MAXPAIRS) {
			__atomic_store_n(&pairs[n].lport, lp, __ATOMIC_RELAXED);
			__atomic_store_n(&pairs[n].rport, rp, __ATOMIC_RELAXED);
			n++;
		}
	}
	__atomic_store_n(&npairs, n, __ATOMIC_RELAXED);
	fclose(f);
	return ok;
}

/* A stuck thread's state and kernel stack, from /proc. */
static void show_task(pid_t tid)
{
	static const char *const files[] = { "stat", "wchan", "stack" };
	char path[64], line[256];
	size_t i;

	for (i = 0; i < 3; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%d/%s", tid,
			 files[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			printf("#   %s: %s%s", files[i], line,
			       strchr(line, '\n') ? "" : "\n");
		fclose(f);
	}
	fflush(stdout);
}

static void on_signal(int sig)
{
}

static void lo_up(void)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return;
	ifr.ifr_flags |= IFF_UP;
	ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * One round, in a child process. Exit status 0: sane and every thread came
 * back; 1: an insane row or a thread stuck in a call.
 */
static int round_main(uint64_t seed, double secs, bool abrupt, int out)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec tick = { 0, 3 * 1000 * 1000 };
	int n = nthreads + 2, i, fd;
	unsigned long counts[3] = {};
	double end, t;
	bool ok = true;

	memset(errs, 0, sizeof(errs));		/* the parent's sums */
	memset(busy, 0, sizeof(busy));
	if (unshare(CLONE_NEWNET)) {
		perror("unshare");
		return 1;
	}
	if (write(out, "n", 1) != 1)	/* the parent pins the namespace */
		return 1;
	lo_up();
	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: calls get EINTR */
	signal(SIGPIPE, SIG_IGN);
	guard = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ropage = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		      0);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	rawfd = socket(AF_INET, SOCK_RAW, proto);
	fd = 65536;
	setsockopt(rawfd, SOL_SOCKET, SO_RCVBUF, &fd, sizeof(fd));
	filefd = memfd_create("xtcp_race", 0);
	if (guard == MAP_FAILED || ropage == MAP_FAILED || epfd < 0 ||
	    rawfd < 0 || filefd < 0 || ftruncate(filefd, FILESZ)) {
		perror("round set-up");
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct worker *w = &workers[i];

		w->rng = seed * 0x9e3779b97f4a7c15ULL + i + 1;
		w->op = -1;
		w->buf = malloc(BUFSZ);
		if (!w->buf || pipe2(w->pipe, O_NONBLOCK | O_CLOEXEC))
			return 1;
		memset(w->buf, 'x', BUFSZ);
		if (pthread_create(&w->tid, NULL, i < nthreads ? worker_main :
				   i == nthreads ? injector_main : knobs_main,
				   w))
			return 1;
	}

	end = now() + secs;
	for (i = 0; now() < end; i++) {
		int op = workers[i % nthreads].op;

		if (op >= 0)
			busy[op]++;
		pthread_kill(workers[i % n].tid, SIGUSR1);
		if (!(i % 80) && !proc_sane())
			ok = false;
		nanosleep(&tick, NULL);
	}
	for (i = 0; i < n; i++)
		counts[i < nthreads ? 0 : i == nthreads ? 1 : 2] +=
			workers[i].calls;
	for (i = 0; i < nthreads; i++) {
		size_t c, e;

		for (c = 0; c < NCALLS; c++)
			for (e = 0; e < NERR; e++)
				errs[c][e] += workers[i].errs[c][e];
	}
	if (write(out, counts, sizeof(counts)) != sizeof(counts) ||
	    write(out, errs, sizeof(errs)) != sizeof(errs) ||
	    write(out, busy, sizeof(busy)) != sizeof(busy))
		return 1;
	if (abrupt)
		_exit(ok ? 0 : 1);	/* the namespace dies under load */

	stop = 1;
	t = now() + STUCK_SECS;
	for (i = 0; i < n; i++) {
		while (pthread_tryjoin_np(workers[i].tid, NULL)) {
			if (now() > t) {
				int op = workers[i].op;

				printf("not ok: thread %d stuck in %s for %d s\n",
				       i, i >= nthreads ? "its loop" :
				       op < 0 ? "-" : calls[op].name,
				       STUCK_SECS);
				show_task(workers[i].ktid);
				_exit(1);
			}
			pthread_kill(workers[i].tid, SIGUSR1);
			nanosleep(&tick, NULL);
		}
	}
	if (!proc_sane())
		ok = false;
	for (i = 0; i < NSLOTS; i++)
		close(SLOT0 + i);
	return ok ? 0 : 1;
}

/*
 * Each round's namespace is pinned by the parent until no full socket is
 * left in it (TIME_WAIT entries do not count: they die with it), so that
 * a socket that outlives its round can be shown with the namespace's
 * sysctls, which the knob thread left at random values.
 */
static struct pinned {
	int fd;
	unsigned long round;
	uint64_t seed;
} pins[4096];
static int npins, home_ns = -1;

/*
 * Full sockets in the current namespace's proc table, and in @idle those
 * of them with no timer pending, which nothing will ever free; rows to
 * @show.
 */
static int live_sockets(FILE *show, int *idle)
{
	FILE *f = fopen(baseline ? "/proc/self/net/tcp" : "/proc/self/net/xtcp",
			"r");
	char line[512];
	int n = 0;

	if (idle)
		*idle = 0;
	if (!f)
		return 0;	/* the module is away: nothing of it is left */
	while (fgets(line, sizeof(line), f)) {
		unsigned int st, tr;

		if (sscanf(line, " %*d: %*x:%*x %*x:%*x %x %*x:%*x %x", &st,
			   &tr) != 2 || st == 6)	/* the header, TIME_WAIT */
			continue;
		n++;
		if (idle && !tr)
			(*idle)++;
		if (show)
			fprintf(show, "#   %s", line);
	}
	fclose(f);
	return n;
}

/* The namespace's sysctls, on one line. */
static void show_knobs(void)
{
	const char *dir = baseline ? "/proc/sys/net/ipv4" : "/proc/sys/net/xtcp";
	char path[300], val[64];
	struct dirent *d;
	DIR *dp = opendir(dir);

	if (!dp)
		return;
	printf("#   sysctls:");
	while ((d = readdir(dp))) {
		FILE *f;

		if (d->d_name[0] == '.' ||
		    (baseline && strncmp(d->d_name, "tcp_", 4)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		f = fopen(path, "r");
		if (f && fgets(val, sizeof(val), f)) {
			val[strcspn(val, "\n")] = 0;
			printf(" %s=%s", d->d_name, val);
		}
		if (f)
			fclose(f);
	}
	closedir(dp);
	printf("\n");
}

/*
 * Unpin the namespaces with no full socket left; with @show, print what is
 * left in the others. Returns how many stay pinned; @idle: how many
 * sockets in them have no timer pending.
 */
static int unpin_empty(bool show, int *idle)
{
	int i, kept = 0, sum = 0;

	for (i = 0; i < npins; i++) {
		int n, k;

		if (setns(pins[i].fd, CLONE_NEWNET)) {
			perror("setns");
			exit(1);
		}
		n = live_sockets(NULL, &k);
		sum += k;
		if (n && show) {
			printf("# round %lu (seed %llu) left %d socket%s behind:\n",
			       pins[i].round,
			       (unsigned long long)pins[i].seed, n,
			       n > 1 ? "s" : "");
			live_sockets(stdout, NULL);
			show_knobs();
		}
		if (n)
			pins[kept++] = pins[i];
		else
			close(pins[i].fd);
	}
	npins = kept;
	if (setns(home_ns, CLONE_NEWNET)) {
		perror("setns");
		exit(1);
	}
	if (idle)
		*idle = sum;
	return kept;
}

/*
 * Tell what is left to go quickly: short TIME_WAIT, FIN_WAIT2 and orphan
 * retries in every pinned namespace.
 */
static void hurry(void)
{
	static const char *const xtcp_knobs[] = {
		"/proc/sys/net/xtcp/msl_ms", "/proc/sys/net/xtcp/fin_timeout",
		"/proc/sys/net/xtcp/orphan_retries",
	};
	static const char *const tcp_knobs[] = {
		"/proc/sys/net/ipv4/tcp_fin_timeout",
		"/proc/sys/net/ipv4/tcp_orphan_retries",
	};
	int i, k, n = baseline ? 2 : 3;

	for (i = 0; i < npins; i++) {
		if (setns(pins[i].fd, CLONE_NEWNET))
			continue;
		for (k = 0; k < n; k++) {
			int fd = open(baseline ? tcp_knobs[k] : xtcp_knobs[k],
				      O_WRONLY);

			if (fd >= 0) {
				if (write(fd, "1", 1) != 1)
					perror("sysctl");
				close(fd);
			}
		}
	}
	if (setns(home_ns, CLONE_NEWNET))
		exit(1);
}

/*
 * Every socket of every round must go: on its own within @settle
 * seconds, else, with the namespace's TIME_WAIT, FIN_WAIT2 and orphan
 * retries made short (an orphan probing a zero window and the TIME_WAIT
 * entry of its peer, which restarts its timer on each probe it answers,
 * keep each other for ever otherwise, on both stacks), within LONG_SETTLE
 * while each one left has a timer pending. A socket with no timer pending
 * in two looks a second apart is a leak.
 */
#define LONG_SETTLE	300
static bool all_gone(double settle)
{
	double start = now(), t;
	int idle, idle_before = 0;
	bool hurried = false;

	for (;;) {
		struct timespec ts = { 0, 500 * 1000 * 1000 };

		if (!unpin_empty(false, &idle))
			return true;
		t = now() - start;
		if (t > settle && !hurried) {
			printf("# still there after %.0f s; their knobs made short:\n",
			       t);
			unpin_empty(true, NULL);
			hurry();
			hurried = true;
		}
		if (t > LONG_SETTLE || (t > settle && idle && idle_before))
			break;
		idle_before = t > settle ? idle : 0;
		nanosleep(&ts, NULL);
		if (t > settle)
			nanosleep(&ts, NULL);
	}
	printf("not ok: after %.0f s, %d with no timer pending:\n", t, idle);
	unpin_empty(true, NULL);
	return false;
}

static bool read_all(int fd, void *p, size_t len)
{
	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			return false;
		p = (char *)p + n;
		len -= n;
	}
	return true;
}

/*
 * What each kind of call returned: how often, its share of the time the
 * workers spent in calls (sampled), and its commonest errnos.
 */
static void report(void)
{
	unsigned long samples = 0;
	size_t c, e, k;

	for (c = 0; c < NCALLS; c++)
		samples += busy[c];
	for (c = 0; c < NCALLS; c++) {
		unsigned long n = 0;
		bool used[NERR] = {};

		for (e = 0; e < NERR; e++)
			n += errs[c][e];
		printf("#   %-9s %9lu, %4.1f %% of the time, %5.1f %% succeeded",
		       calls[c].name, n, samples ? 100.0 * busy[c] / samples : 0,
		       n ? 100.0 * errs[c][0] / n : 0.0);
		used[0] = true;
		for (k = 0; k < 4; k++) {
			size_t best = 0;

			for (e = 1; e < NERR; e++)
				if (!used[e] && errs[c][e] &&
				    (!best || errs[c][e] > errs[c][best]))
					best = e;
			if (!best)
				break;
			used[best] = true;
			printf(", %s %lu", strerrorname_np(best), errs[c][best]);
		}
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	double secs = 20, round_max = 5, settle_secs = 60, start, end;
	static unsigned long round_errs[NCALLS_MAX][NERR];
	unsigned long round_busy[NCALLS_MAX];
	unsigned long rounds = 0, abrupt_rounds = 0, totals[3] = {};
	uint64_t seed = 0, rng;
	bool bad = false, verbose = false;
	int opt;

	while ((opt = getopt(argc, argv, "p:t:T:r:S:w:v")) != -1) {
		switch (opt) {
		case 'v':
			verbose = true;
			break;
		case 'p':
			baseline = !strcmp(optarg, "tcp");
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'T':
			nthreads = atoi(optarg);
			if (nthreads < 1 || nthreads > MAXTHREADS - 2)
				nthreads = 4;
			break;
		case 'r':
			round_max = atof(optarg);
			break;
		case 'S':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			settle_secs = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: xtcp_race [-p xtcp|tcp] [-t SECONDS] [-T THREADS] [-r ROUND] [-S SEED] [-w SETTLE] [-v]\n");
			return 2;
		}
	}
	if (!seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (ts.tv_sec * 1000003ULL) ^ ts.tv_nsec ^ getpid();
	}
	rng = seed | 1;
	home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home_ns < 0) {
		perror("/proc/self/ns/net");
		return 1;
	}
	family = baseline ? AF_INET : xtcp_family();
	proto = baseline ? IPPROTO_TCP : xtcp_ipproto();
	printf("# %s: seed %llu, %.0f s, %d threads, rounds up to %.1f s\n",
	       baseline ? "tcp" : "xtcp", (unsigned long long)seed, secs,
	       nthreads, round_max);
	fflush(stdout);

	start = now();
	end = start + secs;
	while (now() < end && !bad) {
		uint64_t rseed = next(&rng);
		double len = 0.5 + (rseed >> 11) % 1000 * (round_max - 0.5) / 1000;
		bool abrupt = rseed & 1;
		unsigned long counts[3];
		double limit;
		int p[2], status;
		pid_t pid;
		char c;

		if (pipe(p))
			return 1;
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return 1;
		if (!pid) {
			close(p[0]);
			_exit(round_main(rseed, len, abrupt, p[1]));
		}
		close(p[1]);
		if (read(p[0], &c, 1) == 1 && npins < (int)(sizeof(pins) / sizeof(pins[0]))) {
			char path[64];

			snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
			pins[npins].fd = open(path, O_RDONLY | O_CLOEXEC);
			pins[npins].round = rounds;
			pins[npins].seed = rseed;
			if (pins[npins].fd >= 0)
				npins++;
		}
		limit = now() + len + STUCK_SECS + 30;
		while (waitpid(pid, &status, WNOHANG) == 0) {
			struct timespec ts = { 0, 20 * 1000 * 1000 };

			if (now() > limit) {
				printf("not ok: round %lu (seed %llu) did not end\n",
				       rounds, (unsigned long long)rseed);
				kill(pid, SIGKILL);
				return 1;
			}
			nanosleep(&ts, NULL);
		}
		if (read_all(p[0], counts, sizeof(counts)) &&
		    read_all(p[0], round_errs, sizeof(round_errs)) &&
		    read_all(p[0], round_busy, sizeof(round_busy))) {
			size_t c, e;

			totals[0] += counts[0];
			totals[1] += counts[1];
			totals[2] += counts[2];
			for (c = 0; c < NCALLS; c++) {
				for (e = 0; e < NERR; e++)
					errs[c][e] += round_errs[c][e];
				busy[c] += round_busy[c];
			}
		}
		close(p[0]);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("not ok: round %lu (seed %llu, %s) ended with status %#x\n",
			       rounds, (unsigned long long)rseed,
			       abrupt ? "abrupt" : "orderly", status);
			bad = true;
		}
		rounds++;
		abrupt_rounds += abrupt;
		unpin_empty(false, NULL);
	}
	/*
	 * Kernel TCP is not held to it: an orphan probing a zero window and
	 * the TIME_WAIT entry of its peer, whose answers reset each other's
	 * timers, keep each other for ever there (seen in this fuzzer), and
	 * its TIME_WAIT length is not a knob.
	 */
	if (baseline) {
		if (unpin_empty(false, NULL)) {
			printf("# kernel TCP left these behind (not counted):\n");
			unpin_empty(true, NULL);
		}
	} else if (!all_gone(settle_secs)) {
		bad = true;
	}
	printf("# %lu rounds (%lu abrupt) in %.0f s: %lu calls (%.0f/s), %lu injected segments, %lu sysctl writes, seed %llu\n",
	       rounds, abrupt_rounds, now() - start, totals[0],
	       totals[0] / (now() - start), totals[1], totals[2],
	       (unsigned long long)seed);
	if (verbose)
		report();
	return bad;
}
