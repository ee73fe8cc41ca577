/* SPDX-License-Identifier: MIT */
/*
 * sealinit reseal DEVICE: after a boot the TPM did not unlock (an update
 * that was not enrolled for, a cleared TPM) and a recovery key did, bind a
 * new TPM token to the state this boot is in, and drop the old tokens.
 *
 * Run from the booted system, whose PCRs are capped, so the state comes
 * from this boot's logs (cli/bootstate.c): the firmware's and sealinit's,
 * replayed up to the cap and checked against the TPM (a log that does not
 * replay to the PCR's value is refused), with the measured PCR as the
 * configuration expects it (the command line of a recovery boot is the
 * console user's, not the configuration's); or from --expect (sealinit
 * predict's values for the next image). PCRs the logs do not name are
 * sealed as they are.
 *
 * The new token is of the old one's kind: a signed token stays signed
 * (its key, its signed PCRs, its rollback counter), or the next signed
 * update would not open it; a literal one stays literal. It binds at
 * least the PCRs of the configuration's pcrs= and of the old tokens,
 * unless --force: a token on fewer PCRs is one the firmware no longer
 * guards. The new token is enrolled before any old one is removed: a
 * power cut leaves one more keyslot, never one less.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/bootstate.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/bootcfg.h"
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

/* The old tokens: the first one that parses is the new one's model (its
 * kind); *bound: the PCRs they bind, all together. 1 when there is a
 * model, 0 when none, or the exit code (negated) after printing why. */
static int old_tokens(const char *device, struct si_token *model, uint32_t *bound)
{
	static struct si_token t;
	struct si_luks *l = NULL;
	struct si_diag d = { { 0 } };
	int id, found = 0;

	*bound = 0;
	if (!ENABLE_TPM2)
		return -unsupported("reseal", "TPM2 support");
	if (si_luks_open(device, &l, &d) < 0)
		return -fail("reseal", -SI_EBADHEADER, &d);
	for (id = 0; id < SI_LUKS_MAX_TOKENS; id++) {
		const char *json;

		if (si_luks_token_json(l, id, SI_TOKEN_TYPE, &json) < 0 ||
		    si_token_parse(json, &t, &d) < 0)
			continue;
		*bound |= t.pcr_mask | t.pubkey_pcr_mask;
		if (!found++)
			*model = t;
	}
	si_luks_close(l);
	return found ? 1 : 0;
}

int reseal_main(const struct cli_args *a)
{
	static struct si_pcr_expect expect;
	static struct si_token model;
	static struct si_bootcfg c;
	struct si_enroll_opts o = { .keyslot = -1 };
	struct si_enroll_result res;
	struct si_diag d = { { 0 } };
	char *typed = NULL, *pass = NULL, pcrbuf[96], want[96];
	uint32_t old_bound = 0, required, capped = 0;
	bool is_signed;
	size_t len = 0;
	int r;

	if (!ENABLE_TPM2)
		return unsupported("reseal", "TPM2 support");
	if (a->argc != 1)
		return usage_error("reseal", "%s", "expected exactly one DEVICE");
	o.device = a->argv[0];
	if (load_config("reseal", a->config, a->config_given, &c) < 0)
		return EXIT_USAGE;
	r = old_tokens(o.device, &model, &old_bound);
	if (r < 0)
		return -r;
	is_signed = r == 1 && model.pubkey_len;
	if (is_signed) {
		/* Signed stays signed, with its key and counter: the update
		 * machinery (sign, revoke) goes on working on the new token. */
		o.pubkey_pem = model.pubkey;
		o.pubkey_pem_len = model.pubkey_len;
		o.pubkey_pcr_mask = model.pubkey_pcr_mask;
		o.counter_nv = model.counter_nv;
		o.pcr_mask = model.pcr_mask;
	} else {
		o.pcr_mask = old_bound | c.cap_pcrs;
	}
	if (r == 1 && model.pin)
		o.get_pin = ask_pin;
	if (a->pcrs && si_pcrs_parse(a->pcrs, &o.pcr_mask, &d) < 0)
		return usage_error("reseal", "--pcrs: %s", d.msg);
	if (si_pcrs_check_sealable(o.pcr_mask | o.pubkey_pcr_mask, &d) < 0)
		return usage_error("reseal", "--pcrs: %s", d.msg);
	/* Fewer PCRs than the configuration caps, or than the old token
	 * bound, is a token the firmware's state no longer guards: the way a
	 * failing reseal is "fixed" by hand. */
	required = c.cap_pcrs | old_bound;
	if ((required & ~(o.pcr_mask | o.pubkey_pcr_mask)) && !a->force) {
		si_pcrs_format(required & ~(o.pcr_mask | o.pubkey_pcr_mask), pcrbuf, sizeof(pcrbuf));
		si_pcrs_format(required, want, sizeof(want));
		fprintf(stderr, "%s reseal: the new token would not bind PCR %s, which the "
			"configuration's pcrs= and the old tokens bind (%s): refused; bind them, or "
			"--force\n", prog, pcrbuf, want);
		return 1;
	}
	o.cap_pcrs = c.cap_pcrs;
	o.uncapped_pcrs = a->uncapped_pcrs;
	if (!o.uncapped_pcrs && si_pcrs_check_capped(o.pcr_mask | o.pubkey_pcr_mask, o.cap_pcrs, &d) < 0) {
		fprintf(stderr, "%s reseal: %s (--uncapped-pcrs seals anyway)\n", prog, d.msg);
		return si_exit_code(-EINVAL);
	}
	if (o.pcr_mask && a->expect) {
		r = expect_file("reseal", a->expect, o.pcr_mask, &expect);
		if (r)
			return r;
		o.expect = &expect;
	} else if (o.pcr_mask) {
		r = boot_state_configured("reseal", a, &c, o.pcr_mask, &expect, &capped);
		if (r) {
			fprintf(stderr, "  (or give the state with --expect FILE)\n");
			return r;
		}
		o.expect = &expect;
	}

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
	printf("Resealed %s: token %d, keyslot %d, %s, sha256 PCRs %s", o.device, res.token,
	       res.keyslot, is_signed ? "signed" : "literal", pcrbuf[0] ? pcrbuf : "(none)");
	if (is_signed) {
		si_pcrs_format(o.pubkey_pcr_mask, pcrbuf, sizeof(pcrbuf));
		printf(", signed PCRs %s (the old token's key", pcrbuf);
		if (o.counter_nv)
			printf(" and rollback counter 0x%08x", o.counter_nv);
		printf(")");
	}
	if (o.expect) {
		si_pcrs_format(expect.mask, pcrbuf, sizeof(pcrbuf));
		printf(" (PCR %s sealed to %s)", pcrbuf,
		       a->expect ? a->expect : "the state this boot's logs replay to, before the cap");
	}
	printf("\n");
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
