/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_WORKER_H
#define SEALINIT_WORKER_H

#include <stddef.h>

struct si_diag;
struct si_worker;

/*
 * Run work that may block in a child process under a deadline. The TSS's
 * own waits are not all bounded (a silent TPM can block a write or a
 * control exchange forever, and the Jetson fTPM driver waits on OP-TEE
 * without a timeout), and a network fetch has its own ways to stall, so
 * the only wait that is always bounded is the parent's: when the deadline
 * passes, the child is killed and the caller gets its own timeout code.
 * Secrets stay in the child; only the result comes back.
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
	 * work), and the noun of the diag "NOUN did not answer within N ms". */
	int timeout_code;
	const char *noun;
	si_ask_fn ask_pin;      /* NULL: a PIN request fails with -SI_ENOPIN */
	void *ask_ctx;
};

int si_worker_run(const struct si_work *w, struct si_diag *diag);

/* In the child: ask the parent for a PIN. Same contract as si_ask_fn. */
int si_worker_get_pin(void *worker, char *buf, size_t size);

#endif
