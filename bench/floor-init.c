// SPDX-License-Identifier: MIT
/*
 * /init of bench/boot's floor row: the least an initramfs can do and still
 * boot the root. It loads the modules listed in /etc/modules (one path a
 * line, dependencies first, as the bench wrote them from modules.dep),
 * waits for the root= device, mounts it read-only, frees the initramfs and
 * switches to the root's /sbin/init. No TPM, no dm-crypt, no verity, no
 * udev: whatever any real initramfs does on top of this is overhead.
 *
 * Built static by bench/rows/floor.sh with Debian's gcc; every wait is
 * bounded, and every failure prints its cause and powers off.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NEWROOT "/root"
#define ROOT_WAIT_MS 10000

static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("floor-init: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void load_modules(void)
{
	char path[512];
	FILE *f = fopen("/etc/modules", "re");

	if (!f)
		return;
	while (fgets(path, sizeof(path), f)) {
		int fd;

		path[strcspn(path, "\n")] = '\0';
		if (!path[0])
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fail("cannot open module `%s': %s", path, strerror(errno));
		if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
			fail("cannot load module `%s': %s", path, strerror(errno));
		close(fd);
	}
	fclose(f);
}

/* The value of root= on the kernel command line, into buf. */
static void root_device(char *buf, size_t len)
{
	char line[4096], *p;
	FILE *f = fopen("/proc/cmdline", "re");

	if (!f || !fgets(line, sizeof(line), f))
		fail("cannot read /proc/cmdline");
	fclose(f);
	for (p = strtok(line, " \n"); p; p = strtok(NULL, " \n")) {
		if (strncmp(p, "root=", 5) == 0 && strlen(p + 5) < len) {
			strcpy(buf, p + 5);
			return;
		}
	}
	fail("no root=/dev/... on the kernel command line `%s'", line);
}

static void wait_for(const char *dev)
{
	struct timespec tick = { 0, 5 * 1000000L };
	struct stat st;
	int waited;

	for (waited = 0; waited < ROOT_WAIT_MS; waited += 5) {
		if (stat(dev, &st) == 0 && S_ISBLK(st.st_mode))
			return;
		nanosleep(&tick, NULL);
	}
	fail("%s did not appear within %d ms", dev, ROOT_WAIT_MS);
}

/* Remove the initramfs's files (what busybox's switch_root does), staying
 * on its filesystem: the new root and the moved mounts are elsewhere. */
static void free_initramfs(int dirfd, dev_t rootdev)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != rootdev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (sub >= 0)
				free_initramfs(sub, rootdev);
			unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dirfd, e->d_name, 0);
		}
	}
	closedir(d);
}

int main(void)
{
	char root[256];
	struct stat st;
	int fd;

	if (mount("devtmpfs", "/dev", "devtmpfs", 0, "mode=0755") != 0 && errno != EBUSY)
		fail("cannot mount /dev: %s", strerror(errno));
	fd = open("/dev/console", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
		fail("cannot mount /proc: %s", strerror(errno));
	load_modules();
	root_device(root, sizeof(root));
	wait_for(root);
	if (mount(root, NEWROOT, "ext4", MS_RDONLY, NULL) != 0)
		fail("cannot mount %s on " NEWROOT ": %s", root, strerror(errno));
	if (mount("/dev", NEWROOT "/dev", NULL, MS_MOVE, NULL) != 0 ||
	    mount("/proc", NEWROOT "/proc", NULL, MS_MOVE, NULL) != 0)
		fail("cannot move /dev and /proc into the root: %s", strerror(errno));
	if (stat("/", &st) != 0)
		fail("cannot stat /: %s", strerror(errno));
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		free_initramfs(fd, st.st_dev);
	if (chdir(NEWROOT) != 0 || mount(".", "/", NULL, MS_MOVE, NULL) != 0 ||
	    chroot(".") != 0 || chdir("/") != 0)
		fail("cannot switch to %s: %s", root, strerror(errno));
	execl("/sbin/init", "/sbin/init", (char *)NULL);
	fail("cannot run /sbin/init: %s", strerror(errno));
	return 1;
}
