/* SPDX-License-Identifier: MIT */
/*
 * sealinit revoke: raise the TPM's rollback counter, so that signatures
 * made for a lower value (`sign --counter-value') no longer unlock tokens
 * bound to it (`enroll --counter'). The counter only counts up; there is
 * no way back, by design (docs/updates.md, "Revocation").
 *
 * With DEVICE, first the check that the device's next boot still unlocks:
 * one of its tokens bound to this counter must have, in the signature file
 * that boot reads, a signature good at the new value for the state this
 * boot measured (its logs, the firmware's and sealinit's, before the cap),
 * verified with the token's
 * key. A revoke that would lock the device out is refused before the
 * counter moves.
 *
 * Then the data volume's high-water mark (core/hwm.h) follows the counter
 * when the volume is mounted where the boot configuration says: a TPM
 * store restored from before this revoke is refused at once, not only
 * after the next boot has seen the new value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/bootstate.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/hwm.h"
#include "core/luks.h"
#include "core/pcrs.h"
#include "core/sigfile.h"
#include "core/textfile.h"
#include "core/token.h"
#include "core/tpm/authorize.h"
#include "core/tpm/counter.h"
#include "core/tpm/pcr.h"
#include "core/tpm/policy.h"
#include "core/tpm/tpm.h"

/* At most this many increments in one call: the NV of some TPMs wears,
 * and a typo of a few digits should not start a long loop. */
#define REVOKE_MAX_STEPS 1024
#define MOUNTINFO_MAX (1024 * 1024)

/* Whether token tok would unlock at the next boot, with the counter at to:
 * 0, or -1 with why in d. */
static int token_survives(const struct si_token *tok, const char *sigjson,
			  const struct si_pcr_expect *state, uint32_t index, uint64_t to,
			  struct si_diag *d)
{
	static struct si_authkey key;
	static struct si_sig e;
	struct si_counter_pol nb;
	uint8_t values[SI_PCR_COUNT * 32];
	size_t n = 0;
	unsigned int i;

	if (!ENABLE_TPM2)
		return -1;
	memset(&nb, 0, sizeof(nb));
	for (i = 0; i < SI_PCR_COUNT; i++)
		if (tok->pubkey_pcr_mask & (UINT32_C(1) << i)) {
			memcpy(values + n, state->sha256[i], 32);
			n += 32;
		}
	if (si_authkey_from_pem(&key, tok->pubkey, tok->pubkey_len, d) < 0 ||
	    si_policy_pcr(nb.base, 0x000B, tok->pubkey_pcr_mask, values, n) < 0 ||
	    si_counter_name(index, nb.name) < 0 ||
	    si_sigfile_find_counted(sigjson, tok->pubkey_pcr_mask, key.pkfp, si_counter_pol, &nb,
				    &e, d) < 0)
		return -1;
	if (e.counter < to) {
		si_diag_set(d, "the newest signature for this state is good while the counter is at "
			    "most %llu", (unsigned long long)e.counter);
		return -1;
	}
	if (si_authkey_verify(&key, e.pol, (const uint8_t *)SI_COUNTER_REF, SI_COUNTER_REF_LEN,
			      e.sig, e.sig_len) < 0) {
		si_diag_set(d, "the signature good up to %llu does not verify with the token's key",
			    (unsigned long long)e.counter);
		return -1;
	}
	si_diag_set(d, "a signature good up to %llu", (unsigned long long)e.counter);
	return 0;
}

/* 0 when the device's next boot still unlocks with the counter at to (or
 * no token of it is bound to the counter), else the exit code after
 * printing why. */
