/* SPDX-License-Identifier: MIT */
/* Signed PCR policies, offline: the key's Name, fingerprint and
 * PolicyAuthorize digest against values computed independently (Python's
 * hashlib over the TPMT_PUBLIC bytes, `openssl rsa -RSAPublicKey_out'),
 * the signature against `openssl dgst -sha256 -sign', and the signature
 * file's parser: strict for sign, and for lookups skipping (and naming)
 * the entries that do not parse. The key is a throwaway made for this test. The
 * policy digest of the same key form matches systemd 252's token
 * (tests/host/signed_policy.sh compares them on a TPM). */
#include <errno.h>
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
#include "core/hash.h"
#include "core/pcrs.h"
#include "core/sigfile.h"
#include "core/tpm/authorize.h"
#include "core/tpm/policy.h"

static const char pub_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxg3ZILZqLG/UbnMYUKpl\n"
	"LjqV1PG5VeF+/fFfJEdqPwG280od2e5J8WfFoN2kPUCy0pzb01igw1y4j5ztVaSv\n"
	"r7zsGtuFfVdKpOnOIrfB4Qrdpv5WFXNXf/9/DZ7bV08XCN5FP2+zgn/QbBqZDLGJ\n"
	"l1qAu/OJCtFp5tlJOiI0xj7AG6dyLB/1ZpWYonzQoNsCxyST4fNluU0ouV2KZcYg\n"
	"DTvxf8OgXmMaTIGa3xTg/BGdQDYoYtFBAw4NRrAFPqdOM312dg5RvQRPr/tkOR9H\n"
	"C0FNmUsTmvlcpOW4riBS1KApjx6WoQSiAA2rylw0/eCRN+0vtOk63Fty02MxAQ5t\n"
	"tQIDAQAB\n"
	"-----END PUBLIC KEY-----\n";

static const char priv_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDGDdkgtmosb9Ru\n"
	"cxhQqmUuOpXU8blV4X798V8kR2o/AbbzSh3Z7knxZ8Wg3aQ9QLLSnNvTWKDDXLiP\n"
	"nO1VpK+vvOwa24V9V0qk6c4it8HhCt2m/lYVc1d//38NnttXTxcI3kU/b7OCf9Bs\n"
	"GpkMsYmXWoC784kK0Wnm2Uk6IjTGPsAbp3IsH/VmlZiifNCg2wLHJJPh82W5TSi5\n"
	"XYplxiANO/F/w6BeYxpMgZrfFOD8EZ1ANihi0UEDDg1GsAU+p04zfXZ2DlG9BE+v\n"
	"+2Q5H0cLQU2ZSxOa+Vyk5biuIFLUoCmPHpahBKIADavKXDT94JE37S+06TrcW3LT\n"
	"YzEBDm21AgMBAAECggEAC2pp7P5GsWgCvRkKOkAQE/GRiFQkhCQ6vyVl///Tymzt\n"
	"YCmR/elDvtPl6sdLu7IafJRJAW4W2hvikXiQn4KeE8mWbFfh4l8hMM8/L/YaiT+o\n"
	"lgML8DGVRg3yg1T4PJiU8dBp+mWUWb3HRCvmTXqAPUacq/i2GfcHHSTCGUU2eIS0\n"
	"UlqHuF2yCPvZs7f3K/V5j5XaI8XfuoimHWf4lZJQ6Nl7dkY33h/CefDkAo6YCKtO\n"
	"h+Ni2c69bUwZeWULSVAALtf8oQdQ8ISbIXO4pyWZfNCI+DdasM7jSM58w3dZnT07\n"
	"7l7QxEvpQXG4Tm79G50IEPpDE9Hrl6KlA0tn9bQS8wKBgQD5rLRbTbdZh/D7vB2a\n"
	"dX0gBHNwtGrtmSgsSmq9A4gpU6RSIz81oikchdYdwtM44FyTlZ2tEb9AAQaMneAP\n"
	"VRqOlXB1NiSjUSpUBJoCDFeKbxLG0mL66eIsG7ied2ZREf+KVI2Pet3+URCWsOgT\n"
	"V9Q11JxKCMn0bNfuLapB4X1gIwKBgQDLEloyJzLxJUz5XfCvyYgA2J8PwN0Ls0fg\n"
	"nDZ4kS3nVHy7D9LZyV1+7nWu0q94ptC1R6hS2FUdKej0NQbO0aQ7I2BLsZD5FLJT\n"
	"5tMPXoo6BhICkz6CVW1ANhsjgFnEukSloDz79Z2jsX9roYPilP6nw4bWjdz366+G\n"
	"RyfBEP5sRwKBgQDAJgcDwZLa54Ex63uI9OSgMGy7j04/n0BIndj5sG8pBwMOZ6vs\n"
	"1ej315SKgPbX7euxdVLM8DyUwHVO4O2gPynaE+5hdpLJ0dxWntf7vY3dr0/vDdk5\n"
	"K6hxs7/ozRFEUSquRhZQFwokADVZE7r3r/9UklTZsVvjraSc3C4M18IKqwKBgFf8\n"
	"v6/zZBMwQkXZ+itweslDEshUnHIxX/dmOAPNg8IzzUeP95/9q9EPqVXyW60/OjcR\n"
	"sVEUAuz797+4Khb6ptoo3dRuP45s9Ud9P/3szJ+PecY73l3Cfe/QgbnEJyEiRBQv\n"
	"db0GEyOWCMut0+MdA6nVAlt8ZD3XlNntgsAYiOSJAoGAP1i6cR6Fnd46y6xEVrKM\n"
	"WuQiWJv7FtGU4KlBRZBN7HgDRQIv9+ySHU7ge2knQKq5HMc00FVY9L9ugAVHtGTS\n"
	"ltqZvINga5RcThGHPrH/R+1NU3KeDs6f9wz4kZhN1wQM7B1fiuHulB3y6b1lcnBt\n"
	"0mbV369CQ3mzXpsVtrdnUrE=\n"
	"-----END PRIVATE KEY-----\n";

