/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_LEGACY_UNLOCK_H
#define SEALINIT_LEGACY_UNLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/errors.h"
#include "core/luks.h"
#include "core/legacy/client.h"
#include "core/migrate.h"

/*
 * The legacy key source as one operation, for the boot stage and the CLI
 * alike: bring the network up, fetch and verify the key, open the volume
 * with it, and optionally migrate it to the TPM, all in one worker
 * (worker.h) under one deadline, so the key never leaves that process.
 * Built with CONFIG_LEGACY_NET only.
 */
struct si_legacy_unlock_opts {
	const struct si_legacy_cfg *cfg;  /* credentials: a path readable now */
	const char *ip;                   /* ip= spec (net.h); NULL: the network is up */
	int net_timeout_ms;
	const char *udhcpc_script;        /* for ip=dhcp: see si_net_up() */
	const char *device;               /* NULL: fetch only */
	const char *name;                 /* NULL: find the keyslot, activate nothing */
	int key_fd;                       /* >= 0: the worker writes the key here */
	/* What the volume must look like, checked before the fetch
	 * (si_luks_check); NULL: the known-good ciphers. */
	const struct si_luks_expect *expect;
	/* The volume key's id the volume must have (si_luks_activate_bound,
	 * bound to bind_name, or to name when NULL): checked before
	 * activation; NULL: not pinned. */
	const char *fixate_volume_key;
	const char *bind_name;
	/* After the unlock, enroll the TPM next to the legacy keyslot
	 * (si_migrate). Needs CONFIG_TPM2. */
	bool migrate;
	const char *tcti;
	int tpm_timeout_ms;
	uint32_t migrate_pcrs;
	/* The expected state to seal to (si_migrate_opts.expect). */
	const struct si_pcr_expect *migrate_expect;
	si_legacy_log_fn log;             /* progress, called in the worker */
	void *log_ctx;
};

struct si_legacy_unlock_result {
	int keyslot;                      /* the keyslot the legacy key opened; -1 */
	size_t key_len;
	char net[64];                     /* what the bring-up configured */
	int migrate_r;                    /* si_migrate's code; 1: not attempted */
	struct si_migrate_result mres;
	struct si_diag mdiag;
};

/* The worker's bound: network, the fetch's deadline, the keyslot's KDF and,
 * when migrating, the TPM enrollment. A passed bound is -SI_ETIMEOUT. */
int si_legacy_unlock_budget_ms(const struct si_legacy_unlock_opts *o);

int si_legacy_unlock(const struct si_legacy_unlock_opts *o, struct si_legacy_unlock_result *res,
		     struct si_diag *d);

#endif
