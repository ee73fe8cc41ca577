/* SPDX-License-Identifier: MIT */
/* The recovery key's escrow, offline: a round trip through RSA-OAEP-256;
 * the key_fp against `openssl pkey -pubin -outform DER | sha256sum' of the
 * same key; every field tampered, another key, the wrong kinds of key,
 * each refused with the field or kind named beside the genuine document
 * opening; no plaintext in the document; the file written whole, 0600.
 * tests/host/escrow.sh shows OpenSSL opens what this seals. The keys are
 * throwaways made for this test with `openssl genpkey'. */
#include <dirent.h>
#include <errno.h>
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

#include "core/b64.h"
#include "core/errors.h"
#include "core/escrow.h"
#include "core/secret.h"
#include "../lib/testutil.h"

static const char a_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDEHClIr0z/WTDI\n"
	"KHV6xpejVAerBD/SJZzORiDvfqj12N+iSwSJo/jMEaQ4lj5G4vxSUnFnmayBIZfq\n"
	"MI6VHVLD7xhq/mKuVXMREZ4flB0ajlIRKfp3CgEL/loCC1Nel9J5oUw836rSpg33\n"
	"YVHXfufH/Oq+mL+pj9HYwvKC2vM4ztJs/byzZQRt6wfsolxEFjkraEseLcMMjBO9\n"
	"+vbgnkA1OmZ55jnhly/f2PPr1SzEv3JZY/tAqiLSpzF/PWDfGQCIMjZwXaGN4Orl\n"
	"1qolO5703+FzVTMGMt6/fSDmQlwKry2GVGfSp04J50bG45jvMq+SnGnwT+P6V3E1\n"
	"lAILmZBnAgMBAAECggEAIGnHKQxQXaQQPATz5ecNCSHKYqnBIqq00CMnLm5w3rGJ\n"
	"xPlBNr6zUIdZ7UBn6q95pOGbfNQZfv5ebYa5CkxecaQDFSwWg1n8OsX+rJl+dfUv\n"
	"+0ZE74fnxGO13MCidvABCblvMGCHi2mGxWyAam2/QX68DeSRSSVMOdd+3cHykWDT\n"
	"crB0gKO/DV23VRsd+JIPzApk5b5VWp3s88nljmfFKa1m2OOkouUZqdz/u4QoUOIA\n"
	"nFh02VUqxwgVECn3VEVDgEfW4L/p2ZUmlu2sFjZQMNnQgkiIm+iPOn0epJacSuk3\n"
	"F2qooSg4PHQoyvg0c9cqUD4Sz4Q87NQkBIsdGsvRAQKBgQDzrWw2L1WJaj/fReVa\n"
	"ZcXB2TB0a5Bj5jWzJNmOGONAKaK9wVKx9tZ4iybl6P3n05r7ADIkpchjo12JidLy\n"
	"ONmotoyXPBQGDLvHWeyMedXH0r8WXkTi9TeOCKGeE5UETY2GgKju8qPJJqr43fXz\n"
	"sNEjVM5P+tW/2AvfQcTqWlTMfwKBgQDOBvHH6HNRA762AjClIyKDd2m7Fx+ROw66\n"
	"7s5gQ9K9FJttlSlVF4Vt/xQk4FacjRHm8Dxl4JnNpNJBqpE0FF3J4sX4/5DTPp3C\n"
	"1e3TdmbSzfHfN0K51xlNnfySSUnfE5hXOEyO5+9Bd+3n1T3TF4lLyGJCegmKNMx+\n"
	"1xdHMsJoGQKBgQCFghgO3AJOhsM2DnKqA6bFHb05nBGBWolDfMYh36rq5aT/uGMZ\n"
	"lHdPllYak3xBvyNjsGjIwXg4dzJxf+zuv40prdL7rXP/GIztnWxITxx9Hg+KLt4p\n"
	"R1dH35zFIk98Cw2miumD+bcZJ7F3Jw1xlggQBo//LBxevv1KNhuwlwts+wKBgFdc\n"
	"3n2UdgGugtoPB62evm3c3vq0jXA6CL7/sIdleyEucdH/5Czu8md4OISClHeB4kt5\n"
	"J0NUACQRdg7eUwAweqy2+pfhVvocnS0XJef7VxKgvaWXezXung4ppgYqCacMWhby\n"
	"CpS2iN/MCRe7dqHiYxe9et0RfqYaSXSnpHlObt1RAoGAAv5CK0I2xy4j9GMBi6Gw\n"
	"gG4bu8RK8WeaXJfZeYkghwuO54WgMd1IIIQSXVLE6Ux63m/mFfWRi3T+UB3Y0iMs\n"
	"keryqNdjhc47jMhfICoo0eZLscnxUiJMrHnIITSa+eJ5PXLnIS04zfoVgYxT/R0F\n"
	"bbV9dFRMfMK60Xj0YcWru5k=\n"
	"-----END PRIVATE KEY-----\n"
	;
