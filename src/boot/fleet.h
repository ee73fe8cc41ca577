/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_BOOT_FLEET_H
#define SEALINIT_BOOT_FLEET_H

#include <stddef.h>

struct si_bootcfg;
struct si_diag;

/*
 * The boot's fleet steps (docs/fleet.md): where a release's signature file
 * comes from, and what a first boot writes to the escrow medium. Both are
 * raw partitions, never mounted: their contents are the attacker's to
 * write, and a file system would put the kernel's parser of it before the
 * cap; sealinit's own strict parsers read them instead.
 */

/* The signature file the TPM source reads, copied once into
 * SI_FLEET_SIGNATURE_RUN (the booted system's `status' and `reseal' find
 * it there): from tpm2_signature= when it is a path in the initramfs (a
 * missing one is left for the unlock to name), or from the partition it
 * names (x86_64 measures the initramfs into PCR 9, so a signature over
 * that state cannot be inside it), its bytes up to the first NUL. NULL with d set
 * when the partition is absent, unreadable, or holds no NUL in the first
 * SI_SIGFILE_MAX bytes. Bounded by device_timeout (the wait) and
 * tpm_timeout (the read, in a child). */
#define SI_FLEET_SIGNATURE_RUN "/run/sealinit/tpm2-pcr-signature.json"
const char *fleet_signature(const struct si_bootcfg *c, struct si_diag *d);

/* The escrow medium (escrow= a device spec): json is written into the
 * first free slot of the partition, a slot being SI_ESCROW_SLOT bytes at a
 * multiple of SI_ESCROW_SLOT, free when all zero; the document (shorter
 * than a slot) then zeros, then fsync. One medium collects the escrows
 * of many devices; `sealinit escrow-open' reads them back. Within the
 * first SI_ESCROW_SPAN bytes (core/escrow.h). 0, or a code with d naming
 * the medium. */
int fleet_escrow_medium(const struct si_bootcfg *c, const char *json, struct si_diag *d);

/* The fleet server (escrow=server): the same login, trust anchors and
 * deadline as the legacy fetch (legacy_* keys, docs/legacy-protocol.md),
 * then POST of json to {legacy_api}/v1/devices/escrow. The network is
 * brought up first as ip= says (left up, as the legacy fetch leaves it),
 * and the credentials partition, when legacy_credentials_dev= names one,
 * is mounted for the login and unmounted after. Runs in the provisioning
 * worker. 0, or a code from errors.h with d naming the step that failed. */
int fleet_escrow_server(const struct si_bootcfg *c, const char *json, struct si_diag *d);

/* The legacy credentials on a config partition (legacy_credentials_dev=):
 * mounted read-only at FLEET_CRED_MNT; path becomes the file's path inside
 * it. -SI_ECREDS with d naming the device or the mount's error. */
#define FLEET_CRED_MNT       "/run/sealinit/credentials"
#define FLEET_UDHCPC_SCRIPT  "/run/sealinit/udhcpc.script"
int fleet_credentials_mount(const struct si_bootcfg *c, char *path, size_t size,
			    struct si_diag *d);
void fleet_credentials_umount(void);

/* A LUKS header at the data partition's start: 1, else 0 (the partition
 * fleet_provision would look at further), or a code when it cannot be
 * read. */
int fleet_has_volume(const struct si_bootcfg *c, const char *datadev, struct si_diag *d);

/*
 * First boot (provision=yes): a data partition that is not LUKS2 is made
 * into the data volume when it is blank (core/provision.h: the header in
 * /run, the TPM's token with the signed policy over pcrs= and the
 * rollback counter, the record, the file system, the escrow to the
 * medium or the fleet server, the header copied last), in a worker under one deadline; the
 * recovery key is never shown. A partition with a LUKS2 magic is left at
 * once (every boot after the first pays one 4 KiB read); one that is
 * neither LUKS2 nor blank is left as it is, with a warning, for the
 * unlock to refuse by name. 0 when there was nothing to do or it was
 * done; a code with d when provisioning failed (nothing was written to
 * the partition before its last step: the next boot starts again).
 */
int fleet_provision(const struct si_bootcfg *c, const char *datadev, const char *signature,
		    struct si_diag *d);

#endif
