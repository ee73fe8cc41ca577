/* SPDX-License-Identifier: MIT */
/* Token JSON: real tokens written by systemd 252 and by sealinit parse and
 * re-emit byte for byte; every malformed field is rejected by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "core/b64.h"
#include "core/errors.h"
#include "core/token.h"

/* systemd-cryptenroll 252 --tpm2-pcrs=7+16 against swtpm */
static const char tok_systemd252[] =
	"{\"type\":\"systemd-tpm2\",\"keyslots\":[\"1\"],\"tpm2-blob\":\"AJ4AIGAtjZ/jq4KYY9JQFYca0I"
	"Milue3b+BJlmWWXLbRHSoPABDshKlUaV6wlTZUDnDBA+RA0O80cSdE0ABXrYCbYUhoce0gBKUsujnWQsx8YXEEi3DG"
	"cRGE+5RkhdFxPzbbtSxLZTaCBRY2b4BCLMuKFvj7aFAKRmHATLg/o+4bUAe27Q40zrt5IZnkH66piwYu/rpUOQUvA0"
	"XaL7VL1wBOAAgACwAAABIAICqiDRAmbiWXoMDBSuHV2w6pO0wg12xm0DLkkQQTy1+oABAAIATbNXd5klENSKaJ6gbt"
	"PaTQAu++2F/tyPHDrc3AoIcT\",\"tpm2-pcrs\":[7,16],\"tpm2-pcr-bank\":\"sha256\",\"tpm2-primar"
	"y-alg\":\"ecc\",\"tpm2-policy-hash\":\"2aa20d10266e2597a0c0c14ae1d5db0ea93b4c20d76c66d032e"
	"4910413cb5fa8\",\"tpm2-pin\":false}";

/* sealinit enroll --pcrs 7+15 against swtpm: adds tpm2_srk */
static const char tok_sealinit[] =
	"{\"type\":\"systemd-tpm2\",\"keyslots\":[\"2\"],\"tpm2-blob\":\"AJ4AIMCkCn8MtF3FlF7gSGSg6X"
	"pFcp8xC/ULU805fD5bUDfhABCiQ5S/raltIdWDteKMwhcW9/5tttBvVe50537j3SlIwirvj7sYVv0/7i3Xu6b2Fcm9"
	"Ykvsy7usP03jYX1Y8WtyRrj88YynryJo+x3flk7UsQlL91gKoXy07L/Q2EbBJCqKFEafZ64GiRFStpQStSkz1yq7Hj"
	"//MsLG0QBOAAgACwAABBIAIPYtE6jfoaPcpbfxYhRpKr0yGImBThfVKrnoMGI+uPFdABAAIK+Z5JZJMMLGORh1D5B9"
	"hAayO615RKbV4+XElqjX2V4l\",\"tpm2-pcrs\":[7,15],\"tpm2-pcr-bank\":\"sha256\",\"tpm2-primar"
	"y-alg\":\"ecc\",\"tpm2-policy-hash\":\"f62d13a8dfa1a3dca5b7f16214692abd321889814e17d52ab9e"
	"830623eb8f15d\",\"tpm2-pin\":false,\"tpm2_srk\":\"gQAAAQAiAAuDwQlun16UQ8/WsYYhFc6uHyj6obHB"
	"/yW105+kUEYp5gAAAAEAWgAjAAsAAwByAAAABgCAAEMAEAADABAAINYSysHZhG4SgHqMaQNrqdkzSnrkvUlkPlNdG3"
	"b52LgpACCXOrzTH1XaIdi6B/yiZAPrVq9x/HrD37FXyUuM9hb9hA==\"}";

static void test_parse_systemd252(void **state)
{
	struct si_token *t = calloc(1, sizeof(*t));
	struct si_diag d = { { 0 } };
	char *out = NULL;

	(void)state;
	if (si_token_parse(tok_systemd252, t, &d))
		fail_msg("%s", d.msg);
	assert_int_equal(t->keyslot, 1);
	assert_int_equal(t->pcr_mask, 1u << 7 | 1u << 16);
	assert_int_equal(t->pcr_bank, 0x000B);
	assert_int_equal(t->primary_alg, 0x0023);
	assert_false(t->pin);
	assert_int_equal(t->srk_len, 0);
	assert_int_equal(t->policy_hash_len, 32);
	assert_true(t->blob_private_len > 0 && t->blob_private_len < t->blob_len);
	/* Re-emitted byte for byte: same fields, same order, same encoding. */
	assert_int_equal(si_token_format(t, &out), 0);
	assert_string_equal(out, tok_systemd252);
	free(out);
	free(t);
}

