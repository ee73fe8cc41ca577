/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/route.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/legacy/net.h"

#define POLL_MS 20

static const char *const busybox_paths[] = { "/bin/busybox", "/sbin/busybox", "/usr/bin/busybox" };

static bool is_dhcp_word(const char *v)
{
	return !strcmp(v, "dhcp") || !strcmp(v, "on") || !strcmp(v, "any") ||
	       !strcmp(v, "both") || !strcmp(v, "bootp");
}

static int parse_addr(const char *v, struct in_addr *a, const char *field, struct si_diag *d)
{
	if (!*v)
		return 0;
	if (inet_pton(AF_INET, v, a) != 1) {
		si_diag_set(d, "ip=: <%s> `%.40s' is not an IPv4 address", field, v);
		return -EINVAL;
	}
	return 0;
}

int si_net_parse(const char *spec, struct si_net_cfg *n, struct si_diag *d)
{
	static const char *const names[] = { "client-ip", "server-ip", "gw-ip", "netmask",
					     "hostname", "device", "autoconf", "dns0-ip", "dns1-ip" };
	char buf[256], *p = buf, *f[10] = { 0 };
	int i, r = 0;

	memset(n, 0, sizeof(*n));
	if (!*spec || !strcmp(spec, "off") || !strcmp(spec, "none")) {
		n->mode = SI_NET_NONE;
		return 0;
	}
	if (is_dhcp_word(spec)) {
		n->mode = SI_NET_DHCP;
		return 0;
	}
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf)) {
		si_diag_set(d, "ip=: longer than %zu bytes", sizeof(buf) - 1);
		return -EINVAL;
	}
	for (i = 0; i < 10 && p; i++)
		f[i] = strsep(&p, ":");
	if (p) {
		si_diag_set(d, "ip=: more than 10 colon-separated fields");
		return -EINVAL;
	}
	for (i = 0; i < 10; i++)
		if (!f[i])
			f[i] = "";
	if (strlen(f[5]) >= sizeof(n->iface) || strchr(f[5], '/')) {
		si_diag_set(d, "ip=: <device> `%.40s' is not an interface name", f[5]);
		return -EINVAL;
	}
	strcpy(n->iface, f[5]);
	if (is_dhcp_word(f[6])) {
		n->mode = SI_NET_DHCP;
		return 0;
	}
	if (*f[6] && strcmp(f[6], "off") && strcmp(f[6], "none")) {
		si_diag_set(d, "ip=: <autoconf> `%.20s' (expected off, none, dhcp or empty)", f[6]);
		return -EINVAL;
	}
	if (!*f[0]) {
		si_diag_set(d, "ip=: static configuration needs <client-ip> (field 1)");
		return -EINVAL;
	}
	if (!*f[3]) {
		si_diag_set(d, "ip=: static configuration needs <netmask> (field 4)");
		return -EINVAL;
	}
	n->mode = SI_NET_STATIC;
	r = parse_addr(f[0], &n->addr, names[0], d) ?: parse_addr(f[2], &n->gw, names[2], d) ?:
	    parse_addr(f[3], &n->mask, names[3], d) ?: parse_addr(f[7], &n->dns[0], names[7], d) ?:
	    parse_addr(f[8], &n->dns[1], names[8], d);
	return r;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000L }, NULL);
}

static int if_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return -errno;
	r = ioctl(s, req, ifr) < 0 ? -errno : 0;
	close(s);
	return r;
}

static int if_up(const char *iface)
{
	struct ifreq ifr = { 0 };
	int r;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	r = if_ioctl(SIOCGIFFLAGS, &ifr);
	if (r < 0)
		return r;
	ifr.ifr_flags |= IFF_UP;
	return if_ioctl(SIOCSIFFLAGS, &ifr);
}

static int set_addr(const char *iface, unsigned long req, struct in_addr a)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = a };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	return if_ioctl(req, &ifr);
}

