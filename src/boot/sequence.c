/* SPDX-License-Identifier: MIT */
/*
 * The boot stage: sealinit as PID 1 of the initramfs, top to bottom.
 *
 *   mount /proc /sys /dev /run → config + cmdline (lockdown) → modules →
 *   wait for the devices → the fTPM store, tee-supplicant and its
 *   readiness → the late modules and the TPM → measure the command line and the
 *   config → (the unlock's worker starts: header, TPM session; it waits at
 *   its gate) → verify the rootfs → mount it → measure the init → extend the
 *   measurements → unlock the data volume (and read its token's rollback
 *   counter) → cap → mount data → its high-water mark → switch_root
 *
 * Rules: nothing here exits or aborts; every wait has a timeout (pid1.c,
 * the workers of core/); every step returns a code and a message, and
 * every failure reaches the one failure policy below, after the cap.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "boot/boot.h"
#include "boot/failrec.h"
#include "boot/keysources.h"
#include "boot/measure.h"
#include "boot/pid1.h"
#include "boot/rollback.h"
#include "boot/teestore.h"
#include "config.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/textfile.h"

#define CONFIG_FILE   "/etc/sealinit.conf"
/* The early module list, the whole list: no load of a disk or crypto
 * module takes seconds, one that hangs is a kernel fault. */
#define EARLY_MODULES_MS 30000
#define MODULES_FILE  "/etc/sealinit/modules"
#define MODULES_LATE  "/etc/sealinit/modules.late"
#define NEWROOT       "/newroot"
#define BOOT_CONFIG_COPY "/run/sealinit/sealinit.conf"

/* /etc/sealinit.conf, then the kernel command line over it (kept in
 * cmdline, to be measured). Each is read whole or refused, by name: a cut
 * file would lose the keys after the cut (lockdown=yes, the volume's pin)
 * without a word. Only a missing configuration file is no error. */
static int load_config(struct si_bootcfg *c, char *cmdline, size_t size, struct si_diag *d)
{
	static char text[SI_TEXTFILE_CONFIG_MAX + 1];
	struct si_diag pd = { { 0 } };
	int r;

	si_bootcfg_defaults(c);
	r = si_textfile_read(CONFIG_FILE, text, sizeof(text), &pd);
	if (r < 0 && r != -ENOENT) {
		si_diag_set(d, "config %.400s", pd.msg);
		return r;
	}
	if (r >= 0 && si_bootcfg_parse_file(c, text, &pd) < 0) {
		si_diag_set(d, "config " CONFIG_FILE ": %.400s", pd.msg);
		return -EINVAL;
	}
	/* For the booted system's `sealinit reseal', `migrate' and `status':
	 * the configuration this boot measured, which the real root may not
	 * carry (or carry another of). It holds no secret: paths and names. */
	if (r >= 0)
		pid1_publish(BOOT_CONFIG_COPY, text, (size_t)r);
	r = si_textfile_read("/proc/cmdline", cmdline, size, &pd);
	if (r < 0) {
		si_diag_set(d, "kernel command line: %.400s", pd.msg);
		return r;
	}
	r = si_bootcfg_parse_cmdline(c, cmdline, &pd);
	if (r < 0) {
		si_diag_set(d, "kernel command line: %.400s", pd.msg);
		return r;
	}
	if (si_bootcfg_validate(c, &pd) < 0) {
		si_diag_set(d, "configuration: %.400s", pd.msg);
		return -EINVAL;
	}
	pid1_set_loglevel(c->loglevel);
	return 0;
}

/* Locked down, a kernel argument that keeps the TPM's driver from loading
 * is refused before any module is loaded or device touched: without a
 * TPM, nothing would be measured or capped (measure.c). */
