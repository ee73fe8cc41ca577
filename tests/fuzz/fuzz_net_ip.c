/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the ip= parser (kernel syntax), which reads the kernel
 * command line and the boot config. What it accepts names an interface
 * that goes into ioctl()s and a /sys path. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/legacy/net.h"

#define SPEC_CAP 300

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char spec[SPEC_CAP + 1];
	struct si_net_cfg n;
	struct si_diag d = { { 0 } };
	int r;

	if (size > SPEC_CAP)
		size = SPEC_CAP;
	memcpy(spec, data, size);
	spec[size] = '\0';
	memset(&n, 0xa5, sizeof(n));
	r = si_net_parse(spec, &n, &d);
	if (r != 0) {
		if (r != -EINVAL || !d.msg[0])
			__builtin_trap();
		return 0;
	}
	if (n.mode != SI_NET_NONE && n.mode != SI_NET_DHCP && n.mode != SI_NET_STATIC)
		__builtin_trap();
	if (!memchr(n.iface, '\0', sizeof(n.iface)) || strchr(n.iface, '/'))
		__builtin_trap();
	return 0;
}
