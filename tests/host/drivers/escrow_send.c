/* SPDX-License-Identifier: MIT */
/*
 * Driver for tests/host/legacy_fetch.sh: si_legacy_escrow, the escrow
 * document FILE sent to the fleet server of the legacy_* keys of CONFIG
 * (a boot configuration), as provisioning sends it. Prints "r=EXIT-CODE
 * (diag)" and exits 0; the script judges.
 *
 *   escrow_send CONFIG FILE
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/escrow.h"
#include "core/legacy/client.h"
#include "core/textfile.h"

int main(int argc, char **argv)
{
	static char text[SI_TEXTFILE_CONFIG_MAX + 1], json[SI_ESCROW_JSON_MAX + 2];
	static struct si_bootcfg c;
	struct si_diag d = { { 0 } };
	int r;

	if (argc != 3)
		return 2;
	si_bootcfg_defaults(&c);
	if (si_textfile_read(argv[1], text, sizeof(text), &d) < 0 ||
	    si_bootcfg_parse_file(&c, text, &d) < 0 ||
	    si_textfile_read(argv[2], json, sizeof(json), &d) < 0) {
		fprintf(stderr, "escrow_send: %s\n", d.msg);
		return 2;
	}
	r = si_legacy_escrow(&c.legacy, NULL, NULL, json, &d);
	printf("r=%d (%s)\n", r < 0 ? si_exit_code(r) : 0, d.msg);
	return 0;
}
