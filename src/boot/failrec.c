/* SPDX-License-Identifier: MIT */
/*
 * The failure record at boot (failrec.h): efivarfs in the initramfs, the
 * previous failure printed, this one written. Nothing here may keep the
 * failure policy from running: every firmware call (the mount, the read,
 * each write) is in a worker under a deadline (SetVariable is synchronous
 * and can take long while the firmware reclaims flash), and every error is
 * one line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

#include "boot/failrec.h"
#include "boot/pid1.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/failrec.h"
#include "core/worker.h"

/* The boot stage's module list (sequence.c): efivarfs may be a module
 * there, and a failure in the configuration comes before it is loaded. */
#define MODULES_FILE  "/etc/sealinit/modules"
#define PATH          SI_FAILREC_EFIVARS "/" SI_FAILREC_VAR
#define WRITE_MS      5000
/* Before this, the clock was not set (no RTC, no battery): record 0. */
#define CLOCK_SANE    1577836800  /* 2020-01-01 */

static struct {
	int started;
	int mounted;              /* 1 mounted, -errno why not, 0 not tried */
	int have_prev;
	struct si_failrec prev;
} st;

/* Mounting efivarfs asks the firmware for every variable's name, and a
 * read asks for the variable: both are firmware calls, so they run in a
 * worker too. The child's mount is the parent's (one mount namespace). */
struct start_result {
	int mounted;              /* as st.mounted */
	int read;                 /* si_failrec_read's code */
	struct si_failrec rec;
};

static int mount_efivarfs(void)
{
	struct stat sb;

	/* No EFI: the kernel makes no /sys/firmware/efi. */
	if (stat("/sys/firmware/efi", &sb) < 0)
		return -ENODEV;
	if (mount("efivarfs", SI_FAILREC_EFIVARS, "efivarfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) == 0 || errno == EBUSY)
		return 1;
	/* ENODEV: efivarfs is a module not loaded yet. */
	if (errno == ENODEV) {
		struct si_diag md = { { 0 } };

		/* Best effort: a list that fails here failed the boot already. */
		(void)pid1_load_modules(MODULES_FILE, &md);
		if (mount("efivarfs", SI_FAILREC_EFIVARS, "efivarfs",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
			return 1;
	}
	return errno == ENODEV ? -ENOSYS : -errno;
}

static int start_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	struct start_result *res = out;

	res->mounted = mount_efivarfs();
	res->read = res->mounted == 1 ? si_failrec_read(PATH, &res->rec, d) : 0;
	return 0;
}

static const char *why_not(int mounted)
{
	return mounted == -ENODEV ? "no EFI" : mounted == -ENOSYS ? "no efivarfs in this kernel" :
	       strerror(-mounted);
}

void failrec_boot_start(void)
{
	static struct start_result res;
	struct si_diag d = { { 0 } };
	const struct si_work w = {
		.fn = start_work, .out = &res, .out_size = sizeof(res), .deadline_ms = WRITE_MS,
		.timeout_code = -ETIMEDOUT, .noun = "the EFI variable store",
	};
	char t[48];
	int r;

	st.started = 1;
	memset(&res, 0, sizeof(res));
	r = si_worker_run(&w, &d);
	if (r < 0) {
		st.mounted = r;
		say(4, "failure record: %s", d.msg);
		return;
	}
	st.mounted = res.mounted;
	if (res.mounted < 0) {
		say(6, "failure record: no EFI variables here (%s); a failed boot leaves no record",
		    why_not(res.mounted));
		return;
	}
	if (res.read == -ENOENT)
		return;
	if (res.read < 0) {
		say(4, "failure record " SI_FAILREC_VAR " unreadable: %s", d.msg);
		return;
	}
	st.prev = res.rec;
	st.have_prev = 1;
	if (st.prev.consecutive)
		say(4, "the previous boot failed (%u in a row, %u recorded; %s; policy %s; "
		    "sealinit %s; after %u ms): %s", st.prev.consecutive, st.prev.failures,
		    si_failrec_when(st.prev.time, t, sizeof(t)), st.prev.policy, st.prev.version,
		    st.prev.uptime_ms, st.prev.failed);
	else
		say(6, "the last recorded failure, before a boot that succeeded (%s): %s",
		    si_failrec_when(st.prev.time, t, sizeof(t)), st.prev.failed);
}

static int write_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	return si_failrec_write(PATH, arg, d);
}

static int write_bounded(struct si_failrec *r, struct si_diag *d)
{
	const struct si_work w = {
		.fn = write_work, .arg = r, .deadline_ms = WRITE_MS,
		.timeout_code = -ETIMEDOUT, .noun = "the EFI variable store",
	};

	return si_worker_run(&w, d);
}

void failrec_boot_ok(void)
{
	struct si_diag d = { { 0 } };

	if (!st.have_prev || !st.prev.consecutive || st.mounted != 1)
		return;
	st.prev.consecutive = 0;
	if (write_bounded(&st.prev, &d) < 0)
		say(4, "failure record: could not note this boot's success: %s", d.msg);
	else
		say(6, "failure record: a boot succeeded after %u recorded failures",
		    st.prev.failures);
}

int failrec_boot_failed(const struct si_bootcfg *c, const char *msg)
{
	static const char *const policies[] = { "poweroff", "halt", "reboot", "shell" };
	static struct si_failrec r;
	struct si_diag d = { { 0 } };
	time_t now = time(NULL);
	int e;

	/* A failure before the boot read the record (the configuration):
	 * read it now, so that the count goes on. */
	if (!st.started)
		failrec_boot_start();
	si_failrec_next(st.have_prev ? &st.prev : NULL, &r);
	r.time = now >= CLOCK_SANE ? (int64_t)now : 0;
	r.uptime_ms = (uint32_t)uptime_ms();
	snprintf(r.policy, sizeof(r.policy), "%s",
		 (unsigned int)c->failure < 4 ? policies[c->failure] : "poweroff");
	snprintf(r.version, sizeof(r.version), "%s", SEALINIT_VERSION);
	snprintf(r.failed, sizeof(r.failed), "%s", msg);
	if (st.mounted == 1) {
		e = write_bounded(&r, &d);
	} else {
		e = st.mounted < 0 ? st.mounted : -ENODEV;
		si_diag_set(&d, "%s", e == -ETIMEDOUT ? "the EFI variable store did not answer" :
			    why_not(e));
	}
	if (e < 0) {
		say(3, "failure record not kept: %s", d.msg);
	} else {
		say(5, "failure recorded in EFI variable " SI_FAILREC_VAR " (%u in a row)",
		    r.consecutive);
		st.prev = r;
		st.have_prev = 1;
	}
	return si_failrec_delay(c->failure_delay_s, r.consecutive);
}
