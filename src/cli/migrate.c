/* SPDX-License-Identifier: MIT */
/* sealinit migrate: enroll the TPM next to the legacy keyslot; --finish
 * removes the legacy keyslot, --status prints the journal. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/legacy/unlock.h"
#include "core/migrate.h"
#include "core/pcrs.h"
#include "core/secret.h"

int migrate_main(const struct cli_args *a)
{
	struct si_migrate_opts o = { .legacy_keyslot = -1 };
	struct si_migrate_result res;
	struct si_bootcfg c;
	struct si_diag d = { { 0 } };
	uint8_t *key = NULL;
	size_t len = 0;
	int r;

	if (!ENABLE_TPM2)
		return unsupported("migrate", "TPM2 support");
	if (a->argc != 1)
		return usage_error("migrate", "%s", "expected DEVICE");
	if (a->finish + a->status > 1 || ((a->finish || a->status) && (a->key_file || a->pcrs)))
		return usage_error("migrate", "%s", "--finish and --status take only DEVICE and TPM options");
	o.device = a->argv[0];
	if (a->status) {
		struct si_migration_state st;

		r = si_migration_read(o.device, &st, &d);
		if (r < 0)
			return fail("migrate", r, &d);
		if (st.token < 0) {
			printf("%s: no migration journal (not migrating, or finished)\n", o.device);
			return 0;
		}
		printf("%s: migration journal in token %d\n  legacy keyslot: %d\n"
		       "  TPM keyslot:    %d%s\n  pending:        %d%s\n",
		       o.device, st.token, st.legacy_keyslot, st.tpm_keyslot,
		       st.tpm_keyslot < 0 ? " (none yet)" : "", st.pending_keyslot,
		       st.pending_keyslot < 0 ? " (none)" : " (an interrupted enrollment; rerun migrate)");
		return 0;
	}
	if (a->finish) {
		struct si_migrate_finish_opts fo = {
			.device = o.device, .tcti = a->tcti, .timeout_ms = a->timeout_ms,
			.verified_keyslot = -1,
		};
		int removed;

		r = si_migrate_finish(&fo, &removed, &d);
		if (r < 0)
			return fail("migrate", r, &d);
		if (removed >= 0)
			printf("Removed legacy keyslot %d of %s; the TPM alone unlocks it now\n", removed,
			       o.device);
		else
			printf("The legacy keyslot of %s was already removed; journal cleared\n", o.device);
		return 0;
	}
	if (load_config("migrate", a->config, !a->key_file, &c) < 0)
		return EXIT_USAGE;
	if (!a->pcrs) {
		o.pcr_mask = c.migrate_pcrs ? c.migrate_pcrs : UINT32_C(1) << c.measure_pcr;
	} else if (si_pcrs_parse(a->pcrs, &o.pcr_mask, &d) < 0 ||
		   si_pcrs_check_sealable(o.pcr_mask, &d) < 0) {
		return usage_error("migrate", "--pcrs: %s", d.msg);
	}
	o.tcti = a->tcti;
	o.timeout_ms = a->timeout_ms;
	if (a->key_file) {
		key = si_secret_alloc(KEYFILE_MAX);
		if (!key)
			return fail("migrate", -ENOMEM, NULL);
		r = !strcmp(a->key_file, "-") ? read_key_fd(STDIN_FILENO, (char *)key, KEYFILE_MAX, &len)
					   : read_key_file(a->key_file, (char *)key, KEYFILE_MAX, &len);
		if (r < 0) {
			si_secret_free(key);
			fprintf(stderr, "%s migrate: --key-file %s: %s\n", prog, a->key_file, strerror(-r));
			return EXIT_USAGE;
		}
		o.passphrase = (const char *)key;
		o.passphrase_len = len;
		r = si_migrate(&o, &res, &d);
		si_secret_free(key);
	} else {
		/* From the network: the fetch, the check of which keyslot the
		 * key opens and the enrollment, in one worker. */
		struct si_legacy_unlock_opts lo = {
			.device = o.device, .key_fd = -1, .migrate = true, .tcti = o.tcti,
			.tpm_timeout_ms = o.timeout_ms, .migrate_pcrs = o.pcr_mask,
		};
		struct si_legacy_unlock_result lr;

		r = legacy_unlock("migrate", &c, &lo, &lr);
		if (r)
			return r;
		r = lr.migrate_r;
		res = lr.mres;
		d = lr.mdiag;
	}
	if (r < 0)
		return fail("migrate", r, &d);
	if (res.cleaned_keyslot >= 0)
		printf("Removed keyslot %d, left half-written by an interrupted migration\n",
		       res.cleaned_keyslot);
	if (res.replaced_keyslot >= 0)
		printf("Replaced the earlier TPM keyslot %d\n", res.replaced_keyslot);
	printf("Enrolled TPM keyslot %d of %s; legacy keyslot %d stays until `sealinit migrate "
	       "--finish'\n", res.tpm_keyslot, o.device, res.legacy_keyslot);
	return 0;
}
