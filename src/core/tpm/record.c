/* SPDX-License-Identifier: MIT */
/*
 * The device record (record.h): its policy and Name offline, its read and
 * write on the TPM. The write's signed policy steps are seal.c's
 * (si_tpm_policy_signed), shared with the unseal of a signed token.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>

#include "core/errors.h"
#include "core/sigfile.h"
#include "core/tpm/authorize.h"
#include "core/tpm/internal.h"
#include "core/tpm/policy.h"
#include "core/tpm/record.h"
#include "core/tpm/tpm.h"

#define NT_MASK    0x000000F0u  /* TPMA_NV's TPM_NT field */
#define NT_COUNTER 0x00000010u

int si_record_auth_policy(const uint8_t *key_name, size_t name_len,
			  uint8_t digest[SI_POLICY_SIZE])
{
	return si_policy_authorize_ref(digest, key_name, name_len,
				       (const uint8_t *)SI_RECORD_REF, SI_RECORD_REF_LEN);
}

int si_record_name(uint32_t index, const uint8_t *key_name, size_t name_len, bool written,
		   uint8_t name[SI_NV_NAME_SIZE])
{
	uint8_t policy[SI_POLICY_SIZE];
	int r = si_record_auth_policy(key_name, name_len, policy);

	if (r < 0)
		return r;
	return si_nv_name(index, SI_RECORD_ATTRS | (written ? SI_COUNTER_WRITTEN : 0), policy,
			  SI_RECORD_SIZE, name);
}

int si_record_approved(const uint8_t pcr_policy[SI_POLICY_SIZE], uint8_t digest[SI_POLICY_SIZE])
{
	memcpy(digest, pcr_policy, SI_POLICY_SIZE);
	return si_policy_command_code(digest, SI_CC_NV_WRITE);
}

/* What the caller knows of the index at a handle. */
enum shape {
	SHAPE_RECORD,      /* this key's record, written */
	SHAPE_UNWRITTEN,   /* this key's record, never written */
	SHAPE_OTHER,       /* another index: d names what differs */
};

