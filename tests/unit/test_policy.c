/* SPDX-License-Identifier: MIT */
/* Policy digests against vectors computed elsewhere: tpm2-tools trial
 * sessions on swtpm (tpm2_policypcr / tpm2_policyauthvalue /
 * tpm2_policycommandcode / tpm2_policynv, tpm2_nvreadpublic), systemd
 * 252's own tokens, and Python's hashlib. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/b64.h"
#include "core/tpm/policy.h"

struct vec {
	const char *what;
	uint16_t bank;
	uint32_t mask;
	const char *values_hex; /* NULL: repeat fill byte */
	uint8_t fill;
	size_t nvalues;
	int auth_value;
	const char *expect;
};

static const struct vec vecs[] = {
	/* also systemd-cryptenroll --tpm2-pcrs=16 on a fresh swtpm */
	{ "sha256:16 zero", 0x000B, 1u << 16, NULL, 0x00, 1, 0,
	  "bff2d58e9813f97cefc14f72ad8133bc7092d652b7c877959254af140c841f36" },
	/* also systemd-cryptenroll --tpm2-pcrs=7+16 --tpm2-with-pin=yes */
	{ "sha256:7,16 zero + authvalue", 0x000B, 1u << 7 | 1u << 16, NULL, 0x00, 2, 1,
	  "b825ab7da5b321aec265ca92d6b4e6c38dea18c2fee84b88d8db8793a8a92fd9" },
	{ "sha256:7,15 values", 0x000B, 1u << 7 | 1u << 15,
	  "3031323334353637383961626364656630313233343536373839616263646566"
	  "6665646362613938373635343332313066656463626139383736353433323130", 0, 2, 0,
	  "399eeb32062a19d603e6ef47b5d65268533fc745ccc5afa81c1eaa72eb6febc4" },
	{ "sha256:7,15 values + authvalue", 0x000B, 1u << 7 | 1u << 15,
	  "3031323334353637383961626364656630313233343536373839616263646566"
	  "6665646362613938373635343332313066656463626139383736353433323130", 0, 2, 1,
	  "afc582c37f5d8338ac84d8ed13be000c4f6ae93ff3079ddbb948d6987c6bb4ea" },
	{ "sha1:0 0xaa", 0x0004, 1u << 0, NULL, 0xaa, 1, 0,
	  "111618fd4a6a1d2e1b135096b18f01d669c6c2cc599b364b2486882cd93f421b" },
	/* more than 8 PCRs (hashlib) */
	{ "sha256:0-9,15 0x55", 0x000B, 0x3ffu | 1u << 15, NULL, 0x55, 11, 0,
	  "4711b9e100ad854777827563d23b1ae256a4fbb9471ea7655b9d3ad19586fa4c" },
};

static void test_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];
		size_t dsize = v->bank == 0x0004 ? 20 : 32;
		uint8_t values[24 * 64], digest[32] = { 0 };
		char hex[65];

		if (v->values_hex)
			assert_int_equal(si_hex_decode(values, sizeof(values), v->values_hex),
					 (long)(dsize * v->nvalues));
		else
			memset(values, v->fill, dsize * v->nvalues);
		assert_int_equal(si_policy_pcr(digest, v->bank, v->mask, values,
					       dsize * v->nvalues), 0);
		if (v->auth_value)
			assert_int_equal(si_policy_auth_value(digest), 0);
		si_hex_encode(hex, digest, 32);
		if (strcmp(hex, v->expect))
			fail_msg("%s: got %s, expected %s", v->what, hex, v->expect);
	}
}

static void test_changed_value_changes_digest(void **state)
{
	uint8_t values[32] = { 0 }, a[32] = { 0 }, b[32] = { 0 };

	(void)state;
	assert_int_equal(si_policy_pcr(a, 0x000B, 1u << 15, values, 32), 0);
	values[31] ^= 1;
	assert_int_equal(si_policy_pcr(b, 0x000B, 1u << 15, values, 32), 0);
	assert_memory_not_equal(a, b, 32);
}

