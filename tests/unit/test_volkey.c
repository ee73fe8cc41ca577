/* SPDX-License-Identifier: MIT */
/* The volume's identity (core/volkey.c), as systemd-cryptsetup computes it
 * for fixate-volume-key= and tpm2-measure-pcr=. The expected values were
 * computed outside this code, with OpenSSL:
 *   printf '%s' "$PREFIX" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$VK
 * with VK = 00 01 02 ... 3f (64 bytes). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/b64.h"
#include "core/volkey.h"

#define UUID "0b9f1a8e-3c2d-4e5f-8a7b-6c5d4e3f2a1b"

static uint8_t vk[64];

static int setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vk); i++)
		vk[i] = (uint8_t)i;
	return 0;
}

static void test_prefix(void **state)
{
	char p[SI_VOLKEY_PREFIX_MAX];

	(void)state;
	assert_int_equal(si_volkey_prefix("sealdata", UUID, p, sizeof(p)), 0);
	assert_string_equal(p, "cryptsetup:sealdata:" UUID);
	/* ':' and '\' and control bytes are escaped, lower-case hex; a space
	 * and other printable bytes are not. */
	assert_int_equal(si_volkey_prefix("data:1\\x\t", UUID, p, sizeof(p)), 0);
	assert_string_equal(p, "cryptsetup:data\\x3a1\\x5cx\\x09:" UUID);
	assert_int_equal(si_volkey_prefix("a b\x7f", "u", p, sizeof(p)), 0);
	assert_string_equal(p, "cryptsetup:a b\\x7f:u");
	assert_int_equal(si_volkey_prefix("", UUID, p, sizeof(p)), -EINVAL);
	assert_int_equal(si_volkey_prefix("x", "", p, sizeof(p)), -EINVAL);
	assert_int_equal(si_volkey_prefix("x", "bad uuid", p, sizeof(p)), -EINVAL);
	assert_int_equal(si_volkey_prefix("x", "bad\nuuid", p, sizeof(p)), -EINVAL);
	/* Exactly full, and one byte short. */
	assert_int_equal(si_volkey_prefix("ab", "u", p, 17), 0);
	assert_string_equal(p, "cryptsetup:ab:u");
	assert_int_equal(si_volkey_prefix("ab", "u", p, 16), 0);
	assert_int_equal(si_volkey_prefix("ab", "u", p, 15), -ENOSPC);
	assert_int_equal(si_volkey_prefix("a:", "u", p, 12), -ENOSPC);
}

static void test_id(void **state)
{
	char id[SI_VOLKEY_HEX_LEN + 1];
	char p[SI_VOLKEY_PREFIX_MAX];

	(void)state;
	assert_int_equal(si_volkey_prefix("sealdata", UUID, p, sizeof(p)), 0);
	assert_int_equal(si_volkey_id(vk, sizeof(vk), p, id), 0);
	assert_string_equal(id, "bb5f54cf0b074f9a9b0c3862c028c1f0b61236c5c4436d4df90f5619357c25f0");
	assert_int_equal(si_volkey_prefix("data:1\\x\t", UUID, p, sizeof(p)), 0);
	assert_int_equal(si_volkey_id(vk, sizeof(vk), p, id), 0);
	assert_string_equal(id, "bb56bf687c933c6ba15710a222e3140a4849685276f7b7c06f5bfc3ca7d828bc");
	/* systemd's prefix when it has no volume name, key "secret":
	 *   printf %s cryptsetup:luks-uuid:uuid | openssl dgst -sha256 -hmac secret */
	assert_int_equal(si_volkey_id((const uint8_t *)"secret", 6, "cryptsetup:luks-uuid:uuid", id), 0);
	assert_string_equal(id, "371c9bab32f3d376a20e86b0abaed10c48c682e93c14689b3a7f03c746cff619");
	/* One bit of the key, or the name, changes the id. */
	vk[0] ^= 1;
	assert_int_equal(si_volkey_prefix("sealdata", UUID, p, sizeof(p)), 0);
	assert_int_equal(si_volkey_id(vk, sizeof(vk), p, id), 0);
	vk[0] ^= 1;
	assert_string_not_equal(id, "bb5f54cf0b074f9a9b0c3862c028c1f0b61236c5c4436d4df90f5619357c25f0");
	assert_int_equal(si_volkey_id(vk, 0, p, id), -EINVAL);
}

static void check_digest(uint16_t bank, const char *hex)
{
	uint8_t d[SI_VOLKEY_DIGEST_MAX];
	char out[2 * SI_VOLKEY_DIGEST_MAX + 1];
	char p[SI_VOLKEY_PREFIX_MAX];
	int n;

	assert_int_equal(si_volkey_prefix("sealdata", UUID, p, sizeof(p)), 0);
	n = si_volkey_digest(bank, vk, sizeof(vk), p, d);
	assert_int_equal(n, (int)strlen(hex) / 2);
	si_hex_encode(out, d, (size_t)n);
	assert_string_equal(out, hex);
}

/* Each bank gets the HMAC under its own hash; sha256 is the id. */
static void test_digests(void **state)
{
	uint8_t d[SI_VOLKEY_DIGEST_MAX];

	(void)state;
	check_digest(0x0004, "b421afdf5a52125f5775d8620bc493c0a30b4c56");
	check_digest(0x000B, "bb5f54cf0b074f9a9b0c3862c028c1f0b61236c5c4436d4df90f5619357c25f0");
	check_digest(0x000C, "5acd7c5cad662b31166ec5bea0618ec1a3ee9e4a3868ee7d871fab08fcd80194"
			     "8e28f4d9afcde3f3a7d232dc03cc9f2e");
	check_digest(0x000D, "e0e8d1bcbb7ae27e638ae6c64d486a41994c974562520903278e19b42a074c15"
			     "42bfe03d0c09d1727d1103be9f399a3ddca17af8abc901558b2cbf3cc5e2e356");
	assert_int_equal(si_volkey_digest(0x0012, vk, sizeof(vk), "x", d), -EINVAL);
}

static void test_valid_equal(void **state)
{
	const char *a = "bb5f54cf0b074f9a9b0c3862c028c1f0b61236c5c4436d4df90f5619357c25f0";

	(void)state;
	assert_true(si_volkey_id_valid(a));
	assert_false(si_volkey_id_valid("BB5F54CF0B074F9A9B0C3862C028C1F0B61236C5C4436D4DF90F5619357C25F0"));
	assert_false(si_volkey_id_valid("bb5f54cf0b074f9a9b0c3862c028c1f0b61236c5c4436d4df90f5619357c25f"));
	assert_false(si_volkey_id_valid("bb5f54cf0b074f9a9b0c3862c028c1f0b61236c5c4436d4df90f5619357c25f00"));
	assert_false(si_volkey_id_valid("gb5f54cf0b074f9a9b0c3862c028c1f0b61236c5c4436d4df90f5619357c25f0"));
	assert_false(si_volkey_id_valid(""));
	assert_true(si_volkey_id_equal(a, a));
	assert_false(si_volkey_id_equal(a, "bb5f54cf0b074f9a9b0c3862c028c1f0b61236c5c4436d4df90f5619357c25f1"));
	assert_false(si_volkey_id_equal(a, "short"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_digests),
		cmocka_unit_test(test_valid_equal),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
