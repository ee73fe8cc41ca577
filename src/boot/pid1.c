/* SPDX-License-Identifier: MIT */
/*
 * PID 1 mechanics. Rules: nothing here exits or aborts; every wait has a
 * timeout; failures return a code and a message for the failure policy.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <blkid/blkid.h>

#include "boot/failrec.h"
#include "boot/pid1.h"
#include "config.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/textfile.h"
#include "core/worker.h"

#define POLL_MS 50
/* tee-supplicant's readiness: often enough that the fTPM's driver does
 * not wait for the poll, seldom enough to cost nothing. */
#define READY_POLL_MS 25

/*
 * The environment, as an allow-list. The kernel hands PID 1 every
 * command-line word it does not know that looks like X=Y, unmeasured when
 * the configuration calls it volatile, never checked: SSLKEYLOGFILE=
 * would make libcurl write the legacy fetch's TLS secrets where it says,
 * TSS2_LOG= and TSS2_TCTI= steer the TSS. PID 1 drops all of it first and
 * sets what it needs; its forks (the workers) inherit that, and what it
 * executes gets a list of its own.
 */
static const char *const boot_env[] = {
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	/* The TSS logs to stderr on its own; its errors reach the console
	 * through sealinit's messages instead. */
	"TSS2_LOG=all+NONE",
	NULL,
};
/* tee-supplicant and the rescue shell: a PATH, nothing else. */
static char *const helper_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
/* The real init: what the kernel itself gives init when the command line
 * adds nothing (init/main.c, envp_init). systemd takes its settings from
 * /proc/cmdline, which it still reads (and which was measured), and from
 * its own files; an init that wants an environment sets it itself. */
static char *const init_env[] = { "HOME=/", "TERM=linux", NULL };

static int loglevel = CONFIG_LOG_LEVEL;
static int kmsg_fd = -1;
static pid_t helper_pid = -1;

double uptime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void pid1_set_loglevel(int level)
{
	loglevel = level;
}

void say(int level, const char *fmt, ...)
{
	char msg[768], rec[800];
	va_list ap;
	int n;

	if (level > loglevel)
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
void step_done(const char *step, double t0)
{
	say(7, "[%8.3f] %s: %.1f ms", uptime_ms() / 1e3, step, uptime_ms() - t0);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int pid1_environment(void)
{
	size_t i;

	/* Cannot fail: from here on nothing the kernel passed is left. */
	clearenv();
	for (i = 0; boot_env[i]; i++)
		if (putenv((char *)boot_env[i]) != 0)
			return -errno;
	return 0;
}

const char *const *pid1_init_environment(void)
{
	return (const char *const *)init_env;
}

void pid1_early_mounts(void)
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
	mkdir("/run/sealinit", 0755);
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

int pid1_publish(const char *path, const char *text, size_t len)
{
	char tmp[SI_PATH_MAX + 8];
	ssize_t n = -1;
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
	} else {
		while ((n = write(fd, text, len)) < 0 && errno == EINTR)
			;
		if (n != (ssize_t)len)
			r = n < 0 ? -errno : -EIO;
		else if (fchmod(fd, 0644) < 0 || fsync(fd) < 0)
			r = -errno;
		if (close(fd) < 0 && !r)
			r = -errno;
		if (!r && rename(tmp, path) < 0)
			r = -errno;
	}
	if (r < 0) {
		say(4, "writing %s: %s", path, strerror(-r));
		unlink(tmp);
	}
	return r;
}

int pid1_finit_module(const char *path)
{
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
		r = -errno;
	close(fd);
	return r;
}

/*
 * A module list: one module a line, in an order that loads each after
 * what it needs. A line may say what it needs, "PATH: DEP DEP...", each
 * DEP the path of a line before it (mkinitramfs writes the image's
 * modules.dep so); a plain "PATH" comes after every line before it, as
 * every list once did. The list is read whole first, so a line that names
 * a module no line before it lists fails the boot before anything loads.
 */
#define MODULES_MAX 128
/* Loaders at a time: as many as the CPUs this process may run on (a
 * module's load is mostly the CPU's work: its signature, relocation and
 * init), at most 8 (the widest list we ship starts 7 at once). */
#define MODULE_JOBS 8

struct mod {
	const char *path;
	uint64_t needs[MODULES_MAX / 64];   /* lines that must finish first */
	double t0;
	bool started, done;
};

struct modlist {
	struct mod m[MODULES_MAX];
	int n;
};

static int module_jobs;

void pid1_set_module_jobs(int n)
{
	module_jobs = n < 0 ? 0 : n > MODULE_JOBS ? MODULE_JOBS : n;
}

static int jobs(void)
{
	cpu_set_t set;
	int n;

	if (module_jobs)
		return module_jobs;
	n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
	return n < 1 ? 1 : n > MODULE_JOBS ? MODULE_JOBS : n;
}

static bool needs_bit(const struct mod *m, int i)
{
	return m->needs[i / 64] >> (i % 64) & 1;
}

static int parse_modlist(const char *file, char *text, struct modlist *l, struct si_diag *d)
{
	char *save = NULL, *line;
	int lineno = 0;

	l->n = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct mod *m = &l->m[l->n];
		char *deps = strchr(line, ':'), *dsave = NULL, *dep;
		int i;

		lineno++;
		if (!*line || *line == '#')
			continue;
		if (l->n == MODULES_MAX) {
			si_diag_set(d, "%s: more than %d modules; expected at most that many", file,
				    MODULES_MAX);
			return -E2BIG;
		}
		memset(m, 0, sizeof(*m));
		if (deps)
			*deps++ = '\0';
		m->path = line;
		if (!deps) {
			/* A plain line: after everything before it. */
			for (i = 0; i < l->n; i++)
				m->needs[i / 64] |= 1ull << (i % 64);
		}
		for (dep = deps ? strtok_r(deps, " ", &dsave) : NULL; dep;
		     dep = strtok_r(NULL, " ", &dsave)) {
			for (i = 0; i < l->n && strcmp(l->m[i].path, dep); i++)
				;
			if (i == l->n) {
				si_diag_set(d, "%s line %d: `%.200s' needs `%.200s', which no line "
					    "before it lists; expected the path of an earlier line", file,
					    lineno, line, dep);
				return -EINVAL;
			}
			m->needs[i / 64] |= 1ull << (i % 64);
		}
		l->n++;
	}
	return 0;
}