/* Append ", " and one difference to what (of size WHAT_MAX). */
#define WHAT_MAX 300
static void differs(char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void differs(char *what, const char *fmt, ...)
{
	size_t len = strlen(what);
	va_list ap;

	if (len && len + 2 < WHAT_MAX) {
		memcpy(what + len, ", ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(what + len, WHAT_MAX - len, fmt, ap);
	va_end(ap);
}

/*
 * What differs between the index's public area and the record's, named:
 * its attributes, size, policy, or that it was never written.
 */
static int describe(struct si_tpm *t, uint32_t index, ESYS_TR h, const uint8_t policy[32],
		    uint32_t *attrs, struct si_diag *d)
{
	TPM2B_NV_PUBLIC *pub = NULL;
	TPM2B_NAME *name = NULL;
	char what[WHAT_MAX] = "";
	TSS2_RC rc;

	rc = Esys_NV_ReadPublic(t->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, &name);
	if (rc)
		return si_tpm_error(t, rc, "reading the device record's public area", d);
	*attrs = pub->nvPublic.attributes;
	if (pub->nvPublic.nameAlg != TPM2_ALG_SHA256)
		differs(what, "name algorithm 0x%04x (expected sha256)", pub->nvPublic.nameAlg);
	if ((*attrs & ~SI_COUNTER_WRITTEN) != SI_RECORD_ATTRS)
		differs(what, "attributes 0x%08x (expected 0x%08x)", (unsigned int)*attrs,
			SI_RECORD_ATTRS | SI_COUNTER_WRITTEN);
	if (pub->nvPublic.dataSize != SI_RECORD_SIZE)
		differs(what, "size %u (expected %d)", pub->nvPublic.dataSize, SI_RECORD_SIZE);
	if (pub->nvPublic.authPolicy.size != SI_POLICY_SIZE ||
	    memcmp(pub->nvPublic.authPolicy.buffer, policy, SI_POLICY_SIZE))
		differs(what, "a policy (%u bytes) other than PolicyAuthorize(the fleet key, "
			"\"" SI_RECORD_REF "\")", pub->nvPublic.authPolicy.size);
	if (!what[0] && !(*attrs & SI_COUNTER_WRITTEN))
		differs(what, "never written");
	if (what[0])
		si_diag_set(d, "NV index 0x%08x is not the device record of this fleet key: %s",
			    index, what);
	else
		si_diag_set(d, "NV index 0x%08x: its Name is not the device record's, though its "
			    "public area is", index);
	Esys_Free(pub);
	Esys_Free(name);
	return 0;
}

/*
 * An ESYS handle for the index and its shape, from its Name alone (one
 * command, NV_ReadPublic): the Name covers the attributes, WRITTEN, the
 * size and the authPolicy, and a read in a session then proves it is the
 * TPM's. Only an index of another shape costs a second NV_ReadPublic, to
 * say what differs. -ENOENT: no index at the handle.
 */
static int open_record(struct si_tpm *t, uint32_t index, const struct si_authkey *key,
		       ESYS_TR *h, enum shape *shape, uint32_t *attrs, struct si_diag *d)
{
	uint8_t policy[SI_POLICY_SIZE], written[SI_NV_NAME_SIZE], unwritten[SI_NV_NAME_SIZE];
	TPM2B_NAME *name = NULL;
	TSS2_RC rc;
	int r;

	*h = ESYS_TR_NONE;
	*attrs = 0;
	if ((r = si_record_auth_policy(key->name, sizeof(key->name), policy)) < 0 ||
	    (r = si_record_name(index, key->name, sizeof(key->name), true, written)) < 0 ||
	    (r = si_record_name(index, key->name, sizeof(key->name), false, unwritten)) < 0)
		return r;
	rc = Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, h);
	if (rc) {
		*h = ESYS_TR_NONE;
		if (si_tpm_rc_base(rc) == TPM2_RC_HANDLE || (rc & 0xFFFF) == TPM2_RC_HANDLE) {
			si_diag_set(d, "no device record: NV index 0x%08x is not defined", index);
			return -ENOENT;
		}
		return si_tpm_error(t, rc, "reading the device record's public area", d);
	}
	rc = Esys_TR_GetName(t->esys, *h, &name);
	if (rc) {
		r = si_tpm_error(t, rc, "reading the device record's Name", d);
		goto fail;
	}
	r = 0;
	if (name->size == SI_NV_NAME_SIZE && !memcmp(name->name, written, SI_NV_NAME_SIZE)) {
		*shape = SHAPE_RECORD;
		*attrs = SI_RECORD_ATTRS | SI_COUNTER_WRITTEN;
	} else if (name->size == SI_NV_NAME_SIZE &&
		   !memcmp(name->name, unwritten, SI_NV_NAME_SIZE)) {
		*shape = SHAPE_UNWRITTEN;
		*attrs = SI_RECORD_ATTRS;
		si_diag_set(d, "NV index 0x%08x is not the device record of this fleet key: "
			    "never written", index);
	} else {
		*shape = SHAPE_OTHER;
		r = describe(t, index, *h, policy, attrs, d);
	}
	Esys_Free(name);
	if (r == 0)
		return 0;
fail:
	(void)Esys_TR_Close(t->esys, h);
	*h = ESYS_TR_NONE;
	return r;
}

/*
 * NV_Read authorized by the index's empty authValue (AUTHREAD), in a
 * password session: one command. Whom the record defends against (whoever
 * can run code on the device, or boot it from elsewhere, and define an
 * index) gets the TPM's own answers, and the Name check of open_record
 * refuses an index they defined. An HMAC session salted to the SRK would
 * add integrity against an active bus interposer only, which can already
 * run its own Unseal between the measurements and the cap
 * (docs/threat-model.md), for three more commands at every boot.
 */
static int read_data(struct si_tpm *t, ESYS_TR h, uint8_t id[SI_RECORD_SIZE], struct si_diag *d)
{
	TPM2B_MAX_NV_BUFFER *data = NULL;
	TSS2_RC rc;
	int r = 0;

	rc = Esys_NV_Read(t->esys, h, h, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
			  SI_RECORD_SIZE, 0, &data);
	if (rc)
		return si_tpm_error(t, rc, "reading the device record", d);
	if (data->size != SI_RECORD_SIZE) {
		si_diag_set(d, "reading the device record: %u bytes (expected %d)", data->size,
			    SI_RECORD_SIZE);
		r = -SI_ETPM;
	} else {
		memcpy(id, data->buffer, SI_RECORD_SIZE);
	}
	Esys_Free(data);
	return r;
}

static int fleet_key(struct si_authkey *key, const void *pem, size_t len, struct si_diag *d)
{
	struct si_diag kd;
	int r = si_authkey_from_pem(key, pem, len, &kd);

	if (r < 0)
		si_diag_set(d, "the device record's fleet key: %.450s", kd.msg);
	return r;
}

int si_tpm_record_read(struct si_tpm *t, uint32_t index, const void *pubkey_pem, size_t pem_len,
		       uint8_t id[SI_RECORD_SIZE], struct si_diag *d)
{
	struct si_authkey *key = calloc(1, sizeof(*key));
	ESYS_TR h = ESYS_TR_NONE;
	enum shape shape;
	uint32_t attrs;
	int r = -ENOMEM;

	if (!key)
		return r;
	r = fleet_key(key, pubkey_pem, pem_len, d);
	if (r == 0)
		r = open_record(t, index, key, &h, &shape, &attrs, d);
	if (r == 0 && shape != SHAPE_RECORD)
		r = -SI_ENORECORD;
	if (r == 0)
		r = read_data(t, h, id, d);
	if (h != ESYS_TR_NONE)
		(void)Esys_TR_Close(t->esys, &h);
	free(key);
	return r;
}

/* Define the record's index with the owner's empty authorization. */
static int define(struct si_tpm *t, uint32_t index, const struct si_authkey *key, ESYS_TR *h,
		  struct si_diag *d)
{
	TPM2B_NV_PUBLIC pub = { 0 };
	TPM2B_AUTH auth = { 0 };
	TSS2_RC rc;
	int r;

	pub.nvPublic.nvIndex = index;
	pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
	pub.nvPublic.attributes = SI_RECORD_ATTRS;
	pub.nvPublic.dataSize = SI_RECORD_SIZE;
	pub.nvPublic.authPolicy.size = SI_POLICY_SIZE;
	r = si_record_auth_policy(key->name, sizeof(key->name), pub.nvPublic.authPolicy.buffer);
	if (r < 0)
		return r;
	rc = Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				 ESYS_TR_NONE, &auth, &pub, h);
	if (rc) {
		*h = ESYS_TR_NONE;
		r = si_tpm_error(t, rc, "defining the device record", d);
		if (r == -SI_ETPM && (si_tpm_rc_base(rc) == TPM2_RC_BAD_AUTH ||
				      si_tpm_rc_base(rc) == TPM2_RC_AUTH_FAIL))
			si_diag_set(d, "defining the device record: the owner hierarchy has an "
				    "authorization value, and %s: %s (give it with --owner-auth-file)",
				    t->owner_auth_set ? "the one given is not it" : "none was given",
				    Tss2_RC_Decode(rc));
		return r;
	}
	return 0;
}

/* An index of another shape at the handle goes, but never a counter: a
 * record index given as the rollback counter's must not revoke nothing
 * and brick everything. */
static int undefine(struct si_tpm *t, uint32_t index, uint32_t attrs, ESYS_TR *h,
		    const struct si_diag *why, struct si_diag *d)
{
	TSS2_RC rc;

	if ((attrs & NT_MASK) == NT_COUNTER) {
		si_diag_set(d, "NV index 0x%08x holds a counter, not a device record; not deleted "
			    "(give another index)", index);
		return -EEXIST;
	}
	rc = Esys_NV_UndefineSpace(t->esys, ESYS_TR_RH_OWNER, *h, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				   ESYS_TR_NONE);
	if (rc) {
		int r = si_tpm_error(t, rc, "deleting the index at the device record's handle", d);

		si_diag_set(d, "%.200s; deleting it: %s", why->msg, Tss2_RC_Decode(rc));
		return r;
	}
	*h = ESYS_TR_NONE; /* ESYS forgets an undefined index */
	return 0;
}

/*
 * NV_Write in a policy session: PolicyPCR over the signed PCRs (current
 * values), PolicyCommandCode(NV_Write), then the signed part with the
 * record's policyRef. Nothing here is secret, so the session is neither
 * salted nor encrypting; the write is read back by the caller.
 */
static int write_data(struct si_tpm *t, ESYS_TR h, const struct si_authkey *key,
		      uint32_t pcr_mask, const char *signature, const uint8_t id[SI_RECORD_SIZE],
		      struct si_diag *d)
{
	struct si_signed_policy p = {
		.key = key, .pcr_mask = pcr_mask, .signature = signature,
		.ref = (const uint8_t *)SI_RECORD_REF, .ref_len = SI_RECORD_REF_LEN,
		.whose = "the device record's fleet key",
	};
	TPM2B_MAX_NV_BUFFER data = { .size = SI_RECORD_SIZE };
	TPML_PCR_SELECTION sel;
	TPM2B_DIGEST empty = { 0 };
	ESYS_TR session = ESYS_TR_NONE;
	char why[sizeof(d->msg)];
	TSS2_RC rc;
	int r;

	r = si_tpm_policy_session(t, &session, "starting the device record's policy session", d);
	if (r < 0)
		return r;
	si_tpm_selection(&sel, TPM2_ALG_SHA256, pcr_mask);
	rc = Esys_PolicyPCR(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &empty, &sel);
	if (!rc)
		rc = Esys_PolicyCommandCode(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE,
					    ESYS_TR_NONE, TPM2_CC_NV_Write);
	if (rc) {
		r = si_tpm_error(t, rc, "applying the device record's PCR policy", d);
		goto out;
	}
	r = si_tpm_policy_signed(t, session, &p, d);
	if (r == -SI_ENOSIG || r == -SI_ESIGKEY) {
		memcpy(why, d->msg, sizeof(why));
		si_diag_set(d, "no signature of the device record's policy for these PCR values "
			    "(the release was signed without `sign --record'?): %.380s", why);
	}
	if (r < 0)
		goto out;
	memcpy(data.buffer, id, SI_RECORD_SIZE);
	rc = Esys_NV_Write(t->esys, h, h, session, ESYS_TR_NONE, ESYS_TR_NONE, &data, 0);
	if (rc)
		r = si_tpm_error(t, rc, "writing the device record", d);
out:
	si_tpm_flush(t, &session);
	return r;
}

/* What a write needs before it touches the TPM. */
static int write_args(uint32_t index, const char *signature, struct si_diag *d)
{
	if (index < SI_COUNTER_FIRST || index > SI_COUNTER_LAST) {
		si_diag_set(d, "NV index 0x%08x is outside the owner range 0x%08x-0x%08x", index,
			    SI_COUNTER_FIRST, SI_COUNTER_LAST);
		return -EINVAL;
	}
	if (!signature) {
		si_diag_set(d, "writing the device record needs the release's signature file");
		return -SI_ENOSIG;
	}
	return 0;
}

int si_tpm_record_write(struct si_tpm *t, uint32_t index, const void *pubkey_pem, size_t pem_len,
			uint32_t pcr_mask, const char *signature, const uint8_t id[SI_RECORD_SIZE],
			struct si_diag *d)
{
	struct si_authkey *key = calloc(1, sizeof(*key));
	uint8_t back[SI_RECORD_SIZE];
	ESYS_TR h = ESYS_TR_NONE;
	struct si_diag why = { { 0 } };
	enum shape shape = SHAPE_OTHER;
	uint32_t attrs = 0;
	int r = -ENOMEM;

	if (!key)
		return r;
	r = write_args(index, signature, d);
	if (r == 0)
		r = fleet_key(key, pubkey_pem, pem_len, d);
	if (r < 0)
		goto out;
	r = open_record(t, index, key, &h, &shape, &attrs, &why);
	if (r == 0 && shape == SHAPE_OTHER)
		r = undefine(t, index, attrs, &h, &why, d);
	else if (r < 0 && r != -ENOENT)
		*d = why;
	if (r < 0 && r != -ENOENT)
		goto out;
	if (h == ESYS_TR_NONE) {
		r = define(t, index, key, &h, d);
		if (r < 0)
			goto out;
	}
	r = write_data(t, h, key, pcr_mask, signature, id, d);
	if (r < 0)
		goto out;
	(void)Esys_TR_Close(t->esys, &h);
	/* Read back as the boot reads: an interposer that changed the id on
	 * its way in (the policy session has no HMAC) is caught here. */
	r = si_tpm_record_read(t, index, pubkey_pem, pem_len, back, d);
	if (r == 0 && memcmp(back, id, SI_RECORD_SIZE)) {
		si_diag_set(d, "NV index 0x%08x: the device record reads back other than written",
			    index);
		r = -SI_ETPM;
	}
out:
	if (h != ESYS_TR_NONE)
		(void)Esys_TR_Close(t->esys, &h);
	free(key);
	return r;
}
