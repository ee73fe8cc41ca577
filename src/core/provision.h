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
 *  3. the device record is written with the volume's id (record.h), by
 *     si_enroll on the enrollment's connection;
 *  4. the recovery key is escrowed (escrow.h), never printed: an escrow
 *     that fails leaves the partition untouched;
 *  5. the file system is made through a mapping of the partition's data
 *     area with the header still in the file (mkfs_argv);
 *  6. the header is copied onto the partition, each stage flushed (fsync)
 *     before the next: a marker in the last sector of the header area,
 *     the keyslot area, the secondary header, the primary header, the
 *     marker's removal. Until the secondary header is whole the partition
 *     is SI_PROVISION_RESUME by the test of 1 (no header that loads, and
 *     the marker says the non-zero bytes are a cut copy's); from then on
 *     it is a complete volume (libcryptsetup repairs a missing or torn
 *     primary header from the secondary);
 *  7. the partition is read back: its UUID and volume id are those just
 *     made.
 *
 * The boot stage and `sealinit provision' (the factory, an installer) run
 * the same function.
 */
#define SI_PROVISION_HEADER (16u << 20)  /* LUKS2 metadata and keyslots */
/* The token that says where the recovery key went: {"type":
 * "sealinit-escrow", "keyslots": [], "key_fp": the escrow key's
 * fingerprint, "to": the destination}. */
#define SI_ESCROW_TOKEN_TYPE "sealinit-escrow"
#define SI_PROVISION_META   (16u << 10)  /* each of the two JSON header areas */
#define SI_PROVISION_RESUME 1

/* 0: blank; SI_PROVISION_RESUME: a copy of step 6 was cut before its
 * secondary header (provisioning starts again, as on a blank one);
 * -SI_ENOTBLANK with the signature or the first non-zero offset named;
 * other codes: the device could not be read. Blank: libblkid finds no
 * signature (every superblock prober, bad checksums included, and the
 * partition tables; a hit is a hit, however ambivalent) and the first
 * SI_PROVISION_HEADER bytes (or the whole device, when smaller) are zero.
 * Resume: the copy's marker, exactly, in the last sector of the header
 * area; the first SI_PROVISION_META bytes (the primary header's place)
 * zero; no signature but a LUKS magic (a torn secondary header's); and no
 * LUKS2 header that libcryptsetup loads. */
int si_provision_blank(const char *device, struct si_diag *diag);

/* The facts si_provision_blank gathers, and its decision over them
 * (0, SI_PROVISION_RESUME or -SI_ENOTBLANK): pure, tested as a table. */
struct si_blank_facts {
	int signatures;     /* libblkid's hits */
	bool only_luks;     /* every hit is a LUKS magic */
	bool zero;          /* the header area (or the smaller device) is zero */
	bool whole_area;    /* the device holds the whole header area */
	bool marker;        /* the copy's marker, exactly, in its sector */
	bool primary_zero;  /* the primary header's area is zero */
	bool luks_loads;    /* libcryptsetup loads a LUKS2 header from it */
};

int si_provision_verdict(const struct si_blank_facts *f);

typedef void (*si_progress_fn)(void *ctx, const char *step);

struct si_provision_opts {
	const char *device;
	const char *name;            /* the /dev/mapper name (the volume id's prefix);
				      * NULL: SI_VOLKEY_DEFAULT_NAME */
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
	 * but to the caller, when it asks (want_recovery: the CLI's
	 * --show-recovery-key; never the boot). */
	const char *escrow_dir;
	const void *escrow_pubkey_pem;
	size_t escrow_pubkey_pem_len;
	/* Or the caller writes the sealed document (the boot: the escrow
	 * medium, the fleet server); escrow_to names where, for the header's
	 * escrow token and the messages. */
	int (*escrow_fn)(void *ctx, const char *json, struct si_diag *diag);
	void *escrow_ctx;
	const char *escrow_to;
	si_progress_fn progress;
	void *progress_ctx;
	bool want_recovery;
	/* As si_enroll_opts: the owner hierarchy's authorization, or NULL. */
	const void *owner_auth;
	size_t owner_auth_len;
};

struct si_provision_result {
	char uuid[40];
	char volume_id[SI_VOLKEY_HEX_LEN + 1];
	int tpm_keyslot;
	int recovery_keyslot;
	uint64_t counter;
	char escrow_path[256];
	bool resumed;                /* the partition held a cut copy (RESUME) */
	/* Filled only with want_recovery: the caller asked for it. The
	 * caller allocates the result in locked memory (si_secret_alloc) and
	 * wipes it; it is wiped here on failure. */
	char recovery[SI_RECOVERY_LEN + 1];
};

/* Built with CONFIG_TPM2 only. The partition is written only in step 6;
 * a failure before it leaves it as it was. The header file is removed on
 * every return. The device record needs pubkey_pem and signature. */
int si_provision(const struct si_provision_opts *o, struct si_provision_result *res,
		 struct si_diag *diag);

#endif