/*
 * A loader: a child that loads the modules it is handed, one at a time,
 * and answers each with the loader's code. A module loaded by a child is
 * loaded for the whole system (finit_module is a syscall, not a process's
 * state). One child per CPU for the whole list, not one per module: a
 * fork is not free under emulation, and a load is mostly the CPU's work.
 */
struct loader {
	pid_t pid;
	int to, from;        /* its command and answer pipes */
	int mod;             /* the line it is loading, or -1 */
};

struct answer {
	int mod, r;
};

static void loader_child(const struct modlist *l, pid1_module_loader load, int to, int from)
{
	int i;

	while (read(to, &i, sizeof(i)) == (ssize_t)sizeof(i)) {
		struct answer a = { i, i >= 0 && i < l->n ? load(l->m[i].path) : -EINVAL };

		if (write(from, &a, sizeof(a)) != (ssize_t)sizeof(a))
			break;
	}
	_exit(0);
}

/* Loader n; the loaders before it are running, and their pipes are closed
 * in the new one, so that each loader's pipes end with the parent's. */
static int loader_start(struct loader *loaders, int n, const struct modlist *l,
			pid1_module_loader load)
{
	struct loader *w = &loaders[n];
	int to[2], from[2], i;

	if (pipe2(to, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(from, O_CLOEXEC) < 0) {
		close(to[0]);
		close(to[1]);
		return -errno;
	}
	w->pid = fork();
	if (w->pid < 0) {
		int r = -errno;

		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		return r;
	}
	if (w->pid == 0) {
		close(to[1]);
		close(from[0]);
		for (i = 0; i < n; i++) {
			close(loaders[i].to);
			close(loaders[i].from);
		}
		loader_child(l, load, to[0], from[1]);
	}
	close(to[0]);
	close(from[1]);
	w->to = to[1];
	w->from = from[0];
	w->mod = -1;
	return 0;
}

/* Done or failing: every loader is told to end (its pipe closed), and
 * one still loading is killed; each is reaped, bounded. One that SIGKILL
 * does not end (a probe waiting on OP-TEE) is left behind, and *left says
 * so. */
static void loaders_stop(struct loader *w, int n, bool *left)
{
	int i, r, status;

	for (i = 0; i < n; i++) {
		if (w[i].pid <= 0)
			continue;
		close(w[i].to);
		close(w[i].from);
		if (w[i].mod >= 0)
			kill(w[i].pid, SIGKILL);
	}
	for (i = 0; i < n; i++) {
		if (w[i].pid <= 0)
			continue;
		r = si_reap_bounded(w[i].pid, SI_REAP_MS, &status);
		/* An idle loader ends at its pipe's end; one that does not
		 * is killed too. */
		if (r < 0 && w[i].mod < 0) {
			kill(w[i].pid, SIGKILL);
			r = si_reap_bounded(w[i].pid, SI_REAP_MS, &status);
		}
		if (r < 0)
			*left = true;
		w[i].pid = -1;
	}
}

/* A line whose lines before it that it names have all finished. */
static int next_ready(const struct modlist *l)
{
	int i, j;

	for (i = 0; i < l->n; i++) {
		bool ready = !l->m[i].started;

		for (j = 0; ready && j < i; j++)
			if (needs_bit(&l->m[i], j) && !l->m[j].done)
				ready = false;
		if (ready)
			return i;
	}
	return -1;
}

/* The slowest loads of a list, for one debug line: a line per module
 * would use up /dev/kmsg's 10 records per 5 s before the boot's verdict
 * and the previous boot's failure reach the kernel log. */
#define SLOWEST 3
struct slowest {
	int mod[SLOWEST];
	double ms[SLOWEST];
};

static void slowest_note(struct slowest *s, int mod, double ms)
{
	int i, j;

	for (i = 0; i < SLOWEST && s->mod[i] >= 0 && s->ms[i] >= ms; i++)
		;
	if (i == SLOWEST)
		return;
	for (j = SLOWEST - 1; j > i; j--) {
		s->mod[j] = s->mod[j - 1];
		s->ms[j] = s->ms[j - 1];
	}
	s->mod[i] = mod;
	s->ms[i] = ms;
}

static void slowest_say(const char *file, const struct modlist *l, const struct slowest *s,
			double t0)
{
	char buf[600];
	size_t n = 0;
	int i;

	for (i = 0; i < SLOWEST && s->mod[i] >= 0 && n < sizeof(buf); i++) {
		const char *path = l->m[s->mod[i]].path, *base = strrchr(path, '/');

		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s %.1f ms", i ? ", " : "",
				      base ? base + 1 : path, s->ms[i]);
	}
	say(7, "[%8.3f] %s: %d modules in %.1f ms; slowest: %s", uptime_ms() / 1e3, file, l->n,
	    uptime_ms() - t0, n ? buf : "none");
}

