/* SPDX-License-Identifier: MIT */
/*
 * This boot's state before the cap, from its logs (bootstate.h).
 *
 * Why two logs: on x86 the boot caps firmware PCRs too (pcrs=4+7+9+15).
 * Their cap records are in sealinit's log, but the events before them are
 * the firmware's, in binary_bios_measurements; neither log alone replays
 * to the TPM's value. The firmware's replay is the starting value of
 * sealinit's, PCR by PCR.
 *
 * Why the configuration for the measured PCR: a recovery boot runs on
 * whatever command line the console user gave. Sealing to what that boot
 * measured would bake the command line into the new token; the new token
 * binds what the configuration says the boot measures instead.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/bootstate.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/events.h"
#include "core/hash.h"
#include "core/pcrs.h"
#include "core/tcglog.h"
#include "core/tpm/pcr.h"

/* The whole of a file of at most max bytes (securityfs reports size 0, so
 * read to the end): malloc'd, NUL after it. 0, -errno, or -EFBIG. */
static int read_all(const char *path, size_t max, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;
	size_t n = 0;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	*buf = malloc(max + 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	r = read_fd_whole(fd, *buf, max + 1, &n);
	close(fd);
	if (r < 0) {
		free(*buf);
		*buf = NULL;
		return r;
	}
	(*buf)[n] = '\0';
	*len = n;
	return 0;
}

int firmware_state(const char *cmd, const struct cli_args *a, struct si_pcr_expect *fw)
{
	const char *path = a->firmware_log ? a->firmware_log : FWLOG_DEFAULT;
	struct si_diag d = { { 0 } };
	char *buf;
	size_t len;
	int r;

	memset(fw, 0, sizeof(*fw));
	r = read_all(path, SI_TCGLOG_MAX, &buf, &len);
	/* A device whose firmware keeps no log (or no TPM driver exposing
	 * it): every PCR from zero, as before. Given by name, it must be. */
	if (r == -ENOENT && !a->firmware_log)
		return 0;
	if (r < 0) {
		fprintf(stderr, "%s %s: the firmware's event log %s: %s\n", prog, cmd, path,
			r == -EFBIG ? "larger than this parser takes" : strerror(-r));
		return 1;
	}
	r = si_tcglog_replay((const uint8_t *)buf, len, NULL, fw, &d);
	free(buf);
	if (r < 0 && !a->firmware_log) {
		/* A firmware whose log is not crypto-agile (SeaBIOS's SHA-1
		 * log): no start value from it. A capped firmware PCR then
		 * fails its replay, by name; sealinit's own PCRs do not need
		 * it. */
		memset(fw, 0, sizeof(*fw));
		fprintf(stderr, "%s %s: the firmware's event log %s is not used: %s\n", prog, cmd,
			path, d.msg);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "%s %s: the firmware's event log %s: %s\n", prog, cmd, path, d.msg);
		return 1;
	}
	return 0;
}

static struct si_pcr_expect fw;   /* the last boot_state's firmware replay */

