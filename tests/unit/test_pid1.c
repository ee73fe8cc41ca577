/* SPDX-License-Identifier: MIT */
/* boot/pid1.c: switch_root deletes the initramfs only when it is one. The
 * decision is tested on facts, never by calling switch_root: on a host, a
 * wrong verdict would delete the host's files. The module lists load
 * through a stand-in loader: a load that never finishes (the fTPM driver's
 * probe waiting on tee-supplicant) fails by name within the list's budget
 * instead of hanging PID 1, the modules after it are not loaded, and the
 * budget is the whole list's; the control: a list that loads, in workers
 * and in PID 1 itself, with a missing module as a warning. */
#include <errno.h>
#include <linux/magic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot/pid1.h"
#include "boot/teestore.h"
#include "core/errors.h"

static const struct pid1_root_facts initramfs = {
	.pid = 1, .root_fstype = RAMFS_MAGIC, .root_dev = 1, .newroot_dev = 0xfe00,
};

/* Positive control: the initramfs, on ramfs or tmpfs, with a mounted root. */
static void test_initramfs_ok(void **state)
{
	struct pid1_root_facts f = initramfs;
	struct si_diag d = { { 0 } };

	(void)state;
	assert_int_equal(pid1_switch_root_verdict(&f, "/newroot", &d), 0);
	f.root_fstype = TMPFS_MAGIC;
	assert_int_equal(pid1_switch_root_verdict(&f, "/newroot", &d), 0);
}

static void test_not_pid1(void **state)
{
	struct pid1_root_facts f = initramfs;
	struct si_diag d = { { 0 } };

	(void)state;
	f.pid = 4242;
	assert_int_equal(pid1_switch_root_verdict(&f, "/newroot", &d), -EPERM);
	assert_non_null(strstr(d.msg, "not PID 1 (pid 4242)"));
}

static void test_root_not_ramfs(void **state)
{
	struct pid1_root_facts f = initramfs;
	struct si_diag d = { { 0 } };

	(void)state;
	f.root_fstype = EXT4_SUPER_MAGIC;
	assert_int_equal(pid1_switch_root_verdict(&f, "/newroot", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "not the initramfs (filesystem magic 0xef53"));
}

static void test_newroot_not_a_mount(void **state)
{
	struct pid1_root_facts f = initramfs;
	struct si_diag d = { { 0 } };

	(void)state;
	f.newroot_dev = f.root_dev;
	assert_int_equal(pid1_switch_root_verdict(&f, "/newroot", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "/newroot is not a mount of its own"));
}

/*
 * The environment: the kernel hands PID 1 every unknown X=Y word of its
 * command line. After pid1_environment() none is left, and the boot's own
 * variables win over the kernel's (TSS2_LOG was set without overwrite, so
 * the kernel's all+TRACE stayed). The control: what the boot needs is
 * there. The real init's list holds nothing of the kernel's either.
 */
static void test_environment(void **state)
{
	static const char *const want[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TSS2_LOG=all+NONE" };
	static const char *const kernel[] = { "SSLKEYLOGFILE", "TSS2_LOG", "TSS2_TCTI", "LD_PRELOAD",
					      "CURL_CA_BUNDLE", "HOME", "TERM" };
	const char *const *init;
	size_t i, n;

	(void)state;
	setenv("SSLKEYLOGFILE", "/dev/console", 1);
	setenv("TSS2_LOG", "all+TRACE", 1);
	setenv("TSS2_TCTI", "swtpm:host=10.0.2.2", 1);
	setenv("LD_PRELOAD", "/tmp/evil.so", 1);
	setenv("CURL_CA_BUNDLE", "/tmp/evil.pem", 1);
	assert_string_equal(getenv("SSLKEYLOGFILE"), "/dev/console");
	assert_int_equal(pid1_environment(), 0);
	for (n = 0; environ[n]; n++)
		;
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n; i++)
		assert_string_equal(environ[i], want[i]);
	assert_null(getenv("SSLKEYLOGFILE"));
	assert_null(getenv("TSS2_TCTI"));
	assert_string_equal(getenv("TSS2_LOG"), "all+NONE");
	/* The real init: the kernel's own defaults, fixed, nothing more. */
	init = pid1_init_environment();
	assert_string_equal(init[0], "HOME=/");
	assert_string_equal(init[1], "TERM=linux");
	assert_null(init[2]);
	for (i = 0; i < sizeof(kernel) / sizeof(kernel[0]); i++)
		if (strcmp(kernel[i], "TSS2_LOG") && getenv(kernel[i]))
			fail_msg("%s=%s is left", kernel[i], getenv(kernel[i]));
}

