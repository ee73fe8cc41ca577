/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/enroll.h"
#include "core/errors.h"
#include "core/luks.h"
#include "core/migrate.h"
#include "core/pcrs.h"
#include "core/token.h"
#include "core/unlock.h"

static int read_state(struct si_luks *l, const char *device, struct si_migration_state *st,
		      struct si_diag *d)
{
	struct si_diag pd;
	const char *json;
	int id, r;

	memset(st, 0, sizeof(*st));
	st->token = st->legacy_keyslot = st->pending_keyslot = st->tpm_keyslot = -1;
	for (id = 0; id < SI_LUKS_MAX_TOKENS; id++) {
		if (si_luks_token_json(l, id, SI_MIGRATION_TOKEN, &json) < 0)
			continue;
		r = si_migration_parse(json, st, &pd);
		if (r < 0) {
			si_diag_set(d, "token %d (" SI_MIGRATION_TOKEN ") of `%s' is malformed: %.300s",
				    id, device, pd.msg);
			return r;
		}
		st->token = id;
		return 0;
	}
	return 0;
}

static int write_state(struct si_luks *l, struct si_migration_state *st, struct si_diag *d)
{
	char json[320];
	int r;

	r = si_migration_format(st, json, sizeof(json));
	if (r < 0) {
		si_diag_set(d, "the migration journal does not fit its token");
		return r;
	}
	r = si_luks_set_token(l, st->token, json, d);
	if (r >= 0)
		st->token = r;
	return r < 0 ? r : 0;
}

/* systemd-tpm2 tokens whose keyslot is ks: their ids into ids[]. */
static int tpm_tokens_of(struct si_luks *l, int ks, int *ids, int max)
{
	struct si_token *tok = calloc(1, sizeof(*tok));
	struct si_diag td;
	const char *json;
	int id, n = 0;

	if (!tok)
		return -ENOMEM;
	for (id = 0; id < SI_LUKS_MAX_TOKENS && n < max; id++) {
		if (si_luks_token_json(l, id, SI_TOKEN_TYPE, &json) < 0)
			continue;
		if (si_token_parse(json, tok, &td) == 0 && tok->keyslot == ks)
			ids[n++] = id;
	}
	free(tok);
	return n;
}

/* Remove an earlier TPM enrollment: its tokens, then its keyslot. */
static int remove_tpm_slot(struct si_luks *l, int ks, struct si_diag *d)
{
	int ids[SI_LUKS_MAX_TOKENS], n, i, r;

	n = tpm_tokens_of(l, ks, ids, SI_LUKS_MAX_TOKENS);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		r = si_luks_set_token(l, ids[i], NULL, d);
		if (r < 0)
			return r;
	}
	if (si_luks_keyslot_active(l, ks) && (r = si_luks_destroy_keyslot(l, ks)) < 0) {
		si_diag_set(d, "removing keyslot %d: %s", ks, strerror(-r));
		return r;
	}
	return 0;
}

/*
 * Bring the journal to rest after a cut: a pending keyslot that got its
 * token is a finished enrollment and becomes the TPM keyslot (replacing
 * the one before); a pending keyslot without a token is half-written and
 * goes.
 */
static int settle(struct si_luks *l, struct si_migration_state *st, struct si_migrate_result *res,
		  struct si_diag *d)
{
	int p = st->pending_keyslot, ids[1], r;

	if (p < 0)
		return 0;
	r = tpm_tokens_of(l, p, ids, 1);
	if (r < 0)
		return r;
	if (p != st->legacy_keyslot && r == 1) {
		if (st->tpm_keyslot >= 0 && st->tpm_keyslot != p &&
		    st->tpm_keyslot != st->legacy_keyslot) {
			r = remove_tpm_slot(l, st->tpm_keyslot, d);
			if (r < 0)
				return r;
			if (res)
				res->replaced_keyslot = st->tpm_keyslot;
		}
		st->tpm_keyslot = p;
	} else if (p != st->legacy_keyslot && si_luks_keyslot_active(l, p)) {
		r = si_luks_destroy_keyslot(l, p);
		if (r < 0) {
			si_diag_set(d, "removing half-written keyslot %d: %s", p, strerror(-r));
			return r;
		}
		if (res)
			res->cleaned_keyslot = p;
	}
	st->pending_keyslot = -1;
	return write_state(l, st, d);
}

