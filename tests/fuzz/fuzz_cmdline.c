/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the kernel command line as the kernel splits it
 * (core/events.c) and its measured form. Whatever is measured measures
 * again to itself (one form per command line), holds none of the bytes
 * the splitter refuses, and never more than the input; the cmdline=
 * check agrees with the comparison of the measured forms. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/events.h"

static int count(void *ctx, const struct si_cmdline_word *w)
{
	size_t *n = ctx;

	if (!w->len || w->key < w->word || w->key + w->key_len > w->word + w->len ||
	    (w->val && (w->val < w->key || w->val + w->val_len > w->word + w->len)))
		abort();
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char in[4096], out[4096], again[4096];
	struct si_diag d;
	size_t words = 0;
	int r;

	if (size >= sizeof(in))
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	(void)si_cmdline_words(in, count, &words, &d);
	r = si_cmdline_measured(in, "bl_prof_dataptr,quiet", out, sizeof(out), &d);
	if (r == 0) {
		if (strlen(out) > strlen(in) || strchr(out, '\v') || strchr(out, '\f') ||
		    strchr(out, '\xa0') || strchr(out, '\''))
			abort();
		if (si_cmdline_measured(out, "bl_prof_dataptr,quiet", again, sizeof(again), &d) != 0 ||
		    strcmp(out, again))
			abort();
		if (strlen(out) <= SI_EVENT_MAX && si_cmdline_check(in, in, "bl_prof_dataptr,quiet", &d) != 0)
			abort();
	} else if (r != -EINVAL && r != -E2BIG) {
		abort();
	}
	return 0;
}