static char moddir[64];

/* The stand-in for finit_module, run in a worker's child: it leaves
 * PATH.loaded behind (the parent sees what was loaded), and a module whose
 * name starts so fails (missing), dies (crash), takes 1.5 s (slow), never
 * finishes (hang), or needs another loaded first (needs-X). */
static int stand_in_loader(const char *path)
{
	struct timespec slow = { 1, 500000000L }, hang = { 60, 0 };
	char mark[128];
	int fd;

	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *needs = !strncmp(base, "needs-", 6) ? base : NULL;

	if (!strncmp(base, "missing", 7))
		return -ENOENT;
	if (!strncmp(base, "crash", 5))
		raise(SIGKILL);
	/* As the kernel refuses a module whose dependency is not loaded
	 * yet ("Unknown symbol"): needs-X.ko loads only after X.ko. */
	if (needs) {
		snprintf(mark, sizeof(mark), "%s/%s.loaded", moddir, needs + strlen("needs-"));
		if (access(mark, F_OK) != 0)
			return -ENOENT;
	}
	if (!strncmp(base, "hang", 4))
		nanosleep(&hang, NULL);
	if (!strncmp(base, "slow", 4))
		nanosleep(&slow, NULL);
	snprintf(mark, sizeof(mark), "%s.loaded", path);
	fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	return 0;
}

static void write_list(const char *list, const char *const *mods, size_t n)
{
	FILE *f = fopen(list, "w");
	size_t i;

	assert_non_null(f);
	fprintf(f, "# late modules\n");
	for (i = 0; i < n; i++)
		fprintf(f, "%s/%s\n", moddir, mods[i]);
	assert_int_equal(fclose(f), 0);
}

/* A list whose lines say what they need: "NAME" or "NAME: DEP DEP", the
 * names made paths in moddir, as mkinitramfs writes it. */
static void write_deps_list(const char *list, const char *const *lines, size_t n)
{
	FILE *f = fopen(list, "w");
	size_t i;

	assert_non_null(f);
	fprintf(f, "# kernel test: load in this order (dependencies first)\n");
	for (i = 0; i < n; i++) {
		char buf[256], *save = NULL, *w;
		const char *sep = strchr(lines[i], ':') ? ":" : "";

		snprintf(buf, sizeof(buf), "%s", lines[i]);
		w = strtok_r(buf, ": ", &save);
		fprintf(f, "%s/%s%s", moddir, w, sep);
		while ((w = strtok_r(NULL, " ", &save)))
			fprintf(f, " %s/%s", moddir, w);
		fprintf(f, "\n");
	}
	assert_int_equal(fclose(f), 0);
}

static bool loaded(const char *mod)
{
	char mark[128];

	snprintf(mark, sizeof(mark), "%s/%s.loaded", moddir, mod);
	return access(mark, F_OK) == 0;
}

static int moddir_setup(void **state)
{
	(void)state;
	snprintf(moddir, sizeof(moddir), "/tmp/sealinit-test-pid1-XXXXXX");
	return mkdtemp(moddir) ? 0 : -1;
}

static int moddir_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", moddir);
	return system(cmd) == 0 ? 0 : -1;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Positive control: every module loads, a missing one is a warning, in
 * workers under a deadline and in PID 1 itself (deadline 0). */
static void test_modules_load(void **state)
{
	static const char *const mods[] = { "a.ko", "missing.ko", "b.ko" };
	char list[96], mark[128];
	struct si_diag d = { { 0 } };

	snprintf(list, sizeof(list), "%s/modules.late", moddir);
	write_list(list, mods, 3);
	assert_int_equal(pid1_load_modules_with(list, 5000, stand_in_loader, &d), 0);
	assert_true(loaded("a.ko") && loaded("b.ko"));
	assert_false(loaded("missing.ko"));
	snprintf(mark, sizeof(mark), "%s/a.ko.loaded", moddir);
	assert_int_equal(unlink(mark), 0);
	assert_int_equal(pid1_load_modules_with(list, 0, stand_in_loader, &d), 0);
	assert_true(loaded("a.ko"));
	/* No list: nothing to load, no error. */
	snprintf(list, sizeof(list), "%s/none", moddir);
	assert_int_equal(pid1_load_modules_with(list, 5000, stand_in_loader, &d), 0);
	(void)state;
}

