/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>

#include "config.h"
#include "core/errors.h"
#include "core/hash.h"
#include "core/pcrs.h"
#include "core/secret.h"
#include "core/sigfile.h"
#include "core/token.h"
#include "core/tpm/authorize.h"
#include "core/tpm/counter.h"
#include "core/tpm/internal.h"
#include "core/tpm/policy.h"
#include "core/tpm/tpm.h"

/*
 * Primary key templates: ECC NIST P-256 (or RSA 2048), AES-128-CFB,
 * restricted decrypt, empty auth and policy (TCG Provisioning Guidance
 * 7.5.1; EK Credential Profile templates L-2 and L-1).
 *
 * The persistent SRK sets noDA, as the TCG template does. Without it, every
 * boot authorizes a DA-protected key, and every unclean power-off then
 * counts as an authorization failure: measured on swtpm, three power cuts
 * locked the TPM out and the volume would not open (systemd#30330).
 *
 * `legacy` is systemd 252's transient primary, noDA clear, re-created only
 * to open tokens that systemd 252 wrote (no tpm2_srk). ECC, because an RSA
 * primary takes seconds on discrete TPMs.
 */
static void primary_template(TPM2B_PUBLIC *p, uint16_t alg, int legacy)
{
	memset(p, 0, sizeof(*p));
	p->publicArea.type = alg;
	p->publicArea.nameAlg = TPM2_ALG_SHA256;
	p->publicArea.objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT |
		TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
		(legacy ? 0 : TPMA_OBJECT_NODA);
	if (alg == TPM2_ALG_ECC) {
		p->publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
		p->publicArea.parameters.eccDetail.symmetric.keyBits.aes = 128;
		p->publicArea.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		p->publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
		p->publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		p->publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	} else {
		p->publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
		p->publicArea.parameters.rsaDetail.symmetric.keyBits.aes = 128;
		p->publicArea.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		p->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
		p->publicArea.parameters.rsaDetail.keyBits = 2048;
	}
}

static int create_primary(struct si_tpm *t, uint16_t alg, int legacy, ESYS_TR *out,
			  struct si_diag *d)
{
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION creation_pcr = { 0 };
	TPM2B_PUBLIC tmpl;
	TSS2_RC rc;

	primary_template(&tmpl, alg, legacy);
	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				ESYS_TR_NONE, &sens, &tmpl, &outside, &creation_pcr, out,
				NULL, NULL, NULL, NULL);
	if (rc) {
		int r = si_tpm_error(t, rc, "creating the storage key", d);

		if (si_tpm_rc_base(rc) == TPM2_RC_BAD_AUTH || si_tpm_rc_base(rc) == TPM2_RC_AUTH_FAIL)
			si_diag_set(d, "creating the storage key: the owner hierarchy has a "
				    "password, and %s: %s (give it with --owner-auth-file, or "
				    "create the SRK at 0x%08x beforehand)",
				    t->owner_auth_set ? "the one given is not it" : "none was given",
				    Tss2_RC_Decode(rc), SI_SRK_HANDLE);
		return r;
	}
	return 0;
}

/* The persistent SRK, read from the TPM: 0 found, 1 absent. */
static int read_srk(struct si_tpm *t, ESYS_TR *srk, TPM2B_NAME **name, struct si_diag *d)
{
	TPM2B_PUBLIC *pub = NULL;
	TSS2_RC rc;
	int r;

	rc = Esys_TR_FromTPMPublic(t->esys, SI_SRK_HANDLE, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, srk);
	if (si_tpm_rc_base(rc) == TPM2_RC_HANDLE || si_tpm_rc_base(rc) == (TPM2_RC_HANDLE | TPM2_RC_1))
		return 1;
	if (rc)
		return si_tpm_error(t, rc, "looking up the storage key", d);
	rc = Esys_ReadPublic(t->esys, *srk, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
			     &pub, name, NULL);
	if (rc)
		return si_tpm_error(t, rc, "reading the storage key", d);
	r = 0;
	if (!(pub->publicArea.objectAttributes & TPMA_OBJECT_RESTRICTED) ||
	    !(pub->publicArea.objectAttributes & TPMA_OBJECT_DECRYPT)) {
		si_diag_set(d, "the object at 0x%08x is not a storage key", SI_SRK_HANDLE);
		r = -SI_ESRK;
	}
	Esys_Free(pub);
	return r;
}