int si_migrate(const struct si_migrate_opts *o, struct si_migrate_result *res, struct si_diag *d)
{
	struct si_enroll_opts eo = {
		.device = o->device, .tcti = o->tcti, .timeout_ms = o->timeout_ms,
		.pcr_mask = o->pcr_mask, .passphrase = o->passphrase,
		.passphrase_len = o->passphrase_len, .expect = o->expect,
		.cap_pcrs = o->cap_pcrs, .uncapped_pcrs = o->uncapped_pcrs,
	};
	struct si_enroll_result er;
	struct si_migration_state st;
	struct si_luks *l = NULL;
	char salt[128];
	int r, n;

	memset(res, 0, sizeof(*res));
	res->legacy_keyslot = res->tpm_keyslot = res->replaced_keyslot = res->cleaned_keyslot = -1;
	/* si_enroll checks it too, but only after the journal was written:
	 * a refused set must leave the header as it was. */
	if (o->cap_pcrs && !o->uncapped_pcrs) {
		r = si_pcrs_check_capped(o->pcr_mask, o->cap_pcrs, d);
		if (r < 0)
			return r;
	}
	r = si_luks_open(o->device, &l, d);
	if (r < 0)
		return r;
	r = read_state(l, o->device, &st, d);
	if (r < 0)
		goto out;
	if (st.token >= 0) {
		/* The journal names the legacy keyslot; it must still be that one. */
		if (!si_luks_keyslot_active(l, st.legacy_keyslot) ||
		    si_luks_keyslot_salt(l, st.legacy_keyslot, salt, sizeof(salt)) < 0 ||
		    strcmp(salt, st.legacy_salt)) {
			si_diag_set(d, "keyslot %d is no longer the legacy keyslot the migration "
				    "journal recorded; see `sealinit migrate --status'",
				    st.legacy_keyslot);
			r = -SI_EKEYSLOT;
			goto out;
		}
		r = settle(l, &st, res, d);
		if (r < 0)
			goto out;
	} else {
		r = o->legacy_keyslot >= 0 ? o->legacy_keyslot
					   : si_luks_activate(l, NULL, -1, o->passphrase,
							      o->passphrase_len, d);
		if (r < 0)
			goto out;
		st.legacy_keyslot = r;
		if (si_luks_keyslot_salt(l, r, st.legacy_salt, sizeof(st.legacy_salt)) < 0) {
			si_diag_set(d, "cannot read keyslot %d of `%s'", r, o->device);
			r = -SI_EBADHEADER;
			goto out;
		}
	}
	res->legacy_keyslot = st.legacy_keyslot;

	/* Journal the keyslot about to be written, then write it. */
	n = si_luks_free_keyslot(l, st.legacy_keyslot);
	if (n < 0) {
		si_diag_set(d, "`%s' has no free keyslot", o->device);
		r = n;
		goto out;
	}
	st.pending_keyslot = n;
	r = write_state(l, &st, d);
	si_luks_close(l);
	l = NULL;
	if (r < 0)
		return r;

	eo.keyslot = n;
	r = si_enroll(&eo, &er, d);
	res->tpm_commands = er.tpm_commands;

	/* Settle either way: on success the new keyslot becomes the TPM one;
	 * on failure the journal forgets it (si_enroll left nothing behind). */
	{
		struct si_diag sd;
		int r2 = si_luks_open(o->device, &l, &sd);

		if (r2 == 0)
			r2 = read_state(l, o->device, &st, &sd);
		if (r2 == 0)
			r2 = settle(l, &st, res, &sd);
		if (r == 0 && r2 < 0) {
			*d = sd;
			r = r2;
		}
	}
	if (r == 0)
		res->tpm_keyslot = st.tpm_keyslot;
out:
	si_luks_close(l);
	return r;
}

int si_migrate_finish(const struct si_migrate_finish_opts *o, int *removed_keyslot,
		      struct si_diag *d)
{
	struct si_migration_state st;
	struct si_luks *l = NULL;
	char salt[128];
	int r, k = o->verified_keyslot, removed = -1;

	*removed_keyslot = -1;
	r = si_luks_open(o->device, &l, d);
	if (r < 0)
		return r;
	r = read_state(l, o->device, &st, d);
	if (r == 0 && st.token < 0) {
		si_diag_set(d, "`%s' has no migration journal (" SI_MIGRATION_TOKEN " token)",
			    o->device);
		r = -ENOENT;
	}
	if (r == 0)
		r = settle(l, &st, NULL, d);
	if (r < 0)
		goto out;
	if (st.tpm_keyslot < 0) {
		si_diag_set(d, "no TPM enrollment is recorded; run `sealinit migrate' first");
		r = -SI_ENOTOKEN;
		goto out;
	}
	if (k < 0) {
		/* Prove the TPM opens the volume now, before the fallback goes. */
		struct si_unlock_opts uo = {
			.device = o->device, .tcti = o->tcti, .timeout_ms = o->timeout_ms,
		};
		struct si_unlock_result ur;

		si_luks_close(l);
		l = NULL;
		r = si_unlock(&uo, &ur, d);
		if (r < 0)
			goto out;
		k = ur.keyslot;
		r = si_luks_open(o->device, &l, d);
		if (r < 0)
			goto out;
	}
	if (k == st.legacy_keyslot) {
		si_diag_set(d, "the TPM opened keyslot %d, which is the legacy one", k);
		r = -SI_EKEYSLOT;
		goto out;
	}
	if (si_luks_keyslot_active(l, st.legacy_keyslot)) {
		if (si_luks_keyslot_salt(l, st.legacy_keyslot, salt, sizeof(salt)) < 0 ||
		    strcmp(salt, st.legacy_salt)) {
			si_diag_set(d, "keyslot %d is no longer the legacy keyslot the journal "
				    "recorded; not removing it", st.legacy_keyslot);
			r = -SI_EKEYSLOT;
			goto out;
		}
		r = si_luks_destroy_keyslot(l, st.legacy_keyslot);
		if (r < 0) {
			si_diag_set(d, "removing keyslot %d: %s", st.legacy_keyslot, strerror(-r));
			goto out;
		}
		removed = st.legacy_keyslot;
	}
	/* Only now: until here a rerun needs the journal to find the slot. */
	r = si_luks_set_token(l, st.token, NULL, d);
	if (r >= 0) {
		*removed_keyslot = removed;
		r = 0;
	}
out:
	si_luks_close(l);
	return r;
}

int si_migration_read(const char *device, struct si_migration_state *st, struct si_diag *d)
{
	struct si_luks *l;
	int r = si_luks_open(device, &l, d);

	if (r < 0)
		return r;
	r = read_state(l, device, st, d);
	si_luks_close(l);
	return r;
}
