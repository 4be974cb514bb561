// SPDX-License-Identifier: GPL-2.0
/*
 * Socket API parity between xtcp and Linux TCP.
 *
 * Every test runs twice, once per fixture variant: "xtcp" opens
 * socket(PF_XTCP, SOCK_STREAM, 0), "tcp" opens socket(AF_INET,
 * SOCK_STREAM, IPPROTO_TCP). The code is the same for both, so whatever
 * the tcp variant observes on a given kernel is what xtcp must give:
 * SOL_TCP options with TCP's numbers and ranges, TCP_INFO, SOL_SOCKET and
 * SOL_IP options, recv flags, ioctls, vectored I/O, sendfile and splice,
 * and poll/epoll readiness including half-close and reset.
 *
 * Connections go over 127.0.0.1 inside the test process. Waits poll a
 * condition up to a deadline; no result depends on how long anything took,
 * except that a receive time-out must not end early.
 *
 * Without the module the xtcp variant skips.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <net/if.h>
#include <linux/sockios.h>
#include <linux/tcp.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

#ifndef SOL_TCP
#define SOL_TCP		IPPROTO_TCP
#endif

/* tcpi_state values (include/net/tcp_states.h). */
#define ST_ESTABLISHED	1
#define ST_CLOSE	7
#define ST_LISTEN	10

/* The events whose presence or absence the tests compare. */
#define EV_MASK (POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP | POLLPRI)

/* How long any wait for a condition may last before the test fails. */
static int deadline_ms(void)
{
	static int ms;
	struct utsname u;

	if (!ms)
		ms = (!uname(&u) && strstr(u.release, "xtcp-debug")) ?
			15000 : 3000;
	return ms;
}

/*
 * A guest that could not calibrate its TSC runs on the jiffies clocksource;
 * a loopback round trip then often measures 0 us, and tcpi_rtt reads 0
 * for TCP as well.
 */
static bool coarse_clock(void)
{
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource",
			"r");
	char name[64] = "";

	if (!f)
		return false;
	if (fscanf(f, "%63s", name) != 1)
		name[0] = 0;
	fclose(f);
	return strstr(name, "jiffies");
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void nap(void)
{
	usleep(2000);
}

static void pattern(unsigned char *buf, size_t n, size_t off)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)((off + i) * 7 + (off + i) / 251);
}

static int check_pattern(const unsigned char *buf, size_t n, size_t off)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (buf[i] != (unsigned char)((off + i) * 7 + (off + i) / 251))
			return (int)i;
	return -1;
}

static int ioctl_int(int fd, unsigned long req)
{
	int v = -1;

	if (ioctl(fd, req, &v))
		return -errno;
	return v;
}

static int inq(int fd)
{
	return ioctl_int(fd, SIOCINQ);
}

static int outq(int fd)
{
	return ioctl_int(fd, SIOCOUTQ);
}

/* The option's value; a failure reads as -100000 - errno (-100095: EOPNOTSUPP). */
static int getint(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int v = -12345;

	if (getsockopt(fd, level, name, &v, &len))
		return -errno - 100000;
	return v;
}

static int setint(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v)) ? errno : 0;
}

static void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* Events of @fd within @events, waiting up to @ms for any of @want. */
static int poll_wait(int fd, short events, short want, int ms)
{
	long long end = now_ms() + ms;
	struct pollfd p;

	for (;;) {
		int left = (int)(end - now_ms());

		p.fd = fd;
		p.events = events;
		p.revents = 0;
		if (left < 0)
			left = 0;
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return -1;
		if ((p.revents & want) || now_ms() >= end)
			return p.revents;
	}
}

static int poll_now(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	if (poll(&p, 1, 0) < 0)
		return -1;
	return p.revents;
}

/* Wait until SIOCINQ of @fd reads @n (or the deadline); the last value. */
static int wait_inq(int fd, int n)
{
	long long end = now_ms() + deadline_ms();
	int v;

	while ((v = inq(fd)) != n && now_ms() < end)
		nap();
	return v;
}

static int wait_outq(int fd, int n)
{
	long long end = now_ms() + deadline_ms();
	int v;

	while ((v = outq(fd)) != n && now_ms() < end)
		nap();
	return v;
}

/* Send all of @buf; the count actually sent. */
static ssize_t send_all(int fd, const void *buf, size_t n)
{
	long long end = now_ms() + deadline_ms();
	size_t done = 0;

	while (done < n && now_ms() < end) {
		ssize_t r = send(fd, (const char *)buf + done, n - done,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r > 0) {
			done += r;
			continue;
		}
		if (r < 0 && errno != EAGAIN)
			break;
		poll_wait(fd, POLLOUT, POLLOUT | POLLERR | POLLHUP, 50);
	}
	return done;
}

/* Receive exactly @n bytes unless EOF, an error or the deadline. */
static ssize_t recv_all(int fd, void *buf, size_t n)
{
	long long end = now_ms() + deadline_ms();
	size_t done = 0;

	while (done < n && now_ms() < end) {
		ssize_t r = recv(fd, (char *)buf + done, n - done, MSG_DONTWAIT);

		if (r > 0) {
			done += r;
			continue;
		}
		if (r == 0 || errno != EAGAIN)
			break;
		poll_wait(fd, POLLIN, POLLIN | POLLERR | POLLHUP, 50);
	}
	return done;
}

FIXTURE(api) {
	int family;
	int proto;
};

FIXTURE_VARIANT(api) {
	bool xtcp;
};

FIXTURE_VARIANT_ADD(api, xtcp) {
	.xtcp = true,
};

FIXTURE_VARIANT_ADD(api, tcp) {
	.xtcp = false,
};

FIXTURE_SETUP(api)
{
	int fd;

	if (variant->xtcp) {
		self->family = xtcp_family();
		self->proto = 0;
	} else {
		self->family = AF_INET;
		self->proto = IPPROTO_TCP;
	}
	fd = socket(self->family, SOCK_STREAM, self->proto);
	if (fd < 0 && variant->xtcp && errno == EAFNOSUPPORT) {
		/*
		 * The 6.1 harness runs the test body even after a SKIP in
		 * the set-up; exit 255 is its "skipped" status.
		 */
		SKIP(_exit(255), "xtcp module not loaded");
	}
	ASSERT_LE(0, fd) {
		TH_LOG("socket: %s", strerror(errno));
	}
	close(fd);
}

FIXTURE_TEARDOWN(api)
{
}

static int new_sock(struct __test_metadata *_metadata, FIXTURE_DATA(api) *self)
{
	int fd = socket(self->family, SOCK_STREAM, self->proto);

	ASSERT_LE(0, fd) {
		TH_LOG("socket: %s", strerror(errno));
	}
	return fd;
}

static unsigned short port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len))
		return 0;
	return ntohs(a.sin_port);
}

/* Bind @fd to 127.0.0.1:@port (0: any) and listen. */
static void do_listen(struct __test_metadata *_metadata, int fd,
		      unsigned short port)
{
	struct sockaddr_in a = xtcp_addr("127.0.0.1", port);

	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		TH_LOG("bind: %s", strerror(errno));
	}
	ASSERT_EQ(0, listen(fd, 64)) {
		TH_LOG("listen: %s", strerror(errno));
	}
}

static int new_listener(struct __test_metadata *_metadata,
			FIXTURE_DATA(api) *self)
{
	int fd = new_sock(_metadata, self);

	do_listen(_metadata, fd, 0);
	return fd;
}

/* Connect @fd to 127.0.0.1:@port, bounded by the deadline; stays blocking. */
static void do_connect(struct __test_metadata *_metadata, int fd,
		       unsigned short port)
{
	struct sockaddr_in a = xtcp_addr("127.0.0.1", port);
	int r;

	set_nonblock(fd, true);
	r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	if (r) {
		ASSERT_EQ(EINPROGRESS, errno) {
			TH_LOG("connect: %s", strerror(errno));
		}
		ASSERT_TRUE(poll_wait(fd, POLLOUT, POLLOUT | POLLERR,
				      deadline_ms()) & POLLOUT);
		ASSERT_EQ(0, getint(fd, SOL_SOCKET, SO_ERROR));
	}
	set_nonblock(fd, false);
}

static int do_accept(struct __test_metadata *_metadata, int lfd)
{
	int fd;

	ASSERT_TRUE(poll_wait(lfd, POLLIN, POLLIN, deadline_ms()) & POLLIN) {
		TH_LOG("no connection to accept");
	}
	fd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, fd) {
		TH_LOG("accept: %s", strerror(errno));
	}
	return fd;
}

/* A new client connected to @lfd (in *@cfd), and its accepted peer. */
static int connect_accept(struct __test_metadata *_metadata,
			  FIXTURE_DATA(api) *self, int lfd, int *cfd)
{
	*cfd = new_sock(_metadata, self);
	do_connect(_metadata, *cfd, port_of(lfd));
	return do_accept(_metadata, lfd);
}

/* A connected pair from a listener that is closed again. */
static void new_pair(struct __test_metadata *_metadata, FIXTURE_DATA(api) *self,
		     int *cfd, int *sfd)
{
	int lfd = new_listener(_metadata, self);

	*cfd = new_sock(_metadata, self);
	do_connect(_metadata, *cfd, port_of(lfd));
	*sfd = do_accept(_metadata, lfd);
	close(lfd);
}

static int get_info(int fd, struct tcp_info *ti, socklen_t *len)
{
	socklen_t l = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	if (getsockopt(fd, SOL_TCP, TCP_INFO, ti, &l))
		return -errno;
	if (len)
		*len = l;
	return 0;
}

/*
 * Send from @c without blocking until the connection takes no more: the
 * peer @s does not read, so its receive window and then @c's send buffer
 * fill. Rounds repeat until every byte the peer holds is acked and a new
 * round sends nothing. Returns the bytes sent.
 */