#define NAME   "000bb1c41698b708250a2debda5df3fbc04524c5edfa5618e709b811c2d924cd7554"
#define PKFP   "96b91e003d2f7c576f174df948c5c740e2bede2bb6a25abe09d5c1592a41196f"
#define AUTH   "bd9b2238bd989aaa7d5ac21b4c080639957c6832229c47a076b0bb6676518d46"
/* PolicyAuthorize, then PolicyPCR over PCR 7 = 0 */
#define AUTH7  "cec05cec711586d29be59fed8134dfffd9c0e9bd65f59b7fbf51e41d6ea4ecae"
/* PolicyPCR over PCR 15 = 0, from an empty policy: what is signed */
#define POL15  "7e247a603cd1052cabc095741b8ee2f7458aabeee960b8ec97d7f090171a039a"
/* SHA-256 of openssl dgst -sha256 -sign over POL15's bytes */
#define SIGSUM "29bbd35ee938f4552cc77d278f4106b8b2d0f4e47dad6251dc87c772b8fe1169"

static void hex_eq(const uint8_t *b, size_t n, const char *want)
{
	char hex[2 * 64 + 1];

	si_hex_encode(hex, b, n);
	assert_string_equal(hex, want);
}

static void test_key(void **state)
{
	struct si_authkey k;
	struct si_diag d = { { 0 } };
	uint8_t dig[32], zero[32] = { 0 };

	(void)state;
	assert_int_equal(si_authkey_from_pem(&k, pub_pem, strlen(pub_pem), &d), 0);
	assert_int_equal(k.modulus_len, 256);
	assert_int_equal(k.exponent, 65537);
	hex_eq(k.name, sizeof(k.name), NAME);
	hex_eq(k.pkfp, sizeof(k.pkfp), PKFP);
	/* A digest already started is reset: PolicyAuthorize starts over. */
	memset(dig, 0xaa, sizeof(dig));
	assert_int_equal(si_policy_authorize(dig, k.name, sizeof(k.name)), 0);
	hex_eq(dig, 32, AUTH);
	assert_int_equal(si_policy_pcr(dig, 0x000B, 1u << 7, zero, 32), 0);
	hex_eq(dig, 32, AUTH7);
}

