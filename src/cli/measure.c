/* SPDX-License-Identifier: MIT */
/* sealinit measure: extend a string or a file's digest into a PCR. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/errors.h"
#include "core/hash.h"
#include "core/tpm/pcr.h"

/* SHA-256 of a file, streamed, as the event data of a measurement. */
static int hash_file(const char *path, uint8_t out[32])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = si_sha256_fd(fd, out, NULL, NULL, NULL);
	close(fd);
	return r;
}

int measure_main(const struct cli_args *a)
{
	const char *str = a->string, *file = a->file;
	struct si_diag d = { { 0 } };
	struct si_pcr_opts po = { 0 };
	uint8_t digest[32];
	int r;

	if (!ENABLE_TPM2)
		return unsupported("measure", "TPM2 support");
	if (!!str == !!file || a->argc)
		return usage_error("measure", "%s", "give exactly one of --string or --file");
	if (str && strlen(str) > 1024)
		return usage_error("measure", "%s", "--string is longer than 1024 bytes");
	if (file) {
		r = hash_file(file, digest);
		if (r < 0) {
			fprintf(stderr, "%s measure: cannot read `%s': %s\n", prog, file, strerror(-r));
			return 1;
		}
	}
	po.tcti = a->tcti;
	po.timeout_ms = a->timeout_ms;
	po.pcr_mask = UINT32_C(1) << a->pcr;
	r = file ? si_pcr_event(&po, digest, sizeof(digest), &d)
		 : si_pcr_event(&po, str, strlen(str), &d);
	if (r < 0)
		return fail("measure", r, &d);
	printf("Measured %s `%s' into PCR %u\n", file ? "file" : "string", file ? file : str, a->pcr);
	return 0;
}