int boot_state(const char *cmd, const struct cli_args *a, uint32_t mask, struct si_pcr_expect *e,
	       uint32_t *capped)
{
	static struct si_log_replay lr;
	const char *path = a->event_log ? a->event_log : EVENTLOG_DEFAULT;
	struct si_pcr_opts po = { .tcti = a->tcti, .timeout_ms = a->timeout_ms, .bank = 0x000B };
	struct si_pcr_values v;
	struct si_diag d = { { 0 } };
	char *text = NULL;
	size_t len;
	unsigned int i, j = 0;
	uint32_t bit;
	int r;

	memset(e, 0, sizeof(*e));
	*capped = 0;
	if (!ENABLE_TPM2)
		return unsupported(cmd, "TPM2 support");
	r = firmware_state(cmd, a, &fw);
	if (r)
		return r;
	r = read_all(path, EVENTLOG_MAX, &text, &len);
	if (r < 0) {
		fprintf(stderr, "%s %s: the event log %s: %s\n", prog, cmd, path,
			r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
		return 1;
	}
	r = si_eventlog_replay(text, len, &fw, &lr, &d);
	free(text);
	if (r < 0) {
		fprintf(stderr, "%s %s: %s: %s\n", prog, cmd, path, d.msg);
		return 1;
	}
	/* PCRs the log does not name keep their current values; the caller
	 * that knows the boot's cap set refuses those it caps. */
	po.pcr_mask = mask & lr.seen;
	if (!po.pcr_mask)
		return 0;
	r = si_pcr_read(&po, &v, &d);
	if (r < 0)
		return fail(cmd, r, &d);
	for (i = 0; i < SI_PCR_COUNT; i++) {
		bit = UINT32_C(1) << i;
		if (!(po.pcr_mask & bit))
			continue;
		if (lr.forged & bit) {
			fprintf(stderr, "%s %s: %s, record %u: its PCR %u digest is not the SHA-256 of "
				"its string, a sealinit event's: the log was altered\n", prog, cmd, path,
				lr.forged_at[i], i);
			return 1;
		}
		/* Only a log that is the truth about the PCR says its state. */
		if ((lr.bad & bit) || memcmp(lr.full[i], v.values + 32 * j, 32)) {
			fprintf(stderr, "%s %s: %s does not replay to PCR %u's value%s: it does not "
				"say what this boot measured\n", prog, cmd, path, i,
				fw.mask & bit ? " after the firmware's events" :
				i < 10 ? " (no firmware event log gave its start: --firmware-log FILE)" : "");
			return 1;
		}
		j++;
		memcpy(e->sha256[i], lr.before_cap[i], 32);
		e->mask |= bit;
	}
	*capped = lr.capped & e->mask;
	return 0;
}

/* The measured PCR's records before its cap, in order. */
#define PRE_MAX 8
struct pre {
	unsigned int pcr;
	size_t n;
	bool capped;
	char text[PRE_MAX][SI_EVENT_MAX + 1];
};

static void on_pre(void *ctx, const struct si_event_record *r)
{
	struct pre *p = ctx;

	if (r->pcr != p->pcr || p->capped)
		return;
	if (r->cap) {
		p->capped = true;
		return;
	}
	if (p->n < PRE_MAX)
		memcpy(p->text[p->n], r->string, sizeof(p->text[0]));
	p->n++;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* "sealinit:init:PATH:HEX": PATH into path. */
static int init_path(const char *text, char *path, size_t size)
{
	const char *p = text + strlen("sealinit:init:"), *colon = strrchr(p, ':');

	if (!colon || strlen(colon + 1) != 2 * SI_SHA256_SIZE || (size_t)(colon - p) >= size)
		return -EINVAL;
	memcpy(path, p, (size_t)(colon - p));
	path[colon - p] = '\0';
	return 0;
}

static int hash_init(const char *cmd, const char *path, uint8_t out[SI_SHA256_SIZE])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0) {
		fprintf(stderr, "%s %s: --init %s: %s\n", prog, cmd, path, strerror(errno));
		return 1;
	}
	r = si_sha256_fd(fd, out, NULL, NULL, NULL);
	close(fd);
	if (r < 0) {
		fprintf(stderr, "%s %s: reading --init %s: %s\n", prog, cmd, path, strerror(-r));
		return 1;
	}
	return 0;
}

/* What differs between the logged event and the expected one, said once. */
static void differs(const char *cmd, const char *what, const char *logged, const char *want)
{
	if (strcmp(logged, want))
		printf("%s %s: this boot's %s differs from the configuration's:\n"
		       "  logged:     %.300s\n  configured: %.300s\n  sealing to the configured one\n",
		       prog, cmd, what, logged, want);
}