static int add_default_route(const char *iface, struct in_addr gw)
{
	struct rtentry rt = { 0 };
	struct sockaddr_in *sin;
	char dev[IF_NAMESIZE];
	int s, r;

	sin = (struct sockaddr_in *)&rt.rt_dst;
	sin->sin_family = AF_INET;
	sin = (struct sockaddr_in *)&rt.rt_genmask;
	sin->sin_family = AF_INET;
	sin = (struct sockaddr_in *)&rt.rt_gateway;
	sin->sin_family = AF_INET;
	sin->sin_addr = gw;
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	snprintf(dev, sizeof(dev), "%s", iface);
	rt.rt_dev = dev;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	r = ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST ? -errno : 0;
	close(s);
	return r;
}

static int write_resolv(const struct in_addr *dns, int n)
{
	char text[128], a[INET_ADDRSTRLEN];
	size_t len = 0;
	int i, fd;

	for (i = 0; i < n; i++) {
		if (!dns[i].s_addr)
			continue;
		inet_ntop(AF_INET, &dns[i], a, sizeof(a));
		len += (size_t)snprintf(text + len, sizeof(text) - len, "nameserver %s\n", a);
	}
	if (!len)
		return 0;
	mkdir("/etc", 0755);
	fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return -EIO;
	}
	return close(fd) < 0 ? -errno : 0;
}

static int configure(const char *iface, struct in_addr addr, struct in_addr mask,
		     struct in_addr gw, const struct in_addr *dns, int ndns, struct si_diag *d)
{
	int r;

	r = set_addr(iface, SIOCSIFADDR, addr);
	if (!r)
		r = set_addr(iface, SIOCSIFNETMASK, mask);
	if (r < 0) {
		si_diag_set(d, "setting the address of %s: %s", iface, strerror(-r));
		return -SI_ENETDOWN;
	}
	if (gw.s_addr && (r = add_default_route(iface, gw)) < 0) {
		si_diag_set(d, "adding the default route on %s: %s", iface, strerror(-r));
		return -SI_ENETDOWN;
	}
	r = write_resolv(dns, ndns);
	if (r < 0) {
		si_diag_set(d, "writing /etc/resolv.conf: %s", strerror(-r));
		return -SI_ENETDOWN;
	}
	return 0;
}

/* The first interface other than lo, in name order: eth0 before eth1. */
static bool first_iface(char *out, size_t size)
{
	DIR *dir = opendir("/sys/class/net");
	struct dirent *e;
	bool found = false;

	if (!dir)
		return false;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "lo"))
			continue;
		if (strlen(e->d_name) >= size)
			continue;
		if (!found || strcmp(e->d_name, out) < 0) {
			memcpy(out, e->d_name, strlen(e->d_name) + 1);
			found = true;
		}
	}
	closedir(dir);
	return found;
}

static bool iface_exists(const char *iface)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/class/net/%s", iface);
	return access(path, F_OK) == 0;
}

static const char *find_busybox(void)
{
	size_t i;

	for (i = 0; i < sizeof(busybox_paths) / sizeof(busybox_paths[0]); i++)
		if (access(busybox_paths[i], X_OK) == 0)
			return busybox_paths[i];
	return NULL;
}

/* udhcpc in its own process, killed when the deadline passes. */
static int run_udhcpc(const char *iface, const char *script, double deadline, struct si_diag *d)
{
	const char *bb = find_busybox();
	char tries[24];
	long left = (long)(deadline - now_ms());
	pid_t pid;
	int status;

	if (!bb) {
		si_diag_set(d, "ip=dhcp needs busybox (udhcpc) in the initramfs "
			    "(CONFIG_INITRAMFS_BUSYBOX), or a static ip=");
		return -SI_ENETDOWN;
	}
	/* udhcpc's lease script is sealinit itself, under that name (main.c
	 * dispatches on it). */
	{
		char self[256];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (n <= 0) {
			si_diag_set(d, "cannot find our own executable for udhcpc's script");
			return -SI_ENETDOWN;
		}
		self[n] = '\0';
		unlink(script);
		if (symlink(self, script) < 0) {
			si_diag_set(d, "linking udhcpc's script %s: %s", script, strerror(errno));
			return -SI_ENETDOWN;
		}
	}
	static char *const udhcpc_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };

	/* One discover a second until the deadline, which bounds it anyway. */
	snprintf(tries, sizeof(tries), "%d", left < 2000 ? 1 : left > 600000 ? 600 : (int)(left / 1000));
	pid = fork();
	if (pid < 0) {
		si_diag_set(d, "fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		/* A known environment, not the caller's: udhcpc hands it on to
		 * its script, which is sealinit. */
		execle(bb, "udhcpc", "-i", iface, "-f", "-q", "-n", "-t", tries, "-T", "1",
		       "-A", "1", "-s", script, (char *)NULL, udhcpc_env);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			si_diag_set(d, "waiting for udhcpc: %s", strerror(errno));
			return -SI_ENETDOWN;
		}
		if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			si_diag_set(d, "no DHCP lease on %s before the deadline", iface);
			return -SI_ENETDOWN;
		}
		sleep_ms(POLL_MS);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		si_diag_set(d, "no DHCP lease on %s (udhcpc exit %d)", iface,
			    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return -SI_ENETDOWN;
	}
	return 0;
}

