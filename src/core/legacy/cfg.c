/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/kv.h"
#include "config.h"
#include "core/legacy/cfg.h"

void si_legacy_cfg_defaults(struct si_legacy_cfg *c)
{
	memset(c, 0, sizeof(*c));
	/* The fingerprint source the platform has (Kconfig: dt-serial on
	 * Jetson, dmi-uuid on x86 servers). */
	snprintf(c->fingerprint, sizeof(c->fingerprint), "%s", CONFIG_LEGACY_FINGERPRINT);
	snprintf(c->credentials, sizeof(c->credentials), "/etc/sealinit/legacy.cred");
	c->connect_timeout_ms = 5000;
	c->timeout_ms = 15000;
	c->retries = 2;
	c->deadline_ms = 60000;
	c->big_max = 1024 * 1024;
}

int si_legacy_cfg_set(struct si_legacy_cfg *l, const char *key, const char *v, const char **expect)
{
	long n;
	int r = -EINVAL;

	if (!strcmp(key, "api")) {
		r = !*v || (!strncmp(v, "https://", 8) && v[8]) ? si_kv_str(l->api, sizeof(l->api), v)
							      : -EINVAL;
		*expect = "an https:// URL, or empty";
	} else if (!strcmp(key, "resource")) {
		r = si_kv_str(l->resource, sizeof(l->resource), v);
		*expect = "a resource id";
	} else if (!strcmp(key, "ca")) {
		r = !*v || v[0] == '/' ? si_kv_str(l->ca, sizeof(l->ca), v) : -EINVAL;
		*expect = "an absolute path to a PEM CA bundle, or empty";
	} else if (!strcmp(key, "pin")) {
		r = !*v || !strncmp(v, "sha256//", 8) ? si_kv_str(l->pin, sizeof(l->pin), v) : -EINVAL;
		*expect = "sha256//BASE64[;sha256//BASE64], or empty";
	} else if (!strcmp(key, "fingerprint")) {
		r = si_kv_str(l->fingerprint, sizeof(l->fingerprint), v);
		*expect = "sources joined by ',': dt-serial, dmi-uuid, mac:IFACE, file:/PATH";
	} else if (!strcmp(key, "credentials")) {
		r = v[0] == '/' ? si_kv_str(l->credentials, sizeof(l->credentials), v) : -EINVAL;
		*expect = "an absolute path";
	} else if (!strcmp(key, "credentials_dev")) {
		r = (*v ? si_kv_devspec(v) : 0) ?: si_kv_str(l->credentials_dev,
							     sizeof(l->credentials_dev), v);
		*expect = SI_KV_DEVSPEC_EXPECT ", or empty";
	} else if (!strcmp(key, "resolve")) {
		r = si_kv_str(l->resolve, sizeof(l->resolve), v);
		*expect = "HOST:PORT:ADDR[,HOST:PORT:ADDR]";
	} else if (!strcmp(key, "connect_timeout") || !strcmp(key, "timeout") ||
		   !strcmp(key, "deadline")) {
		r = si_kv_num(v, 1, 600000, &n);
		if (!r)
			*(!strcmp(key, "deadline") ? &l->deadline_ms :
			  !strcmp(key, "timeout") ? &l->timeout_ms : &l->connect_timeout_ms) = (int)n;
		*expect = "milliseconds, 1-600000";
	} else if (!strcmp(key, "retries")) {
		r = si_kv_num(v, 0, 10, &n);
		if (!r)
			l->retries = (int)n;
		*expect = "0-10";
	} else if (!strcmp(key, "big_max")) {
		r = si_kv_num(v, 1, 64L * 1024 * 1024, &n);
		if (!r)
			l->big_max = n;
		*expect = "bytes, 1-67108864";
	} else {
		r = -ENOENT;
	}
	return r;
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

int si_legacy_cfg_validate_server(const struct si_legacy_cfg *c, struct si_diag *d)
{
	if (strncmp(c->api, "https://", 8) || !c->api[8]) {
		si_diag_set(d, "legacy_api: expected an https:// URL, got `%.64s'", c->api);
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

int si_legacy_cfg_validate(const struct si_legacy_cfg *c, struct si_diag *d)
{
	int r = si_legacy_cfg_validate_server(c, d);

	if (r == 0 && !resource_id_ok(c->resource)) {
		si_diag_set(d, "legacy_resource: expected an id of letters, digits, `.', `_' or `-'");
		r = -EINVAL;
	}
	return r;
}

int si_legacy_cfg_format(const struct si_legacy_cfg *l, char *buf, size_t size)
{
	int n = snprintf(buf, size,
			 "legacy_api=%s\nlegacy_resource=%s\nlegacy_ca=%s\nlegacy_pin=%s\n"
			 "legacy_fingerprint=%s\nlegacy_credentials=%s\nlegacy_credentials_dev=%s\n"
			 "legacy_resolve=%s\nlegacy_connect_timeout=%d\nlegacy_timeout=%d\n"
			 "legacy_retries=%d\nlegacy_deadline=%d\nlegacy_big_max=%ld\n",
			 l->api, l->resource, l->ca, l->pin, l->fingerprint, l->credentials,
			 l->credentials_dev, l->resolve, l->connect_timeout_ms, l->timeout_ms,
			 l->retries, l->deadline_ms, l->big_max);

	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}
