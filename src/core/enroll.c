/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/b64.h"
#include "core/enroll.h"
#include "core/errors.h"
#include "core/luks.h"
#include "core/pcrs.h"
#include "core/secret.h"
#include "core/sigfile.h"
#include "core/token.h"
#include "core/tpm/authorize.h"
#include "core/tpm/counter.h"
#include "core/tpm/policy.h"
#include "core/tpm/record.h"
#include "core/tpm/tpm.h"

#define SECRET_SIZE 32  /* as systemd seals: 256 bits, full entropy */

/*
 * The device record, before the keyslot: the volume's id from the
 * passphrase that authorizes the enrollment (the volume key is the same
 * whichever keyslot opens it). A power cut after it leaves a record
 * naming this volume and no new token; the enrollment run again writes
 * the same id.
 */
static int write_record(const struct si_enroll_opts *o, struct si_luks *luks, struct si_tpm *tpm,
			struct si_diag *d)
{
	char hex[SI_VOLKEY_HEX_LEN + 1], *sig = NULL;
	uint8_t id[SI_RECORD_SIZE];
	int r;

	r = si_sigfile_read(o->signature ? o->signature : SI_SIGFILE_DEFAULT, &sig, d);
	if (r < 0)
		return -SI_ENOSIG;
	r = si_luks_volume_id(luks, o->bind_name ? o->bind_name : SI_VOLKEY_DEFAULT_NAME,
			      o->passphrase, o->passphrase_len, hex, d);
	if (r == 0 && si_hex_decode(id, sizeof(id), hex) != SI_RECORD_SIZE)
		r = -EINVAL;
	if (r == 0)
		r = si_tpm_record_write(tpm, o->record_index, o->pubkey_pem, o->pubkey_pem_len,
					o->pubkey_pcr_mask, sig, id, d);
	free(sig);
	return r;
}

/* At most this many increments to reach a release's limit: a limit far
 * above the counter is a signature file from somewhere else. */
#define COUNTER_RAISE_MAX 64

/*
 * counter_to_release: the limit of the newest counted entry for the signed
 * PCRs' values (the PolicyPCR digest computed offline from expect's values
 * or the current ones, then PolicyNV as si_counter_pol adds it), and the
 * counter incremented up to it.
 */
static int raise_counter(const struct si_enroll_opts *o, struct si_tpm *tpm,
			 const struct si_authkey *key, struct si_enroll_result *res,
			 struct si_diag *d)
{
	struct si_counter_pol c = { { 0 }, { 0 } };
	struct si_sig sig;
	uint8_t values[SI_PCR_COUNT * 32];
	size_t len = 0;
	char *json = NULL;
	unsigned int i;
	int r;

