/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_WORKER_H
#define SEALINIT_WORKER_H

#include <stddef.h>
#include <sys/types.h>

struct si_diag;
struct si_worker;

/*
 * Run work that may block in a child process under a deadline. The TSS's
 * own waits are not all bounded (a silent TPM can block a write or a
 * control exchange forever, and the Jetson fTPM driver waits on OP-TEE
 * without a timeout), and a network fetch has its own ways to stall, so
 * the only wait that is always bounded is the parent's: when the deadline
 * passes, the child is killed and the caller gets its own timeout code.
 * A child that SIGKILL does not end within SI_REAP_MS is left behind
 * (si_reap_bounded), and the diag says so. Secrets stay in the child;
 * only the result comes back.
 *
 * The child may ask the parent for a PIN; time spent waiting for the
 * person at the console does not count against the deadline.
 */
typedef int (*si_work_fn)(void *arg, struct si_worker *w, void *out, struct si_diag *diag);
typedef int (*si_ask_fn)(void *ctx, char *buf, size_t size);

struct si_work {
	si_work_fn fn;
	void *arg;
	void *out;              /* the child's result struct, copied back */
	size_t out_size;        /* at most 2048 bytes */
	int deadline_ms;
	/* What a passed deadline is: the code returned (-SI_ENOTPM for TPM
	 * work), and the noun and verb of the diag "NOUN did not VERB within
	 * N ms" (verb NULL: "answer"). */
	int timeout_code;
	const char *noun;
	const char *verb;
	si_ask_fn ask_pin;      /* NULL: a PIN request fails with -SI_ENOPIN */
	void *ask_ctx;
};

int si_worker_run(const struct si_work *w, struct si_diag *diag);

/*
 * The same work in two halves, for a child that prepares while the parent
 * does something else: si_worker_start forks it at once; the child may do
 * its preparation and then wait at si_worker_gate, which returns only once
 * the parent is in si_worker_wait (0), or fails when the parent abandons
 * it (the child must then stop without doing what the gate guards).
 * si_worker_wait is si_worker_run's wait, the deadline counted from its
 * call, not from the start; si_worker_abandon kills the child and reaps it
 * bounded. Either one ends the job; a job not started (r < 0) needs
 * neither.
 */
struct si_worker_job {
	struct si_work w;
	pid_t pid;
	int up, down;           /* the pipes' parent ends */
};

int si_worker_start(struct si_worker_job *job, const struct si_work *w);
int si_worker_wait(struct si_worker_job *job, struct si_diag *diag);
void si_worker_abandon(struct si_worker_job *job);

/* In the child: wait until the parent is in si_worker_wait (0), or learn
 * that it never will be (-EIO: abandoned, or a parent that died). */
int si_worker_gate(void *worker);

/*
 * Reap a child that has been told to end (SIGKILL, or its result is in),
 * waiting at most about ms: 0 and its status once it is gone, -ETIMEDOUT
 * when it is still there, or -errno. A process in uninterruptible sleep
 * (a driver waiting on OP-TEE without a timeout) does not die of SIGKILL
 * until the driver lets it go, and PID 1 cannot wait for that: such a
 * child is abandoned. It stays PID 1's child, holding its PID as a live
 * process and then as a zombie (PID 1 never waits for any child but the
 * one it names), so the number cannot be reused while the boot runs; the
 * real init reaps it after switch_root. A caller forgets the PID at once.
 */
#define SI_REAP_MS 1000
int si_reap_bounded(pid_t pid, int ms, int *status);

/* CLOCK_MONOTONIC in milliseconds: for deadlines and for timing steps. */
long long si_now_ms(void);

/* In the child: ask the parent for a PIN. Same contract as si_ask_fn. */
int si_worker_get_pin(void *worker, char *buf, size_t size);

#endif