/* Concurrently, each load after what it needs, all within deadline_ms. */
static int load_concurrent(const char *file, struct modlist *l, int deadline_ms,
			   pid1_module_loader load, int *loaded, struct si_diag *d)
{
	struct loader w[MODULE_JOBS];
	struct slowest slow = { { -1, -1, -1 }, { 0 } };
	double t0 = uptime_ms();
	int nw = jobs(), r = 0, i, busy = 0, ndone = 0, ms;
	bool left = false;

	for (i = 0; i < nw; i++)
		w[i].pid = -1;
	if (nw > l->n)
		nw = l->n;
	for (i = 0; i < nw; i++) {
		r = loader_start(w, i, l, load);
		if (r < 0) {
			si_diag_set(d, "loading the modules of %s: starting a loader: %s", file,
				    strerror(-r));
			goto out;
		}
	}
	while (ndone < l->n) {
		struct pollfd pfd[MODULE_JOBS];
		int k;

		/* Hand every idle loader a line that is ready. */
		for (i = 0; i < nw; i++) {
			if (w[i].mod >= 0 || (k = next_ready(l)) < 0)
				continue;
			l->m[k].started = true;
			l->m[k].t0 = uptime_ms();
			w[i].mod = k;
			busy++;
			if (write(w[i].to, &k, sizeof(k)) != (ssize_t)sizeof(k))
				goto died;
		}
		ms = deadline_ms - (int)(uptime_ms() - t0);
		if (ms <= 0) {
			const char *path = file;
			char more[48] = "";

			for (i = nw - 1; i >= 0; i--)
				if (w[i].mod >= 0)
					path = l->m[w[i].mod].path;
			if (busy > 1)
				snprintf(more, sizeof(more), ", nor %d other load%s", busy - 1,
					 busy == 2 ? "" : "s");
			loaders_stop(w, nw, &left);
			si_diag_set(d, "loading module %.300s did not finish within %d ms%s%s (a TPM "
				    "driver waiting on tee-supplicant?)", path, deadline_ms, more,
				    left ? "; a process did not end after SIGKILL: left behind" : "");
			return -ETIMEDOUT;
		}
		for (i = 0; i < nw; i++) {
			pfd[i].fd = w[i].mod >= 0 ? w[i].from : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)nw, ms) < 0 && errno != EINTR) {
			r = -errno;
			si_diag_set(d, "loading the modules of %s: poll: %s", file, strerror(-r));
			goto out;
		}
		for (i = 0; i < nw; i++) {
			struct answer a;
			struct mod *m;

			if (!pfd[i].revents)
				continue;
			if (read(w[i].from, &a, sizeof(a)) != (ssize_t)sizeof(a) || a.mod != w[i].mod)
				goto died;
			m = &l->m[a.mod];
			m->done = true;
			w[i].mod = -1;
			busy--;
			ndone++;
			slowest_note(&slow, a.mod, uptime_ms() - m->t0);
			if (a.r < 0)
				say(4, "module %s: %s", m->path, strerror(-a.r));
			else
				(*loaded)++;
		}
	}
	slowest_say(file, l, &slow, t0);
	goto out;
