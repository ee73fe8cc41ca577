/* SPDX-License-Identifier: MIT */
/*
 * sealinit migrate: enroll the TPM next to the legacy keyslot; --finish
 * removes the legacy keyslot, --status prints the journal.
 *
 * Run on a booted device, whose PCRs are capped: the new token is sealed
 * to the state before the cap (this boot's logs, with the measured PCR as
 * the configuration expects it: cli/bootstate.c), or to --expect FILE
 * (sealinit predict's values), never to the capped values, which the
 * booted system can reach again. --current seals to the values now, for a
 * device whose boot measures nothing.
 *
 * --finish removes the only key that does not depend on the TPM, so it
 * needs proof that the TPM token opens in a genuine boot: this boot's
 * unlock record (/run/sealinit/unlock, written by the boot stage) must say
 * that this volume was unlocked by a TPM token whose keyslot is still the
 * token's. A test unseal now proves nothing on a capped device (it fails)
 * nor on one that is not (it opens in any state).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <strings.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/bootstate.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/legacy/unlock.h"
#include "core/luks.h"
#include "core/migrate.h"
#include "core/pcrs.h"
#include "core/secret.h"
#include "core/token.h"

#define BOOT_RECORD_DEFAULT "/run/sealinit/unlock"

/* This boot's unlock record: key=value lines (docs/boot.md). */
struct boot_record {
	char source[16];
	char uuid[40];
	int token, keyslot;
};

static int record_int(const char *v, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || end == v || n < 0 || n > 31)
		return -EINVAL;
	*out = (int)n;
	return 0;
}

/* 0, or 1 after printing why. */
static int read_boot_record(const char *path, struct boot_record *b)
{
	char text[4096], *line, *save = NULL;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	memset(b, 0, sizeof(*b));
	b->token = b->keyslot = -1;
	if (fd < 0) {
		fprintf(stderr, "%s migrate: no record that this boot unlocked the volume through "
			"the TPM: %s: %s\n", prog, path, strerror(errno));
		return 1;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0 || n == (ssize_t)sizeof(text) - 1 || memchr(text, '\0', (size_t)n)) {
		fprintf(stderr, "%s migrate: %s: not a boot record (unreadable, over %zu bytes or "
			"with a NUL)\n", prog, path, sizeof(text) - 2);
		return 1;
	}
	text[n] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		int bad = 0;

		if (!eq)
			continue;
		*eq++ = '\0';
		if (!strcmp(line, "source"))
			bad = snprintf(b->source, sizeof(b->source), "%s", eq) >= (int)sizeof(b->source);
		else if (!strcmp(line, "uuid"))
			bad = snprintf(b->uuid, sizeof(b->uuid), "%s", eq) >= (int)sizeof(b->uuid);
		else if (!strcmp(line, "token"))
			bad = record_int(eq, &b->token) < 0;
		else if (!strcmp(line, "keyslot"))
			bad = record_int(eq, &b->keyslot) < 0;
		if (bad) {
			fprintf(stderr, "%s migrate: %s: `%s=%.60s': not a value of the boot record\n",
				prog, path, line, eq);
			return 1;
		}
	}
	return 0;
}

/* The record says this boot unlocked device through one of its TPM
 * tokens, whose keyslot is still that token's: 0, with its keyslot in
 * *keyslot; or 1 after printing why. */
static int booted_by_tpm(const char *device, const char *path, int *keyslot)
{
	static struct si_token t;
	struct boot_record b;
	struct si_luks_info info;
	struct si_luks *l = NULL;
	struct si_diag d = { { 0 } };
	const char *json;
	int r;

	if (!ENABLE_TPM2)
		return unsupported("migrate", "TPM2 support");
	if (read_boot_record(path, &b))
		return 1;
	r = si_luks_open(device, &l, &d);
	if (r < 0)
		return fail("migrate", r, &d);
	si_luks_info(l, &info);
	r = 1;
	if (!b.uuid[0] || strcasecmp(b.uuid, info.uuid)) {
		fprintf(stderr, "%s migrate: this boot unlocked the volume `%s', not %s (%s): no "
			"proof the TPM opens it\n", prog, b.uuid[0] ? b.uuid : "(none)", device,
			info.uuid);
	} else if (strcmp(b.source, "tpm2")) {
		fprintf(stderr, "%s migrate: this boot unlocked %s with source=%s, not the TPM: no "
			"proof that the TPM token opens it in a genuine boot\n", prog, device,
			b.source[0] ? b.source : "(none)");
	} else if (b.token < 0 || b.keyslot < 0 ||
		   si_luks_token_json(l, b.token, SI_TOKEN_TYPE, &json) < 0 ||
		   si_token_parse(json, &t, &d) < 0 || t.keyslot != b.keyslot ||
		   !si_luks_keyslot_active(l, b.keyslot)) {
		fprintf(stderr, "%s migrate: this boot's TPM unlock (token %d, keyslot %d) is not "
			"a TPM token of %s any more: no proof that its token opens it\n", prog,
			b.token, b.keyslot, device);
	} else {
		*keyslot = b.keyslot;
		r = 0;
	}
	si_luks_close(l);
	return r;
}