static long fill_until_stuck(struct __test_metadata *_metadata, int c, int s)
{
	static unsigned char buf[65536];
	long long end = now_ms() + deadline_ms();
	long total = 0;
	int round;

	for (round = 0; round < 100; round++) {
		long sent = 0;
		ssize_t r;

		while ((r = send(c, buf, sizeof(buf),
				 MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
			sent += r;
		ASSERT_EQ(EAGAIN, errno) {
			TH_LOG("send: %s", strerror(errno));
		}
		total += sent;
		/* snd_una == rcv_nxt: nothing in flight or waiting for an ACK. */
		while (outq(c) + inq(s) != total && now_ms() < end)
			nap();
		ASSERT_EQ(total, outq(c) + inq(s)) {
			TH_LOG("outq %d + inq %d != sent %ld",
			       outq(c), inq(s), total);
		}
		if (!sent && round)
			return total;
	}
	ASSERT_TRUE(0) {
		TH_LOG("the connection kept taking data");
	}
	return total;
}

/* Read and discard @n bytes from @s. */
static void drain(struct __test_metadata *_metadata, int s, long n)
{
	static unsigned char buf[65536];
	long long end = now_ms() + deadline_ms();

	while (n > 0 && now_ms() < end) {
		ssize_t r = recv(s, buf, n < (long)sizeof(buf) ? n : (long)sizeof(buf),
				 MSG_DONTWAIT);

		if (r > 0) {
			n -= r;
			continue;
		}
		ASSERT_TRUE(r < 0 && errno == EAGAIN) {
			TH_LOG("recv: %zd %s", r, strerror(errno));
		}
		poll_wait(s, POLLIN, POLLIN, 50);
	}
	ASSERT_EQ(0, n);
}

/* Abort the connection from @fd's side: SO_LINGER {1, 0} and close(). */
static void reset_close(struct __test_metadata *_metadata, int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_EQ(0, close(fd));
}

/* Wait for the reset to reach @s: POLLERR or POLLHUP. */
static int wait_reset(int s)
{
	return poll_wait(s, POLLIN | POLLOUT | POLLRDHUP, POLLERR | POLLHUP,
			 deadline_ms());
}

/* ---------------------------------------------------------------- */
/* SOL_TCP options                                                  */
/* ---------------------------------------------------------------- */

TEST_F(api, nodelay)
{
	int lfd, c, s;

	new_pair(_metadata, self, &c, &s);
	EXPECT_EQ(0, getint(c, SOL_TCP, TCP_NODELAY));
	EXPECT_EQ(0, setint(c, SOL_TCP, TCP_NODELAY, 1));
	EXPECT_EQ(1, getint(c, SOL_TCP, TCP_NODELAY));
	/* Any non-zero value means on; get reports it as 1. */
	EXPECT_EQ(0, setint(c, SOL_TCP, TCP_NODELAY, 5));
	EXPECT_EQ(1, getint(c, SOL_TCP, TCP_NODELAY));
	EXPECT_EQ(0, setint(c, SOL_TCP, TCP_NODELAY, 0));
	EXPECT_EQ(0, getint(c, SOL_TCP, TCP_NODELAY));

	/* On an unconnected socket too, and it carries through connect(). */
	close(c);
	close(s);
	lfd = new_listener(_metadata, self);
	c = new_sock(_metadata, self);
	EXPECT_EQ(0, setint(c, SOL_TCP, TCP_NODELAY, 1));
	EXPECT_EQ(1, getint(c, SOL_TCP, TCP_NODELAY));
	do_connect(_metadata, c, port_of(lfd));
	EXPECT_EQ(1, getint(c, SOL_TCP, TCP_NODELAY));
	s = do_accept(_metadata, lfd);
	/* Nothing of the peer's setting shows on the accepted socket. */
	EXPECT_EQ(0, getint(s, SOL_TCP, TCP_NODELAY));
	close(lfd);
	close(c);
	close(s);
}

TEST_F(api, maxseg_connected)
{
	int c, s, mc, ms;

	new_pair(_metadata, self, &c, &s);
	mc = getint(c, SOL_TCP, TCP_MAXSEG);
	ms = getint(s, SOL_TCP, TCP_MAXSEG);
	EXPECT_LT(0, mc);
	EXPECT_LT(0, ms);
	/* Not more than the IPv4 packet that carries it allows. */
	EXPECT_GT(65536 - 40, mc);
	EXPECT_GT(65536 - 40, ms);
	close(c);
	close(s);
}

TEST_F(api, maxseg_range)
{
	int fd = new_sock(_metadata, self);

	/* TCP takes 0 (no clamp) or TCP_MIN_MSS (88) .. MAX_TCP_WINDOW. */
	EXPECT_EQ(EINVAL, setint(fd, SOL_TCP, TCP_MAXSEG, 87));
	EXPECT_EQ(EINVAL, setint(fd, SOL_TCP, TCP_MAXSEG, -1));
	EXPECT_EQ(EINVAL, setint(fd, SOL_TCP, TCP_MAXSEG, 32768));
	EXPECT_EQ(0, setint(fd, SOL_TCP, TCP_MAXSEG, 88));
	EXPECT_EQ(88, getint(fd, SOL_TCP, TCP_MAXSEG));
	EXPECT_EQ(0, setint(fd, SOL_TCP, TCP_MAXSEG, 1000));
	/* Before connect() get reports the clamp itself. */
	EXPECT_EQ(1000, getint(fd, SOL_TCP, TCP_MAXSEG));
	close(fd);
}

/* A clamp set before connect() bounds both ends: it is the SYN's MSS. */
TEST_F(api, maxseg_clamp_client)
{
	int lfd = new_listener(_metadata, self);
	int c = new_sock(_metadata, self), s, full_c, full_s;

	ASSERT_EQ(0, setint(c, SOL_TCP, TCP_MAXSEG, 1000));
	do_connect(_metadata, c, port_of(lfd));
	s = do_accept(_metadata, lfd);
	full_c = getint(c, SOL_TCP, TCP_MAXSEG);
	full_s = getint(s, SOL_TCP, TCP_MAXSEG);
	EXPECT_LT(0, full_c);
	EXPECT_GE(1000, full_c);
	EXPECT_LT(0, full_s);
	EXPECT_GE(1000, full_s);
	close(c);
	close(s);
	close(lfd);
}

/* A clamp on the listener goes to its children and into the SYN-ACK. */
TEST_F(api, maxseg_clamp_listener)
{
	int lfd = new_sock(_metadata, self);
	int c, s, mc, ms;

	ASSERT_EQ(0, setint(lfd, SOL_TCP, TCP_MAXSEG, 700));
	do_listen(_metadata, lfd, 0);
	c = new_sock(_metadata, self);
	do_connect(_metadata, c, port_of(lfd));
	s = do_accept(_metadata, lfd);
	mc = getint(c, SOL_TCP, TCP_MAXSEG);
	ms = getint(s, SOL_TCP, TCP_MAXSEG);
	EXPECT_LT(0, mc);
	EXPECT_GE(700, mc);
	EXPECT_LT(0, ms);
	EXPECT_GE(700, ms);
	close(c);
	close(s);
	close(lfd);
}

TEST_F(api, cork)
{
	unsigned char buf[100], got[300];
	struct tcp_info ti;
	int c, s;

	new_pair(_metadata, self, &c, &s);
	EXPECT_EQ(0, getint(c, SOL_TCP, TCP_CORK));
	ASSERT_EQ(0, setint(c, SOL_TCP, TCP_CORK, 1));
	EXPECT_EQ(1, getint(c, SOL_TCP, TCP_CORK));

	/* A partial segment waits while corked. */
	pattern(buf, sizeof(buf), 0);
	ASSERT_EQ((ssize_t)sizeof(buf), send(c, buf, sizeof(buf), MSG_NOSIGNAL));
	EXPECT_EQ((int)sizeof(buf), ioctl_int(c, SIOCOUTQNSD));
	ASSERT_EQ(0, get_info(c, &ti, NULL));
	EXPECT_EQ(sizeof(buf), ti.tcpi_notsent_bytes);
	EXPECT_EQ(0U, ti.tcpi_unacked);
	EXPECT_EQ(0, inq(s));

	/* Uncorking pushes it out. */
	ASSERT_EQ(0, setint(c, SOL_TCP, TCP_CORK, 0));
	EXPECT_EQ(0, getint(c, SOL_TCP, TCP_CORK));
	ASSERT_EQ((ssize_t)sizeof(buf), recv_all(s, got, sizeof(buf)));
	EXPECT_EQ(-1, check_pattern(got, sizeof(buf), 0));
	EXPECT_EQ(0, wait_outq(c, 0));
	EXPECT_EQ(0, ioctl_int(c, SIOCOUTQNSD));
	close(c);
	close(s);
}

TEST_F(api, msg_more)
{
	unsigned char buf[200], got[200];
	int c, s;

	new_pair(_metadata, self, &c, &s);
	pattern(buf, sizeof(buf), 0);
	/* MSG_MORE holds a partial segment like TCP_CORK ... */
	ASSERT_EQ(100, send(c, buf, 100, MSG_MORE | MSG_NOSIGNAL));
	EXPECT_EQ(100, ioctl_int(c, SIOCOUTQNSD));
	EXPECT_EQ(0, inq(s));
	/* ... until a send without it. */
	ASSERT_EQ(100, send(c, buf + 100, 100, MSG_NOSIGNAL));
	ASSERT_EQ((ssize_t)sizeof(got), recv_all(s, got, sizeof(got)));
	EXPECT_EQ(-1, check_pattern(got, sizeof(got), 0));
	EXPECT_EQ(0, wait_outq(c, 0));
	close(c);
	close(s);
}

TEST_F(api, keepalive_options)
{
	static const struct {
		int opt, max;
	} o[] = {
		{ TCP_KEEPIDLE, 32767 },
		{ TCP_KEEPINTVL, 32767 },
		{ TCP_KEEPCNT, 127 },
	};
	int fd = new_sock(_metadata, self), c, s;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(o); i++) {
		EXPECT_EQ(0, setint(fd, SOL_TCP, o[i].opt, 1));
		EXPECT_EQ(1, getint(fd, SOL_TCP, o[i].opt));
		EXPECT_EQ(0, setint(fd, SOL_TCP, o[i].opt, o[i].max));
		EXPECT_EQ(o[i].max, getint(fd, SOL_TCP, o[i].opt));
		EXPECT_EQ(0, setint(fd, SOL_TCP, o[i].opt, 5));
		/* Out of range: refused, the value stays. */
		EXPECT_EQ(EINVAL, setint(fd, SOL_TCP, o[i].opt, 0)) {
			TH_LOG("option %d", o[i].opt);
		}
		EXPECT_EQ(EINVAL, setint(fd, SOL_TCP, o[i].opt, -1));
		EXPECT_EQ(EINVAL, setint(fd, SOL_TCP, o[i].opt, o[i].max + 1)) {
			TH_LOG("option %d", o[i].opt);
		}
		EXPECT_EQ(5, getint(fd, SOL_TCP, o[i].opt));
	}

	EXPECT_EQ(0, getint(fd, SOL_SOCKET, SO_KEEPALIVE));
	EXPECT_EQ(0, setint(fd, SOL_SOCKET, SO_KEEPALIVE, 1));
	EXPECT_EQ(1, getint(fd, SOL_SOCKET, SO_KEEPALIVE));
	close(fd);

	/* On a connection, too. */
	new_pair(_metadata, self, &c, &s);
	EXPECT_EQ(0, setint(c, SOL_SOCKET, SO_KEEPALIVE, 1));
	EXPECT_EQ(0, setint(c, SOL_TCP, TCP_KEEPIDLE, 60));
	EXPECT_EQ(60, getint(c, SOL_TCP, TCP_KEEPIDLE));
	EXPECT_EQ(0, setint(c, SOL_TCP, TCP_KEEPINTVL, 7));
	EXPECT_EQ(7, getint(c, SOL_TCP, TCP_KEEPINTVL));
	EXPECT_EQ(0, setint(c, SOL_TCP, TCP_KEEPCNT, 3));
	EXPECT_EQ(3, getint(c, SOL_TCP, TCP_KEEPCNT));
	EXPECT_EQ(0, setint(c, SOL_SOCKET, SO_KEEPALIVE, 0));
	EXPECT_EQ(0, getint(c, SOL_SOCKET, SO_KEEPALIVE));
	close(c);
	close(s);
}

/* Probes go out after TCP_KEEPIDLE; an answering peer keeps it alive. */
TEST_F(api, keepalive_probes)
{
	struct tcp_info ti;
	unsigned int out0, cin0, in0;
	long long end;
	int c, s;

	new_pair(_metadata, self, &c, &s);
	ASSERT_EQ(0, setint(c, SOL_TCP, TCP_KEEPIDLE, 1));
	ASSERT_EQ(0, setint(c, SOL_TCP, TCP_KEEPINTVL, 1));
	ASSERT_EQ(0, setint(c, SOL_TCP, TCP_KEEPCNT, 1));
	ASSERT_EQ(0, get_info(c, &ti, NULL));
	out0 = ti.tcpi_segs_out;
	cin0 = ti.tcpi_segs_in;
	ASSERT_EQ(0, get_info(s, &ti, NULL));
	in0 = ti.tcpi_segs_in;
	ASSERT_EQ(0, setint(c, SOL_SOCKET, SO_KEEPALIVE, 1));

	/* Two probes, each answered: more than TCP_KEEPCNT, still up. */
	end = now_ms() + deadline_ms() + 3000;
	do {
		nap();
		ASSERT_EQ(0, get_info(c, &ti, NULL));
	} while ((ti.tcpi_segs_out < out0 + 2 || ti.tcpi_segs_in < cin0 + 2) &&
		 now_ms() < end);
	EXPECT_LE(out0 + 2, ti.tcpi_segs_out);
	/* Each probe was answered. */
	EXPECT_LE(cin0 + 2, ti.tcpi_segs_in);
	EXPECT_EQ(ST_ESTABLISHED, ti.tcpi_state);
	EXPECT_EQ(0U, ti.tcpi_bytes_received);
	EXPECT_EQ(0, getint(c, SOL_SOCKET, SO_ERROR));
	ASSERT_EQ(0, get_info(s, &ti, NULL));
	EXPECT_LE(in0 + 2, ti.tcpi_segs_in);
	EXPECT_EQ(0U, ti.tcpi_bytes_received);
	/* Neither side saw data. */
	EXPECT_EQ(0, inq(s));
	EXPECT_EQ(0, inq(c));
	ASSERT_EQ(1, send(c, "k", 1, MSG_NOSIGNAL));
	EXPECT_EQ(1, wait_inq(s, 1));
	close(c);
	close(s);
}

TEST_F(api, user_timeout)
{
	int fd = new_sock(_metadata, self);

	EXPECT_EQ(0, getint(fd, SOL_TCP, TCP_USER_TIMEOUT));
	EXPECT_EQ(0, setint(fd, SOL_TCP, TCP_USER_TIMEOUT, 1500));
	EXPECT_EQ(1500, getint(fd, SOL_TCP, TCP_USER_TIMEOUT));
	EXPECT_EQ(EINVAL, setint(fd, SOL_TCP, TCP_USER_TIMEOUT, -1));
	EXPECT_EQ(1500, getint(fd, SOL_TCP, TCP_USER_TIMEOUT));
	EXPECT_EQ(0, setint(fd, SOL_TCP, TCP_USER_TIMEOUT, 0));
	EXPECT_EQ(0, getint(fd, SOL_TCP, TCP_USER_TIMEOUT));
	close(fd);
}

static void get_cc(struct __test_metadata *_metadata, int fd, char *name,
		   socklen_t size, socklen_t *len)
{
	socklen_t l = size;

	memset(name, 0, size);
	ASSERT_EQ(0, getsockopt(fd, SOL_TCP, TCP_CONGESTION, name, &l)) {
		TH_LOG("TCP_CONGESTION: %s", strerror(errno));
	}
	if (len)
		*len = l;
}

TEST_F(api, congestion)
{
	char want[64] = "cubic", name[64];
	int fd = new_sock(_metadata, self), c, s;
	socklen_t len;

	/* TCP's default is the sysctl; xtcp's is CUBIC. */
	if (!variant->xtcp) {
		FILE *f = fopen("/proc/sys/net/ipv4/tcp_congestion_control", "r");

		ASSERT_NE(NULL, f);
		ASSERT_EQ(1, fscanf(f, "%63s", want));
		fclose(f);
	}
	get_cc(_metadata, fd, name, sizeof(name), &len);
	EXPECT_STREQ(want, name);
	/* The name comes in a TCP_CA_NAME_MAX (16) byte field. */
	EXPECT_EQ(16U, len);

	/* A short buffer gets the start of the name. */
	get_cc(_metadata, fd, name, 3, &len);
	EXPECT_EQ(3U, len);
	EXPECT_EQ(0, strncmp(name, want, 3));

	ASSERT_EQ(0, setsockopt(fd, SOL_TCP, TCP_CONGESTION, "reno", 4));
	get_cc(_metadata, fd, name, sizeof(name), NULL);
	EXPECT_STREQ("reno", name);

	/* Unknown: ENOENT, and the algorithm stays. */
	EXPECT_EQ(-1, setsockopt(fd, SOL_TCP, TCP_CONGESTION, "xtcp_no_such_cc", 15));
	EXPECT_EQ(ENOENT, errno);
	get_cc(_metadata, fd, name, sizeof(name), NULL);
	EXPECT_STREQ("reno", name);
	close(fd);

	/* On an established connection, both ways. */
	new_pair(_metadata, self, &c, &s);
	get_cc(_metadata, s, name, sizeof(name), NULL);
	EXPECT_STREQ(want, name);
	ASSERT_EQ(0, setsockopt(c, SOL_TCP, TCP_CONGESTION, "reno", 4));
	get_cc(_metadata, c, name, sizeof(name), NULL);
	EXPECT_STREQ("reno", name);
	ASSERT_EQ(0, setsockopt(c, SOL_TCP, TCP_CONGESTION, "cubic", 5));
	get_cc(_metadata, c, name, sizeof(name), NULL);
	EXPECT_STREQ("cubic", name);
	close(c);
	close(s);
}

TEST_F(api, tcp_info)
{
	enum { N_UP = 3000, N_DOWN = 1234 };
	static unsigned char buf[N_UP];
	bool coarse = coarse_clock();
	struct tcp_info ti;
	socklen_t len = 0;
	int lfd, c, s;

	if (coarse)
		TH_LOG("jiffies clocksource: tcpi_rtt > 0 not checked");

	/* States of the unconnected and listening socket. */
	c = new_sock(_metadata, self);
	ASSERT_EQ(0, get_info(c, &ti, &len));
	EXPECT_EQ(ST_CLOSE, ti.tcpi_state);
	EXPECT_EQ(sizeof(ti), len);
	lfd = new_listener(_metadata, self);
	ASSERT_EQ(0, get_info(lfd, &ti, NULL));
	EXPECT_EQ(ST_LISTEN, ti.tcpi_state);

	do_connect(_metadata, c, port_of(lfd));
	s = do_accept(_metadata, lfd);
	close(lfd);

	/* Fresh connection: initial window of 10 segments (RFC 6928). */
	ASSERT_EQ(0, get_info(c, &ti, NULL));
	EXPECT_EQ(ST_ESTABLISHED, ti.tcpi_state);
	EXPECT_LE(10U, ti.tcpi_snd_cwnd);
	EXPECT_EQ(0U, ti.tcpi_bytes_received);
	/* Timestamps, SACK and window scaling were all offered: agreed. */
	EXPECT_EQ(TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE,
		  ti.tcpi_options & (TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK |
				     TCPI_OPT_WSCALE));

	pattern(buf, N_UP, 0);
	ASSERT_EQ(N_UP, send_all(c, buf, N_UP));
	ASSERT_EQ(N_UP, recv_all(s, buf, N_UP));
	ASSERT_EQ(N_DOWN, send_all(s, buf, N_DOWN));
	ASSERT_EQ(N_DOWN, recv_all(c, buf, N_DOWN));
	ASSERT_EQ(0, wait_outq(c, 0));
	ASSERT_EQ(0, wait_outq(s, 0));

	ASSERT_EQ(0, get_info(c, &ti, NULL));
	EXPECT_EQ(ST_ESTABLISHED, ti.tcpi_state);
	EXPECT_LT(0U, ti.tcpi_rto);
	if (!coarse) {
		EXPECT_LT(0U, ti.tcpi_rtt);
	}
	EXPECT_LE(10U, ti.tcpi_snd_cwnd);
	EXPECT_LT(0U, ti.tcpi_snd_mss);
	EXPECT_LT(0U, ti.tcpi_rcv_mss);
	EXPECT_EQ(0U, ti.tcpi_unacked);
	EXPECT_EQ(0U, ti.tcpi_notsent_bytes);
	/*
	 * As in Linux TCP, the connecting side counts its SYN as one acked
	 * byte; the accepted side starts counting after its SYN-ACK.
	 */
	EXPECT_EQ(N_UP + 1U, ti.tcpi_bytes_acked);
	EXPECT_EQ((unsigned int)N_DOWN, ti.tcpi_bytes_received);
	EXPECT_LT(0U, ti.tcpi_snd_wnd);

	ASSERT_EQ(0, get_info(s, &ti, NULL));
	EXPECT_EQ(ST_ESTABLISHED, ti.tcpi_state);
	EXPECT_LT(0U, ti.tcpi_rto);
	if (!coarse) {
		EXPECT_LT(0U, ti.tcpi_rtt);
	}
	EXPECT_LE(10U, ti.tcpi_snd_cwnd);
	EXPECT_LT(0U, ti.tcpi_snd_mss);
	EXPECT_EQ((unsigned int)N_DOWN, ti.tcpi_bytes_acked);
	EXPECT_EQ((unsigned int)N_UP, ti.tcpi_bytes_received);

	/* The peer's FIN is counted in bytes_received, as in TCP. */
	ASSERT_EQ(0, shutdown(s, SHUT_WR));
	ASSERT_EQ(0, recv(c, buf, 1, 0));
	ASSERT_EQ(0, get_info(c, &ti, NULL));
	EXPECT_EQ(N_DOWN + 1U, ti.tcpi_bytes_received);
	close(c);
	close(s);
}

TEST_F(api, tcp_info_length)
{
	unsigned char raw[sizeof(struct tcp_info) + 256];
	struct tcp_info *ti = (struct tcp_info *)raw;
	socklen_t len;
	int c, s, fd;

	new_pair(_metadata, self, &c, &s);

	/* A short buffer gets the start of the structure. */
	memset(raw, 0xa5, sizeof(raw));
	len = 8;
	ASSERT_EQ(0, getsockopt(c, SOL_TCP, TCP_INFO, raw, &len));
	EXPECT_EQ(8U, len);
	EXPECT_EQ(ST_ESTABLISHED, ti->tcpi_state);
	EXPECT_EQ(0xa5, raw[8]);

	len = 0;
	EXPECT_EQ(0, getsockopt(c, SOL_TCP, TCP_INFO, raw, &len));
	EXPECT_EQ(0U, len);

	/* A long one gets the kernel's whole structure, not more. */
	len = sizeof(raw);
	ASSERT_EQ(0, getsockopt(c, SOL_TCP, TCP_INFO, raw, &len));
	EXPECT_LE(sizeof(struct tcp_info), len);
	EXPECT_GT(sizeof(raw), len);
	if (variant->xtcp) {
		/* ... of TCP's size on this kernel. */
		unsigned char ref[sizeof(raw)];
		socklen_t rlen = sizeof(ref);

		fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, getsockopt(fd, SOL_TCP, TCP_INFO, ref, &rlen));
		EXPECT_EQ(rlen, len);
		close(fd);
	}

	len = -1;
	EXPECT_EQ(-1, getsockopt(c, SOL_TCP, TCP_INFO, raw, &len));
	EXPECT_EQ(EINVAL, errno);
	close(c);
	close(s);
}

TEST_F(api, unknown_and_short_options)
{
	int fd = new_sock(_metadata, self), v = 1;
	socklen_t len = sizeof(v);
	short sv = 1;

	EXPECT_EQ(ENOPROTOOPT, setint(fd, SOL_TCP, 9999, 1));
	EXPECT_EQ(-1, getsockopt(fd, SOL_TCP, 9999, &v, &len));
	EXPECT_EQ(ENOPROTOOPT, errno);

	/* An int option with less than an int: EINVAL. */
	EXPECT_EQ(-1, setsockopt(fd, SOL_TCP, TCP_NODELAY, &sv, sizeof(sv)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(fd, SOL_TCP, TCP_KEEPIDLE, &sv, sizeof(sv)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, setsockopt(fd, SOL_TCP, TCP_MAXSEG, &sv, 0));
	EXPECT_EQ(EINVAL, errno);
	/* A negative length on get: EINVAL. */
	len = -1;
	EXPECT_EQ(-1, getsockopt(fd, SOL_TCP, TCP_NODELAY, &v, &len));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

/* recv() into @buf with a TCP_CM_INQ control message: its value, or -1. */
static int recv_inq(int fd, void *buf, size_t n, ssize_t *got)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = n };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *c;
	int v = -1;

	*got = recvmsg(fd, &m, 0);
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ)
			memcpy(&v, CMSG_DATA(c), sizeof(v));
	return v;
}

/*
 * TCP_INQ (tcp_inq_hint()): each recvmsg() says in a TCP_CM_INQ control
 * message how much is left to read; 1 once the peer's FIN came and all
 * is read, so that a reader goes on to see the EOF.
 */
TEST_F(api, tcp_inq)
{
	char buf[1000] = {};
	ssize_t got;
	int c, s;

	new_pair(_metadata, self, &c, &s);
	EXPECT_EQ(0, getint(s, SOL_TCP, TCP_INQ));
	EXPECT_EQ(EINVAL, setint(s, SOL_TCP, TCP_INQ, 2));
	EXPECT_EQ(EINVAL, setint(s, SOL_TCP, TCP_INQ, -1));
	ASSERT_EQ(0, setint(s, SOL_TCP, TCP_INQ, 1));
	EXPECT_EQ(1, getint(s, SOL_TCP, TCP_INQ));
	ASSERT_EQ((ssize_t)sizeof(buf), send_all(c, buf, sizeof(buf)));
	ASSERT_EQ((int)sizeof(buf), wait_inq(s, sizeof(buf)));
	EXPECT_EQ(900, recv_inq(s, buf, 100, &got));
	EXPECT_EQ(100, got);
	shutdown(c, SHUT_WR);
	ASSERT_TRUE(poll_wait(s, POLLRDHUP, POLLRDHUP, deadline_ms()) &
		    POLLRDHUP);
	EXPECT_EQ(1, recv_inq(s, buf, sizeof(buf), &got));
	EXPECT_EQ(900, got);
	/* Without TCP_INQ, no control message. */
	ASSERT_EQ(0, setint(s, SOL_TCP, TCP_INQ, 0));
	EXPECT_EQ(-1, recv_inq(s, buf, sizeof(buf), &got));
	EXPECT_EQ(0, got);
	close(c);
	close(s);
}

/*
 * TCP_SAVE_SYN on a listener: an accepted socket hands out the IPv4 and
 * TCP headers of the SYN that made it, once (TCP_SAVED_SYN); too small a
 * buffer gives EINVAL and the length it needs.
 */
TEST_F(api, saved_syn)
{
	unsigned char syn[512];
	socklen_t len = sizeof(syn);
	int lfd = new_listener(_metadata, self), c, s, ihl;
	unsigned short lport = port_of(lfd);

	EXPECT_EQ(0, getint(lfd, SOL_TCP, TCP_SAVE_SYN));
	EXPECT_EQ(EINVAL, setint(lfd, SOL_TCP, TCP_SAVE_SYN, 3));
	ASSERT_EQ(0, setint(lfd, SOL_TCP, TCP_SAVE_SYN, 1));
	EXPECT_EQ(1, getint(lfd, SOL_TCP, TCP_SAVE_SYN));
	s = connect_accept(_metadata, self, lfd, &c);

	len = 10;
	EXPECT_EQ(-1, getsockopt(s, SOL_TCP, TCP_SAVED_SYN, syn, &len));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_LT(40U, len);
	len = sizeof(syn);
	ASSERT_EQ(0, getsockopt(s, SOL_TCP, TCP_SAVED_SYN, syn, &len));
	ASSERT_LE(40U, len);
	ihl = (syn[0] & 15) * 4;
	EXPECT_EQ(4, syn[0] >> 4);
	EXPECT_EQ(variant->xtcp ? xtcp_ipproto() : IPPROTO_TCP, syn[9]);
	EXPECT_EQ(len, (socklen_t)(ihl + (syn[ihl + 12] >> 4) * 4));
	EXPECT_EQ(lport, (syn[ihl + 2] << 8) | syn[ihl + 3]);
	EXPECT_EQ(0x02, syn[ihl + 13]);	/* SYN alone */
	/* Handed out once. */
	len = sizeof(syn);
	ASSERT_EQ(0, getsockopt(s, SOL_TCP, TCP_SAVED_SYN, syn, &len));
	EXPECT_EQ(0U, len);
	close(c);
	close(s);

	/* Without TCP_SAVE_SYN nothing is kept. */
	ASSERT_EQ(0, setint(lfd, SOL_TCP, TCP_SAVE_SYN, 0));
	s = connect_accept(_metadata, self, lfd, &c);
	len = sizeof(syn);
	ASSERT_EQ(0, getsockopt(s, SOL_TCP, TCP_SAVED_SYN, syn, &len));
	EXPECT_EQ(0U, len);
	close(c);
	close(s);
	close(lfd);
}

/* The keepalive options work on a listener and pass to its children. */
TEST_F(api, keepalive_on_listener)
{
	int lfd = new_listener(_metadata, self), c, s;

	ASSERT_EQ(0, setint(lfd, SOL_TCP, TCP_KEEPIDLE, 33));
	ASSERT_EQ(0, setint(lfd, SOL_TCP, TCP_KEEPINTVL, 7));
	ASSERT_EQ(0, setint(lfd, SOL_TCP, TCP_KEEPCNT, 4));
	EXPECT_EQ(33, getint(lfd, SOL_TCP, TCP_KEEPIDLE));
	EXPECT_EQ(7, getint(lfd, SOL_TCP, TCP_KEEPINTVL));
	EXPECT_EQ(4, getint(lfd, SOL_TCP, TCP_KEEPCNT));
	s = connect_accept(_metadata, self, lfd, &c);
	EXPECT_EQ(33, getint(s, SOL_TCP, TCP_KEEPIDLE));
	EXPECT_EQ(7, getint(s, SOL_TCP, TCP_KEEPINTVL));
	EXPECT_EQ(4, getint(s, SOL_TCP, TCP_KEEPCNT));
	close(c);
	close(s);
	close(lfd);
}

/*
 * TCP_DEFER_ACCEPT takes seconds and keeps SYN-ACK time-outs: it reads
 * back as the time those take (1 s doubling, at most 120 s each), on a
 * listener (120 s at most per time-out); an accepted child does not
 * have it.
 */
TEST_F(api, defer_accept_option)
{
	static const struct {
		int set, get;
	} v[] = {
		{ 0, 0 }, { -5, 0 }, { 1, 1 }, { 2, 3 }, { 3, 3 }, { 4, 7 },
		{ 7, 7 }, { 8, 15 }, { 100, 127 }, { 1000, 1087 },
	};
	int lfd = new_listener(_metadata, self), c, s;
	unsigned int i;

	EXPECT_EQ(0, getint(lfd, SOL_TCP, TCP_DEFER_ACCEPT));
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		ASSERT_EQ(0, setint(lfd, SOL_TCP, TCP_DEFER_ACCEPT, v[i].set));
		EXPECT_EQ(v[i].get, getint(lfd, SOL_TCP, TCP_DEFER_ACCEPT)) {
			TH_LOG("set %d", v[i].set);
		}
	}
	/* The client's first data completes the deferred handshake. */
	ASSERT_EQ(0, setint(lfd, SOL_TCP, TCP_DEFER_ACCEPT, 5));
	c = new_sock(_metadata, self);
	do_connect(_metadata, c, port_of(lfd));
	ASSERT_EQ(3, send(c, "abc", 3, MSG_NOSIGNAL));
	s = do_accept(_metadata, lfd);
	EXPECT_EQ(3, wait_inq(s, 3));
	EXPECT_EQ(0, getint(s, SOL_TCP, TCP_DEFER_ACCEPT));
	close(c);
	close(s);
	close(lfd);
}