static const char a_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxBwpSK9M/1kwyCh1esaX\n"
	"o1QHqwQ/0iWczkYg736o9djfoksEiaP4zBGkOJY+RuL8UlJxZ5msgSGX6jCOlR1S\n"
	"w+8Yav5irlVzERGeH5QdGo5SESn6dwoBC/5aAgtTXpfSeaFMPN+q0qYN92FR137n\n"
	"x/zqvpi/qY/R2MLygtrzOM7SbP28s2UEbesH7KJcRBY5K2hLHi3DDIwTvfr24J5A\n"
	"NTpmeeY54Zcv39jz69UsxL9yWWP7QKoi0qcxfz1g3xkAiDI2cF2hjeDq5daqJTue\n"
	"9N/hc1UzBjLev30g5kJcCq8thlRn0qdOCedGxuOY7zKvkpxp8E/j+ldxNZQCC5mQ\n"
	"ZwIDAQAB\n"
	"-----END PUBLIC KEY-----\n"
	;
static const char b_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCrU6LYAU23gz1N\n"
	"L86ybbrzYAsrJgkAr3xC9+GxfIm7hcphF5SRzhXXfO8ePIp6ljG0h01l/r/TRoB2\n"
	"axuouNfcsyecUr7aIvCEPQetGQTbapieAy9s6w6HG7msEggkZ62xfT5k9ABClNek\n"
	"gMwqVeG1mx2nunKjwrJMcOyOi+SApH60lW0TYtRhhNaUxuyCmXcc4//d2x+YdYTo\n"
	"mVzMqQx1YBdclzQ7WkXPF+SALZYHeZG0Vrr5HCPtDOb3fAD1fQOxv18MbYx46ZBO\n"
	"xocaRxM5OGH+PT9YCatsNDyIeFCe7aSArDwQOCWnrSvTyeTrkeuPZCEZ92MYNoyT\n"
	"7gvchpR1AgMBAAECggEAFMa+MzqpPY1lRDR9eObUqonloNRqeBJP2+Eqlfb3zu1R\n"
	"FwgghLP8sxab+ss1sdr/6RgVWz6S7aCZmIKxpnrP9pwlPBBOw65EA41RHn0vuRoK\n"
	"qvLQ8ADrUJgcopDHOv71sdXx2JU8aNaa9gCGgcXLatYGOR5jo5dLPvjcvwaY7b6S\n"
	"La62gP4Tq5ysxXohOR+MAu/GCSoGwbOnvwupz/vqSD2o43hwhry+dn2RW9Hjm/S0\n"
	"ZZ/QfKXTHgduxvIjMRfM0Ag7OPAVYEwlRflTHckaOPUwuCphLImKLUW0zOmOQXgq\n"
	"ksiFa/Huwza41a3I0Uu0Ui+qK6k/rlmgOPJJklWfMQKBgQDWs0XF8z/HRPS0i3E3\n"
	"8as/T+Z2KBNfqSad7RP3wfyMV1dMZq2IbhyosMcOMgqLcRezNRMO1vdkWMcvakm1\n"
	"SWv2VkpWpORvGlt1kmfhp3i29J9d/UpdF5tMCzhOQGqK6GjSWZiIiuhP53Mrt9Eo\n"
	"DyK8KV30WkVhc3zgGLeyBY+L2QKBgQDMSHg3kiWCmLXv0GNjg55YcpBXm3YpLZud\n"
	"iLj8XbUbwfnf8S7o2ksvNKMkX4Xmf+N+E+3fsFzmfsklTLZG/nrOIbeCSXC4eJTJ\n"
	"OJb7KM862MG9wVw8fpu8RDT9rLgRiaq/mbr36Be/jXIgkMALumLcS/MP3F223I3I\n"
	"jRr8nbP3/QKBgQCsL/q1VvC/j73xTiPvChKdJCdge6OOBMrDvW9WNG2m4CVTUMW7\n"
	"tROm9p+t8tQiIQEw6E/whtbB07FrhYK3sbq0RWA5POU3dZwEHvbRMs7NbEKjzo/l\n"
	"ORmDUzxFBcRswxfOG60JVN4btzPWzAUia4EgBs0jO4KJNWXhE/G/BFargQKBgDsv\n"
	"B7051yo16gf3fMP4/ugrEMyA2sPlVb9XPBjJYU4Qbb9GlcuaasvbWSSRlC6KgLMn\n"
	"PPRgmRmiQ85NokWBNrz/obXaZxDaxmhhv8Q2N4uZ/s9l9L4GBEKQFDYmUxGpq9Fk\n"
	"zXlDQZYaeaUbqrf7IOcoDdxbgL8YuO8QinADlH9VAoGBAILpKuToQYdB28+L099R\n"
	"L0xNaRlkLvWDg+I2d0Je6jEQMwM07phQfxhmPansXNQdnF6ez5LjupRW1aRuqVVS\n"
	"Fz5yaekr0787G3DHYxbf3TY+fMt8AbquDRpanO9NWLWdqYs3nKK1kRIBpSvlqNnS\n"
	"z/7G5hjSlh8UUuaZ36Ga052/\n"
	"-----END PRIVATE KEY-----\n"
	;
