/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/luks.h"
#include "core/pcrs.h"
#include "core/secret.h"
#include "core/sigfile.h"
#include "core/token.h"
#include "core/tpm/counter.h"
#include "core/tpm/record.h"
#include "core/tpm/tpm.h"
#include "core/unlock.h"
#include "core/worker.h"

/* Should the loop over tokens stop at this error? Errors about the TPM or
 * the system as a whole would repeat on every token; errors about one token
 * let the next one try. */
static int stops_loop(int r)
{
	/* A volume key whose id differs is the volume's, not the token's:
	 * every token opens the same volume key. */
	return r == -SI_ENOTPM || r == -SI_ELOCKOUT || r == -ENOMEM || r == -SI_EACTIVATE ||
	       r == -SI_EVOLKEY;
}

static bool binds(const struct si_unlock_opts *o)
{
	return o->fixate_volume_key || o->measure || o->record_index;
}

/* The TPM, opened once for the whole unlock and timed. */
static int open_tpm(const struct si_unlock_opts *o, struct si_tpm **tpm,
		    struct si_unlock_result *res, struct si_diag *d)
{
	long long t0 = si_now_ms();
	int r;

	if (*tpm)
		return 0;
	r = si_tpm_open(o->tcti, o->timeout_ms, tpm, d);
	res->ms.tpm_open = (int)(si_now_ms() - t0);
	return r;
}

/* The device record's id, as the pin; a missing or foreign record is
 * -SI_ENORECORD, whatever the tokens would have said. */
static int read_record(const struct si_unlock_opts *o, struct si_tpm **tpm,
		       struct si_unlock_result *res, struct si_diag *d)
{
	uint8_t id[SI_RECORD_SIZE];
	int r = 0;

	r = open_tpm(o, tpm, res, d);
	if (r == 0)
		r = si_tpm_record_read(*tpm, o->record_index, o->record_pubkey_pem,
				       o->record_pubkey_len, id, d);
	if (r == -ENOENT || r == -SI_ENORECORD)
		return -SI_ENORECORD;
	if (r < 0)
		return r;
	si_hex_encode(res->record_id, id, sizeof(id));
	if (o->fixate_volume_key && !si_volkey_id_equal(o->fixate_volume_key, res->record_id)) {
		si_diag_set(d, "the device record (NV index 0x%08x) holds %s and fixate_volume_key "
			    "is %.64s: they must agree", o->record_index, res->record_id,
			    o->fixate_volume_key);
		return -SI_EVOLKEY;
	}
	return 0;
}

/* Activate through the volume key, checked against the pin, and measure
 * it: after activation, as systemd does, and before the caller's cap. */
static int activate_bound(const struct si_unlock_opts *o, struct si_luks *luks,
			  struct si_tpm *tpm, int keyslot, const char *pass,
			  struct si_unlock_result *res, struct si_diag *d)
{
	struct si_luks_bind *b = calloc(1, sizeof(*b));
	int r = 0, slot;

	if (!b)
		return -ENOMEM;
	b->name = o->bind_name ? o->bind_name : o->name;
	b->pin = o->fixate_volume_key;
	if (o->measure)
		r = si_tpm_pcr_banks(tpm, o->measure_pcr, b->banks, 4, &b->nbanks, d);
	if (r < 0)
		goto out;
	r = slot = si_luks_activate_bound(luks, o->name, keyslot, pass, strlen(pass), b, d);
	if (r < 0 || !o->measure)
		goto out;
	r = si_tpm_pcr_extend(tpm, o->measure_pcr, b->nbanks, b->banks,
			      (const uint8_t (*)[64])b->digests, b->digest_len, d);
	if (r < 0) {
		char why[sizeof(d->msg)];

		memcpy(why, d->msg, sizeof(why));
		si_diag_set(d, "`%s' was activated, but measuring it into PCR %u failed: %.300s",
			    o->device, o->measure_pcr, why);
		goto out;
	}
	res->measured_pcr = (int)o->measure_pcr;
	snprintf(res->measured, sizeof(res->measured), "%s", b->prefix);
	memcpy(res->volume_id, b->id, sizeof(res->volume_id));
	r = slot;
out:
	si_wipe(b, sizeof(*b));
	free(b);
	return r;
}

/* The token's rollback counter, after its unseal: on a refusal, the
 * token fails and nothing is activated. */
static int read_counter(struct si_tpm *tpm, uint32_t index, struct si_unlock_result *res,
			struct si_diag *d)
{
	char why[sizeof(d->msg)];
	int r;

