/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/secret.h"
#include "core/worker.h"

#define PIN_MAX 256
#define OUT_MAX 2048

enum { MSG_PIN_REQUEST = 1, MSG_RESULT = 2, MSG_GATE = 3 };

struct result_msg {
	uint32_t type;
	int32_t r;
	struct si_diag diag;
	uint8_t out[OUT_MAX] __attribute__((aligned(16))); /* fn writes a struct here */
};

struct pin_reply {
	int32_t r;
	char pin[PIN_MAX];
};

struct si_worker {
	int to_parent;
	int from_parent;
};

/* Move exactly len bytes through a pipe, or fail (EOF counts as failure). */
static int xfer_all(int fd, void *buf, size_t len, int writing)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	return xfer_all(fd, (void *)buf, len, 1);
}

static int read_all(int fd, void *buf, size_t len)
{
	return xfer_all(fd, buf, len, 0);
}

int si_worker_get_pin(void *worker, char *buf, size_t size)
{
	struct si_worker *w = worker;
	struct pin_reply *rep;
	uint32_t type = MSG_PIN_REQUEST;
	int r;

	rep = si_secret_alloc(sizeof(*rep));
	if (!rep)
		return -ENOMEM;
	r = write_all(w->to_parent, &type, sizeof(type));
	if (r == 0)
		r = read_all(w->from_parent, rep, sizeof(*rep));
	if (r == 0)
		r = rep->r;
	if (r == 0) {
		rep->pin[PIN_MAX - 1] = '\0';
		if (strlen(rep->pin) >= size)
			r = -E2BIG;
		else
			memcpy(buf, rep->pin, strlen(rep->pin) + 1);
	}
	si_secret_free(rep);
	return r;
}

int si_worker_gate(void *worker)
{
	struct si_worker *w = worker;
	uint32_t type = MSG_GATE;
	int32_t go = -EIO;

	if (write_all(w->to_parent, &type, sizeof(type)) < 0 ||
	    read_all(w->from_parent, &go, sizeof(go)) < 0)
		return -EIO;
	return go == 0 ? 0 : -EIO;
}

static void child(int to_parent, int from_parent, si_work_fn fn, void *arg)
{
	struct si_worker self = { to_parent, from_parent };
	struct result_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.type = MSG_RESULT;
	msg.r = fn(arg, &self, msg.out, &msg.diag);
	(void)write_all(to_parent, &msg, sizeof(msg));
	_exit(0);
}

long long si_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int si_reap_bounded(pid_t pid, int ms, int *status)
{
	long long deadline = si_now_ms() + ms;
	long tick_ns = 50 * 1000L;
#ifdef SYS_pidfd_open
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
#else
	int pfd = -1;
#endif

	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		long long left;

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			w = -errno;
			if (pfd >= 0)
				close(pfd);
			return (int)w;
		}
		left = deadline - si_now_ms();
		if (left <= 0) {
			if (pfd >= 0)
				close(pfd);
			return -ETIMEDOUT;
		}
		if (pfd >= 0) {
			/* Readable once the child has exited: no latency, no
			 * polling, on every worker of the boot. */
			struct pollfd p = { .fd = pfd, .events = POLLIN };

			(void)poll(&p, 1, (int)left);
		} else {
			/* No pidfd (a kernel before 5.3): back off from 50 us. */
			struct timespec t = { 0, tick_ns };

			nanosleep(&t, NULL);
			if (tick_ns < 10 * 1000000L)
				tick_ns *= 2;
		}
	}
	if (pfd >= 0)
		close(pfd);
	return 0;
}

/* SIGKILL, then a bounded reap: 0 and the status, or -ETIMEDOUT when the
 * child is left behind. */
static int kill_and_reap(pid_t pid, int *status)
{
	kill(pid, SIGKILL);
	return si_reap_bounded(pid, SI_REAP_MS, status);
}

#define LEFT_BEHIND "and its process did not end after SIGKILL: left behind"

static int answer_pin(int fd, si_ask_fn ask, void *ctx)
{
	struct pin_reply *rep = si_secret_alloc(sizeof(*rep));
	int r;

	if (!rep)
		return -ENOMEM;
	memset(rep, 0, sizeof(*rep));
	rep->r = ask ? ask(ctx, rep->pin, sizeof(rep->pin)) : -SI_ENOPIN;
	r = write_all(fd, rep, sizeof(*rep));
	si_secret_free(rep);
	return r;
}

