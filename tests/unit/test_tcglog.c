/* SPDX-License-Identifier: MIT */
/* The firmware's event log (core/tcglog.c): a log built here byte by byte
 * in the crypto-agile format, its replay against chains hashed step by
 * step, an update's events replaced, and each malformed field refused by
 * name; the EFI stub's command-line digest against values hashlib computed
 * (one from a real AAVMF boot's log). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/b64.h"
#include "core/errors.h"
#include "core/hash.h"
#include "core/pcrs.h"
#include "core/tcglog.h"

#define EV_S_CRTM_VERSION 0x00000008u
#define EV_SEPARATOR      0x00000004u

struct buf {
	uint8_t b[4096];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put16(struct buf *b, uint16_t v)
{
	put8(b, (uint8_t)v);
	put8(b, (uint8_t)(v >> 8));
}

static void put32(struct buf *b, uint32_t v)
{
	put16(b, (uint16_t)v);
	put16(b, (uint16_t)(v >> 16));
}

/* The spec-ID header with sha1 and sha256 (and a third algorithm if alg3),
 * as OVMF writes it: PCR 0, EV_NO_ACTION, 20 zero bytes. */
static void header(struct buf *b, uint16_t alg3, uint16_t size3)
{
	static const uint8_t zero[20];
	uint32_t n = alg3 ? 3 : 2;

	put32(b, 0);
	put32(b, SI_EV_NO_ACTION);
	put(b, zero, sizeof(zero));
	put32(b, 16 + 4 + 4 + 4 + 4 * n + 1 + 2);
	put(b, "Spec ID Event03", 16);
	put32(b, 0);          /* platformClass: client */
	put8(b, 0);           /* specVersionMinor */
	put8(b, 2);           /* specVersionMajor */
	put8(b, 0);           /* specErrata */
	put8(b, 2);           /* uintnSize: UINT64 */
	put32(b, n);
	put16(b, 0x0004);
	put16(b, 20);
	put16(b, 0x000b);
	put16(b, 32);
	if (alg3) {
		put16(b, alg3);
		put16(b, size3);
	}
	put8(b, 2);           /* vendorInfoSize */
	put16(b, 0xabcd);
}

/* A TCG_PCR_EVENT2 with a sha1 digest of 0x11s and a sha256 one of `fill'. */
static void record(struct buf *b, uint32_t pcr, uint32_t type, uint8_t fill, const void *data,
		   uint32_t size)
{
	uint8_t d1[20], d256[32];

	memset(d1, 0x11, sizeof(d1));
	memset(d256, fill, sizeof(d256));
	put32(b, pcr);
	put32(b, type);
	put32(b, 2);
	put16(b, 0x0004);
	put(b, d1, sizeof(d1));
	put16(b, 0x000b);
	put(b, d256, sizeof(d256));
	put32(b, size);
	put(b, data, size);
}

/* The EFI stub's tagged event: id, size, the description with its NUL. */
static void tagged(struct buf *b, uint32_t id, const char *desc, uint8_t fill)
{
	struct buf t = { { 0 }, 0 };

	put32(&t, id);
	put32(&t, (uint32_t)strlen(desc) + 1);
	put(&t, desc, strlen(desc) + 1);
	record(b, 9, SI_EV_EVENT_TAG, fill, t.b, (uint32_t)t.n);
}

/* A log like AAVMF's, in miniature: the CRTM version in PCR 0, a spec
 * EV_NO_ACTION (not extended) in PCR 7, the kernel in PCR 4, the stub's two
 * PCR 9 events, a separator in PCR 0. */
static void sample(struct buf *b)
{
	memset(b, 0, sizeof(*b));
	header(b, 0, 0);
	record(b, 0, EV_S_CRTM_VERSION, 0xa0, "\0\0", 2);
	record(b, 7, SI_EV_NO_ACTION, 0xee, "not extended", 12);
	record(b, 4, SI_EV_EFI_BOOT_SERVICES_APPLICATION, 0xa4, "kernel", 6);
	tagged(b, 0x8f3b22ed, "LOADED_IMAGE::LoadOptions", 0xa9);
	tagged(b, 0x8f3b22ec, "Linux initrd", 0xb9);
	record(b, 0, EV_SEPARATOR, 0xc0, "\0\0\0\0", 4);
}

