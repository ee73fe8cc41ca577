/* SPDX-License-Identifier: MIT */
/* The legacy fetch's configuration: defaults and checks, without libcurl,
 * so that every build parses and validates the same keys. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "legacy.h"

void si_legacy_cfg_defaults(struct si_legacy_cfg *c)
{
	memset(c, 0, sizeof(*c));
	/* The fingerprint source each platform has: the SoC serial in the
	 * device tree on Jetson, the SMBIOS UUID on x86 servers. */
#if defined(__aarch64__)
	snprintf(c->fingerprint, sizeof(c->fingerprint), "dt-serial");
#else
	snprintf(c->fingerprint, sizeof(c->fingerprint), "dmi-uuid");
#endif
	snprintf(c->credentials, sizeof(c->credentials), "/etc/sealinit/legacy.cred");
	c->connect_timeout_ms = 5000;
	c->timeout_ms = 15000;
	c->retries = 2;
	c->deadline_ms = 60000;
	c->big_max = 1024 * 1024;
}

static bool resource_id_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

int si_legacy_cfg_validate(const struct si_legacy_cfg *c, struct si_diag *d)
{
	if (strncmp(c->api, "https://", 8) || !c->api[8]) {
		si_diag_set(d, "legacy_api: expected an https:// URL, got `%.64s'", c->api);
		return -EINVAL;
	}
	if (!resource_id_ok(c->resource)) {
		si_diag_set(d, "legacy_resource: expected an id of letters, digits, `.', `_' or `-'");
		return -EINVAL;
	}
	/* Never insecure: some anchor must verify the server. */
	if (!c->ca[0] && !c->pin[0]) {
		si_diag_set(d, "legacy_ca or legacy_pin must be set: the server is never trusted unverified");
		return -EINVAL;
	}
	if (!c->fingerprint[0]) {
		si_diag_set(d, "legacy_fingerprint: no source (e.g. dt-serial, dmi-uuid, mac:eth0)");
		return -EINVAL;
	}
	return 0;
}