static int check_tpm_driver(const struct si_bootcfg *c, const char *cmdline, struct si_diag *d)
{
	static char modules[32768];
	struct si_diag vd = { { 0 } };
	int n, r;

	if (!c->lockdown)
		return 0;
	/* Read as pid1_load_modules reads them: a missing list is empty, a
	 * cut or unreadable one fails the boot there, by name. */
	n = si_textfile_read(MODULES_FILE, modules, sizeof(modules) / 2, &vd);
	n = n < 0 ? 0 : n;
	modules[n++] = '\n';
	if (si_textfile_read(MODULES_LATE, modules + n, sizeof(modules) - (size_t)n, &vd) < 0)
		modules[n] = '\0';
	r = measure_driver_verdict(cmdline, modules, &vd);
	if (r < 0)
		si_diag_set(d, "kernel command line: %.400s", vd.msg);
	return r;
}

/* tee-supplicant, on the fTPM store when there is one, and ready: it
 * holds /dev/teepriv0 open within device_timeout, or the boot fails by
 * name. Without a store its built-in path is RAM here: an fTPM keeping
 * its NV in the REE FS starts blank every boot (said, not refused: with
 * RPMB the NV is elsewhere). */
static int start_supplicant(const struct si_bootcfg *c, struct si_diag *d)
{
	pid_t pid;

	if (!c->tee_storage[0])
		say(4, "tee_supplicant= without tee_storage=: the supplicant's files are in RAM, "
		    "and an fTPM without RPMB forgets its keys at every boot");
	pid = pid1_start_helper(c->tee_supplicant, c->tee_storage[0] ? TEESTORE_ARG : NULL);
	if (pid < 0) {
		si_diag_set(d, "starting tee_supplicant=%s: %s", c->tee_supplicant,
			    strerror((int)-pid));
		return (int)pid;
	}
	return pid1_helper_ready(pid, c->tee_supplicant, TEESTORE_TEEPRIV, c->device_timeout_ms, d);
}

