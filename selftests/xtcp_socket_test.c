// SPDX-License-Identifier: GPL-2.0
/*
 * Socket API tests for the xtcp family: socket(), bind(), getsockname(),
 * listen() and close(), with the errno values Linux TCP gives.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

#define TCP_LISTEN_STATE 0x0A

static int xsock(void)
{
	return socket(xtcp_family(), SOCK_STREAM, 0);
}

static unsigned short local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len))
		return 0;
	return ntohs(a.sin_port);
}

TEST(socket_stream_works)
{
	int fd;

	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	close(fd);

	fd = socket(xtcp_family(), SOCK_STREAM, xtcp_ipproto());
	ASSERT_LE(0, fd);
	close(fd);

	fd = socket(xtcp_family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	close(fd);
}

TEST(socket_bad_type)
{
	static const int types[] = { SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, SOCK_RDM };
	unsigned int i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, socket(xtcp_family(), types[i], 0));
		EXPECT_EQ(ESOCKTNOSUPPORT, errno) {
			TH_LOG("type %d", types[i]);
		}
	}
}

TEST(socket_bad_protocol)
{
	static const int protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, 252, 254 };
	unsigned int i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (protos[i] == xtcp_ipproto())
			continue;
		errno = 0;
		EXPECT_EQ(-1, socket(xtcp_family(), SOCK_STREAM, protos[i]));
		EXPECT_EQ(EPROTONOSUPPORT, errno) {
			TH_LOG("protocol %d", protos[i]);
		}
	}
}

TEST(bind_short_length)
{
	struct sockaddr_in a = xtcp_addr("127.0.0.1", 0);
	int fd = xsock();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&a, sizeof(a) - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&a, sizeof(sa_family_t)));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing was bound by the failed calls. */
	EXPECT_EQ(0, local_port(fd));
	close(fd);
}

TEST(bind_wrong_family)
{
	struct sockaddr_in a = xtcp_addr("127.0.0.1", 0);
	int fd = xsock();

	ASSERT_LE(0, fd);
	a.sin_family = AF_INET6;
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EAFNOSUPPORT, errno);

	a.sin_family = xtcp_family();
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EAFNOSUPPORT, errno);

	/* AF_UNSPEC passes only with INADDR_ANY, as for TCP. */
	a.sin_family = AF_UNSPEC;
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EAFNOSUPPORT, errno);
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	EXPECT_EQ(0, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_NE(0, local_port(fd));
	close(fd);
}

TEST(bind_nonlocal_address)
{
	/* TEST-NET-3: never configured in the test VM. */
	struct sockaddr_in a = xtcp_addr("203.0.113.7", 0);
	int fd = xsock();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EADDRNOTAVAIL, errno);
	close(fd);
}