/*
 * TCP_WINDOW_CLAMP: at least half of SOCK_MIN_RCVBUF (1152 bytes on
 * Debian's 6.1 for x86-64); 0 only before a connection; a listener's passes to children.
 */
TEST_F(api, window_clamp_option)
{
	int fd = new_sock(_metadata, self), lfd, c, s, v;

	EXPECT_EQ(0, getint(fd, SOL_TCP, TCP_WINDOW_CLAMP));
	EXPECT_EQ(0, setint(fd, SOL_TCP, TCP_WINDOW_CLAMP, 10000));
	EXPECT_EQ(10000, getint(fd, SOL_TCP, TCP_WINDOW_CLAMP));
	EXPECT_EQ(0, setint(fd, SOL_TCP, TCP_WINDOW_CLAMP, 100));
	v = getint(fd, SOL_TCP, TCP_WINDOW_CLAMP);
	EXPECT_TRUE(v > 1000 && v < 4096) {
		TH_LOG("clamp 100 reads %d", v);
	}
	EXPECT_EQ(0, setint(fd, SOL_TCP, TCP_WINDOW_CLAMP, 0));
	EXPECT_EQ(0, getint(fd, SOL_TCP, TCP_WINDOW_CLAMP));
	close(fd);

	lfd = new_listener(_metadata, self);
	ASSERT_EQ(0, setint(lfd, SOL_TCP, TCP_WINDOW_CLAMP, 6000));
	s = connect_accept(_metadata, self, lfd, &c);
	EXPECT_EQ(6000, getint(s, SOL_TCP, TCP_WINDOW_CLAMP));
	EXPECT_EQ(EINVAL, setint(s, SOL_TCP, TCP_WINDOW_CLAMP, 0));
	EXPECT_EQ(0, setint(s, SOL_TCP, TCP_WINDOW_CLAMP, 5000));
	EXPECT_EQ(5000, getint(s, SOL_TCP, TCP_WINDOW_CLAMP));
	close(c);
	close(s);
	close(lfd);
}

