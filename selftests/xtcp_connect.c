// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_connect: the selftests' socket tool, usable with xtcp or, as the
 * baseline, with the kernel's TCP ("-s TCP"), in the manner of MPTCP's
 * mptcp_connect.
 *
 *   xtcp_connect -l [-s XTCP|TCP] [-a ADDR] [-p PORT] [-b BACKLOG]
 *	bind, listen, print "listening PORT" on stdout, then hold the socket
 *	until stdin reaches end of file or a SIGTERM/SIGINT arrives.
 *   xtcp_connect -c [-s XTCP|TCP] [-a ADDR]
 *	create a socket, print "created", hold it the same way.
 *
 * Exit status: 0 on success; 1 with a message naming the failed call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/socket.h>

#include "xtcp_lib.h"

static volatile sig_atomic_t stop;

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
		"usage: xtcp_connect -l|-c [-s XTCP|TCP] [-a ADDR] [-p PORT] [-b BACKLOG]\n");
	exit(2);
}

/* Hold the socket until stdin closes or a signal asks us to stop. */
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

int main(int argc, char **argv)
{
	const char *addr = "0.0.0.0";
	int port = 0, backlog = 16, mode = 0, use_tcp = 0;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, c;

	while ((c = getopt(argc, argv, "lcs:a:p:b:")) != -1) {
		switch (c) {
		case 'l':
		case 'c':
			mode = c;
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
		default:
			usage();
		}
	}
	if (!mode)
		usage();

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);

	fd = socket(use_tcp ? AF_INET : xtcp_family(), SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");

	if (mode == 'c') {
		printf("created\n");
		hold();
		close(fd);
		return 0;
	}

	sa = xtcp_addr(addr, port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("bind");
	if (listen(fd, backlog))
		die("listen");
	if (getsockname(fd, (struct sockaddr *)&sa, &len))
		die("getsockname");
	printf("listening %u\n", ntohs(sa.sin_port));
	hold();
	close(fd);
	return 0;
}