TEST(bind_twice)
{
	struct sockaddr_in a = xtcp_addr("127.0.0.1", 0);
	int fd = xsock();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(bind_port_in_use)
{
	struct sockaddr_in a = xtcp_addr("127.0.0.1", 0);
	struct sockaddr_in any = xtcp_addr("0.0.0.0", 0);
	int fd1 = xsock(), fd2 = xsock(), fd3 = xsock();

	ASSERT_LE(0, fd1);
	ASSERT_LE(0, fd2);
	ASSERT_LE(0, fd3);
	ASSERT_EQ(0, bind(fd1, (struct sockaddr *)&a, sizeof(a)));
	a.sin_port = htons(local_port(fd1));
	any.sin_port = a.sin_port;

	EXPECT_EQ(-1, bind(fd2, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EADDRINUSE, errno);
	/* The wildcard overlaps every specific address. */
	EXPECT_EQ(-1, bind(fd3, (struct sockaddr *)&any, sizeof(any)));
	EXPECT_EQ(EADDRINUSE, errno);

	/* Once the owner is closed, the port is free again. */
	close(fd1);
	EXPECT_EQ(0, bind(fd2, (struct sockaddr *)&a, sizeof(a)));
	close(fd2);
	close(fd3);
}

TEST(bind_reuseaddr)
{
	struct sockaddr_in a = xtcp_addr("127.0.0.1", 0);
	int one = 1;
	int fd1 = xsock(), fd2 = xsock(), fd3 = xsock();

	ASSERT_LE(0, fd1);
	ASSERT_LE(0, fd2);
	ASSERT_LE(0, fd3);
	ASSERT_EQ(0, setsockopt(fd1, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	ASSERT_EQ(0, setsockopt(fd2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	ASSERT_EQ(0, bind(fd1, (struct sockaddr *)&a, sizeof(a)));
	a.sin_port = htons(local_port(fd1));

	/* Both with SO_REUSEADDR and neither listening: shared. */
	EXPECT_EQ(0, bind(fd2, (struct sockaddr *)&a, sizeof(a)));
	/* Without SO_REUSEADDR on the newcomer: refused. */
	EXPECT_EQ(-1, bind(fd3, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EADDRINUSE, errno);

	/* Only one of the sharers may listen. */
	EXPECT_EQ(0, listen(fd1, 8));
	EXPECT_EQ(-1, listen(fd2, 8));
	EXPECT_EQ(EADDRINUSE, errno);
	close(fd1);
	close(fd2);
	close(fd3);
}

static int drop_net_bind_service(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_NET_BIND_SERVICE / 32].effective &=
		~(1U << (CAP_NET_BIND_SERVICE % 32));
	return syscall(SYS_capset, &hdr, data);
}

TEST(bind_privileged_port)
{
	struct sockaddr_in a = xtcp_addr("127.0.0.1", 80);
	int start = xtcp_read_param("/proc/sys/net/ipv4/ip_unprivileged_port_start", 1024);
	int fd = xsock();

	ASSERT_LE(0, fd);
	if (start <= 80)
		SKIP(return, "ip_unprivileged_port_start is %d", start);

	/* With the capability (the tests run as root) port 80 is fine. */
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	close(fd);

	/* This test runs in its own child: dropping the capability is local. */
	ASSERT_EQ(0, drop_net_bind_service());
	fd = xsock();
	ASSERT_LE(0, fd);
	a.sin_port = htons(81);
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EACCES, errno);
	/* Unprivileged ports stay available. */
	a.sin_port = 0;
	EXPECT_EQ(0, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	close(fd);
}

TEST(bind_ephemeral_in_range)
{
	struct sockaddr_in a = xtcp_addr("127.0.0.1", 0);
	int low, high, fd = xsock();
	unsigned short port;

	ASSERT_LE(0, fd);
	xtcp_port_range(&low, &high);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	port = local_port(fd);
	EXPECT_LE(low, port);
	EXPECT_GE(high, port);
	close(fd);
}

#define N_EPHEMERAL 1000

TEST(ephemeral_unique_1000)
{
	static int fds[N_EPHEMERAL];
	static unsigned char seen[65536];
	struct rlimit rl = { N_EPHEMERAL + 64, N_EPHEMERAL + 64 };
	struct sockaddr_in a = xtcp_addr("127.0.0.1", 0);
	int i, low, high;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	xtcp_port_range(&low, &high);
	for (i = 0; i < N_EPHEMERAL; i++) {
		unsigned short port;

		fds[i] = xsock();
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, bind(fds[i], (struct sockaddr *)&a, sizeof(a)));
		port = local_port(fds[i]);
		ASSERT_LE(low, port);
		ASSERT_GE(high, port);
		ASSERT_EQ(0, seen[port]) {
			TH_LOG("port %u handed out twice", port);
		}
		seen[port] = 1;
	}
	for (i = 0; i < N_EPHEMERAL; i++)
		close(fds[i]);
}

TEST(getsockname_and_peer)
{
	struct sockaddr_in a = xtcp_addr("127.0.0.1", 0), b;
	socklen_t len = sizeof(b);
	int fd = xsock();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&b, &len));
	EXPECT_EQ(sizeof(b), len);
	EXPECT_EQ(AF_INET, b.sin_family);
	EXPECT_EQ(a.sin_addr.s_addr, b.sin_addr.s_addr);
	EXPECT_NE(0, b.sin_port);

	len = sizeof(b);
	EXPECT_EQ(-1, getpeername(fd, (struct sockaddr *)&b, &len));
	EXPECT_EQ(ENOTCONN, errno);
	close(fd);
}

TEST(listen_shows_in_table)
{
	struct sockaddr_in a = xtcp_addr("127.0.0.1", 0);
	unsigned short port;
	int fd = xsock();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	port = local_port(fd);
	EXPECT_EQ(0, xtcp_proc_count(port, TCP_LISTEN_STATE));
	ASSERT_EQ(0, listen(fd, 16));
	EXPECT_EQ(1, xtcp_proc_count(port, TCP_LISTEN_STATE));
	/* listen() again only changes the backlog. */
	EXPECT_EQ(0, listen(fd, 32));
	EXPECT_EQ(1, xtcp_proc_count(port, TCP_LISTEN_STATE));
	/* A listening socket cannot be bound again. */
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	EXPECT_EQ(0, xtcp_proc_count(port, TCP_LISTEN_STATE));
}

TEST(listen_autobinds)
{
	int low, high, fd = xsock();
	unsigned short port;

	ASSERT_LE(0, fd);
	xtcp_port_range(&low, &high);
	ASSERT_EQ(0, listen(fd, 4));
	port = local_port(fd);
	EXPECT_LE(low, port);
	EXPECT_GE(high, port);
	EXPECT_EQ(1, xtcp_proc_count(port, TCP_LISTEN_STATE));
	close(fd);
}

TEST(bind_per_namespace)
{
	struct sockaddr_in a = xtcp_addr("0.0.0.0", 0);
	unsigned short port;
	int fd1 = xsock(), fd2;

	ASSERT_LE(0, fd1);
	ASSERT_EQ(0, bind(fd1, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(0, listen(fd1, 4));
	port = local_port(fd1);
	a.sin_port = htons(port);

	/* Still taken here ... */
	fd2 = xsock();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(-1, bind(fd2, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EADDRINUSE, errno);
	close(fd2);

	/* ... but free in a new namespace (this test runs in its own child). */
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	EXPECT_EQ(0, xtcp_proc_count(port, TCP_LISTEN_STATE));
	fd2 = xsock();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, bind(fd2, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(0, listen(fd2, 4));
	EXPECT_EQ(1, xtcp_proc_count(port, TCP_LISTEN_STATE));
	close(fd2);
	close(fd1);
}

TEST_HARNESS_MAIN
