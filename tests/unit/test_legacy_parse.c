/* SPDX-License-Identifier: MIT */
/* The legacy fetch's local parts: the two API response parsers, the
 * hardware fingerprint, the credentials file, ip= and the boot config keys
 * of the legacy source. Everything here runs without a network. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <curl/curl.h>

#include "config.h"
#include "core/b64.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/legacy/client.h"
#include "core/legacy/crypto.h"
#include "core/legacy/net.h"
#include "core/secret.h"
#include "../lib/testutil.h"

/* The open command line, as a build without CONFIG_LOCKDOWN has it: what
 * these tests exercise (test_bootcfg's test_lockdown tests lockdown). */
static void open_defaults(struct si_bootcfg *c)
{
	si_bootcfg_defaults(c);
	c->lockdown = false;
}


#define assert_diag(d, needle)                                                            \
	do {                                                                              \
		if (!strstr((d)->msg, (needle)))                                          \
			fail_msg("diag `%s' lacks `%s'", (d)->msg, (needle));             \
	} while (0)

/* ---- login ---------------------------------------------------------------- */

static int login(const char *body, struct si_legacy_login *out, struct si_diag *d)
{
	memset(out, 0x5a, sizeof(*out));
	memset(d, 0, sizeof(*d));
	return si_legacy_parse_login(body, strlen(body), out, d);
}

static void test_login_valid(void **state)
{
	struct si_legacy_login l;
	struct si_diag d;

	(void)state;
	/* As the reference server writes it (json.dumps: spaces after ':'). */
	assert_int_equal(login("{\"token\": \"9f86d081884c7d65.x-y~\", \"salt\": \"azaion salt v1\"}",
			       &l, &d), 0);
	assert_string_equal(l.token, "9f86d081884c7d65.x-y~");
	/* The salt goes into the derivation only: spaces are fine there. */
	assert_string_equal(l.salt, "azaion salt v1");
	/* Unknown fields are ignored; whitespace around the object is fine. */
	assert_int_equal(login(" {\"salt\":\"s\",\"extra\":[1,{}],\"token\":\"t\"}\n", &l, &d), 0);
	assert_string_equal(l.token, "t");
	assert_string_equal(l.salt, "s");
}

static void test_login_bad(void **state)
{
	static const struct { const char *body, *diag; } bad[] = {
		{ "{\"salt\": \"s\"}", "`token'" },
		{ "{\"token\": \"\", \"salt\": \"s\"}", "`token'" },
		{ "{\"token\": \"a b\", \"salt\": \"s\"}", "`token'" },
		{ "{\"token\": \"a\\tb\", \"salt\": \"s\"}", "`token'" },
		{ "{\"token\": \"caf\\u00e9\", \"salt\": \"s\"}", "`token'" },
		{ "{\"token\": 12345, \"salt\": \"s\"}", "`token'" },
		{ "{\"token\": \"t\"}", "`salt'" },
		{ "{\"token\": \"t\", \"salt\": \"\"}", "`salt'" },
		{ "{\"token\": \"t\", \"salt\": [\"not\", \"a\", \"string\"]}", "`salt'" },
		{ "[\"token\", \"salt\"]", "not a JSON object" },
		{ "\"token\"", "not a JSON object" },
		{ "42", "not a JSON object" },
		{ "null", "not a JSON object" },
		{ "", "not a JSON object" },
		{ "{\"token\": \"t\", \"salt\": \"s\"", "not a JSON object" },
		{ "{\"token\": \"t\", \"salt\": \"s\"} x", "not a JSON object" },
		{ "{\"token\": \"t\", \"salt\": \"s\"}{}", "not a JSON object" },
		{ "{\"token\": \"t\", \"salt\": \"s\",}", "not a JSON object" },
		{ "\xff{\"token\": \"t\", \"salt\": \"s\"}", "not a JSON object" },
		/* \u0000 would cut the value short of what the checks see */
		{ "{\"token\": \"abc\\u0000 x\", \"salt\": \"s\"}", "`token'" },
		{ "{\"token\": \"t\", \"salt\": \"s\\u0000t\"}", "`salt'" },
	};
	struct si_legacy_login l;
	struct si_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (login(bad[i].body, &l, &d) != -SI_EBADRESPONSE)
			fail_msg("accepted `%s'", bad[i].body);
		if (!strstr(d.msg, bad[i].diag))
			fail_msg("`%s': diag `%s' lacks `%s'", bad[i].body, d.msg, bad[i].diag);
		if (!all_zero(&l, sizeof(l)))
			fail_msg("`%s': output not cleared", bad[i].body);
	}
	/* The body's length counts, not a NUL: a NUL then junk is trailing junk. */
	{
		static const char b[] = "{\"token\": \"t\", \"salt\": \"s\"}\0junk";

		assert_int_equal(si_legacy_parse_login(b, sizeof(b) - 1, &l, &d), -SI_EBADRESPONSE);
		/* ...and a short len cuts the object. */
		assert_int_equal(si_legacy_parse_login(b, 10, &l, &d), -SI_EBADRESPONSE);
	}
}

