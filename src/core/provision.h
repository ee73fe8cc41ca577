/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_PROVISION_H
#define SEALINIT_PROVISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pcrs.h"
#include "core/recovery.h"
#include "core/volkey.h"

struct si_diag;

/*
 * First-boot provisioning of the data volume (docs/fleet.md): a device
 * flashed with the fleet image and a blank data partition makes its own
 * volume, in an order where a power cut at any write leaves either a
 * partition that is still blank (provisioning starts again) or a complete
 * volume (the boot unlocks it):
 *
 *  1. the partition is blank by a strict test (si_provision_blank);
 *  2. a LUKS2 header is built in a file in workdir (tmpfs): the volume
 *     key, the TPM's keyslot and token (si_enroll: a signed policy, the
 *     rollback counter), the recovery keyslot and token;
 *  3. the device record is written with the volume's id (record.h);
 *  4. the file system is made through a mapping of the partition's data
 *     area with the header still in the file (mkfs_argv);
 *  5. the recovery key is escrowed (escrow.h), never printed;
 *  6. the header is copied onto the partition: its keyslot area, then the
 *     secondary header, fsync, then the primary, fsync. Until the
 *     secondary header lands the partition is blank by the test of 1.
 *
 * The boot stage and `sealinit provision' (the factory, an installer) run
 * the same function.
 */
#define SI_PROVISION_HEADER (16u << 20)  /* LUKS2 metadata and keyslots */

/* 0: blank; -SI_ENOTBLANK with the signature or the first non-zero
 * offset named; other codes: the device could not be read. Blank: libblkid
 * finds no signature (file systems, LUKS, RAID, partition tables) and the
 * first SI_PROVISION_HEADER bytes (or the whole device, when smaller) are
 * zero. */
int si_provision_blank(const char *device, struct si_diag *diag);

typedef void (*si_progress_fn)(void *ctx, const char *step);

struct si_provision_opts {
	const char *device;
	const char *name;            /* the /dev/mapper name (the volume id's prefix) */
	const char *workdir;         /* tmpfs, for the header being built */
	const char *cipher;          /* NULL: aes-xts-plain64 */
	int key_bits;                /* 0: 512 */
	const char *tcti;
	int timeout_ms;
	/* The TPM enrollment, as si_enroll_opts. */
	uint32_t pcr_mask;
	uint32_t cap_pcrs;
	const void *pubkey_pem;
	size_t pubkey_pem_len;
	uint32_t pubkey_pcr_mask;
	uint32_t counter_nv;         /* 0: no rollback counter */
	const char *signature;       /* the release's signature file */
	const struct si_pcr_expect *expect;  /* NULL: the current values */
	uint32_t record_index;       /* 0: no device record */
	/* The program that makes the file system, the mapping's path added
	 * as its last argument; NULL: none. Bounded by mkfs_timeout_ms. */
	const char *const *mkfs_argv;
	int mkfs_timeout_ms;
	/* Where the recovery key goes (escrow.h); NULL escrow_dir: nowhere
	 * (the CLI may print it when asked). */
	const char *escrow_dir;
	const void *escrow_pubkey_pem;
	size_t escrow_pubkey_pem_len;
	si_progress_fn progress;
	void *progress_ctx;
};

struct si_provision_result {
	char uuid[40];
	char volume_id[SI_VOLKEY_HEX_LEN + 1];
	int tpm_keyslot;
	int recovery_keyslot;
	uint64_t counter;
	char escrow_path[256];
	/* Filled only when escrow_dir is NULL: the caller asked for it. */
	char recovery[SI_RECOVERY_LEN + 1];
};

int si_provision(const struct si_provision_opts *o, struct si_provision_result *res,
		 struct si_diag *diag);

#endif