static const char b_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAq1Oi2AFNt4M9TS/Osm26\n"
	"82ALKyYJAK98QvfhsXyJu4XKYReUkc4V13zvHjyKepYxtIdNZf6/00aAdmsbqLjX\n"
	"3LMnnFK+2iLwhD0HrRkE22qYngMvbOsOhxu5rBIIJGetsX0+ZPQAQpTXpIDMKlXh\n"
	"tZsdp7pyo8KyTHDsjovkgKR+tJVtE2LUYYTWlMbsgpl3HOP/3dsfmHWE6JlczKkM\n"
	"dWAXXJc0O1pFzxfkgC2WB3mRtFa6+Rwj7Qzm93wA9X0Dsb9fDG2MeOmQTsaHGkcT\n"
	"OThh/j0/WAmrbDQ8iHhQnu2kgKw8EDglp60r08nk65Hrj2QhGfdjGDaMk+4L3IaU\n"
	"dQIDAQAB\n"
	"-----END PUBLIC KEY-----\n"
	;
static const char s_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCupRvD3LC7guENwGBhlEG05NLM\n"
	"kQt16NPCgiPncox+uVy0zgrVdgBBVAqsTbLdZjnJIrI2WiFb0qeNBHioDnGOXo5c\n"
	"2GAA6jsGheRk4rHoCTfGjpJJe/n4d8tKlPRyyWmUItb9lN9KM+VERszyjzIJCV7J\n"
	"3fNgtynn5+gCoRL6iQIDAQAB\n"
	"-----END PUBLIC KEY-----\n"
	;
static const char ec_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEl2zjf99zC+il+Erm/HJ8813gN+xC\n"
	"hf/X8f3p4t1aUVlekFXQfmbvkO6ekT+JFnydRmPmKgxmwEdD3d1jJ4690w==\n"
	"-----END PUBLIC KEY-----\n"
	;
static const char ed_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MCowBQYDK2VwAyEARThkSmKFzzOLRw2q73yEdZXjS0Ctd+a6eosWqIFiabE=\n"
	"-----END PUBLIC KEY-----\n"
	;
static const char ed_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MC4CAQAwBQYDK2VwBCIEIMKIR4KwZ/Y8YJMGtHk1eAI9E8gthp1hHTSzTKSPJkIT\n"
	"-----END PRIVATE KEY-----\n"
	;

/* sha256 of a_pub's DER SubjectPublicKeyInfo, by openssl. */
#define A_FP "3416ffb11dd22c02fe55975dea759d52fa3887d80ec4b67d62dbae6d7241bcfe"

static const char key[] =
	"eiuckclj-cbtgfvkg-jnnkglnn-ejjjubdk-iebvvbbn-gcvtedeh-irjntuee-jdketvcc";
