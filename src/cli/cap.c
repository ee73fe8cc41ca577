/* SPDX-License-Identifier: MIT */
/* sealinit cap: extend a separator so sealed keys stay shut until reboot. */
#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/errors.h"
#include "core/pcrs.h"
#include "core/tpm/pcr.h"

int cap_main(const struct cli_args *a)
{
	struct si_diag d = { { 0 } };
	struct si_pcr_opts po;
	char buf[96];
	int r;

	if (!ENABLE_TPM2)
		return unsupported("cap", "TPM2 support");
	r = pcr_opts_from_args("cap", a, &po);
	if (r)
		return r;
	po.verify = true;
	r = si_pcr_event(&po, SI_CAP_EVENT, sizeof(SI_CAP_EVENT) - 1, &d);
	if (r < 0)
		return fail("cap", r, &d);
	si_pcrs_format(po.pcr_mask, buf, sizeof(buf));
	printf("Capped PCRs %s in every active bank\n", buf[0] ? buf : "(none)");
	return 0;
}
