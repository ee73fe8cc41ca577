/* SPDX-License-Identifier: MIT */
/*
 * The boot stage: sealinit as PID 1 of the initramfs.
 *
 *   mount /proc /sys /dev /run → config + cmdline → modules → wait for the
 *   TPM and the devices → measure the rootfs → mount it → unseal + unlock
 *   the data volume → cap → mount data → move mounts → switch_root
 *
 * Rules: nothing here exits or aborts; every wait has a timeout; every
 * failure reaches fail() with one message naming the cause and what was
 * tried, after the PCRs were capped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <blkid/blkid.h>
#include <libcryptsetup.h>

#include "core/b64.h"
#include "boot/boot.h"
#include "core/bootcfg.h"
#include "config.h"
#include "core/legacy/unlock.h"
#include "core/tpm/pcr.h"
#include "core/unlock.h"
#include "core/errors.h"
#include "core/legacy/client.h"
#include "core/luks.h"
#include "core/migrate.h"
#include "core/legacy/net.h"
#include "core/hash.h"
#include "core/secret.h"
#include "core/worker.h"

#define CONFIG_FILE   "/etc/sealinit.conf"
#define MODULES_FILE  "/etc/sealinit/modules"
#define MODULES_LATE  "/etc/sealinit/modules.late"
#define NEWROOT       "/newroot"
#define EVENTLOG_DIR  "/run/sealinit"
#define EVENTLOG      EVENTLOG_DIR "/eventlog"
#define VERITY_NAME   "sealroot"
#define POLL_MS       50

#define CAP_EVENT     "sealinit:cap"
#define UDHCPC_SCRIPT EVENTLOG_DIR "/udhcpc.script"
#define CRED_MNT      EVENTLOG_DIR "/credentials"

static struct si_bootcfg cfg;
static bool capped;  /* the cap happened in the unlock worker already */
static bool no_tpm;  /* no TPM, and the legacy source may still unlock */
static int kmsg_fd = -1;
static pid_t supplicant_pid = -1;
static double t_start;

static double uptime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One line to the console and to the kernel log. */
__attribute__((format(printf, 2, 3)))
static void say(int level, const char *fmt, ...)
{
	char msg[512], rec[540];
	va_list ap;
	int n;

	if (level > cfg.loglevel)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sealinit: %s\n", msg);
	/* One write() per record. Not dprintf(): glibc first does
	 * lseek(fd, 0, SEEK_CUR), which /dev/kmsg refuses with EINVAL, and
	 * then writes nothing at all. */
	n = snprintf(rec, sizeof(rec), "<%d>sealinit: %s\n", level, msg);
	if (kmsg_fd >= 0 && n > 0) {
		ssize_t w = write(kmsg_fd, rec, (size_t)n < sizeof(rec) ? (size_t)n : sizeof(rec) - 1);

		(void)w; /* the console has the line already */
	}
}

/* Debug-level timing of a step, from the kernel's clock so it lines up
 * with dmesg and the kernel's own "Run /init" timestamp. */
