/* SPDX-License-Identifier: MIT */
/* sealinit pcrread: print PCR values of one bank. */
#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/errors.h"
#include "core/pcrs.h"
#include "core/tpm/pcr.h"

int pcrread_main(const struct cli_args *a)
{
	struct si_pcr_values v;
	struct si_pcr_opts po;
	struct si_diag d = { { 0 } };
	size_t dsize, k = 0;
	unsigned int i;
	int r;

	if (!ENABLE_TPM2)
		return unsupported("pcrread", "TPM2 support");
	r = pcr_opts_from_args("pcrread", a, &po);
	if (r)
		return r;
	po.bank = si_bank_from_name(a->bank);
	if (!po.bank)
		return usage_error("pcrread", "Invalid --bank: `%s' (expected sha1, sha256, sha384 or sha512)",
				   a->bank);
	dsize = si_bank_digest_size(po.bank);
	r = si_pcr_read(&po, &v, &d);
	if (r < 0)
		return fail("pcrread", r, &d);
	for (i = 0; i < SI_PCR_COUNT; i++) {
		size_t j;

		if (!(po.pcr_mask & (UINT32_C(1) << i)))
			continue;
		printf("%s:%-2u ", a->bank, i);
		for (j = 0; j < dsize; j++)
			printf("%02x", v.values[k * dsize + j]);
		printf("\n");
		k++;
	}
	return 0;
}