	r = si_tpm_counter_read(tpm, index, &res->counter_value, d);
	if (r == 0) {
		res->counter_index = index;
		return 0;
	}
	if (r == -ENOENT) {
		si_diag_set(d, "no counter at NV index 0x%08" PRIx32, index);
		r = -SI_ETPM;
	}
	memcpy(why, d->msg, sizeof(why));
	si_diag_set(d, "its rollback counter (NV index 0x%08" PRIx32 ") cannot be read: %.300s; "
		    "not activated, since a counter that cannot be read vouches for nothing",
		    index, why);
	return r;
}

/* The token prepared before the gate (si_unlock_start): its id, or -1. */
struct prepared {
	int id;
	struct si_tpm_unseal_prep p;
};

static int unlock_token(const struct si_unlock_opts *o, struct si_luks *luks,
			struct si_tpm **tpm, int id, const struct si_token *tok,
			struct si_unsealed *s, char **sigjson, struct prepared *prep,
			struct si_unlock_result *res, struct si_diag *d)
{
	long long t0;
	int r;

	/* Read once, for the first token that needs it; not a secret. A file
	 * that cannot be read fails this token only. */
	if (tok->pubkey_pcr_mask && !*sigjson) {
		r = si_sigfile_read(o->signature ? o->signature : SI_SIGFILE_DEFAULT, sigjson, d);
		if (r < 0)
			return -SI_ENOSIG;
	}
	r = open_tpm(o, tpm, res, d);
	if (r < 0)
		return r;
	if (tok->pin && !s->pin[0]) {
		if (!o->get_pin) {
			si_diag_set(d, "the token needs a PIN and none can be asked for");
			return -SI_ENOPIN;
		}
		r = o->get_pin(o->pin_ctx, s->pin, sizeof(s->pin));
		if (r < 0)
			return r;
	}
	t0 = si_now_ms();
	if (prep->id == id) {
		r = si_tpm_unseal_prepared(*tpm, tok, tok->pin ? s->pin : NULL, *sigjson, &prep->p,
					   s->key, sizeof(s->key), &s->key_len, d);
		si_tpm_unseal_release(*tpm, &prep->p);
		prep->id = -1;
	} else {
		r = si_tpm_unseal(*tpm, tok, tok->pin ? s->pin : NULL, *sigjson, s->key,
				  sizeof(s->key), &s->key_len, d);
	}
	if (r == 0 && o->read_counter && tok->counter_nv)
		r = read_counter(*tpm, tok->counter_nv, res, d);
	res->ms.unseal += (int)(si_now_ms() - t0);
	if (r < 0) {
		si_wipe(s->key, sizeof(s->key));
		return r;
	}
	si_b64_encode(s->pass, s->key, s->key_len);
	si_wipe(s->key, sizeof(s->key));
	t0 = si_now_ms();
	if (binds(o))
		r = activate_bound(o, luks, *tpm, tok->keyslot, s->pass, res, d);
	else
		r = si_luks_activate(luks, o->name, tok->keyslot, s->pass, strlen(s->pass), d);
	res->ms.activate += (int)(si_now_ms() - t0);
	return r < 0 ? r : 0;
}

/* Extend the cap event into every PCR of the mask, and check it took,
 * opening the TPM if the unlock never got that far. Its own diag: the
 * unlock's stays the answer; a cap that did not happen is capped = 0, and
 * the caller caps again or stops. */
static int cap(const struct si_unlock_opts *o, struct si_tpm **tpm)
{
	struct si_diag d;
	int r = 0;

	if (!*tpm)
		r = si_tpm_open(o->tcti, o->timeout_ms, tpm, &d);
	if (r == 0)
		r = si_tpm_pcr_extend_verified(*tpm, o->cap_mask, o->cap_event,
					       strlen(o->cap_event), &d);
	return r;
}

static bool has_token_type(struct si_luks *luks, const char *type)
{
	const char *json;
	int id;

	for (id = 0; id < SI_LUKS_MAX_TOKENS; id++)
		if (si_luks_token_json(luks, id, type, &json) == 0)
			return true;
	return false;
}

void si_unlock_boot_rules(struct si_unlock_opts *o, const struct si_bootcfg *c)
{
	o->refuse_unsafe_pcrs = true;
	o->capped_pcrs = c->cap_pcrs;
	o->refuse_transient_primary = c->lockdown && !c->tpm2_transient_primary;
	o->read_auth_state = true;
	o->read_counter = true;
}

/* Which hierarchies have a password, after the cap (it costs one command,
 * and the cap comes first): SI_AUTH_* bits, or -1. */
static int auth_state(struct si_tpm *tpm)
{
	struct si_tpm_auth_state s;
	struct si_diag d;

	if (!tpm || si_tpm_auth_state(tpm, &s, &d) < 0)
		return -1;
	return (s.owner ? SI_AUTH_OWNER : 0) | (s.endorsement ? SI_AUTH_ENDORSEMENT : 0) |
	       (s.lockout ? SI_AUTH_LOCKOUT : 0);
}