/*
 * TCP_LINGER2: seconds in FIN_WAIT_2 for an orphan; 0 reads as the
 * namespace's fin_timeout (60), at most TCP_FIN_TIMEOUT_MAX (120),
 * negative as -1. The thin-stream options take 0 and 1.
 */
TEST_F(api, linger2_and_thin_options)
{
	int fd = new_sock(_metadata, self);

	EXPECT_EQ(60, getint(fd, SOL_TCP, TCP_LINGER2));
	EXPECT_EQ(0, setint(fd, SOL_TCP, TCP_LINGER2, 10));
	EXPECT_EQ(10, getint(fd, SOL_TCP, TCP_LINGER2));
	EXPECT_EQ(0, setint(fd, SOL_TCP, TCP_LINGER2, 1000));
	EXPECT_EQ(120, getint(fd, SOL_TCP, TCP_LINGER2));
	EXPECT_EQ(0, setint(fd, SOL_TCP, TCP_LINGER2, -7));
	EXPECT_EQ(-1, getint(fd, SOL_TCP, TCP_LINGER2));
	EXPECT_EQ(0, setint(fd, SOL_TCP, TCP_LINGER2, 0));
	EXPECT_EQ(60, getint(fd, SOL_TCP, TCP_LINGER2));

	EXPECT_EQ(0, getint(fd, SOL_TCP, TCP_THIN_LINEAR_TIMEOUTS));
	EXPECT_EQ(0, setint(fd, SOL_TCP, TCP_THIN_LINEAR_TIMEOUTS, 1));
	EXPECT_EQ(1, getint(fd, SOL_TCP, TCP_THIN_LINEAR_TIMEOUTS));
	EXPECT_EQ(EINVAL, setint(fd, SOL_TCP, TCP_THIN_LINEAR_TIMEOUTS, 2));
	EXPECT_EQ(0, setint(fd, SOL_TCP, TCP_THIN_DUPACK, 1));
	EXPECT_EQ(EINVAL, setint(fd, SOL_TCP, TCP_THIN_DUPACK, -1));
	EXPECT_EQ(0, getint(fd, SOL_TCP, TCP_THIN_DUPACK));
	close(fd);
}

/*
 * TCP_TIMESTAMP reads the timestamp clock (ms, with the connection's
 * offset) and is set only in repair mode; TCP_CC_INFO has nothing for
 * cubic or reno.
 */
TEST_F(api, timestamp_and_cc_info)
{
	long long end = now_ms() + deadline_ms();
	unsigned int t1, t2;
	char info[64];
	socklen_t len = sizeof(info);
	int c, s;

	new_pair(_metadata, self, &c, &s);
	EXPECT_EQ(EPERM, setint(c, SOL_TCP, TCP_TIMESTAMP, 5));
	t1 = getint(c, SOL_TCP, TCP_TIMESTAMP);
	do {
		nap();
		t2 = getint(c, SOL_TCP, TCP_TIMESTAMP);
	} while (t2 == t1 && now_ms() < end);
	/* It moves forward, in milliseconds. */
	EXPECT_TRUE((int)(t2 - t1) > 0 && (int)(t2 - t1) < 60000) {
		TH_LOG("TCP_TIMESTAMP %u then %u", t1, t2);
	}
	EXPECT_EQ(0, getsockopt(c, SOL_TCP, TCP_CC_INFO, info, &len));
	EXPECT_EQ(0U, len);
	close(c);
	close(s);
}

/*
 * Delayed ACKs the namespace's stack sent so far: TcpExt DelayedACKs of
 * /proc/net/netstat for TCP, DelayedAcks of /proc/net/xtcp_stat. -1 if
 * it cannot be read.
 */
static long delayed_acks(bool xtcp)
{
	char line[4096], vals[4096];
	long n = -1;
	FILE *f;

	f = fopen(xtcp ? "/proc/net/xtcp_stat" : "/proc/net/netstat", "r");
	if (!f)
		return -1;
	while (xtcp && fgets(line, sizeof(line), f))
		if (sscanf(line, "DelayedAcks %ld", &n) == 1)
			break;
	while (!xtcp && fgets(line, sizeof(line), f) &&
	       fgets(vals, sizeof(vals), f)) {
		char *name, *val, *sn, *sv;

		if (strncmp(line, "TcpExt:", 7))
			continue;
		name = strtok_r(line, " \n", &sn);
		val = strtok_r(vals, " \n", &sv);
		while (name && val) {
			if (!strcmp(name, "DelayedACKs")) {
				n = atol(val);
				break;
			}
			name = strtok_r(NULL, " \n", &sn);
			val = strtok_r(NULL, " \n", &sv);
		}
		break;
	}
	fclose(f);
	return n;
}

/*
 * TCP_QUICKACK reads 1 until the socket turns interactive: by
 * TCP_QUICKACK 0, or when the peer's FIN arrives; 1 leaves that mode.
 */
TEST_F(api, quickack_option)
{
	long long t0;
	long d0;
	int c, s, q;

	new_pair(_metadata, self, &c, &s);
	EXPECT_EQ(1, getint(s, SOL_TCP, TCP_QUICKACK));
	EXPECT_EQ(0, setint(s, SOL_TCP, TCP_QUICKACK, 0));
	EXPECT_EQ(0, getint(s, SOL_TCP, TCP_QUICKACK));
	EXPECT_EQ(0, setint(s, SOL_TCP, TCP_QUICKACK, 1));
	EXPECT_EQ(1, getint(s, SOL_TCP, TCP_QUICKACK));
	/* An even value leaves it only for an ACK that is owed: none. */
	EXPECT_EQ(0, setint(s, SOL_TCP, TCP_QUICKACK, 2));
	EXPECT_EQ(1, getint(s, SOL_TCP, TCP_QUICKACK));
	/* Before the FIN goes: shutdown() may take long under emulation. */
	t0 = now_ms();
	d0 = delayed_acks(variant->xtcp);
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	ASSERT_TRUE(poll_wait(s, POLLIN | POLLRDHUP, POLLRDHUP, deadline_ms()) &
		    POLLRDHUP);
	/*
	 * The FIN entered interactive mode; the delayed-ACK timer (40 ms)
	 * ends it, and a slow machine may let it fire first: checked
	 * unless that timer sent its ACK (the stack's DelayedACKs moved).
	 */
	q = getint(s, SOL_TCP, TCP_QUICKACK);
	if (d0 >= 0 && delayed_acks(variant->xtcp) == d0) {
		EXPECT_EQ(0, q);
	} else {
		TH_LOG("FIN seen %lld ms ago, the delayed ACK already sent: TCP_QUICKACK %d not checked",
		       now_ms() - t0, q);
	}
	close(c);
	close(s);
}

/*
 * The error queue is read as on TCP: empty gives EAGAIN. SO_ZEROCOPY:
 * xtcp differs on purpose, as the 6.1 socket core accepts it only for
 * IPPROTO_TCP and UDP and offers a protocol no way to take it; without
 * it MSG_ZEROCOPY copies on both, with nothing on the error queue.
 */
