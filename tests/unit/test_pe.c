/* SPDX-License-Identifier: MIT */
/* The Authenticode hash of a PE image (core/pe.c): a PE32+ built here with
 * its sections out of file order, trailing data and a certificate table,
 * against the spec's ranges hashed by hand; the fields the hash leaves out
 * (checksum, the certificate entry and table) against one it covers; each
 * malformed field refused by name. tests/qemu/uefi.sh checks a real kernel
 * against the PCR 4 digest of an AAVMF boot. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/errors.h"
#include "core/hash.h"
#include "core/pe.h"

#define PE      0x40
#define OPT     (PE + 24)
#define OPTSZ   (112 + 16 * 8)
#define SECS    (OPT + OPTSZ)
#define HDRSZ   0x200
#define CKSUM   (OPT + 64)
#define CERT    (OPT + 112 + 4 * 8)
#define SEC_A   0x300  /* the first section header's data, after B's */
#define SEC_B   0x200
#define TRAIL   0x400  /* data after the sections, before the certificates */
#define CERTOFF 0x410
#define LEN     0x430

static uint8_t img[LEN];

static void le16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	le16(p, v);
	le16(p + 2, v >> 16);
}

static void build(void)
{
	size_t i;

	for (i = 0; i < LEN; i++)
		img[i] = (uint8_t)(i * 7 + 3);
	img[0] = 'M', img[1] = 'Z';
	le32(img + 0x3c, PE);
	memcpy(img + PE, "PE\0\0", 4);
	le16(img + PE + 4, 0xaa64);
	le16(img + PE + 6, 2);               /* NumberOfSections */
	le16(img + PE + 20, OPTSZ);
	le16(img + OPT, 0x20b);              /* PE32+ */
	le32(img + OPT + 60, HDRSZ);
	le32(img + CKSUM, 0x12345678);
	le32(img + OPT + 108, 16);           /* NumberOfRvaAndSizes */
	le32(img + CERT, CERTOFF);
	le32(img + CERT + 4, LEN - CERTOFF);
	/* Section A's data lies after B's: hashed second. */
	le32(img + SECS + 16, 0x100);        /* A: SizeOfRawData */
	le32(img + SECS + 20, SEC_A);        /* A: PointerToRawData */
	le32(img + SECS + 40 + 16, 0x100);
	le32(img + SECS + 40 + 20, SEC_B);
}

static void expected(uint8_t out[32])
{
	static uint8_t cat[LEN];
	size_t n = 0;

#define CAT(from, to) (memcpy(cat + n, img + (from), (size_t)((to) - (from))), n += (to) - (from))
	CAT(0, CKSUM);
	CAT(CKSUM + 4, CERT);
	CAT(CERT + 8, HDRSZ);
	CAT(SEC_B, SEC_B + 0x100);
	CAT(SEC_A, SEC_A + 0x100);
	CAT(TRAIL, CERTOFF);
#undef CAT
	si_sha256(cat, n, out);
}

static void test_hash(void **state)
{
	struct si_diag d = { { 0 } };
	uint8_t got[32], want[32], again[32];

	(void)state;
	build();
	expected(want);
	assert_int_equal(si_pe_authenticode(img, LEN, got, &d), 0);
	assert_memory_equal(got, want, 32);
	/* Signing changes the checksum, the entry and the table: not the hash. */
	le32(img + CKSUM, 0);
	le32(img + CERT + 4, LEN - CERTOFF - 0x10);
	le32(img + CERT, CERTOFF + 0x10);
	img[LEN - 1] ^= 1;
	assert_int_equal(si_pe_authenticode(img, LEN, again, &d), 0);
	/* ... except that the bytes the table gave up are now trailing data. */
	assert_memory_not_equal(again, want, 32);
	build();
	le32(img + CKSUM, 0);
	img[LEN - 1] ^= 1;
	assert_int_equal(si_pe_authenticode(img, LEN, again, &d), 0);
	assert_memory_equal(again, want, 32);
	/* Control: one byte of a section changes it. */
	img[SEC_A + 5] ^= 1;
	assert_int_equal(si_pe_authenticode(img, LEN, again, &d), 0);
	assert_memory_not_equal(again, want, 32);
}

static void test_no_certificates(void **state)
{
	struct si_diag d = { { 0 } };
	uint8_t got[32], want[32];
	static uint8_t cat[LEN];
	size_t n = 0;

	(void)state;
	/* Unsigned: no table, so everything after the sections is hashed. */
	build();
	le32(img + CERT, 0);
	le32(img + CERT + 4, 0);
	memcpy(cat, img, CKSUM), n = CKSUM;
	memcpy(cat + n, img + CKSUM + 4, CERT - CKSUM - 4), n += CERT - CKSUM - 4;
	memcpy(cat + n, img + CERT + 8, HDRSZ - CERT - 8), n += HDRSZ - CERT - 8;
	memcpy(cat + n, img + SEC_B, 0x100), n += 0x100;
	memcpy(cat + n, img + SEC_A, 0x100), n += 0x100;
	memcpy(cat + n, img + TRAIL, LEN - TRAIL), n += LEN - TRAIL;
	si_sha256(cat, n, want);
	assert_int_equal(si_pe_authenticode(img, LEN, got, &d), 0);
	assert_memory_equal(got, want, 32);
}

static void refused(const char *want)
{
	struct si_diag d = { { 0 } };
	uint8_t got[32];

	assert_int_equal(si_pe_authenticode(img, LEN, got, &d), -EINVAL);
	if (!strstr(d.msg, want))
		fail_msg("diag `%s' does not name `%s'", d.msg, want);
}

static void test_malformed(void **state)
{
	struct si_diag d = { { 0 } };
	uint8_t got[32];
	size_t n;

	(void)state;
	build();
	img[0] = 'Z';
	refused("e_magic");
	build();
	le32(img + 0x3c, LEN - 10);
	refused("e_lfanew");
	build();
	img[PE + 1] = 'X';
	refused("e_lfanew");
	build();
	le16(img + OPT, 0x10c);
	refused("Magic");
	build();
	le32(img + OPT + 108, 17);
	refused("NumberOfRvaAndSizes");
	build();
	le16(img + PE + 20, 100);
	refused("SizeOfOptionalHeader");
	build();
	le16(img + PE + 6, 97);
	refused("NumberOfSections");
	build();
	le32(img + OPT + 60, LEN + 1);
	refused("SizeOfHeaders");
	build();
	le32(img + OPT + 60, SECS + 40);  /* the section table does not fit */
	refused("SizeOfHeaders");
	build();
	le32(img + SECS + 16, 0x200);     /* A runs into the certificates */
	refused("PointerToRawData + SizeOfRawData");
	build();
	le32(img + SECS + 20, 0xffffff00); /* past the end, and no wrap-around */
	refused("PointerToRawData + SizeOfRawData");
	build();
	le32(img + CERT + 4, LEN - CERTOFF - 1);
	refused("the certificate table");
	build();
	le32(img + CERT, 0x100);
	le32(img + CERT + 4, LEN - 0x100);
	refused("the certificate table");
	/* Every truncation is refused or hashed, none read past it (ASan). */
	build();
	for (n = 0; n < LEN; n++)
		assert_true(si_pe_authenticode(img, n, got, &d) == -EINVAL);
	assert_int_equal(si_pe_authenticode(img, LEN, got, &d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_no_certificates),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
