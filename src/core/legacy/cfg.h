/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_LEGACY_CFG_H
#define SEALINIT_LEGACY_CFG_H

#include <stddef.h>

struct si_diag;

/*
 * The legacy fetch's configuration: every `legacy_*' key of the boot
 * configuration (docs/boot.md), its default, its syntax, its cross-checks
 * and how it prints. This module owns them; bootcfg.c hands it the keys.
 * It needs no libcurl, so every build parses and checks the same keys.
 */

#define SI_LEGACY_URL_MAX     512

struct si_legacy_cfg {
	char api[SI_LEGACY_URL_MAX];   /* https://host[:port][/prefix] */
	char resource[64];             /* the resource id for this device */
	char ca[256];                  /* PEM CA bundle; empty: pin only */
	char pin[256];                 /* curl pinned key: sha256//BASE64[;sha256//...] */
	char fingerprint[256];         /* source list: dt-serial,dmi-uuid,mac:IFACE,file:PATH */
	char credentials[256];         /* root-only file: email= and password= lines */
	/* A config partition holding the credentials file; empty: the file is
	 * in the initramfs. credentials is then a path inside it. */
	char credentials_dev[256];
	char resolve[256];             /* HOST:PORT:ADDR[,...], as curl --resolve */
	int connect_timeout_ms;        /* per request, TCP + TLS handshake */
	int timeout_ms;                /* per request, whole transfer */
	int retries;                   /* extra attempts per request on transient errors */
	int deadline_ms;               /* the whole fetch */
	long big_max;                  /* cap on the CDN part, bytes */
};

void si_legacy_cfg_defaults(struct si_legacy_cfg *c);

/* One key, without its `legacy_' prefix. Returns 0, -ENOENT for a key that
 * is not a legacy key, -E2BIG, or -EINVAL with *expect saying what a valid
 * value looks like. */
int si_legacy_cfg_set(struct si_legacy_cfg *c, const char *key, const char *v,
		      const char **expect);

/* Cross-field checks: an API URL, a resource, a trust anchor. */
int si_legacy_cfg_validate(const struct si_legacy_cfg *c, struct si_diag *d);

/* The same without the resource: what talking to the server at all needs
 * (the escrow of a recovery key, which fetches no resource). */
int si_legacy_cfg_validate_server(const struct si_legacy_cfg *c, struct si_diag *d);

/* Append every key as `legacy_KEY=VALUE' lines. Returns the length
 * written, or -ENOSPC. */
int si_legacy_cfg_format(const struct si_legacy_cfg *c, char *buf, size_t size);

#endif
