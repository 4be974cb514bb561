/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the xtcp selftests.
 *
 * The module may be loaded with a non-default family or IP protocol, so
 * the tests read the numbers in use from sysfs rather than trusting the
 * uapi defaults.
 */
#ifndef XTCP_LIB_H
#define XTCP_LIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "xtcp.h"

static inline int xtcp_read_param(const char *path, int fallback)
{
	FILE *f = fopen(path, "r");
	int v;

	if (!f)
		return fallback;
	if (fscanf(f, "%d", &v) != 1)
		v = fallback;
	fclose(f);
	return v;
}

static inline int xtcp_family(void)
{
	return xtcp_read_param(XTCP_SYSFS_FAMILY, PF_XTCP);
}

static inline int xtcp_ipproto(void)
{
	return xtcp_read_param(XTCP_SYSFS_IPPROTO, IPPROTO_XTCP);
}

static inline struct sockaddr_in xtcp_addr(const char *ip, unsigned short port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = inet_addr(ip);
	return a;
}

static inline void xtcp_port_range(int *low, int *high)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	*low = 32768;
	*high = 60999;
	if (!f)
		return;
	if (fscanf(f, "%d %d", low, high) != 2) {
		*low = 32768;
		*high = 60999;
	}
	fclose(f);
}

/*
 * Find @port in @state (TCP hex state code) among the local addresses of
 * /proc/net/xtcp of the caller's namespace. Returns the number of rows.
 */
static inline int xtcp_proc_count(unsigned short port, int state)
{
	FILE *f = fopen(XTCP_PROC_NET, "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned int sl, laddr, lport, raddr, rport, st;

		if (sscanf(line, " %u: %x:%x %x:%x %x", &sl, &laddr, &lport,
			   &raddr, &rport, &st) != 6)
			continue;
		if (lport == port && (int)st == state)
			n++;
	}
	fclose(f);
	return n;
}

#endif /* XTCP_LIB_H */
