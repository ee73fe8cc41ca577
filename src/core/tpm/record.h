/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_RECORD_H
#define SEALINIT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tpm/policy.h"

struct si_diag;
struct si_tpm;

/*
 * The device record (docs/architecture.md, "One image for a fleet"): an NV
 * index of the TPM's owner hierarchy that holds the id of the data volume
 * this device provisioned (volkey.h, systemd's fixate-volume-key= value),
 * so that the boot refuses any other volume without a per-device edit of
 * the measured configuration.
 *
 * Its attributes, size and authPolicy are the same on every device of a
 * fleet, so its Name is too, and the image can check it: an ordinary
 * index, read with its own empty authValue (AUTHREAD), never subject to
 * dictionary-attack lockout, written only through its policy (POLICYWRITE)
 * PolicyAuthorize(the fleet's PCR-signing key, policyRef SI_RECORD_REF).
 * The fleet key approves, per release, PolicyPCR(the release's measured
 * values) followed by PolicyCommandCode(TPM_CC_NV_Write): only a genuine
 * boot, before its cap, writes the record. Anyone with the owner's empty
 * authorization can delete the index or define one of their own at the
 * handle, but not write one with these attributes and this policy, and an
 * unwritten index has another Name (WRITTEN is in it).
 */
#define SI_RECORD_DEFAULT  0x01805e01u   /* beside SI_COUNTER_DEFAULT */
#define SI_RECORD_REF      "sealinit:record"
#define SI_RECORD_REF_LEN  15
#define SI_RECORD_SIZE     32
/* TPMA_NV: TPM_NT_ORDINARY | POLICYWRITE | AUTHREAD | NO_DA; WRITTEN
 * (SI_COUNTER_WRITTEN, bit 29) once written. */
#define SI_RECORD_ATTRS    (0x00000008u | 0x00040000u | 0x02000000u)
#define SI_CC_NV_WRITE     0x00000137u

/* Offline. The record's authPolicy for the fleet key of this Name. */
int si_record_auth_policy(const uint8_t *key_name, size_t name_len,
			  uint8_t digest[SI_POLICY_SIZE]);
/* Its Name at index, written or not. */
int si_record_name(uint32_t index, const uint8_t *key_name, size_t name_len, bool written,
		   uint8_t name[SI_NV_NAME_SIZE]);
/* What the fleet key signs for a release (with SI_RECORD_REF): the
 * PolicyPCR digest of the release's values, then
 * PolicyCommandCode(TPM_CC_NV_Write). */
int si_record_approved(const uint8_t pcr_policy[SI_POLICY_SIZE],
		       uint8_t digest[SI_POLICY_SIZE]);

/*
 * On the TPM. Read: the index's public area must be the record's for this
 * fleet key (attributes, size, authPolicy) and written; -ENOENT when no
 * index is defined there, -SI_ENORECORD (naming what differs) when one is
 * but is not a written record of this key. id: the volume id, raw.
 */
int si_tpm_record_read(struct si_tpm *t, uint32_t index, const void *pubkey_pem,
		       size_t pem_len, uint8_t id[SI_RECORD_SIZE], struct si_diag *d);
/*
 * Write id: defines the index if absent (the owner's empty authorization;
 * an index at the handle that is not this key's record is deleted first),
 * then NV_Write in a policy session: PolicyPCR over pcr_mask (current
 * values), PolicyCommandCode(NV_Write), VerifySignature of a matching
 * entry of the signature file (signature: its JSON text, as
 * si_sigfile_read gives it), PolicyAuthorize. No entry for the current
 * values: -SI_ENOSIG, as for a token.
 */
int si_tpm_record_write(struct si_tpm *t, uint32_t index, const void *pubkey_pem,
			size_t pem_len, uint32_t pcr_mask, const char *signature,
			const uint8_t id[SI_RECORD_SIZE], struct si_diag *d);

#endif
