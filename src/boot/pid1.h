/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_BOOT_PID1_H
#define SEALINIT_BOOT_PID1_H

#include <stddef.h>
#include <sys/types.h>

struct si_bootcfg;
struct si_diag;

/*
 * The mechanics of being PID 1 in the initramfs: early mounts, the console
 * and kernel log, modules, bounded device waits, helper processes,
 * switch_root and the failure policy. Nothing here decides what is
 * measured or which key source runs.
 */

/* First thing as PID 1: drop the environment the kernel passed (every
 * unknown X=Y word of the command line) and set only what the boot needs
 * (PATH, TSS2_LOG=all+NONE). 0, or -errno if a variable could not be
 * set (the kernel's are gone either way). The programs PID 1 executes get
 * lists of their own: tee-supplicant and the rescue shell a PATH, the
 * real init pid1_init_environment(), never the kernel's words. */
int pid1_environment(void);
const char *const *pid1_init_environment(void);

/* Mount /proc, /sys, /dev, /run; open the console and /dev/kmsg. */
void pid1_early_mounts(void);

/* One line to the console and the kernel log, at a syslog level. */
void say(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pid1_set_loglevel(int level);
double uptime_ms(void);
/* Debug-level timing of a step that started at t0 (uptime_ms()). */
void step_done(const char *step, double t0);

/* Write a file the booted system reads (the boot's /run moves into the
 * new root), mode 0644: to a temporary name, then renamed, so that a reader
 * sees all of it or nothing. 0, or -errno after a warning naming path. */
int pid1_publish(const char *path, const char *text, size_t len);

/* finit_module every path listed in file, in this process, one at a
 * time; a missing list is no error, one that cannot be read whole
 * (core/textfile.h) is, by name. A module that does not load is a
 * warning: the wait for its device says more. Unbounded: only inside a
 * worker (failrec.c's efivarfs). */
int pid1_load_modules(const char *file, struct si_diag *d);

/* How one module is loaded: 0 (also when it is loaded already) or -errno. */
typedef int (*pid1_module_loader)(const char *path);
int pid1_finit_module(const char *path);

/* The same with a loader, and with deadline_ms > 0 in loader processes,
 * concurrently: a line "PATH: DEP..." loads once the earlier lines it
 * names have finished (a plain "PATH" after every line before it), the
 * whole list within deadline_ms. A load that does not finish in time
 * (the Jetson fTPM driver's probe blocks inside finit_module until OP-TEE
 * answers through tee-supplicant) fails with -ETIMEDOUT, naming the
 * module, instead of hanging PID 1; a loader that dies fails with -EIO,
 * naming it; a line naming no earlier line fails with -EINVAL before
 * anything loads. deadline_ms <= 0: in this process, one at a time, for
 * a caller that is itself a bounded worker (failrec.c). */
int pid1_load_modules_with(const char *file, int deadline_ms, pid1_module_loader load,
			   struct si_diag *d);
/* How many modules load at a time: 0 (the default) as many as the CPUs
 * PID 1 may run on, at most 8. For the tests. */
void pid1_set_module_jobs(int n);

/* Wait, bounded, for a device spec (path or TAG=value) to resolve to
 * exactly one existing node, with progress once a second: 0 and the path;
 * -ETIMEDOUT; or -ENOTUNIQ at once when several devices answer to it. The
 * diag names what, the spec and, for duplicates, every device. */
int pid1_wait_for(const char *what, const char *spec, char *out, size_t size, int timeout_ms,
		  struct si_diag *d);
/* Just before the device is used: the spec still resolves to path alone
 * (a second device may have appeared since the wait). */
int pid1_still_unique(const char *what, const char *spec, const char *path, struct si_diag *d);

/* A helper daemon for the boot stage only (Jetson's tee-supplicant), with
 * one argument or none (arg NULL): started as PID 1's child in its own
 * session; its PID, 0 when path is empty, or -errno. Stopped by
 * pid1_stop_helper: TERM, then KILL after 1 s, then left behind after
 * another second if it still has not ended. */
pid_t pid1_start_helper(const char *path, const char *arg);
void pid1_stop_helper(void);

/* Wait, bounded, until the child pid holds dev open (one of
 * /proc/PID/fd/ links to it), polling every 25 ms: tee-supplicant is
 * ready for the kernel's TEE clients once it holds /dev/teepriv0 open
 * (before that, the fTPM driver's session fails at once; after, requests
 * queue for it). 0; -ETIMEDOUT, "WHAT did not open DEV within N ms";
 * -ECHILD at once when it exits first, naming its status or signal (it
 * is reaped, and pid1_stop_helper forgets it). */
int pid1_helper_ready(pid_t pid, const char *what, const char *dev, int timeout_ms,
		      struct si_diag *d);

/* mkdir + mount, with a message naming what, source, target and type. */
int pid1_mount(const char *src, const char *dst, const char *type, unsigned long flags,
	       const char *what, struct si_diag *d);

/* What switch_root checks before it deletes anything, and the check
 * itself: PID 1, / on ramfs or tmpfs, newroot on another device. */
struct pid1_root_facts {
	pid_t pid;
	unsigned long root_fstype;     /* statfs f_type of / */
	dev_t root_dev, newroot_dev;
};

int pid1_switch_root_verdict(const struct pid1_root_facts *f, const char *newroot,
			     struct si_diag *d);

/* Move /dev, /proc, /sys, /run into newroot, empty the initramfs, make
 * newroot / and exec init. Refuses, by name, unless this is PID 1 on a
 * ramfs or tmpfs root and newroot is another mount. Returns only on
 * failure. */
int pid1_switch_root(const char *newroot, const char *init, double t_start, struct si_diag *d);

/* The failure policy: one FAILED line naming the cause, then power off,
 * halt, reboot after a delay, or a rescue shell. Never returns. The
 * caller has capped the PCRs. */
void pid1_fail(const struct si_bootcfg *c, const struct si_diag *d) __attribute__((noreturn));

#endif