int si_tpm_srk(struct si_tpm *t, ESYS_TR *srk, struct si_diag *d)
{
	TPM2B_NAME *name = NULL;
	int r;

	*srk = ESYS_TR_NONE;
	r = read_srk(t, srk, &name, d);
	Esys_Free(name);
	if (r == 1) {
		si_diag_set(d, "no storage key at 0x%08x (enroll creates it)", SI_SRK_HANDLE);
		r = -SI_ESRK;
	}
	if (r < 0 && *srk != ESYS_TR_NONE)
		(void)Esys_TR_Close(t->esys, srk);
	return r;
}

static int get_or_create_srk(struct si_tpm *t, ESYS_TR *srk, int *created, struct si_diag *d)
{
	ESYS_TR prim = ESYS_TR_NONE;
	TPM2B_NAME *name = NULL;
	TSS2_RC rc;
	int r;

	*created = 0;
	r = read_srk(t, srk, &name, d);
	Esys_Free(name);
	if (r <= 0)
		return r;
	r = create_primary(t, TPM2_ALG_ECC, 0, &prim, d);
	if (r < 0)
		return r;
	rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, prim, ESYS_TR_PASSWORD,
			       ESYS_TR_NONE, ESYS_TR_NONE, SI_SRK_HANDLE, srk);
	si_tpm_flush(t, &prim);
	if (rc)
		return si_tpm_error(t, rc, "persisting the storage key", d);
	*created = 1;
	return 0;
}

int si_tpm_start_session(struct si_tpm *t, ESYS_TR salt_key, TPM2_SE type, ESYS_TR *out,
			 struct si_diag *d)
{
	/* Salted to the SRK with AES-128-CFB parameter encryption, so the
	 * secret never crosses the bus in clear (systemd#25620). */
	TPMT_SYM_DEF sym = {
		.algorithm = TPM2_ALG_AES,
		.keyBits.aes = 128,
		.mode.aes = TPM2_ALG_CFB,
	};
	TSS2_RC rc;

	rc = Esys_StartAuthSession(t->esys, salt_key, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, ESYS_TR_NONE, NULL, type, &sym,
				   TPM2_ALG_SHA256, out);
	if (rc)
		return si_tpm_error(t, rc, "starting a salted session", d);
	return 0;
}

int si_tpm_policy_session(struct si_tpm *t, ESYS_TR *out, const char *step, struct si_diag *d)
{
	TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
	TSS2_RC rc;

	rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, out);
	if (rc) {
		*out = ESYS_TR_NONE;
		return si_tpm_error(t, rc, step, d);
	}
	return 0;
}

