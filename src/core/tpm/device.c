/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "config.h"
#include "core/errors.h"
#include "core/hash.h"
#include "core/pcrs.h"
#include "core/secret.h"
#include "core/tpm/internal.h"
#include "core/tpm/tpm.h"

static TSS2_RC bt_transmit(TSS2_TCTI_CONTEXT *ctx, size_t size, const uint8_t *cmd)
{
	struct bounded_tcti *b = (struct bounded_tcti *)ctx;

	b->commands++;
	return Tss2_Tcti_Transmit(b->inner, size, cmd);
}

static TSS2_RC bt_receive(TSS2_TCTI_CONTEXT *ctx, size_t *size, uint8_t *rsp, int32_t timeout)
{
	struct bounded_tcti *b = (struct bounded_tcti *)ctx;
	TSS2_RC rc;

	if (timeout < 0 || timeout > b->timeout_ms) {
		rc = Tss2_Tcti_Receive(b->inner, size, rsp, b->timeout_ms);
		/* The caller asked to block: our bound expired, so give up for good. */
		if ((rc & 0xFFFF) == TSS2_BASE_RC_TRY_AGAIN) {
			b->timed_out = 1;
			return TSS2_TCTI_RC_IO_ERROR;
		}
		return rc;
	}
	return Tss2_Tcti_Receive(b->inner, size, rsp, timeout);
}

static void bt_finalize(TSS2_TCTI_CONTEXT *ctx)
{
	(void)ctx; /* the inner TCTI is finalized by si_tpm_close() */
}

static TSS2_RC bt_cancel(TSS2_TCTI_CONTEXT *ctx)
{
	return Tss2_Tcti_Cancel(((struct bounded_tcti *)ctx)->inner);
}

static TSS2_RC bt_get_poll_handles(TSS2_TCTI_CONTEXT *ctx, TSS2_TCTI_POLL_HANDLE *h, size_t *n)
{
	return Tss2_Tcti_GetPollHandles(((struct bounded_tcti *)ctx)->inner, h, n);
}

static TSS2_RC bt_set_locality(TSS2_TCTI_CONTEXT *ctx, uint8_t locality)
{
	return Tss2_Tcti_SetLocality(((struct bounded_tcti *)ctx)->inner, locality);
}

static TSS2_RC bt_make_sticky(TSS2_TCTI_CONTEXT *ctx, TPM2_HANDLE *handle, uint8_t sticky)
{
	return Tss2_Tcti_MakeSticky(((struct bounded_tcti *)ctx)->inner, handle, sticky);
}

/* Fold a TSS2_RC to the TPM's error number (Part 2, 6.6), keeping other
 * layers' codes whole. */
uint32_t si_tpm_rc_base(TSS2_RC rc)
{
	if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER)
		return rc;
	if (rc & TPM2_RC_FMT1)
		return rc & (TPM2_RC_FMT1 | 0x3F);
	return rc & 0x97F;
}

static int tcti_failed(struct si_tpm *t, TSS2_RC rc)
{
	uint32_t layer = rc & TSS2_RC_LAYER_MASK;

	return t->tcti.timed_out || layer == TSS2_TCTI_RC_LAYER ||
	       (rc & 0xFFFF) == TSS2_BASE_RC_NO_CONNECTION ||
	       (rc & 0xFFFF) == TSS2_BASE_RC_IO_ERROR;
}

int si_tpm_error(struct si_tpm *t, TSS2_RC rc, const char *step, struct si_diag *d)
{
	uint32_t base = si_tpm_rc_base(rc);

	if (tcti_failed(t, rc)) {
		if (t->tcti.timed_out)
			si_diag_set(d, "%s: TPM did not answer within %d ms", step,
				    (int)t->tcti.timeout_ms);
		else
			si_diag_set(d, "%s: lost the connection to the TPM (%s)", step,
				    Tss2_RC_Decode(rc));
		return -SI_ENOTPM;
	}
	si_diag_set(d, "%s: %s", step, Tss2_RC_Decode(rc));
	switch (base) {
	case TPM2_RC_LOCKOUT:
		return -SI_ELOCKOUT;
	case TPM2_RC_POLICY_FAIL:
	case TPM2_RC_PCR_CHANGED:
		return -SI_EPOLICY;
	}
	return -SI_ETPM;
}

