/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_MIGRATE_H
#define SEALINIT_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/journal.h"

struct si_diag;

/*
 * Moving a volume from the legacy key to the TPM (docs/migration.md).
 *
 * A `sealinit-migration' token is the journal: which keyslot is the legacy
 * one (number and KDF salt), which keyslot an enrollment is writing
 * (pending), and which one the TPM token uses. Every step is one LUKS2
 * header update, and the legacy keyslot is never touched before
 * si_migrate_finish, so a power cut at any point leaves the volume
 * unlockable by the legacy key, and by the TPM once an enrollment
 * completed. A rerun after a cut removes the half-written keyslot first.
 */

struct si_migrate_opts {
	const char *device;
	const char *tcti;
	int timeout_ms;
	uint32_t pcr_mask;
	const char *passphrase;  /* the legacy key */
	size_t passphrase_len;
	int legacy_keyslot;      /* the keyslot it opened; -1: find it */
	/* The state to seal to (si_enroll_opts.expect); NULL: current. */
	const struct si_pcr_expect *expect;
	/* The boot's cap set, and the override (si_enroll_opts). */
	uint32_t cap_pcrs;
	bool uncapped_pcrs;
};

struct si_migrate_result {
	int legacy_keyslot;
	int tpm_keyslot;
	int replaced_keyslot;    /* an earlier migration's TPM keyslot, now removed; or -1 */
	int cleaned_keyslot;     /* a half-written keyslot from a cut, removed; or -1 */
	unsigned int tpm_commands;
};

/* Enroll (or re-enroll) the TPM next to the legacy keyslot. */
int si_migrate(const struct si_migrate_opts *o, struct si_migrate_result *res,
	       struct si_diag *diag);

struct si_migrate_finish_opts {
	const char *device;
	const char *tcti;
	int timeout_ms;
	/* The keyslot the TPM just opened, when the caller has already
	 * unlocked by TPM (the boot stage); -1: test-unlock now. */
	int verified_keyslot;
};

/* Remove the legacy keyslot, only after the TPM has opened the volume
 * through another keyslot, then the journal. *removed_keyslot is the
 * keyslot removed, or -1 when a cut had already removed it. -ENOENT
 * without a migration journal. */
int si_migrate_finish(const struct si_migrate_finish_opts *o, int *removed_keyslot,
		      struct si_diag *diag);

int si_migration_read(const char *device, struct si_migration_state *st, struct si_diag *diag);

#endif