int si_tpm_seal(struct si_tpm *t, const struct si_seal_params *p, struct si_token *tok,
		int *srk_created, struct si_diag *d)
{
	uint8_t values[SI_PCR_COUNT * 64], digest[SI_POLICY_SIZE] = { 0 };
	TPM2B_SENSITIVE_CREATE *sens = NULL;
	TPM2B_PUBLIC tmpl;
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION creation_pcr = { 0 };
	TPM2B_PRIVATE *out_priv = NULL;
	TPM2B_PUBLIC *out_pub = NULL;
	ESYS_TR srk = ESYS_TR_NONE, session = ESYS_TR_NONE;
	uint8_t *ser = NULL;
	size_t values_len = 0, ser_len = 0, off = 0;
	TSS2_RC rc;
	int r;

	if (p->secret_len > sizeof(sens->sensitive.data.buffer) || p->pcr_bank != TPM2_ALG_SHA256)
		return -EINVAL;

	if (p->authkey && (p->pubkey_pem_len > sizeof(tok->pubkey) || !p->pubkey_pcr_mask))
		return -EINVAL;

	r = get_or_create_srk(t, &srk, srk_created, d);
	if (r < 0)
		goto out;
	/* systemd's order: PolicyAuthorize, PolicyPCR, PolicyAuthValue; with
	 * a signing key and no literal PCRs, no PolicyPCR at all. */
	if (p->counter_nv && !p->authkey)
		return -EINVAL;
	if (p->authkey) {
		r = si_policy_authorize_ref(digest, p->authkey->name, sizeof(p->authkey->name),
					    p->counter_nv ? (const uint8_t *)SI_COUNTER_REF : NULL,
					    p->counter_nv ? SI_COUNTER_REF_LEN : 0);
		if (r < 0)
			goto out;
	}
	if (p->authkey && !p->pcr_mask)
		goto pin;
	r = si_tpm_pcr_read(t, p->pcr_bank, p->pcr_mask, values, sizeof(values), &values_len, d);
	if (r < 0)
		goto out;
	if (p->expect) {
		unsigned int i, k = 0;

		for (i = 0; i < SI_PCR_COUNT; i++) {
			if (!(p->pcr_mask & (UINT32_C(1) << i)))
				continue;
			if ((p->expect->mask & (UINT32_C(1) << i)) && (k + 1) * 32 <= values_len)
				memcpy(values + k * 32, p->expect->sha256[i], 32);
			k++;
		}
	}
	r = si_policy_pcr(digest, p->pcr_bank, p->pcr_mask, values, values_len);
	if (r < 0)
		goto out;
pin:
	if (p->pin)
		r = si_policy_auth_value(digest);
	if (r < 0)
		goto out;

	sens = si_secret_alloc(sizeof(*sens));
	if (!sens) {
		r = -ENOMEM;
		goto out;
	}
	memset(sens, 0, sizeof(*sens));
	if (p->pin) {
		r = si_pin_to_auth(p->pin, NULL, 0, sens->sensitive.userAuth.buffer);
		if (r < 0)
			goto out;
		sens->sensitive.userAuth.size = 32;
	}
	memcpy(sens->sensitive.data.buffer, p->secret, p->secret_len);
	sens->sensitive.data.size = (uint16_t)p->secret_len;

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
	tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
	/* No userWithAuth: only the policy authorizes. noDA without a PIN, so
	 * that power cuts on headless devices never lock them out
	 * (systemd#30330); with a PIN, DA protection is the point. */
	tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		(p->pin ? 0 : TPMA_OBJECT_NODA);
	tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
	tmpl.publicArea.authPolicy.size = SI_POLICY_SIZE;
	memcpy(tmpl.publicArea.authPolicy.buffer, digest, SI_POLICY_SIZE);

	r = si_tpm_start_session(t, srk, TPM2_SE_HMAC, &session, d);
	if (r < 0)
		goto out;
	rc = Esys_TRSess_SetAttributes(t->esys, session,
				       TPMA_SESSION_DECRYPT | TPMA_SESSION_CONTINUESESSION, 0xff);
	if (rc) {
		r = si_tpm_error(t, rc, "setting session attributes", d);
		goto out;
	}
	rc = Esys_Create(t->esys, srk, ESYS_TR_PASSWORD, session, ESYS_TR_NONE, sens, &tmpl,
			 &outside, &creation_pcr, &out_priv, &out_pub, NULL, NULL, NULL);
	if (rc) {
		r = si_tpm_error(t, rc, "sealing the key", d);
		goto out;
	}
	if (out_pub->publicArea.authPolicy.size != SI_POLICY_SIZE ||
	    memcmp(out_pub->publicArea.authPolicy.buffer, digest, SI_POLICY_SIZE)) {
		si_diag_set(d, "sealing the key: the TPM changed the policy digest");
		r = -SI_ETPM;
		goto out;
	}

	rc = Tss2_MU_TPM2B_PRIVATE_Marshal(out_priv, tok->blob, sizeof(tok->blob), &off);
	if (!rc) {
		tok->blob_private_len = off;
		rc = Tss2_MU_TPM2B_PUBLIC_Marshal(out_pub, tok->blob, sizeof(tok->blob), &off);
	}
	if (rc) {
		r = -ENOSPC;
		goto out;
	}
	tok->blob_len = off;

	rc = Esys_TR_Serialize(t->esys, srk, &ser, &ser_len);
	if (rc || ser_len > sizeof(tok->srk)) {
		r = rc ? si_tpm_error(t, rc, "recording the storage key", d) : -ENOSPC;
		goto out;
	}
	memcpy(tok->srk, ser, ser_len);
	tok->srk_len = ser_len;

	tok->pcr_mask = p->pcr_mask;
	tok->pcr_bank = p->pcr_bank;
	tok->primary_alg = TPM2_ALG_ECC;
	memcpy(tok->policy_hash, digest, SI_POLICY_SIZE);
	tok->policy_hash_len = SI_POLICY_SIZE;
	tok->pin = p->pin != NULL;
	tok->salt_len = 0;
	tok->pubkey_len = 0;
	tok->pubkey_pcr_mask = 0;
	tok->counter_nv = p->counter_nv;
	if (p->authkey) {
		memcpy(tok->pubkey, p->pubkey_pem, p->pubkey_pem_len);
		tok->pubkey_len = p->pubkey_pem_len;
		tok->pubkey_pcr_mask = p->pubkey_pcr_mask;
	}
	r = 0;
out:
	si_tpm_flush(t, &session);
	if (srk != ESYS_TR_NONE)
		(void)Esys_TR_Close(t->esys, &srk);
	si_secret_free(sens);
	Esys_Free(out_priv);
	Esys_Free(out_pub);
	free(ser);
	return r;
}

/*
 * The parent for a token: the persistent SRK the token recorded, checked by
 * name against what the TPM holds now (a substituted key is refused), or,
 * for tokens without tpm2_srk (systemd 252), the transient primary that
 * systemd re-creates from its template.
 */
