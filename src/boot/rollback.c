/* SPDX-License-Identifier: MIT */
/*
 * The boot's check of a restored TPM store (rollback.h): the token's
 * counter read after the unlock, the volume's high-water mark checked
 * after the mount. Every step that touches a disk or the TPM runs in a
 * worker under a deadline; a refusal leaves the volume unmounted and its
 * mapping closed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include <libcryptsetup.h>

#include "boot/pid1.h"
#include "boot/rollback.h"
#include "config.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/hwm.h"
#include "core/luks.h"
#include "core/token.h"
#include "core/tpm/counter.h"
#include "core/tpm/tpm.h"
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

struct counter_job {
	const struct si_bootcfg *c;
	const char *datadev;
	int tok;
};

/* The token's counter index from the header (0: none), then its value. */
static int counter_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	const struct counter_job *j = arg;
	struct rollback_counter *rc = out;
	static struct si_token t;
	struct si_tpm *tpm = NULL;
	struct si_luks *l = NULL;
	const char *json;
	int r;

	(void)w;
	if (!ENABLE_TPM2)
		return -SI_EUNSUPPORTED;
	r = si_luks_open(j->datadev, &l, d);
	if (r == 0 && si_luks_token_json(l, j->tok, SI_TOKEN_TYPE, &json) < 0) {
		si_diag_set(d, "token %d of %s is gone", j->tok, j->datadev);
		r = -SI_EBADTOKEN;
	}
	if (r == 0)
		r = si_token_parse(json, &t, d);
	si_luks_close(l);
	if (r < 0 || !t.counter_nv)
		return r;
	rc->bound = true;
	rc->index = t.counter_nv;
	r = si_tpm_open(j->c->tcti, j->c->tpm_timeout_ms, &tpm, d);
	if (r == 0)
		r = si_tpm_counter_read(tpm, rc->index, &rc->value, d);
	si_tpm_close(tpm);
	if (r == -ENOENT)
		si_diag_set(d, "no counter at NV index 0x%08" PRIx32, rc->index);
	return r;
}

int rollback_read_counter(const struct si_bootcfg *c, const char *datadev, int tok,
			  struct rollback_counter *rc, struct si_diag *d)
{
	struct counter_job job = { c, datadev, tok };
	struct si_work w = {
		.fn = counter_work, .arg = &job, .out = rc, .out_size = sizeof(*rc),
		.deadline_ms = c->tpm_timeout_ms, .timeout_code = -SI_ENOTPM,
		.noun = "the TPM (reading the rollback counter)",
	};
	struct si_diag wd = { { 0 } };
	int r;

	memset(rc, 0, sizeof(*rc));
	if (!ENABLE_TPM2 || tok < 0)
		return 0;
	r = si_worker_run(&w, &wd);
	if (r < 0) {
		si_diag_set(d, "the data volume is unlocked but its token %d's rollback counter "
			    "cannot be read (%.300s); refusing to continue: the data volume %s", tok,
			    wd.msg, close_volume(c, NULL));
		return r;
	}
	if (rc->bound)
		say(6, "rollback counter 0x%08" PRIx32 ": %" PRIu64 " (token %d)", rc->index,
		    rc->value, tok);
	else
		say(7, "token %d has no rollback counter: no high-water mark to check", tok);
	return 0;
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