static void test_login_lengths(void **state)
{
	char body[2 * SI_LEGACY_TOKEN_MAX + 128], tok[SI_LEGACY_TOKEN_MAX + 2];
	struct si_legacy_login l;
	struct si_diag d;

	(void)state;
	memset(tok, 'T', sizeof(tok) - 1);
	tok[SI_LEGACY_TOKEN_MAX] = '\0';
	snprintf(body, sizeof(body), "{\"token\":\"%s\",\"salt\":\"s\"}", tok);
	assert_int_equal(login(body, &l, &d), 0);
	assert_int_equal(strlen(l.token), SI_LEGACY_TOKEN_MAX);
	tok[SI_LEGACY_TOKEN_MAX] = 'T';
	tok[SI_LEGACY_TOKEN_MAX + 1] = '\0';
	snprintf(body, sizeof(body), "{\"token\":\"%s\",\"salt\":\"s\"}", tok);
	assert_int_equal(login(body, &l, &d), -SI_EBADRESPONSE);
	assert_diag(&d, "`token' must be 1-512");
	/* The salt: at most SI_LEGACY_FIELD_MAX, the derivation's own limit. */
	tok[SI_LEGACY_FIELD_MAX] = '\0';
	snprintf(body, sizeof(body), "{\"token\":\"t\",\"salt\":\"%s\"}", tok);
	assert_int_equal(login(body, &l, &d), 0);
	assert_int_equal(strlen(l.salt), SI_LEGACY_FIELD_MAX);
	tok[SI_LEGACY_FIELD_MAX] = 'S';
	tok[SI_LEGACY_FIELD_MAX + 1] = '\0';
	snprintf(body, sizeof(body), "{\"token\":\"t\",\"salt\":\"%s\"}", tok);
	assert_int_equal(login(body, &l, &d), -SI_EBADRESPONSE);
	assert_diag(&d, "`salt'");
}

/* A valid object padded to exactly len bytes with a "pad" string. */
static char *padded_login(size_t len)
{
	static const char head[] = "{\"token\":\"t\",\"salt\":\"s\",\"pad\":\"";
	char *b = malloc(len + 1);
	size_t fill = len - (sizeof(head) - 1) - 2;

	assert_non_null(b);
	memcpy(b, head, sizeof(head) - 1);
	memset(b + sizeof(head) - 1, 'x', fill);
	memcpy(b + len - 2, "\"}", 3);
	assert_int_equal(strlen(b), len);
	return b;
}

static void test_login_size_cap(void **state)
{
	struct si_legacy_login l;
	struct si_diag d = { { 0 } };
	char *b;

	(void)state;
	b = padded_login(SI_LEGACY_JSON_MAX);
	assert_int_equal(si_legacy_parse_login(b, SI_LEGACY_JSON_MAX, &l, &d), 0);
	assert_string_equal(l.token, "t");
	free(b);
	b = padded_login(SI_LEGACY_JSON_MAX + 1);
	assert_int_equal(si_legacy_parse_login(b, SI_LEGACY_JSON_MAX + 1, &l, &d), -SI_EBADRESPONSE);
	assert_string_equal(d.msg, "login response: larger than 16384 bytes");
	assert_true(all_zero(&l, sizeof(l)));
	free(b);
}

/* ---- the small part ------------------------------------------------------ */

#define SHA_HEX "00112233445566778899aabbccddeeff0123456789ABCDEFfedcba9876543210"
#define URL     "https://cdn.legacy.test:4443/v1/blobs/r1-big"
#define BIG_MAX (1024L * 1024)

/* small and big_size are pasted in as they are (big_size: raw JSON). */
static int small(const char *small_b64, const char *sha, const char *url, const char *size,
		 long big_max, struct si_legacy_small *out, struct si_diag *d)
{
	size_t n = strlen(small_b64) + 512;
	char *body = malloc(n);
	int r;

	assert_non_null(body);
	snprintf(body, n, "{\"small\": \"%s\", \"sha256\": \"%s\", \"big_url\": \"%s\", \"big_size\": %s}",
		 small_b64, sha, url, size);
	memset(out, 0x5a, sizeof(*out));
	memset(d, 0, sizeof(*d));
	r = si_legacy_parse_small(body, strlen(body), big_max, out, d);
	free(body);
	/* Nothing partial is left behind on failure. */
	if (r < 0 && !all_zero(out, sizeof(*out)))
		fail_msg("failure (%d) left bytes in the output", r);
	return r;
}

static void test_small_valid(void **state)
{
	static const uint8_t want_sha[32] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
	};
	uint8_t want[17];
	struct si_legacy_small s;
	struct si_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 15 + 1);
	/* base64 of the 17 bytes 01 10 1f ... e2 f1 (one '=' of padding) */
	assert_int_equal(small("ARAfLj1MW2p5iJemtcTT4vE=", SHA_HEX, URL, "4096", BIG_MAX, &s, &d), 0);
	assert_int_equal(s.small_len, sizeof(want));
	assert_memory_equal(s.small, want, sizeof(want));
	assert_memory_equal(s.sha256, want_sha, 32);
	assert_string_equal(s.big_url, URL);
	assert_int_equal(s.big_size, 4096);
	/* big_size may equal the cap. */
	assert_int_equal(small("AAAA", SHA_HEX, URL, "1048576", BIG_MAX, &s, &d), 0);
	assert_int_equal(s.small_len, 3);
	assert_int_equal(s.big_size, BIG_MAX);
}

static char *b64_of(size_t n)
{
	uint8_t *raw = malloc(n);
	char *out = malloc(SI_B64_LEN(n) + 1);

	assert_non_null(raw);
	assert_non_null(out);
	memset(raw, 0x6b, n);
	si_b64_encode(out, raw, n);
	free(raw);
	return out;
}