TEST_F(api, error_queue_and_zerocopy)
{
	char buf[100], got[100];
	struct msghdr m = {};
	struct iovec iov = { got, sizeof(got) };
	int c, s;

	new_pair(_metadata, self, &c, &s);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	EXPECT_EQ(-1, recvmsg(c, &m, MSG_ERRQUEUE | MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(variant->xtcp ? EOPNOTSUPP : 0,
		  setint(c, SOL_SOCKET, SO_ZEROCOPY, 1));
	if (variant->xtcp) {
		EXPECT_EQ(0, getint(c, SOL_SOCKET, SO_ZEROCOPY));
	} else {
		ASSERT_EQ(0, setint(c, SOL_SOCKET, SO_ZEROCOPY, 0));
	}
	pattern((unsigned char *)buf, sizeof(buf), 0);
	ASSERT_EQ((ssize_t)sizeof(buf), send(c, buf, sizeof(buf),
					     MSG_ZEROCOPY | MSG_NOSIGNAL));
	ASSERT_EQ((ssize_t)sizeof(got), recv_all(s, got, sizeof(got)));
	EXPECT_EQ(-1, check_pattern((unsigned char *)got, sizeof(got), 0));
	EXPECT_EQ(0, wait_outq(c, 0));
	EXPECT_EQ(-1, recvmsg(c, &m, MSG_ERRQUEUE | MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	close(c);
	close(s);
}

/*
 * SIOCGSTAMP and SIOCGSTAMPNS read the time of the last packet handed to
 * the socket, which a stream socket never records: ENOENT, before and
 * after data (sock_gettstamp()). mmap() is where the two differ.
 */
TEST_F(api, stamp_ioctls_and_mmap)
{
	struct timespec ts;
	struct timeval tv;
	char buf[10] = "0123456789";
	void *p;
	int c, s;

	new_pair(_metadata, self, &c, &s);
	EXPECT_EQ(-1, ioctl(s, SIOCGSTAMP, &tv));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ((ssize_t)sizeof(buf), send(c, buf, sizeof(buf), 0));
	ASSERT_EQ((ssize_t)sizeof(buf), recv_all(s, buf, sizeof(buf)));
	EXPECT_EQ(-1, ioctl(s, SIOCGSTAMP, &tv));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, ioctl(s, SIOCGSTAMPNS, &ts));
	EXPECT_EQ(ENOENT, errno);
	/*
	 * Differs on purpose: kernel TCP maps a socket read-only for
	 * TCP_ZEROCOPY_RECEIVE, which xtcp does not have: ENODEV.
	 */
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, s, 0);
	if (variant->xtcp) {
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(ENODEV, errno);
	} else {
		ASSERT_NE(MAP_FAILED, p);
		munmap(p, 4096);
	}
	close(c);
	close(s);
}

/* ---------------------------------------------------------------- */
/* SOL_SOCKET and SOL_IP                                            */
/* ---------------------------------------------------------------- */

TEST_F(api, so_error_refused)
{
	struct sockaddr_in a;
	int hold = new_sock(_metadata, self), fd = new_sock(_metadata, self);
	int ev;

	/* A bound socket that does not listen: its port answers with RST. */
	a = xtcp_addr("127.0.0.1", 0);
	ASSERT_EQ(0, bind(hold, (struct sockaddr *)&a, sizeof(a)));
	a.sin_port = htons(port_of(hold));

	EXPECT_EQ(0, getint(fd, SOL_SOCKET, SO_ERROR));
	set_nonblock(fd, true);
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(EINPROGRESS, errno);
	ev = poll_wait(fd, POLLIN | POLLOUT, POLLERR | POLLHUP, deadline_ms());
	EXPECT_EQ(POLLIN | POLLOUT | POLLERR | POLLHUP, ev & EV_MASK);
	EXPECT_EQ(ECONNREFUSED, getint(fd, SOL_SOCKET, SO_ERROR));
	/* Reading SO_ERROR clears it. */
	EXPECT_EQ(0, getint(fd, SOL_SOCKET, SO_ERROR));
	close(fd);

	/* A blocking connect() reports it directly. */
	fd = new_sock(_metadata, self);
	EXPECT_EQ(-1, connect(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(ECONNREFUSED, errno);
	EXPECT_EQ(0, getint(fd, SOL_SOCKET, SO_ERROR));
	close(fd);
	close(hold);
}

TEST_F(api, so_rcvtimeo)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 }, got;
	socklen_t len = sizeof(got);
	long long t0, t1;
	char b;
	int c, s;

	new_pair(_metadata, self, &c, &s);
	ASSERT_EQ(0, setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	ASSERT_EQ(0, getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &got, &len));
	EXPECT_EQ(0, got.tv_sec);
	EXPECT_EQ(200000, got.tv_usec);

	t0 = now_ms();
	EXPECT_EQ(-1, recv(s, &b, 1, 0));
	EXPECT_EQ(EAGAIN, errno);
	t1 = now_ms();
	/* It waited (the timer may round up, never down much). */
	EXPECT_LE(150, t1 - t0);

	/* Data that arrives is returned at once. */
	ASSERT_EQ(1, send(c, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(1, recv(s, &b, 1, 0));
	close(c);
	close(s);
}

TEST_F(api, so_sndtimeo)
{
	static unsigned char buf[65536];
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 }, got;
	socklen_t len = sizeof(got);
	long long end, t0 = 0;
	int lfd = new_sock(_metadata, self), c, s, i;
	ssize_t r = 0;

	ASSERT_EQ(0, setint(lfd, SOL_SOCKET, SO_RCVBUF, 4096));
	do_listen(_metadata, lfd, 0);
	c = new_sock(_metadata, self);
	ASSERT_EQ(0, setint(c, SOL_SOCKET, SO_SNDBUF, 4096));
	do_connect(_metadata, c, port_of(lfd));
	s = do_accept(_metadata, lfd);

	ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	ASSERT_EQ(0, getsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &got, &len));
	EXPECT_EQ(0, got.tv_sec);
	EXPECT_EQ(200000, got.tv_usec);

	/* Blocking sends into a peer that never reads end in EAGAIN. */
	end = now_ms() + deadline_ms() + 2000;
	for (i = 0; i < 1000 && now_ms() < end; i++) {
		t0 = now_ms();
		r = send(c, buf, sizeof(buf), MSG_NOSIGNAL);
		if (r < 0)
			break;
	}
	EXPECT_EQ(-1, r);
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_LE(150, now_ms() - t0);
	EXPECT_LT(0, outq(c));
	close(c);
	close(s);
	close(lfd);
}

TEST_F(api, so_rcvlowat_poll)
{
	unsigned char buf[1100];
	int c, s;

	new_pair(_metadata, self, &c, &s);
	EXPECT_EQ(1, getint(s, SOL_SOCKET, SO_RCVLOWAT));
	ASSERT_EQ(0, setint(s, SOL_SOCKET, SO_RCVLOWAT, 1000));
	EXPECT_EQ(1000, getint(s, SOL_SOCKET, SO_RCVLOWAT));

	pattern(buf, sizeof(buf), 0);
	ASSERT_EQ(500, send(c, buf, 500, MSG_NOSIGNAL));
	ASSERT_EQ(500, wait_inq(s, 500));
	/* Below the low-water mark: not readable. */
	EXPECT_EQ(POLLOUT, poll_now(s, POLLIN | POLLOUT) & EV_MASK);

	ASSERT_EQ(600, send(c, buf + 500, 600, MSG_NOSIGNAL));
	EXPECT_EQ(POLLIN | POLLOUT,
		  poll_wait(s, POLLIN | POLLOUT, POLLIN, deadline_ms()) & EV_MASK);
	EXPECT_EQ(1100, inq(s));
	close(c);
	close(s);
}

TEST_F(api, so_rcvlowat_recv)
{
	unsigned char buf[2000];
	struct timeval tv = { .tv_sec = deadline_ms() / 1000 };
	int c, s, status;
	ssize_t r;
	pid_t pid;

	new_pair(_metadata, self, &c, &s);
	ASSERT_EQ(0, setint(s, SOL_SOCKET, SO_RCVLOWAT, 1000));
	ASSERT_EQ(0, setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	pattern(buf, sizeof(buf), 0);
	ASSERT_EQ(500, send(c, buf, 500, MSG_NOSIGNAL));
	ASSERT_EQ(500, wait_inq(s, 500));

	/* The rest comes a little later, from a child. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		usleep(100000);
		_exit(send(c, buf + 500, 600, MSG_NOSIGNAL) == 600 ? 0 : 1);
	}
	/* recv() waits for the low-water mark, not for the first byte. */
	memset(buf, 0, sizeof(buf));
	r = recv(s, buf, sizeof(buf), 0);
	EXPECT_LE(1000, r);
	EXPECT_GE(1100, r);
	if (r > 0) {
		EXPECT_EQ(-1, check_pattern(buf, r, 0));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	close(c);
	close(s);
}

TEST_F(api, so_reuseaddr_time_wait)
{
	int lfd = new_sock(_metadata, self), c, s, fd;
	struct sockaddr_in a;
	unsigned short port;
	char b;

	EXPECT_EQ(0, getint(lfd, SOL_SOCKET, SO_REUSEADDR));
	ASSERT_EQ(0, setint(lfd, SOL_SOCKET, SO_REUSEADDR, 1));
	EXPECT_EQ(1, getint(lfd, SOL_SOCKET, SO_REUSEADDR));
	do_listen(_metadata, lfd, 0);
	port = port_of(lfd);
	c = new_sock(_metadata, self);
	do_connect(_metadata, c, port);
	s = do_accept(_metadata, lfd);

	/* The server closes first: its side ends in TIME_WAIT. */
	close(s);
	ASSERT_EQ(POLLIN, poll_wait(c, POLLIN, POLLIN, deadline_ms()) & POLLIN);
	ASSERT_EQ(0, recv(c, &b, 1, 0));
	close(c);
	close(lfd);

	a = xtcp_addr("127.0.0.1", port);
	fd = new_sock(_metadata, self);
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EADDRINUSE, errno);
	close(fd);

	fd = new_sock(_metadata, self);
	ASSERT_EQ(0, setint(fd, SOL_SOCKET, SO_REUSEADDR, 1));
	EXPECT_EQ(0, bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		TH_LOG("bind: %s", strerror(errno));
	}
	EXPECT_EQ(0, listen(fd, 4));
	/* And it takes connections. */
	c = new_sock(_metadata, self);
	do_connect(_metadata, c, port);
	s = do_accept(_metadata, fd);
	close(s);
	close(c);
	close(fd);
}

TEST_F(api, so_reuseport)
{
	enum { N = 32 };
	int l1 = new_sock(_metadata, self), l2 = new_sock(_metadata, self);
	int l3 = new_sock(_metadata, self), c[N], n1 = 0, n2 = 0, i;
	struct sockaddr_in a = xtcp_addr("127.0.0.1", 0);
	long long end;

	EXPECT_EQ(0, getint(l1, SOL_SOCKET, SO_REUSEPORT));
	ASSERT_EQ(0, setint(l1, SOL_SOCKET, SO_REUSEPORT, 1));
	ASSERT_EQ(0, setint(l2, SOL_SOCKET, SO_REUSEPORT, 1));
	EXPECT_EQ(1, getint(l2, SOL_SOCKET, SO_REUSEPORT));
	do_listen(_metadata, l1, 0);
	a.sin_port = htons(port_of(l1));
	ASSERT_EQ(0, bind(l2, (struct sockaddr *)&a, sizeof(a))) {
		TH_LOG("bind: %s", strerror(errno));
	}
	ASSERT_EQ(0, listen(l2, 64));
	/* Without SO_REUSEPORT the port is taken. */
	EXPECT_EQ(-1, bind(l3, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EADDRINUSE, errno);

	/* Connections are spread over both listeners. */
	for (i = 0; i < N; i++) {
		c[i] = new_sock(_metadata, self);
		do_connect(_metadata, c[i], ntohs(a.sin_port));
	}
	set_nonblock(l1, true);
	set_nonblock(l2, true);
	end = now_ms() + deadline_ms();
	while (n1 + n2 < N && now_ms() < end) {
		int fd;

		while ((fd = accept(l1, NULL, NULL)) >= 0) {
			n1++;
			close(fd);
		}
		while ((fd = accept(l2, NULL, NULL)) >= 0) {
			n2++;
			close(fd);
		}
		nap();
	}
	EXPECT_EQ(N, n1 + n2);
	EXPECT_LT(0, n1);
	EXPECT_LT(0, n2);
	for (i = 0; i < N; i++)
		close(c[i]);
	close(l1);
	close(l2);
	close(l3);
}

TEST_F(api, so_bindtodevice)
{
	char name[IFNAMSIZ + 8];
	socklen_t len = sizeof(name);
	int lfd = new_sock(_metadata, self), c, s;

	EXPECT_EQ(-1, setsockopt(lfd, SOL_SOCKET, SO_BINDTODEVICE,
				 "xtcp-nodev0", 12));
	EXPECT_EQ(ENODEV, errno);
	ASSERT_EQ(0, setsockopt(lfd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
	memset(name, 0, sizeof(name));
	ASSERT_EQ(0, getsockopt(lfd, SOL_SOCKET, SO_BINDTODEVICE, name, &len));
	EXPECT_EQ(3U, len);
	EXPECT_STREQ("lo", name);
	do_listen(_metadata, lfd, 0);

	/* A bound client reaches a bound listener over lo. */
	c = new_sock(_metadata, self);
	ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
	do_connect(_metadata, c, port_of(lfd));
	s = do_accept(_metadata, lfd);
	ASSERT_EQ(2, send(c, "hi", 2, MSG_NOSIGNAL));
	ASSERT_EQ(2, recv_all(s, name, 2));
	EXPECT_EQ(0, memcmp(name, "hi", 2));
	close(c);
	close(s);

	/* Unbinding: an empty name. */
	ASSERT_EQ(0, setsockopt(lfd, SOL_SOCKET, SO_BINDTODEVICE, "", 0));
	len = sizeof(name);
	ASSERT_EQ(0, getsockopt(lfd, SOL_SOCKET, SO_BINDTODEVICE, name, &len));
	EXPECT_EQ(0U, len);
	close(lfd);
}

TEST_F(api, so_mark_priority)
{
	int lfd = new_sock(_metadata, self), c, s;

	EXPECT_EQ(0, getint(lfd, SOL_SOCKET, SO_MARK));
	ASSERT_EQ(0, setint(lfd, SOL_SOCKET, SO_MARK, 0x1234));
	EXPECT_EQ(0x1234, getint(lfd, SOL_SOCKET, SO_MARK));
	EXPECT_EQ(0, getint(lfd, SOL_SOCKET, SO_PRIORITY));
	ASSERT_EQ(0, setint(lfd, SOL_SOCKET, SO_PRIORITY, 5));
	EXPECT_EQ(5, getint(lfd, SOL_SOCKET, SO_PRIORITY));
	do_listen(_metadata, lfd, 0);

	/* Accepted sockets take the mark from the listener, not the priority. */
	c = new_sock(_metadata, self);
	do_connect(_metadata, c, port_of(lfd));
	s = do_accept(_metadata, lfd);
	EXPECT_EQ(0x1234, getint(s, SOL_SOCKET, SO_MARK));
	EXPECT_EQ(0, getint(s, SOL_SOCKET, SO_PRIORITY));
	EXPECT_EQ(0, getint(c, SOL_SOCKET, SO_MARK));
	ASSERT_EQ(0, setint(c, SOL_SOCKET, SO_MARK, 7));
	EXPECT_EQ(7, getint(c, SOL_SOCKET, SO_MARK));
	ASSERT_EQ(0, setint(c, SOL_SOCKET, SO_PRIORITY, 2));
	EXPECT_EQ(2, getint(c, SOL_SOCKET, SO_PRIORITY));
	/* The connection still carries data with the new mark. */
	ASSERT_EQ(1, send(c, "m", 1, MSG_NOSIGNAL));
	EXPECT_EQ(1, wait_inq(s, 1));
	close(c);
	close(s);
	close(lfd);
}

TEST_F(api, ip_tos_ttl)
{
	int fd = new_sock(_metadata, self), c, s;
	int def_ttl = xtcp_read_param("/proc/sys/net/ipv4/ip_default_ttl", 64);

	EXPECT_EQ(0, getint(fd, SOL_IP, IP_TOS));
	EXPECT_EQ(0, setint(fd, SOL_IP, IP_TOS, 0x10));
	EXPECT_EQ(0x10, getint(fd, SOL_IP, IP_TOS));
	/* IPTOS_LOWDELAY sets the priority to TC_PRIO_INTERACTIVE. */
	EXPECT_EQ(6, getint(fd, SOL_SOCKET, SO_PRIORITY));
	/* A stream socket keeps the ECN bits to itself. */
	EXPECT_EQ(0, setint(fd, SOL_IP, IP_TOS, 0x2b));
	EXPECT_EQ(0x28, getint(fd, SOL_IP, IP_TOS));

	EXPECT_EQ(def_ttl, getint(fd, SOL_IP, IP_TTL));
	EXPECT_EQ(0, setint(fd, SOL_IP, IP_TTL, 33));
	EXPECT_EQ(33, getint(fd, SOL_IP, IP_TTL));
	EXPECT_EQ(EINVAL, setint(fd, SOL_IP, IP_TTL, 0));
	EXPECT_EQ(EINVAL, setint(fd, SOL_IP, IP_TTL, 256));
	EXPECT_EQ(33, getint(fd, SOL_IP, IP_TTL));
	/* -1 restores the default. */
	EXPECT_EQ(0, setint(fd, SOL_IP, IP_TTL, -1));
	EXPECT_EQ(def_ttl, getint(fd, SOL_IP, IP_TTL));
	close(fd);

	/* Settable on a connection, which keeps working. */
	new_pair(_metadata, self, &c, &s);
	EXPECT_EQ(0, setint(c, SOL_IP, IP_TTL, 2));
	EXPECT_EQ(2, getint(c, SOL_IP, IP_TTL));
	EXPECT_EQ(0, setint(c, SOL_IP, IP_TOS, 0x04));
	EXPECT_EQ(0x04, getint(c, SOL_IP, IP_TOS));
	ASSERT_EQ(1, send(c, "t", 1, MSG_NOSIGNAL));
	EXPECT_EQ(1, wait_inq(s, 1));
	close(c);
	close(s);
}

/*
 * Is group @hex joined on device @dev? /proc/net/igmp prints a group as
 * the hex of its network-order address read as a host int (x86 here).
 */
static bool igmp_joined(const char *dev, const char *hex)
{
	FILE *f = fopen("/proc/net/igmp", "r");
	char line[256], cur[IFNAMSIZ] = "";
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char name[IFNAMSIZ], group[16];

		/* "Idx Device : ..." lines, then one tab-indented per group */
		if (line[0] != '\t' && sscanf(line, "%*d %15s :", name) == 1)
			strcpy(cur, name);
		else if (line[0] == '\t' && sscanf(line, " %15s", group) == 1 &&
			 !strcmp(cur, dev) && !strcmp(group, hex))
			found = true;
	}
	fclose(f);
	return found;
}

/*
 * IP_ADD_MEMBERSHIP and IP_DROP_MEMBERSHIP: EPROTO on a stream socket.
 * MCAST_JOIN_GROUP works, and the membership ends with the socket: a
 * loop of join + close leaves no group behind (and, on the debug kernel,
 * kmemleak finds nothing).
 */
TEST_F(api, multicast_membership)
{
	struct ip_mreqn mr = { .imr_ifindex = (int)if_nametoindex("lo") };
	struct group_req gr = { .gr_interface = if_nametoindex("lo") };
	struct sockaddr_in *g = (struct sockaddr_in *)&gr.gr_group;
	bool igmp;
	int fd, i;

	mr.imr_multiaddr.s_addr = htonl(0xef010203);	/* 239.1.2.3 */
	g->sin_family = AF_INET;
	g->sin_addr.s_addr = htonl(0xef010203);
	ASSERT_NE(0, mr.imr_ifindex);
	fd = new_sock(_metadata, self);
	EXPECT_EQ(-1, setsockopt(fd, SOL_IP, IP_ADD_MEMBERSHIP, &mr,
				 sizeof(mr)));
	EXPECT_EQ(EPROTO, errno);
	EXPECT_EQ(-1, setsockopt(fd, SOL_IP, IP_DROP_MEMBERSHIP, &mr,
				 sizeof(mr)));
	EXPECT_EQ(EPROTO, errno);
	close(fd);

	/* A kernel without CONFIG_IP_MULTICAST has no /proc/net/igmp. */
	igmp = !access("/proc/net/igmp", R_OK);
	if (!igmp)
		TH_LOG("no /proc/net/igmp: only kmemleak sees the memberships");
	for (i = 0; i < 200; i++) {
		fd = new_sock(_metadata, self);
		ASSERT_EQ(0, setsockopt(fd, SOL_IP, MCAST_JOIN_GROUP, &gr,
					sizeof(gr))) {
			TH_LOG("MCAST_JOIN_GROUP: %s", strerror(errno));
		}
		if (!i && igmp)
			EXPECT_TRUE(igmp_joined("lo", "030201EF"));
		close(fd);
	}
	if (igmp)
		EXPECT_FALSE(igmp_joined("lo", "030201EF"));
}

/* ---------------------------------------------------------------- */
/* Receive flags, ioctls, vectored I/O, sendfile, splice            */
/* ---------------------------------------------------------------- */

TEST_F(api, msg_peek)
{
	char buf[32];
	int c, s;

	new_pair(_metadata, self, &c, &s);
	ASSERT_EQ(11, send(c, "hello world", 11, MSG_NOSIGNAL));
	ASSERT_EQ(11, wait_inq(s, 11));

	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(5, recv(s, buf, 5, MSG_PEEK));
	EXPECT_STREQ("hello", buf);
	EXPECT_EQ(11, inq(s));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(11, recv(s, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT));
	EXPECT_STREQ("hello world", buf);
	EXPECT_EQ(11, inq(s));

	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(6, recv(s, buf, 6, 0));
	EXPECT_STREQ("hello ", buf);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(5, recv(s, buf, sizeof(buf), MSG_PEEK));
	EXPECT_STREQ("world", buf);
	EXPECT_EQ(5, recv(s, buf, sizeof(buf), 0));
	EXPECT_EQ(0, inq(s));
	close(c);
	close(s);
}

TEST_F(api, msg_waitall)
{
	static unsigned char buf[3000];
	int c, s, status;
	pid_t pid;

	new_pair(_metadata, self, &c, &s);
	pattern(buf, sizeof(buf), 0);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int i, bad = 0;

		/* Three separate pieces, the last followed by a FIN. */
		for (i = 0; i < 3; i++) {
			usleep(30000);
			if (send(c, buf + i * 1000, 1000, MSG_NOSIGNAL) != 1000)
				bad = 1;
		}
		usleep(30000);
		if (send(c, buf, 500, MSG_NOSIGNAL) != 500)
			bad = 1;
		shutdown(c, SHUT_WR);
		_exit(bad);
	}
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(3000, recv(s, buf, 3000, MSG_WAITALL));
	EXPECT_EQ(-1, check_pattern(buf, 3000, 0));
	/* The end of the stream cuts MSG_WAITALL short. */
	EXPECT_EQ(500, recv(s, buf, 3000, MSG_WAITALL));
	EXPECT_EQ(-1, check_pattern(buf, 500, 0));
	EXPECT_EQ(0, recv(s, buf, 3000, MSG_WAITALL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	close(c);
	close(s);
}

TEST_F(api, msg_dontwait)
{
	char buf[16];
	int c, s;

	new_pair(_metadata, self, &c, &s);
	/* A blocking socket, an empty queue. */
	EXPECT_EQ(-1, recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(3, send(c, "abc", 3, MSG_DONTWAIT | MSG_NOSIGNAL));
	ASSERT_EQ(3, wait_inq(s, 3));
	EXPECT_EQ(3, recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(-1, recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);

	/* A full connection: send(MSG_DONTWAIT) gives EAGAIN. */
	fill_until_stuck(_metadata, c, s);
	EXPECT_EQ(-1, send(c, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL));
	EXPECT_EQ(EAGAIN, errno);
	close(c);
	close(s);
}

TEST_F(api, ioctl_inq_outq)
{
	static unsigned char buf[1234];
	int lfd, c, s;
	long total;

	lfd = new_listener(_metadata, self);
	EXPECT_EQ(-EINVAL, inq(lfd));
	EXPECT_EQ(-EINVAL, outq(lfd));
	c = new_sock(_metadata, self);
	do_connect(_metadata, c, port_of(lfd));
	s = do_accept(_metadata, lfd);
	close(lfd);

	EXPECT_EQ(0, inq(s));
	EXPECT_EQ(0, outq(c));
	ASSERT_EQ((ssize_t)sizeof(buf), send(c, buf, sizeof(buf), MSG_NOSIGNAL));
	EXPECT_EQ(1234, wait_inq(s, 1234));
	EXPECT_EQ(0, wait_outq(c, 0));
	ASSERT_EQ(234, recv(s, buf, 234, 0));
	EXPECT_EQ(1000, inq(s));
	ASSERT_EQ(1000, recv(s, buf, 1000, 0));
	EXPECT_EQ(0, inq(s));

	/* Unread data at the peer, unacked and unsent data here. */
	total = fill_until_stuck(_metadata, c, s);
	EXPECT_LT(0, outq(c));
	EXPECT_LT(0, inq(s));
	EXPECT_EQ(total, outq(c) + inq(s));
	close(c);
	close(s);
}

TEST_F(api, readv_writev)
{
	unsigned char out[2015], in[2015];
	struct iovec wv[3] = {
		{ out, 10 }, { out + 10, 2000 }, { out + 2010, 5 },
	};
	struct iovec rv[3] = {
		{ in, 1 }, { in + 1, 1013 }, { in + 1014, 1001 },
	};
	struct msghdr m;
	int c, s;

	new_pair(_metadata, self, &c, &s);
	pattern(out, sizeof(out), 0);
	memset(in, 0, sizeof(in));
	memset(&m, 0, sizeof(m));
	ASSERT_EQ(2015, writev(c, wv, 3));
	ASSERT_EQ(2015, wait_inq(s, 2015));
	EXPECT_EQ(2015, readv(s, rv, 3));
	EXPECT_EQ(-1, check_pattern(in, sizeof(in), 0));

	/* sendmsg/recvmsg with several iovecs, the other way. */
	m.msg_iov = wv;
	m.msg_iovlen = 3;
	ASSERT_EQ(2015, sendmsg(s, &m, MSG_NOSIGNAL));
	ASSERT_EQ(2015, wait_inq(c, 2015));
	memset(in, 0, sizeof(in));
	m.msg_iov = rv;
	EXPECT_EQ(2015, recvmsg(c, &m, 0));
	EXPECT_EQ(-1, check_pattern(in, sizeof(in), 0));
	EXPECT_EQ(0, m.msg_flags);
	close(c);
	close(s);
}

TEST_F(api, sendfile)
{
	enum { SIZE = 200000, OFF = 1000 };
	static unsigned char data[SIZE], got[SIZE];
	char path[] = "/tmp/xtcp_api_sendfile.XXXXXX";
	int fd, c, s, status;
	pid_t pid;

	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	unlink(path);
	pattern(data, SIZE, 0);
	ASSERT_EQ(SIZE, write(fd, data, SIZE));

	new_pair(_metadata, self, &c, &s);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		off_t off = OFF;

		while (off < SIZE) {
			ssize_t r = sendfile(c, fd, &off, SIZE - off);

			if (r <= 0)
				_exit(1);
		}
		_exit(off == SIZE ? 0 : 2);
	}
	EXPECT_EQ(SIZE - OFF, recv_all(s, got, SIZE - OFF));
	EXPECT_EQ(-1, check_pattern(got, SIZE - OFF, OFF));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	close(fd);
	close(c);
	close(s);
}

TEST_F(api, splice_from_socket)
{
	enum { SIZE = 20000 };
	static unsigned char data[SIZE], got[SIZE];
	long long end;
	int c, s, p[2];
	ssize_t total = 0;

	new_pair(_metadata, self, &c, &s);
	ASSERT_EQ(0, pipe(p));
	pattern(data, SIZE, 0);
	ASSERT_EQ(SIZE, send_all(c, data, SIZE));

	end = now_ms() + deadline_ms();
	while (total < SIZE && now_ms() < end) {
		ssize_t r = splice(s, NULL, p[1], NULL, SIZE - total, 0);

		if (r <= 0) {
			TH_LOG("splice: %zd %s", r, strerror(errno));
			break;
		}
		total += r;
	}
	EXPECT_EQ(SIZE, total);
	EXPECT_EQ(SIZE, read(p[0], got, SIZE));
	EXPECT_EQ(-1, check_pattern(got, SIZE, 0));
	EXPECT_EQ(0, inq(s));
	close(p[0]);
	close(p[1]);
	close(c);
	close(s);
}

/* splice() from a socket whose peer has closed: 0, as read() gives. */
TEST_F(api, splice_at_eof)
{
	int c, s, p[2];

	new_pair(_metadata, self, &c, &s);
	ASSERT_EQ(0, pipe(p));
	close(c);
	ASSERT_TRUE(poll_wait(s, POLLRDHUP, POLLRDHUP, deadline_ms()) &
		    POLLRDHUP);
	EXPECT_EQ(0, splice(s, NULL, p[1], NULL, 4096, 0)) {
		TH_LOG("splice: %s", strerror(errno));
	}
	EXPECT_EQ(0, splice(s, NULL, p[1], NULL, 4096, SPLICE_F_NONBLOCK));
	close(p[0]);
	close(p[1]);
	close(s);
}

TEST_F(api, splice_to_socket)
{
	enum { SIZE = 20000 };
	static unsigned char data[SIZE], got[SIZE];
	long long end;
	int c, s, p[2];
	ssize_t total = 0;

	new_pair(_metadata, self, &c, &s);
	ASSERT_EQ(0, pipe(p));
	pattern(data, SIZE, 0);
	ASSERT_EQ(SIZE, write(p[1], data, SIZE));

	end = now_ms() + deadline_ms();
	while (total < SIZE && now_ms() < end) {
		ssize_t r = splice(p[0], NULL, c, NULL, SIZE - total, 0);

		if (r <= 0) {
			TH_LOG("splice: %zd %s", r, strerror(errno));
			break;
		}
		total += r;
	}
	EXPECT_EQ(SIZE, total);
	EXPECT_EQ(SIZE, recv_all(s, got, SIZE));
	EXPECT_EQ(-1, check_pattern(got, SIZE, 0));
	close(p[0]);
	close(p[1]);
	close(c);
	close(s);
}

/* ---------------------------------------------------------------- */
/* Readiness                                                        */
/* ---------------------------------------------------------------- */

TEST_F(api, poll_in_out)
{
	char buf[16];
	int c, s;

	new_pair(_metadata, self, &c, &s);
	EXPECT_EQ(POLLOUT, poll_now(c, POLLIN | POLLOUT | POLLRDHUP) & EV_MASK);
	EXPECT_EQ(POLLOUT, poll_now(s, POLLIN | POLLOUT | POLLRDHUP) & EV_MASK);
	EXPECT_EQ(0, poll_now(s, POLLIN) & EV_MASK);

	ASSERT_EQ(5, send(c, "12345", 5, MSG_NOSIGNAL));
	EXPECT_EQ(POLLIN | POLLOUT,
		  poll_wait(s, POLLIN | POLLOUT | POLLRDHUP, POLLIN,
			    deadline_ms()) & EV_MASK);
	EXPECT_EQ(5, recv(s, buf, sizeof(buf), 0));
	EXPECT_EQ(POLLOUT, poll_now(s, POLLIN | POLLOUT | POLLRDHUP) & EV_MASK);
	close(c);
	close(s);
}

TEST_F(api, pollout_after_drain)
{
	int c, s;
	long total;

	new_pair(_metadata, self, &c, &s);
	total = fill_until_stuck(_metadata, c, s);
	/* A full send buffer: not writable. */
	EXPECT_EQ(0, poll_now(c, POLLOUT) & EV_MASK);
	/* The peer reads everything: writable again. */
	drain(_metadata, s, total);
	EXPECT_EQ(POLLOUT, poll_wait(c, POLLOUT, POLLOUT, deadline_ms()) & EV_MASK);
	EXPECT_EQ(0, wait_outq(c, 0));
	close(c);
	close(s);
}

static int ep_wait1(int ep, struct epoll_event *ev, int ms)
{
	int n;

	do {
		n = epoll_wait(ep, ev, 1, ms);
	} while (n < 0 && errno == EINTR);
	return n;
}

TEST_F(api, epoll_level)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP };
	char buf[200];
	int c, s, ep;

	new_pair(_metadata, self, &c, &s);
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));

	ASSERT_EQ(1, ep_wait1(ep, &ev, 0));
	EXPECT_EQ((uint32_t)(EPOLLOUT), ev.events);

	ASSERT_EQ(100, send(c, buf, 100, MSG_NOSIGNAL));
	ASSERT_EQ(100, wait_inq(s, 100));
	ASSERT_EQ(1, ep_wait1(ep, &ev, deadline_ms()));
	EXPECT_EQ((uint32_t)(EPOLLIN | EPOLLOUT), ev.events);
	/* Level-triggered: reported again while unread. */
	ASSERT_EQ(1, ep_wait1(ep, &ev, 0));
	EXPECT_EQ((uint32_t)(EPOLLIN | EPOLLOUT), ev.events);
	ASSERT_EQ(1, ep_wait1(ep, &ev, 0));
	EXPECT_EQ((uint32_t)(EPOLLIN | EPOLLOUT), ev.events);

	EXPECT_EQ(100, recv(s, buf, sizeof(buf), 0));
	ASSERT_EQ(1, ep_wait1(ep, &ev, 0));
	EXPECT_EQ((uint32_t)(EPOLLOUT), ev.events);
	close(ep);
	close(c);
	close(s);
}

TEST_F(api, epoll_edge)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	char buf[200];
	int c, s, ep;
	long total;

	new_pair(_metadata, self, &c, &s);
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	EXPECT_EQ(0, ep_wait1(ep, &ev, 0));

	/* One segment arrives: one edge. */
	ASSERT_EQ(100, send(c, buf, 100, MSG_NOSIGNAL));
	ASSERT_EQ(1, ep_wait1(ep, &ev, deadline_ms()));
	EXPECT_EQ((uint32_t)(EPOLLIN), ev.events);
	EXPECT_EQ(100, wait_inq(s, 100));
	EXPECT_EQ(0, ep_wait1(ep, &ev, 0));

	/* More data is a new edge, though the first is still unread. */
	ASSERT_EQ(100, send(c, buf, 100, MSG_NOSIGNAL));
	ASSERT_EQ(1, ep_wait1(ep, &ev, deadline_ms()));
	EXPECT_EQ((uint32_t)(EPOLLIN), ev.events);
	EXPECT_EQ(200, wait_inq(s, 200));
	EXPECT_EQ(0, ep_wait1(ep, &ev, 0));
	EXPECT_EQ(200, recv(s, buf, sizeof(buf), 0));
	EXPECT_EQ(0, ep_wait1(ep, &ev, 0));

	/* EPOLLOUT edge: the add reports it once, the drain once more. */
	ev.events = EPOLLOUT | EPOLLET;
	set_nonblock(c, true);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	ASSERT_EQ(1, ep_wait1(ep, &ev, 0));
	EXPECT_EQ((uint32_t)(EPOLLOUT), ev.events);
	EXPECT_EQ(0, ep_wait1(ep, &ev, 0));
	total = fill_until_stuck(_metadata, c, s);
	/* Edges from ACKs while filling are gone; none while stuck. */
	while (ep_wait1(ep, &ev, 0) > 0)
		;
	EXPECT_EQ(0, poll_now(c, POLLOUT) & EV_MASK);
	EXPECT_EQ(0, ep_wait1(ep, &ev, 0));
	drain(_metadata, s, total);
	ASSERT_EQ(1, ep_wait1(ep, &ev, deadline_ms()));
	EXPECT_EQ((uint32_t)(EPOLLOUT), ev.events);
	close(ep);
	close(c);
	close(s);
}

TEST_F(api, rdhup_on_shutdown)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	char b;
	int c, s, ep;

	new_pair(_metadata, self, &c, &s);
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	EXPECT_EQ(0, ep_wait1(ep, &ev, 0));

	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	ASSERT_EQ(1, ep_wait1(ep, &ev, deadline_ms()));
	EXPECT_EQ((uint32_t)(EPOLLIN | EPOLLRDHUP), ev.events);
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP,
		  poll_now(s, POLLIN | POLLOUT | POLLRDHUP) & EV_MASK);
	EXPECT_EQ(0, recv(s, &b, 1, 0));
	/* Still reported: end of stream is a lasting condition. */
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP,
		  poll_now(s, POLLIN | POLLOUT | POLLRDHUP) & EV_MASK);
	/* The half-closer writes nothing more but can still read. */
	EXPECT_EQ(POLLOUT, poll_now(c, POLLIN | POLLOUT | POLLRDHUP) & EV_MASK);

	/* The other direction still works. */
	ASSERT_EQ(1, send(s, "z", 1, MSG_NOSIGNAL));
	ASSERT_EQ(1, recv_all(c, &b, 1));
	EXPECT_EQ('z', b);

	/* Both directions closed: POLLHUP on both ends. */
	ASSERT_EQ(0, shutdown(s, SHUT_WR));
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP | POLLHUP,
		  poll_now(s, POLLIN | POLLOUT | POLLRDHUP) & EV_MASK);
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP | POLLHUP,
		  poll_wait(c, POLLIN | POLLOUT | POLLRDHUP, POLLHUP,
			    deadline_ms()) & EV_MASK);
	EXPECT_EQ(0, recv(c, &b, 1, 0));
	close(ep);
	close(c);
	close(s);
}