died:
	/* A loader that broke off (the loader crashed): by the module it was
	 * loading, and how it ended. */
	{
		int status = 0;
		const char *path = w[i].mod >= 0 ? l->m[w[i].mod].path : file;

		close(w[i].to);
		close(w[i].from);
		if (si_reap_bounded(w[i].pid, SI_REAP_MS, &status) < 0) {
			kill(w[i].pid, SIGKILL);
			(void)si_reap_bounded(w[i].pid, SI_REAP_MS, &status);
		}
		w[i].pid = -1;
		si_diag_set(d, "loading module %.400s: its process died (%s %d)", path,
			    WIFSIGNALED(status) ? "signal" : "status",
			    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		r = -EIO;
	}
out:
	/* What else was loading is stopped: the boot goes to its failure
	 * policy, and a load left running would race the rescue shell. */
	loaders_stop(w, nw, &left);
	return r;
}

int pid1_load_modules_with(const char *file, int deadline_ms, pid1_module_loader load,
			   struct si_diag *d)
{
	static char list[SI_TEXTFILE_CONFIG_MAX + 1];
	static struct modlist l;
	int loaded = 0, r, i;

	/* Missing: this initramfs loads no modules. Cut or unreadable: the
	 * boot would go on without a driver it was built to load. */
	r = si_textfile_read(file, list, sizeof(list), d);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = parse_modlist(file, list, &l, d);
	if (r < 0)
		return r;
	if (deadline_ms > 0) {
		r = load_concurrent(file, &l, deadline_ms, load, &loaded, d);
		if (r < 0)
			return r;
	} else {
		/* Inside a worker that bounds it (failrec.c): one at a time. */
		for (i = 0; i < l.n; i++) {
			r = load(l.m[i].path);
			if (r < 0)
				say(4, "module %s: %s", l.m[i].path, strerror(-r));
			else
				loaded++;
		}
	}
	say(6, "loaded %d modules from %s", loaded, file);
	return 0;
}

int pid1_load_modules(const char *file, struct si_diag *d)
{
	return pid1_load_modules_with(file, 0, pid1_finit_module, d);
}

/*
 * Jetson's firmware TPM lives in OP-TEE, which reaches its storage through
 * tee-supplicant: the supplicant must run before the fTPM driver (listed
 * in modules.late) loads. It is stopped again once the PCRs are capped;
 * the real root starts its own. PID 1's direct child (no -d): its exit is
 * seen, and it is stopped by its PID.
 */
pid_t pid1_start_helper(const char *path, const char *arg)
{
	pid_t pid;

	if (!path[0])
		return 0;
	pid = fork();
	if (pid == 0) {
		char *const argv[] = { (char *)path, (char *)arg, NULL };

		setsid();
		execve(argv[0], argv, helper_env);
		_exit(127);
	}
	if (pid < 0) {
		int r = -errno;

		say(3, "starting %s: %s", path, strerror(-r));
		return r;
	}
	helper_pid = pid;
	say(6, "started %s%s%s (pid %d)", path, arg ? " " : "", arg ? arg : "", (int)pid);
	return pid;
}

