/* SPDX-License-Identifier: MIT */
/*
 * The device record's policy and Name (record.h) against vectors computed
 * elsewhere, and the signature file never giving a record's entry to a
 * token or a token's to the record.
 *
 * The key Name is 0x000b || SHA-256("sealinit test fleet key"). The
 * vectors came two ways, which agree:
 * - Python's hashlib, from TPM 2.0 Part 3 (PolicyAuthorize 23.16,
 *   PolicyCommandCode 23.11) and Part 2 13.5 (TPMS_NV_PUBLIC);
 * - tpm2-tools 5 trial sessions on swtpm: `tpm2_policypcr -l sha256:16'
 *   (zero) then `tpm2_policycommandcode TPM2_CC_NV_Write' (approved);
 *   `tpm2_policyauthorize -n NAME -q REF -i approved' (authPolicy); and
 *   `tpm2_nvdefine 0x01805e01 -s 32 -a "policywrite|authread|no_da" -L
 *   authPolicy' then `tpm2_nvreadpublic' (the unwritten Name).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/b64.h"
#include "core/errors.h"
#include "core/sigfile.h"
#include "core/tpm/policy.h"
#include "core/tpm/record.h"

#define KEY_NAME "000b18b966b2f3b36857c775090627e9d0940f6436b7331af7a045739df1ee6cb116"
/* PolicyPCR(sha256:16 = zero), test_policy.c's first vector. */
#define PCR16_ZERO "bff2d58e9813f97cefc14f72ad8133bc7092d652b7c877959254af140c841f36"
#define AUTH_POLICY "5d7051f64810a1932cf026a7e62d898c62ab3c9df6d9c67462c18075c724418a"
#define NAME_UNWRITTEN "000b2c141bd86a35aaf03959b8302be7ed915bee42f92de4d1d22e586ec2da87360a"
#define NAME_WRITTEN "000bf865877ede646979c883d4d9ab59aa0a0986d67343d73f34a99420ce1c5d0e1c"
#define APPROVED "0d56808244023d8724faac8ee02224e97e40b66b73ba162b09078f849d4a9f33"

static void key_name(uint8_t name[34])
{
	assert_int_equal(si_hex_decode(name, 34, KEY_NAME), 34);
}

static void assert_hex(const uint8_t *b, size_t len, const char *expect)
{
	char hex[2 * SI_NV_NAME_SIZE + 1];

	si_hex_encode(hex, b, len);
	if (strcmp(hex, expect))
		fail_msg("got %s, expected %s", hex, expect);
}

static void test_auth_policy(void **state)
{
	uint8_t name[34], d[32];
	char hex[65];

	(void)state;
	key_name(name);
	assert_int_equal(si_record_auth_policy(name, sizeof(name), d), 0);
	assert_hex(d, 32, AUTH_POLICY);
	/* Another key, another policy. */
	name[33] ^= 1;
	assert_int_equal(si_record_auth_policy(name, sizeof(name), d), 0);
	si_hex_encode(hex, d, 32);
	assert_string_not_equal(hex, AUTH_POLICY);
}

static void test_name(void **state)
{
	uint8_t key[34], name[SI_NV_NAME_SIZE], other[SI_NV_NAME_SIZE];

	(void)state;
	key_name(key);
	assert_int_equal(si_record_name(SI_RECORD_DEFAULT, key, sizeof(key), false, name), 0);
	assert_hex(name, sizeof(name), NAME_UNWRITTEN);
	assert_int_equal(si_record_name(SI_RECORD_DEFAULT, key, sizeof(key), true, name), 0);
	assert_hex(name, sizeof(name), NAME_WRITTEN);
	/* The index is in the Name too. */
	assert_int_equal(si_record_name(SI_RECORD_DEFAULT + 1, key, sizeof(key), true, other), 0);
	assert_memory_not_equal(name, other, sizeof(name));
}

static void test_approved(void **state)
{
	uint8_t pcr[32], d[32];

	(void)state;
	assert_int_equal(si_hex_decode(pcr, 32, PCR16_ZERO), 32);
	assert_int_equal(si_record_approved(pcr, d), 0);
	assert_hex(d, 32, APPROVED);
	/* The input is not changed: the token's pol stays what it was. */
	assert_hex(pcr, 32, PCR16_ZERO);
}

/*
 * One release signed for tokens and the record (sign --record): two
 * entries for the same PCRs and key, the token's pol the PolicyPCR digest,
 * the record's its approved policy. Each lookup picks its own only; a
 * file with only the other one has no entry for it.
 */
static char *entry(uint32_t pcr, const char *pol, const char *sig)
{
	char *s = malloc(512);

	assert_non_null(s);
	snprintf(s, 512, "{\"pcrs\":[%u],\"pkfp\":\"%064d\",\"pol\":\"%s\",\"sig\":\"%s\"}", pcr,
		 1, pol, sig);
	return s;
}

static void test_sigfile_kinds(void **state)
{
	uint8_t pkfp[32], pcr[32], approved[32];
	char *tok = entry(16, PCR16_ZERO, "dG9rZW4="), *rec = entry(16, APPROVED, "cmVjb3Jk");
	char both[1200], only_tok[600], only_rec[600];
	struct si_sig *sigs = NULL;
	struct si_diag d;
	size_t n = 0;

	(void)state;
	assert_int_equal(si_hex_decode(pkfp, 32,
				       "0000000000000000000000000000000000000000000000000000000000000001"), 32);
	assert_int_equal(si_hex_decode(pcr, 32, PCR16_ZERO), 32);
	assert_int_equal(si_record_approved(pcr, approved), 0);
	snprintf(both, sizeof(both), "{\"sha256\":[%s,%s]}", rec, tok);
	snprintf(only_tok, sizeof(only_tok), "{\"sha256\":[%s]}", tok);
	snprintf(only_rec, sizeof(only_rec), "{\"sha256\":[%s]}", rec);

	/* Control: each finds its own in the file with both, the record's
	 * first in the file. */
	assert_int_equal(si_sigfile_match(both, 1u << 16, pkfp, pcr, &sigs, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sigs[0].index, 1);
	assert_memory_equal(sigs[0].sig, "token", 5);
	free(sigs);
	assert_int_equal(si_sigfile_match(both, 1u << 16, pkfp, approved, &sigs, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sigs[0].index, 0);
	assert_memory_equal(sigs[0].sig, "record", 6);
	free(sigs);
	sigs = NULL;

	/* A token's lookup never takes the record's entry... */
	assert_int_equal(si_sigfile_match(only_rec, 1u << 16, pkfp, pcr, &sigs, &n, &d), -SI_ENOSIG);
	assert_null(sigs);
	/* ...and the record's never the token's. */
	assert_int_equal(si_sigfile_match(only_tok, 1u << 16, pkfp, approved, &sigs, &n, &d),
			 -SI_ENOSIG);
	assert_null(sigs);
	free(tok);
	free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_policy),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_approved),
		cmocka_unit_test(test_sigfile_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
