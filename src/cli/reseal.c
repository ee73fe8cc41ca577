/* SPDX-License-Identifier: MIT */
/*
 * sealinit reseal DEVICE: after a boot the TPM did not unlock (an update
 * that was not enrolled for, a cleared TPM) and a recovery key did, bind a
 * new TPM token to the state this boot is in, and drop the old tokens.
 *
 * Run from the booted system, whose PCR 15 is capped, so the state comes
 * from this boot's event log, replayed up to the cap and checked against
 * the TPM (a log that does not replay to the PCR's value is refused), or
 * from --expect (sealinit predict's values for the next image). PCRs the
 * log does not name (the firmware's) are sealed as they are. The new token
 * is enrolled before any old one is removed: a power cut leaves one more
 * keyslot, never one less.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/enroll.h"
#include "core/errors.h"
#include "core/events.h"
#include "core/luks.h"
#include "core/pcrs.h"
#include "core/recovery.h"
#include "core/secret.h"
#include "core/token.h"
#include "core/tpm/pcr.h"

/* The other systemd-tpm2 tokens, and their keyslots, once the new one is in. */
static int drop_old_tokens(const char *device, int keep_token, int keep_slot, struct si_diag *d)
{
	struct si_luks *l = NULL;
	static struct si_token t;
	int id, r, dropped = 0;

	if (!ENABLE_TPM2)
		return -SI_EUNSUPPORTED;
	r = si_luks_open(device, &l, d);
	if (r < 0)
		return r;
	for (id = 0; id < SI_LUKS_MAX_TOKENS; id++) {
		const char *json;
		struct si_diag td;

		if (id == keep_token || si_luks_token_json(l, id, SI_TOKEN_TYPE, &json) < 0)
			continue;
		if (si_token_parse(json, &t, &td) == 0 && t.keyslot != keep_slot &&
		    si_luks_keyslot_active(l, t.keyslot)) {
			r = si_luks_destroy_keyslot(l, t.keyslot);
			if (r < 0) {
				si_diag_set(d, "removing keyslot %d of token %d: %s", t.keyslot, id,
					    strerror(-r));
				break;
			}
		}
		r = si_luks_set_token(l, id, NULL, d);
		if (r < 0)
			break;
		printf("  removed token %d (keyslot %d)\n", id, t.keyslot);
		dropped++;
	}
	si_luks_close(l);
	return r < 0 ? r : dropped;
}

int reseal_main(const struct cli_args *a)
{
	static struct si_pcr_expect expect;
	struct si_enroll_opts o = { .keyslot = -1 };
	struct si_enroll_result res;
	struct si_diag d = { { 0 } };
	char *typed = NULL, *pass = NULL, pcrbuf[96];
	size_t len = 0;
	int r;

	if (!ENABLE_TPM2)
		return unsupported("reseal", "TPM2 support");
	if (a->argc != 1)
		return usage_error("reseal", "%s", "expected exactly one DEVICE");
	o.device = a->argv[0];
	if (si_pcrs_parse(a->pcrs ? a->pcrs : CONFIG_TPM2_DEFAULT_PCRS, &o.pcr_mask, &d) < 0)
		return usage_error("reseal", "%s", d.msg);
	if (si_pcrs_check_sealable(o.pcr_mask, &d) < 0)
		return usage_error("reseal", "--pcrs: %s", d.msg);
	if (a->expect) {
		r = expect_file("reseal", a->expect, o.pcr_mask, &expect);
		if (r)
			return r;
	} else {
		r = expect_from_log("reseal", a, o.pcr_mask, &expect);
		if (r) {
			fprintf(stderr, "  (or give the state with --expect FILE)\n");
			return r;
		}
	}
	o.expect = &expect;

	typed = si_secret_alloc(KEYFILE_MAX);
	pass = si_secret_alloc(KEYFILE_MAX);
	if (!typed || !pass) {
		r = fail("reseal", -ENOMEM, NULL);
		goto out;
	}
	if (a->key_file) {
		r = read_key_file(a->key_file, typed, KEYFILE_MAX, &len);
		if (r < 0) {
			fprintf(stderr, "%s reseal: cannot read --key-file `%s': %s\n", prog, a->key_file,
				r == -ENODATA ? "empty file" : strerror(-r));
			r = 1;
			goto out;
		}
	} else {
		char prompt[300];

		snprintf(prompt, sizeof(prompt), "Recovery key (or a passphrase) for %s: ", o.device);
		if (read_secret_line(prompt, typed, PASS_MAX) < 0) {
			fprintf(stderr, "%s reseal: no key: give --key-file or run on a terminal\n", prog);
			r = EXIT_USAGE;
			goto out;
		}
		len = strlen(typed);
	}
	/* A recovery key as typed (either case, with or without dashes) opens
	 * its keyslot in the canonical form; anything else is a passphrase. */
	if (si_recovery_normalize(typed, pass, &d) == 0) {
		len = strlen(pass);
	} else {
		memcpy(pass, typed, len);
		pass[len] = '\0';
	}
	o.passphrase = pass;
	o.passphrase_len = len;
	o.tcti = a->tcti;
	o.timeout_ms = a->timeout_ms;
	d.msg[0] = '\0';
	r = si_enroll(&o, &res, &d);
	if (r < 0) {
		r = fail("reseal", r, &d);
		goto out;
	}
	si_pcrs_format(o.pcr_mask, pcrbuf, sizeof(pcrbuf));
	printf("Resealed %s: token %d, keyslot %d, sha256 PCRs %s", o.device, res.token, res.keyslot,
	       pcrbuf);
	si_pcrs_format(expect.mask, pcrbuf, sizeof(pcrbuf));
	printf(" (PCR %s sealed to %s)\n", pcrbuf,
	       a->expect ? a->expect : "the state this boot's event log replays to, before the cap");
	r = drop_old_tokens(o.device, res.token, res.keyslot, &d);
	if (r < 0) {
		fprintf(stderr, "%s reseal: the new token is in, but removing the old ones failed: %s\n",
			prog, d.msg);
		r = 1;
		goto out;
	}
	r = 0;
out:
	si_secret_free(typed);
	si_secret_free(pass);
	return r;
}
