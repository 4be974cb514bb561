// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_scale: many concurrent connections, for the benchmark.
 *
 * Server:  xtcp_scale [-s XTCP|TCP] -l -a ADDR -p PORT [-e NETNS]
 *	Prints "listening PORT", then accepts every connection (epoll) and
 *	holds it; answers every byte a connection sends with one byte and
 *	closes it at EOF (so that xtcp_connect -m crr works against it too).
 *	Runs until SIGTERM.
 * Client:  xtcp_scale [-s XTCP|TCP] -c ADDR -p PORT -n N -B SRC[,SRC...]
 *		       [-e NETNS]
 *	Opens N connections, up to 1000 at a time in progress, binding them
 *	to the source addresses in turn with IP_BIND_ADDRESS_NO_PORT, so
 *	that connect() picks each port per 4-tuple (as load generators do:
 *	N / addresses must stay below the size of ip_local_port_range), and
 *	prints "established
 *	N SECS RATE" once all are up; then holds them until stdin reaches EOF
 *	or SIGTERM, closes them all and prints "closed". Exit 1 if a
 *	connection failed (with "error CALL ERRNO" on stdout).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xtcp_lib.h"

#define INFLIGHT 1000
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif

static volatile sig_atomic_t stop;
static int family, proto;

static void on_term(int sig)
{
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(const char *call)
{
	printf("error %s %s\n", call, strerrorname_np(errno) ?: "?");
	fflush(stdout);
	exit(1);
}

static void raise_nofile(void)
{
	struct rlimit r = { 1 << 20, 1 << 20 };

	if (setrlimit(RLIMIT_NOFILE, &r)) {
		getrlimit(RLIMIT_NOFILE, &r);
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

static void server(const char *addr, int port)
{
	struct sockaddr_in sa = xtcp_addr(addr, port);
	struct epoll_event ev = { .events = EPOLLIN }, evs[256];
	int lfd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, proto);
	int ep = epoll_create1(0), one = 1, i, n;

	if (lfd < 0)
		fail("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)))
		fail("bind");
	if (listen(lfd, 4096))
		fail("listen");
	ev.data.fd = lfd;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev))
		fail("epoll");
	printf("listening %d\n", port);
	fflush(stdout);
	while (!stop) {
		n = epoll_wait(ep, evs, 256, 1000);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			char buf[512];
			ssize_t r;

			if (fd != lfd) {
				r = read(fd, buf, sizeof(buf));
				if (r > 0)
					r = write(fd, buf, r);
				else if (r == 0 || errno != EAGAIN)
					close(fd);
				continue;
			}
			while ((fd = accept4(lfd, NULL, NULL,
					     SOCK_NONBLOCK)) >= 0) {
				ev.data.fd = fd;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
					fail("epoll_ctl");
			}
		}
	}
}

static void client(const char *addr, int port, long count, char *sources)
{
	struct sockaddr_in dst = xtcp_addr(addr, port), src[64];
	struct epoll_event ev = { .events = EPOLLOUT }, evs[256];
	int ep = epoll_create1(0), nsrc = 0, i, n;
	long started = 0, done = 0;
	int *fds = calloc(count, sizeof(int));
	double t0 = now(), t;
	char *tok, *save = NULL, c;

	if (!fds || ep < 0)
		fail("set-up");
	for (tok = strtok_r(sources, ",", &save); tok && nsrc < 64;
	     tok = strtok_r(NULL, ",", &save))
		src[nsrc++] = xtcp_addr(tok, 0);
	while (done < count) {
		while (started < count && started - done < INFLIGHT) {
			int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK,
					proto);

			if (fd < 0)
				fail("socket");
			if (nsrc) {
				struct sockaddr_in a = src[started % nsrc];
				int one = 1;

				if (setsockopt(fd, SOL_IP,
					       IP_BIND_ADDRESS_NO_PORT, &one,
					       sizeof(one)))
					fail("IP_BIND_ADDRESS_NO_PORT");
				if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
					fail("bind");
			}
			if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) &&
			    errno != EINPROGRESS)
				fail("connect");
			ev.data.fd = fd;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
				fail("epoll_ctl");
			fds[started++] = fd;
		}
		n = epoll_wait(ep, evs, 256, 10000);
		if (n <= 0)
			fail("epoll_wait (no progress for 10 s)");
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd, err = 0;
			socklen_t len = sizeof(err);

			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
			if (err) {
				errno = err;
				fail("connect");
			}
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			done++;
		}
	}
	t = now() - t0;
	printf("established %ld %.3f %.0f\n", count, t, count / t);
	fflush(stdout);
	while (!stop && read(0, &c, 1) > 0)
		;
	for (i = 0; i < count; i++)
		close(fds[i]);
	printf("closed\n");
}

int main(int argc, char **argv)
{
	const char *addr = NULL;
	char *sources = NULL;
	int port = 0, listen_mode = 0, opt;
	long count = 0;
	bool tcp = false;

	while ((opt = getopt(argc, argv, "s:la:c:p:n:B:e:")) != -1) {
		switch (opt) {
		case 's':
			tcp = !strcasecmp(optarg, "TCP");
			break;
		case 'l':
			listen_mode = 1;
			break;
		case 'a':
		case 'c':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 'B':
			sources = optarg;
			break;
		case 'e': {
			char path[256];
			int fd;

			snprintf(path, sizeof(path), "%s%s",
				 strchr(optarg, '/') ? "" : "/run/netns/",
				 optarg);
			fd = open(path, O_RDONLY);
			if (fd < 0 || setns(fd, CLONE_NEWNET))
				fail("setns");
			close(fd);
			break;
		}
		default:
			addr = NULL;
		}
	}
	if (!addr || !port || (!listen_mode && count <= 0)) {
		fprintf(stderr, "usage: xtcp_scale [-s XTCP|TCP] -l -a ADDR -p PORT | -c ADDR -p PORT -n N [-B SRC,...] [-e NETNS]\n");
		return 2;
	}
	family = tcp ? AF_INET : xtcp_family();
	proto = tcp ? IPPROTO_TCP : 0;
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (listen_mode)
		server(addr, port);
	else
		client(addr, port, count, sources);
	return 0;
}
