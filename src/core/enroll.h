/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_ENROLL_H
#define SEALINIT_ENROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pcrs.h"
#include "core/errors.h"
#include "core/unlock.h"
#include "core/volkey.h"

struct si_diag;

/* Seal a new key to the TPM and add it as a keyslot plus a systemd-tpm2
 * token. Built with CONFIG_TPM2 only. */
struct si_enroll_opts {
	const char *device;
	const char *tcti;
	int timeout_ms;
	uint32_t pcr_mask;
	const char *passphrase;   /* authorizes adding the keyslot */
	size_t passphrase_len;
	si_pin_fn get_pin;        /* NULL: no PIN */
	void *pin_ctx;
	int keyslot;              /* -1: the first free one */
	/* Seal to an empty PCR set or to PCR 16/23 (si_pcrs_check_sealable):
	 * tests only. */
	bool unsafe_pcrs;
	/* The PCRs the boot caps (the configuration's pcrs=): the token must
	 * bind one of them (si_pcrs_check_capped), or the booted system can
	 * unseal it again. 0: unknown, not checked (a caller that checked
	 * its own set). uncapped_pcrs: seal anyway (the CLI's
	 * --uncapped-pcrs, never the boot). */
	uint32_t cap_pcrs;
	bool uncapped_pcrs;
	/* Seal to these values instead of the current ones (the PCRs of
	 * expect->mask within pcr_mask); NULL: the current values. */
	const struct si_pcr_expect *expect;
	/* The /dev/mapper name the volume key's id is computed for (volkey.h);
	 * NULL: SI_VOLKEY_DEFAULT_NAME. */
	const char *bind_name;
	/* A signed PCR policy (docs/updates.md): the PEM public key whose
	 * signatures approve the values of pubkey_pcr_mask; pcr_mask then
	 * lists only the PCRs bound to their literal values, and may be 0.
	 * NULL: none. */
	const void *pubkey_pem;
	size_t pubkey_pem_len;
	uint32_t pubkey_pcr_mask;
	/* With pubkey_pem: also bind the policy to the rollback counter at
	 * this NV index, defined (and incremented once) if absent. 0: none. */
	uint32_t counter_nv;
	/* With pubkey_pem (the fleet key): before the enrollment, write the
	 * device record (record.h) at this NV index with the volume's id for
	 * bind_name, in the current PCR state of pubkey_pcr_mask, through the
	 * record's entry of the signature file at signature (NULL:
	 * SI_SIGFILE_DEFAULT). 0: none. */
	uint32_t record_index;
	const char *signature;
	/* With counter_nv: raise the counter to the release's limit, the
	 * newest counted entry of the signature file (signature) for the
	 * values of pubkey_pcr_mask (expect's, or the current ones), so that
	 * a device enrolled after revocations never opens for a release
	 * revoked before it (provisioning). No entry for these values: the
	 * counter stays. */
	bool counter_to_release;
	/* The owner hierarchy's authorization (si_tpm_set_owner_auth), for a
	 * TPM whose owner password a provisioning step set: the storage key,
	 * the counter and the record are made under it. NULL: empty. */
	const void *owner_auth;
	size_t owner_auth_len;
};

struct si_enroll_result {
	int keyslot;
	int token;
	int srk_created;
	unsigned int tpm_commands;
	/* With counter_nv: its value, and whether this enrollment defined it. */
	uint64_t counter;
	bool counter_created;
	/* The volume key's id, systemd's fixate-volume-key= value, for
	 * fixate_volume_key=; empty if it could not be read (id_diag says
	 * why: the enrollment itself stands). */
	char volume_id[SI_VOLKEY_HEX_LEN + 1];
	struct si_diag id_diag;
};

int si_enroll(const struct si_enroll_opts *o, struct si_enroll_result *res,
	      struct si_diag *diag);

#endif
