/* SPDX-License-Identifier: MIT */
/* The legacy scheme's crypto against vectors made independently with
 * openssl (dgst -sha384, enc -aes-256-cbc). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/b64.h"
#include "core/legacy/crypto.h"

static const struct si_legacy_creds creds = {
	"ops@example.com", "hunter2", "serial:1423021234567", "azaion-salt-v1"
};
/* printf 'ops@example.com\0hunter2\0serial:1423021234567\0azaion-salt-v1' | openssl dgst -sha384 */
#define KEY "44887d6ff59512e6c77cbebfb7ff368ff6be638f1dfeb6aa41a289b38a068e40"
#define IV  "12c56e2e560f73993063c46e98f611dc"

static void hex(uint8_t *out, size_t cap, const char *h)
{
	assert_int_equal(si_hex_decode(out, cap, h), (long)(strlen(h) / 2));
}

static void test_derive(void **state)
{
	uint8_t key[32], iv[16], want_key[32], want_iv[16];
	struct si_legacy_creds c = creds;

	(void)state;
	hex(want_key, sizeof(want_key), KEY);
	hex(want_iv, sizeof(want_iv), IV);
	assert_int_equal(si_legacy_derive(&c, key, iv), 0);
	assert_memory_equal(key, want_key, 32);
	assert_memory_equal(iv, want_iv, 16);
	/* Every field counts. */
	c.fingerprint = "serial:1423021234568";
	assert_int_equal(si_legacy_derive(&c, key, iv), 0);
	assert_memory_not_equal(key, want_key, 32);
	c.fingerprint = "";
	assert_int_equal(si_legacy_derive(&c, key, iv), -EINVAL);
	c.fingerprint = NULL;
	assert_int_equal(si_legacy_derive(&c, key, iv), -EINVAL);
}

struct vec {
	const char *ct, *sha, *pt;  /* pt NULL: must be refused */
};

static const struct vec vecs[] = {
	{ "c3389bd5477692c656a7389d00a087315864fdabb0aa907d3cf4ec0a5cc1fef8",
	  "a90924393134c35f72f794748260e98e090078b34ff31effe94cf55247beeaab",
	  "luks-passphrase-0123456789" },
	/* two full blocks: a whole block of padding */
	{ "f848e4203c0021e6a11e5ab549496e3201154309d07495ab4d68eb16a9cf30fd"
	  "608331b80a15f9c92ec554a1650cb1dc",
	  "def7c15b2b9fe01d5b8aa7539cce2b3c11762fd03a6d5504cc5d258f903dc6bf",
	  "0123456789abcdef0123456789abcdef" },
	/* right digest, bad padding: last byte 0x0a, bytes before it not 0x0a */
	{ "83725838a2c89fb6e4b60fa2b1a8e2e6",
	  "dbb11c8bc08a1f3ff9e442a5fb7a727519d8609ec8f1fa8e90d1ec5452954ff1", NULL },
	/* right digest, bad padding: ... 03 02 03 */
	{ "ea1dd4045f890fec354440f4deb26c8a",
	  "0375014b944d0c5fc393607d25f6c406654a7b1095102c9b1d045fa110ecdc2b", NULL },
};

static void test_decrypt(void **state)
{
	uint8_t key[32], iv[16], ct[64], sha[32], out[64];
	size_t i, n, len;

	(void)state;
	hex(key, sizeof(key), KEY);
	hex(iv, sizeof(iv), IV);
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		n = strlen(vecs[i].ct) / 2;
		hex(ct, sizeof(ct), vecs[i].ct);
		hex(sha, sizeof(sha), vecs[i].sha);
		if (vecs[i].pt) {
			assert_int_equal(si_legacy_decrypt(key, iv, ct, n, sha, out, &len), 0);
			assert_int_equal(len, strlen(vecs[i].pt));
			assert_memory_equal(out, vecs[i].pt, len);
		} else {
			assert_int_equal(si_legacy_decrypt(key, iv, ct, n, sha, out, &len), -EBADMSG);
			assert_int_equal(len, 0);
		}
	}
}

/* A flipped ciphertext bit is refused by the digest before decryption,
 * with the same code a padding failure gets: no oracle. */
static void test_integrity_before_decrypt(void **state)
{
	uint8_t key[32], iv[16], ct[64], sha[32], out[64];
	size_t n, len = 99;

	(void)state;
	hex(key, sizeof(key), KEY);
	hex(iv, sizeof(iv), IV);
	n = strlen(vecs[0].ct) / 2;
	hex(ct, sizeof(ct), vecs[0].ct);
	hex(sha, sizeof(sha), vecs[0].sha);
	ct[3] ^= 0x01;
	memset(out, 0x5a, sizeof(out));
	assert_int_equal(si_legacy_decrypt(key, iv, ct, n, sha, out, &len), -EBADMSG);
	assert_int_equal(len, 0);
	/* Nothing was decrypted into out. */
	assert_int_equal(out[0], 0x5a);
	/* Not a whole number of blocks. */
	assert_int_equal(si_legacy_decrypt(key, iv, ct, n - 1, sha, out, &len), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derive),
		cmocka_unit_test(test_decrypt),
		cmocka_unit_test(test_integrity_before_decrypt),
	};
	return cmocka_run_group_tests_name("legacy", tests, NULL, NULL);
}