static int check_device(const struct cli_args *a, uint64_t to)
{
	static struct si_token toks[8];
	static struct si_pcr_expect state;
	const char *device = a->argv[0];
	struct si_pcr_opts po = { .tcti = a->tcti, .timeout_ms = a->timeout_ms, .bank = 0x000B };
	struct si_pcr_values v;
	struct si_diag d = { { 0 } };
	struct si_luks *l = NULL;
	char *sigjson = NULL, why[8][sizeof(d.msg)];
	uint32_t mask = 0, capped;
	size_t n = 0, i, k;
	int id, r, ids[8];

	if (!ENABLE_TPM2)
		return unsupported("revoke", "TPM2 support");
	r = si_luks_open(device, &l, &d);
	if (r < 0)
		return fail("revoke", r, &d);
	for (id = 0; id < SI_LUKS_MAX_TOKENS && n < 8; id++) {
		const char *json;

		if (si_luks_token_json(l, id, SI_TOKEN_TYPE, &json) < 0 ||
		    si_token_parse(json, &toks[n], &d) < 0 || toks[n].counter_nv != a->nv_index)
			continue;
		mask |= toks[n].pubkey_pcr_mask;
		ids[n++] = id;
	}
	si_luks_close(l);
	if (!n) {
		printf("%s has no token bound to the counter 0x%08x: none to lock out\n", device,
		       a->nv_index);
		return 0;
	}
	r = si_sigfile_read(a->signature, &sigjson, &d);
	if (r < 0)
		return fail("revoke", r, &d);
	/* This boot's state before the cap, from its logs (the firmware's,
	 * then sealinit's: a capped firmware PCR replays only so); PCRs the
	 * logs do not name as they are. */
	r = boot_state("revoke", a, mask, &state, &capped);
	if (r)
		goto out;
	po.pcr_mask = mask & ~state.mask;
	if (po.pcr_mask) {
		r = si_pcr_read(&po, &v, &d);
		if (r < 0) {
			r = fail("revoke", r, &d);
			goto out;
		}
		for (i = 0, k = 0; i < SI_PCR_COUNT; i++)
			if (po.pcr_mask & (UINT32_C(1) << i))
				memcpy(state.sha256[i], v.values + 32 * k++, 32);
	}
	for (i = 0; i < n; i++) {
		d.msg[0] = '\0';
		if (token_survives(&toks[i], sigjson, &state, a->nv_index, to, &d) == 0) {
			printf("%s: token %d unlocks at the next boot with the counter at %llu (%s in "
			       "%s)\n", device, ids[i], (unsigned long long)to, d.msg, a->signature);
			r = 0;
			goto out;
		}
		memcpy(why[i], d.msg, sizeof(why[i]));
	}
	fprintf(stderr, "%s revoke: raising the counter 0x%08x to %llu would lock %s out at its "
		"next boot; nothing was changed:\n", prog, a->nv_index, (unsigned long long)to,
		device);
	for (i = 0; i < n; i++)
		fprintf(stderr, "  token %d: %s\n", ids[i], why[i]);
	fprintf(stderr, "  install a signature file with an entry for this state signed with "
		"--counter-value %llu or more first (or revoke without DEVICE to raise it anyway)\n",
		(unsigned long long)to);
	r = 1;
out:
	free(sigjson);
	return r;
}

/* The volume's mark raised to the counter's value v, when the volume is
 * mounted (the boot configuration's mount= and name=): 0, or 1 after
 * saying why not (the counter has moved all the same). */