/* v = H(v || fill x 32), the extend done by hand. */
static void extend(uint8_t v[32], uint8_t fill)
{
	uint8_t buf[64];

	memcpy(buf, v, 32);
	memset(buf + 32, fill, 32);
	si_sha256(buf, sizeof(buf), v);
}

static void extend_digest(uint8_t v[32], const uint8_t digest[32])
{
	uint8_t buf[64];

	memcpy(buf, v, 32);
	memcpy(buf + 32, digest, 32);
	si_sha256(buf, sizeof(buf), v);
}

static int count_fn(void *ctx, const struct si_tcg_event *e, struct si_diag *d)
{
	(void)d;
	((unsigned int *)ctx)[e->index - 1] = e->pcr << 8 | e->sha256[0];
	return 0;
}

static void test_parse(void **state)
{
	unsigned int seen[6] = { 0 };
	struct si_diag d = { { 0 } };
	struct buf b;

	(void)state;
	sample(&b);
	assert_int_equal(si_tcglog_parse(b.b, b.n, count_fn, seen, &d), 6);
	assert_int_equal(seen[0], 0x0a0);
	assert_int_equal(seen[1], 0x7ee);
	assert_int_equal(seen[2], 0x4a4);
	assert_int_equal(seen[3], 0x9a9);
	assert_int_equal(seen[4], 0x9b9);
	assert_int_equal(seen[5], 0x0c0);
	/* A third bank (sha384) is read past, not taken for sha256. */
	memset(&b, 0, sizeof(b));
	header(&b, 0x000c, 48);
	{
		uint8_t d1[20], d256[32], d384[48];

		memset(d1, 1, 20), memset(d256, 0x56, 32), memset(d384, 0x84, 48);
		put32(&b, 3), put32(&b, EV_SEPARATOR), put32(&b, 3);
		put16(&b, 0x000c), put(&b, d384, 48);
		put16(&b, 0x0004), put(&b, d1, 20);
		put16(&b, 0x000b), put(&b, d256, 32);
		put32(&b, 0);
	}
	memset(seen, 0, sizeof(seen));
	assert_int_equal(si_tcglog_parse(b.b, b.n, count_fn, seen, &d), 1);
	assert_int_equal(seen[0], 0x356);
}

static void test_replay(void **state)
{
	struct si_pcr_expect out;
	struct si_diag d = { { 0 } };
	uint8_t v0[32] = { 0 }, v4[32] = { 0 }, v9[32] = { 0 }, cmd[32], ird[32], krn[32];
	struct si_tcglog_update u = { 0 };
	struct buf b;

	(void)state;
	sample(&b);
	assert_int_equal(si_tcglog_replay(b.b, b.n, NULL, &out, &d), 0);
	/* PCR 7's only record is EV_NO_ACTION: not extended, not in the mask. */
	assert_int_equal(out.mask, (1u << 0) | (1u << 4) | (1u << 9));
	extend(v0, 0xa0), extend(v0, 0xc0);
	extend(v4, 0xa4);
	extend(v9, 0xa9), extend(v9, 0xb9);
	assert_memory_equal(out.sha256[0], v0, 32);
	assert_memory_equal(out.sha256[4], v4, 32);
	assert_memory_equal(out.sha256[9], v9, 32);

	/* An update: each given digest replaces its event's, the rest stay. */
	memset(cmd, 0x5c, 32), memset(ird, 0x5d, 32), memset(krn, 0x5e, 32);
	u.initrd = ird;
	assert_int_equal(si_tcglog_replay(b.b, b.n, &u, &out, &d), 0);
	memset(v9, 0, 32), extend(v9, 0xa9), extend(v9, 0x5d);
	assert_memory_equal(out.sha256[9], v9, 32);
	assert_memory_equal(out.sha256[4], v4, 32);
	u.load_options = cmd, u.kernel = krn;
	assert_int_equal(si_tcglog_replay(b.b, b.n, &u, &out, &d), 0);
	memset(v9, 0, 32), extend_digest(v9, cmd), extend_digest(v9, ird);
	memset(v4, 0, 32), extend_digest(v4, krn);
	assert_memory_equal(out.sha256[9], v9, 32);
	assert_memory_equal(out.sha256[4], v4, 32);
	assert_memory_equal(out.sha256[0], v0, 32);
}