static const char uuid[] = "12345678-9abc-def0-1234-56789abcdef0";
static const char vid[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static char *seal(const char *pub)
{
	struct si_diag d = { { 0 } };
	char *json = NULL;

	assert_int_equal(si_escrow_seal(pub, strlen(pub), key, uuid, vid, &json, &d), 0);
	assert_non_null(json);
	return json;
}

static int open_doc(const char *priv, const char *json, char *out, struct si_diag *d)
{
	return si_escrow_open(priv, strlen(priv), json, out, d);
}

static void test_round_trip(void **state)
{
	struct si_diag d = { { 0 } };
	struct si_escrow_doc doc;
	char *json = seal(a_pub), *json2 = seal(a_pub), *out = si_secret_alloc(SI_RECOVERY_LEN + 1);
	char part[9];
	size_t i;

	(void)state;
	assert_non_null(out);
	assert_int_equal(open_doc(a_pem, json, out, &d), 0);
	assert_string_equal(out, key);
	assert_int_equal(si_escrow_parse(json, &doc, &d), 0);
	assert_string_equal(doc.uuid, uuid);
	assert_string_equal(doc.volume_id, vid);
	assert_string_equal(doc.key_fp, A_FP);
	assert_int_equal(doc.ciphertext_len, 256);
	/* The layout escrow.h documents, in this order, one newline after. */
	assert_true(!strncmp(json, "{\"type\":\"sealinit-escrow\",\"version\":1,\"uuid\":\"", 46));
	assert_non_null(strstr(json, "\",\"key_fp\":\"" A_FP "\",\"alg\":\"RSA-OAEP-256\",\"ciphertext\":\""));
	assert_int_equal(json[strlen(json) - 1], '\n');
	/* No piece of the key in the document: not any 8 of its characters. */
	for (i = 0; i + 8 <= SI_RECOVERY_LEN; i++) {
		memcpy(part, key + i, 8);
		part[8] = '\0';
		assert_null(strstr(json, part));
	}
	/* OAEP is randomized: sealing twice gives two ciphertexts, both open. */
	assert_string_not_equal(json, json2);
	assert_int_equal(open_doc(a_pem, json2, out, &d), 0);
	assert_string_equal(out, key);
	/* The typed forms are sealed canonical: 64 characters, upper case. */
	{
		char typed[80];
		size_t j = 0;

		for (i = 0; key[i]; i++)
			if (key[i] != '-')
				typed[j++] = (char)(key[i] - 'a' + 'A');
		typed[j] = '\0';
		free(json2);
		json2 = NULL;
		assert_int_equal(si_escrow_seal(a_pub, strlen(a_pub), typed, uuid, vid, &json2, &d), 0);
		assert_int_equal(open_doc(a_pem, json2, out, &d), 0);
		assert_string_equal(out, key);
	}
	free(json);
	free(json2);
	si_secret_free(out);
}

/* Another escrow key's private half: refused by key_fp, nothing decrypted. */
static void test_other_key(void **state)
{
	struct si_diag d = { { 0 } };
	char *json = seal(a_pub), *out = si_secret_alloc(SI_RECOVERY_LEN + 1);

	(void)state;
	assert_int_equal(open_doc(b_pem, json, out, &d), -EKEYREJECTED);
	assert_non_null(strstr(d.msg, "key_fp " A_FP " is not this key's"));
	assert_true(all_zero(out, SI_RECOVERY_LEN + 1));
	/* Control: the genuine key. */
	assert_int_equal(open_doc(a_pem, json, out, &d), 0);
	assert_string_equal(out, key);
	/* A document sealed to b, with a's fingerprint written in: b's key
	 * is refused by key_fp, a's cannot decrypt it. */
	{
		char *jb = seal(b_pub), *fp = strstr(jb, "\"key_fp\":\"") + 10;

		memcpy(fp, A_FP, 64);
		assert_int_equal(open_doc(a_pem, jb, out, &d), -EBADMSG);
		assert_non_null(strstr(d.msg, "ciphertext does not decrypt"));
		assert_true(all_zero(out, SI_RECOVERY_LEN + 1));
		free(jb);
	}
	free(json);
	si_secret_free(out);
}

/* Replace the first `from' in json by `to' (same buffer, enough room). */
static char *edit(const char *json, const char *from, const char *to)
{
	char *out = malloc(strlen(json) + strlen(to) + 1), *at;

	assert_non_null(out);
	at = strstr(json, from);
	assert_non_null(at);
	memcpy(out, json, (size_t)(at - json));
	strcpy(out + (at - json), to);
	strcat(out, at + strlen(from));
	return out;
}

static void test_tampered_fields(void **state)
{
	static const struct {
		const char *from, *to;
		int code;
		const char *named;
	} cases[] = {
		{ "\"uuid\":\"12345678", "\"uuid\":\"22345678", -EBADMSG,
		  "uuid `22345678-9abc-def0-1234-56789abcdef0' is not the sealed one" },
		{ "\"volume_id\":\"0011", "\"volume_id\":\"1011", -EBADMSG, "volume_id `1011" },
		{ "\"type\":\"sealinit-escrow\"", "\"type\":\"sealinit-escrov\"", -EBADMSG, "type `sealinit-escrov'" },
		{ "\"version\":1", "\"version\":2", -EBADMSG, "`version' is not 1" },
		{ "\"version\":1", "\"version\":\"1\"", -EBADMSG, "`version' is not 1" },
		{ "\"alg\":\"RSA-OAEP-256\"", "\"alg\":\"RSA-OAEP\"", -EBADMSG, "alg `RSA-OAEP'" },
		{ "\"key_fp\":\"3416", "\"key_fp\":\"4416", -EKEYREJECTED, "key_fp 4416" },
		{ "\"key_fp\":\"3416", "\"key_fp\":\"3416X", -EBADMSG, "key_fp `3416X" },
		{ "\"uuid\":\"12345678", "\"uuid\":\"1234567-", -EBADMSG, "uuid `1234567--" },
		{ "\"alg\"", "\"extra\":1,\"alg\"", -EBADMSG, "unknown field `extra'" },
		{ "\"alg\":\"RSA-OAEP-256\",", "", -EBADMSG, "no `alg' field" },
		{ "\"volume_id\":\"", "\"volume_id\":1,\"x\":\"", -EBADMSG, "unknown field `x'" },
		{ "\"ciphertext\":\"", "\"ciphertext\":\"!", -EBADMSG, "ciphertext is not base64" },
		{ "\"ciphertext\":\"", "\"ciphertext\":\"AAAA", -EBADMSG, "ciphertext of 259 bytes" },
		{ "{", "[{", -EBADMSG, "not one JSON object" },
		{ "}\n", "}{}\n", -EBADMSG, "not one JSON object" },
	};
	struct si_diag d = { { 0 } };
	char *json = seal(a_pub), *out = si_secret_alloc(SI_RECOVERY_LEN + 1);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *bad = edit(json, cases[i].from, cases[i].to);

		memset(&d, 0, sizeof(d));
		memset(out, 'x', SI_RECOVERY_LEN + 1);
		if (open_doc(a_pem, bad, out, &d) != cases[i].code || !strstr(d.msg, cases[i].named))
			fail_msg("case %zu: `%s' -> `%s': got `%s'", i, cases[i].from, cases[i].to,
				 d.msg);
		assert_true(all_zero(out, SI_RECOVERY_LEN + 1));
		free(bad);
	}
	/* Control: the genuine document. */
	assert_int_equal(open_doc(a_pem, json, out, &d), 0);
	assert_string_equal(out, key);
	free(json);
	si_secret_free(out);
}