int migrate_main(const struct cli_args *a)
{
	static struct si_pcr_expect expect;
	struct si_migrate_opts o = { .legacy_keyslot = -1 };
	struct si_migrate_result res;
	struct si_bootcfg c;
	uint32_t capped = 0;
	char pcrs[96];
	struct si_diag d = { { 0 } };
	uint8_t *key = NULL;
	size_t len = 0;
	int r;

	if (!ENABLE_TPM2)
		return unsupported("migrate", "TPM2 support");
	if (a->argc != 1)
		return usage_error("migrate", "%s", "expected DEVICE");
	if (a->finish + a->status > 1 || ((a->finish || a->status) &&
	    (a->key_file || a->pcrs || a->expect || a->current || a->event_log || a->firmware_log ||
	     a->cmdline || a->init || a->force || a->uncapped_pcrs)))
		return usage_error("migrate", "%s", "--finish and --status take only DEVICE, "
				   "--boot-record and TPM options");
	if (a->boot_record && !a->finish)
		return usage_error("migrate", "%s", "--boot-record is for --finish");
	if (a->expect && a->current)
		return usage_error("migrate", "%s", "--expect FILE or --current, not both");
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

		/* The proof is this boot's: the TPM token opened the volume
		 * in a boot that measured and capped. */
		r = booted_by_tpm(o.device, a->boot_record ? a->boot_record : BOOT_RECORD_DEFAULT,
				  &fo.verified_keyslot);
		if (r) {
			fprintf(stderr, "  nothing was changed: the legacy keyslot stays until a boot "
				"unlocks %s through the TPM\n", o.device);
			return r;
		}
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
	if (load_config("migrate", a->config, !a->key_file || a->config_given, &c) < 0)
		return EXIT_USAGE;
	if (!a->pcrs) {
		o.pcr_mask = c.migrate_pcrs ? c.migrate_pcrs : UINT32_C(1) << c.measure_pcr;
	} else if (si_pcrs_parse(a->pcrs, &o.pcr_mask, &d) < 0 ||
		   si_pcrs_check_sealable(o.pcr_mask, &d) < 0) {
		return usage_error("migrate", "--pcrs: %s", d.msg);
	}
	/* Checked here for both key sources: the network's enrolls in a
	 * worker that knows no configuration. */
	o.cap_pcrs = c.cap_pcrs;
	o.uncapped_pcrs = a->uncapped_pcrs;
	if (!o.uncapped_pcrs && si_pcrs_check_capped(o.pcr_mask, o.cap_pcrs, &d) < 0) {
		fprintf(stderr, "%s migrate: %s (--uncapped-pcrs seals anyway)\n", prog, d.msg);
		return si_exit_code(-EINVAL);
	}
	if (a->current && access(a->event_log ? a->event_log : EVENTLOG_DEFAULT, F_OK) == 0) {
		/* The values now are the capped ones, if this boot capped:
		 * the booted system reaches them again. */
		r = boot_state("migrate", a, o.pcr_mask, &expect, &capped);
		if (r)
			return r;
		if (capped) {
			si_pcrs_format(capped, pcrs, sizeof(pcrs));
			fprintf(stderr, "%s migrate: --current: PCR %s is capped this boot (its event "
				"log says so): the booted system can reach its value again; seal to the "
				"state before the cap (without --current) or to --expect FILE\n", prog,
				pcrs);
			return 1;
		}
	}
	if (a->expect) {
		r = expect_file("migrate", a->expect, o.pcr_mask, &expect);
		if (r)
			return r;
		o.expect = &expect;
	} else if (!a->current) {
		r = boot_state_configured("migrate", a, &c, o.pcr_mask, &expect, &capped);
		if (r) {
			fprintf(stderr, "  (or give the state with --expect FILE, as sealinit predict "
				"prints it; --current for a boot that measures nothing)\n");
			return r;
		}
		o.expect = &expect;
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
			.migrate_expect = o.expect,
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