/* The boot's rules for one token (si_unlock_boot_rules): 0, or the code
 * that skips it, with the reason in d. */
static int refused_at_boot(const struct si_unlock_opts *o, const struct si_token *tok,
			   struct si_diag *d)
{
	uint32_t pcrs = tok->pcr_mask | tok->pubkey_pcr_mask;
	char why[sizeof(d->msg)];
	int r = 0;

	if (o->refuse_unsafe_pcrs)
		r = si_pcrs_check_sealable(pcrs, d);
	if (r == 0 && o->capped_pcrs)
		r = si_pcrs_check_capped(pcrs, o->capped_pcrs, d);
	if (r < 0) {
		memcpy(why, d->msg, sizeof(why));
		si_diag_set(d, "`tpm2-pcrs'%s: %.400s; refused at boot",
			    tok->pubkey_pcr_mask ? " with `tpm2_pubkey_pcrs'" : "", why);
		return -SI_EBADTOKEN;
	}
	/* TCG's template makes the same key on every TPM, but the token
	 * carries no name to compare it with: an interposer answering
	 * CreatePrimary with its own key would see the session salt. */
	if (o->refuse_transient_primary && !tok->srk_len) {
		si_diag_set(d, "no `tpm2_srk': the key would be unsealed under a primary key made "
			    "from a template, which nothing checks; refused by a locked-down boot "
			    "(tpm2_transient_primary=yes in the configuration allows it; re-enroll "
			    "with `sealinit reseal' to pin the storage key)");
		return -SI_ESRK;
	}
	return 0;
}

/* Try every token, in id order; the first failure is the answer unless a
 * later one stops the loop. */
static int try_tokens(const struct si_unlock_opts *o, struct si_luks *luks, struct si_tpm **tpm,
		      struct prepared *prep, struct si_unlock_result *res, struct si_diag *d)
{
	struct si_token *tok = calloc(1, sizeof(*tok));
	struct si_unsealed *s = si_secret_alloc(sizeof(*s));
	struct si_diag td;
	char *sigjson = NULL;
	int r = -ENOMEM, id, first_err = 0, tried = 0;