/* One bit of the ciphertext flipped: OAEP's check refuses it. */
static void test_tampered_ciphertext(void **state)
{
	struct si_diag d = { { 0 } };
	struct si_escrow_doc doc;
	char *json = seal(a_pub), *out = si_secret_alloc(SI_RECOVERY_LEN + 1);
	char b64[SI_B64_LEN(512) + 1], *bad;
	char *at = strstr(json, "\"ciphertext\":\"") + 14;
	size_t i;

	(void)state;
	assert_int_equal(si_escrow_parse(json, &doc, &d), 0);
	for (i = 0; i < doc.ciphertext_len; i += 51) {
		size_t n = strlen(json);

		doc.ciphertext[i] ^= 0x01;
		si_b64_encode(b64, doc.ciphertext, doc.ciphertext_len);
		doc.ciphertext[i] ^= 0x01;
		bad = strdup(json);
		memcpy(bad + (at - json), b64, strlen(b64));
		assert_int_equal(strlen(bad), n);
		assert_int_equal(open_doc(a_pem, bad, out, &d), -EBADMSG);
		assert_non_null(strstr(d.msg, "ciphertext does not decrypt"));
		assert_true(all_zero(out, SI_RECOVERY_LEN + 1));
		free(bad);
	}
	assert_int_equal(open_doc(a_pem, json, out, &d), 0);
	free(json);
	si_secret_free(out);
}