static void test_bad_keys(void **state)
{
	struct si_authkey k;
	struct si_diag d = { { 0 } };
	char *p = strdup(pub_pem);

	(void)state;
	/* The private key is not a public key; a mangled body is no key. */
	assert_int_equal(si_authkey_from_pem(&k, priv_pem, strlen(priv_pem), &d), -EINVAL);
	assert_non_null(strstr(d.msg, "PUBLIC KEY"));
	p[40] = p[40] == 'A' ? 'B' : 'A';
	assert_int_equal(si_authkey_from_pem(&k, p, strlen(p), &d), -EINVAL);
	assert_int_equal(si_authkey_from_pem(&k, pub_pem, 0, &d), -EINVAL);
	free(p);
}

static void test_sign(void **state)
{
	struct si_authkey pub;
	struct si_diag d = { { 0 } };
	uint8_t pol[32], sig[512], sum[32];
	size_t n = 0;

	(void)state;
	assert_int_equal(si_hex_decode(pol, sizeof(pol), POL15), 32);
	assert_int_equal(si_authkey_sign(priv_pem, strlen(priv_pem), pol, NULL, 0, sig, sizeof(sig), &n,
					 &pub, &d), 0);
	assert_int_equal(n, 256);
	hex_eq(pub.pkfp, 32, PKFP);
	assert_int_equal(si_sha256(sig, n, sum), 0);
	hex_eq(sum, 32, SIGSUM);
	assert_int_equal(si_authkey_verify(&pub, pol, NULL, 0, sig, n), 0);
	/* Positive control above; one bit off and it does not verify. */
	sig[3] ^= 1;
	assert_int_equal(si_authkey_verify(&pub, pol, NULL, 0, sig, n), -EBADMSG);
	sig[3] ^= 1;
	pol[0] ^= 1;
	assert_int_equal(si_authkey_verify(&pub, pol, NULL, 0, sig, n), -EBADMSG);
}

static void test_sigfile(void **state)
{
	struct si_sig e = { .pcr_mask = 1u << 15, .sig_len = 3, .sig = { 1, 2, 3 } }, got;
	struct si_diag d = { { 0 } };
	uint8_t other[32];
	char *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(si_hex_decode(e.pkfp, 32, PKFP), 32);
	assert_int_equal(si_hex_decode(e.pol, 32, POL15), 32);
	assert_int_equal(si_sigfile_add(NULL, &e, &a, &d), 0);
	assert_string_equal(a, "{\"sha256\":[{\"pcrs\":[15],\"pkfp\":\"" PKFP "\",\"pol\":\""
			    POL15 "\",\"sig\":\"AQID\"}]}\n");
	/* The same entry again is stored once. */
	assert_int_equal(si_sigfile_add(a, &e, &b, &d), 0);
	assert_string_equal(a, b);
	free(b);
	assert_int_equal(si_sigfile_find(a, 1u << 15, e.pkfp, e.pol, &got, &d), 0);
	assert_int_equal(got.sig_len, 3);
	memcpy(other, e.pol, 32);
	other[0] ^= 1;
	assert_int_equal(si_sigfile_find(a, 1u << 15, e.pkfp, other, &got, &d), -SI_ENOSIG);
	assert_int_equal(si_sigfile_find(a, 1u << 15, other, e.pol, &got, &d), -SI_ESIGKEY);
	assert_int_equal(si_sigfile_find(a, 1u << 7, e.pkfp, e.pol, &got, &d), -SI_ENOSIG);
	free(a);
}

/* pol_for of the counted lookup: the policy "digest" is the counter's
 * value in the last byte, over a base whose first byte is the context's. */
static int fake_pol(uint64_t counter, uint8_t pol[32], void *ctx)
{
	memset(pol, 0, 32);
	pol[0] = *(const uint8_t *)ctx;
	pol[31] = (uint8_t)counter;
	return 0;
}

/* pol_for that gives the same pol whatever the counter (ctx). */
static int fake_pol_const(uint64_t counter, uint8_t pol[32], void *ctx)
{
	(void)counter;
	memcpy(pol, ctx, 32);
	return 0;
}

