/* SPDX-License-Identifier: MIT */
/*
 * The fTPM's store: found, checked, mounted for tee-supplicant, and
 * unmounted at the hand-over (teestore.h). Every read of the disk and the
 * mount run in workers under device_timeout: a partition that does not
 * answer ends in a message naming it, not in a hung PID 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <blkid/blkid.h>

#include "boot/pid1.h"
#include "boot/teestore.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/worker.h"

/* ext4 only: what OP-TEE's REE FS is tested on, what the board's layout
 * makes, and one file system driver fewer to trust with a partition an
 * attacker can write. */
#define STORE_FSTYPE "ext4"

static bool mounted;

int teestore_verdict(const struct teestore_facts *f, struct si_diag *d)
{
	size_t i;

	if (!f->is_block) {
		si_diag_set(d, "tee_storage=%s: %s is not a block device", f->spec, f->path);
		return -ENOTBLK;
	}
	for (i = 0; i < sizeof(f->others) / sizeof(f->others[0]) && f->others[i].what; i++) {
		if (f->others[i].rdev != f->rdev)
			continue;
		si_diag_set(d, "tee_storage=%s is %s (%u:%u), the %s (%s): the fTPM's store is a "
			    "partition of its own", f->spec, f->path, major(f->rdev), minor(f->rdev),
			    f->others[i].what, f->others[i].path);
		return -EINVAL;
	}
	if (strcmp(f->fstype, STORE_FSTYPE)) {
		if (f->fstype[0])
			si_diag_set(d, "tee_storage=%s (%s) holds file system type `%s', expected "
				    STORE_FSTYPE, f->spec, f->path, f->fstype);
		else
			si_diag_set(d, "tee_storage=%s (%s) holds no file system that libblkid knows, "
				    "expected " STORE_FSTYPE, f->spec, f->path);
		return -EINVAL;
	}
	return 0;
}

struct probe_out {
	char fstype[32];
};

/* In a worker: the superblock's type, as libblkid reads it. */
static int probe_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	const char *dev = arg;
	struct probe_out *o = out;
	const char *type = NULL;
	blkid_probe pr;
	int r = 0;

	(void)w;
	pr = blkid_new_probe_from_filename(dev);
	if (!pr) {
		r = errno ? -errno : -EIO;
		si_diag_set(d, "tee_storage: opening %s: %s", dev, strerror(-r));
		return r;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	/* 1: nothing found; -2: more than one type, as good as none. */
	if (blkid_do_safeprobe(pr) == 0 && blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0)
		snprintf(o->fstype, sizeof(o->fstype), "%s", type);
	blkid_free_probe(pr);
	return r;
}

#ifdef MS_NOSYMFOLLOW
#define STORE_NOSYMFOLLOW MS_NOSYMFOLLOW
#else
#define STORE_NOSYMFOLLOW 256   /* Linux 5.10 */
#endif

static int mount_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	(void)w;
	(void)out;
	mkdir(TEESTORE_DIR, 0700);
	/* A worker shares PID 1's mount namespace: the mount is the boot's.
	 * No symlink in it is followed: the supplicant opens its files by
	 * path, and one planted as a link to a device node or to the new
	 * root would have it read or write there (kernels before 5.10 ignore
	 * the flag). */
	return pid1_mount(arg, TEESTORE_DIR, STORE_FSTYPE,
			  MS_NOSUID | MS_NODEV | MS_NOEXEC | STORE_NOSYMFOLLOW, "the fTPM store", d);
}

static int node(const char *path, dev_t *rdev, bool *is_block)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	*rdev = st.st_rdev;
	if (is_block)
		*is_block = S_ISBLK(st.st_mode);
	return 0;
}

int teestore_mount(const struct si_bootcfg *c, const char *root, const char *data,
		   const char *hash, struct si_diag *d)
{
	char path[SI_PATH_MAX];
	struct probe_out po = { "" };
	struct teestore_facts f = {
		.spec = c->tee_storage, .path = path, .fstype = po.fstype,
		.others = { { "root device", root, 0 }, { "data device", data, 0 },
			    { "verity hash device", hash, 0 } },
	};
	struct si_work w = {
		.fn = probe_work, .arg = path, .out = &po, .out_size = sizeof(po),
		.deadline_ms = c->device_timeout_ms, .timeout_code = -ETIMEDOUT,
		.noun = "the fTPM store (reading its superblock)",
	};
	size_t i;
	int r;

	r = pid1_wait_for("fTPM store", c->tee_storage, path, sizeof(path), c->device_timeout_ms, d);
	if (r < 0)
		return r;
	r = node(path, &f.rdev, &f.is_block);
	for (i = 0; r == 0 && i < sizeof(f.others) / sizeof(f.others[0]); i++)
		r = node(f.others[i].path, &f.others[i].rdev, NULL);
	if (r < 0) {
		si_diag_set(d, "tee_storage=%s: %s", c->tee_storage, strerror(-r));
		return r;
	}
	/* The superblock read first (read-only, in a worker): the verdict
	 * needs the type beside the device numbers. */
	r = si_worker_run(&w, d);
	if (r == 0)
		r = teestore_verdict(&f, d);
	if (r == 0)
		r = pid1_still_unique("fTPM store", c->tee_storage, path, d);
	if (r < 0)
		return r;
	w.fn = mount_work;
	w.out = NULL;
	w.out_size = 0;
	w.noun = "mounting the fTPM store";
	w.verb = "finish";
	r = si_worker_run(&w, d);
	if (r < 0)
		return r;
	mounted = true;
	say(6, "the fTPM store %s (%s) is mounted on " TEESTORE_DIR, c->tee_storage, path);
	return 0;
}

static int umount_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	(void)arg;
	(void)w;
	(void)out;
	if (umount2(TEESTORE_DIR, 0) == 0)
		return 0;
	si_diag_set(d, "%s", strerror(errno));
	/* A supplicant left behind (stuck in the TEE driver) may hold it:
	 * the booted system's mount of it must not wait for that. */
	return umount2(TEESTORE_DIR, MNT_DETACH) == 0 ? 1 : -EBUSY;
}

void teestore_umount(int timeout_ms)
{
	struct si_work w = {
		.fn = umount_work, .deadline_ms = timeout_ms, .timeout_code = -ETIMEDOUT,
		.noun = "unmounting the fTPM store", .verb = "finish",
	};
	struct si_diag d = { { 0 } };
	int r;

	if (!mounted)
		return;
	mounted = false;
	/* Unmounting writes the journal back: a disk that stopped answering
	 * blocks it, in a worker and not in PID 1. */
	r = si_worker_run(&w, &d);
	if (r == 0)
		say(6, "the fTPM store " TEESTORE_DIR " is unmounted");
	else if (r == 1)
		say(4, "unmounting the fTPM store " TEESTORE_DIR ": %s; detached instead", d.msg);
	else if (r < 0)
		say(4, "the fTPM store " TEESTORE_DIR " stays mounted: %s", d.msg);
}