	r = si_sigfile_read(o->signature ? o->signature : SI_SIGFILE_DEFAULT, &json, d);
	if (r < 0)
		return -SI_ENOSIG;
	if (o->expect) {
		for (i = 0; i < SI_PCR_COUNT; i++)
			if (o->pubkey_pcr_mask & (UINT32_C(1) << i)) {
				memcpy(values + len, o->expect->sha256[i], 32);
				len += 32;
			}
	} else {
		r = si_tpm_pcr_read(tpm, 0x000B, o->pubkey_pcr_mask, values, sizeof(values), &len, d);
	}
	/* From zero, as the unseal's session starts. */
	if (r == 0)
		r = si_policy_pcr(c.base, 0x000B, o->pubkey_pcr_mask, values, len);
	if (r == 0)
		r = si_counter_name(o->counter_nv, c.name);
	if (r == 0)
		r = si_sigfile_find_counted(json, o->pubkey_pcr_mask, key->pkfp, si_counter_pol, &c,
					    &sig, d);
	free(json);
	if (r == -SI_ENOSIG || r == -SI_ESIGKEY)
		return 0;
	if (r < 0)
		return r;
	if (sig.counter > res->counter + COUNTER_RAISE_MAX) {
		si_diag_set(d, "the signature file's limit for these PCR values is %llu, more than %d "
			    "above the counter's %llu: not this fleet's release?",
			    (unsigned long long)sig.counter, COUNTER_RAISE_MAX,
			    (unsigned long long)res->counter);
		return -EINVAL;
	}
	/* Bounded by the steps too: a TPM whose value does not move must not
	 * keep the enrollment here. */
	for (i = 0; r == 0 && res->counter < sig.counter && i < COUNTER_RAISE_MAX; i++)
		r = si_tpm_counter_increment(tpm, o->counter_nv, &res->counter, d);
	return r;
}

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
	struct si_unsealed *s = NULL;
	struct si_seal_params sp = { 0 };
	struct si_authkey *key = NULL;
	char *json = NULL;
	int r, keyslot = -1;

	memset(res, 0, sizeof(*res));
	res->keyslot = res->token = -1;
	if (!o->unsafe_pcrs) {
		r = si_pcrs_check_sealable(o->pcr_mask | o->pubkey_pcr_mask, d);
		if (r < 0)
			return r;
	}
	/* A token the cap does not close opens again on the booted system;
	 * a signed PCR counts: its signatures are for the state before the
	 * cap. */
	if (o->cap_pcrs && !o->uncapped_pcrs) {
		r = si_pcrs_check_capped(o->pcr_mask | o->pubkey_pcr_mask, o->cap_pcrs, d);
		if (r < 0)
			return r;
	}
	if (o->record_index && !o->pubkey_pem) {
		si_diag_set(d, "the device record is written through the fleet key's signature: no "
			    "public key given");
		return -EINVAL;
	}
	if (o->counter_nv && !o->pubkey_pem) {
		si_diag_set(d, "a rollback counter belongs to a signed policy: no public key given");
		return -EINVAL;
	}
	if (o->pubkey_pem) {
		key = calloc(1, sizeof(*key));
		if (!key)
			return -ENOMEM;
		r = si_authkey_from_pem(key, o->pubkey_pem, o->pubkey_pem_len, d);
		if (r == 0 && !o->pubkey_pcr_mask) {
			si_diag_set(d, "a signed policy needs the PCRs it signs for");
			r = -EINVAL;
		}
		if (r < 0)
			goto out;
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
	if (r == 0 && o->owner_auth)
		r = si_tpm_set_owner_auth(tpm, o->owner_auth, o->owner_auth_len, d);
	if (r < 0)
		goto out;
	if (o->counter_nv) {
		r = si_tpm_counter_ensure(tpm, o->counter_nv, &res->counter, &res->counter_created, d);
		if (r == 0 && o->counter_to_release)
			r = raise_counter(o, tpm, key, res, d);
		if (r < 0)
			goto out;
	}
	sp.counter_nv = o->counter_nv;
	sp.pcr_mask = o->pcr_mask;
	sp.pcr_bank = 0x000B; /* sha256 */
	sp.pin = o->get_pin ? s->pin : NULL;
	sp.secret = s->key;
	sp.secret_len = s->key_len;
	sp.expect = o->expect;
	sp.authkey = key;
	sp.pubkey_pcr_mask = key ? o->pubkey_pcr_mask : 0;
	sp.pubkey_pem = o->pubkey_pem;
	sp.pubkey_pem_len = o->pubkey_pem_len;
	r = si_tpm_seal(tpm, &sp, tok, &res->srk_created, d);
	/* After the seal, which makes the SRK the record's read-back is
	 * salted to; before the keyslot, so that a refused record adds
	 * nothing to the volume. */
	if (r == 0 && o->record_index)
		r = write_record(o, luks, tpm, d);
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
	/* The id the boot config pins (fixate_volume_key=), from the keyslot
	 * just added: printed now, while the volume is known to be this one. */
	if (si_luks_volume_id(luks, o->bind_name ? o->bind_name : SI_VOLKEY_DEFAULT_NAME, s->pass,
			      strlen(s->pass), res->volume_id, &res->id_diag) < 0)
		res->volume_id[0] = '\0';
out:
	free(key);
	free(json);
	free(tok);
	si_secret_free(s);
	si_tpm_close(tpm);
	si_luks_close(luks);
	return r;
}