/* The attack: a load that never finishes. Bounded, by name; nothing after
 * it loads. The upper bound on time is generous: "returns", not "how fast". */
static void test_module_load_hangs(void **state)
{
	static const char *const mods[] = { "c.ko", "hang_ftpm.ko", "after.ko" };
	char list[96], want[160];
	struct si_diag d = { { 0 } };
	double t0 = now_s();

	snprintf(list, sizeof(list), "%s/hang.list", moddir);
	write_list(list, mods, 3);
	assert_int_equal(pid1_load_modules_with(list, 300, stand_in_loader, &d), -ETIMEDOUT);
	assert_true(now_s() - t0 < 10.0);
	snprintf(want, sizeof(want), "loading module %s/hang_ftpm.ko did not finish within ", moddir);
	assert_non_null(strstr(d.msg, want));
	assert_non_null(strstr(d.msg, "(a TPM driver waiting on tee-supplicant?)"));
	assert_null(strstr(d.msg, "left behind"));   /* SIGKILL ended this one */
	assert_true(loaded("c.ko"));
	assert_false(loaded("after.ko"));
	(void)state;
}

/* One budget for the whole list, not one per module: two loads of 1.5 s
 * each do not fit in 2.5 s, and the second is the one named. */
static void test_module_budget_is_the_lists(void **state)
{
	static const char *const mods[] = { "slow1.ko", "slow2.ko" };
	char list[96], want[160];
	struct si_diag d = { { 0 } };

	snprintf(list, sizeof(list), "%s/slow.list", moddir);
	write_list(list, mods, 2);
	assert_int_equal(pid1_load_modules_with(list, 2500, stand_in_loader, &d), -ETIMEDOUT);
	snprintf(want, sizeof(want), "loading module %s/slow2.ko did not finish", moddir);
	assert_non_null(strstr(d.msg, want));
	assert_true(loaded("slow1.ko"));
	assert_false(loaded("slow2.ko"));
	(void)state;
}

/*
 * Concurrently: lines that say what they need load at the same time,
 * each after its own dependencies, with as many loaders as CPUs (4 here). Two independent loads of 1.5 s end
 * together (one after the other they took 3 s: the budget test above),
 * and needs-slowa.ko, which the stand-in refuses until slowa.ko is
 * loaded, waited for it. The attack on the order: the same module with
 * its dependency left out of its line starts at once and is refused, as
 * the kernel refuses a module whose symbols are not there yet.
 */
static void test_modules_concurrent(void **state)
{
	static const char *const good[] = { "slowa.ko:", "slowb.ko:",
					    "needs-slowa.ko: slowa.ko", "plain.ko" };
	static const char *const unordered[] = { "slowa.ko:", "needs-slowa.ko:" };
	char list[96], mark[128];
	struct si_diag d = { { 0 } };
	double t0 = now_s(), took;

	/* As on a machine with 4 CPUs, whatever this one has. */
	pid1_set_module_jobs(4);
	snprintf(list, sizeof(list), "%s/modules", moddir);
	write_deps_list(list, good, 4);
	assert_int_equal(pid1_load_modules_with(list, 8000, stand_in_loader, &d), 0);
	took = now_s() - t0;
	assert_true(loaded("slowa.ko") && loaded("slowb.ko"));
	assert_true(loaded("needs-slowa.ko"));
	/* A plain line still comes after every line before it. */
	assert_true(loaded("plain.ko"));
	assert_true(took >= 1.5);
	assert_true(took < 2.9);

	snprintf(mark, sizeof(mark), "%s/slowa.ko.loaded", moddir);
	assert_int_equal(unlink(mark), 0);
	snprintf(mark, sizeof(mark), "%s/needs-slowa.ko.loaded", moddir);
	assert_int_equal(unlink(mark), 0);
	write_deps_list(list, unordered, 2);
	assert_int_equal(pid1_load_modules_with(list, 8000, stand_in_loader, &d), 0);
	assert_true(loaded("slowa.ko"));
	assert_false(loaded("needs-slowa.ko"));
	pid1_set_module_jobs(0);
	(void)state;
}

