/* SPDX-License-Identifier: MIT */
/*
 * sealinit predict: the PCR values of a device's next boot, offline, from
 * the build's artifacts.
 *
 * PCR 15 (sealinit's): from the boot configuration, the kernel command
 * line, the real init (and, in image mode, the root image). The events
 * come from core/events.c, the module the boot stage measures with, so the
 * two agree by construction. The config event covers this build's
 * defaults: predict with a sealinit built from the same .config as the
 * initramfs's.
 *
 * The firmware's PCRs: replayed from a device's event log (core/tcglog.c),
 * with the events an update changes recomputed from its files (the EFI
 * stub's command line and initrd in PCR 9, the kernel's Authenticode hash
 * in PCR 4), or taken from a device's read-out. docs/firmware-pcrs.md says
 * which events those are and what was verified of each.
 *
 * Then the PolicyPCR digest over the printed PCRs: what a literal-PCR
 * token sealed to these values records as tpm2-policy-hash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/b64.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/events.h"
#include "core/hash.h"
#include "core/pcrs.h"
#include "core/pe.h"
#include "core/tcglog.h"
#include "core/tpm/pcr.h"
#include "core/tpm/policy.h"

/* The firmware's PCRs; 15 and up are the OS's (sealinit measures 15). */
#define FIRMWARE_PCRS UINT32_C(0x7fff)
/* PCR 0-9 are extended only before the kernel starts (PC Client PFP 3.3.4),
 * so a log without events for one says it is zero; 10-14 are extended
 * from the OS as well (IMA into 10), which the firmware's log does not
 * show. */
#define PREBOOT_PCRS UINT32_C(0x3ff)

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

/* The whole of a regular file of at most max bytes, malloc'd (with a NUL
 * after it, for text). 0, or -errno after printing why. */
static int slurp(const char *opt, const char *path, size_t max, uint8_t **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;
	struct stat st;
	size_t got = 0;

	*buf = NULL;
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		fprintf(stderr, "%s predict: %s `%s': %s\n", prog, opt, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		fprintf(stderr, "%s predict: %s `%s': not a regular file of at most %zu bytes\n",
			prog, opt, path, max);
		r = -EINVAL;
		goto out;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		r = -ENOMEM;
		fprintf(stderr, "%s predict: %s `%s': %s\n", prog, opt, path, strerror(ENOMEM));
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, *buf + got, (size_t)st.st_size - got);

		if (k <= 0) {
			r = k < 0 ? -errno : -EIO;
			fprintf(stderr, "%s predict: reading %s `%s': %s\n", prog, opt, path,
				k < 0 ? strerror(errno) : "the file shrank");
			goto out;
		}
		got += (size_t)k;
	}
	(*buf)[got] = '\0';
	*len = got;
out:
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		free(*buf);
		*buf = NULL;
	}
	return r;
}

/* What sealinit's boot measures into its PCR (c->measure_pcr): the events,
 * from the configuration, the command line and the files. 0, or the exit
 * code after printing why. *cmdline: the command line the boot sees. */
static int predict_boot(const struct cli_args *a, struct si_bootcfg *c, struct si_event ev[4],
			size_t *n, const char **cmdline)
{
	struct si_diag d = { { 0 } };
	uint8_t digest[SI_SHA256_SIZE];

	*n = 0;
	if (load_config("predict", a->config, true, c) < 0)
		return EXIT_USAGE;
	*cmdline = a->cmdline ? a->cmdline : c->cmdline;
	if (!(*cmdline)[0] && !a->cmdline)
		return usage_error("predict", "--cmdline TEXT is needed: the configuration pins "
				   "no cmdline=");
	/* As the boot stage would take it: a command line it refuses has
	 * nothing to predict. */
	if (si_bootcfg_parse_cmdline(c, *cmdline, &d) < 0 || si_bootcfg_validate(c, &d) < 0 ||
	    (c->cmdline[0] && si_cmdline_check(c->cmdline, *cmdline, c->cmdline_volatile, &d) < 0)) {
		fprintf(stderr, "%s predict: the boot would refuse this: %s\n", prog, d.msg);
		return EXIT_USAGE;
	}
	if (c->measure == SI_MEASURE_NONE) {
		fprintf(stderr, "%s predict: measure=none: the boot measures nothing\n", prog);
		return EXIT_USAGE;
	}
	if (!a->init)
		return usage_error("predict", "--init FILE is needed: the real init (%s) as the "
				   "rootfs holds it", c->init);
	if (c->measure == SI_MEASURE_IMAGE && !a->rootfs)
		return usage_error("predict", "measure=image: --rootfs IMAGE is needed");
	if (si_event_cmdline(&ev[(*n)++], c->measure_pcr, c->cmdline[0] ? c->cmdline : *cmdline,
			     c->cmdline_volatile, &d) < 0 ||
	    si_event_config(&ev[(*n)++], c->measure_pcr, c, &d) < 0) {
		fprintf(stderr, "%s predict: %s\n", prog, d.msg);
		return 1;
	}
	if (c->measure == SI_MEASURE_VERITY) {
		si_event_verity(&ev[(*n)++], c->measure_pcr, c->roothash);
	} else {
		if (hash_file("root image", a->rootfs, digest) < 0)
			return 1;
		si_event_image(&ev[(*n)++], c->measure_pcr, digest);
	}
	if (hash_file("init", a->init, digest) < 0)
		return 1;
	si_event_init(&ev[(*n)++], c->measure_pcr, c->init, digest);
	return 0;
}