int si_tpm_set_owner_auth(struct si_tpm *t, const void *auth, size_t len, struct si_diag *d)
{
	TPM2B_AUTH a = { .size = (UINT16)len };
	TSS2_RC rc;

	if (len > sizeof(a.buffer)) {
		si_diag_set(d, "the owner authorization is %zu bytes; a TPM takes at most %zu", len,
			    sizeof(a.buffer));
		return -EINVAL;
	}
	memcpy(a.buffer, auth, len);
	rc = Esys_TR_SetAuth(t->esys, ESYS_TR_RH_OWNER, &a);
	si_wipe(&a, sizeof(a));
	if (rc)
		return si_tpm_error(t, rc, "setting the owner authorization", d);
	t->owner_auth_set = true;
	return 0;
}

int si_tpm_open(const char *tcti, int timeout_ms, struct si_tpm **ret, struct si_diag *d)
{
	struct si_tpm *t;
	TSS2_RC rc;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti.inner);
	if (rc) {
		si_diag_set(d, "cannot open TPM `%s' (%s)", tcti, Tss2_RC_Decode(rc));
		free(t);
		return -SI_ENOTPM;
	}
	t->tcti.common.v1.magic = TSS2_TCTI_MAGIC(t->tcti.inner);
	t->tcti.common.v1.version = 2;
	t->tcti.common.v1.transmit = bt_transmit;
	t->tcti.common.v1.receive = bt_receive;
	t->tcti.common.v1.finalize = bt_finalize;
	t->tcti.common.v1.cancel = bt_cancel;
	t->tcti.common.v1.getPollHandles = bt_get_poll_handles;
	t->tcti.common.v1.setLocality = bt_set_locality;
	t->tcti.common.makeSticky = bt_make_sticky;
	t->tcti.timeout_ms = timeout_ms > 0 ? timeout_ms : CONFIG_TPM2_TIMEOUT_MS;

	rc = Esys_Initialize(&t->esys, (TSS2_TCTI_CONTEXT *)&t->tcti, NULL);
	if (rc) {
		si_diag_set(d, "cannot initialize the TPM stack for `%s' (%s)", tcti,
			    Tss2_RC_Decode(rc));
		Tss2_TctiLdr_Finalize(&t->tcti.inner);
		free(t);
		return -SI_ENOTPM;
	}
	*ret = t;
	return 0;
}

void si_tpm_close(struct si_tpm *t)
{
	if (!t)
		return;
	/* The TSS keeps the owner password in its handle object, and frees
	 * it without wiping: overwrite it with an empty one first. */
	if (t->owner_auth_set) {
		TPM2B_AUTH none = { .size = 0 };

		(void)Esys_TR_SetAuth(t->esys, ESYS_TR_RH_OWNER, &none);
	}
	Esys_Finalize(&t->esys);
	Tss2_TctiLdr_Finalize(&t->tcti.inner);
	free(t);
}

unsigned int si_tpm_commands(const struct si_tpm *t)
{
	return t->tcti.commands;
}

void si_tpm_flush(struct si_tpm *t, ESYS_TR *h)
{
	if (*h != ESYS_TR_NONE)
		(void)Esys_FlushContext(t->esys, *h);
	*h = ESYS_TR_NONE;
}

void si_tpm_selection(TPML_PCR_SELECTION *sel, uint16_t bank, uint32_t mask)
{
	memset(sel, 0, sizeof(*sel));
	sel->count = 1;
	sel->pcrSelections[0].hash = bank;
	sel->pcrSelections[0].sizeofSelect = 3;
	sel->pcrSelections[0].pcrSelect[0] = (uint8_t)mask;
	sel->pcrSelections[0].pcrSelect[1] = (uint8_t)(mask >> 8);
	sel->pcrSelections[0].pcrSelect[2] = (uint8_t)(mask >> 16);
}

