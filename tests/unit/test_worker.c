/* SPDX-License-Identifier: MIT */
/* core/worker.c: the result comes back; a passed deadline is the caller's
 * code and noun, not the TPM's; a PIN request is answered by the parent.
 * The reap after a kill is bounded: a child that does not end (stopped
 * here, as one in uninterruptible sleep in a driver would be) is left
 * behind within the bound, and one that exits is reaped with its status.
 * The early start's gate holds until the parent waits, and an abandoned
 * child never passes it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/errors.h"
#include "core/worker.h"

struct out {
	int value;
	char pin[16];
};

static int quick(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	struct out *o = out;

	(void)w;
	o->value = *(int *)arg * 2;
	si_diag_set(d, "done in the child");
	return 0;
}

static int stall(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	struct timespec ts = { 30, 0 };

	(void)arg; (void)w; (void)out; (void)d;
	nanosleep(&ts, NULL);
	return 0;
}

static int wants_pin(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	struct out *o = out;

	(void)arg; (void)d;
	return si_worker_get_pin(w, o->pin, sizeof(o->pin));
}

static int answer(void *ctx, char *buf, size_t size)
{
	(void)ctx;
	snprintf(buf, size, "1234");
	return 0;
}

/* Positive control: the child's result and diag reach the parent. */
static void test_result(void **state)
{
	int in = 21;
	struct out o = { 0 };
	struct si_diag d = { { 0 } };
	const struct si_work w = {
		.fn = quick, .arg = &in, .out = &o, .out_size = sizeof(o), .deadline_ms = 5000,
		.timeout_code = -SI_ENOTPM, .noun = "the TPM",
	};

	(void)state;
	assert_int_equal(si_worker_run(&w, &d), 0);
	assert_int_equal(o.value, 42);
	assert_string_equal(d.msg, "done in the child");
}

/* A stalled legacy fetch is a legacy timeout, named as such. */
static void test_deadline_is_the_callers(void **state)
{
	struct si_diag d = { { 0 } };
	const struct si_work w = {
		.fn = stall, .deadline_ms = 200, .timeout_code = -SI_ETIMEOUT,
		.noun = "the legacy key source",
	};

	(void)state;
	assert_int_equal(si_worker_run(&w, &d), -SI_ETIMEOUT);
	assert_string_equal(d.msg, "the legacy key source did not answer within 200 ms");
	assert_null(strstr(d.msg, "TPM"));
}

static void test_pin_relay(void **state)
{
	struct out o = { 0 };
	struct si_diag d = { { 0 } };
	struct si_work w = {
		.fn = wants_pin, .out = &o, .out_size = sizeof(o), .deadline_ms = 5000,
		.timeout_code = -SI_ENOTPM, .noun = "the TPM", .ask_pin = answer,
	};

	(void)state;
	assert_int_equal(si_worker_run(&w, &d), 0);
	assert_string_equal(o.pin, "1234");
	/* No one to ask: the child hears -SI_ENOPIN. */
	w.ask_pin = NULL;
	memset(&o, 0, sizeof(o));
	assert_int_equal(si_worker_run(&w, &d), -SI_ENOPIN);
}

static void test_bad_spec(void **state)
{
	struct si_diag d = { { 0 } };
	struct si_work w = { .fn = quick, .deadline_ms = 100, .timeout_code = -SI_ENOTPM };

	(void)state;
	assert_int_equal(si_worker_run(&w, &d), -EINVAL);   /* no noun */
	w.noun = "the TPM";
	w.timeout_code = 0;
	assert_int_equal(si_worker_run(&w, &d), -EINVAL);   /* a timeout must be an error */
}

static double elapsed_s(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The attack's stand-in: waitpid(pid, 0) would never return for a stopped
 * child (no WUNTRACED), as for one stuck in the TEE driver. The bounded
 * reap gives up within its bound instead of hanging. The upper bound is
 * generous: what is asserted is "returns", not a precise time. */
static void test_reap_abandons_stuck_child(void **state)
{
	struct timespec t0;
	siginfo_t si;
	int status = -1;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	assert_int_equal(kill(pid, SIGSTOP), 0);
	/* Wait until it is stopped, without consuming anything waitpid sees. */
	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WSTOPPED | WNOWAIT), 0);
	assert_int_equal(si.si_code, CLD_STOPPED);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(si_reap_bounded(pid, 300, &status), -ETIMEDOUT);
	assert_true(elapsed_s(&t0) < 10.0);
	/* Still there: it was abandoned, not reaped. */
	assert_int_equal(kill(pid, 0), 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* Positive control: a child that exits is reaped, with its status. */
static void test_reap_exited_child(void **state)
{
	int status = -1;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(7);
	assert_int_equal(si_reap_bounded(pid, 5000, &status), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
	/* Reaped: the PID is no longer this process's child. */
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
}

/* The early start's gate (si_worker_start): the child marks that it is at
 * the gate, then, past it, writes when it got through. */
static long long mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void mark(const char *dir, const char *name, long long value)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%lld\n", value);
		fclose(f);
	}
}