static void step_done(const char *step, double t0)
{
	say(7, "[%8.3f] %s: %.1f ms", uptime_ms() / 1e3, step, uptime_ms() - t0);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void event_log(unsigned int pcr, const char *event)
{
	int fd = open(EVENTLOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return;
	dprintf(fd, "pcr=%u event=%s\n", pcr, event);
	close(fd);
}

static void log_cap(void)
{
	unsigned int i;

	for (i = 0; i < 24; i++)
		if (cfg.cap_pcrs & (UINT32_C(1) << i))
			event_log(i, CAP_EVENT);
}

static int cap_pcrs(void)
{
	struct si_pcr_opts o = { .tcti = cfg.tcti, .timeout_ms = cfg.tpm_timeout_ms,
				 .pcr_mask = cfg.cap_pcrs };
	struct si_diag d = { { 0 } };
	int r;

	if (!cfg.cap_pcrs || capped || no_tpm)
		return 0;
	r = si_pcr_event(&o, CAP_EVENT, strlen(CAP_EVENT), &d);
	if (r < 0) {
		say(3, "capping PCRs failed: %s: %s", si_strerror(r), d.msg);
		return r;
	}
	capped = true;
	log_cap();
	return 0;
}

static void rescue_shell(void)
{
	pid_t pid;

	if (!ENABLE_RESCUE_SHELL)
		return;
	say(2, "starting a rescue shell on the console; leaving it reboots");
	pid = fork();
	if (pid == 0) {
		char *const argv[] = { "/bin/sh", NULL };

		setsid();
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

/* The failure policy. Fail closed: the key was never released or the
 * PCRs are capped; then halt, power off, reboot, or a rescue shell. */
__attribute__((noreturn, format(printf, 1, 2)))
static void fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* /dev/kmsg passes 10 records per 5 s per open file (the kernel's
	 * default printk.devkmsg=ratelimit), and a boot at loglevel 7 has used
	 * them up by here: a fresh file, so that the verdict reaches the kernel
	 * log. */
	if (kmsg_fd >= 0) {
		close(kmsg_fd);
		kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	}
	(void)cap_pcrs();
	cfg.loglevel = cfg.loglevel < 2 ? 2 : cfg.loglevel;
	say(2, "FAILED: %s", msg);
	say(2, "the data volume stays locked; failure policy: %s",
	    cfg.failure == SI_FAIL_REBOOT ? "reboot" : cfg.failure == SI_FAIL_HALT ? "halt" :
	    cfg.failure == SI_FAIL_SHELL ? "rescue shell" : "power off");
	if (cfg.failure == SI_FAIL_SHELL)
		rescue_shell();
	for (i = cfg.failure_delay_s; i > 0 && cfg.failure == SI_FAIL_REBOOT; i--) {
		if (i % 5 == 0 || i <= 3)
			say(2, "rebooting in %d s", i);
		sleep_ms(1000);
	}
	sync();
	if (cfg.failure == SI_FAIL_HALT)
		reboot(RB_HALT_SYSTEM);
	else if (cfg.failure == SI_FAIL_POWEROFF)
		reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);
	/* PID 1 must not return; if the kernel refused to stop, stay here. */
	for (;;)
		pause();
}

static int read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)total + 1 < size) {
		n = read(fd, buf + total, size - 1 - (size_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return (int)total;
}

static void early_mounts(void)
{
	int fd;

	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mkdir("/run", 0755);
	mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	mkdir("/run/cryptsetup", 0700);  /* libcryptsetup's lock directory */
	mkdir(EVENTLOG_DIR, 0755);
	/* The initramfs may carry no /dev/console node: use devtmpfs's. No
	 * O_CLOEXEC: if it lands on fd 0 it is the real init's stdin too. */
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	setvbuf(stderr, NULL, _IOLBF, 0);
}

static void load_config(void)
{
	static char text[16384];
	struct si_diag d = { { 0 } };

	si_bootcfg_defaults(&cfg);
	if (read_file(CONFIG_FILE, text, sizeof(text)) >= 0 &&
	    si_bootcfg_parse_file(&cfg, text, &d) < 0)
		fail("config " CONFIG_FILE ": %s", d.msg);
	if (read_file("/proc/cmdline", text, sizeof(text)) >= 0 &&
	    si_bootcfg_parse_cmdline(&cfg, text, &d) < 0)
		fail("kernel command line: %s", d.msg);
	if (si_bootcfg_validate(&cfg, &d) < 0)
		fail("configuration: %s", d.msg);
}

static void load_modules(const char *file)
{
	static char list[16384];
	char *save = NULL, *path;
	int n = 0;

	if (read_file(file, list, sizeof(list)) < 0)
		return;
	for (path = strtok_r(list, "\n", &save); path; path = strtok_r(NULL, "\n", &save)) {
		int fd;

		if (!*path || *path == '#')
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			say(4, "module %s: %s", path, strerror(errno));
			continue;
		}
		if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
			say(4, "module %s: %s", path, strerror(errno));
		else
			n++;
		close(fd);
	}
	say(6, "loaded %d modules from %s", n, file);
}

/*
 * Jetson's firmware TPM lives in OP-TEE and keeps its state in RPMB, which
 * OP-TEE reaches through tee-supplicant: the supplicant must run before
 * the fTPM driver (listed in modules.late) loads. It is stopped again once
 * the PCRs are capped; the real root starts its own.
 */
static void start_tee_supplicant(void)
{
	pid_t pid;

	if (!cfg.tee_supplicant[0])
		return;
	pid = fork();
	if (pid == 0) {
		char *const argv[] = { cfg.tee_supplicant, NULL };

		setsid();
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0) {
		say(3, "starting %s: %s", cfg.tee_supplicant, strerror(errno));
		return;
	}
	supplicant_pid = pid;
	say(6, "started %s (pid %d)", cfg.tee_supplicant, (int)pid);
}

/* Bounded: TERM, up to a second, then KILL. */
static void stop_tee_supplicant(void)
{
	int i;

	if (supplicant_pid <= 0)
		return;
	kill(supplicant_pid, SIGTERM);
	for (i = 0; i < 20; i++) {
		if (waitpid(supplicant_pid, NULL, WNOHANG) == supplicant_pid) {
			supplicant_pid = -1;
			return;
		}
		sleep_ms(50);
	}
	kill(supplicant_pid, SIGKILL);
	waitpid(supplicant_pid, NULL, 0);
	supplicant_pid = -1;
}

/* Resolve a device spec (path or TAG=value) to a path; 0 once it exists. */
static int resolve(const char *spec, char *out, size_t size)
{
	struct stat st;

	if (spec[0] == '/') {
		if (stat(spec, &st) < 0)
			return -ENOENT;
		snprintf(out, size, "%s", spec);
		return 0;
	} else {
		char tag[16], *dev;
		const char *eq = strchr(spec, '=');
		size_t tl = eq ? (size_t)(eq - spec) : 0;

		if (!eq || tl >= sizeof(tag))
			return -EINVAL;
		memcpy(tag, spec, tl);
		tag[tl] = '\0';
		/* libblkid probes /proc/partitions itself: no udev needed. */
		dev = blkid_evaluate_tag(tag, eq + 1, NULL);
		if (!dev)
			return -ENOENT;
		snprintf(out, size, "%s", dev);
		free(dev);
		return stat(out, &st) < 0 ? -ENOENT : 0;
	}
}

/* Bounded wait, with progress once a second. */
static int wait_for(const char *what, const char *spec, char *out, size_t size, int timeout_ms)
{
	double t0 = uptime_ms();
	int last = 0;

	for (;;) {
		int waited = (int)(uptime_ms() - t0);

		if (resolve(spec, out, size) == 0) {
			if (waited > 100)
				say(6, "%s %s is %s (after %d ms)", what, spec, out, waited);
			return 0;
		}
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		if (waited / 1000 > last) {
			last = waited / 1000;
			say(5, "waiting for %s %s (%d/%d s)", what, spec, last, timeout_ms / 1000);
		}
		sleep_ms(POLL_MS);
	}
}

/* The TPM's device node, when the TCTI names one: bounded like the disks.
 * On Jetson the fTPM appears only after tee-supplicant runs. */
static int wait_tpm(struct si_diag *d)
{
	const char *tpmdev = NULL;
	char path[SI_PATH_MAX];

	if (!strncmp(cfg.tcti, "device:", 7))
		tpmdev = cfg.tcti + 7;
	else if (!strcmp(cfg.tcti, "device"))
		tpmdev = "/dev/tpmrm0";
	if (tpmdev && wait_for("TPM", tpmdev, path, sizeof(path), cfg.device_timeout_ms) < 0) {
		si_diag_set(d, "%s did not appear within %d ms", tpmdev, cfg.device_timeout_ms);
		return -SI_ENOTPM;
	}
	return 0;
}

static int hex_to_bytes(const char *hex, uint8_t *out, size_t cap)
{
	long n = si_hex_decode(out, cap, hex);

	return n < 0 ? -EINVAL : (int)n;
}

static void measure_event(const char *event)
{
	struct si_pcr_opts o = { .tcti = cfg.tcti, .timeout_ms = cfg.tpm_timeout_ms,
				 .pcr_mask = UINT32_C(1) << cfg.measure_pcr };
	struct si_diag d = { { 0 } };
	int r;

	if (no_tpm) {
		say(5, "no TPM: %s is not measured", event);
		return;
	}
	r = si_pcr_event(&o, event, strlen(event), &d);
	if (r < 0)
		fail("measuring the rootfs into PCR %u: %s: %s", cfg.measure_pcr, si_strerror(r), d.msg);
	event_log(cfg.measure_pcr, event);
	say(5, "measured %s into PCR %u", event, cfg.measure_pcr);
}

static int read_first_block(const char *dev)
{
	static char block[4096];
	ssize_t n;
	int fd = open(dev, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	while ((n = pread(fd, block, sizeof(block), 0)) < 0 && errno == EINTR)
		;
	if (n < 0)
		r = -errno;
	close(fd);
	return r;
}

/* dm-verity: the pinned root hash is checked against the hash tree, the
 * root is opened through verity (every later read is verified), and the
 * root hash is what gets measured: O(1) at any rootfs size. */
static void measure_verity(const char *rootdev, const char *hashdev, char *mountdev, size_t size)
{
	/* No CRYPT_VERITY_CHECK_HASH: with it, libcryptsetup hashes the whole
	 * data device in userspace before activating (VERITY_verify), which is
	 * O(rootfs size): 1.1 s for 21 MiB under QEMU TCG. The kernel verifies
	 * every block it reads against the root hash anyway. */
	struct crypt_params_verity params = { .hash_area_offset = cfg.hashoffset };
	struct crypt_device *cd = NULL;
	uint8_t hash[64];
	char event[200];
	int n, r;

	n = hex_to_bytes(cfg.roothash, hash, sizeof(hash));
	if (n <= 0)
		fail("roothash=%s is not hex", cfg.roothash);
	r = crypt_init_data_device(&cd, hashdev, rootdev);
	if (r == 0)
		r = crypt_load(cd, CRYPT_VERITY, &params);
	if (r < 0) {
		crypt_free(cd);
		fail("dm-verity: no verity superblock on %s (%s)", hashdev, strerror(-r));
	}
	r = crypt_activate_by_volume_key(cd, VERITY_NAME, (const char *)hash, (size_t)n,
					 CRYPT_ACTIVATE_READONLY);
	crypt_free(cd);
	if (r < 0)
		fail("dm-verity refused the rootfs: root hash %s does not match %s (%s)",
		     cfg.roothash, hashdev, strerror(-r));
	snprintf(mountdev, size, "/dev/mapper/" VERITY_NAME);
	/* Reading the first block through the mapping checks the pinned root
	 * hash against the top of the hash tree, in O(tree height): a wrong
	 * roothash or hash device fails here, by name, not as a mount error. */
	r = read_first_block(mountdev);
	if (r < 0)
		fail("dm-verity refused the rootfs: reading %s through root hash %s failed (%s): "
		     "%s or its hash tree on %s does not match", mountdev, cfg.roothash,
		     strerror(-r), rootdev, hashdev);
	snprintf(event, sizeof(event), "sealinit:verity:%s", cfg.roothash);
	for (n = 0; event[n]; n++)
		if (event[n] >= 'A' && event[n] <= 'F')
			event[n] = (char)(event[n] - 'A' + 'a');
	measure_event(event);
}

struct hash_progress {
	const char *dev;
	uint64_t size;
	double last;
};

static void hash_progress(void *ctx, uint64_t done)
{
	struct hash_progress *p = ctx;

	if (p->size && uptime_ms() - p->last > 1000) {
		p->last = uptime_ms();
		say(5, "hashing %s: %llu%%", p->dev, (unsigned long long)(done * 100 / p->size));
	}
}

/* Image mode: SHA-256 of the whole root device, with progress. */
static void measure_image(const char *rootdev)
{
	struct hash_progress prog = { rootdev, 0, uptime_ms() };
	uint8_t digest[32];
	char hex[65], event[100];
	uint64_t done = 0;
	double t0 = uptime_ms();
	off_t end;
	int fd, r;

	fd = open(rootdev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail("measuring %s: %s", rootdev, strerror(errno));
	end = lseek(fd, 0, SEEK_END);
	prog.size = end > 0 ? (uint64_t)end : 0;
	lseek(fd, 0, SEEK_SET);
	r = si_sha256_fd(fd, digest, &done, hash_progress, &prog);
	close(fd);
	if (r < 0)
		fail("reading %s at %llu: %s", rootdev, (unsigned long long)done, strerror(-r));
	si_hex_encode(hex, digest, sizeof(digest));
	say(6, "hashed %llu MiB in %.0f ms", (unsigned long long)(done >> 20), uptime_ms() - t0);
	snprintf(event, sizeof(event), "sealinit:image:%s", hex);
	measure_event(event);
}

/* Read the real init in full before any key is released: with verity a
 * tampered init fails here, not after unlock. */
static void check_init(void)
{
	char path[SI_PATH_MAX + 16], hex[65];
	uint8_t digest[32];
	int fd, r;

	snprintf(path, sizeof(path), NEWROOT "%s", cfg.init);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail("the real init %s is missing from the rootfs (%s)", cfg.init, strerror(errno));
	r = si_sha256_fd(fd, digest, NULL, NULL, NULL);
	close(fd);
	if (r < 0)
		fail("reading the real init %s: %s (rootfs fails verification)", cfg.init,
		     strerror(-r));
	si_hex_encode(hex, digest, sizeof(digest));
	say(7, "real init %s: sha256 %s", cfg.init, hex);
}

/* The PIN, when a token needs one: asked on the console without echo. */
static int console_pin(void *ctx, char *buf, size_t size)
{
	struct termios old, quiet;
	size_t n = 0;
	int have_tty = tcgetattr(0, &old) == 0;

	(void)ctx;
	fprintf(stderr, "sealinit: TPM PIN for the data volume: ");
	if (have_tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	while (n + 1 < size) {
		char c;
		ssize_t k = read(0, &c, 1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || c == '\n' || c == '\r')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
	if (have_tty)
		tcsetattr(0, TCSAFLUSH, &old);
	fprintf(stderr, "\n");
	return n ? 0 : -SI_ENOPIN;
}

/*
 * The key sources, in the configured order (keysources=). Each returns 0
 * when the volume is active as /dev/mapper/<name>, 1 when it is not
 * configured and was skipped, or a code; the boot flow tries the next one
 * and reports every attempt.
 */
static bool legacy_enabled(void)
{
	int i;

	for (i = 0; i < cfg.nsources; i++)
		if (cfg.sources[i] == SI_SRC_LEGACY)
			return ENABLE_LEGACY_NET && cfg.legacy.api[0];
	return false;
}

/* Will the TPM be used at all: as a key source, or to migrate to? */
static bool tpm_used(void)
{
	int i;

	for (i = 0; i < cfg.nsources; i++)
		if (cfg.sources[i] == SI_SRC_TPM2)
			return true;
	return cfg.migrate;
}

/* Is a configured legacy source still to come after position i? */
static bool legacy_after(int i)
{
	for (i++; i < cfg.nsources; i++)
		if (cfg.sources[i] == SI_SRC_LEGACY)
			return legacy_enabled();
	return false;
}

static void finish_migration(const char *datadev, int keyslot)
{
	struct si_migrate_finish_opts o = {
		.device = datadev, .tcti = cfg.tcti, .timeout_ms = cfg.tpm_timeout_ms,
		.verified_keyslot = keyslot,
	};
	struct si_diag d = { { 0 } };
	int r, removed;

	r = si_migrate_finish(&o, &removed, &d);
	if (r < 0)
		say(4, "migrate_finish: %s: %s (the legacy keyslot stays)", si_strerror(r), d.msg);
	else if (removed >= 0)
		say(5, "migration finished: legacy keyslot %d removed", removed);
}

static int tpm2_source(int pos, const char *datadev, struct si_diag *d)
{
	/* Cap on failure too, unless a migration may follow through the
	 * legacy source: it must seal to the PCRs as they are before the cap. */
	struct si_unlock_opts o = {
		.device = datadev, .name = cfg.data_name, .tcti = cfg.tcti,
		.timeout_ms = cfg.tpm_timeout_ms, .get_pin = console_pin,
		.cap_mask = cfg.cap_pcrs, .cap_event = CAP_EVENT,
		.cap_only_on_success = cfg.migrate && legacy_after(pos),
		.probe_token_type = cfg.migrate_finish ? SI_MIGRATION_TOKEN : NULL,
	};
	struct si_unlock_result res;
	int r;

	if (no_tpm) {
		si_diag_set(d, "no TPM");
		return -SI_ENOTPM;
	}
	r = wait_tpm(d);
	if (r < 0)
		return r;
	r = si_unlock(&o, &res, d);
	if (res.capped) {
		capped = true;
		log_cap();
	}
	if (r == 0) {
		say(6, "unsealed with token %d, keyslot %d (%u TPM commands)", res.token,
		    res.keyslot, res.tpm_commands);
		if (cfg.migrate_finish && res.probed)
			finish_migration(datadev, res.keyslot);
	}
	return r;
}

static void legacy_progress(void *ctx, const char *msg)
{
	(void)ctx;
	say(6, "legacy: %s", msg);
}

static int legacy_source(int pos, const char *datadev, struct si_diag *d)
{
	struct si_legacy_cfg lc = cfg.legacy;
	struct si_legacy_unlock_opts o = {
		.cfg = &lc, .ip = cfg.ip, .net_timeout_ms = cfg.net_timeout_ms,
		.udhcpc_script = UDHCPC_SCRIPT, .device = datadev, .name = cfg.data_name,
		.key_fd = -1, .migrate = cfg.migrate && !no_tpm, .tcti = cfg.tcti,
		.tpm_timeout_ms = cfg.tpm_timeout_ms,
		.migrate_pcrs = cfg.migrate_pcrs ? cfg.migrate_pcrs : UINT32_C(1) << cfg.measure_pcr,
		.log = legacy_progress,
	};
	struct si_legacy_unlock_result res;
	char mapped[SI_PATH_MAX + 16];
	bool cred_mounted = false;
	int r;

	(void)pos;
	if (!ENABLE_LEGACY_NET || !cfg.legacy.api[0]) {
		si_diag_set(d, "not configured (no legacy_api)");
		return 1;
	}
	/* Credentials on a config partition: mounted read-only for the fetch,
	 * and unmounted after it. */
	if (cfg.legacy.credentials_dev[0]) {
		char dev[SI_PATH_MAX];
		unsigned long fl = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;

		if (wait_for("credentials device", cfg.legacy.credentials_dev, dev, sizeof(dev),
			     cfg.device_timeout_ms) < 0) {
			si_diag_set(d, "credentials device %s did not appear within %d ms",
				    cfg.legacy.credentials_dev, cfg.device_timeout_ms);
			return -SI_ECREDS;
		}
		mkdir(CRED_MNT, 0700);
		/* ext4 keeps the file's owner and mode; vfat gets them from the
		 * mount options: root's, 0600. */
		if (mount(dev, CRED_MNT, "ext4", fl, NULL) < 0 &&
		    mount(dev, CRED_MNT, "vfat", fl, "uid=0,gid=0,fmask=0177,dmask=0077") < 0) {
			si_diag_set(d, "mounting the credentials device %s (ext4 or vfat): %s", dev,
				    strerror(errno));
			return -SI_ECREDS;
		}
		cred_mounted = true;
		if (snprintf(lc.credentials, sizeof(lc.credentials), CRED_MNT "%s",
			     cfg.legacy.credentials) >= (int)sizeof(lc.credentials)) {
			umount2(CRED_MNT, MNT_DETACH);
			si_diag_set(d, "legacy_credentials: path too long");
			return -SI_ECREDS;
		}
	}
	r = si_legacy_unlock(&o, &res, d);
	if (cred_mounted && umount2(CRED_MNT, MNT_DETACH) < 0)
		say(4, "unmounting %s: %s", CRED_MNT, strerror(errno));
	snprintf(mapped, sizeof(mapped), "/dev/mapper/%s", cfg.data_name);
	if (r < 0 && access(mapped, F_OK) == 0) {
		/* The volume opened, then the migration overran: the journal
		 * lets the next boot's migration clean up. */
		say(4, "legacy: unlocked, but the worker did not finish: %s", d->msg);
		return 0;
	}
	if (r < 0)
		return r;
	if (res.net[0])
		say(6, "legacy: network up: %s", res.net);
	say(6, "legacy key opened keyslot %d", res.keyslot);
	if (res.migrate_r == 0)
		say(5, "migrated: TPM keyslot %d enrolled (%u TPM commands); legacy keyslot %d "
		    "stays until migrate_finish", res.mres.tpm_keyslot, res.mres.tpm_commands,
		    res.mres.legacy_keyslot);
	else if (res.migrate_r < 0)
		say(4, "migration failed, the legacy key still unlocks: %s: %s",
		    si_strerror(res.migrate_r), res.mdiag.msg);
	else if (cfg.migrate)
		say(4, "migration skipped: no TPM");
	return 0;
}

struct key_source {
	enum si_keysource id;
	const char *name;
	int (*unlock)(int pos, const char *datadev, struct si_diag *d);
};

static const struct key_source all_sources[] = {
	{ SI_SRC_TPM2, "tpm2", tpm2_source },
	{ SI_SRC_LEGACY, "legacy", legacy_source },
};

static void unlock_data(const char *datadev)
{
	char tried[768] = "";
	size_t len = 0, k;
	int i, r = -SI_ENOTOKEN;

	for (i = 0; i < cfg.nsources; i++) {
		const struct key_source *src = NULL;
		struct si_diag d = { { 0 } };
		double t0 = uptime_ms();

		for (k = 0; k < sizeof(all_sources) / sizeof(all_sources[0]); k++)
			if (all_sources[k].id == cfg.sources[i])
				src = &all_sources[k];
		if (!src || (!ENABLE_TPM2 && src->id == SI_SRC_TPM2))
			continue;
		r = src->unlock(i, datadev, &d);
		step_done(src->name, t0);
		if (r == 0) {
			say(5, "unlocked %s as /dev/mapper/%s via %s", datadev, cfg.data_name,
			    src->name);
			return;
		}
		if (r == 1) {
			say(7, "%s: %s", src->name, d.msg);
			continue;
		}
		len += (size_t)snprintf(tried + len, sizeof(tried) - len, "%s%s: %s (%s)",
					len ? "; " : "", src->name, si_strerror(r), d.msg);
		if (len >= sizeof(tried))
			len = sizeof(tried) - 1;
		say(4, "%s: %s: %s", src->name, si_strerror(r), d.msg);
	}
	fail("cannot unlock %s: %s", datadev, tried[0] ? tried : "no key source is enabled");
}

static void mount_or_fail(const char *src, const char *dst, const char *type,
			  unsigned long flags, const char *what)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, flags, NULL) < 0)
		fail("mounting %s %s on %s (%s): %s", what, src, dst, type, strerror(errno));
}

/* Remove the initramfs' files (they are RAM) without crossing into other
 * mounts, as switch_root does. */
static void delete_tree(int dfd, dev_t rootdev)
{
	DIR *dir = fdopendir(dfd);
	struct dirent *e;

	if (!dir) {
		close(dfd);
		return;
	}
	while ((e = readdir(dir))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_dev != rootdev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (sub >= 0)
				delete_tree(sub, rootdev);
			unlinkat(dirfd(dir), e->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dirfd(dir), e->d_name, 0);
		}
	}
	closedir(dir);
}

static void switch_root(void)
{
	static const char *const moves[] = { "/dev", "/proc", "/sys", "/run" };
	char *const argv[] = { cfg.init, NULL };
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
		char dst[64];

		snprintf(dst, sizeof(dst), NEWROOT "%s", moves[i]);
		if (mount(moves[i], dst, NULL, MS_MOVE, NULL) < 0) {
			say(4, "moving %s into the new root: %s; detaching it", moves[i], strerror(errno));
			umount2(moves[i], MNT_DETACH);
		}
	}
	if (stat("/", &st) == 0) {
		fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			delete_tree(fd, st.st_dev);
	}
	if (chdir(NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		fail("switching to the new root: %s", strerror(errno));
	say(5, "[%8.3f] switch_root to %s (%.0f ms in sealinit)", uptime_ms() / 1e3, cfg.init,
	    uptime_ms() - t_start);
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	execv(cfg.init, argv);
	kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	fail("starting the real init %s: %s", cfg.init, strerror(errno));
}

int si_boot_main(void)
{
	char rootdev[SI_PATH_MAX], datadev[SI_PATH_MAX], hashdev[SI_PATH_MAX];
	char mountdev[SI_PATH_MAX], datamnt[SI_PATH_MAX + 16];
	double t0;

	t_start = uptime_ms();
	cfg.loglevel = CONFIG_LOG_LEVEL;
	early_mounts();
	say(5, "[%8.3f] sealinit %s starting as PID 1", t_start / 1e3, SEALINIT_VERSION);

	t0 = uptime_ms();
	load_config();
	load_modules(MODULES_FILE);
	step_done("config and modules", t0);

	t0 = uptime_ms();
	if (wait_for("root device", cfg.root, rootdev, sizeof(rootdev), cfg.device_timeout_ms) < 0)
		fail("root device %s did not appear within %d ms", cfg.root, cfg.device_timeout_ms);
	if (wait_for("data device", cfg.data, datadev, sizeof(datadev), cfg.device_timeout_ms) < 0)
		fail("data device %s did not appear within %d ms", cfg.data, cfg.device_timeout_ms);
	if (cfg.measure == SI_MEASURE_VERITY && cfg.hashdev[0] &&
	    wait_for("verity hash device", cfg.hashdev, hashdev, sizeof(hashdev),
		     cfg.device_timeout_ms) < 0)
		fail("verity hash device %s did not appear within %d ms", cfg.hashdev,
		     cfg.device_timeout_ms);
	/* The TPM's driver may need tee-supplicant first (Jetson fTPM). */
	start_tee_supplicant();
	load_modules(MODULES_LATE);
	/* The measurement is the TPM's first use: wait for it here, not only
	 * before unsealing, or a TPM that shows up late fails the boot. */
	if (cfg.measure != SI_MEASURE_NONE && !tpm_used()) {
		/* keysources=legacy without migration: nothing will be sealed
		 * or unsealed, so no TPM is waited for. */
		no_tpm = true;
		say(5, "keysources=legacy: the TPM is not used and the rootfs is not measured");
	} else if (cfg.measure != SI_MEASURE_NONE) {
		struct si_diag d = { { 0 } };
		int r = wait_tpm(&d);

		if (r < 0 && legacy_enabled()) {
			/* A device without a TPM: the legacy fetch is its key source. */
			no_tpm = true;
			say(4, "no TPM (%s): the rootfs is not measured; only the legacy source "
			    "can unlock", d.msg);
		} else if (r < 0) {
			fail("measuring the rootfs into PCR %u: %s: %s", cfg.measure_pcr,
			     si_strerror(r), d.msg);
		}
	}
	step_done("devices", t0);

	t0 = uptime_ms();
	snprintf(mountdev, sizeof(mountdev), "%s", rootdev);
	if (cfg.measure == SI_MEASURE_VERITY)
		measure_verity(rootdev, cfg.hashdev[0] ? hashdev : rootdev, mountdev, sizeof(mountdev));
	else if (cfg.measure == SI_MEASURE_IMAGE)
		measure_image(rootdev);
	else
		say(4, "measure=none: the rootfs is not measured");
	step_done("measure", t0);

	t0 = uptime_ms();
	mount_or_fail(mountdev, NEWROOT, cfg.rootfstype, cfg.ro ? MS_RDONLY : 0, "root");
	check_init();
	step_done("mount root", t0);

	t0 = uptime_ms();
	unlock_data(datadev);
	if (cap_pcrs() < 0)
		fail("the data volume is unlocked but the PCRs could not be capped; refusing to continue");
	stop_tee_supplicant();
	step_done("unlock and cap", t0);

	t0 = uptime_ms();
	snprintf(datamnt, sizeof(datamnt), NEWROOT "%s", cfg.data_mount);
	snprintf(mountdev, sizeof(mountdev), "/dev/mapper/%s", cfg.data_name);
	if (mount(mountdev, datamnt, cfg.data_fstype, MS_NOSUID | MS_NODEV, NULL) < 0)
		fail("mounting the data volume %s on %s (%s): %s", mountdev, cfg.data_mount,
		     cfg.data_fstype, strerror(errno));
	step_done("mount data", t0);

	switch_root();
	return 1; /* not reached: switch_root() execs or fails */
}
