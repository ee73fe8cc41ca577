/* SPDX-License-Identifier: MIT */
/* sealinit boot-config: show the configuration the boot stage would use:
 * the file, then a command line (default: this kernel's). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "core/bootcfg.h"
#include "core/errors.h"

int boot_config_main(const struct cli_args *a)
{
	static char text[16384], out[8192];
	const char *cmdline = a->cmdline;
	struct si_bootcfg c;
	struct si_diag d = { { 0 } };
	size_t n;
	int fd;

	if (load_config("boot-config", a->config, false, &c) < 0)
		return EXIT_USAGE;
	if (!cmdline) {
		fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
		n = 0;
		if (fd >= 0) {
			ssize_t k = read(fd, text, sizeof(text) - 1);

			close(fd);
			n = k > 0 ? (size_t)k : 0;
		}
		text[n] = '\0';
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