static int token_parent(struct si_tpm *t, const struct si_token *tok, ESYS_TR *parent,
			int *transient, struct si_diag *d)
{
	TPM2B_NAME *want = NULL, *have = NULL;
	TPM2B_PUBLIC *pub = NULL;
	ESYS_TR saved = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	*transient = 0;
	if (!tok->srk_len) {
		*transient = 1;
		return create_primary(t, tok->primary_alg, 1, parent, d);
	}

	rc = Esys_TR_Deserialize(t->esys, tok->srk, tok->srk_len, &saved);
	if (rc) {
		si_diag_set(d, "token field `tpm2_srk': not a serialized TPM object");
		return -SI_EBADTOKEN;
	}
	rc = Esys_TR_GetName(t->esys, saved, &want);
	if (rc) {
		r = si_tpm_error(t, rc, "reading the recorded storage key name", d);
		goto out;
	}
	/* ReadPublic through the recorded handle: one command, and the answer
	 * carries the name of whatever the TPM holds there now. */
	rc = Esys_ReadPublic(t->esys, saved, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
			     &pub, &have, NULL);
	if (si_tpm_rc_base(rc) == TPM2_RC_HANDLE || si_tpm_rc_base(rc) == (TPM2_RC_HANDLE | TPM2_RC_1)) {
		si_diag_set(d, "no storage key at the handle the token recorded "
			    "(TPM cleared or replaced?)");
		r = -SI_ESRK;
		goto out;
	}
	if (rc) {
		r = si_tpm_error(t, rc, "reading the storage key", d);
		goto out;
	}
	if (want->size != have->size || memcmp(want->name, have->name, want->size)) {
		si_diag_set(d, "the storage key in the TPM is not the one this volume was "
			    "enrolled with");
		r = -SI_ESRK;
		goto out;
	}
	*parent = saved;
	saved = ESYS_TR_NONE;
	r = 0;
out:
	if (saved != ESYS_TR_NONE)
		(void)Esys_TR_Close(t->esys, &saved);
	Esys_Free(want);
	Esys_Free(have);
	Esys_Free(pub);
	return r;
}

/*
 * A token with a rollback counter: its index checked to be sealinit's
 * counter by its Name (which every counter signature covers, so a
 * different index there would only fail later, less clearly); *h then
 * refers to it, for PolicyNV. One command (NV_ReadPublic).
 */
static int counter_open(struct si_tpm *t, const struct si_token *tok,
			uint8_t want[SI_NV_NAME_SIZE], ESYS_TR *h, struct si_diag *d)
{
	TPM2B_NAME *name = NULL;
	TSS2_RC rc;
	int r;

	*h = ESYS_TR_NONE;
	r = si_counter_name(tok->counter_nv, want);
	if (r < 0)
		return r;
	rc = Esys_TR_FromTPMPublic(t->esys, tok->counter_nv, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, h);
	if (!rc)
		rc = Esys_TR_GetName(t->esys, *h, &name);
	if (rc) {
		r = si_tpm_error(t, rc, "reading the rollback counter's public area", d);
		if (si_tpm_rc_base(rc) == TPM2_RC_HANDLE)
			si_diag_set(d, "the token's rollback counter, NV index 0x%08x, is not on this "
				    "TPM", tok->counter_nv);
	} else if (name->size != SI_NV_NAME_SIZE || memcmp(name->name, want, SI_NV_NAME_SIZE)) {
		si_diag_set(d, "NV index 0x%08x is not sealinit's rollback counter (its Name "
			    "differs: other attributes or policy, or never incremented)",
			    tok->counter_nv);
		r = -SI_ETPM;
	}
	Esys_Free(name);
	return r;
}

/* PolicyNV(counter <= the entry's limit) in the session. */
static int counter_check(struct si_tpm *t, const struct si_token *tok, ESYS_TR h,
			 ESYS_TR session, const struct si_sig *sig, struct si_diag *d)
{
	TPM2B_OPERAND operand = { .size = 8 };
	uint64_t value;
	TSS2_RC rc;
	int i, r;

	for (i = 0; i < 8; i++)
		operand.buffer[i] = (uint8_t)(sig->counter >> (56 - 8 * i));
	rc = Esys_PolicyNV(t->esys, h, h, session, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
			   &operand, 0, TPM2_EO_UNSIGNED_LE);
	if (!rc)
		return 0;
	r = si_tpm_error(t, rc, "checking the rollback counter", d);
	if (si_tpm_rc_base(rc) == TPM2_RC_POLICY) {
		char now[32] = "?";

		if (si_tpm_counter_read(t, tok->counter_nv, &value, d) == 0)
			snprintf(now, sizeof(now), "%llu", (unsigned long long)value);
		/* Entries are tried newest first: every older one is revoked too. */
		si_diag_set(d, "the newest valid signature for these PCR values (sha256[%zu]) is "
			    "good while the rollback counter (NV 0x%08x) is at most %llu; it is %s: "
			    "revoked", sig->index, tok->counter_nv, (unsigned long long)sig->counter,
			    now);
		r = -SI_EREVOKED;
	}
	return r;
}

