/* SPDX-License-Identifier: MIT */
/*
 * The rollback counter on the TPM: read, define, increment. The policy
 * side (its Name, PolicyNV) is offline, in policy.c; the boot's PolicyNV
 * is in seal.c.
 */
#include <errno.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>

#include "core/errors.h"
#include "core/tpm/counter.h"
#include "core/tpm/internal.h"
#include "core/tpm/policy.h"
#include "core/tpm/tpm.h"

/* Whether h's Name is a genuine counter's at index, written or not. */
static bool known_shape(struct si_tpm *t, uint32_t index, const uint8_t *policy, ESYS_TR h,
			bool *written)
{
	uint8_t want[SI_NV_NAME_SIZE];
	TPM2B_NAME *name = NULL;
	bool match = false;
	int w;

	if (Esys_TR_GetName(t->esys, h, &name))
		return false;
	for (w = 0; w < 2 && !match; w++) {
		if (si_nv_name(index, SI_COUNTER_ATTRS | (w ? SI_COUNTER_WRITTEN : 0), policy, 8,
			       want) < 0)
			break;
		match = name->size == SI_NV_NAME_SIZE && !memcmp(name->name, want, SI_NV_NAME_SIZE);
		*written = w;
	}
	Esys_Free(name);
	return match;
}

/* An ESYS handle for the index, and whether it is sealinit's counter
 * (attributes, size and authPolicy: what its Name covers); written tells
 * whether it has been incremented yet. */
static int open_index(struct si_tpm *t, uint32_t index, ESYS_TR *h, bool *written,
		      struct si_diag *d)
{
	TPM2B_NV_PUBLIC *pub = NULL;
	TPM2B_NAME *name = NULL;
	uint8_t policy[SI_POLICY_SIZE];
	TSS2_RC rc;
	uint32_t attrs;
	int r;

	*h = ESYS_TR_NONE;
	r = si_counter_auth_policy(policy);
	if (r < 0)
		return r;
	rc = Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, h);
	if (rc) {
		*h = ESYS_TR_NONE;
		if (si_tpm_rc_base(rc) == TPM2_RC_HANDLE || (rc & 0xFFFF) == TPM2_RC_HANDLE)
			return -ENOENT;
		return si_tpm_error(t, rc, "reading the rollback counter's public area", d);
	}
	/* The Name the TPM gave (checked by the TSS against the public area
	 * it read) against the two a genuine counter can have: the common
	 * case costs no second NV_ReadPublic; anything else is read again
	 * for a message naming what differs. */
	if (known_shape(t, index, policy, *h, written))
		return 0;
	rc = Esys_NV_ReadPublic(t->esys, *h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, &name);
	if (rc) {
		r = si_tpm_error(t, rc, "reading the rollback counter's public area", d);
		goto fail;
	}
	attrs = pub->nvPublic.attributes;
	*written = attrs & SI_COUNTER_WRITTEN;
	if (pub->nvPublic.nameAlg != TPM2_ALG_SHA256 || pub->nvPublic.dataSize != 8 ||
	    (attrs & ~SI_COUNTER_WRITTEN) != SI_COUNTER_ATTRS ||
	    pub->nvPublic.authPolicy.size != SI_POLICY_SIZE ||
	    memcmp(pub->nvPublic.authPolicy.buffer, policy, SI_POLICY_SIZE)) {
		si_diag_set(d, "NV index 0x%08x is not sealinit's rollback counter: attributes 0x%08x, "
			    "size %u, policy of %u bytes (expected 0x%08x, 8, and the policy "
			    "PolicyCommandCode(NV_Increment))", index, (unsigned int)attrs,
			    pub->nvPublic.dataSize, pub->nvPublic.authPolicy.size,
			    SI_COUNTER_ATTRS | SI_COUNTER_WRITTEN);
		r = -SI_ETPM;
		goto fail;
	}
	Esys_Free(pub);
	Esys_Free(name);
	return 0;
fail:
	Esys_Free(pub);
	Esys_Free(name);
	(void)Esys_TR_Close(t->esys, h);
	*h = ESYS_TR_NONE;
	return r;
}

static int read_value(struct si_tpm *t, ESYS_TR h, uint64_t *value, struct si_diag *d)
{
	TPM2B_MAX_NV_BUFFER *data = NULL;
	TSS2_RC rc;
	int i;

	rc = Esys_NV_Read(t->esys, h, h, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, 8, 0, &data);
	if (rc)
		return si_tpm_error(t, rc, "reading the rollback counter", d);
	if (data->size != 8) {
		Esys_Free(data);
		si_diag_set(d, "reading the rollback counter: %u bytes (expected 8)", data->size);
		return -SI_ETPM;
	}
	*value = 0;
	for (i = 0; i < 8; i++)
		*value = *value << 8 | data->buffer[i];
	Esys_Free(data);
	return 0;
}

