/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/errors.h"
#include "core/pcrs.h"
#include "core/tpm/pcr.h"
#include "core/tpm/tpm.h"
#include "core/worker.h"

struct pcr_job {
	const struct si_pcr_opts *o;
	const void *data;
	size_t len;
	int op;
	const struct si_pcr_ev *ev;
	size_t nev;
};

enum { JOB_EVENT, JOB_READ, JOB_EVENTS };

static int pcr_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	const struct pcr_job *j = arg;
	struct si_pcr_values *v = out;
	struct si_tpm *tpm = NULL;
	unsigned int i;
	int r;

	(void)w;
	r = si_tpm_open(j->o->tcti, j->o->timeout_ms, &tpm, d);
	if (r < 0)
		return r;
	if (j->op == JOB_READ) {
		r = si_tpm_pcr_read(tpm, j->o->bank, j->o->pcr_mask, v->values, sizeof(v->values),
				    &v->len, d);
	} else if (j->op == JOB_EVENTS) {
		for (i = 0; r == 0 && i < j->nev; i++)
			r = si_tpm_pcr_event(tpm, j->ev[i].pcr, j->ev[i].data, j->ev[i].len, d);
	} else {
		if (j->o->verify)
			r = si_tpm_pcr_extend_verified(tpm, j->o->pcr_mask, j->data, j->len, d);
		for (i = 0; !j->o->verify && r == 0 && i < SI_PCR_COUNT; i++)
			if (j->o->pcr_mask & (UINT32_C(1) << i))
				r = si_tpm_pcr_event(tpm, i, j->data, j->len, d);
	}
	si_tpm_close(tpm);
	return r;
}

static int run(struct pcr_job *j, struct si_pcr_values *v, struct si_diag *d)
{
	const struct si_work w = {
		.fn = pcr_work, .arg = j, .out = v, .out_size = v ? sizeof(*v) : 0,
		.deadline_ms = j->o->timeout_ms, .timeout_code = -SI_ENOTPM, .noun = "the TPM",
	};

	return si_worker_run(&w, d);
}

int si_pcr_event(const struct si_pcr_opts *o, const void *data, size_t len, struct si_diag *d)
{
	struct pcr_job j = { o, data, len, JOB_EVENT, NULL, 0 };

	return run(&j, NULL, d);
}

int si_pcr_events(const struct si_pcr_opts *o, const struct si_pcr_ev *ev, size_t n,
		  struct si_diag *d)
{
	struct pcr_job j = { o, NULL, 0, JOB_EVENTS, ev, n };

	return run(&j, NULL, d);
}

int si_pcr_read(const struct si_pcr_opts *o, struct si_pcr_values *v, struct si_diag *d)
{
	struct pcr_job j = { o, NULL, 0, JOB_READ, NULL, 0 };

	memset(v, 0, sizeof(*v));
	return run(&j, v, d);
}