/*
 * VerifySignature of each listed entry in turn, until the TPM accepts
 * one: a corrupt entry (the newest, say) must not hide a good one behind
 * it. *ok is the one accepted, with its ticket. The first that verifies
 * costs one command, as a single lookup did. When none does: -SI_EBADSIG,
 * each entry's reason in d, then those skipped as malformed.
 */
static int verify_first(struct si_tpm *t, ESYS_TR key, const struct si_sig *sigs, size_t n,
			const TPM2B_NONCE *ref, const struct si_diag *skipped, const char *whose,
			TPMT_TK_VERIFIED **ticket, size_t *ok, struct si_diag *d)
{
	TPMT_SIGNATURE *ts = calloc(1, sizeof(*ts));
	TPM2B_DIGEST hash = { .size = 32 };
	char why[sizeof(d->msg)] = "", one[160];
	size_t i, len;
	TSS2_RC rc;
	int r = -ENOMEM;

	if (!ts)
		return r;
	for (i = 0; i < n; i++) {
		const struct si_sig *e = &sigs[i];

		if (e->sig_len > sizeof(ts->signature.rsassa.sig.buffer)) {
			snprintf(one, sizeof(one), "sha256[%zu]: %zu bytes, more than an RSA "
				 "signature", e->index, e->sig_len);
		} else {
			r = si_authkey_ahash(e->pol, ref->buffer, ref->size, hash.buffer);
			if (r < 0)
				goto out;
			memset(ts, 0, sizeof(*ts));
			ts->sigAlg = TPM2_ALG_RSASSA;
			ts->signature.rsassa.hash = TPM2_ALG_SHA256;
			ts->signature.rsassa.sig.size = (uint16_t)e->sig_len;
			memcpy(ts->signature.rsassa.sig.buffer, e->sig, e->sig_len);
			rc = Esys_VerifySignature(t->esys, key, ESYS_TR_NONE, ESYS_TR_NONE,
						  ESYS_TR_NONE, &hash, ts, ticket);
			if (!rc) {
				*ok = i;
				r = 0;
				goto out;
			}
			/* Only the TPM's verdict on this signature moves to the
			 * next; anything else (no TPM, a timeout) ends the attempt. */
			switch (si_tpm_rc_base(rc)) {
			case TPM2_RC_SIGNATURE:
			case TPM2_RC_VALUE:
			case TPM2_RC_SIZE:
				break;
			default:
				r = si_tpm_error(t, rc, "verifying the PCR policy's signature", d);
				goto out;
			}
			if (e->counted)
				snprintf(one, sizeof(one), "sha256[%zu] (limit %llu): %s", e->index,
					 (unsigned long long)e->counter, Tss2_RC_Decode(rc));
			else
				snprintf(one, sizeof(one), "sha256[%zu]: %s", e->index,
					 Tss2_RC_Decode(rc));
		}
		len = strlen(why);
		if (len + 3 < sizeof(why))
			snprintf(why + len, sizeof(why) - len, "%s%s", len ? "; " : "", one);
	}
	si_diag_set(d, "the TPM rejected the signature%s for PCRs of %s (altered, or made by "
		    "another key): %.300s%s%.150s", n > 1 ? "s" : "", whose, why,
		    skipped->msg[0] ? "; skipped: " : "", skipped->msg);
	r = -SI_EBADSIG;
out:
	free(ts);
	return r;
}

int si_tpm_policy_signed(struct si_tpm *t, ESYS_TR session, const struct si_signed_policy *p,
			 struct si_diag *d)
{
	TPM2B_PUBLIC *pub = calloc(1, sizeof(*pub));
	struct si_sig *sigs = NULL;
	TPM2B_DIGEST *pol = NULL;
	TPM2B_NONCE ref = { 0 };
	TPM2B_NAME *name = NULL;
	TPMT_TK_VERIFIED *ticket = NULL;
	ESYS_TR h = ESYS_TR_NONE;
	struct si_diag skipped = { { 0 } };
	size_t n = 0, ok = 0;
	TSS2_RC rc;
	int r = -ENOMEM;

