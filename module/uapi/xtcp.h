/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xtcp: user-visible constants.
 *
 * xtcp is an experimental TCP variant. Applications open it with
 *
 *	socket(PF_XTCP, SOCK_STREAM, 0);
 *
 * and address it with a plain struct sockaddr_in (sin_family = AF_INET).
 * On the wire it is RFC 9293 TCP carried in IPv4 with the experimental
 * IP protocol number 253 (RFC 3692), so it never meets the kernel's TCP.
 *
 * The family number is a module parameter ("family"); 19 is the default.
 * A program that must follow a non-default load can read the number in
 * use from /sys/module/xtcp/parameters/family.
 */
#ifndef _UAPI_LINUX_XTCP_H
#define _UAPI_LINUX_XTCP_H

/* Socket family: 19 was AF_ECONET, removed from Linux in 3.5. */
#define PF_XTCP		19
#define AF_XTCP		PF_XTCP

/* IP protocol number carried in the IPv4 header (RFC 3692 experimental). */
#define IPPROTO_XTCP	253

/* Where the module publishes the numbers it actually registered. */
#define XTCP_SYSFS_FAMILY	"/sys/module/xtcp/parameters/family"
#define XTCP_SYSFS_IPPROTO	"/sys/module/xtcp/parameters/ipproto"

/* Per-namespace socket table, in the column format of /proc/net/tcp. */
#define XTCP_PROC_NET		"/proc/net/xtcp"

#endif /* _UAPI_LINUX_XTCP_H */