/* Counted entries: written with sealinit_counter, found only by the
 * counted lookup, the highest counter among those whose pol matches. */
static void test_sigfile_counted(void **state)
{
	struct si_sig e = { .pcr_mask = 1u << 15, .sig_len = 3, .sig = { 1, 2, 3 } }, got;
	struct si_diag d = { { 0 } };
	char *a = NULL, *b = NULL;
	uint8_t base = 7, other = 8;
	uint64_t c;

	(void)state;
	assert_int_equal(si_hex_decode(e.pkfp, 32, PKFP), 32);
	for (c = 1; c <= 3; c++) {
		e.counted = true;
		e.counter = c;
		fake_pol(c, e.pol, &base);
		/* The entry for 3 is for another base: its pol never matches. */
		if (c == 3)
			e.pol[0] = other;
		assert_int_equal(si_sigfile_add(a, &e, &b, &d), 0);
		free(a);
		a = b;
	}
	assert_non_null(strstr(a, "\"sealinit_counter\":2,"));
	assert_int_equal(si_sigfile_find_counted(a, 1u << 15, e.pkfp, fake_pol, &base, &got, &d), 0);
	assert_true(got.counted);
	assert_int_equal(got.counter, 2);
	assert_int_equal(si_sigfile_find_counted(a, 1u << 15, e.pkfp, fake_pol, &other, &got, &d), 0);
	assert_int_equal(got.counter, 3);
	/* A plain lookup does not see counted entries, even with their pol. */
	fake_pol(2, e.pol, &base);
	assert_int_equal(si_sigfile_find(a, 1u << 15, e.pkfp, e.pol, &got, &d), -SI_ENOSIG);
	assert_non_null(strstr(d.msg, "no sha256 signature for PCRs 15"));
	base = 9;
	assert_int_equal(si_sigfile_find_counted(a, 1u << 15, e.pkfp, fake_pol, &base, &got, &d),
			 -SI_ENOSIG);
	assert_non_null(strstr(d.msg, "with a rollback counter"));
	free(a);
}

static const struct {
	const char *json, *field;
} bad_files[] = {
	{ "[]", "not a JSON object" },
	{ "{\"sha256\":{}}", "`sha256'" },
	{ "{\"sha256\":[1]}", "`sha256[0]'" },
	{ "{\"sha256\":[{\"pkfp\":\"" PKFP "\",\"pol\":\"" POL15 "\",\"sig\":\"AQID\"}]}",
	  "sha256[0].pcrs': missing" },
	{ "{\"sha256\":[{\"pcrs\":[24],\"pkfp\":\"" PKFP "\",\"pol\":\"" POL15 "\",\"sig\":\"AQID\"}]}",
	  "sha256[0].pcrs'" },
	{ "{\"sha256\":[{\"pcrs\":[15],\"pkfp\":\"00\",\"pol\":\"" POL15 "\",\"sig\":\"AQID\"}]}",
	  "sha256[0].pkfp'" },
	{ "{\"sha256\":[{\"pcrs\":[15],\"pkfp\":\"" PKFP "\",\"pol\":\"" POL15 "x\",\"sig\":\"AQID\"}]}",
	  "sha256[0].pol'" },
	{ "{\"sha256\":[{\"pcrs\":[15],\"pkfp\":\"" PKFP "\",\"pol\":\"" POL15 "\",\"sig\":\"@@\"}]}",
	  "sha256[0].sig'" },
	{ "{\"sha256\":[{\"pcrs\":[15],\"pkfp\":\"" PKFP "\",\"pol\":\"" POL15 "\",\"sig\":\"\"}]}",
	  "sha256[0].sig': empty" },
	{ "{\"sha256\":[{\"pcrs\":[15],\"pkfp\":\"" PKFP "\",\"pol\":\"" POL15 "\",\"sig\":\"AQID\","
	  "\"sealinit_counter\":-1}]}", "sha256[0].sealinit_counter'" },
	{ "{\"sha256\":[{\"pcrs\":[15],\"pkfp\":\"" PKFP "\",\"pol\":\"" POL15 "\",\"sig\":\"AQID\","
	  "\"sealinit_counter\":\"1\"}]}", "sha256[0].sealinit_counter'" },
	{ "{\"sha256\":[{\"pcrs\":[15],\"pkfp\":\"" PKFP "\",\"pol\":\"" POL15 "\",\"sig\":\"AQID\","
	  "\"sealinit_counter\":1.5}]}", "sha256[0].sealinit_counter'" },
	{ "{\"sha256\":[{\"pcrs\":[15],\"pkfp\":\"" PKFP "\",\"pol\":\"" POL15 "\",\"sig\":\"AQID\","
	  "\"sealinit_counter\":9223372036854775808}]}", "sha256[0].sealinit_counter'" },
};