TEST_F(api, reset_events)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };
	struct tcp_info ti;
	int c, s, ep;

	new_pair(_metadata, self, &c, &s);
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	ASSERT_EQ(1, ep_wait1(ep, &ev, 0));
	EXPECT_EQ((uint32_t)(EPOLLOUT), ev.events);

	reset_close(_metadata, c);
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP | POLLHUP | POLLERR,
		  wait_reset(s) & EV_MASK);
	ASSERT_EQ(1, ep_wait1(ep, &ev, deadline_ms()));
	EXPECT_EQ((uint32_t)(EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP | EPOLLERR),
		  ev.events);
	ASSERT_EQ(0, get_info(s, &ti, NULL));
	EXPECT_EQ(ST_CLOSE, ti.tcpi_state);
	close(ep);
	close(s);
}

TEST_F(api, reset_send_errors)
{
	sigset_t set, pending;
	char b = 'x';
	int c, s, sig;

	new_pair(_metadata, self, &c, &s);
	reset_close(_metadata, c);
	ASSERT_TRUE(wait_reset(s) & POLLERR);

	/* The pending error first, then EPIPE, as TCP. */
	EXPECT_EQ(-1, send(s, &b, 1, MSG_NOSIGNAL));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(-1, send(s, &b, 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(0, getint(s, SOL_SOCKET, SO_ERROR));

	/* Without MSG_NOSIGNAL: EPIPE and SIGPIPE. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	EXPECT_EQ(-1, send(s, &b, 1, 0));
	EXPECT_EQ(EPIPE, errno);
	ASSERT_EQ(0, sigpending(&pending));
	EXPECT_TRUE(sigismember(&pending, SIGPIPE));
	if (sigismember(&pending, SIGPIPE))
		sigwait(&set, &sig);
	EXPECT_EQ(-1, write(s, &b, 1));
	EXPECT_EQ(EPIPE, errno);
	ASSERT_EQ(0, sigpending(&pending));
	EXPECT_TRUE(sigismember(&pending, SIGPIPE));

	/* Reading sees the end of the stream. */
	EXPECT_EQ(0, recv(s, &b, 1, 0));
	close(s);
}

TEST_F(api, reset_recv_errors)
{
	char b, buf[16];
	int c, s;

	/* recv() reports the reset once, then end of stream. */
	new_pair(_metadata, self, &c, &s);
	reset_close(_metadata, c);
	ASSERT_TRUE(wait_reset(s) & POLLERR);
	EXPECT_EQ(-1, recv(s, &b, 1, 0));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(0, recv(s, &b, 1, 0));
	EXPECT_EQ(0, recv(s, &b, 1, MSG_DONTWAIT));
	EXPECT_EQ(0, getint(s, SOL_SOCKET, SO_ERROR));
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP | POLLHUP,
		  poll_now(s, POLLIN | POLLOUT | POLLRDHUP) & EV_MASK);
	EXPECT_EQ(-1, send(s, &b, 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	close(s);

	/* SO_ERROR takes the error instead. */
	new_pair(_metadata, self, &c, &s);
	reset_close(_metadata, c);
	ASSERT_TRUE(wait_reset(s) & POLLERR);
	EXPECT_EQ(ECONNRESET, getint(s, SOL_SOCKET, SO_ERROR));
	EXPECT_EQ(0, getint(s, SOL_SOCKET, SO_ERROR));
	EXPECT_EQ(0, recv(s, &b, 1, 0));
	close(s);

	/* Data that came before the reset is still read first. */
	new_pair(_metadata, self, &c, &s);
	ASSERT_EQ(3, send(c, "abc", 3, MSG_NOSIGNAL));
	ASSERT_EQ(3, wait_inq(s, 3));
	reset_close(_metadata, c);
	ASSERT_TRUE(wait_reset(s) & POLLERR);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(3, recv(s, buf, sizeof(buf), 0));
	EXPECT_STREQ("abc", buf);
	EXPECT_EQ(-1, recv(s, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(0, recv(s, buf, sizeof(buf), 0));
	close(s);
}

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE	51
#endif

/* Limit the ports @fd may be given to [@lo, @hi] (IP_LOCAL_PORT_RANGE). */
static void port_range(struct __test_metadata *_metadata, int fd,
		       unsigned short lo, unsigned short hi)
{
	ASSERT_EQ(0, setint(fd, SOL_IP, IP_LOCAL_PORT_RANGE, lo | hi << 16)) {
		TH_LOG("IP_LOCAL_PORT_RANGE: %s", strerror(errno));
	}
}

/*
 * @n ports from an odd port on that no socket or TIME_WAIT entry of this
 * stack holds on any address (a wildcard bind to each of them works).
 */
static unsigned short free_ports(struct __test_metadata *_metadata,
				 FIXTURE_DATA(api) *self, unsigned short n)
{
	unsigned short base = 45001, i;

	for (; base < 60000; base += 2 * n) {
		for (i = 0; i < n; i++) {
			struct sockaddr_in a = xtcp_addr("0.0.0.0", base + i);
			int fd = new_sock(_metadata, self), r;

			r = bind(fd, (struct sockaddr *)&a, sizeof(a));
			close(fd);
			if (r)
				break;
		}
		if (i == n)
			return base;
	}
	ASSERT_TRUE(false) {
		TH_LOG("no %u free ports in a row", n);
	}
	return 0;
}

/* bind() to port 0 from an address of its own, with one port to pick. */
static int bind_any_port(struct __test_metadata *_metadata,
			 FIXTURE_DATA(api) *self, const char *addr,
			 unsigned short port, bool no_port)
{
	struct sockaddr_in a = xtcp_addr(addr, 0);
	int fd = new_sock(_metadata, self);

	port_range(_metadata, fd, port, port);
	if (no_port)
		EXPECT_EQ(0, setint(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -errno;
	}
	return fd;
}

/*
 * bind() to port 0 shares a port with sockets bound to other addresses
 * (inet_csk_find_open_port()); not with one on the same address, nor with
 * the wildcard, SO_REUSEADDR or not.
 */
TEST_F(api, bind_port0_shares_by_address)
{
	unsigned short p = free_ports(_metadata, self, 1);
	int a, b, c;

	a = bind_any_port(_metadata, self, "127.0.0.1", p, false);
	ASSERT_LE(0, a) {
		TH_LOG("bind 127.0.0.1:0: %s", strerror(-a));
	}
	EXPECT_EQ(p, port_of(a));
	b = bind_any_port(_metadata, self, "127.0.0.2", p, false);
	ASSERT_LE(0, b) {
		TH_LOG("bind 127.0.0.2:0: %s", strerror(-b));
	}
	EXPECT_EQ(p, port_of(b));
	EXPECT_EQ(-EADDRINUSE, bind_any_port(_metadata, self, "127.0.0.1", p,
					     false));
	EXPECT_EQ(-EADDRINUSE, bind_any_port(_metadata, self, "0.0.0.0", p,
					     false));
	ASSERT_EQ(0, setint(a, SOL_SOCKET, SO_REUSEADDR, 1));
	c = new_sock(_metadata, self);
	ASSERT_EQ(0, setint(c, SOL_SOCKET, SO_REUSEADDR, 1));
	port_range(_metadata, c, p, p);
	{
		struct sockaddr_in sa = xtcp_addr("127.0.0.1", 0);

		EXPECT_EQ(-1, bind(c, (struct sockaddr *)&sa, sizeof(sa)));
		EXPECT_EQ(EADDRINUSE, errno);
	}
	close(c);
	close(a);
	close(b);
}

/*
 * IP_BIND_ADDRESS_NO_PORT: bind() to port 0 only sets the address, and
 * connect() picks the port per 4-tuple, so two sockets on one address
 * share the only port there is, to two destinations. A plain bind() to
 * port 0 on that address then finds the port taken.
 */
TEST_F(api, bind_address_no_port)
{
	int l1 = new_listener(_metadata, self), l2 = new_listener(_metadata, self);
	unsigned short p = free_ports(_metadata, self, 1);
	int a, b, s1, s2;

	a = bind_any_port(_metadata, self, "127.0.0.1", p, true);
	ASSERT_LE(0, a) {
		TH_LOG("bind: %s", strerror(-a));
	}
	EXPECT_EQ(1, getint(a, SOL_IP, IP_BIND_ADDRESS_NO_PORT));
	EXPECT_EQ(0, port_of(a));
	b = bind_any_port(_metadata, self, "127.0.0.1", p, true);
	ASSERT_LE(0, b) {
		TH_LOG("bind: %s", strerror(-b));
	}
	EXPECT_EQ(0, port_of(b));
	do_connect(_metadata, a, port_of(l1));
	do_connect(_metadata, b, port_of(l2));
	EXPECT_EQ(p, port_of(a));
	EXPECT_EQ(p, port_of(b));
	s1 = do_accept(_metadata, l1);
	s2 = do_accept(_metadata, l2);
	EXPECT_EQ(-EADDRINUSE, bind_any_port(_metadata, self, "127.0.0.1", p,
					     false));
	close(s1);
	close(s2);
	close(a);
	close(b);
	close(l1);
	close(l2);
}

/*
 * Successive connect()s to one destination take successive ports: the
 * search starts where the last one ended (Linux's table_perturb), at even
 * offsets from the bottom of the range (bind() takes the odd ones first),
 * each a step of 2 to 16 from the one before.
 */
TEST_F(api, connect_ports_follow_on)
{
	enum { N = 8, RANGE = 256 };
	int l = new_listener(_metadata, self), c[N], s[N], i;
	unsigned short lo = free_ports(_metadata, self, RANGE), p[N];

	for (i = 0; i < N; i++) {
		c[i] = new_sock(_metadata, self);
		port_range(_metadata, c[i], lo, lo + RANGE - 1);
		do_connect(_metadata, c[i], port_of(l));
		s[i] = do_accept(_metadata, l);
		p[i] = port_of(c[i]);
		EXPECT_EQ(0, (p[i] - lo) % 2) {
			TH_LOG("port %u: odd offset from %u", p[i], lo);
		}
		if (i) {
			int step = (p[i] - p[i - 1] + RANGE) % RANGE;

			EXPECT_TRUE(step >= 2 && step <= 16) {
				TH_LOG("port %u after %u (range from %u)",
				       p[i], p[i - 1], lo);
			}
		}
	}
	/* The clients close last: the TIME_WAIT entries stay server-side. */
	for (i = 0; i < N; i++) {
		close(s[i]);
		close(c[i]);
	}
	close(l);
}

/*
 * The last columns of a connection's row in the proc table are those of
 * /proc/net/tcp: RTO, ACK delay, quick-ACK/pingpong, the congestion window
 * (TCP_INFO's, once grown) and ssthresh (TCP_INFO's; -1 in the initial
 * slow start).
 */
TEST_F(api, proc_row_cwnd_ssthresh)
{
	const char *path = self->proto ? "/proc/net/tcp" : "/proc/net/xtcp";
	unsigned int lport, cwnd = 0, want;
	int c, s, ssthresh = 0, n = 0;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	char line[512];
	FILE *f;

	static char buf[256 * 1024];
	long long end;

	int l = new_listener(_metadata, self);

	/* 256 KiB of 1000-byte segments grow the window past its 10. */
	c = new_sock(_metadata, self);
	ASSERT_EQ(0, setint(c, SOL_TCP, TCP_MAXSEG, 1000));
	do_connect(_metadata, c, port_of(l));
	s = do_accept(_metadata, l);
	close(l);
	ASSERT_EQ((ssize_t)sizeof(buf), send_all(c, buf, sizeof(buf)));
	ASSERT_EQ((ssize_t)sizeof(buf), recv_all(s, buf, sizeof(buf)));
	end = now_ms() + deadline_ms();
	do {
		len = sizeof(ti);
		ASSERT_EQ(0, get_info(c, &ti, &len));
	} while (ti.tcpi_unacked && now_ms() < end && (nap(), 1));
	ASSERT_EQ(0U, ti.tcpi_unacked);
	want = ti.tcpi_snd_cwnd;
	EXPECT_LT(10U, want);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		unsigned int rto, ato, quick;

		if (sscanf(line, " %*d: %*x:%x %*x:%*x %*x %*x:%*x %*x:%*x %*x %*u %*d %*u %*d %*s %u %u %u %u %d",
			   &lport, &rto, &ato, &quick, &cwnd, &ssthresh) == 6 &&
		    lport == port_of(c)) {
			n++;
			break;
		}
	}
	fclose(f);
	ASSERT_EQ(1, n) {
		TH_LOG("no row for port %u in %s", port_of(c), path);
	}
	EXPECT_EQ(want, cwnd);
	/* HyStart may have ended slow start: TCP_INFO tells. */
	EXPECT_EQ(ti.tcpi_snd_ssthresh >= 0x7fffffff ? -1 :
		  (int)ti.tcpi_snd_ssthresh, ssthresh);
	close(c);
	close(s);
}

TEST_HARNESS_MAIN