static void test_update_not_once(void **state)
{
	struct si_pcr_expect out;
	struct si_diag d = { { 0 } };
	uint8_t x[32] = { 1 };
	struct si_tcglog_update u = { .load_options = x };
	struct buf b;

	(void)state;
	/* No LoadOptions event (OVMF with secure boot on measured none). */
	memset(&b, 0, sizeof(b));
	header(&b, 0, 0);
	tagged(&b, 0x8f3b22ec, "Linux initrd", 0xb9);
	assert_int_equal(si_tcglog_replay(b.b, b.n, &u, &out, &d), -ENOENT);
	assert_non_null(strstr(d.msg, "has 0 PCR 9 EV_EVENT_TAG `LOADED_IMAGE::LoadOptions'"));
	/* Control: without the update the same log replays. */
	assert_int_equal(si_tcglog_replay(b.b, b.n, NULL, &out, &d), 0);
	/* Two kernels in PCR 4 (shim, then the kernel): which one is unknown. */
	sample(&b);
	record(&b, 4, SI_EV_EFI_BOOT_SERVICES_APPLICATION, 0xa5, "second", 6);
	u = (struct si_tcglog_update){ .kernel = x };
	assert_int_equal(si_tcglog_replay(b.b, b.n, &u, &out, &d), -ENOENT);
	assert_non_null(strstr(d.msg, "has 2 PCR 4 EV_EFI_BOOT_SERVICES_APPLICATION"));
	/* A tagged event whose description lacks its NUL is not the stub's,
	 * nor is the stub's description in another PCR. */
	memset(&b, 0, sizeof(b));
	header(&b, 0, 0);
	record(&b, 9, SI_EV_EVENT_TAG, 0x01, "\xed\x22\x3b\x8f\x19\0\0\0LOADED_IMAGE::LoadOptions", 33);
	record(&b, 8, SI_EV_EVENT_TAG, 0x01, "\xed\x22\x3b\x8f\x1a\0\0\0LOADED_IMAGE::LoadOptions", 34);
	u = (struct si_tcglog_update){ .load_options = x };
	assert_int_equal(si_tcglog_replay(b.b, b.n, &u, &out, &d), -ENOENT);
	/* Control: with its NUL, in PCR 9, it is. */
	record(&b, 9, SI_EV_EVENT_TAG, 0x01, "\xed\x22\x3b\x8f\x1a\0\0\0LOADED_IMAGE::LoadOptions", 34);
	assert_int_equal(si_tcglog_replay(b.b, b.n, &u, &out, &d), 0);
}

static void test_startup_locality(void **state)
{
	struct si_pcr_expect out;
	struct si_diag d = { { 0 } };
	uint8_t v0[32] = { 0 };
	struct buf b;

	(void)state;
	memset(&b, 0, sizeof(b));
	header(&b, 0, 0);
	record(&b, 0, SI_EV_NO_ACTION, 0, "StartupLocality\0\3", 17);
	record(&b, 0, EV_S_CRTM_VERSION, 0xa0, "\0\0", 2);
	assert_int_equal(si_tcglog_replay(b.b, b.n, NULL, &out, &d), 0);
	v0[31] = 3;
	extend(v0, 0xa0);
	assert_memory_equal(out.sha256[0], v0, 32);
	/* After an extend it is refused: the TPM reset long before. */
	record(&b, 0, SI_EV_NO_ACTION, 0, "StartupLocality\0\3", 17);
	assert_int_equal(si_tcglog_replay(b.b, b.n, NULL, &out, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "record 3: StartupLocality"));
}

/* Parse a copy of b with `n' bytes; the diag must name `want'. */
static void refused(const struct buf *b, size_t n, const char *want)
{
	struct si_diag d = { { 0 } };
	static uint8_t copy[4096];

	memcpy(copy, b->b, n);
	assert_int_equal(si_tcglog_parse(copy, n, NULL, NULL, &d), -EINVAL);
	if (!strstr(d.msg, want))
		fail_msg("diag `%s' does not name `%s'", d.msg, want);
}