static void test_sigfile_bad(void **state)
{
	uint8_t fp[32], pol[32];
	struct si_sig got;
	size_t i;

	(void)state;
	si_hex_decode(fp, 32, PKFP);
	si_hex_decode(pol, 32, POL15);
	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		struct si_sig add = { .pcr_mask = 1u << 15, .sig_len = 1 };
		struct si_diag d = { { 0 } };
		const char *json = bad_files[i].json;
		char *out = NULL;

		/* The lookup of the entry's kind, and sign's add. */
		if (strstr(json, "sealinit_counter"))
			assert_int_equal(si_sigfile_find_counted(json, 1u << 15, fp, fake_pol_const, pol,
								 &got, &d), -SI_EBADSIG);
		else
			assert_int_equal(si_sigfile_find(json, 1u << 15, fp, pol, &got, &d),
					 -SI_EBADSIG);
		if (!strstr(d.msg, bad_files[i].field))
			fail_msg("case %zu: `%s' does not name `%s'", i, d.msg, bad_files[i].field);
		assert_int_equal(si_sigfile_add(json, &add, &out, &d), -SI_EBADSIG);
		assert_null(out);
		if (!strstr(d.msg, bad_files[i].field))
			fail_msg("case %zu, add: `%s' does not name `%s'", i, d.msg, bad_files[i].field);
	}
}

#define ENTRY(pcrs, pol, extra, sig) \
	"{\"pcrs\":[" pcrs "],\"pkfp\":\"" PKFP "\",\"pol\":\"" pol "\"" extra ",\"sig\":\"" sig "\"}"

/*
 * A lookup lists every entry that may serve and skips those that do not
 * parse: a corrupt entry (newest, or first) must not hide a good one. Only
 * when none serves are the skipped ones named, each. `sign' still refuses
 * to add to a malformed file.
 */