static void describe(const char *iface, char *out, size_t size)
{
	struct ifreq ifr = { 0 };
	char a[INET_ADDRSTRLEN] = "?";

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	if (if_ioctl(SIOCGIFADDR, &ifr) == 0)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, a, sizeof(a));
	snprintf(out, size, "%s %s", iface, a);
}

int si_net_up(const struct si_net_cfg *n, int timeout_ms, const char *script, char *summary,
	      size_t size, struct si_diag *d)
{
	double deadline = now_ms() + timeout_ms;
	char iface[IF_NAMESIZE] = "";
	int r;

	if (summary && size)
		summary[0] = '\0';
	if (n->mode == SI_NET_NONE)
		return 0;
	(void)if_up("lo");
	/* The driver may still be probing: wait for the interface. */
	for (;;) {
		if (n->iface[0] ? iface_exists(n->iface) : first_iface(iface, sizeof(iface)))
			break;
		if (now_ms() >= deadline) {
			si_diag_set(d, "no network interface %s appeared within %d ms",
				    n->iface[0] ? n->iface : "(other than lo)", timeout_ms);
			return -SI_ENETDOWN;
		}
		sleep_ms(POLL_MS);
	}
	if (n->iface[0])
		snprintf(iface, sizeof(iface), "%s", n->iface);
	r = if_up(iface);
	if (r < 0) {
		si_diag_set(d, "bringing %s up: %s", iface, strerror(-r));
		return -SI_ENETDOWN;
	}
	if (n->mode == SI_NET_STATIC)
		r = configure(iface, n->addr, n->mask, n->gw, n->dns, 2, d);
	else
		r = run_udhcpc(iface, script, deadline, d);
	if (r == 0 && summary)
		describe(iface, summary, size);
	return r;
}

int si_net_udhcpc_event(const char *event, struct si_diag *d)
{
	const char *iface = getenv("interface"), *ip = getenv("ip"), *mask = getenv("subnet");
	const char *router = getenv("router"), *dns = getenv("dns");
	struct in_addr a = { 0 }, m = { 0 }, g = { 0 }, ns[2] = { { 0 } };
	char buf[128], *save = NULL, *t;
	int i = 0;

	if (!iface || !*iface) {
		si_diag_set(d, "udhcpc event without $interface");
		return -EINVAL;
	}
	if (strcmp(event, "bound") && strcmp(event, "renew"))
		return if_up(iface) < 0 ? -SI_ENETDOWN : 0;
	if (!ip || inet_pton(AF_INET, ip, &a) != 1 || !mask || inet_pton(AF_INET, mask, &m) != 1) {
		si_diag_set(d, "udhcpc lease without a valid $ip and $subnet");
		return -EINVAL;
	}
	if (router) {
		snprintf(buf, sizeof(buf), "%s", router);
		t = strtok_r(buf, " ", &save);
		if (t && inet_pton(AF_INET, t, &g) != 1)
			g.s_addr = 0;
	}
	if (dns) {
		snprintf(buf, sizeof(buf), "%s", dns);
		save = NULL;
		for (t = strtok_r(buf, " ", &save); t && i < 2; t = strtok_r(NULL, " ", &save))
			if (inet_pton(AF_INET, t, &ns[i]) == 1)
				i++;
	}
	return configure(iface, a, m, g, ns, i, d);
}