/* A load that never ends, beside loads that do: bounded, named; what
 * does not need it still loaded, what needs it never started. */
static void test_modules_concurrent_hang(void **state)
{
	static const char *const mods[] = { "hang.ko:", "ok.ko:", "needs-hang.ko: hang.ko" };
	char list[96], want[160];
	struct si_diag d = { { 0 } };
	double t0 = now_s();

	pid1_set_module_jobs(4);
	snprintf(list, sizeof(list), "%s/modules", moddir);
	write_deps_list(list, mods, 3);
	assert_int_equal(pid1_load_modules_with(list, 400, stand_in_loader, &d), -ETIMEDOUT);
	pid1_set_module_jobs(0);
	assert_true(now_s() - t0 < 10.0);
	snprintf(want, sizeof(want), "loading module %s/hang.ko did not finish within 400 ms",
		 moddir);
	assert_non_null(strstr(d.msg, want));
	assert_null(strstr(d.msg, "left behind"));
	assert_true(loaded("ok.ko"));
	assert_false(loaded("needs-hang.ko"));
	(void)state;
}

/* A load whose process dies (the loader crashed): the boot fails, naming
 * the module; a module the kernel refuses stays a warning (the control,
 * missing.ko: the wait for its device says more). */
static void test_modules_concurrent_crash(void **state)
{
	static const char *const mods[] = { "missing.ko:", "crash.ko:", "after.ko: crash.ko" };
	char list[96], want[160];
	struct si_diag d = { { 0 } };

	snprintf(list, sizeof(list), "%s/modules", moddir);
	write_deps_list(list, mods, 3);
	assert_int_equal(pid1_load_modules_with(list, 5000, stand_in_loader, &d), -EIO);
	snprintf(want, sizeof(want), "loading module %s/crash.ko: its process died (signal 9)",
		 moddir);
	assert_non_null(strstr(d.msg, want));
	assert_false(loaded("after.ko"));
	write_deps_list(list, mods, 1);
	assert_int_equal(pid1_load_modules_with(list, 5000, stand_in_loader, &d), 0);
	(void)state;
}

/* A line may name only lines before it: a dependency no line lists, or
 * one listed later, is refused before anything loads, by line. */
static void test_modules_bad_dependency(void **state)
{
	static const char *const later[] = { "a.ko: b.ko", "b.ko:" };
	static const char *const unknown[] = { "a.ko:", "c.ko: nothere.ko" };
	static const char *const control[] = { "b.ko:", "a.ko: b.ko" };
	char list[96], want[400];
	struct si_diag d = { { 0 } };

	snprintf(list, sizeof(list), "%s/modules", moddir);
	write_deps_list(list, later, 2);
	assert_int_equal(pid1_load_modules_with(list, 5000, stand_in_loader, &d), -EINVAL);
	snprintf(want, sizeof(want), "%s line 2: `%s/a.ko' needs `%s/b.ko', which no line before "
		 "it lists", list, moddir, moddir);
	assert_non_null(strstr(d.msg, want));
	assert_false(loaded("a.ko") || loaded("b.ko"));
	write_deps_list(list, unknown, 2);
	assert_int_equal(pid1_load_modules_with(list, 5000, stand_in_loader, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "nothere.ko', which no line before it lists"));
	assert_false(loaded("a.ko"));
	write_deps_list(list, control, 2);
	assert_int_equal(pid1_load_modules_with(list, 5000, stand_in_loader, &d), 0);
	assert_true(loaded("a.ko") && loaded("b.ko"));
	(void)state;
}

/*
 * tee-supplicant's readiness: it holds /dev/teepriv0 open. Stand-ins are
 * forked children and the device a file of the test's. The control: a
 * child that opens it after 200 ms is ready, not before (the wait is seen
 * to cover the 200 ms). The attacks: a child that never opens it (it
 * holds another file) fails within the bound, by name; a child that
 * exits, or is killed, fails at once, naming how.
 */