/* What the step of a distribution's initramfs (dist/initramfs-tools/
 * sealinit-step) measures into the configuration's pcr=: `sealinit measure
 * --file' of /proc/cmdline, which reads as the command line and a newline,
 * then of the configuration file as it is; each event's data is the
 * file's SHA-256, so the PCR extends SHA-256 of that. 0, or the exit code
 * after printing why. */
static int predict_step(const struct cli_args *a, struct si_bootcfg *c,
			uint8_t value[SI_SHA256_SIZE])
{
	uint8_t digest[SI_SHA256_SIZE], ev[SI_SHA256_SIZE], buf[2 * SI_SHA256_SIZE];
	char hex[2 * SI_SHA256_SIZE + 1], *line;
	size_t len;
	int i, r;

	if (!a->cmdline)
		return usage_error("predict", "--step needs --cmdline TEXT: the kernel command line "
				   "the server boots with, as /proc/cmdline shows it");
	if (a->init || a->rootfs)
		return usage_error("predict", "--step measures no root file system: drop --init "
				   "and --rootfs");
	if (load_config("predict", a->config, true, c) < 0)
		return EXIT_USAGE;
	len = strlen(a->cmdline);
	line = malloc(len + 2);
	if (!line)
		return 1;
	memcpy(line, a->cmdline, len);
	line[len++] = '\n';
	r = si_sha256(line, len, digest);
	free(line);
	if (r < 0)
		return 1;
	memset(value, 0, SI_SHA256_SIZE);
	for (i = 0; i < 2; i++) {
		if (i == 1 && hash_file("configuration", a->config, digest) < 0)
			return 1;
		si_hex_encode(hex, digest, sizeof(digest));
		printf("%u file %s sha256:%s\n", c->measure_pcr, i ? a->config : "/proc/cmdline",
		       hex);
		memcpy(buf, value, SI_SHA256_SIZE);
		if (si_sha256(digest, sizeof(digest), ev) < 0)
			return 1;
		memcpy(buf + SI_SHA256_SIZE, ev, sizeof(ev));
		if (si_sha256(buf, sizeof(buf), value) < 0)
			return 1;
	}
	return 0;
}

/* The firmware's PCRs from --firmware-log (replayed, with the update's
 * events of the PCRs in `want') or --firmware-pcrs, into fw. *known: the
 * PCRs with a value; *shown: those printed by default (the log's extended
 * PCRs, the read-out's). 0, or the exit code after printing why: 1 when a
 * file cannot be read, 2 when its contents are refused. */
static int predict_firmware(const struct cli_args *a, const char *cmdline, uint32_t want,
			    struct si_pcr_expect *fw, uint32_t *known, uint32_t *shown)
{
	struct si_tcglog_update u = { 0 };
	struct si_diag d = { { 0 } };
	uint8_t opts[SI_SHA256_SIZE], initrd[SI_SHA256_SIZE], kernel[SI_SHA256_SIZE];
	uint8_t *buf = NULL;
	size_t len;
	int r = 1;

	if (a->firmware_pcrs) {
		if (slurp("--firmware-pcrs", a->firmware_pcrs, 65536, &buf, &len) < 0)
			return 1;
		if (si_pcr_readout_parse((const char *)buf, fw, &d) < 0) {
			fprintf(stderr, "%s predict: --firmware-pcrs `%s': %s\n", prog,
				a->firmware_pcrs, d.msg);
			r = EXIT_USAGE;
			goto out;
		}
		*known = *shown = fw->mask & FIRMWARE_PCRS;
		r = 0;
		goto out;
	}
	if (cmdline && (want & (UINT32_C(1) << 9))) {
		if (si_tcglog_load_options_digest(cmdline, opts, &d) < 0) {
			fprintf(stderr, "%s predict: %s: %s\n", prog,
				a->firmware_cmdline ? "--firmware-cmdline" : "--cmdline", d.msg);
			return EXIT_USAGE;
		}
		u.load_options = opts;
	}
	if (a->initrd && (want & (UINT32_C(1) << 9))) {
		if (hash_file("initrd", a->initrd, initrd) < 0)
			return 1;
		u.initrd = initrd;
	}
	if (a->kernel && (want & (UINT32_C(1) << 4))) {
		if (slurp("--kernel", a->kernel, SI_PE_MAX, &buf, &len) < 0)
			return 1;
		if (si_pe_authenticode(buf, len, kernel, &d) < 0) {
			fprintf(stderr, "%s predict: --kernel `%s': %s\n", prog, a->kernel, d.msg);
			r = EXIT_USAGE;
			goto out;
		}
		free(buf);
		buf = NULL;
		u.kernel = kernel;
	}
	if (slurp("--firmware-log", a->firmware_log, SI_TCGLOG_MAX, &buf, &len) < 0)
		return 1;
	if (si_tcglog_replay(buf, len, &u, fw, &d) < 0) {
		fprintf(stderr, "%s predict: --firmware-log `%s': %s\n", prog, a->firmware_log, d.msg);
		r = EXIT_USAGE;
		goto out;
	}
	*shown = fw->mask & FIRMWARE_PCRS;
	*known = *shown | PREBOOT_PCRS;
	r = 0;
out:
	free(buf);
	return r;
}