static void test_small_caps(void **state)
{
	struct si_legacy_small s;
	struct si_diag d;
	char *b;

	(void)state;
	b = b64_of(SI_LEGACY_SMALL_MAX);
	assert_int_equal(small(b, SHA_HEX, URL, "1", BIG_MAX, &s, &d), 0);
	assert_int_equal(s.small_len, SI_LEGACY_SMALL_MAX);
	assert_int_equal(s.small[SI_LEGACY_SMALL_MAX - 1], 0x6b);
	free(b);
	b = b64_of(SI_LEGACY_SMALL_MAX + 1);
	assert_int_equal(small(b, SHA_HEX, URL, "1", BIG_MAX, &s, &d), -SI_EOVERSIZE);
	assert_diag(&d, "`small' decodes to more than 3072 bytes");
	free(b);
	assert_int_equal(small("AAAA", SHA_HEX, URL, "1048577", BIG_MAX, &s, &d), -SI_EOVERSIZE);
	assert_diag(&d, "`big_size' 1048577 exceeds the cap of 1048576 bytes (legacy_big_max)");
	assert_int_equal(small("AAAA", SHA_HEX, URL, "9223372036854775807", BIG_MAX, &s, &d),
			 -SI_EOVERSIZE);
	assert_int_equal(small("AAAA", SHA_HEX, URL, "4097", 4096, &s, &d), -SI_EOVERSIZE);
}

static void test_small_bad(void **state)
{
	static const char sha63[] = "00112233445566778899aabbccddeeff0123456789abcdeffedcba987654321";
	static const char sha_nonhex[] = "zz112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210";
	static const char sha65[] = "00112233445566778899aabbccddeeff0123456789abcdeffedcba98765432100";
	static const struct { const char *small, *sha, *url, *size, *diag; } bad[] = {
		{ "AAAA", SHA_HEX, "http://cdn.legacy.test:4443/v1/blobs/r1", "16", "`big_url' must be an https://" },
		{ "AAAA", SHA_HEX, "HTTPS://cdn/x", "16", "`big_url'" },
		{ "AAAA", SHA_HEX, "https://cdn/a b", "16", "`big_url'" },
		{ "AAAA", SHA_HEX, "", "16", "`big_url'" },
		{ "AAAA", sha63, URL, "16", "`sha256' must be 64 hex digits" },
		{ "AAAA", sha65, URL, "16", "`sha256'" },
		{ "AAAA", sha_nonhex, URL, "16", "`sha256'" },
		{ "AAAA", "", URL, "16", "`sha256'" },
		{ "AAAA", SHA_HEX, URL, "0", "`big_size' must be a positive integer" },
		{ "AAAA", SHA_HEX, URL, "-1", "`big_size'" },
		{ "AAAA", SHA_HEX, URL, "-9223372036854775808", "`big_size'" },
		{ "AAAA", SHA_HEX, URL, "\"4096\"", "`big_size'" },
		{ "AAAA", SHA_HEX, URL, "4096.0", "`big_size'" },
		{ "AAAA", SHA_HEX, URL, "null", "`big_size'" },
		{ "AAAA", SHA_HEX, URL, "true", "`big_size'" },
		{ "", SHA_HEX, URL, "16", "`small' is not non-empty base64" },
		{ "AAA", SHA_HEX, URL, "16", "`small'" },
		{ "AA=A", SHA_HEX, URL, "16", "`small'" },
		{ "AB==", SHA_HEX, URL, "16", "`small'" },  /* non-canonical */
		{ "AA\\nAA", SHA_HEX, URL, "16", "`small'" },
	};
	struct si_legacy_small s;
	struct si_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = small(bad[i].small, bad[i].sha, bad[i].url, bad[i].size, BIG_MAX, &s, &d);

		if (r != -SI_EBADRESPONSE)
			fail_msg("case %zu (%s, %s): got %d", i, bad[i].url, bad[i].size, r);
		if (!strstr(d.msg, bad[i].diag))
			fail_msg("case %zu: diag `%s' lacks `%s'", i, d.msg, bad[i].diag);
	}
	/* A field missing, or of the wrong type. */
	{
		static const char *const bodies[] = {
			"{\"sha256\": \"" SHA_HEX "\", \"big_url\": \"" URL "\", \"big_size\": 1}",
			"{\"small\": 12, \"sha256\": \"zz\", \"big_url\": 7, \"big_size\": \"big\"}",
			"{\"small\": \"AAAA\", \"big_url\": \"" URL "\", \"big_size\": 1}",
			"{\"small\": \"AAAA\", \"sha256\": \"" SHA_HEX "\", \"big_size\": 1}",
			"{\"small\": \"AAAA\", \"sha256\": \"" SHA_HEX "\", \"big_url\": \"" URL "\"}",
			"[\"AAAA\"]",
		};

		for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
			memset(&s, 0x5a, sizeof(s));
			if (si_legacy_parse_small(bodies[i], strlen(bodies[i]), BIG_MAX, &s, &d) !=
			    -SI_EBADRESPONSE)
				fail_msg("accepted `%s'", bodies[i]);
			assert_true(all_zero(&s, sizeof(s)));
		}
	}
}