	if (!pub || p->ref_len > sizeof(ref.buffer))
		goto out;
	rc = Esys_PolicyGetDigest(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pol);
	if (rc) {
		r = si_tpm_error(t, rc, "reading the session's policy digest", d);
		goto out;
	}
	if (pol->size != 32) {
		si_diag_set(d, "the TPM's policy digest has %u bytes (expected 32)", pol->size);
		r = -SI_ETPM;
		goto out;
	}
	if (p->lookup)
		r = p->lookup(p->ctx, pol->buffer, &sigs, &n, &skipped);
	else
		r = si_sigfile_match(p->signature, p->pcr_mask, p->key->pkfp, pol->buffer, &sigs,
				     &n, &skipped);
	if (r < 0) {
		*d = skipped;
		goto out;
	}
	ref.size = (uint16_t)p->ref_len;
	if (p->ref_len)
		memcpy(ref.buffer, p->ref, p->ref_len);

	si_authkey_tpm_public(p->key, pub);
	rc = Esys_LoadExternal(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, pub,
			       ESYS_TR_RH_OWNER, &h);
	if (!rc)
		rc = Esys_TR_GetName(t->esys, h, &name);
	if (rc) {
		r = si_tpm_error(t, rc, "loading the policy's public key", d);
		goto out;
	}
	if (name->size != sizeof(p->key->name) ||
	    memcmp(name->name, p->key->name, sizeof(p->key->name))) {
		si_diag_set(d, "the TPM names the policy's public key otherwise than systemd would");
		r = -SI_ETPM;
		goto out;
	}
	r = verify_first(t, h, sigs, n, &ref, &skipped, p->whose, &ticket, &ok, d);
	if (r < 0)
		goto out;
	if (p->verified) {
		r = p->verified(p->ctx, &sigs[ok], d);
		if (r < 0)
			goto out;
	}
	memcpy(pol->buffer, sigs[ok].pol, SI_POLICY_SIZE);
	rc = Esys_PolicyAuthorize(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				  pol, &ref, name, ticket);
	if (rc) {
		r = si_tpm_error(t, rc, "applying the signed policy", d);
		goto out;
	}
	r = 0;
out:
	si_tpm_flush(t, &h);
	Esys_Free(pol);
	Esys_Free(name);
	Esys_Free(ticket);
	free(sigs);
	free(pub);
	return r;
}

/* A counter token's lookup and step (si_signed_policy's lookup and
 * verified): the counted entries for the session's digest, then
 * PolicyNV with the verified entry's limit. */
struct counter_step {
	struct si_tpm *t;
	const struct si_token *tok;
	const char *signature;
	const uint8_t *pkfp;
	ESYS_TR nv, session;
	struct si_counter_pol c;
};

static int counter_lookup(void *ctx, const uint8_t pol[SI_POLICY_SIZE], struct si_sig **sigs,
			  size_t *n, struct si_diag *skipped)
{
	struct counter_step *s = ctx;

	memcpy(s->c.base, pol, SI_POLICY_SIZE);
	return si_sigfile_match_counted(s->signature, s->tok->pubkey_pcr_mask, s->pkfp,
					si_counter_pol, &s->c, sigs, n, skipped);
}

static int counter_verified(void *ctx, const struct si_sig *sig, struct si_diag *d)
{
	struct counter_step *s = ctx;

	return counter_check(s->t, s->tok, s->nv, s->session, sig, d);
}

/*
 * The signed part of the policy, as systemd's unseal runs it: PolicyPCR
 * over the signed PCRs (current values), then si_tpm_policy_signed with
 * the token's key. A counter token's entries are the counted ones, with
 * the counter's policyRef, and its PolicyNV comes between the ticket and
 * PolicyAuthorize, with the verified entry's limit; PolicyAuthorize then
 * holds only if the session's digest is that entry's pol, so it is not
 * read back.
 */
