/* SPDX-License-Identifier: MIT */
/*
 * sealinit predict: what the boot stage will measure, offline, from the
 * build's artifacts: the boot configuration, the kernel command line, the
 * real init (and, in image mode, the root image). The events come from
 * core/events.c, the module the boot stage measures with, so the two
 * agree by construction. The config event covers this build's defaults:
 * predict with a sealinit built from the same .config as the initramfs's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "core/b64.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/events.h"
#include "core/hash.h"
#include "core/tpm/pcr.h"

static int hash_file(const char *what, const char *path, uint8_t out[SI_SHA256_SIZE])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0) {
		fprintf(stderr, "%s predict: %s %s: %s\n", prog, what, path, strerror(errno));
		return -errno;
	}
	r = si_sha256_fd(fd, out, NULL, NULL, NULL);
	close(fd);
	if (r < 0)
		fprintf(stderr, "%s predict: reading %s %s: %s\n", prog, what, path, strerror(-r));
	return r;
}

int predict_main(const struct cli_args *a)
{
	struct si_event ev[4];
	struct si_bootcfg c;
	struct si_diag d = { { 0 } };
	uint8_t digest[SI_SHA256_SIZE], v[SI_SHA256_SIZE];
	char hex[2 * SI_SHA256_SIZE + 1];
	const char *cmdline;
	size_t n = 0, i;
	struct si_event cap;

	if (load_config("predict", a->config, true, &c) < 0)
		return EXIT_USAGE;
	cmdline = a->cmdline ? a->cmdline : c.cmdline;
	if (!cmdline[0] && !a->cmdline)
		return usage_error("predict", "--cmdline TEXT is needed: the configuration pins "
				   "no cmdline=");
	/* As the boot stage would take it: a command line it refuses has
	 * nothing to predict. */
	if (si_bootcfg_parse_cmdline(&c, cmdline, &d) < 0 || si_bootcfg_validate(&c, &d) < 0 ||
	    (c.cmdline[0] && si_cmdline_check(c.cmdline, cmdline, c.cmdline_volatile, &d) < 0)) {
		fprintf(stderr, "%s predict: the boot would refuse this: %s\n", prog, d.msg);
		return EXIT_USAGE;
	}
	if (c.measure == SI_MEASURE_NONE) {
		fprintf(stderr, "%s predict: measure=none: the boot measures nothing\n", prog);
		return EXIT_USAGE;
	}
	if (!a->init)
		return usage_error("predict", "--init FILE is needed: the real init (%s) as the "
				   "rootfs holds it", c.init);
	if (c.measure == SI_MEASURE_IMAGE && !a->rootfs)
		return usage_error("predict", "measure=image: --rootfs IMAGE is needed");
	if (si_event_cmdline(&ev[n++], c.measure_pcr, c.cmdline[0] ? c.cmdline : cmdline,
			     c.cmdline_volatile, &d) < 0 ||
	    si_event_config(&ev[n++], c.measure_pcr, &c, &d) < 0) {
		fprintf(stderr, "%s predict: %s\n", prog, d.msg);
		return 1;
	}
	if (c.measure == SI_MEASURE_VERITY) {
		si_event_verity(&ev[n++], c.measure_pcr, c.roothash);
	} else {
		if (hash_file("root image", a->rootfs, digest) < 0)
			return 1;
		si_event_image(&ev[n++], c.measure_pcr, digest);
	}
	if (hash_file("init", a->init, digest) < 0)
		return 1;
	si_event_init(&ev[n++], c.measure_pcr, c.init, digest);

	for (i = 0; i < n; i++)
		printf("%u %s\n", ev[i].pcr, ev[i].text);
	/* What a token binds (the unseal runs here), then after the cap. */
	si_events_replay(ev, n, c.measure_pcr, NULL, v);
	si_hex_encode(hex, v, sizeof(v));
	printf("pcr%u=%s\n", c.measure_pcr, hex);
	si_event_string(&cap, c.measure_pcr, SI_CAP_EVENT);
	si_event_extend(v, &cap);
	si_hex_encode(hex, v, sizeof(v));
	printf("pcr%u-capped=%s\n", c.measure_pcr, hex);
	return 0;
}