/* pid holds dev open: one of /proc/PID/fd/ links to it. */
static bool holds_open(pid_t pid, const char *dev)
{
	char dir[32], link[SI_PATH_MAX];
	struct dirent *e;
	bool found = false;
	DIR *dp;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	dp = opendir(dir);
	if (!dp)
		return false;
	while (!found && (e = readdir(dp))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(dp), e->d_name, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		found = !strcmp(link, dev);
	}
	closedir(dp);
	return found;
}

int pid1_helper_ready(pid_t pid, const char *what, const char *dev, int timeout_ms,
		      struct si_diag *d)
{
	double t0 = uptime_ms();

	for (;;) {
		int status = 0, waited;
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid) {
			if (pid == helper_pid)
				helper_pid = -1;
			if (WIFSIGNALED(status))
				si_diag_set(d, "%s was killed by signal %d (%s) before it opened %s", what,
					    WTERMSIG(status), strsignal(WTERMSIG(status)), dev);
			else
				si_diag_set(d, "%s exited with status %d before it opened %s", what,
					    WEXITSTATUS(status), dev);
			return -ECHILD;
		}
		if (w < 0 && errno != EINTR) {
			int r = -errno;

			si_diag_set(d, "waiting for %s (pid %d) to open %s: %s", what, (int)pid, dev,
				    strerror(-r));
			return r;
		}
		waited = (int)(uptime_ms() - t0);
		if (holds_open(pid, dev)) {
			say(6, "%s holds %s open (after %d ms)", what, dev, waited);
			return 0;
		}
		if (waited >= timeout_ms) {
			si_diag_set(d, "%s did not open %s within %d ms (it still runs, pid %d)", what,
				    dev, timeout_ms, (int)pid);
			return -ETIMEDOUT;
		}
		sleep_ms(READY_POLL_MS);
	}
}

/* Bounded: TERM, up to a second, then KILL and up to another second. A
 * supplicant stuck in the TEE driver may not die even of KILL: it is left
 * behind (core/worker.h, si_reap_bounded), and its PID forgotten. */
/* What is left of the group once its leader ended: killed, and those
 * that were its children (now PID 1's) reaped, within SI_REAP_MS. */
static void reap_group(pid_t pgid)
{
	int waited;

	kill(-pgid, SIGKILL);
	for (waited = 0; waited < SI_REAP_MS; waited += 10) {
		pid_t r = waitpid(-pgid, NULL, WNOHANG);

		if (r < 0)
			return;
		if (r == 0)
			poll(NULL, 0, 10);
	}
	say(4, "processes of the helper's group (%d) still run after SIGKILL: left behind",
	    (int)pgid);
}

void pid1_stop_helper(void)
{
	int status;

	if (helper_pid <= 0)
		return;
	/* Its whole process group (setsid() made it the leader): a wrapper
	 * script's children, or a supplicant's own, must not keep files
	 * open in the store that is unmounted next. */
	kill(-helper_pid, SIGTERM);
	if (si_reap_bounded(helper_pid, SI_REAP_MS, &status) < 0) {
		kill(-helper_pid, SIGKILL);
		if (si_reap_bounded(helper_pid, SI_REAP_MS, &status) < 0)
			say(4, "the helper (pid %d) did not end after SIGKILL: left behind",
			    (int)helper_pid);
	}
	reap_group(helper_pid);
	helper_pid = -1;
}

/*
 * Resolve a device spec to a path: 0 once exactly one device answers to it,
 * -ENOENT while none does, -ENOTUNIQ when several do (their names in
 * dups). A TAG=value is matched against every block device libblkid can
 * probe, not the first it finds: a second disk with the same PARTLABEL or
 * UUID (a USB stick, a copied image) must not decide which one is opened.
 */