	if (!s || !tok)
		goto out;
	memset(s, 0, sizeof(*s));
	for (id = 0; id < SI_LUKS_MAX_TOKENS; id++) {
		const char *json;

		if (si_luks_token_json(luks, id, SI_TOKEN_TYPE, &json) < 0)
			continue;
		tried++;
		td.msg[0] = '\0';
		res->counter_index = 0;
		r = si_token_parse(json, tok, &td);
		if (r == 0)
			r = refused_at_boot(o, tok, &td);
		if (r == 0)
			r = unlock_token(o, luks, tpm, id, tok, s, &sigjson, prep, res, &td);
		if (r == 0) {
			res->token = id;
			res->keyslot = tok->keyslot;
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
	free(sigjson);
	free(tok);
	si_secret_free(s);
	return r;
}

/* Before the gate: the first token the rules allow, prepared. A failure
 * here is not the answer: the token is tried again after the gate, the
 * usual way, and fails there with its own message. */
static void prepare_first(const struct si_unlock_opts *o, struct si_luks *luks,
			  struct si_tpm **tpm, struct prepared *prep, struct si_unlock_result *res)
{
	struct si_token *tok = calloc(1, sizeof(*tok));
	struct si_diag td;
	long long t0;
	int id;

	for (id = 0; tok && id < SI_LUKS_MAX_TOKENS; id++) {
		const char *json;

		if (si_luks_token_json(luks, id, SI_TOKEN_TYPE, &json) < 0)
			continue;
		if (si_token_parse(json, tok, &td) < 0 || refused_at_boot(o, tok, &td) < 0)
			continue;
		if (open_tpm(o, tpm, res, &td) < 0)
			break;
		t0 = si_now_ms();
		if (si_tpm_unseal_prepare(*tpm, tok, &prep->p, &td) == 0)
			prep->id = id;
		res->ms.prepare = (int)(si_now_ms() - t0);
		break;
	}
	free(tok);
}

static int unlock_direct(const struct si_unlock_opts *o, struct si_unlock_result *res,
			 struct si_diag *d)
{
	struct prepared prep = { .id = -1 };
	struct si_unlock_opts pinned = *o;
	struct si_luks *luks = NULL;
	struct si_tpm *tpm = NULL;
	char why[sizeof(d->msg)];
	long long t0 = si_now_ms();
	int r;

	r = si_luks_open(o->device, &luks, d);
	/* Always: with no expectation, the known-good ciphers. */
	if (r == 0)
		r = si_luks_check(luks, o->expect, d);
	res->ms.header = (int)(si_now_ms() - t0);
	/* The record before any token: without it, no token is tried. */
	if (r == 0 && o->record_index) {
		r = read_record(o, &tpm, res, d);
		pinned.fixate_volume_key = res->record_id;
		res->ms.unseal = (int)(si_now_ms() - t0) - res->ms.header - res->ms.tpm_open;
	}
	/* The gate: every path stops here until the caller's measurements
	 * are in (the cap below must come after them too), or ends here. */
	if (o->gated) {
		if (r == 0)
			prepare_first(&pinned, luks, &tpm, &prep, res);
		t0 = si_now_ms();
		if (si_worker_gate(o->gate_ctx) < 0) {
			if (prep.id >= 0)
				si_tpm_unseal_release(tpm, &prep.p);
			si_tpm_close(tpm);
			si_luks_close(luks);
			si_diag_set(d, "abandoned before the gate");
			return -ECANCELED;
		}
		res->ms.gate = (int)(si_now_ms() - t0);
	}
	if (r == 0) {
		r = try_tokens(&pinned, luks, &tpm, &prep, res, d);
		if (r == -SI_EVOLKEY && o->record_index) {
			memcpy(why, d->msg, sizeof(why));
			si_diag_set(d, "not the volume of the device record (NV index 0x%08x): "
				    "%.400s", o->record_index, why);
		}
	}
	/* From the header already loaded: the caller reads the volume again
	 * only when it has to. */
	if (luks && o->probe_token_type)
		res->probed = has_token_type(luks, o->probe_token_type);
	if (prep.id >= 0)
		si_tpm_unseal_release(tpm, &prep.p);
	if (tpm)
		res->tpm_commands = si_tpm_commands(tpm);
	/* Every path caps, a header that did not load included. */
	t0 = si_now_ms();
	if (o->cap_mask && o->cap_event && (r == 0 || !o->cap_only_on_success))
		res->capped = cap(o, &tpm) == 0;
	res->ms.cap = (int)(si_now_ms() - t0);
	res->auth_state = o->read_auth_state ? auth_state(tpm) : -1;
	si_tpm_close(tpm);
	si_luks_close(luks);
	return r;
}

static int unlock_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	struct si_unlock_opts o = *(const struct si_unlock_opts *)arg;
	struct si_unlock_result *res = out;

	/* The worker's result starts zeroed, not as si_unlock() set it. */
	res->measured_pcr = res->auth_state = -1;

	o.get_pin = si_worker_get_pin;
	o.pin_ctx = w;
	o.gate_ctx = w;
	return unlock_direct(&o, out, d);
}

int si_unlock_start(struct si_unlock_job *j, const struct si_unlock_opts *o,
		    struct si_unlock_result *res, struct si_diag *d)
{
	struct si_work w = {
		.fn = unlock_work, .arg = &j->o, .out = res, .out_size = sizeof(*res),
		.deadline_ms = o->timeout_ms, .timeout_code = -SI_ENOTPM, .noun = "the TPM",
		.ask_pin = o->get_pin, .ask_ctx = o->pin_ctx,
	};

	memset(res, 0, sizeof(*res));
	res->token = res->keyslot = res->measured_pcr = res->auth_state = -1;
	j->job.pid = -1;
	if (binds(o) && !o->bind_name && !o->name) {
		si_diag_set(d, "the volume key's id is bound to a name: give the /dev/mapper name");
		return -EINVAL;
	}
	j->o = *o;
	j->o.gated = true;
	return si_worker_start(&j->job, &w);
}

int si_unlock_wait(struct si_unlock_job *j, struct si_diag *d)
{
	return si_worker_wait(&j->job, d);
}

void si_unlock_abandon(struct si_unlock_job *j)
{
	si_worker_abandon(&j->job);
}

int si_unlock(const struct si_unlock_opts *o, struct si_unlock_result *res,
	      struct si_diag *d)
{
	const struct si_work w = {
		.fn = unlock_work, .arg = (void *)o, .out = res, .out_size = sizeof(*res),
		.deadline_ms = o->timeout_ms, .timeout_code = -SI_ENOTPM, .noun = "the TPM",
		.ask_pin = o->get_pin, .ask_ctx = o->pin_ctx,
	};

	memset(res, 0, sizeof(*res));
	res->token = res->keyslot = res->measured_pcr = res->auth_state = -1;
	if (binds(o) && !o->bind_name && !o->name) {
		si_diag_set(d, "the volume key's id is bound to a name: give the /dev/mapper name");
		return -EINVAL;
	}
	return si_worker_run(&w, d);
}