static void test_roundtrip_sealinit(void **state)
{
	struct si_token *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct si_diag d = { { 0 } };
	char *out = NULL;

	(void)state;
	if (si_token_parse(tok_sealinit, a, &d))
		fail_msg("%s", d.msg);
	assert_int_equal(a->keyslot, 2);
	assert_true(a->srk_len > 0);
	assert_int_equal(si_token_format(a, &out), 0);
	assert_string_equal(out, tok_sealinit);
	assert_int_equal(si_token_parse(out, b, &d), 0);
	assert_memory_equal(a, b, sizeof(*a));
	free(out);
	free(a);
	free(b);
}

/* Newer systemd fields, built from the documented format: tpm2_salt and
 * tpm2_srk on a PIN token. */
static void test_newer_fields(void **state)
{
	struct si_token *t = calloc(1, sizeof(*t));
	struct json_object *o = json_tokener_parse(tok_sealinit);
	struct si_diag d = { { 0 } };
	uint8_t salt[16];
	char b64[SI_B64_LEN(16) + 1];
	char *out = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	si_b64_encode(b64, salt, sizeof(salt));
	json_object_object_add(o, "tpm2-pin", json_object_new_boolean(1));
	json_object_object_add(o, "tpm2_salt", json_object_new_string(b64));
	if (si_token_parse(json_object_to_json_string(o), t, &d))
		fail_msg("%s", d.msg);
	assert_true(t->pin);
	assert_int_equal(t->salt_len, 16);
	assert_memory_equal(t->salt, salt, 16);
	assert_true(t->srk_len > 0);
	assert_int_equal(si_token_format(t, &out), 0);
	assert_non_null(strstr(out, "\"tpm2_salt\":\"AAECAwQFBgcICQoLDA0ODw==\""));
	free(out);
	json_object_put(o);
	free(t);
}

enum op { SET, DEL, RAW };

struct mutation {
	enum op op;
	const char *field;
	const char *value; /* JSON text for SET, the whole token for RAW */
	const char *expect_field;
};

