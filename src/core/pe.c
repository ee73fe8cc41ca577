/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "core/errors.h"
#include "core/mbedcompat.h"
#include "core/pe.h"

#define PE32_MAGIC      0x10b
#define PE32PLUS_MAGIC  0x20b
#define DIR_SECURITY    4   /* the certificate table's data-directory index */

static uint32_t le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return le16(p) | le16(p + 2) << 16;
}

static int bad(struct si_diag *d, const char *field, const char *why)
{
	si_diag_set(d, "PE image: %s: %s", field, why);
	return -EINVAL;
}

struct section {
	uint32_t off, size;
};

int si_pe_authenticode(const uint8_t *img, size_t len, uint8_t out[SI_SHA256_SIZE],
		       struct si_diag *d)
{
	struct section sec[SI_PE_SECTIONS];
	mbedtls_sha256_context ctx;
	uint64_t pe, opt, optsz, dirs, ndirs, hdrsz, cksum, cert = 0, secs, sum;
	uint64_t certoff = 0, certsz = 0, end;
	uint32_t nsec, magic, i, j, n = 0;
	int r = -EIO;

	if (len > SI_PE_MAX)
		return bad(d, "size", "larger than 512 MiB");
	if (len < 0x40 || img[0] != 'M' || img[1] != 'Z')
		return bad(d, "e_magic", "not `MZ'");
	pe = le32(img + 0x3c);
	if (pe + 24 > len || memcmp(img + pe, "PE\0\0", 4))
		return bad(d, "e_lfanew", "no `PE' signature where it points");
	nsec = le16(img + pe + 6);
	optsz = le16(img + pe + 20);
	opt = pe + 24;
	if (opt + optsz > len || optsz < 2)
		return bad(d, "SizeOfOptionalHeader", "past the end of the file");
	magic = le16(img + opt);
	if (magic == PE32_MAGIC)
		dirs = opt + 96;
	else if (magic == PE32PLUS_MAGIC)
		dirs = opt + 112;
	else
		return bad(d, "Magic", "neither PE32 (0x10b) nor PE32+ (0x20b)");
	if (dirs > opt + optsz)
		return bad(d, "SizeOfOptionalHeader", "too small for the optional header's fields");
	ndirs = le32(img + dirs - 4);
	if (ndirs > 16 || dirs + 8 * ndirs > opt + optsz)
		return bad(d, "NumberOfRvaAndSizes", "more directories than the optional header holds");
	hdrsz = le32(img + opt + 60);
	cksum = opt + 64;
	secs = opt + optsz;
	if (nsec > SI_PE_SECTIONS)
		return bad(d, "NumberOfSections", "more than 96");
	if (hdrsz > len || secs + 40 * (uint64_t)nsec > hdrsz)
		return bad(d, "SizeOfHeaders", "not past the section table, or past the end of the file");
	if (ndirs > DIR_SECURITY) {
		cert = dirs + 8 * DIR_SECURITY;
		certoff = le32(img + cert);
		certsz = le32(img + cert + 4);
		if (!certsz)
			certoff = 0;
		if (certsz && (certoff + certsz != len || certoff < hdrsz))
			return bad(d, "the certificate table", "does not end the file, after the headers");
	}
	sum = hdrsz;
	for (i = 0; i < nsec; i++) {
		const uint8_t *s = img + secs + 40 * (uint64_t)i;
		struct section x = { le32(s + 20), le32(s + 16) };

		if (!x.size)
			continue;
		if ((uint64_t)x.off + x.size > len - certsz)
			return bad(d, "a section's PointerToRawData + SizeOfRawData",
				   "past the end of the file or into the certificate table");
		/* In order of file offset (insertion: at most 96 of them). */
		for (j = n; j > 0 && sec[j - 1].off > x.off; j--)
			sec[j] = sec[j - 1];
		sec[j] = x;
		n++;
		sum += x.size;
	}
	end = len - certsz;

	mbedtls_sha256_init(&ctx);
	if (si_mbed_sha256_starts(&ctx) || si_mbed_sha256_update(&ctx, img, cksum))
		goto out;
	if (cert) {
		if (si_mbed_sha256_update(&ctx, img + cksum + 4, cert - cksum - 4) ||
		    si_mbed_sha256_update(&ctx, img + cert + 8, hdrsz - cert - 8))
			goto out;
	} else if (si_mbed_sha256_update(&ctx, img + cksum + 4, hdrsz - cksum - 4)) {
		goto out;
	}
	for (i = 0; i < n; i++)
		if (si_mbed_sha256_update(&ctx, img + sec[i].off, sec[i].size))
			goto out;
	if (end > sum && si_mbed_sha256_update(&ctx, img + sum, end - sum))
		goto out;
	if (si_mbed_sha256_finish(&ctx, out))
		goto out;
	r = 0;
out:
	mbedtls_sha256_free(&ctx);
	return r;
}