static void test_pin_auth(void **state)
{
	static const uint8_t salt[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	uint8_t auth[32];
	char hex[65];

	(void)state;
	/* unsalted (systemd 252): SHA-256 of the PIN */
	assert_int_equal(si_pin_to_auth("1234", NULL, 0, auth), 0);
	si_hex_encode(hex, auth, 32);
	assert_string_equal(hex, "03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4");
	/* salted (tpm2_salt): SHA-256(base64(PBKDF2-HMAC-SHA256(pin, salt, 10000))),
	 * computed with Python's hashlib */
	assert_int_equal(si_pin_to_auth("1234", salt, sizeof(salt), auth), 0);
	si_hex_encode(hex, auth, 32);
	assert_string_equal(hex, "6484308d87c483f7baf8679cea0cc14c0b2aa24d6d00c35bea332b6f7e175064");
}

static void test_selection_bytes(void **state)
{
	uint8_t sel[10];
	static const uint8_t want[10] = { 0, 0, 0, 1, 0x00, 0x0B, 3, 0x80, 0x80, 0x01 };

	(void)state;
	si_policy_marshal_selection(sel, 0x000B, 1u << 7 | 1u << 15 | 1u << 16);
	assert_memory_equal(sel, want, sizeof(want));
}

/*
 * The rollback counter (policy.h), against what a TPM computes. On a
 * fresh swtpm with tpm2-tools 5.4:
 *
 *   tpm2_startauthsession -S t.ctx
 *   tpm2_policycommandcode -S t.ctx -L inc.pol TPM2_CC_NV_Increment     # authPolicy
 *   tpm2_flushcontext t.ctx
 *   tpm2_nvdefine 0x01805e00 -C o -s 8 -a "nt=counter|policywrite|authread|no_da" -L inc.pol
 *   tpm2_startauthsession -S p.ctx --policy-session
 *   tpm2_policycommandcode -S p.ctx TPM2_CC_NV_Increment
 *   tpm2_nvincrement 0x01805e00 -C 0x01805e00 -P session:p.ctx
 *   tpm2_nvreadpublic 0x01805e00                                         # name: (WRITTEN)
 *   tpm2_startauthsession -S t.ctx
 *   printf '\0\0\0\0\0\0\0\5' |
 *       tpm2_policynv -S t.ctx -i- -C 0x01805e00 0x01805e00 ule -L nv5.pol  # PolicyNV <= 5
 */
#define COUNTER_AUTH_POLICY "e8c02d3c5e701670cbaa327db1a2e9f3f41b2c22793e5c669a6e7f44b912f6c0"
#define COUNTER_NAME "000b3596a1cb85f8fafec67dacbe4aec0f49948351cb34b4dec259979d145d8d2f44"
#define COUNTER_NV_LE5 "0fefded93dacdc398f5ebfd293ece3fa19e16954968686bd630b5339f26df31b"

static void test_counter(void **state)
{
	uint8_t digest[SI_POLICY_SIZE], name[SI_NV_NAME_SIZE], other[SI_NV_NAME_SIZE];
	char hex[2 * SI_NV_NAME_SIZE + 1];

	(void)state;
	assert_int_equal(si_counter_auth_policy(digest), 0);
	si_hex_encode(hex, digest, sizeof(digest));
	assert_string_equal(hex, COUNTER_AUTH_POLICY);
	assert_int_equal(si_counter_name(SI_COUNTER_DEFAULT, name), 0);
	si_hex_encode(hex, name, sizeof(name));
	assert_string_equal(hex, COUNTER_NAME);
	memset(digest, 0, sizeof(digest));
	assert_int_equal(si_policy_counter(digest, name, 5), 0);
	si_hex_encode(hex, digest, sizeof(digest));
	assert_string_equal(hex, COUNTER_NV_LE5);
	/* Another index is another Name, another limit another digest. */
	assert_int_equal(si_counter_name(SI_COUNTER_DEFAULT + 1, other), 0);
	assert_memory_not_equal(name, other, sizeof(name));
	memset(digest, 0, sizeof(digest));
	assert_int_equal(si_policy_counter(digest, name, 6), 0);
	si_hex_encode(hex, digest, sizeof(digest));
	assert_string_not_equal(hex, COUNTER_NV_LE5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_changed_value_changes_digest),
		cmocka_unit_test(test_pin_auth),
		cmocka_unit_test(test_selection_bytes),
		cmocka_unit_test(test_counter),
	};
	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
