/* SPDX-License-Identifier: MIT */
/*
 * The boot's check of a restored TPM store (rollback.h): the volume's
 * high-water mark against the counter the unlock read, once the volume is
 * mounted. Every step that touches the disk runs in a worker under a
 * deadline; a refusal leaves the volume unmounted and its mapping closed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include <libcryptsetup.h>

#include "boot/pid1.h"
#include "boot/rollback.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/hwm.h"
#include "core/worker.h"

struct check_job {
	const struct si_bootcfg *c;
	const struct rollback_counter *rc;
	const char *mnt;
};

/* Unmount and close: nothing of the volume reaches the failure policy's
 * shell or the next stage. */
static int close_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	const struct check_job *j = arg;
	const struct si_bootcfg *c = j->c;
	struct crypt_device *cd = NULL;
	int r;

	(void)w;
	(void)out;
	if (j->mnt && umount2(j->mnt, 0) < 0) {
		r = -errno;
		si_diag_set(d, "unmounting %s: %s", j->mnt, strerror(-r));
		return r;
	}
	r = crypt_init_by_name(&cd, c->data_name);
	if (r == 0)
		r = crypt_deactivate(cd, c->data_name);
	crypt_free(cd);
	if (r < 0)
		si_diag_set(d, "closing /dev/mapper/%s: %s", c->data_name, strerror(-r));
	return r;
}

/* The volume unmounted (mnt, when it is mounted) and closed, in a worker:
 * "was unmounted and closed", or why not, for the failure's message. */
static const char *close_volume(const struct si_bootcfg *c, const char *mnt)
{
	struct check_job job = { c, NULL, mnt };
	struct si_work w = {
		.fn = close_work, .arg = &job, .deadline_ms = c->device_timeout_ms,
		.timeout_code = -ETIMEDOUT, .noun = "closing the data volume", .verb = "finish",
	};
	struct si_diag d = { { 0 } };

	if (si_worker_run(&w, &d) == 0)
		return mnt ? "was unmounted and closed" : "was closed";
	say(3, "%s", d.msg);
	return "could not be closed";
}

static int check_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	const struct check_job *j = arg;

	(void)w;
	return si_hwm_check(j->mnt, j->rc->index, j->rc->value, out, d);
}

int rollback_check(const struct si_bootcfg *c, const struct rollback_counter *rc,
		   const char *mnt, struct si_diag *d)
{
	struct check_job job = { c, rc, mnt };
	struct si_hwm_result res;
	struct si_work w = {
		.fn = check_work, .arg = &job, .out = &res, .out_size = sizeof(res),
		.deadline_ms = c->device_timeout_ms, .timeout_code = -ETIMEDOUT,
		.noun = "the data volume's high-water mark", .verb = "come",
	};
	struct si_diag wd = { { 0 } };
	const char *closed;
	char path[64];
	int r;

	if (!rc->bound)
		return 0;
	si_hwm_path(rc->index, path, sizeof(path));
	memset(&res, 0, sizeof(res));
	r = si_worker_run(&w, &wd);
	if (r == 0) {
		if (res.written && res.had)
			say(5, "high-water mark %s/%s raised: %" PRIu64 " -> %" PRIu64, mnt, path,
			    res.mark, rc->value);
		else if (res.written)
			say(5, "high-water mark %s/%s written: %" PRIu64 " (none before)", mnt, path,
			    rc->value);
		else
			say(6, "rollback counter 0x%08" PRIx32 " at the volume's high-water mark "
			    "%" PRIu64, rc->index, res.mark);
		return 0;
	}
	closed = close_volume(c, mnt);
	if (r == -ESTALE)
		si_diag_set(d, "refused after the unlock: %.330s; the data volume %s", wd.msg, closed);
	else if (r == -EBADMSG)
		si_diag_set(d, "the data volume's high-water mark is damaged: %.300s (it is only ever "
			    "replaced by an atomic rename, so this is corruption; a recovery-key boot "
			    "can remove it); the data volume %s", wd.msg, closed);
	else
		si_diag_set(d, "the data volume's high-water mark: %.330s; the data volume %s",
			    wd.msg, closed);
	return r;
}
