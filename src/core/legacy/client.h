/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_LEGACY_CLIENT_H
#define SEALINIT_LEGACY_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/legacy/cfg.h"

struct curl_slist;
struct si_diag;

/*
 * The legacy split-key fetch (docs/legacy-protocol.md). Every wire detail
 * of the contract (paths, headers, JSON fields, how parts join) lives in
 * client.c; the rest of sealinit asks only "get me the key material" and
 * gets the plaintext resource, in locked memory, or one code from
 * errors.h naming the way it failed.
 */

#define SI_LEGACY_SMALL_MAX   3072          /* the contract's cap on the small part */
#define SI_LEGACY_JSON_MAX    (16 * 1024)   /* any API response */
#define SI_LEGACY_TOKEN_MAX   512
#define SI_LEGACY_FP_MAX      512           /* the fingerprint string */
#define SI_LIBCURL            "libcurl.so.4" /* dlopen()ed by client.c */

/* Progress for the one place that prints: a step starting or failing. */
typedef void (*si_legacy_log_fn)(void *ctx, const char *msg);

/*
 * Fetch, verify and decrypt the resource. On success *out is a locked
 * buffer (si_secret_free) holding *out_len plaintext bytes. On failure
 * nothing is returned: no partial key ever leaves this function.
 */
int si_legacy_fetch(const struct si_legacy_cfg *c, si_legacy_log_fn log, void *log_ctx,
		    uint8_t **out, size_t *out_len, struct si_diag *d);

/*
 * Escrow the recovery key with the fleet server: the login the fetch
 * makes, then POST {api}/v1/devices/escrow with the bearer token, the
 * fingerprint's hash and json (an escrow document, escrow.h) as the body,
 * over the same TLS anchors, timeouts, retries and deadline. 0 when the
 * server answered 201 or 200; else one code from errors.h, as the fetch's.
 */
int si_legacy_escrow(const struct si_legacy_cfg *c, si_legacy_log_fn log, void *log_ctx,
		     const char *json, struct si_diag *d);

/*
 * The fingerprint string: `name=value` per configured source, joined by
 * ';'. root prefixes every path (tests; "" on a device).
 */
int si_legacy_fingerprint(const char *sources, const char *root, char *out, size_t size,
			  struct si_diag *d);

/* Wipe the text of every header of a curl_slist in place (before
 * curl_slist_free_all), exposed for the unit tests. */
void si_legacy_wipe_headers(struct curl_slist *l);

/* Response parsers, exposed for the unit tests and fuzzers. */
struct si_legacy_login {
	char token[SI_LEGACY_TOKEN_MAX + 1];
	char salt[SI_LEGACY_TOKEN_MAX + 1];
};

struct si_legacy_small {
	uint8_t small[SI_LEGACY_SMALL_MAX];
	size_t small_len;
	uint8_t sha256[32];
	char big_url[SI_LEGACY_URL_MAX];
	long big_size;
};

int si_legacy_parse_login(const char *body, size_t len, struct si_legacy_login *out,
			  struct si_diag *d);
int si_legacy_parse_small(const char *body, size_t len, long big_max,
			  struct si_legacy_small *out, struct si_diag *d);

/* The credentials file: regular, owned by root, mode 0600 or stricter;
 * `email=` and `password=` lines. The result is one locked allocation
 * (si_secret_free). */
struct si_legacy_creds_buf {
	char email[SI_LEGACY_TOKEN_MAX + 1];
	char password[SI_LEGACY_TOKEN_MAX + 1];
};

int si_legacy_read_creds(const char *path, struct si_legacy_creds_buf **out, struct si_diag *d);

/* The file's text: n bytes at text, which has room for n + 1 and is
 * changed in place. Exposed for the unit tests and fuzzers. */
int si_legacy_parse_creds(char *text, size_t n, const char *path, struct si_legacy_creds_buf *c,
			  struct si_diag *d);

#endif
