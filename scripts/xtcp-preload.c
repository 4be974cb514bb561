// SPDX-License-Identifier: GPL-2.0
/*
 * libxtcp-preload.so: the library behind xtcp-run. Preloaded into a
 * dynamically linked program, it makes every socket(AF_INET, SOCK_STREAM,
 * 0 or IPPROTO_TCP) call, with or without SOCK_NONBLOCK and SOCK_CLOEXEC,
 * create a PF_XTCP socket instead; every other call goes to the C library
 * untouched. xtcp takes the same sockaddr_in, options and calls as TCP,
 * so the program goes on as it would over TCP.
 *
 * The family is the module's "family" parameter (19 unless loaded with
 * another), read once from sysfs, or XTCP_FAMILY from the environment.
 * If the module is not there, socket() fails (EAFNOSUPPORT) rather than
 * falling back to TCP: a run that says xtcp is over xtcp or does not run.
 * XTCP_RUN_VERBOSE=1 reports each socket made on stderr.
 *
 * Not covered: programs linked statically, programs that make the system
 * call themselves (syscall(SYS_socket), Go's runtime), and sockets the C
 * library makes inside itself (its resolver's TCP fallback).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define XTCP_DEFAULT_FAMILY	19

static int (*real_socket)(int domain, int type, int protocol);
static int xtcp_family = XTCP_DEFAULT_FAMILY;
static int verbose;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void xtcp_preload_init(void)
{
	const char *env;
	char buf[16];
	ssize_t n;
	int fd;

	real_socket = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	env = getenv("XTCP_RUN_VERBOSE");
	verbose = env && *env && *env != '0';
	env = getenv("XTCP_FAMILY");
	if (env && *env) {
		xtcp_family = atoi(env);
		return;
	}
	fd = open("/sys/module/xtcp/parameters/family", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		if (atoi(buf) > 0)
			xtcp_family = atoi(buf);
	}
}

int socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	int fd, err;

	pthread_once(&once, xtcp_preload_init);
	if (!real_socket) {
		errno = ENOSYS;
		return -1;
	}
	if (domain != AF_INET || base != SOCK_STREAM ||
	    (protocol != 0 && protocol != IPPROTO_TCP))
		return real_socket(domain, type, protocol);

	/* xtcp takes protocol 0 (or its own IP protocol), not IPPROTO_TCP. */
	fd = real_socket(xtcp_family, type, 0);
	if (verbose) {
		err = errno;
		if (fd < 0)
			fprintf(stderr, "xtcp-run: socket(PF_XTCP = %d): %m\n",
				xtcp_family);
		else
			fprintf(stderr, "xtcp-run: fd %d is xtcp\n", fd);
		errno = err;
	}
	return fd;
}
