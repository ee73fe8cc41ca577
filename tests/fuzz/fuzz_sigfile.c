/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the signature file of signed PCR policies
 * (core/sigfile.c), which the boot reads from the initramfs and `sealinit
 * sign' rewrites. A lookup that succeeds returns an entry for the PCRs,
 * key and digest asked for; a file the lookup accepts takes a new entry,
 * and the result is found again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/sigfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pkfp[32] = { 0x01 }, pol[32] = { 0x02 };
	static struct si_sig got, add;
	struct si_diag d;
	char *json, *out = NULL;
	int r;

	json = malloc(size + 1);
	if (!json)
		return 0;
	memcpy(json, data, size);
	json[size] = '\0';
	/* The first bytes pick the PCRs asked for, so any entry can match. */
	r = si_sigfile_find(json, size ? (uint32_t)data[0] << 8 | 1u << 15 : 1u << 15, pkfp, pol,
			    &got, &d);
	if (r == 0 && (memcmp(got.pkfp, pkfp, 32) || memcmp(got.pol, pol, 32) ||
		       got.sig_len > SI_SIG_MAX))
		abort();
	if (r != -SI_EBADSIG) {
		memset(&add, 0, sizeof(add));
		add.pcr_mask = 1u << 15;
		memcpy(add.pkfp, pkfp, 32);
		memcpy(add.pol, pol, 32);
		add.sig[0] = 0x42;
		add.sig_len = 256;
		if (si_sigfile_add(json, &add, &out, &d) == 0) {
			if (si_sigfile_find(out, 1u << 15, pkfp, pol, &got, &d) != 0 ||
			    got.sig_len != 256 || got.sig[0] != 0x42)
				abort();
			free(out);
		}
	}
	free(json);
	return 0;
}