int boot_state_configured(const char *cmd, const struct cli_args *a, const struct si_bootcfg *c,
			  uint32_t mask, struct si_pcr_expect *e, uint32_t *capped)
{
	bool have_config = access(a->config, F_OK) == 0;
	static struct pre pre;
	static struct si_bootcfg ec;
	static struct si_event ev[4];
	static char text[EVENTLOG_MAX];
	const char *path = a->event_log ? a->event_log : EVENTLOG_DEFAULT;
	const char *logged_cmdline, *want;
	struct si_diag d = { { 0 } };
	char initpath[SI_PATH_MAX], list[96];
	uint8_t digest[SI_SHA256_SIZE];
	unsigned int m = c->measure_pcr, i;
	ssize_t n = 0, k;
	int fd, r;

	r = boot_state(cmd, a, mask, e, capped);
	if (r)
		return r;
	/* A PCR the boot caps that the log does not show capped: its value
	 * now may be the capped one, which the booted system can reach. */
	if (mask & c->cap_pcrs & ~*capped) {
		si_pcrs_format(mask & c->cap_pcrs & ~*capped, list, sizeof(list));
		fprintf(stderr, "%s %s: PCR %s: the boot caps it (pcrs=) but %s has no cap for it: "
			"its state before the cap is unknown\n", prog, cmd, list, path);
		return 1;
	}
	if (c->measure == SI_MEASURE_NONE || !(e->mask & (UINT32_C(1) << m)))
		return 0;
	/* Without the boot's configuration file there is nothing to compute
	 * the expected events from (the defaults are not what the initramfs
	 * measured): the log's, unchecked, only when forced. */
	if (!have_config) {
		if (!a->force) {
			fprintf(stderr, "%s %s: no configuration file %s: the state this boot "
				"measured into PCR %u cannot be checked against it; give the "
				"initramfs's with --config FILE (or --force to seal to the logged "
				"state)\n", prog, cmd, a->config, m);
			return 1;
		}
		printf("%s %s: no configuration file %s: sealing PCR %u to the state this boot "
		       "logged, unchecked (--force)\n", prog, cmd, a->config, m);
		return 0;
	}
	/* The log replayed above: read it again for the measured PCR's events. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && n < (ssize_t)sizeof(text) &&
	       (k = read(fd, text + n, sizeof(text) - (size_t)n)) > 0)
		n += k;
	if (fd >= 0)
		close(fd);
	memset(&pre, 0, sizeof(pre));
	pre.pcr = m;
	if (si_eventlog_parse(text, (size_t)n, on_pre, &pre, &d) < 0) {
		fprintf(stderr, "%s %s: %s: %s\n", prog, cmd, path, d.msg);
		return 1;
	}
	/* The boot's four measurements open the PCR, in this order
	 * (core/events.c); what follows them before the cap (a volume
	 * measurement) came after the unseal. */
	if (pre.n < 4 || !starts(pre.text[0], "sealinit:cmdline:") ||
	    !starts(pre.text[1], "sealinit:config:") ||
	    !(starts(pre.text[2], "sealinit:verity:") || starts(pre.text[2], "sealinit:image:")) ||
	    !starts(pre.text[3], "sealinit:init:")) {
		fprintf(stderr, "%s %s: %s: PCR %u's records before the cap are not the boot's "
			"measurements (command line, configuration, root, init): not a log of a "
			"sealinit boot\n", prog, cmd, path, m);
		return 1;
	}
	logged_cmdline = pre.text[0] + strlen("sealinit:cmdline:");
	if (c->cmdline[0]) {
		want = c->cmdline;
		if (a->cmdline && si_cmdline_check(c->cmdline, a->cmdline, c->cmdline_volatile, &d) < 0)
			return usage_error(cmd, "--cmdline: %s", d.msg);
	} else if (a->cmdline) {
		want = a->cmdline;
	} else if (a->force) {
		want = logged_cmdline;
		printf("%s %s: the configuration pins no cmdline=: sealing to the command line this "
		       "boot logged, unchecked (--force):\n  %.300s\n", prog, cmd, want);
	} else {
		fprintf(stderr, "%s %s: the configuration pins no cmdline=, so the command line this "
			"boot ran with cannot be checked:\n  %.300s\n  give the expected one with "
			"--cmdline TEXT (or --force to seal to this one)\n", prog, cmd, logged_cmdline);
		return 1;
	}
	/* The configuration as the boot takes it with that command line. */
	ec = *c;
	if (si_bootcfg_parse_cmdline(&ec, want, &d) < 0 || si_bootcfg_validate(&ec, &d) < 0) {
		fprintf(stderr, "%s %s: the boot would refuse the expected command line: %s\n", prog,
			cmd, d.msg);
		return EXIT_USAGE;
	}
	if (si_event_cmdline(&ev[0], m, want, ec.cmdline_volatile, &d) < 0 ||
	    si_event_config(&ev[1], m, &ec, &d) < 0) {
		fprintf(stderr, "%s %s: %s\n", prog, cmd, d.msg);
		return 1;
	}
	if (ec.measure == SI_MEASURE_VERITY)
		si_event_verity(&ev[2], m, ec.roothash);
	else
		si_event_string(&ev[2], m, pre.text[2]);
	if (a->init) {
		if (hash_init(cmd, a->init, digest))
			return 1;
		si_event_init(&ev[3], m, ec.init, digest);
	} else if (init_path(pre.text[3], initpath, sizeof(initpath)) < 0 ||
		   strcmp(initpath, ec.init)) {
		fprintf(stderr, "%s %s: this boot ran the init `%.200s', the configuration's is "
			"`%s': give the configured one with --init FILE\n", prog, cmd,
			init_path(pre.text[3], initpath, sizeof(initpath)) < 0 ? pre.text[3] : initpath,
			ec.init);
		return 1;
	} else {
		si_event_string(&ev[3], m, pre.text[3]);
	}
	differs(cmd, "command line", pre.text[0], ev[0].text);
	differs(cmd, "configuration", pre.text[1], ev[1].text);
	differs(cmd, "root", pre.text[2], ev[2].text);
	differs(cmd, "init", pre.text[3], ev[3].text);
	si_events_replay(ev, 4, m, fw.mask & (UINT32_C(1) << m) ? fw.sha256[m] : NULL,
			 e->sha256[m]);
	for (i = 0; i < 4; i++)
		if (verbose)
			fprintf(stderr, "%s %s: expected %u %s\n", prog, cmd, m, ev[i].text);
	return 0;
}