/* ---- the hardware fingerprint ------------------------------------------------ */

struct tmp {
	char dir[64];
};

static void put(const char *dir, const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX], *slash;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	/* mkdir -p of the parent */
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*slash = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static int rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static int setup_tmp(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/sealinit-unit.XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int teardown_tmp(void **state)
{
	struct tmp *t = *state;

	if (t) {
		(void)rm_rf(t->dir);
		free(t);
	}
	return 0;
}

#define DT_SERIAL "1423021234567"
#define DMI_UUID  "4c4c4544-0042-3510-8052-b4c04f4e4e31"
#define MAC       "48:b0:2d:01:02:03"

static void fp_tree(const char *root)
{
	/* Device-tree strings end in NUL, sysfs values in a newline. */
	put(root, "proc/device-tree/serial-number", DT_SERIAL, sizeof(DT_SERIAL));
	put(root, "sys/class/dmi/id/product_uuid", DMI_UUID "\n", strlen(DMI_UUID) + 1);
	put(root, "sys/class/net/eth0/address", MAC "\n", strlen(MAC) + 1);
}

static void test_fingerprint(void **state)
{
	struct tmp *t = *state;
	struct si_diag d = { { 0 } };
	char fp[SI_LEGACY_FP_MAX], want[PATH_MAX];

	fp_tree(t->dir);
	if (si_legacy_fingerprint("dt-serial,dmi-uuid,mac:eth0", t->dir, fp, sizeof(fp), &d) < 0)
		fail_msg("%s", d.msg);
	assert_string_equal(fp, "dt-serial=" DT_SERIAL ";dmi-uuid=" DMI_UUID ";mac:eth0=" MAC);
	/* The configured order, not a fixed one. */
	assert_int_equal(si_legacy_fingerprint("mac:eth0,dt-serial", t->dir, fp, sizeof(fp), &d), 0);
	assert_string_equal(fp, "mac:eth0=" MAC ";dt-serial=" DT_SERIAL);
	/* file:/PATH, under the root too */
	put(t->dir, "etc/machine-fp", "board-7\r\n", 9);
	assert_int_equal(si_legacy_fingerprint("file:/etc/machine-fp", t->dir, fp, sizeof(fp), &d), 0);
	assert_string_equal(fp, "file:/etc/machine-fp=board-7");

	/* A missing source names its path. */
	assert_int_equal(si_legacy_fingerprint("dt-serial,mac:eth1", t->dir, fp, sizeof(fp), &d),
			 -SI_EFINGERPRINT);
	snprintf(want, sizeof(want), "%s/sys/class/net/eth1/address", t->dir);
	assert_diag(&d, want);
	assert_diag(&d, "mac:eth1");
	/* Unknown source names, and interface names that are paths. */
	assert_int_equal(si_legacy_fingerprint("dmi-uuid,cpu-serial", t->dir, fp, sizeof(fp), &d),
			 -SI_EFINGERPRINT);
	assert_diag(&d, "unknown source `cpu-serial'");
	assert_int_equal(si_legacy_fingerprint("mac:", t->dir, fp, sizeof(fp), &d), -SI_EFINGERPRINT);
	assert_int_equal(si_legacy_fingerprint("mac:../../x", t->dir, fp, sizeof(fp), &d),
			 -SI_EFINGERPRINT);
	assert_int_equal(si_legacy_fingerprint("file:etc/machine-fp", t->dir, fp, sizeof(fp), &d),
			 -SI_EFINGERPRINT);
	assert_int_equal(si_legacy_fingerprint("", t->dir, fp, sizeof(fp), &d), -SI_EFINGERPRINT);

	/* Values that would blur the `name=value;' framing. */
	put(t->dir, "fp/semi", "a;b\n", 4);
	put(t->dir, "fp/space", "a b\n", 4);
	put(t->dir, "fp/ctrl", "a\tb", 3);
	put(t->dir, "fp/empty", "\n", 1);
	assert_int_equal(si_legacy_fingerprint("file:/fp/semi", t->dir, fp, sizeof(fp), &d),
			 -SI_EFINGERPRINT);
	assert_diag(&d, "unprintable");
	assert_int_equal(si_legacy_fingerprint("dt-serial,file:/fp/space", t->dir, fp, sizeof(fp), &d),
			 -SI_EFINGERPRINT);
	assert_diag(&d, "fp/space");
	assert_int_equal(si_legacy_fingerprint("file:/fp/ctrl", t->dir, fp, sizeof(fp), &d),
			 -SI_EFINGERPRINT);
	assert_int_equal(si_legacy_fingerprint("file:/fp/empty", t->dir, fp, sizeof(fp), &d),
			 -SI_EFINGERPRINT);
	assert_diag(&d, "empty");

	/* Only separators: no source at all. */
	assert_int_equal(si_legacy_fingerprint(",,", t->dir, fp, sizeof(fp), &d), -SI_EFINGERPRINT);
	assert_diag(&d, "no source");
	/* mac:.. would read sys/class/net/../address */
	assert_int_equal(si_legacy_fingerprint("mac:..", t->dir, fp, sizeof(fp), &d), -SI_EFINGERPRINT);
	/* A value longer than 128 bytes is refused, never cut. */
	{
		char big[200];

		memset(big, 'x', sizeof(big));
		put(t->dir, "fp/long", big, sizeof(big));
		assert_int_equal(si_legacy_fingerprint("file:/fp/long", t->dir, fp, sizeof(fp), &d),
				 -SI_EFINGERPRINT);
		assert_diag(&d, "too large");
		put(t->dir, "fp/max", big, 128);
		assert_int_equal(si_legacy_fingerprint("file:/fp/max", t->dir, fp, sizeof(fp), &d), 0);
	}

	/* The output buffer is a hard cap. */
	assert_int_equal(si_legacy_fingerprint("dt-serial,dmi-uuid", t->dir, fp, 30, &d),
			 -SI_EFINGERPRINT);
	assert_diag(&d, "longer than 29 bytes");
}

/* ---- the credentials file --------------------------------------------------------- */

static int creds(const char *path, struct si_legacy_creds_buf **c, struct si_diag *d)
{
	memset(d, 0, sizeof(*d));
	return si_legacy_read_creds(path, c, d);
}

static void test_creds(void **state)
{
	struct tmp *t = *state;
	struct si_legacy_creds_buf *c = (void *)1;
	struct si_diag d;
	char path[PATH_MAX], link[PATH_MAX];
	static const char good[] = "# sealinit legacy credentials\nemail=ops@example.com\n"
				   "\npassword=hunter2 with=equals\r\n";

	snprintf(path, sizeof(path), "%s/legacy.cred", t->dir);
	put(t->dir, "legacy.cred", good, sizeof(good) - 1);
	assert_int_equal(chmod(path, 0600), 0);
	if (creds(path, &c, &d) < 0)
		fail_msg("%s", d.msg);
	assert_non_null(c);
	assert_string_equal(c->email, "ops@example.com");
	assert_string_equal(c->password, "hunter2 with=equals");
	si_secret_free(c);

	/* Group or world bits: refused, the mode named. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(creds(path, &c, &d), -SI_ECREDS);
	assert_null(c);
	assert_diag(&d, "mode");
	assert_diag(&d, "0644");
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(creds(path, &c, &d), -SI_ECREDS);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(creds(path, &c, &d), 0);
	si_secret_free(c);

	/* A symlink to a good file is not followed. */
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(link, sizeof(link), "%s/link.cred", t->dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(creds(link, &c, &d), -SI_ECREDS);
	assert_null(c);
	assert_diag(&d, link);
	assert_diag(&d, strerror(ELOOP));

	/* Missing file, directory. */
	snprintf(link, sizeof(link), "%s/absent.cred", t->dir);
	assert_int_equal(creds(link, &c, &d), -SI_ECREDS);
	assert_int_equal(creds(t->dir, &c, &d), -SI_ECREDS);
	assert_diag(&d, "not a regular file");
}

static void test_creds_content(void **state)
{
	static const struct { const char *text, *diag; } bad[] = {
		{ "email=ops@example.com\n", "needs both email= and password=" },
		{ "password=hunter2\n", "needs both" },
		{ "email=ops@example.com\npassword=\n", "line 2: password must be 1-512 bytes" },
		{ "email=ops@example.com\nuser=x\npassword=p\n", "line 2: unknown key" },
		{ "email=ops@example.com\npassword hunter2\n", "line 2: expected email= or password=" },
		{ " email=ops@example.com\npassword=p\n", "line 1: unknown key" },
		{ "", "needs both" },
		{ "email=ops@example.com\r\r\npassword=p\n", "line 1: email contains a control character (byte 16)" },
		{ "email=ops@example.com\npassword=hun\tter2\n", "line 2: password contains a control character (byte 4)" },
	};
	struct tmp *t = *state;
	struct si_legacy_creds_buf *c;
	struct si_diag d;
	char path[PATH_MAX], big[SI_LEGACY_TOKEN_MAX + 32];
	size_t i;

	snprintf(path, sizeof(path), "%s/c", t->dir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(t->dir, "c", bad[i].text, strlen(bad[i].text));
		if (creds(path, &c, &d) != -SI_ECREDS)
			fail_msg("accepted `%s'", bad[i].text);
		assert_null(c);
		if (!strstr(d.msg, bad[i].diag))
			fail_msg("`%s': diag `%s' lacks `%s'", bad[i].text, d.msg, bad[i].diag);
	}
	/* A NUL would have ended the file early: refused, not truncated. */
	{
		static const char nul[] = "email=e\npassword=p\0tail\n";

		put(t->dir, "c", nul, sizeof(nul) - 1);
	}
	assert_int_equal(creds(path, &c, &d), -SI_ECREDS);
	assert_diag(&d, "contains a NUL byte");
	/* Positive control: CRLF line ends are fine, the CR is not kept. */
	put(t->dir, "c", "email=e\r\npassword=p w\r\n", 23);
	assert_int_equal(creds(path, &c, &d), 0);
	assert_string_equal(c->email, "e");
	assert_string_equal(c->password, "p w");
	si_secret_free(c);
	/* 512 bytes is the most a field holds. */
	memcpy(big, "password=", 9);
	memset(big + 9, 'p', SI_LEGACY_TOKEN_MAX);
	memcpy(big + 9 + SI_LEGACY_TOKEN_MAX, "\nemail=e\n", 10);
	put(t->dir, "c", big, strlen(big));
	assert_int_equal(creds(path, &c, &d), 0);
	assert_int_equal(strlen(c->password), SI_LEGACY_TOKEN_MAX);
	si_secret_free(c);
	memcpy(big, "password=", 9);
	memset(big + 9, 'p', SI_LEGACY_TOKEN_MAX + 1);
	memcpy(big + 10 + SI_LEGACY_TOKEN_MAX, "\nemail=e\n", 10);
	put(t->dir, "c", big, strlen(big));
	assert_int_equal(creds(path, &c, &d), -SI_ECREDS);
	assert_diag(&d, "line 1: password must be 1-512 bytes");
}

/* ---- ip= -------------------------------------------------------------------------- */

static void assert_addr(struct in_addr a, const char *want)
{
	char s[INET_ADDRSTRLEN];

	assert_non_null(inet_ntop(AF_INET, &a, s, sizeof(s)));
	assert_string_equal(s, want);
}

static int net(const char *spec, struct si_net_cfg *n, struct si_diag *d)
{
	memset(n, 0x5a, sizeof(*n));
	memset(d, 0, sizeof(*d));
	return si_net_parse(spec, n, d);
}

static void test_net_parse(void **state)
{
	struct si_net_cfg n;
	struct si_diag d;

	(void)state;
	assert_int_equal(net("dhcp", &n, &d), 0);
	assert_int_equal(n.mode, SI_NET_DHCP);
	assert_string_equal(n.iface, "");
	assert_int_equal(net("on", &n, &d), 0);
	assert_int_equal(n.mode, SI_NET_DHCP);
	assert_int_equal(net("off", &n, &d), 0);
	assert_int_equal(n.mode, SI_NET_NONE);
	assert_int_equal(net("none", &n, &d), 0);
	assert_int_equal(n.mode, SI_NET_NONE);
	assert_int_equal(net("", &n, &d), 0);
	assert_int_equal(n.mode, SI_NET_NONE);
	assert_string_equal(n.iface, "");

	assert_int_equal(net("10.0.2.15::10.0.2.2:255.255.255.0::eth0:off", &n, &d), 0);
	assert_int_equal(n.mode, SI_NET_STATIC);
	assert_addr(n.addr, "10.0.2.15");
	assert_addr(n.gw, "10.0.2.2");
	assert_addr(n.mask, "255.255.255.0");
	assert_string_equal(n.iface, "eth0");
	assert_int_equal(n.dns[0].s_addr, 0);
	assert_int_equal(n.dns[1].s_addr, 0);

	/* All ten fields, DNS included; autoconf empty means static too. */
	assert_int_equal(net("192.168.1.10:192.168.1.1:192.168.1.1:255.255.0.0:jetson:enp1s0::8.8.8.8:1.1.1.1:",
			     &n, &d), 0);
	assert_int_equal(n.mode, SI_NET_STATIC);
	assert_addr(n.mask, "255.255.0.0");
	assert_addr(n.dns[0], "8.8.8.8");
	assert_addr(n.dns[1], "1.1.1.1");
	assert_string_equal(n.iface, "enp1s0");

	/* No gateway: a link-local-only setup, fine. */
	assert_int_equal(net("10.0.2.15:::255.255.255.0", &n, &d), 0);
	assert_int_equal(n.gw.s_addr, 0);
	assert_string_equal(n.iface, "");

	assert_int_equal(net(":::::eth1:dhcp", &n, &d), 0);
	assert_int_equal(n.mode, SI_NET_DHCP);
	assert_string_equal(n.iface, "eth1");
	assert_int_equal(net("10.0.2.15:::::eth1:any", &n, &d), 0);
	assert_int_equal(n.mode, SI_NET_DHCP);
}

static void test_net_parse_errors(void **state)
{
	static const struct { const char *spec, *diag; } bad[] = {
		{ "10.0.2.15::::::", "<netmask>" },
		{ "10.0.2.15", "<netmask>" },
		{ "::10.0.2.2:255.255.255.0::eth0:off", "<client-ip>" },
		{ "10.0.2::10.0.2.2:255.255.255.0::eth0:off", "<client-ip> `10.0.2' is not an IPv4 address" },
		{ "10.0.2.15::10.0.2.300:255.255.255.0::eth0:off", "<gw-ip> `10.0.2.300'" },
		{ "10.0.2.15::10.0.2.2:255.255.255.0x::eth0:off", "<netmask> `255.255.255.0x'" },
		{ "10.0.2.15::10.0.2.2:255.255.255.0::eth0:off:8.8.8:", "<dns0-ip> `8.8.8'" },
		{ "10.0.2.15::10.0.2.2:255.255.255.0::eth0:off::fe80::1", "more than 10" },
		{ "10.0.2.15::10.0.2.2:255.255.255.0::eth0:off:1.1.1.1:2.2.2.x", "<dns1-ip>" },
		{ "1:2:3:4:5:6:7:8:9:10:11", "more than 10 colon-separated fields" },
		{ "::::::::::", "more than 10" },
		{ ":::::eth0:rarp", "<autoconf> `rarp'" },
		{ ":::::a234567890123456:dhcp", "<device>" },
		{ ":::::../x:dhcp", "<device>" },
		{ "dhcp6", "<netmask>" },
	};
	struct si_net_cfg n;
	struct si_diag d;
	char longspec[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (net(bad[i].spec, &n, &d) != -EINVAL)
			fail_msg("accepted `%s'", bad[i].spec);
		if (!strstr(d.msg, bad[i].diag))
			fail_msg("`%s': diag `%s' lacks `%s'", bad[i].spec, d.msg, bad[i].diag);
	}
	/* 15 characters is the longest interface name. */
	assert_int_equal(net(":::::a23456789012345:dhcp", &n, &d), 0);
	assert_string_equal(n.iface, "a23456789012345");
	memset(longspec, '1', sizeof(longspec) - 1);
	longspec[sizeof(longspec) - 1] = '\0';
	assert_int_equal(net(longspec, &n, &d), -EINVAL);
	assert_diag(&d, "longer than 255 bytes");
}

/* ---- boot config keys ------------------------------------------------------- */

static int cfg_file(struct si_bootcfg *c, const char *text, struct si_diag *d)
{
	open_defaults(c);
	memset(d, 0, sizeof(*d));
	return si_bootcfg_parse_file(c, text, d);
}

static void test_bootcfg_keys(void **state)
{
	struct si_bootcfg c;
	struct si_diag d;

	(void)state;
	/* The defaults are what the build has: the TPM first, then this. */
	open_defaults(&c);
	assert_int_equal(c.nsources, ENABLE_TPM2 ? 2 : 1);
	assert_int_equal(c.sources[0], ENABLE_TPM2 ? SI_SRC_TPM2 : SI_SRC_LEGACY);
	assert_int_equal(c.sources[c.nsources - 1], SI_SRC_LEGACY);

	assert_int_equal(cfg_file(&c, "keysources=legacy,tpm2\n", &d), 0);
	assert_int_equal(c.nsources, 2);
	assert_int_equal(c.sources[0], SI_SRC_LEGACY);
	assert_int_equal(c.sources[1], SI_SRC_TPM2);
	assert_int_equal(cfg_file(&c, "keysources=legacy\n", &d), 0);
	assert_int_equal(c.nsources, 1);
	assert_int_equal(c.sources[0], SI_SRC_LEGACY);

	assert_int_equal(cfg_file(&c, "keysources=tpm2,tpm2\n", &d), -EINVAL);
	assert_diag(&d, "line 1: `keysources': invalid value `tpm2,tpm2'");
	/* A rejected value leaves the order as it was: the build's default. */
	assert_int_equal(c.nsources, ENABLE_TPM2 ? 2 : 1);
	assert_int_equal(c.sources[0], ENABLE_TPM2 ? SI_SRC_TPM2 : SI_SRC_LEGACY);
	assert_int_equal(cfg_file(&c, "keysources=\n", &d), -EINVAL);
	assert_int_equal(cfg_file(&c, "keysources=tpm2,legacy,tpm2\n", &d), -EINVAL);
	assert_int_equal(cfg_file(&c, "keysources=tpm\n", &d), -EINVAL);

	assert_int_equal(cfg_file(&c, "legacy_api=http://x\n", &d), -EINVAL);
	assert_diag(&d, "`legacy_api': invalid value `http://x' (expected an https:// URL");
	assert_int_equal(cfg_file(&c, "legacy_api=https://\n", &d), -EINVAL);
	assert_diag(&d, "`legacy_api'");
	assert_int_equal(cfg_file(&c, "legacy_api=https://api.legacy.test:8443/\n", &d), 0);
	assert_string_equal(c.legacy.api, "https://api.legacy.test:8443/");
	open_defaults(&c);
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "quiet sealinit.legacy_api=http://x", &d), -EINVAL);
	assert_diag(&d, "`sealinit.legacy_api'");

	assert_int_equal(cfg_file(&c, "legacy_retries=11\n", &d), -EINVAL);
	assert_diag(&d, "`legacy_retries': invalid value `11' (expected 0-10)");
	assert_int_equal(cfg_file(&c, "legacy_retries=-1\n", &d), -EINVAL);
	assert_int_equal(cfg_file(&c, "legacy_retries=10\n", &d), 0);
	assert_int_equal(c.legacy.retries, 10);
	assert_int_equal(cfg_file(&c, "legacy_bogus=1\n", &d), -EINVAL);
	assert_diag(&d, "unknown key `legacy_bogus'");
	assert_int_equal(cfg_file(&c, "legacy_credentials=etc/cred\n", &d), -EINVAL);
	assert_diag(&d, "`legacy_credentials'");
	assert_int_equal(cfg_file(&c, "legacy_pin=md5//abc\n", &d), -EINVAL);
	assert_int_equal(cfg_file(&c, "legacy_big_max=0\n", &d), -EINVAL);

	assert_false(c.migrate);
	assert_int_equal(cfg_file(&c, "migrate=yes\n", &d), 0);
	assert_true(c.migrate);
	assert_false(c.migrate_finish);
	assert_int_equal(cfg_file(&c, "migrate=maybe\n", &d), -EINVAL);
	assert_diag(&d, "`migrate'");

	assert_int_equal(cfg_file(&c, "ip=10.0.2.15::::::\n", &d), -EINVAL);
	assert_diag(&d, "`ip'");
	open_defaults(&c);
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off", &d), 0);
	assert_string_equal(c.ip, "10.0.2.15::10.0.2.2:255.255.255.0::eth0:off");
}