enum stand_in { OPENS_LATE, OPENS_OTHER, EXITS, KILLED };

static pid_t stand_in(enum stand_in how, const char *dev)
{
	struct timespec late = { 0, 200000000L };
	pid_t pid = fork();
	char other[128];

	assert_true(pid >= 0);
	if (pid)
		return pid;
	snprintf(other, sizeof(other), "%s.other", dev);
	switch (how) {
	case OPENS_LATE:
		nanosleep(&late, NULL);
		if (open(dev, O_RDWR) < 0)
			_exit(2);
		break;
	case OPENS_OTHER:
		if (open(other, O_RDWR | O_CREAT, 0600) < 0)
			_exit(2);
		break;
	case EXITS:
		_exit(3);
	case KILLED:
		raise(SIGKILL);
	}
	sleep(30);
	_exit(0);
}

static void end_stand_in(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void teepriv(char *dev, size_t size)
{
	int fd;

	snprintf(dev, size, "%s/teepriv0", moddir);
	fd = open(dev, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static void test_helper_ready(void **state)
{
	char dev[96];
	struct si_diag d = { { 0 } };
	double t0;
	pid_t pid;

	(void)state;
	teepriv(dev, sizeof(dev));
	pid = stand_in(OPENS_LATE, dev);
	t0 = now_s();
	if (pid1_helper_ready(pid, "tee-supplicant", dev, 5000, &d) != 0)
		fail_msg("%s", d.msg);
	assert_true(now_s() - t0 >= 0.15);
	assert_true(now_s() - t0 < 10.0);
	end_stand_in(pid);
}

static void test_helper_never_ready(void **state)
{
	char dev[96], want[160];
	struct si_diag d = { { 0 } };
	double t0;
	pid_t pid;

	(void)state;
	teepriv(dev, sizeof(dev));
	pid = stand_in(OPENS_OTHER, dev);
	t0 = now_s();
	assert_int_equal(pid1_helper_ready(pid, "tee-supplicant", dev, 400, &d), -ETIMEDOUT);
	assert_true(now_s() - t0 >= 0.35);
	assert_true(now_s() - t0 < 10.0);
	snprintf(want, sizeof(want), "tee-supplicant did not open %s within 400 ms", dev);
	assert_non_null(strstr(d.msg, want));
	end_stand_in(pid);
}

static void test_helper_exits(void **state)
{
	char dev[96], want[160];
	struct si_diag d = { { 0 } };
	double t0;
	pid_t pid;

	(void)state;
	teepriv(dev, sizeof(dev));
	pid = stand_in(EXITS, dev);
	t0 = now_s();
	assert_int_equal(pid1_helper_ready(pid, "tee-supplicant", dev, 10000, &d), -ECHILD);
	assert_true(now_s() - t0 < 9.0);   /* at once, not at the 10 s bound */
	snprintf(want, sizeof(want), "tee-supplicant exited with status 3 before it opened %s", dev);
	assert_non_null(strstr(d.msg, want));
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);   /* reaped */
	pid = stand_in(KILLED, dev);
	assert_int_equal(pid1_helper_ready(pid, "tee-supplicant", dev, 10000, &d), -ECHILD);
	assert_non_null(strstr(d.msg, "tee-supplicant was killed by signal 9"));
}

/*
 * Stopping the helper stops its process group: a wrapper script's child
 * (here a sleep) must not outlive it and keep the store busy. Control:
 * the child runs until then. The test process stands in for PID 1 as the
 * orphans' reaper.
 */
static void test_helper_stop_group(void **state)
{
	char script[96], pidfile[96], buf[32] = "";
	pid_t child = 0;
	int i, fd;
	FILE *f;

	(void)state;
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	snprintf(script, sizeof(script), "%s/wrapper", moddir);
	snprintf(pidfile, sizeof(pidfile), "%s/child", moddir);
	f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\nsleep 60 &\necho $! >%s.tmp && mv %s.tmp %s\nwait\n", pidfile,
		pidfile, pidfile);
	fclose(f);
	assert_int_equal(chmod(script, 0755), 0);
	assert_true(pid1_start_helper(script, NULL) > 0);
	for (i = 0; i < 500 && !child; i++) {
		fd = open(pidfile, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (read(fd, buf, sizeof(buf) - 1) > 0)
				child = (pid_t)atoi(buf);
			close(fd);
		}
		if (!child)
			poll(NULL, 0, 10);
	}
	assert_true(child > 0);
	assert_int_equal(kill(child, 0), 0);   /* the control: it runs */
	pid1_stop_helper();
	assert_int_equal(kill(child, 0), -1);  /* killed and reaped */
	assert_int_equal(errno, ESRCH);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
}

/*
 * The store's check, on facts: an ext4 partition of its own is taken; the
 * root, the data volume or the hash tree (by device number, whatever the
 * spec says), another file system, none, or a file are refused, naming
 * the spec, the device and what it is.
 */
static void test_teestore_verdict(void **state)
{
	static const struct {
		const char *fstype;
		bool is_block;
		dev_t rdev;
		int r;
		const char *msg;
	} cases[] = {
		{ "ext4", true, 0, 0, "" },
		{ "ext4", true, 1, -EINVAL, "tee_storage=PARTLABEL=tee-store is /dev/vdd (254:1), "
		  "the root device (/dev/vda): the fTPM's store is a partition of its own" },
		{ "crypto_LUKS", true, 2, -EINVAL, "(254:2), the data device (/dev/vdb)" },
		{ "ext4", true, 3, -EINVAL, "(254:3), the verity hash device (/dev/vdc)" },
		{ "vfat", true, 0, -EINVAL, "tee_storage=PARTLABEL=tee-store (/dev/vdd) holds file "
		  "system type `vfat', expected ext4" },
		{ "ext3", true, 0, -EINVAL, "holds file system type `ext3', expected ext4" },
		{ "", true, 0, -EINVAL, "(/dev/vdd) holds no file system that libblkid knows, "
		  "expected ext4" },
		{ "ext4", false, 0, -ENOTBLK, "/dev/vdd is not a block device" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct teestore_facts f = {
			.spec = "PARTLABEL=tee-store", .path = "/dev/vdd", .fstype = cases[i].fstype,
			.is_block = cases[i].is_block,
			.rdev = cases[i].rdev ? makedev(254, cases[i].rdev) : makedev(254, 4),
			.others = { { "root device", "/dev/vda", makedev(254, 1) },
				    { "data device", "/dev/vdb", makedev(254, 2) },
				    { "verity hash device", "/dev/vdc", makedev(254, 3) } },
		};
		struct si_diag d = { { 0 } };
		int r = teestore_verdict(&f, &d);

		if (r != cases[i].r || !strstr(d.msg, cases[i].msg))
			fail_msg("case %zu: %d `%s', expected %d `%s'", i, r, d.msg, cases[i].r,
				 cases[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_initramfs_ok),
		cmocka_unit_test(test_not_pid1),
		cmocka_unit_test(test_root_not_ramfs),
		cmocka_unit_test(test_newroot_not_a_mount),
		cmocka_unit_test_setup_teardown(test_modules_load, moddir_setup, moddir_teardown),
		cmocka_unit_test_setup_teardown(test_module_load_hangs, moddir_setup, moddir_teardown),
		cmocka_unit_test_setup_teardown(test_modules_concurrent, moddir_setup, moddir_teardown),
		cmocka_unit_test_setup_teardown(test_modules_concurrent_hang, moddir_setup,
						moddir_teardown),
		cmocka_unit_test_setup_teardown(test_modules_concurrent_crash, moddir_setup,
						moddir_teardown),
		cmocka_unit_test_setup_teardown(test_modules_bad_dependency, moddir_setup,
						moddir_teardown),
		cmocka_unit_test_setup_teardown(test_module_budget_is_the_lists, moddir_setup,
						moddir_teardown),
		cmocka_unit_test_setup_teardown(test_helper_ready, moddir_setup, moddir_teardown),
		cmocka_unit_test_setup_teardown(test_helper_never_ready, moddir_setup, moddir_teardown),
		cmocka_unit_test_setup_teardown(test_helper_exits, moddir_setup, moddir_teardown),
		cmocka_unit_test_setup_teardown(test_helper_stop_group, moddir_setup, moddir_teardown),
		cmocka_unit_test(test_teestore_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