int si_tpm_pcr_read(struct si_tpm *t, uint16_t bank, uint32_t mask, uint8_t *values,
		    size_t cap, size_t *len, struct si_diag *d)
{
	size_t dsize = si_bank_digest_size(bank);
	uint32_t todo = mask;

	if (!dsize)
		return -EINVAL;
	if ((size_t)__builtin_popcount(mask) * dsize > cap)
		return -ENOSPC;
	/* A TPM returns at most 8 digests per PCR_Read; ask until all came. */
	while (todo) {
		TPML_PCR_SELECTION sel, *got_sel = NULL;
		TPML_DIGEST *got = NULL;
		uint32_t got_mask = 0;
		unsigned int i, k = 0;
		TSS2_RC rc;
		int r = 0;

		si_tpm_selection(&sel, bank, todo);
		rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   &sel, NULL, &got_sel, &got);
		if (rc)
			return si_tpm_error(t, rc, "reading PCRs", d);
		if (got_sel->count == 1)
			got_mask = ((uint32_t)got_sel->pcrSelections[0].pcrSelect[0] |
				    (uint32_t)got_sel->pcrSelections[0].pcrSelect[1] << 8 |
				    (uint32_t)got_sel->pcrSelections[0].pcrSelect[2] << 16) & todo;
		if (!got_mask) {
			si_diag_set(d, "reading PCRs: the TPM has no %s bank for PCRs %#x",
				    si_bank_name(bank), todo);
			r = -SI_EPOLICY;
		} else if ((unsigned int)__builtin_popcount(got_mask) > got->count) {
			si_diag_set(d, "reading PCRs: malformed answer from the TPM");
			r = -SI_ETPM;
		}
		/* Digests come in ascending PCR order; each goes to its place
		 * among all the PCRs asked for. */
		for (i = 0; r == 0 && i < SI_PCR_COUNT; i++) {
			size_t pos = (size_t)__builtin_popcount(mask & ((UINT32_C(1) << i) - 1));

			if (!(got_mask & (UINT32_C(1) << i)))
				continue;
			if (got->digests[k].size != dsize) {
				si_diag_set(d, "reading PCRs: malformed answer from the TPM");
				r = -SI_ETPM;
				break;
			}
			memcpy(values + pos * dsize, got->digests[k++].buffer, dsize);
		}
		Esys_Free(got_sel);
		Esys_Free(got);
		if (r < 0)
			return r;
		todo &= ~got_mask;
	}
	*len = (size_t)__builtin_popcount(mask) * dsize;
	return 0;
}

int si_tpm_pcr_event(struct si_tpm *t, unsigned int pcr, const void *data, size_t len,
		     struct si_diag *d)
{
	TPM2B_EVENT ev = { .size = (uint16_t)len };
	TPML_DIGEST_VALUES *out = NULL;
	TSS2_RC rc;

	if (pcr >= SI_PCR_COUNT || len > sizeof(ev.buffer))
		return -EINVAL;
	memcpy(ev.buffer, data, len);
	rc = Esys_PCR_Event(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			    ESYS_TR_NONE, &ev, &out);
	Esys_Free(out);
	if (rc)
		return si_tpm_error(t, rc, "extending PCR", d);
	return 0;
}

int si_tpm_pcr_banks(struct si_tpm *t, unsigned int pcr, uint16_t *banks, size_t cap,
		     size_t *n, struct si_diag *d)
{
	TPMS_CAPABILITY_DATA *data = NULL;
	TPMI_YES_NO more = 0;
	TSS2_RC rc;
	UINT32 i;

	*n = 0;
	if (pcr >= SI_PCR_COUNT)
		return -EINVAL;
	rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS,
				0, 1, &more, &data);
	if (rc)
		return si_tpm_error(t, rc, "listing PCR banks", d);
	for (i = 0; i < data->data.assignedPCR.count && i < TPM2_NUM_PCR_BANKS; i++) {
		const TPMS_PCR_SELECTION *s = &data->data.assignedPCR.pcrSelections[i];

		if (pcr / 8 < s->sizeofSelect && (s->pcrSelect[pcr / 8] & (1u << (pcr % 8))) &&
		    si_bank_digest_size(s->hash) && *n < cap)
			banks[(*n)++] = s->hash;
	}
	Esys_Free(data);
	if (!*n) {
		si_diag_set(d, "the TPM has no known bank for PCR %u", pcr);
		return -SI_ETPM;
	}
	return 0;
}