static void test_malformed(void **state)
{
	struct buf b, h;
	size_t hn, off;
	int n;

	(void)state;
	memset(&h, 0, sizeof(h));
	header(&h, 0, 0);
	hn = h.n;
	/* Control: the header alone is a log of no records. */
	assert_int_equal(si_tcglog_parse(h.b, hn, NULL, NULL, NULL), 0);

	/* Truncated digest: the log ends inside record 1's sha256. */
	sample(&b);
	refused(&b, hn + 12 + 2 + 20 + 2 + 10, "record 1: digests[1]: the log ends inside the digest");
	/* Every truncation of the sample is refused (ASan: none reads past
	 * it) but those at a record's end, which are shorter logs. */
	for (off = 0, n = 0; off < b.n; off++) {
		struct si_diag d = { { 0 } };
		int r = si_tcglog_parse(b.b, off, NULL, NULL, &d);

		if (r >= 0)
			assert_int_equal(r, n++);
		else
			assert_int_equal(r, -EINVAL);
	}
	assert_int_equal(n, 6);
	assert_int_equal(si_tcglog_parse(b.b, b.n, NULL, NULL, NULL), 6);

	/* Digest count too large: 3 where the header lists 2. */
	b.b[hn + 8] = 3;
	refused(&b, b.n, "record 1: digests.count: 3, the header lists 2");
	sample(&b);
	b.b[hn + 8 + 3] = 0x80;  /* 2^31 + 2 */
	refused(&b, b.n, "record 1: digests.count: 2147483650");

	/* Event size past the end: the last record's size one too big. */
	sample(&b);
	off = b.n - 4 - 4;
	b.b[off] = 5;
	refused(&b, b.n, "record 6: EventSize: past the end of the log");
	b.b[off + 3] = 0xff;
	refused(&b, b.n, "record 6: EventSize: past the end of the log");

	/* An algorithm the header does not name, in a record. */
	sample(&b);
	b.b[hn + 12 + 2 + 20] = 0x0c;  /* the second digest's hashAlg: sha384 */
	refused(&b, b.n, "record 1: digests[1]: algorithm 0x000c, which the header does not list");
	/* The same algorithm twice. */
	b.b[hn + 12 + 2 + 20] = 0x04;
	refused(&b, b.n, "record 1: digests[1]: a second digest of the same algorithm");

	/* Unknown algorithm in the header's table. */
	memset(&b, 0, sizeof(b));
	header(&b, 0x0099, 32);
	refused(&b, b.n, "record 0: digestSizes[2]: algorithm 0x0099 is not");
	/* A known one with another size. */
	memset(&b, 0, sizeof(b));
	header(&b, 0x000c, 32);
	refused(&b, b.n, "record 0: digestSizes[2]: the digest size is not the algorithm's");
	/* Control: sha384 with its size is fine. */
	memset(&b, 0, sizeof(b));
	header(&b, 0x000c, 48);
	assert_int_equal(si_tcglog_parse(b.b, b.n, NULL, NULL, NULL), 0);

	/* Not a crypto-agile log: the SHA1 format's first record, a signature. */
	b = h;
	b.b[32 + 14] = '2';
	refused(&b, hn, "record 0: Signature: not `Spec ID Event03'");
	b = h;
	b.b[4] = 4;
	refused(&b, hn, "record 0: PCRIndex, EventType");
	b = h;
	b.b[8] = 1;
	refused(&b, hn, "record 0: Digest: not zero");
	/* numberOfAlgorithms 0, and too many for the header's data. */
	b = h;
	b.b[32 + 24] = 0;
	refused(&b, hn, "numberOfAlgorithms: 0");
	b.b[32 + 24] = 5;
	refused(&b, hn, "record 0: digestSizes: past the end of the header's data");
	/* Header event size past the end, and bytes after vendorInfo. */
	b = h;
	b.b[28] = (uint8_t)(b.b[28] + 1);
	refused(&b, hn, "record 0: EventSize: past the end of the log");
	b = h;
	b.b[28] = (uint8_t)(b.b[28] + 1);
	b.n++;
	refused(&b, b.n, "record 0: EventSize: bytes after vendorInfo");
	/* No sha256 in the table: nothing to replay. */
	b = h;
	b.b[32 + 28 + 4] = 0x0c;
	b.b[32 + 28 + 6] = 48;
	refused(&b, hn, "record 0: digestSizes: no sha256 bank in the log");

	/* A PCR past 23. */
	sample(&b);
	b.b[hn] = 24;
	refused(&b, b.n, "record 1: PCRIndex: 24, expected 0-23");
	/* Trailing bytes are a record that is cut short. */
	sample(&b);
	put32(&b, 0);
	refused(&b, b.n, "record 7: PCRIndex, EventType, digests.count");
}

