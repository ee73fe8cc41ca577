/* SPDX-License-Identifier: MIT */
/* sealinit boot-config: show the configuration the boot stage would use:
 * the file, then a command line (default: this kernel's). */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/textfile.h"

int boot_config_main(const struct cli_args *a)
{
	static char text[4096], out[8192];
	const char *cmdline = a->cmdline;
	struct si_bootcfg c;
	struct si_diag d = { { 0 } };

	if (load_config("boot-config", a->config, false, &c) < 0)
		return EXIT_USAGE;
	/* Read as the boot reads it: whole, or refused. */
	if (!cmdline) {
		if (si_textfile_read("/proc/cmdline", text, sizeof(text), &d) < 0) {
			fprintf(stderr, "%s boot-config: kernel command line: %s\n", prog, d.msg);
			return EXIT_USAGE;
		}
		cmdline = text;
	}
	if (si_bootcfg_parse_cmdline(&c, cmdline, &d) < 0) {
		fprintf(stderr, "%s boot-config: kernel command line: %s\n", prog, d.msg);
		return EXIT_USAGE;
	}
	if (si_bootcfg_format(&c, out, sizeof(out)) < 0)
		return 1;
	fputs(out, stdout);
	if (si_bootcfg_validate(&c, &d) < 0) {
		fprintf(stderr, "%s boot-config: %s\n", prog, d.msg);
		return EXIT_USAGE;
	}
	return 0;
}