static void roundtrip(const struct si_bootcfg *in)
{
	struct si_bootcfg a = *in, b;
	struct si_diag d = { { 0 } };
	char buf[8192];

	/* A CONFIG_LOCKDOWN build reads no lockdown=no. */
	a.lockdown = a.lockdown || ENABLE_LOCKDOWN;
	assert_int_equal(si_bootcfg_format(&a, buf, sizeof(buf)), 0);
	open_defaults(&b);
	b.lockdown = a.lockdown;
	if (si_bootcfg_parse_file(&b, buf, &d) < 0)
		fail_msg("%s in:\n%s", d.msg, buf);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_bootcfg_roundtrip(void **state)
{
	static const char file[] =
		"root=PARTLABEL=rootfs\n"
		"data=/dev/vdb\n"
		"keysources=legacy,tpm2\n"
		"ip=192.168.1.10::192.168.1.1:255.255.255.0:jetson:eth0:off:8.8.8.8\n"
		"net_timeout=20000\n"
		"migrate=yes\n"
		"migrate_finish=yes\n"
		"migrate_pcrs=7+15\n"
		"legacy_api=https://api.legacy.test:8443/prefix\n"
		"legacy_resource=r1.dev-7_a\n"
		"legacy_ca=/etc/sealinit/legacy-ca.pem\n"
		"legacy_pin=sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=\n"
		"legacy_fingerprint=dt-serial,mac:eth0,file:/etc/machine-id\n"
		"legacy_credentials=/etc/sealinit/other.cred\n"
		"legacy_credentials_dev=PARTLABEL=config\n"
		"legacy_resolve=api.legacy.test:8443:10.0.2.2,cdn.legacy.test:443:10.0.2.3\n"
		"legacy_connect_timeout=3000\n"
		"legacy_timeout=9000\n"
		"legacy_retries=4\n"
		"legacy_deadline=120000\n"
		"legacy_big_max=4194304\n";
	struct si_bootcfg a;
	struct si_diag d;

	(void)state;
	open_defaults(&a);
	roundtrip(&a);
	if (cfg_file(&a, file, &d) < 0)
		fail_msg("%s", d.msg);
	assert_int_equal(a.legacy.retries, 4);
	assert_int_equal(a.legacy.big_max, 4194304);
	assert_int_equal(a.migrate_pcrs, 1u << 7 | 1u << 15);
	assert_string_equal(a.legacy.credentials_dev, "PARTLABEL=config");
	roundtrip(&a);
	/* Values back to empty also round-trip: empty api, no migrate PCRs. */
	assert_int_equal(si_bootcfg_parse_file(&a, "legacy_api=\nmigrate_pcrs=\nlegacy_ca=\nip=off\n", &d), 0);
	roundtrip(&a);
}

/* Fill the stack below this frame, so that a callee's uninitialised local
 * holds these bytes rather than whatever a previous call left there. */
__attribute__((noinline)) static void dirty_stack(int byte)
{
	volatile char junk[32 * 1024];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)byte;
}