static void test_caps(void **state)
{
	static uint8_t big[SI_TCGLOG_MAX + 1];
	static struct buf b;
	struct si_diag d = { { 0 } };
	size_t hn;
	unsigned int i;

	(void)state;
	assert_int_equal(si_tcglog_parse(big, sizeof(big), NULL, NULL, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "more than the 4194304"));
	/* The record cap: SI_TCGLOG_RECORDS + 1 separators with no data,
	 * built in the big buffer. */
	memset(&b, 0, sizeof(b));
	header(&b, 0, 0);
	memcpy(big, b.b, b.n);
	hn = b.n;
	for (i = 0; i <= SI_TCGLOG_RECORDS; i++) {
		memset(&b, 0, sizeof(b));
		record(&b, 5, EV_SEPARATOR, 0x55, "", 0);
		memcpy(big + hn + (size_t)i * b.n, b.b, b.n);
	}
	assert_int_equal(si_tcglog_parse(big, hn + (size_t)SI_TCGLOG_RECORDS * b.n, NULL, NULL, &d),
			 SI_TCGLOG_RECORDS);
	assert_int_equal(si_tcglog_parse(big, hn + (size_t)(SI_TCGLOG_RECORDS + 1) * b.n, NULL, NULL,
					 &d), -EINVAL);
	assert_non_null(strstr(d.msg, "more than 16384 records"));
}

static void hex_is(const uint8_t v[32], const char *want)
{
	char hex[65];

	si_hex_encode(hex, v, 32);
	assert_string_equal(hex, want);
}

static void test_load_options(void **state)
{
	static char big[SI_LOAD_OPTIONS_MAX + 2];
	struct si_diag d = { { 0 } };
	uint8_t v[32];

	(void)state;
	/* From the aarch64 boot of tests/qemu/uefi.sh: the PCR 9 LoadOptions
	 * digest for this /proc/cmdline. */
	assert_int_equal(si_tcglog_load_options_digest("console=ttyAMA0 panic=-1 uefi.test=1 "
						       "initrd=initrd", v, &d), 0);
	hex_is(v, "71c3516625f1caef55881d53ef5f7650b4221be5c99522e80d4f8ab340b8a6b6");
	/* Outside the BMP: a surrogate pair (hashlib: "a=\u00e9\U0001F600"
	 * .encode("utf-16-le") + 2 NULs). */
	assert_int_equal(si_tcglog_load_options_digest("a=\xc3\xa9\xf0\x9f\x98\x80", v, &d), 0);
	hex_is(v, "dc832805ec3c2f6fb1f3f4a00dd3cab2510e5b5dd8dce20b68fd42bd6b813d99");
	/* Not UTF-8: a lone continuation byte, an overlong '/', a surrogate,
	 * a sequence cut by the end. */
	assert_int_equal(si_tcglog_load_options_digest("a\x80", v, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "not UTF-8 at byte 1"));
	assert_int_equal(si_tcglog_load_options_digest("\xc0\xaf", v, &d), -EINVAL);
	assert_int_equal(si_tcglog_load_options_digest("\xed\xa0\x80", v, &d), -EINVAL);
	assert_int_equal(si_tcglog_load_options_digest("\xf0\x9f\x98", v, &d), -EINVAL);
	memset(big, 'x', SI_LOAD_OPTIONS_MAX);
	assert_int_equal(si_tcglog_load_options_digest(big, v, &d), 0);
	big[SI_LOAD_OPTIONS_MAX] = 'x';
	assert_int_equal(si_tcglog_load_options_digest(big, v, &d), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_update_not_once),
		cmocka_unit_test(test_startup_locality),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_load_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