static int policy_signed(struct si_tpm *t, const struct si_token *tok, const char *signature,
			 ESYS_TR session, struct si_diag *d)
{
	struct si_authkey *key = calloc(1, sizeof(*key));
	struct counter_step cs = { .t = t, .tok = tok, .signature = signature,
				   .nv = ESYS_TR_NONE, .session = session };
	struct si_signed_policy p = { .pcr_mask = tok->pubkey_pcr_mask, .signature = signature,
				      .whose = "the token's key" };
	TPML_PCR_SELECTION sel;
	TPM2B_DIGEST empty = { 0 };
	struct si_diag kd;
	TSS2_RC rc;
	int r = -ENOMEM;

	if (!key)
		goto out;
	r = si_authkey_from_pem(key, tok->pubkey, tok->pubkey_len, &kd);
	if (r < 0) {
		si_diag_set(d, "token field `tpm2_pubkey': %.400s", kd.msg);
		r = -SI_EBADTOKEN;
		goto out;
	}
	if (!signature) {
		si_diag_set(d, "the token has a signed PCR policy and there is no signature file");
		r = -SI_ENOSIG;
		goto out;
	}
	p.key = key;
	si_tpm_selection(&sel, tok->pcr_bank, tok->pubkey_pcr_mask);
	rc = Esys_PolicyPCR(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
			    &empty, &sel);
	if (rc) {
		r = si_tpm_error(t, rc, "applying the signed PCRs' policy", d);
		goto out;
	}
	if (tok->counter_nv) {
		r = counter_open(t, tok, cs.c.name, &cs.nv, d);
		if (r < 0)
			goto out;
		cs.pkfp = key->pkfp;
		p.lookup = counter_lookup;
		p.verified = counter_verified;
		p.ctx = &cs;
		p.ref = (const uint8_t *)SI_COUNTER_REF;
		p.ref_len = SI_COUNTER_REF_LEN;
	}
	r = si_tpm_policy_signed(t, session, &p, d);
out:
	if (cs.nv != ESYS_TR_NONE)
		(void)Esys_TR_Close(t->esys, &cs.nv);
	free(key);
	return r;
}

/* One policy session and the Unseal: *session when one was started
 * beforehand (si_tpm_unseal_prepare), which this call then owns. */
static int unseal_once(struct si_tpm *t, const struct si_token *tok, const char *signature,
		       ESYS_TR parent, ESYS_TR obj, ESYS_TR *started, uint8_t *out, size_t cap,
		       size_t *len, struct si_diag *d)
{
	TPML_PCR_SELECTION sel;
	TPM2B_DIGEST empty = { 0 };
	TPM2B_SENSITIVE_DATA *data = NULL;
	ESYS_TR session = *started;
	TSS2_RC rc;
	int r;

	*started = ESYS_TR_NONE;
	if (session == ESYS_TR_NONE) {
		r = si_tpm_start_session(t, parent, TPM2_SE_POLICY, &session, d);
		if (r < 0)
			return r;
	}
	/* systemd's order: the signed part (when tpm2_pubkey_pcrs is set, as
	 * systemd decides), the literal PCRs (none with a signed part and an
	 * empty tpm2-pcrs), the PIN. */
	if (tok->pubkey_pcr_mask) {
		r = policy_signed(t, tok, signature, session, d);
		if (r < 0)
			goto out;
	}
	si_tpm_selection(&sel, tok->pcr_bank, tok->pcr_mask);
	/* An empty pcrDigest: the TPM uses its current values, and a mismatch
	 * shows up as POLICY_FAIL at Unseal. Saves a PCR_Read. */
	rc = tok->pubkey_pcr_mask && !tok->pcr_mask ? TSS2_RC_SUCCESS :
		Esys_PolicyPCR(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
			       &empty, &sel);
	if (rc) {
		r = si_tpm_error(t, rc, "applying the PCR policy", d);
		goto out;
	}
	if (tok->pin) {
		rc = Esys_PolicyAuthValue(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE,
					  ESYS_TR_NONE);
		if (rc) {
			r = si_tpm_error(t, rc, "applying the PIN policy", d);
			goto out;
		}
	}
	/* Encrypt the response; no continueSession, so the TPM drops the
	 * session itself after a successful Unseal. */
	rc = Esys_TRSess_SetAttributes(t->esys, session, TPMA_SESSION_ENCRYPT, 0xff);
	if (rc) {
		r = si_tpm_error(t, rc, "setting session attributes", d);
		goto out;
	}
	rc = Esys_Unseal(t->esys, obj, session, ESYS_TR_NONE, ESYS_TR_NONE, &data);
	if (rc) {
		uint32_t base = si_tpm_rc_base(rc);

		r = si_tpm_error(t, rc, "unsealing", d);
		if (base == TPM2_RC_PCR_CHANGED) {
			r = -EAGAIN;
		} else if (r == -SI_EPOLICY) {
			si_diag_set(d, "unsealing: PCR %s values differ from the sealed policy",
				    si_bank_name(tok->pcr_bank));
		} else if (tok->pin && (base == TPM2_RC_AUTH_FAIL || base == TPM2_RC_BAD_AUTH)) {
			si_diag_set(d, "unsealing: the TPM rejected the PIN");
			r = -SI_EBADPIN;
		}
		goto out;
	}
	session = ESYS_TR_NONE; /* flushed by the TPM */
	if (data->size > cap) {
		r = -ENOSPC;
		goto out;
	}
	memcpy(out, data->buffer, data->size);
	*len = data->size;
	r = 0;
out:
	if (data) {
		si_wipe(data, sizeof(*data));
		Esys_Free(data);
	}
	si_tpm_flush(t, &session);
	return r;
}

