/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_BOOTCFG_H
#define SEALINIT_BOOTCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/legacy/cfg.h"

struct si_diag;

enum si_measure_mode { SI_MEASURE_VERITY, SI_MEASURE_IMAGE, SI_MEASURE_NONE };
enum si_failure { SI_FAIL_POWEROFF, SI_FAIL_HALT, SI_FAIL_REBOOT, SI_FAIL_SHELL };
enum si_keysource { SI_SRC_TPM2 = 1, SI_SRC_LEGACY = 2 };
#define SI_MAX_SOURCES 2

#define SI_PATH_MAX 256

/*
 * What the boot stage does, from /etc/sealinit.conf (baked into the
 * initramfs) overridden by the kernel command line (docs/boot.md):
 * `sealinit.KEY=VALUE` for every KEY of the file, plus the usual root=,
 * rootfstype=, ro/rw, init= and roothash=.
 */
struct si_bootcfg {
	char root[SI_PATH_MAX];          /* root= device spec */
	char rootfstype[32];
	bool ro;
	char init[SI_PATH_MAX];
	enum si_measure_mode measure;
	unsigned int measure_pcr;
	char roothash[129];              /* hex */
	char hashdev[SI_PATH_MAX];       /* verity hash device; empty: root */
	uint64_t hashoffset;             /* bytes into hashdev */
	char data[SI_PATH_MAX];          /* data device spec */
	char data_name[64];              /* /dev/mapper name */
	char data_mount[SI_PATH_MAX];    /* mount point inside the new root */
	char data_fstype[32];
	char data_cipher[64];            /* the only segment cipher accepted */
	int data_key_bits;               /* the only volume key size accepted */
	char tcti[SI_PATH_MAX];
	char tee_supplicant[SI_PATH_MAX]; /* started before the TPM wait; empty: none */
	/* The fTPM's store (OP-TEE's REE FS, on Orin Nano its NV, SRK and
	 * counters): a device spec, mounted for tee_supplicant as its
	 * --fs-parent-path (boot/teestore.h); empty: none (the supplicant's
	 * built-in path, RAM in the initramfs). File only. */
	char tee_storage[SI_PATH_MAX];
	uint32_t cap_pcrs;
	int tpm_timeout_ms;
	int device_timeout_ms;
	enum si_failure failure;
	int failure_delay_s;
	int pin_timeout_s;                /* the console PIN prompt's bound */
	int recovery_timeout_s;           /* the recovery key prompt's; 0: none */
	int loglevel;
	/* Key sources, tried in this order (keysources=tpm2,legacy). */
	enum si_keysource sources[SI_MAX_SOURCES];
	int nsources;
	/* The legacy fetch and its network (ip=, kernel syntax; net.h). */
	char ip[256];
	int net_timeout_ms;
	struct si_legacy_cfg legacy;
	/* Migration (docs/migration.md): after a legacy unlock, enroll the
	 * TPM with migrate_pcrs; migrate_finish removes the legacy keyslot
	 * once the TPM has unlocked the volume. */
	bool migrate;
	bool migrate_finish;
	uint32_t migrate_pcrs;  /* 0: the measured PCR */
	/* The command line (docs/boot.md, "Lockdown"). cmdline: the expected
	 * one, from the file only; when set, the boot's must equal it, and a
	 * migration seals to the state it gives. cmdline_volatile: keys the
	 * boot loader changes from boot to boot, left out of the comparison
	 * and of the measurement. lockdown: the command line may set only
	 * the keys of CONFIG_LOCKDOWN_CMDLINE_KEYS (always on with
	 * CONFIG_LOCKDOWN). */
	char cmdline[1024];
	char cmdline_volatile[256];
	bool lockdown;
	/* Locked down: the first standard word the command line carried and
	 * the file overrode (root=, rootfstype=, ip=), for the boot to say. */
	char cmdline_ignored[128];
	/* The volume bound to the enrolled one (docs/threat-model.md): the
	 * volume key's id that `sealinit enroll' printed, as systemd's
	 * fixate-volume-key=; empty: not pinned. File only: a pin the command
	 * line could replace would pin nothing. */
	char fixate_volume_key[65];
	/* The signature file for tokens with a signed PCR policy (sigfile.h,
	 * docs/updates.md): an absolute path in the initramfs, or a raw
	 * partition holding it (boot/fleet.h), where a firmware that measures
	 * the initramfs needs it. File only. */
	char tpm2_signature[256];
	/* After the unlock, before the cap, measure the volume as systemd's
	 * tpm2-measure-pcr= does; -1: no. */
	int tpm2_measure_pcr;
	/* A locked-down boot opens a token without `tpm2_srk' (systemd 252
	 * writes none: it unseals under a primary made from a template,
	 * whose key nothing checks) only with this set. File only. */
	bool tpm2_transient_primary;
	/* A fleet (docs/fleet.md); all file only, none measured unless set.
	 * tpm2_public_key: the fleet's PCR-signing public key (PEM) in the
	 * initramfs. device_record: the NV index of the device record
	 * (core/tpm/record.h), whose volume id pins the data volume; 0: none.
	 * provision: a blank data partition is provisioned at boot
	 * (core/provision.h), with the rollback counter at tpm2_counter
	 * (0: none), the file system by provision_mkfs (a program and its
	 * arguments, split on spaces), and the recovery key escrowed,
	 * encrypted to escrow_public_key, to the removable medium escrow=
	 * names (a device spec) or to the legacy server (escrow=server). */
	char tpm2_public_key[SI_PATH_MAX];
	uint32_t device_record;
	bool provision;
	uint32_t tpm2_counter;
	char provision_mkfs[SI_PATH_MAX];
	char escrow[SI_PATH_MAX];
	char escrow_public_key[SI_PATH_MAX];
};