/* One source: the unused slot must not depend on the stack, or the
 * printed configuration does not parse back to the same bytes. */
static void test_bootcfg_roundtrip_one_source(void **state)
{
	static const char *const specs[] = { "keysources=legacy\n", "keysources=tpm2\n" };
	struct si_bootcfg a, b;
	struct si_diag d = { { 0 } };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		open_defaults(&a);
		open_defaults(&b);
		dirty_stack(0xa5);
		assert_int_equal(si_bootcfg_parse_file(&a, specs[i], &d), 0);
		dirty_stack(0x5a);
		assert_int_equal(si_bootcfg_parse_file(&b, specs[i], &d), 0);
		assert_int_equal(a.nsources, 1);
		if (memcmp(&a, &b, sizeof(a)))
			fail_msg("`%.*s': the same input parsed to different bytes (sources[1] %d vs %d)",
				 (int)strlen(specs[i]) - 1, specs[i], (int)a.sources[1], (int)b.sources[1]);
		roundtrip(&a);
	}
}

/* The header list's copies of the bearer token are wiped before they are
 * freed: every byte of every header, and the list itself stays walkable. */
static void test_wipe_headers(void **state)
{
	struct curl_slist b = { strdup("X-Hardware-Fingerprint: 00ff"), NULL };
	struct curl_slist a = { strdup("Authorization: Bearer s3cr3t-token"), &b };
	size_t la = strlen(a.data), lb = strlen(b.data);

	(void)state;
	assert_non_null(a.data);
	assert_non_null(b.data);
	si_legacy_wipe_headers(&a);
	assert_true(all_zero(a.data, la));
	assert_true(all_zero(b.data, lb));
	si_legacy_wipe_headers(NULL);
	free(a.data);
	free(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_valid),
		cmocka_unit_test(test_login_bad),
		cmocka_unit_test(test_login_lengths),
		cmocka_unit_test(test_login_size_cap),
		cmocka_unit_test(test_small_valid),
		cmocka_unit_test(test_small_caps),
		cmocka_unit_test(test_small_bad),
		cmocka_unit_test_setup_teardown(test_fingerprint, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_creds, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_creds_content, setup_tmp, teardown_tmp),
		cmocka_unit_test(test_net_parse),
		cmocka_unit_test(test_net_parse_errors),
		cmocka_unit_test(test_bootcfg_keys),
		cmocka_unit_test(test_bootcfg_roundtrip),
		cmocka_unit_test(test_bootcfg_roundtrip_one_source),
		cmocka_unit_test(test_wipe_headers),
	};
	return cmocka_run_group_tests_name("legacy_parse", tests, NULL, NULL);
}