int si_tpm_pcr_extend(struct si_tpm *t, unsigned int pcr, size_t n, const uint16_t *banks,
		      const uint8_t (*digests)[64], const size_t *lens, struct si_diag *d)
{
	TPML_DIGEST_VALUES v = { 0 };
	TSS2_RC rc;
	size_t i;

	if (pcr >= SI_PCR_COUNT || !n || n > TPM2_NUM_PCR_BANKS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (lens[i] != si_bank_digest_size(banks[i]) || lens[i] > sizeof(v.digests[i].digest))
			return -EINVAL;
		v.digests[i].hashAlg = banks[i];
		memcpy(&v.digests[i].digest, digests[i], lens[i]);
	}
	v.count = (UINT32)n;
	rc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			     ESYS_TR_NONE, &v);
	if (rc)
		return si_tpm_error(t, rc, "extending PCR", d);
	return 0;
}

int si_tpm_pcr_extend_verified(struct si_tpm *t, uint32_t mask, const void *data, size_t len,
			       struct si_diag *d)
{
	uint8_t before[SI_PCR_COUNT * SI_SHA256_SIZE], after[SI_PCR_COUNT * SI_SHA256_SIZE];
	uint8_t ev[SI_SHA256_SIZE], want[2 * SI_SHA256_SIZE];
	size_t n = 0, k = 0;
	unsigned int i;
	int r;

	r = si_tpm_pcr_read(t, TPM2_ALG_SHA256, mask, before, sizeof(before), &n, d);
	for (i = 0; r == 0 && i < SI_PCR_COUNT; i++)
		if (mask & (UINT32_C(1) << i))
			r = si_tpm_pcr_event(t, i, data, len, d);
	if (r == 0)
		r = si_tpm_pcr_read(t, TPM2_ALG_SHA256, mask, after, sizeof(after), &n, d);
	if (r == 0)
		r = si_sha256(data, len, ev);
	for (i = 0; r == 0 && i < SI_PCR_COUNT; i++) {
		if (!(mask & (UINT32_C(1) << i)))
			continue;
		memcpy(want, before + k * SI_SHA256_SIZE, SI_SHA256_SIZE);
		memcpy(want + SI_SHA256_SIZE, ev, SI_SHA256_SIZE);
		r = si_sha256(want, sizeof(want), want);
		if (r == 0 && memcmp(want, after + k * SI_SHA256_SIZE, SI_SHA256_SIZE)) {
			si_diag_set(d, "PCR %u did not change as extended: the TPM, its driver or its "
				    "bus dropped the event", i);
			r = -SI_ETPM;
		}
		k++;
	}
	return r;
}

int si_tpm_auth_state(struct si_tpm *t, struct si_tpm_auth_state *s, struct si_diag *d)
{
	TPMS_CAPABILITY_DATA *data = NULL;
	TPMI_YES_NO more = 0;
	TSS2_RC rc;
	UINT32 v;

	memset(s, 0, sizeof(*s));
	rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				TPM2_CAP_TPM_PROPERTIES, TPM2_PT_PERMANENT, 1, &more, &data);
	if (rc)
		return si_tpm_error(t, rc, "reading the TPM's permanent properties", d);
	if (data->capability != TPM2_CAP_TPM_PROPERTIES || data->data.tpmProperties.count != 1 ||
	    data->data.tpmProperties.tpmProperty[0].property != TPM2_PT_PERMANENT) {
		Esys_Free(data);
		si_diag_set(d, "reading the TPM's permanent properties: the TPM answered with "
			    "another property than TPM_PT_PERMANENT");
		return -SI_ETPM;
	}
	v = data->data.tpmProperties.tpmProperty[0].value;
	Esys_Free(data);
	s->owner = v & TPMA_PERMANENT_OWNERAUTHSET;
	s->endorsement = v & TPMA_PERMANENT_ENDORSEMENTAUTHSET;
	s->lockout = v & TPMA_PERMANENT_LOCKOUTAUTHSET;
	s->in_lockout = v & TPMA_PERMANENT_INLOCKOUT;
	return 0;
}