void si_bootcfg_defaults(struct si_bootcfg *c);

/* key=value lines; '#' comments; blank lines. Unknown keys and bad values
 * are errors naming the line and the key (-EINVAL). */
int si_bootcfg_parse_file(struct si_bootcfg *c, const char *text, struct si_diag *diag);

/* The kernel command line: only sealinit.* and the standard keys are read;
 * everything else belongs to the kernel or the real init. A bad sealinit.*
 * value is an error (-EINVAL) naming it. With c->lockdown (set by the file,
 * or by CONFIG_LOCKDOWN), only the allowed sealinit.* keys are taken, the
 * root=, rootfstype=, ip= and rw are ignored (the file's values win), and
 * any other sealinit.* key, or a roothash= or init= other than the file's,
 * is refused (-EPERM), naming the key. */
int si_bootcfg_parse_cmdline(struct si_bootcfg *c, const char *cmdline, struct si_diag *diag);

/* Cross-field checks: a data device, a root, a root hash in verity mode. */
int si_bootcfg_validate(const struct si_bootcfg *c, struct si_diag *diag);

/* The PCRs a migration at boot binds: migrate_pcrs, or by default the
 * build's CONFIG_TPM2_DEFAULT_PCRS and the measured PCR. */
uint32_t si_bootcfg_migrate_pcrs(const struct si_bootcfg *c);

/* The keys never measured, in the command line (sealinit.KEY=) or in the
 * configuration: verbosity and waits, the only keys a locked-down command
 * line may ever set (docs/boot.md, "Lockdown"). key is len bytes, without
 * the "sealinit." prefix. */
bool si_bootcfg_key_unmeasured(const char *key, size_t len);
/* Their names, i from 0; NULL past the last (for tests and messages). */
const char *si_bootcfg_unmeasured_key(size_t i);
/* A CONFIG_LOCKDOWN_CMDLINE_KEYS-style list (space-separated) names only
 * such keys: 0, or -EINVAL naming the first other. si_bootcfg_validate
 * checks the build's. */
int si_bootcfg_lockdown_keys_check(const char *list, struct si_diag *diag);

/* Print the resolved configuration as the file format (for `sealinit
 * boot-config`, and so a 3 a.m. operator sees what the boot stage saw). */
int si_bootcfg_format(const struct si_bootcfg *c, char *buf, size_t size);
/* The same without the lines of the keys never measured: what the
 * configuration event hashes (core/events.h). */
int si_bootcfg_format_measured(const struct si_bootcfg *c, char *buf, size_t size);

#endif
