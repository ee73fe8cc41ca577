/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the signature file of signed PCR policies
 * (core/sigfile.c), which the boot reads from the initramfs and `sealinit
 * sign' rewrites. A lookup that succeeds lists only entries for the PCRs,
 * key and digest asked for, each once (those of tokens with a rollback
 * counter, sealinit_counter, highest first), and its first is what the
 * single lookup returns; a file sign accepts takes a new entry, and the
 * result is found again. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/sigfile.h"

/* pol of a counted entry: 0x03 then the counter, big-endian, at the end. */
static int counted_pol(uint64_t counter, uint8_t pol[32], void *ctx)
{
	int i;

	(void)ctx;
	memset(pol, 0, 32);
	pol[0] = 0x03;
	for (i = 0; i < 8; i++)
		pol[31 - i] = (uint8_t)(counter >> (8 * i));
	return 0;
}

/* Every listed entry is for what was asked, counted ones newest first. */
static void check_list(const struct si_sig *l, size_t n, uint32_t mask, const uint8_t pkfp[32],
		       const uint8_t *pol, bool counted)
{
	uint8_t want[32];
	size_t i;

	if (!n)
		abort();
	for (i = 0; i < n; i++) {
		if (counted)
			counted_pol(l[i].counter, want, NULL);
		else
			memcpy(want, pol, 32);
		if (l[i].pcr_mask != mask || l[i].counted != counted || memcmp(l[i].pkfp, pkfp, 32) ||
		    memcmp(l[i].pol, want, 32) || !l[i].sig_len || l[i].sig_len > SI_SIG_MAX ||
		    l[i].index >= SI_SIGFILE_ENTRIES ||
		    (i && (l[i].index == l[i - 1].index ||
			   (counted && l[i].counter > l[i - 1].counter))))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pkfp[32] = { 0x01 }, pol[32] = { 0x02 };
	static struct si_sig got, add;
	struct si_sig *list = NULL;
	struct si_diag d;
	uint32_t mask = size ? (uint32_t)data[0] << 8 | 1u << 15 : 1u << 15;
	char *json, *out = NULL;
	size_t n = 0;
	int r;

	json = malloc(size + 1);
	if (!json)
		return 0;
	memcpy(json, data, size);
	json[size] = '\0';
	/* The first bytes pick the PCRs asked for, so any entry can match. */
	r = si_sigfile_match(json, mask, pkfp, pol, &list, &n, &d);
	if (r == 0) {
		check_list(list, n, mask, pkfp, pol, false);
		if (si_sigfile_find(json, mask, pkfp, pol, &got, &d) != 0 || got.index != list[0].index)
			abort();
	}
	free(list);
	list = NULL;

	r = si_sigfile_match_counted(json, 1u << 15, pkfp, counted_pol, NULL, &list, &n, &d);
	if (r == 0) {
		check_list(list, n, 1u << 15, pkfp, NULL, true);
		got = list[0];
	}
	free(list);
	memset(&add, 0, sizeof(add));
	add.counted = true;
	add.counter = r == 0 ? got.counter + 1 : 7;
	if (add.counter > INT64_MAX)
		add.counter = 0;
	add.pcr_mask = 1u << 15;
	memcpy(add.pkfp, pkfp, 32);
	counted_pol(add.counter, add.pol, NULL);
	add.sig_len = 1;
	/* sign adds only to a file whose every entry parses; the new entry,
	 * above the highest there was, is then the one found. */
	if (si_sigfile_add(json, &add, &out, &d) == 0) {
		if (si_sigfile_find_counted(out, 1u << 15, pkfp, counted_pol, NULL, &got, &d) != 0 ||
		    (add.counter && got.counter != add.counter))
			abort();
		free(out);
		out = NULL;
	}
	memset(&add, 0, sizeof(add));
	add.pcr_mask = 1u << 15;
	memcpy(add.pkfp, pkfp, 32);
	memcpy(add.pol, pol, 32);
	add.sig[0] = 0x42;
	add.sig_len = 256;
	if (si_sigfile_add(json, &add, &out, &d) == 0) {
		if (si_sigfile_find(out, 1u << 15, pkfp, pol, &got, &d) != 0 ||
		    got.sig_len != 256 || got.sig[0] != 0x42)
			abort();
		free(out);
	}
	free(json);
	return 0;
}