static int resolve(const char *spec, char *out, size_t size, char *dups, size_t dsize)
{
	char tag[16], value[SI_PATH_MAX];
	const char *eq = strchr(spec, '=');
	size_t tl = eq ? (size_t)(eq - spec) : 0, dl = 0;
	blkid_cache cache = NULL;
	blkid_dev_iterate it;
	blkid_dev dev;
	struct stat st;
	int n = 0;

	if (spec[0] == '/') {
		if (stat(spec, &st) < 0)
			return -ENOENT;
		snprintf(out, size, "%s", spec);
		return 0;
	}
	if (!eq || tl >= sizeof(tag) || strlen(eq + 1) >= sizeof(value))
		return -EINVAL;
	memcpy(tag, spec, tl);
	tag[tl] = '\0';
	snprintf(value, sizeof(value), "%s", eq + 1);
	/* libblkid probes /proc/partitions itself: no udev needed. */
	if (blkid_get_cache(&cache, "/dev/null") < 0)
		return -ENOMEM;
	blkid_probe_all(cache);
	it = blkid_dev_iterate_begin(cache);
	if (it && blkid_dev_set_search(it, tag, value) == 0) {
		while (blkid_dev_next(it, &dev) == 0) {
			const char *name;

			dev = blkid_verify(cache, dev);
			if (!dev || !(name = blkid_dev_devname(dev)) || stat(name, &st) < 0)
				continue;
			if (!n)
				snprintf(out, size, "%s", name);
			if (dl < dsize)
				dl += (size_t)snprintf(dups + dl, dsize - dl, "%s%s", n ? ", " : "", name);
			n++;
		}
	}
	blkid_dev_iterate_end(it);
	blkid_put_cache(cache);
	return n == 1 ? 0 : n ? -ENOTUNIQ : -ENOENT;
}

int pid1_wait_for(const char *what, const char *spec, char *out, size_t size, int timeout_ms,
		  struct si_diag *d)
{
	double t0 = uptime_ms();
	char dups[256] = "";
	int last = 0;

	for (;;) {
		int waited = (int)(uptime_ms() - t0), r = resolve(spec, out, size, dups, sizeof(dups));

		if (r == 0) {
			if (waited > 100)
				say(6, "%s %s is %s (after %d ms)", what, spec, out, waited);
			return 0;
		}
		if (r == -ENOTUNIQ) {
			si_diag_set(d, "%s %s matches more than one device (%s): refusing to guess which "
				    "one to trust", what, spec, dups);
			return r;
		}
		if (waited >= timeout_ms) {
			si_diag_set(d, "%s %s did not appear within %d ms", what, spec, timeout_ms);
			return -ETIMEDOUT;
		}
		if (waited / 1000 > last) {
			last = waited / 1000;
			say(5, "waiting for %s %s (%d/%d s)", what, spec, last, timeout_ms / 1000);
		}
		sleep_ms(POLL_MS);
	}
}

int pid1_still_unique(const char *what, const char *spec, const char *path, struct si_diag *d)
{
	char now[SI_PATH_MAX], dups[256] = "";
	int r = resolve(spec, now, sizeof(now), dups, sizeof(dups));

	if (r == -ENOTUNIQ) {
		si_diag_set(d, "%s %s matches more than one device now (%s): refusing to guess which "
			    "one to trust", what, spec, dups);
		return r;
	}
	if (r < 0 || strcmp(now, path)) {
		si_diag_set(d, "%s %s is no longer %s", what, spec, path);
		return r < 0 ? r : -ENODEV;
	}
	return 0;
}

int pid1_mount(const char *src, const char *dst, const char *type, unsigned long flags,
	       const char *what, struct si_diag *d)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, flags, NULL) < 0) {
		int r = -errno;

		si_diag_set(d, "mounting %s %s on %s (%s): %s", what, src, dst, type, strerror(-r));
		return r;
	}
	return 0;
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

/*
 * Deleting the initramfs is only right for the initramfs: busybox's
 * switch_root makes the same three checks before it deletes anything. On
 * any other root (sealinit started by mistake on a real system, or a new
 * root that is the same filesystem) it would delete real files.
 */
int pid1_switch_root_verdict(const struct pid1_root_facts *f, const char *newroot,
			     struct si_diag *d)
{
	if (f->pid != 1) {
		si_diag_set(d, "switch_root: not PID 1 (pid %d); refusing to delete the root's files",
			    (int)f->pid);
		return -EPERM;
	}
	if (f->root_fstype != RAMFS_MAGIC && f->root_fstype != TMPFS_MAGIC) {
		si_diag_set(d, "switch_root: / is not the initramfs (filesystem magic 0x%lx, "
			    "expected ramfs or tmpfs); refusing to delete its files", f->root_fstype);
		return -EINVAL;
	}
	if (f->newroot_dev == f->root_dev) {
		si_diag_set(d, "switch_root: %s is not a mount of its own (same device as /)",
			    newroot);
		return -EINVAL;
	}
	return 0;
}