int si_boot_main(void)
{
	static struct si_bootcfg cfg;
	static char cmdline[4096];
	char rootdev[SI_PATH_MAX], datadev[SI_PATH_MAX], hashdev[SI_PATH_MAX];
	char mountdev[SI_PATH_MAX], datamnt[SI_PATH_MAX + 16];
	struct si_diag d = { { 0 } }, cd = { { 0 } };
	struct rollback_counter counter;
	double t_start = uptime_ms(), t0;
	int r;

	si_bootcfg_defaults(&cfg);
	pid1_early_mounts();
	say(5, "[%8.3f] sealinit %s starting as PID 1", t_start / 1e3, SEALINIT_VERSION);

	t0 = uptime_ms();
	r = load_config(&cfg, cmdline, sizeof(cmdline), &d);
	if (r == 0)
		r = check_tpm_driver(&cfg, cmdline, &d);
	/* A bound of its own, not device_timeout: a short wait for devices
	 * (a headless device that should fail fast) must not fail the
	 * module loads, which take what the kernel takes. */
	if (r == 0)
		r = pid1_load_modules_with(MODULES_FILE, EARLY_MODULES_MS, pid1_finit_module, &d);
	if (r < 0)
		goto failed;
	/* Why the last boot failed, before this one can fail too. */
	failrec_boot_start();
	step_done("config and modules", t0);

	t0 = uptime_ms();
	r = pid1_wait_for("root device", cfg.root, rootdev, sizeof(rootdev), cfg.device_timeout_ms, &d);
	if (r == 0)
		r = pid1_wait_for("data device", cfg.data, datadev, sizeof(datadev),
				  cfg.device_timeout_ms, &d);
	if (r == 0 && cfg.measure == SI_MEASURE_VERITY && cfg.hashdev[0])
		r = pid1_wait_for("verity hash device", cfg.hashdev, hashdev, sizeof(hashdev),
				  cfg.device_timeout_ms, &d);
	if (r < 0)
		goto failed;
	/* The TPM's driver may need tee-supplicant first (Jetson fTPM), and
	 * its probe then waits on the supplicant inside finit_module: the
	 * store is mounted for it, it is started, and the late modules load
	 * only once it holds /dev/teepriv0 open (before that the fTPM's
	 * session fails at once), in workers, all within tpm_timeout. */
	if (cfg.tee_storage[0])
		r = teestore_mount(&cfg, rootdev, datadev,
				   cfg.measure == SI_MEASURE_VERITY && cfg.hashdev[0] ? hashdev : rootdev,
				   &d);
	if (r == 0 && cfg.tee_supplicant[0])
		r = start_supplicant(&cfg, &d);
	if (r < 0)
		goto failed;
	r = pid1_load_modules_with(MODULES_LATE, cfg.tpm_timeout_ms, pid1_finit_module, &d);
	if (r == 0)
		r = measure_begin(&cfg, keysources_tpm_used(&cfg), keysources_legacy_enabled(&cfg), &d);
	if (r == 0)
		r = measure_boot_config(&cfg, cmdline, &d);
	if (r < 0)
		goto failed;
	/* The TPM's part of the unlock that reads no PCR runs from here, in
	 * a worker, beside the measurements; its gate opens in
	 * keysources_unlock, after measure_commit. */
	keysources_start_early(&cfg, datadev);
	step_done("devices", t0);

	t0 = uptime_ms();
	r = measure_rootfs(&cfg, rootdev, cfg.hashdev[0] ? hashdev : rootdev, mountdev,
			   sizeof(mountdev), &d);
	if (r < 0)
		goto failed;
	step_done("measure", t0);

	t0 = uptime_ms();
	/* A verity root is read-only whatever the command line says. */
	r = pid1_mount(mountdev, NEWROOT, cfg.rootfstype,
		       cfg.ro || cfg.measure == SI_MEASURE_VERITY ? MS_RDONLY : 0, "root", &d);
	if (r == 0)
		r = measure_init(&cfg, NEWROOT, &d);
	if (r < 0)
		goto failed;
	step_done("mount root", t0);

	/* Every measurement in one TPM connection, before any unseal. */
	t0 = uptime_ms();
	r = measure_commit(&d);
	if (r < 0)
		goto failed;
	step_done("extend measurements", t0);

	t0 = uptime_ms();
	r = pid1_still_unique("data device", cfg.data, datadev, &d);
	if (r == 0)
		r = keysources_unlock(&cfg, datadev, &counter, &d);
	if (r < 0)
		goto failed;
	r = measure_cap(&d);
	if (r < 0) {
		char why[sizeof(d.msg)];

		memcpy(why, d.msg, sizeof(why));
		si_diag_set(&d, "the data volume is unlocked but %.300s; refusing to continue", why);
		goto failed;
	}
	pid1_stop_helper();
	teestore_umount(cfg.device_timeout_ms);
	step_done("unlock and cap", t0);

	t0 = uptime_ms();
	snprintf(datamnt, sizeof(datamnt), NEWROOT "%s", cfg.data_mount);
	snprintf(mountdev, sizeof(mountdev), "/dev/mapper/%s", cfg.data_name);
	r = pid1_mount(mountdev, datamnt, cfg.data_fstype, MS_NOSUID | MS_NODEV, "the data volume",
		       &d);
	/* The counter the unlock read, against the volume's mark
	 * (docs/updates.md, "Rollback of the TPM's store"). */
	if (r == 0)
		r = rollback_check(&cfg, &counter, datamnt, &d);
	if (r < 0)
		goto failed;
	step_done("mount data", t0);

	/* Last look: a TPM that appeared since the cap gets the measurements
	 * and its cap now, before the real init can use it. */
	r = measure_cap(&d);
	if (r == 0) {
		failrec_boot_ok();
		r = pid1_switch_root(NEWROOT, cfg.init, t_start, &d);
	}

failed:
	/* A worker still at its gate never passes it. */
	keysources_abandon_early();
	/* Fail closed: whatever happened, nothing later in this boot unseals. */
	if (measure_cap(&cd) < 0)
		say(3, "%s", cd.msg);
	/* After the cap, which an fTPM may need it for. A worker left behind
	 * in the TEE driver waits on the supplicant (kernels without "tee:
	 * optee: Fix supplicant wait loop" even after SIGKILL, spinning):
	 * stopping the supplicant ends that wait. */
	pid1_stop_helper();
	teestore_umount(cfg.device_timeout_ms);
	pid1_fail(&cfg, &d);
}