/* Only RSA of 2048-4096 bits, the kind named. */
static void test_key_kinds(void **state)
{
	static const struct {
		const char *pem;
		int priv;
		const char *named;
	} cases[] = {
		{ ec_pub, 0, "escrow key: key type EC (expected RSA, 2048-4096 bits)" },
		{ ed_pub, 0, "escrow key: key type Ed25519 (expected RSA" },
		{ s_pub, 0, "escrow key: an RSA key of 1024 bits (expected 2048-4096)" },
		{ a_pem, 0, "escrow key: not a PEM \"PUBLIC KEY\"" },
		{ "", 0, "escrow key: 0 bytes" },
		{ ed_pem, 1, "escrow private key: key type Ed25519 (expected an unencrypted PEM RSA" },
		{ a_pub, 1, "escrow private key: not a key mbedtls can read" },
	};
	struct si_diag d = { { 0 } };
	char *json = seal(a_pub), *out = si_secret_alloc(SI_RECOVERY_LEN + 1), *j = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		memset(&d, 0, sizeof(d));
		if (cases[i].priv)
			r = open_doc(cases[i].pem, json, out, &d);
		else
			r = si_escrow_seal(cases[i].pem, strlen(cases[i].pem), key, uuid, vid, &j, &d);
		if (r != -EINVAL || !strstr(d.msg, cases[i].named))
			fail_msg("case %zu: r=%d `%s'", i, r, d.msg);
		assert_null(j);
	}
	free(json);
	si_secret_free(out);
}

static void test_seal_inputs(void **state)
{
	struct si_diag d = { { 0 } };
	char *j = NULL;

	(void)state;
	assert_int_equal(si_escrow_seal(a_pub, strlen(a_pub), "not-a-key", uuid, vid, &j, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "recovery key is 64 characters"));
	assert_int_equal(si_escrow_seal(a_pub, strlen(a_pub), key, "../../etc/x", vid, &j, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "uuid `../../etc/x'"));
	assert_int_equal(si_escrow_seal(a_pub, strlen(a_pub), key, uuid, "ABCD", &j, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "volume_id `ABCD'"));
	assert_null(j);
	j = seal(a_pub);
	free(j);
}

static int count_entries(const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(dh);
	while ((e = readdir(dh)))
		n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
	closedir(dh);
	return n;
}

static void test_write(void **state)
{
	char dir[] = "/tmp/test_escrow.XXXXXX", path[256], want[320], back[SI_ESCROW_JSON_MAX];
	struct si_diag d = { { 0 } };
	struct stat st;
	char *json = seal(a_pub);
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	umask(022);
	assert_int_equal(si_escrow_write(dir, uuid, json, path, sizeof(path), &d), 0);
	snprintf(want, sizeof(want), "%s/sealinit-escrow-%s.json", dir, uuid);
	assert_string_equal(path, want);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(back, 1, sizeof(back) - 1, f);
	fclose(f);
	back[n] = '\0';
	assert_string_equal(back, json);
	assert_int_equal(count_entries(dir), 1);    /* no temporary file left */
	/* Again: replaced whole. */
	assert_int_equal(si_escrow_write(dir, uuid, "{}\n", path, sizeof(path), &d), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3);
	assert_int_equal(count_entries(dir), 1);
	/* A uuid that would leave the directory, and a missing directory. */
	assert_int_equal(si_escrow_write(dir, "../x", json, path, sizeof(path), &d), -EINVAL);
	assert_int_equal(si_escrow_write("/nonexistent/dir", uuid, json, path, sizeof(path), &d),
			 -ENOENT);
	assert_non_null(strstr(d.msg, "/nonexistent/dir"));
	assert_int_equal(unlink(want), 0);
	assert_int_equal(rmdir(dir), 0);
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_tampered_fields),
		cmocka_unit_test(test_tampered_ciphertext),
		cmocka_unit_test(test_key_kinds),
		cmocka_unit_test(test_seal_inputs),
		cmocka_unit_test(test_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