static void unmark(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	(void)remove(path);
}

static long long marked(const char *dir, const char *name)
{
	char path[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int gated(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	struct out *o = out;
	int r;

	(void)d;
	mark(arg, "at-gate", mono_ns());
	r = si_worker_gate(w);
	if (r == 0) {
		mark(arg, "passed", mono_ns());
		o->value = 1;
	}
	return r;
}

/* Wait (bounded) until the child is at its gate: what follows tests the
 * gate, not a child that had not got there yet. */
static void wait_at_gate(const char *dir)
{
	struct timespec t0, tick = { 0, 10 * 1000000L };

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (marked(dir, "at-gate") < 0 && elapsed_s(&t0) < 10.0)
		nanosleep(&tick, NULL);
	assert_true(marked(dir, "at-gate") > 0);
}

/* A gated child, started and at its gate, and 200 ms given to it to
 * (wrongly) go on; what it wrote is in g->dir. */
struct gated_run {
	char dir[32];
	struct out o;
	struct si_diag d;
	struct si_worker_job job;
	struct si_work w;
};

static void start_at_gate(struct gated_run *g)
{
	struct timespec pause_ = { 0, 200 * 1000000L };

	memset(g, 0, sizeof(*g));
	snprintf(g->dir, sizeof(g->dir), "/tmp/test_worker.XXXXXX");
	assert_non_null(mkdtemp(g->dir));
	g->w = (struct si_work){
		.fn = gated, .arg = g->dir, .out = &g->o, .out_size = sizeof(g->o),
		.deadline_ms = 5000, .timeout_code = -SI_ENOTPM, .noun = "the TPM",
	};
	assert_int_equal(si_worker_start(&g->job, &g->w), 0);
	wait_at_gate(g->dir);
	nanosleep(&pause_, NULL);
	assert_true(marked(g->dir, "passed") < 0);
}

static void end_gated(struct gated_run *g)
{
	unmark(g->dir, "at-gate");
	unmark(g->dir, "passed");
	(void)rmdir(g->dir);
}

/* Positive control and order: the child at the gate does not pass it
 * while the parent is elsewhere; it passes once the parent waits, and
 * only after the parent called si_worker_wait. */
static void test_gate_opens_in_wait(void **state)
{
	static struct gated_run g;
	long long t_wait;

	(void)state;
	start_at_gate(&g);
	t_wait = mono_ns();
	assert_int_equal(si_worker_wait(&g.job, &g.d), 0);
	assert_int_equal(g.o.value, 1);
	assert_true(marked(g.dir, "passed") >= t_wait);
	assert_int_equal(g.job.pid, -1);
	end_gated(&g);
}

/* The attack's stand-in: the boot failed before its measurements were
 * in. An abandoned child never gets past its gate, and is gone. */
static void test_abandon_never_passes_gate(void **state)
{
	struct timespec pause_ = { 0, 200 * 1000000L };
	static struct gated_run g;
	pid_t pid;

	(void)state;
	start_at_gate(&g);
	pid = g.job.pid;
	si_worker_abandon(&g.job);
	nanosleep(&pause_, NULL);
	assert_true(marked(g.dir, "passed") < 0);
	assert_int_equal(g.o.value, 0);
	/* Reaped: no longer this process's child. */
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(g.job.pid, -1);
	end_gated(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_deadline_is_the_callers),
		cmocka_unit_test(test_pin_relay),
		cmocka_unit_test(test_bad_spec),
		cmocka_unit_test(test_reap_abandons_stuck_child),
		cmocka_unit_test(test_reap_exited_child),
		cmocka_unit_test(test_gate_opens_in_wait),
		cmocka_unit_test(test_abandon_never_passes_gate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
