/* SPDX-License-Identifier: MIT */
/* libFuzzer target: PCR list parsing (command line and config), and base64
 * / hex decoding (token fields). Accepted PCR lists must round-trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "core/errors.h"
#include "core/pcrs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[256], buf[96];
	uint8_t out[256];
	struct si_diag d;
	uint32_t m1, m2;

	if (size >= sizeof(in))
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (si_pcrs_parse(in, &m1, &d) == 0) {
		si_pcrs_format(m1, buf, sizeof(buf));
		if (si_pcrs_parse(buf, &m2, &d) != 0 || m1 != m2)
			abort();
	}
	(void)si_b64_decode(out, sizeof(out), in);
	(void)si_hex_decode(out, sizeof(out), in);
	return 0;
}
