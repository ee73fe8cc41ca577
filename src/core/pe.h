/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_PE_H
#define SEALINIT_PE_H

#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"

struct si_diag;

/*
 * The Authenticode SHA-256 of a PE/COFF image: what UEFI firmware extends
 * into PCR 4 for an EFI application it loads (EV_EFI_BOOT_SERVICES_
 * APPLICATION), e.g. an arm64 kernel `Image' with its EFI stub. As the
 * Authenticode specification ("Calculating the PE Image Hash") defines it:
 * the headers up to SizeOfHeaders without the CheckSum field and the
 * certificate-table directory entry, then each section's raw data in order
 * of file offset, then what follows them up to the certificate table,
 * which must end the file.
 *
 * Strict: every offset and size is checked against the file; an image
 * that is not PE32/PE32+, a section or a certificate table past the end,
 * is -EINVAL naming the field.
 */
#define SI_PE_MAX (512 * 1024 * 1024)
#define SI_PE_SECTIONS 96   /* the PE/COFF specification's loader limit */

int si_pe_authenticode(const uint8_t *img, size_t len, uint8_t out[SI_SHA256_SIZE],
		       struct si_diag *diag);

#endif
