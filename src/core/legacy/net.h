/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_NET_H
#define SEALINIT_NET_H

#include <net/if.h>
#include <netinet/in.h>

struct si_diag;

/*
 * Network bring-up for the legacy fetch, in the initramfs. The spec is the
 * kernel's ip= syntax (Documentation/admin-guide/nfs/nfsroot.rst), which
 * sealinit applies itself because distribution kernels build without
 * CONFIG_IP_PNP:
 *
 *   ip=off | none                         no bring-up
 *   ip=dhcp | on | any                    DHCP (busybox udhcpc) on the first interface
 *   ip=<client>:<server>:<gw>:<netmask>:<host>:<dev>:<autoconf>:<dns0>:<dns1>
 *                                         static when client is set and autoconf
 *                                         is off/none/empty; DHCP on dev otherwise
 */
enum si_net_mode { SI_NET_NONE, SI_NET_DHCP, SI_NET_STATIC };

struct si_net_cfg {
	enum si_net_mode mode;
	char iface[IF_NAMESIZE];   /* empty: the first interface that is not lo */
	struct in_addr addr, mask, gw, dns[2];
};

int si_net_parse(const char *spec, struct si_net_cfg *n, struct si_diag *d);

/* Bring the interface up and configure it, all within timeout_ms: waiting
 * for the interface to appear, DHCP included. For DHCP, udhcpc_script is
 * made a symlink to this executable, which udhcpc runs with the lease;
 * its name must end in `udhcpc.script' (main.c dispatches on it). */
int si_net_up(const struct si_net_cfg *n, int timeout_ms, const char *udhcpc_script,
	      char *summary, size_t size, struct si_diag *d);

/* Apply one udhcpc event from its environment (interface, ip, subnet,
 * router, dns). For `bound' and `renew'; others only bring the link up. */
int si_net_udhcpc_event(const char *event, struct si_diag *d);

#endif
