/* SPDX-License-Identifier: MIT */
/*
 * Driver for tests/host/unlock_cap.sh: si_unlock on DEVICE with a cap of
 * PCR 15, the way the boot stage asks for it, against $SEALINIT_TCTI.
 * Prints "r=CODE capped=0|1" and exits 0; the script judges.
 * BOOT_RULES=1 in the environment adds the boot's token rules
 * (si_unlock_boot_rules) for a configuration of `pcrs=15' followed by the
 * lines of $BOOT_CONFIG: tokens on no PCR, on PCR 16/23 or on no PCR the
 * boot caps refused; locked down, tokens without tpm2_srk refused unless
 * tpm2_transient_primary=yes. With SHOW_AUTH=1 too, a second line says
 * which hierarchy passwords the boot read after the cap: auth=none,
 * auth=owner lockout, ..., or auth=unknown.
 *
 *   unlock_cap DEVICE [keep-on-failure]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/tpm/pcr.h"
#include "core/unlock.h"

int main(int argc, char **argv)
{
	struct si_unlock_opts o = {
		.tcti = getenv("SEALINIT_TCTI"), .timeout_ms = 5000,
		.cap_mask = UINT32_C(1) << 15, .cap_event = SI_CAP_EVENT,
	};
	static struct si_bootcfg c;
	struct si_unlock_result res;
	struct si_diag d = { { 0 } };
	char text[1024];
	int r;

	if (argc < 2 || !o.tcti)
		return 2;
	o.device = argv[1];
	o.cap_only_on_success = argc > 2 && !strcmp(argv[2], "keep-on-failure");
	if (getenv("BOOT_RULES")) {
		snprintf(text, sizeof(text), "pcrs=15\n%s\n",
			 getenv("BOOT_CONFIG") ? getenv("BOOT_CONFIG") : "");
		si_bootcfg_defaults(&c);
		if (si_bootcfg_parse_file(&c, text, &d) < 0) {
			fprintf(stderr, "BOOT_CONFIG: %s\n", d.msg);
			return 2;
		}
		si_unlock_boot_rules(&o, &c);
	}
	r = si_unlock(&o, &res, &d);
	printf("r=%d capped=%d (%s)\n", r < 0 ? si_exit_code(r) : 0, res.capped, d.msg);
	/* The boot reads the hierarchies' passwords after the cap
	 * (SHOW_AUTH=1 prints what it read). */
	if (getenv("SHOW_AUTH"))
		printf("auth=%s%s%s\n", res.auth_state < 0 ? "unknown" : res.auth_state ? "" : "none",
		       res.auth_state > 0 && (res.auth_state & SI_AUTH_OWNER) ? "owner " : "",
		       res.auth_state > 0 && (res.auth_state & SI_AUTH_LOCKOUT) ? "lockout" : "");
	return 0;
}
