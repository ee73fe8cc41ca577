/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the signature file of signed PCR policies
 * (core/sigfile.c), which the boot reads from the initramfs and `sealinit
 * sign' rewrites. A lookup that succeeds returns an entry for the PCRs,
 * key and digest asked for; a file the lookup accepts takes a new entry,
 * and the result is found again; the same for the entries of tokens with a
 * rollback counter (sealinit_counter), whose lookup takes the highest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/sigfile.h"

/* pol of a counted entry: 0x03 then the counter, big-endian, at the end. */
static int counted_pol(uint64_t counter, uint8_t pol[32], void *ctx)
{
	int i;

	(void)ctx;
	memset(pol, 0, 32);
	pol[0] = 0x03;
	for (i = 0; i < 8; i++)
		pol[31 - i] = (uint8_t)(counter >> (8 * i));
	return 0;
}

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
		uint8_t want[32];

		r = si_sigfile_find_counted(json, 1u << 15, pkfp, counted_pol, NULL, &got, &d);
		if (r == 0 && (!got.counted || counted_pol(got.counter, want, NULL) ||
			       memcmp(got.pol, want, 32) || memcmp(got.pkfp, pkfp, 32)))
			abort();
		memset(&add, 0, sizeof(add));
		add.counted = true;
		add.counter = r == 0 ? got.counter + 1 : 7;
		if (add.counter > INT64_MAX)
			add.counter = 0;
		add.pcr_mask = 1u << 15;
		memcpy(add.pkfp, pkfp, 32);
		counted_pol(add.counter, add.pol, NULL);
		add.sig_len = 1;
		if (si_sigfile_add(json, &add, &out, &d) == 0) {
			/* Added above the highest there was: that one is found. */
			if (si_sigfile_find_counted(out, 1u << 15, pkfp, counted_pol, NULL, &got, &d) != 0 ||
			    (add.counter && got.counter != add.counter))
				abort();
			free(out);
			out = NULL;
		}
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