int predict_main(const struct cli_args *a)
{
	static struct si_pcr_expect fw, out;
	struct si_event ev[4], cap;
	struct si_bootcfg c;
	struct si_diag d = { { 0 } };
	uint8_t capped[SI_SHA256_SIZE], policy[SI_POLICY_SIZE] = { 0 }, step[SI_SHA256_SIZE];
	uint8_t values[SI_PCR_COUNT * SI_SHA256_SIZE];
	char hex[2 * SI_SHA256_SIZE + 1], list[96];
	bool firmware = a->firmware_log || a->firmware_pcrs;
	bool boot = a->init || a->step || !firmware;
	const char *cmdline = a->cmdline;
	uint32_t want = SI_PCR_MASK_ALL, known = 0, shown = 0, bit;
	unsigned int mpcr = 0, i;
	size_t n = 0, k = 0;
	int r;

	if (a->pcrs && si_pcrs_parse(a->pcrs, &want, &d) < 0)
		return usage_error("predict", "%s", d.msg);
	if (a->firmware_log && a->firmware_pcrs)
		return usage_error("predict", "--firmware-log or --firmware-pcrs, not both");
	if ((a->initrd || a->kernel || a->firmware_cmdline) && !a->firmware_log)
		return usage_error("predict", "--initrd, --kernel and --firmware-cmdline replace "
				   "events of --firmware-log FILE, which is needed");
	if (!boot && a->rootfs)
		return usage_error("predict", "--rootfs is for PCR 15, which needs --init FILE");

	if (boot) {
		if (a->step) {
			r = predict_step(a, &c, step);
			if (r)
				return r;
			mpcr = c.measure_pcr;
			memcpy(out.sha256[mpcr], step, SI_SHA256_SIZE);
		} else {
			r = predict_boot(a, &c, ev, &n, &cmdline);
			if (r)
				return r;
			mpcr = c.measure_pcr;
			si_events_replay(ev, n, mpcr, NULL, out.sha256[mpcr]);
		}
		out.mask = UINT32_C(1) << mpcr;
		memcpy(capped, out.sha256[mpcr], sizeof(capped));
		si_event_string(&cap, mpcr, SI_CAP_EVENT);
		si_event_extend(capped, &cap);
	}
	if (a->firmware_cmdline)
		cmdline = a->firmware_cmdline;
	if (firmware) {
		r = predict_firmware(a, cmdline, want, &fw, &known, &shown);
		if (r)
			return r;
		/* sealinit's PCR is the boot's, whatever the device read. */
		known &= ~out.mask;
		shown &= ~out.mask;
		for (i = 0; i < SI_PCR_COUNT; i++)
			if (known & (UINT32_C(1) << i))
				memcpy(out.sha256[i], fw.sha256[i], SI_SHA256_SIZE);
	}
	if (!a->pcrs)
		want = shown | out.mask;
	if (want & ~(known | out.mask)) {
		si_pcrs_format(want & ~(known | out.mask), list, sizeof(list));
		return usage_error("predict", "no value for PCR %s: %s", list,
				   firmware ? "the firmware's source does not give it" :
				   "--firmware-log or --firmware-pcrs gives the firmware's PCRs");
	}
	if (!want)
		return usage_error("predict", "no PCR to print (--pcrs is empty)");

	for (i = 0; i < n; i++)
		printf("%u %s\n", ev[i].pcr, ev[i].text);
	for (i = 0; i < SI_PCR_COUNT; i++) {
		bit = UINT32_C(1) << i;
		if (!(want & bit))
			continue;
		si_hex_encode(hex, out.sha256[i], SI_SHA256_SIZE);
		/* What a token binds (the unseal runs here), then after the cap. */
		printf("pcr%u=%s\n", i, hex);
		if (out.mask & bit) {
			si_hex_encode(hex, capped, sizeof(capped));
			printf("pcr%u-capped=%s\n", i, hex);
		}
		memcpy(values + k++ * SI_SHA256_SIZE, out.sha256[i], SI_SHA256_SIZE);
	}
	/* TPM 2.0 Part 3, 23.7: PolicyPCR over the values of the printed PCRs,
	 * ascending, from a zero digest: a literal token's tpm2-policy-hash. */
	if (ENABLE_TPM2) {
		if (si_policy_pcr(policy, si_bank_from_name("sha256"), want, values,
				  k * SI_SHA256_SIZE) < 0) {
			fprintf(stderr, "%s predict: the policy digest failed\n", prog);
			return 1;
		}
		si_hex_encode(hex, policy, sizeof(policy));
		printf("policy=%s\n", hex);
	}
	return 0;
}