static int raise_mark(const struct cli_args *a, uint64_t v)
{
	static struct si_bootcfg c;
	struct si_hwm_result res;
	struct si_diag d = { { 0 } };
	char source[96], path[64], *info = NULL;
	int r;

	if (load_config("revoke", a->config, a->config_given, &c) < 0)
		goto failed;
	snprintf(source, sizeof(source), "/dev/mapper/%s", c.data_name);
	si_hwm_path(a->nv_index, path, sizeof(path));
	info = malloc(MOUNTINFO_MAX);
	r = info ? si_textfile_read("/proc/self/mountinfo", info, MOUNTINFO_MAX, &d) : -ENOMEM;
	if (r < 0) {
		fprintf(stderr, "%s revoke: %s\n", prog, info ? d.msg : strerror(-r));
		goto failed;
	}
	if (!si_hwm_mounted(info, c.data_mount, source)) {
		printf("The data volume (%s) is not mounted on %s: its high-water mark %s is raised "
		       "by the next boot that unlocks it with a token bound to this counter; until "
		       "then, a TPM store restored from before this revoke is not noticed\n", source,
		       c.data_mount, path);
		free(info);
		return 0;
	}
	free(info);
	info = NULL;
	r = si_hwm_raise(c.data_mount, a->nv_index, v, &res, &d);
	if (r < 0) {
		fprintf(stderr, "%s revoke: the data volume's high-water mark: %s\n", prog, d.msg);
		goto failed;
	}
	if (!res.written)
		printf("High-water mark %s/%s: %llu already\n", c.data_mount, path,
		       (unsigned long long)res.mark);
	else if (res.had)
		printf("High-water mark %s/%s: %llu -> %llu\n", c.data_mount, path,
		       (unsigned long long)res.mark, (unsigned long long)v);
	else
		printf("High-water mark %s/%s: %llu (none before)\n", c.data_mount, path,
		       (unsigned long long)v);
	return 0;
failed:
	free(info);
	fprintf(stderr, "%s revoke: the counter 0x%08x is at %llu, but the data volume's high-water "
		"mark was not raised; run `%s revoke' again to retry (it raises the mark when the "
		"counter is already high enough)\n", prog, a->nv_index, (unsigned long long)v, prog);
	return 1;
}

int revoke_main(const struct cli_args *a)
{
	struct si_diag d = { { 0 } };
	struct si_tpm *t = NULL;
	uint64_t before, v, to;
	unsigned int steps = 0;
	int r;

	if (!ENABLE_TPM2)
		return unsupported("revoke", "TPM2 support");
	if (a->argc > 1)
		return usage_error("revoke", "%s", "expected at most one DEVICE");
	if (a->argc && !a->signature)
		return usage_error("revoke", "%s", "DEVICE needs --signature FILE: the signature file "
				   "its next boot reads");
	if (!a->argc && (a->signature || a->event_log || a->firmware_log))
		return usage_error("revoke", "%s", "--signature, --event-log and --firmware-log check a "
				   "DEVICE; give it");
	r = si_tpm_open(a->tcti, a->timeout_ms, &t, &d);
	if (r == 0)
		r = si_tpm_counter_read(t, a->nv_index, &before, &d);
	/* The check below opens the TPM itself: one connection at a time. */
	si_tpm_close(t);
	t = NULL;
	if (r == -ENOENT)
		si_diag_set(&d, "NV index 0x%08x: no rollback counter there (enroll --counter "
			    "defines it)", a->nv_index);
	if (r < 0)
		return fail("revoke", r, &d);
	to = a->has_counter_value ? a->counter_value : before + 1;
	if (to <= before) {
		printf("Rollback counter 0x%08x is %llu already (asked: %llu): nothing to do\n",
		       a->nv_index, (unsigned long long)before, (unsigned long long)to);
		return raise_mark(a, before);
	}
	if (to - before > REVOKE_MAX_STEPS)
		return usage_error("revoke", "--counter-value %llu is %llu above the counter's %llu "
				   "(at most %d in one call)", (unsigned long long)to,
				   (unsigned long long)(to - before), (unsigned long long)before,
				   REVOKE_MAX_STEPS);
	if (a->argc) {
		r = check_device(a, to);
		if (r)
			return r;
	}
	r = si_tpm_open(a->tcti, a->timeout_ms, &t, &d);
	v = before;
	while (!r && v < to && steps++ < REVOKE_MAX_STEPS)
		r = si_tpm_counter_increment(t, a->nv_index, &v, &d);
	si_tpm_close(t);
	if (r < 0)
		return fail("revoke", r, &d);
	printf("Rollback counter 0x%08x: %llu -> %llu. Signatures made with --counter-value "
	       "below %llu no longer unlock.\n", a->nv_index, (unsigned long long)before,
	       (unsigned long long)v, (unsigned long long)v);
	return raise_mark(a, v);
}