static const struct mutation bad[] = {
	{ RAW, NULL, "not json", "(token)" },
	{ RAW, NULL, "[1,2]", "(token)" },
	{ SET, "type", "\"luks2-keyring\"", "type" },
	{ DEL, "type", NULL, "type" },
	{ SET, "keyslots", "[]", "keyslots" },
	{ SET, "keyslots", "[1]", "keyslots" },
	{ SET, "keyslots", "[\"x\"]", "keyslots" },
	{ SET, "keyslots", "[\"32\"]", "keyslots" },
	{ SET, "keyslots", "[\"-1\"]", "keyslots" },
	{ SET, "keyslots", "[\"1 \"]", "keyslots" },
	{ DEL, "keyslots", NULL, "keyslots" },
	{ DEL, "tpm2-pcrs", NULL, "tpm2-pcrs" },
	{ SET, "tpm2-pcrs", "\"7\"", "tpm2-pcrs" },
	{ SET, "tpm2-pcrs", "[24]", "tpm2-pcrs" },
	{ SET, "tpm2-pcrs", "[-1]", "tpm2-pcrs" },
	{ SET, "tpm2-pcrs", "[\"7\"]", "tpm2-pcrs" },
	{ SET, "tpm2-pcr-bank", "\"md5\"", "tpm2-pcr-bank" },
	{ SET, "tpm2-pcr-bank", "11", "tpm2-pcr-bank" },
	{ SET, "tpm2-primary-alg", "\"dsa\"", "tpm2-primary-alg" },
	{ SET, "tpm2-primary-alg", "true", "tpm2-primary-alg" },
	{ DEL, "tpm2-policy-hash", NULL, "tpm2-policy-hash" },
	{ SET, "tpm2-policy-hash", "\"zz\"", "tpm2-policy-hash" },
	{ SET, "tpm2-policy-hash", "\"2aa20d10\"", "tpm2-policy-hash" },
	{ SET, "tpm2-policy-hash", "\"0000000000000000000000000000000000000000000000000000000000000000\"",
	  "tpm2-policy-hash" },
	{ SET, "tpm2-pin", "\"yes\"", "tpm2-pin" },
	{ SET, "tpm2-blob", "\"!!!!\"", "tpm2-blob" },
	{ SET, "tpm2-blob", "\"AJ4AIA==\"", "tpm2-blob" },
	{ SET, "tpm2-blob", "12", "tpm2-blob" },
	{ SET, "tpm2-blob", "\"\"", "tpm2-blob" },
	{ DEL, "tpm2-blob", NULL, "tpm2-blob" },
	{ SET, "tpm2_srk", "\"%%%%\"", "tpm2_srk" },
	{ SET, "tpm2_salt", "123", "tpm2_salt" },
	{ SET, "tpm2_pubkey", "\"@@@@\"", "tpm2_pubkey" },
	{ SET, "tpm2_pubkey_pcrs", "[99]", "tpm2_pubkey_pcrs" },
	{ SET, "tpm2_pcrlock", "\"x\"", "tpm2_pcrlock" },
	/* A counter without a signed policy, and indexes out of the owner
	 * range or not written as "0x" and 8 digits. */
	{ SET, "sealinit_counter_nv", "\"0x01805e00\"", "sealinit_counter_nv" },
	{ SET, "sealinit_counter_nv", "\"0x01c00002\"", "sealinit_counter_nv" },
	{ SET, "sealinit_counter_nv", "\"0x1805e00\"", "sealinit_counter_nv" },
	{ SET, "sealinit_counter_nv", "\"0x0180-e00\"", "sealinit_counter_nv" },
	{ SET, "sealinit_counter_nv", "25189888", "sealinit_counter_nv" },
};

static void test_malformed(void **state)
{
	struct si_token *t = calloc(1, sizeof(*t));
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct mutation *m = &bad[i];
		struct json_object *o = json_tokener_parse(tok_systemd252);
		struct si_diag d = { { 0 } };
		const char *json;
		char want[64];
		int r;

		if (m->op == SET)
			json_object_object_add(o, m->field, json_tokener_parse(m->value));
		else if (m->op == DEL)
			json_object_object_del(o, m->field);
		json = m->op == RAW ? m->value : json_object_to_json_string(o);
		r = si_token_parse(json, t, &d);
		if (r != -SI_EBADTOKEN)
			fail_msg("mutation %zu (%s) accepted: r=%d", i, m->field ? m->field : m->value, r);
		snprintf(want, sizeof(want), "`%s'", m->expect_field);
		if (!strstr(d.msg, want))
			fail_msg("mutation %zu: message `%s' does not name %s", i, d.msg, want);
		json_object_put(o);
	}
	free(t);
}

/* A blob with bytes after the public part is refused, not ignored. */
static void test_trailing_blob_bytes(void **state)
{
	struct si_token *t = calloc(1, sizeof(*t));
	struct json_object *o = json_tokener_parse(tok_systemd252);
	struct si_diag d = { { 0 } };
	uint8_t blob[SI_TOKEN_BLOB_MAX];
	char *b64;
	long n;

	(void)state;
	n = si_b64_decode(blob, sizeof(blob), json_object_get_string(json_object_object_get(o, "tpm2-blob")));
	assert_true(n > 0);
	blob[n++] = 0;
	b64 = malloc(SI_B64_LEN((size_t)n) + 1);
	si_b64_encode(b64, blob, (size_t)n);
	json_object_object_add(o, "tpm2-blob", json_object_new_string(b64));
	assert_int_equal(si_token_parse(json_object_to_json_string(o), t, &d), -SI_EBADTOKEN);
	assert_non_null(strstr(d.msg, "trailing"));
	free(b64);
	json_object_put(o);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_systemd252),
		cmocka_unit_test(test_roundtrip_sealinit),
		cmocka_unit_test(test_newer_fields),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_trailing_blob_bytes),
	};
	return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
