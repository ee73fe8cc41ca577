/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_JOURNAL_H
#define SEALINIT_JOURNAL_H

#include <stddef.h>

struct si_diag;

/*
 * The migration journal: a `sealinit-migration' LUKS2 token holding which
 * keyslot is the legacy one (number and KDF salt), which keyslot an
 * enrollment is writing, and which one the TPM token uses (migrate.h says
 * how they are used). This file owns its JSON; it needs no TPM, so every
 * build, the fuzzers among them, reads the same format.
 */
#define SI_MIGRATION_TOKEN "sealinit-migration"

struct si_migration_state {
	int token;               /* the journal's token id; -1: none */
	int legacy_keyslot, pending_keyslot, tpm_keyslot;
	char legacy_salt[128];   /* base64, as libcryptsetup writes keyslot salts */
};

/* Parse the token's JSON; st->token is left -1. -SI_EBADTOKEN naming the
 * field, with st the empty state. */
int si_migration_parse(const char *json, struct si_migration_state *st, struct si_diag *diag);

/* The token's JSON for st. 0, or -ENOSPC, or -EINVAL for a state that
 * would not parse back (a salt that is not base64). */
int si_migration_format(const struct si_migration_state *st, char *buf, size_t size);

#endif