/* Defining the index is the one owner-authorized step: a refused empty
 * authorization named as such. */
static int owner_error(struct si_tpm *t, TSS2_RC rc, const char *step, struct si_diag *d)
{
	uint32_t base = si_tpm_rc_base(rc);
	int r = si_tpm_error(t, rc, step, d);

	if (r == -SI_ETPM && (base == TPM2_RC_BAD_AUTH || base == TPM2_RC_AUTH_FAIL))
		si_diag_set(d, "%s: the owner hierarchy has an authorization value, and %s: %s "
			    "(give it with --owner-auth-file)", step,
			    t->owner_auth_set ? "the one given is not it" : "none was given",
			    Tss2_RC_Decode(rc));
	return r;
}

/*
 * NV_Increment authorized by the index's own policy: a policy session
 * with PolicyCommandCode(NV_Increment), the index as its own authHandle.
 * No hierarchy's authorization is involved, so a password set on the
 * owner hierarchy does not stop revocation. Nothing here is secret: the
 * session is neither salted nor encrypting.
 */
static int increment(struct si_tpm *t, ESYS_TR h, struct si_diag *d)
{
	ESYS_TR session = ESYS_TR_NONE;
	TSS2_RC rc;
	int r = si_tpm_policy_session(t, &session, "starting the rollback counter's policy "
				      "session", d);

	if (r < 0)
		return r;
	rc = Esys_PolicyCommandCode(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				    TPM2_CC_NV_Increment);
	if (!rc)
		rc = Esys_NV_Increment(t->esys, h, h, session, ESYS_TR_NONE, ESYS_TR_NONE);
	si_tpm_flush(t, &session);
	return rc ? si_tpm_error(t, rc, "incrementing the rollback counter", d) : 0;
}

int si_tpm_counter_read(struct si_tpm *t, uint32_t index, uint64_t *value, struct si_diag *d)
{
	ESYS_TR h;
	bool written;
	int r = open_index(t, index, &h, &written, d);

	if (r < 0)
		return r;
	if (!written) {
		si_diag_set(d, "NV index 0x%08x: the rollback counter was defined and never "
			    "incremented", index);
		r = -SI_ETPM;
	} else {
		r = read_value(t, h, value, d);
	}
	(void)Esys_TR_Close(t->esys, &h);
	return r;
}

int si_tpm_counter_ensure(struct si_tpm *t, uint32_t index, uint64_t *value, bool *created,
			  struct si_diag *d)
{
	TPM2B_NV_PUBLIC pub = { 0 };
	TPM2B_AUTH auth = { 0 };
	ESYS_TR h = ESYS_TR_NONE;
	bool written = false;
	TSS2_RC rc;
	int r;

	*created = false;
	if (index < SI_COUNTER_FIRST || index > SI_COUNTER_LAST) {
		si_diag_set(d, "NV index 0x%08x is outside the owner range 0x%08x-0x%08x", index,
			    SI_COUNTER_FIRST, SI_COUNTER_LAST);
		return -EINVAL;
	}
	r = open_index(t, index, &h, &written, d);
	if (r == -ENOENT) {
		pub.nvPublic.nvIndex = index;
		pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
		pub.nvPublic.attributes = SI_COUNTER_ATTRS;
		pub.nvPublic.dataSize = 8;
		pub.nvPublic.authPolicy.size = SI_POLICY_SIZE;
		r = si_counter_auth_policy(pub.nvPublic.authPolicy.buffer);
		if (r < 0)
			goto out;
		rc = Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
					 ESYS_TR_NONE, &auth, &pub, &h);
		if (rc) {
			h = ESYS_TR_NONE;
			r = owner_error(t, rc, "defining the rollback counter", d);
			goto out;
		}
		*created = true;
	} else if (r < 0) {
		goto out;
	}
	if (!written) {
		r = increment(t, h, d);
		if (r < 0)
			goto out;
	}
	r = read_value(t, h, value, d);
out:
	if (h != ESYS_TR_NONE)
		(void)Esys_TR_Close(t->esys, &h);
	return r;
}

int si_tpm_counter_increment(struct si_tpm *t, uint32_t index, uint64_t *value,
			     struct si_diag *d)
{
	ESYS_TR h;
	bool written;
	int r = open_index(t, index, &h, &written, d);

	if (r == -ENOENT)
		si_diag_set(d, "NV index 0x%08x: no rollback counter there (enroll --counter "
			    "defines it)", index);
	if (r < 0)
		return r;
	r = increment(t, h, d);
	if (!r)
		r = read_value(t, h, value, d);
	(void)Esys_TR_Close(t->esys, &h);
	return r;
}
