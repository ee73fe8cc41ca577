/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_BOOT_TEESTORE_H
#define SEALINIT_BOOT_TEESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct si_bootcfg;
struct si_diag;

/*
 * The fTPM's store (tee_storage=, docs/boot.md "The fTPM store"): on
 * Orin Nano, with no RPMB, OP-TEE's REE FS files are the fTPM's NV, its
 * SRK, counters and lockout counter. The boot waits for the partition,
 * checks it, mounts it read-write nosuid,nodev,noexec,nosymfollow at TEESTORE_DIR,
 * and tee-supplicant serves it from there (--fs-parent-path). At the cap
 * the supplicant is stopped and the store unmounted: the booted system
 * mounts it itself (fstab) for its own supplicant, and never two at once.
 */
#define TEESTORE_DIR "/run/sealinit/tee"
#define TEESTORE_ARG "--fs-parent-path=" TEESTORE_DIR
/* What the supplicant holds open once it serves the kernel's TEE clients. */
#define TEESTORE_TEEPRIV "/dev/teepriv0"

/* What the store is checked on. others: the devices it must not be (the
 * root, the data volume, the verity hash tree), by their node's st_rdev;
 * a name of NULL ends the list. */
struct teestore_facts {
	const char *spec, *path;   /* tee_storage= and the node it resolved to */
	const char *fstype;        /* libblkid's TYPE; "" when none was found */
	bool is_block;
	dev_t rdev;
	struct {
		const char *what, *path;
		dev_t rdev;
	} others[3];
};

/* 0: an ext4 block device that is none of the others; else -EINVAL (or
 * -ENOTBLK) and a message naming the spec, the device and what it is. */
int teestore_verdict(const struct teestore_facts *f, struct si_diag *d);

/* Wait for tee_storage= (device_timeout), probe it in a worker, judge it,
 * mount it in a worker (device_timeout each). root, data and hash are the
 * resolved nodes (hash may equal root). 0, or a code and the diag. */
int teestore_mount(const struct si_bootcfg *c, const char *root, const char *data,
		   const char *hash, struct si_diag *d);

/* After the supplicant stopped: unmount the store, in a worker within
 * timeout_ms (detached, with a warning, when a supplicant left behind
 * still holds it; left mounted, with a warning, when that does not end).
 * Not an error: by then the boot is past the cap. */
void teestore_umount(int timeout_ms);

#endif