static void test_sigfile_skips(void **state)
{
	static const char good_then_bad[] = "{\"sha256\":[" ENTRY("15", POL15, "", "AQID") ","
		"{\"pcrs\":[15]}]}";
	static const char bad_then_good[] = "{\"sha256\":[" ENTRY("15", POL15, "", "@@") ","
		ENTRY("15", POL15, "", "AQID") "]}";
	static const char two_bad[] = "{\"sha256\":[" ENTRY("15", POL15, "", "@@") ",7]}";
	/* Broken, but for PCR 7 or by another key: not this lookup's. */
	static const char others_bad[] = "{\"sha256\":[" ENTRY("7", POL15, "", "@@") ","
		"{\"pcrs\":[15],\"pkfp\":\"" POL15 "\",\"pol\":\"x\",\"sig\":\"AQID\"}]}";
	/* Counted: the newest first, then file order; one whose counter does
	 * not parse is skipped, and a plain entry is not listed. */
	static const char counted[] = "{\"sha256\":["
		ENTRY("15", POL15, ",\"sealinit_counter\":2", "AQ==") ","
		ENTRY("15", POL15, ",\"sealinit_counter\":3", "Ag==") ","
		ENTRY("15", POL15, ",\"sealinit_counter\":\"9\"", "Aw==") ","
		ENTRY("15", POL15, "", "BA==") ","
		ENTRY("15", POL15, ",\"sealinit_counter\":3", "BQ==") ","
		ENTRY("15", POL15, ",\"sealinit_counter\":1", "Bg==") "]}";
	static const uint8_t order[][2] = { { 1, 2 }, { 4, 5 }, { 0, 1 }, { 5, 6 } };
	struct si_sig got, *list = NULL, add = { .pcr_mask = 1u << 15, .sig_len = 1 };
	struct si_diag d = { { 0 } };
	uint8_t fp[32], pol[32];
	char *out = NULL;
	size_t n, i;

	(void)state;
	si_hex_decode(fp, 32, PKFP);
	si_hex_decode(pol, 32, POL15);
	/* The control: the good entry of each file is found. */
	assert_int_equal(si_sigfile_find(good_then_bad, 1u << 15, fp, pol, &got, &d), 0);
	assert_int_equal(got.index, 0);
	assert_int_equal(si_sigfile_match(bad_then_good, 1u << 15, fp, pol, &list, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].index, 1);
	assert_int_equal(list[0].sig_len, 3);
	/* ... and the skipped one is named, for the report if it fails too. */
	assert_non_null(strstr(d.msg, "sha256[0].sig': invalid base64"));
	free(list);
	/* The attack's limit: nothing usable is refused, each entry named. */
	assert_int_equal(si_sigfile_find(two_bad, 1u << 15, fp, pol, &got, &d), -SI_EBADSIG);
	assert_non_null(strstr(d.msg, "sha256[0].sig': invalid base64"));
	assert_non_null(strstr(d.msg, "sha256[1]': expected an object"));
	assert_int_equal(si_sigfile_find(others_bad, 1u << 15, fp, pol, &got, &d), -SI_ESIGKEY);
	assert_int_equal(si_sigfile_find(others_bad, 1u << 3, fp, pol, &got, &d), -SI_ENOSIG);

	assert_int_equal(si_sigfile_match_counted(counted, 1u << 15, fp, fake_pol_const, pol, &list,
						  &n, &d), 0);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		assert_int_equal(list[i].index, order[i][0]);
		assert_int_equal(list[i].sig[0], order[i][1]);
	}
	assert_non_null(strstr(d.msg, "sha256[2].sealinit_counter'"));
	free(list);
	assert_int_equal(si_sigfile_find_counted(counted, 1u << 15, fp, fake_pol_const, pol, &got,
						 &d), 0);
	assert_int_equal(got.index, 1);

	/* sign adds only to a well-formed file. */
	memcpy(add.pkfp, fp, 32);
	memcpy(add.pol, pol, 32);
	assert_int_equal(si_sigfile_add(bad_then_good, &add, &out, &d), -SI_EBADSIG);
	assert_null(out);
	assert_non_null(strstr(d.msg, "sha256[0].sig'"));
}

static void test_values(void **state)
{
	struct si_pcr_expect e;
	struct si_diag d = { { 0 } };
	char text[512];

	(void)state;
	snprintf(text, sizeof(text), "15 sealinit:cmdline:x\n# c\n\npcr15=%064d\npcr15-capped=%064d\n", 1, 2);
	assert_int_equal(si_pcrs_parse_values(text, 1u << 15, &e, &d), 0);
	assert_int_equal(e.mask, 1u << 15);
	assert_int_equal(e.sha256[15][31], 0x01);
	assert_int_equal(si_pcrs_parse_values(text, 1u << 7 | 1u << 15, &e, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "no value for PCR 7"));
	snprintf(text, sizeof(text), "pcr15=%063d\n", 1);
	assert_int_equal(si_pcrs_parse_values(text, 1u << 15, &e, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "line 1"));
	snprintf(text, sizeof(text), "pcr24=%064d\n", 1);
	assert_int_equal(si_pcrs_parse_values(text, 0, &e, &d), -EINVAL);
	snprintf(text, sizeof(text), "pcr7=%064d\npcr7=%064d\n", 1, 1);
	assert_int_equal(si_pcrs_parse_values(text, 0, &e, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "twice"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_sigfile),
		cmocka_unit_test(test_sigfile_counted),
		cmocka_unit_test(test_sigfile_bad),
		cmocka_unit_test(test_sigfile_skips),
		cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