int si_tpm_unseal_prepare(struct si_tpm *t, const struct si_token *tok,
			  struct si_tpm_unseal_prep *p, struct si_diag *d)
{
	TPM2B_PRIVATE priv = { 0 };
	TPM2B_PUBLIC pub = { 0 };
	size_t off = 0;
	TSS2_RC rc;
	int r;

	p->parent = p->obj = p->session = ESYS_TR_NONE;
	p->transient = 0;
	if (tok->pcrlock) {
		si_diag_set(d, "token uses tpm2_pcrlock, which this build does not support");
		return -SI_EUNSUPPORTED;
	}
	if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(tok->blob, tok->blob_len, &off, &priv) ||
	    Tss2_MU_TPM2B_PUBLIC_Unmarshal(tok->blob, tok->blob_len, &off, &pub)) {
		si_diag_set(d, "token field `tpm2-blob': truncated");
		return -SI_EBADTOKEN;
	}
	r = token_parent(t, tok, &p->parent, &p->transient, d);
	if (r < 0)
		goto fail;
	rc = Esys_Load(t->esys, p->parent, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
		       &priv, &pub, &p->obj);
	if (rc) {
		r = si_tpm_error(t, rc, "loading the sealed object", d);
		if (r == -SI_ETPM) {
			si_diag_set(d, "loading the sealed object: it does not belong to this "
				    "TPM's storage key (%s)", Tss2_RC_Decode(rc));
			r = -SI_ESRK;
		}
		goto fail;
	}
	/* Salted with the parent, which token_parent checked against the
	 * token's `tpm2_srk' before anything was sent under it. */
	r = si_tpm_start_session(t, p->parent, TPM2_SE_POLICY, &p->session, d);
	if (r < 0)
		goto fail;
	return 0;
fail:
	si_tpm_unseal_release(t, p);
	return r;
}

void si_tpm_unseal_release(struct si_tpm *t, struct si_tpm_unseal_prep *p)
{
	si_tpm_flush(t, &p->session);
	si_tpm_flush(t, &p->obj);
	if (p->transient)
		si_tpm_flush(t, &p->parent);
	else if (p->parent != ESYS_TR_NONE)
		(void)Esys_TR_Close(t->esys, &p->parent);
	p->parent = ESYS_TR_NONE;
	p->transient = 0;
}

int si_tpm_unseal_prepared(struct si_tpm *t, const struct si_token *tok, const char *pin,
			   const char *signature, struct si_tpm_unseal_prep *p, uint8_t *out,
			   size_t cap, size_t *len, struct si_diag *d)
{
	TPM2B_AUTH *auth = NULL;
	int attempt, r = 0;
	TSS2_RC rc;

	if (tok->pin && !pin) {
		si_diag_set(d, "the token needs a PIN");
		return -SI_ENOPIN;
	}
	if (tok->pin) {
		auth = si_secret_alloc(sizeof(*auth));
		if (!auth)
			return -ENOMEM;
		r = si_pin_to_auth(pin, tok->salt, tok->salt_len, auth->buffer);
		if (r < 0)
			goto out;
		auth->size = 32;
		rc = Esys_TR_SetAuth(t->esys, p->obj, auth);
		if (rc) {
			r = si_tpm_error(t, rc, "setting the PIN", d);
			goto out;
		}
	}
	/* PCR_CHANGED means a PCR moved between PolicyPCR and Unseal (another
	 * process extending); the policy itself may still hold: retry, each
	 * time in a new session. */
	for (attempt = 0;; attempt++) {
		r = unseal_once(t, tok, signature, p->parent, p->obj, &p->session, out, cap, len, d);
		if (r != -EAGAIN)
			break;
		if (attempt >= CONFIG_TPM2_PCR_CHANGED_RETRIES) {
			si_diag_set(d, "unsealing: PCRs kept changing during %d attempts",
				    attempt + 1);
			r = -SI_EPOLICY;
			break;
		}
	}
out:
	si_secret_free(auth);
	return r;
}

int si_tpm_unseal(struct si_tpm *t, const struct si_token *tok, const char *pin,
		  const char *signature, uint8_t *out, size_t cap, size_t *len, struct si_diag *d)
{
	struct si_tpm_unseal_prep p;
	int r;

	if (tok->pin && !pin) {
		si_diag_set(d, "the token needs a PIN");
		return -SI_ENOPIN;
	}
	r = si_tpm_unseal_prepare(t, tok, &p, d);
	if (r < 0)
		return r;
	r = si_tpm_unseal_prepared(t, tok, pin, signature, &p, out, cap, len, d);
	si_tpm_unseal_release(t, &p);
	return r;
}