static void close_job(struct si_worker_job *job)
{
	if (job->up >= 0)
		close(job->up);
	if (job->down >= 0)
		close(job->down);
	job->up = job->down = -1;
	job->pid = -1;
}

int si_worker_start(struct si_worker_job *job, const struct si_work *w)
{
	int up[2] = { -1, -1 }, down[2] = { -1, -1 }, r, i;
	pid_t pid;

	job->pid = -1;
	job->up = job->down = -1;
	if (w->out_size > OUT_MAX || !w->noun || w->timeout_code >= 0)
		return -EINVAL;
	job->w = *w;
	if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto fail;
	}
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		child(up[1], down[0], w->fn, w->arg);
	}
	close(up[1]);
	close(down[0]);
	job->pid = pid;
	job->up = up[0];
	job->down = down[1];
	return 0;
fail:
	for (i = 0; i < 2; i++) {
		if (up[i] >= 0)
			close(up[i]);
		if (down[i] >= 0)
			close(down[i]);
	}
	return r;
}

void si_worker_abandon(struct si_worker_job *job)
{
	int status;

	if (job->pid <= 0)
		return;
	/* Closing the pipes first: a child at the gate reads EOF, and one
	 * past it cannot send anything more. Then it is killed whatever it
	 * does; a child left behind is PID 1's to reap (si_reap_bounded). */
	close(job->down);
	job->down = -1;
	(void)kill_and_reap(job->pid, &status);
	close_job(job);
}

int si_worker_wait(struct si_worker_job *job, struct si_diag *d)
{
	const struct si_work *w = &job->w;
	long long budget = w->deadline_ms, start;
	struct result_msg msg;
	pid_t pid = job->pid;
	int status, r;

	if (pid <= 0)
		return -EINVAL;
	for (;;) {
		struct pollfd pfd = { .fd = job->up, .events = POLLIN };
		uint32_t type;
		int n;

		start = si_now_ms();
		n = poll(&pfd, 1, budget > 0 ? (int)budget : 0);
		if (n < 0 && errno == EINTR) {
			budget -= si_now_ms() - start;
			continue;
		}
		if (n <= 0) {
			const char *verb = w->verb ? w->verb : "answer";

			if (kill_and_reap(pid, &status) < 0)
				si_diag_set(d, "%s did not %s within %d ms " LEFT_BEHIND, w->noun, verb,
					    w->deadline_ms);
			else
				si_diag_set(d, "%s did not %s within %d ms", w->noun, verb,
					    w->deadline_ms);
			r = w->timeout_code;
			goto out;
		}
		budget -= si_now_ms() - start;
		if (read_all(job->up, &type, sizeof(type)) < 0)
			goto died;
		if (type == MSG_PIN_REQUEST) {
			/* The person at the console is not the TPM: stop the clock. */
			if (answer_pin(job->down, w->ask_pin, w->ask_ctx) < 0)
				goto died;
			continue;
		}
		if (type == MSG_GATE) {
			const int32_t go = 0;

			if (write_all(job->down, &go, sizeof(go)) < 0)
				goto died;
			continue;
		}
		if (type != MSG_RESULT)
			goto died;
		msg.type = type;
		if (read_all(job->up, (uint8_t *)&msg + sizeof(type), sizeof(msg) - sizeof(type)) < 0)
			goto died;
		/* The result is in: the child only has to exit. One that cannot
		 * (stuck closing a device) is not waited for either. */
		if (si_reap_bounded(pid, SI_REAP_MS, &status) < 0)
			(void)kill_and_reap(pid, &status);
		if (d)
			*d = msg.diag;
		if (w->out && w->out_size)
			memcpy(w->out, msg.out, w->out_size);
		r = msg.r;
		goto out;
	}
died:
	if (kill_and_reap(pid, &status) < 0)
		si_diag_set(d, "the worker for %s broke off " LEFT_BEHIND, w->noun);
	else
		si_diag_set(d, "the worker for %s died (%s %d)", w->noun,
			    WIFSIGNALED(status) ? "signal" : "status",
			    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	r = -EIO;
out:
	close_job(job);
	return r;
}

int si_worker_run(const struct si_work *w, struct si_diag *d)
{
	struct si_worker_job job;
	int r;

	r = si_worker_start(&job, w);
	return r < 0 ? r : si_worker_wait(&job, d);
}
