/* SPDX-License-Identifier: MIT */
/* core/worker.c: the result comes back; a passed deadline is the caller's
 * code and noun, not the TPM's; a PIN request is answered by the parent.
 * The reap after a kill is bounded: a child that does not end (stopped
 * here, as one in uninterruptible sleep in a driver would be) is left
 * behind within the bound, and one that exits is reaped with its status. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_deadline_is_the_callers),
		cmocka_unit_test(test_pin_relay),
		cmocka_unit_test(test_bad_spec),
		cmocka_unit_test(test_reap_abandons_stuck_child),
		cmocka_unit_test(test_reap_exited_child),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
