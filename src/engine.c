/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "b64.h"
#include "config.h"
#include "engine.h"
#include "errors.h"
#include "luks.h"
#include "migrate.h"
#include "pcrs.h"
#include "secret.h"
#include "token.h"
#include "tpm.h"
#include "worker.h"

#define SECRET_SIZE 32  /* as systemd seals: 256 bits, full entropy */
#define PIN_MAX     256

/* Everything secret in one locked allocation, wiped on free. */
struct secrets {
	uint8_t key[128];
	size_t key_len;
	char pass[SI_B64_LEN(128) + 1];
	char pin[PIN_MAX];
};

static int fill_random(uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom(buf + done, len - done, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

int si_enroll(const struct si_enroll_opts *o, struct si_enroll_result *res,
	      struct si_diag *d)
{
	struct si_luks *luks = NULL;
	struct si_tpm *tpm = NULL;
	struct si_token *tok = NULL;
	struct secrets *s = NULL;
	struct si_seal_params sp = { 0 };
	char *json = NULL;
	int r, keyslot = -1;

	memset(res, 0, sizeof(*res));
	res->keyslot = res->token = -1;
	if (!ENABLE_TPM2) {
		si_diag_set(d, "this build has no TPM2 support");
		return -SI_EUNSUPPORTED;
	}

	/* Read the header before touching the TPM: a bad device costs nothing. */
	r = si_luks_open(o->device, &luks, d);
	if (r < 0)
		goto out;
	s = si_secret_alloc(sizeof(*s));
	tok = calloc(1, sizeof(*tok));
	if (!s || !tok) {
		r = -ENOMEM;
		goto out;
	}
	if (o->get_pin) {
		r = o->get_pin(o->pin_ctx, s->pin, sizeof(s->pin));
		if (r < 0)
			goto out;
	}
	r = fill_random(s->key, SECRET_SIZE);
	if (r < 0) {
		si_diag_set(d, "reading random bytes: %s", strerror(-r));
		goto out;
	}
	s->key_len = SECRET_SIZE;

	r = si_tpm_open(o->tcti, o->timeout_ms, &tpm, d);
	if (r < 0)
		goto out;
	sp.pcr_mask = o->pcr_mask;
	sp.pcr_bank = 0x000B; /* sha256 */
	sp.pin = o->get_pin ? s->pin : NULL;
	sp.secret = s->key;
	sp.secret_len = s->key_len;
	r = si_tpm_seal(tpm, &sp, tok, &res->srk_created, d);
	res->tpm_commands = si_tpm_commands(tpm);
	if (r < 0)
		goto out;

	/* The keyslot passphrase is base64 of the secret, as systemd does, so
	 * systemd's token plugin opens what we enroll and the other way round. */
	si_b64_encode(s->pass, s->key, s->key_len);
	keyslot = si_luks_add_keyslot(luks, o->keyslot, o->passphrase, o->passphrase_len, s->pass,
				      strlen(s->pass), d);
	if (keyslot < 0) {
		r = keyslot;
		goto out;
	}
	tok->keyslot = keyslot;
	r = si_token_format(tok, &json);
	if (r < 0)
		goto out;
	r = si_luks_add_token(luks, json, d);
	if (r < 0) {
		/* A keyslot no token points at is dead weight: take it back. */
		(void)si_luks_destroy_keyslot(luks, keyslot);
		goto out;
	}
	res->token = r;
	res->keyslot = keyslot;
	r = 0;
out:
	free(json);
	free(tok);
	si_secret_free(s);
	si_tpm_close(tpm);
	si_luks_close(luks);
	return r;
}

/* Should the loop over tokens stop at this error? Errors about the TPM or
 * the system as a whole would repeat on every token; errors about one token
 * let the next one try. */
static int stops_loop(int r)
{
	return r == -SI_ENOTPM || r == -SI_ELOCKOUT || r == -ENOMEM || r == -SI_EACTIVATE;
}

static int unlock_token(const struct si_unlock_opts *o, struct si_luks *luks,
			struct si_tpm **tpm, const struct si_token *tok, struct secrets *s,
			struct si_diag *d)
{
	int r;

	if (!*tpm) {
		r = si_tpm_open(o->tcti, o->timeout_ms, tpm, d);
		if (r < 0)
			return r;
	}
	if (tok->pin && !s->pin[0]) {
		if (!o->get_pin) {
			si_diag_set(d, "the token needs a PIN and none can be asked for");
			return -SI_ENOPIN;
		}
		r = o->get_pin(o->pin_ctx, s->pin, sizeof(s->pin));
		if (r < 0)
			return r;
	}
	r = si_tpm_unseal(*tpm, tok, tok->pin ? s->pin : NULL, s->key, sizeof(s->key),
			  &s->key_len, d);
	if (r < 0)
		return r;
	si_b64_encode(s->pass, s->key, s->key_len);
	si_wipe(s->key, sizeof(s->key));
	r = si_luks_activate(luks, o->name, tok->keyslot, s->pass, strlen(s->pass), d);
	return r < 0 ? r : 0;
}

/* Extend the cap event into every PCR of the mask, opening the TPM if the
 * unlock never got that far. Its own diag: the unlock's stays the answer. */
static int cap(const struct si_unlock_opts *o, struct si_tpm **tpm)
{
	struct si_diag d;
	unsigned int i;
	int r = 0;

	if (!*tpm)
		r = si_tpm_open(o->tcti, o->timeout_ms, tpm, &d);
	for (i = 0; r == 0 && i < SI_PCR_COUNT; i++)
		if (o->cap_mask & (UINT32_C(1) << i))
			r = si_tpm_pcr_event(*tpm, i, o->cap_event, strlen(o->cap_event), &d);
	return r;
}

static int has_journal(struct si_luks *luks)
{
	const char *json;
	int id;

	for (id = 0; id < SI_LUKS_MAX_TOKENS; id++)
		if (si_luks_token_json(luks, id, SI_MIGRATION_TOKEN, &json) == 0)
			return 1;
	return 0;
}

static int unlock_direct(const struct si_unlock_opts *o, struct si_unlock_result *res,
			 struct si_diag *d)
{
	struct si_luks *luks = NULL;
	struct si_tpm *tpm = NULL;
	struct si_token *tok = NULL;
	struct secrets *s = NULL;
	struct si_diag td;
	int r, id, first_err = 0, tried = 0;

	memset(res, 0, sizeof(*res));
	res->token = res->keyslot = -1;
	if (!ENABLE_TPM2) {
		si_diag_set(d, "this build has no TPM2 support");
		return -SI_EUNSUPPORTED;
	}
	r = si_luks_open(o->device, &luks, d);
	if (r < 0)
		return r;
	s = si_secret_alloc(sizeof(*s));
	tok = calloc(1, sizeof(*tok));
	if (!s || !tok) {
		r = -ENOMEM;
		goto out;
	}
	memset(s, 0, sizeof(*s));

	for (id = 0; id < SI_LUKS_MAX_TOKENS; id++) {
		const char *json;

		if (si_luks_token_json(luks, id, SI_TOKEN_TYPE, &json) < 0)
			continue;
		tried++;
		td.msg[0] = '\0';
		r = si_token_parse(json, tok, &td);
		if (r == 0)
			r = unlock_token(o, luks, &tpm, tok, s, &td);
		if (r == 0) {
			res->token = id;
			res->keyslot = tok->keyslot;
			/* From the header already loaded: the boot stage's
			 * migrate_finish reads the volume again only when needed. */
			res->journal = has_journal(luks);
			goto out;
		}
		/* Remember the first failure: with one token it is the answer. */
		if (!first_err || stops_loop(r)) {
			first_err = r;
			si_diag_set(d, "token %d: %s", id, td.msg[0] ? td.msg : si_strerror(r));
		}
		if (stops_loop(r))
			break;
	}
	if (!tried) {
		si_diag_set(d, "`%s' has no " SI_TOKEN_TYPE " token", o->device);
		r = -SI_ENOTOKEN;
	} else {
		r = first_err;
	}
out:
	if (tpm)
		res->tpm_commands = si_tpm_commands(tpm);
	if (o->cap_mask && o->cap_event && (r == 0 || !o->cap_only_on_success))
		res->capped = cap(o, &tpm) == 0;
	free(tok);
	si_secret_free(s);
	si_tpm_close(tpm);
	si_luks_close(luks);
	return r;
}

static int unlock_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	struct si_unlock_opts o = *(const struct si_unlock_opts *)arg;

	o.get_pin = si_worker_get_pin;
	o.pin_ctx = w;
	return unlock_direct(&o, out, d);
}

int si_unlock(const struct si_unlock_opts *o, struct si_unlock_result *res,
	      struct si_diag *d)
{
	memset(res, 0, sizeof(*res));
	res->token = res->keyslot = -1;
	return si_worker_run(unlock_work, (void *)o, res, sizeof(*res), o->timeout_ms,
			     o->get_pin, o->pin_ctx, d);
}

struct pcr_job {
	const struct si_pcr_opts *o;
	const void *data;
	size_t len;
	int op;
};

enum { JOB_EVENT, JOB_READ };

static int pcr_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	const struct pcr_job *j = arg;
	struct si_pcr_values *v = out;
	struct si_tpm *tpm = NULL;
	unsigned int i;
	int r;

	(void)w;
	r = si_tpm_open(j->o->tcti, j->o->timeout_ms, &tpm, d);
	if (r < 0)
		return r;
	if (j->op == JOB_READ) {
		r = si_tpm_pcr_read(tpm, j->o->bank, j->o->pcr_mask, v->values, sizeof(v->values),
				    &v->len, d);
	} else {
		for (i = 0, r = 0; i < SI_PCR_COUNT && r == 0; i++)
			if (j->o->pcr_mask & (UINT32_C(1) << i))
				r = si_tpm_pcr_event(tpm, i, j->data, j->len, d);
	}
	si_tpm_close(tpm);
	return r;
}

int si_pcr_event(const struct si_pcr_opts *o, const void *data, size_t len, struct si_diag *d)
{
	struct pcr_job j = { o, data, len, JOB_EVENT };

	return si_worker_run(pcr_work, &j, NULL, 0, o->timeout_ms, NULL, NULL, d);
}

int si_pcr_read(const struct si_pcr_opts *o, struct si_pcr_values *v, struct si_diag *d)
{
	struct pcr_job j = { o, NULL, 0, JOB_READ };

	memset(v, 0, sizeof(*v));
	return si_worker_run(pcr_work, &j, v, sizeof(*v), o->timeout_ms, NULL, NULL, d);
}
