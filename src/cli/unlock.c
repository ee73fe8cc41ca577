/* SPDX-License-Identifier: MIT */
/* sealinit unlock: unseal a token's key; activate, or only test it. */
#include <inttypes.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/luks.h"
#include "core/tpm/authorize.h"
#include "core/unlock.h"
#include "core/volkey.h"

int unlock_main(const struct cli_args *a)
{
	struct si_unlock_opts o = { 0 };
	struct si_luks_expect expect = { a->cipher, 0 };
	struct si_unlock_result res;
	struct si_diag d = { { 0 } };
	static uint8_t pem[SI_AUTHKEY_PEM_MAX];
	static struct si_bootcfg cfg;
	double t0;
	int r;

	if (!ENABLE_TPM2)
		return unsupported("unlock", "TPM2 support");
	if (a->argc < 1 || a->argc > 2)
		return usage_error("unlock", "%s", "expected DEVICE [NAME]");
	o.device = a->argv[0];
	o.name = a->argc > 1 ? a->argv[1] : NULL;
	if (!o.name && !a->test)
		return usage_error("unlock", "%s", "give a NAME to activate, or --test");
	if (a->test && o.name)
		return usage_error("unlock", "%s", "--test activates nothing; drop NAME");
	if (a->name && !a->test)
		return usage_error("unlock", "%s", "--name is for --test; otherwise NAME is the name");
	if (a->fixate && !si_volkey_id_valid(a->fixate))
		return usage_error("unlock", "Invalid --fixate-volume-key: `%.80s' (expected 64 "
				   "lower-case hex digits, as enroll prints)", a->fixate);
	o.tcti = a->tcti;
	o.timeout_ms = a->timeout_ms;
	o.get_pin = ask_pin;
	o.fixate_volume_key = a->fixate;
	o.bind_name = a->test ? (a->name ? a->name : SI_VOLKEY_DEFAULT_NAME) : NULL;
	o.measure = a->measure_pcr >= 0;
	o.measure_pcr = a->measure_pcr >= 0 ? (unsigned int)a->measure_pcr : 0;
	o.signature = a->signature;
	if (!!a->record != !!a->public_key)
		return usage_error("unlock", "%s", "--record and --public-key go together: the record "
				   "is checked against the fleet key");
	if (a->record) {
		r = public_key_option("unlock", a->public_key, pem, sizeof(pem),
				      &o.record_pubkey_len);
		if (r)
			return r;
		o.record_index = a->record_index;
		o.record_pubkey_pem = pem;
	}
	/* A distribution's initramfs (dist/initramfs-tools, dist/dracut)
	 * unlocks as the boot stage would: the tokens it refuses are refused
	 * here, by the same configuration, and the counter is read for the
	 * same token that opens the volume. */
	if (a->boot_rules) {
		if (load_config("unlock", a->config, true, &cfg) < 0)
			return EXIT_USAGE;
		si_unlock_boot_rules(&o, &cfg);
		o.read_auth_state = false;
	}
	/* The header is checked on this path as at boot: the cipher named,
	 * or one of the known-good ones (si_luks_check); never cipher_null. */
	o.expect = a->cipher ? &expect : NULL;

	t0 = now_ms();
	r = si_unlock(&o, &res, &d);
	if (verbose)
		fprintf(stderr, "unlock: %.1f ms, %u TPM commands (header %d ms, opening the TPM "
			"%d ms, unseal %d ms, activation %d ms)\n", now_ms() - t0, res.tpm_commands,
			res.ms.header, res.ms.tpm_open, res.ms.unseal, res.ms.activate);
	if (r < 0)
		return fail("unlock", r, &d);
	if (o.record_index)
		printf("Device record (NV index 0x%08x): volume id %s, matches\n", o.record_index,
		       res.record_id);
	if (o.fixate_volume_key)
		printf("Volume key id for %s matches fixate-volume-key\n", o.bind_name ? o.bind_name : o.name);
	if (res.measured_pcr >= 0)
		printf("Measured %s into PCR %d (sha256 %s)%s\n", res.measured, res.measured_pcr,
		       res.volume_id, o.name ? "" : " though --test activated nothing");
	if (a->boot_rules && res.counter_index)
		printf("Rollback counter 0x%08" PRIx32 ": %" PRIu64 " (token %d)\n",
		       res.counter_index, res.counter_value, res.token);
	else if (a->boot_rules)
		printf("Token %d has no rollback counter\n", res.token);
	if (o.name)
		printf("Unlocked %s as /dev/mapper/%s (token %d, keyslot %d)\n", o.device, o.name,
		       res.token, res.keyslot);
	else
		printf("Token %d opens keyslot %d of %s (test only, nothing activated)\n",
		       res.token, res.keyslot, o.device);
	return 0;
}