static int switch_root_ok(const char *newroot, struct stat *root, struct si_diag *d)
{
	struct pid1_root_facts f = { .pid = getpid() };
	struct statfs fs;
	struct stat nr;

	if (stat("/", root) < 0 || statfs("/", &fs) < 0) {
		si_diag_set(d, "switch_root: cannot stat /: %s", strerror(errno));
		return -errno;
	}
	if (stat(newroot, &nr) < 0) {
		si_diag_set(d, "switch_root: %s: %s", newroot, strerror(errno));
		return -errno;
	}
	f.root_fstype = (unsigned long)fs.f_type;
	f.root_dev = root->st_dev;
	f.newroot_dev = nr.st_dev;
	return pid1_switch_root_verdict(&f, newroot, d);
}

int pid1_switch_root(const char *newroot, const char *init, double t_start, struct si_diag *d)
{
	static const char *const moves[] = { "/dev", "/proc", "/sys", "/run" };
	char *const argv[] = { (char *)init, NULL };
	struct stat root;
	size_t i;
	int fd, r;

	r = switch_root_ok(newroot, &root, d);
	if (r < 0)
		return r;
	for (i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
		char dst[SI_PATH_MAX + 8];

		snprintf(dst, sizeof(dst), "%s%s", newroot, moves[i]);
		if (mount(moves[i], dst, NULL, MS_MOVE, NULL) < 0) {
			say(4, "moving %s into the new root: %s; detaching it", moves[i], strerror(errno));
			umount2(moves[i], MNT_DETACH);
		}
	}
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		delete_tree(fd, root.st_dev);
	if (chdir(newroot) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0) {
		si_diag_set(d, "switching to the new root: %s", strerror(errno));
		return -errno;
	}
	say(5, "[%8.3f] switch_root to %s (%.0f ms in sealinit)", uptime_ms() / 1e3, init,
	    uptime_ms() - t_start);
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	execve(init, argv, init_env);
	r = -errno;
	kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	si_diag_set(d, "starting the real init %s: %s", init, strerror(-r));
	return r;
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
		execve(argv[0], argv, helper_env);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

void pid1_fail(const struct si_bootcfg *c, const struct si_diag *d)
{
	const char *cause = d->msg[0] ? d->msg : "unknown cause";
	int i, delay;

	/* /dev/kmsg passes 10 records per 5 s per open file (the kernel's
	 * default printk.devkmsg=ratelimit), and a boot at loglevel 7 has used
	 * them up by here: a fresh file, so that the verdict reaches the kernel
	 * log. */
	if (kmsg_fd >= 0) {
		close(kmsg_fd);
		kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	}
	loglevel = loglevel < 2 ? 2 : loglevel;
	say(2, "FAILED: %s", cause);
	say(2, "the data volume stays locked; failure policy: %s",
	    c->failure == SI_FAIL_REBOOT ? "reboot" : c->failure == SI_FAIL_HALT ? "halt" :
	    c->failure == SI_FAIL_SHELL ? "rescue shell" : "power off");
	/* The console may have nobody in front of it: keep the cause where
	 * the next boot and the booted system read it (bounded). */
	delay = failrec_boot_failed(c, cause);
	if (c->failure == SI_FAIL_SHELL)
		rescue_shell();
	if (c->failure == SI_FAIL_REBOOT && delay > 0)
		say(2, "rebooting in %d s (failure_delay=%d, doubled for each failed boot in a row); "
		    "to hold a reboot loop, boot with sealinit.failure_delay=3600 (docs/boot.md)",
		    delay, c->failure_delay_s);
	for (i = delay; i > 0 && c->failure == SI_FAIL_REBOOT; i--) {
		if (i < delay && (i % 5 == 0 || i <= 3))
			say(2, "rebooting in %d s", i);
		sleep_ms(1000);
	}
	sync();
	if (c->failure == SI_FAIL_HALT)
		reboot(RB_HALT_SYSTEM);
	else if (c->failure == SI_FAIL_POWEROFF)
		reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);
	/* PID 1 must not return; if the kernel refused to stop, stay here. */
	for (;;)
		pause();
}
