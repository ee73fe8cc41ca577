/* SPDX-License-Identifier: MIT */
/*
 * sealinit command line: a table of subcommands, each parsing its options,
 * calling the core and turning codes into one message and one exit code.
 * This is the only file that prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "boot/boot.h"
#include "core/bootcfg.h"
#include "config.h"
#include "core/enroll.h"
#include "core/legacy/unlock.h"
#include "core/tpm/pcr.h"
#include "core/unlock.h"
#include "core/errors.h"
#include "core/legacy/client.h"
#include "core/luks.h"
#include "core/migrate.h"
#include "core/legacy/net.h"
#include "core/pcrs.h"
#include "core/hash.h"
#include "core/secret.h"

#define EXIT_USAGE   2
#define KEYFILE_MAX  (64 * 1024)
#define PASS_MAX     512


static const char *prog = "sealinit";
static int verbose;

struct common {
	const char *tcti;
	int timeout_ms;
};

static void common_init(struct common *c)
{
	const char *env = getenv("SEALINIT_TCTI");

	c->tcti = env && *env ? env : CONFIG_TPM2_TCTI;
	c->timeout_ms = CONFIG_TPM2_TIMEOUT_MS;
}

static int fail(const char *cmd, int r, const struct si_diag *d)
{
	if (d && d->msg[0])
		fprintf(stderr, "%s %s: %s: %s\n", prog, cmd, si_strerror(r), d->msg);
	else
		fprintf(stderr, "%s %s: %s\n", prog, cmd, si_strerror(r));
	return si_exit_code(r);
}

__attribute__((format(printf, 2, 3)))
static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", prog, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry `%s help'.\n", prog);
	return EXIT_USAGE;
}

static int parse_timeout(const char *cmd, const char *arg, int *ms)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < 1 || v > 600000)
		return usage_error(cmd, "Invalid --tpm-timeout: `%s' (expected 1-600000 ms)", arg);
	*ms = (int)v;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Read one line without echo from the terminal, or the first line of
 * standard input when it is not a terminal (scripts, tests). */
static int read_secret_line(const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	int fd, tty = isatty(STDIN_FILENO);
	size_t n = 0;
	int r = 0;

	fd = tty ? open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY) : STDIN_FILENO;
	if (fd < 0)
		return -errno;
	if (tty) {
		if (write(fd, prompt, strlen(prompt)) < 0) {
			/* nothing to do: the read below still works */
		}
		tcgetattr(fd, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	for (;;) {
		char c;
		ssize_t k = read(fd, &c, 1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || c == '\n')
			break;
		if (n + 1 >= size) {
			r = -E2BIG;
			break;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	if (tty) {
		tcsetattr(fd, TCSAFLUSH, &old);
		if (write(fd, "\n", 1) < 0) {
			/* cosmetic */
		}
		close(fd);
	}
	if (r == 0 && n == 0)
		r = -ENODATA;
	return r;
}

static int ask_pin(void *ctx, char *buf, size_t size)
{
	int r = read_secret_line("TPM PIN: ", buf, size);

	(void)ctx;
	if (r == -ENODATA)
		return -SI_ENOPIN;
	return r;
}

/* A key: all of fd's content is the passphrase, as cryptsetup reads it. */
static int read_key_fd(int fd, char *buf, size_t size, size_t *len)
{
	size_t n = 0;
	int r = 0;

	for (;;) {
		ssize_t k = read(fd, buf + n, size - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			break;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n == size) {
			r = -EFBIG;
			break;
		}
	}
	*len = n;
	if (r == 0 && n == 0)
		r = -ENODATA;
	return r;
}

/* A key file: a regular file, not followed through a symlink. */
static int read_key_file(const char *path, char *buf, size_t size, size_t *len)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	r = read_key_fd(fd, buf, size, len);
	close(fd);
	return r;
}

/* The boot configuration file, over the defaults. A missing file is
 * fine unless required. */
static int load_config(const char *cmd, const char *path, bool required, struct si_bootcfg *c)
{
	static char text[16384];
	struct si_diag d = { { 0 } };
	ssize_t k;
	int fd;

	si_bootcfg_defaults(c);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (!required && errno == ENOENT)
			return 0;
		fprintf(stderr, "%s %s: %s: %s\n", prog, cmd, path, strerror(errno));
		return -errno;
	}
	k = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[k > 0 ? k : 0] = '\0';
	if (si_bootcfg_parse_file(c, text, &d) < 0) {
		fprintf(stderr, "%s %s: %s: %s\n", prog, cmd, path, d.msg);
		return -EINVAL;
	}
	return 0;
}

static void print_progress(void *ctx, const char *msg)
{
	fprintf(stderr, "%s %s: %s\n", prog, (const char *)ctx, msg);
}

/*
 * Where --key-file says the key goes: `-' is standard output (never a
 * terminal); anything else a new file of mode 0600 that appears under its
 * name only once the key in it is verified (O_TMPFILE, then linkat), or,
 * where the filesystem has no O_TMPFILE, one made with O_EXCL and removed
 * again on failure. Returns the fd, or -1 after printing why.
 */
struct key_out {
	const char *path;
	int fd;
	bool tmpfile;   /* unnamed until key_out_commit() */
};

static int key_out_open(const char *cmd, const char *path, struct key_out *k)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	k->path = path;
	k->tmpfile = false;
	if (!strcmp(path, "-")) {
		if (isatty(STDOUT_FILENO)) {
			fprintf(stderr, "%s %s: refusing to write a key to a terminal\n", prog, cmd);
			return -1;
		}
		return k->fd = STDOUT_FILENO;
	}
	if (access(path, F_OK) == 0) {
		fprintf(stderr, "%s %s: %s: %s\n", prog, cmd, path, strerror(EEXIST));
		return k->fd = -1;
	}
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
		 slash ? path : ".");
	k->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (k->fd >= 0) {
		k->tmpfile = true;
		return k->fd;
	}
	k->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (k->fd < 0)
		fprintf(stderr, "%s %s: %s: %s\n", prog, cmd, path, strerror(errno));
	return k->fd;
}

/* ok: the key was written and verified; give it its name. Otherwise
 * nothing stays behind. Returns 0, or 1 after printing why. */
static int key_out_close(const char *cmd, struct key_out *k, bool ok)
{
	char proc[64];
	int r = 0;

	if (k->fd < 0 || k->fd == STDOUT_FILENO)
		return 0;
	if (ok && k->tmpfile) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", k->fd);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, k->path, AT_SYMLINK_FOLLOW) < 0) {
			fprintf(stderr, "%s %s: %s: %s\n", prog, cmd, k->path, strerror(errno));
			r = 1;
		}
	}
	if (close(k->fd) < 0 && ok && !r) {
		fprintf(stderr, "%s %s: %s: %s\n", prog, cmd, k->path, strerror(errno));
		r = 1;
	}
	if ((!ok || r) && !k->tmpfile)
		unlink(k->path);
	k->fd = -1;
	return r;
}

/* The legacy key source (core/legacy/unlock.h), as the boot stage runs it
 * but on a network that is already up. */
static int legacy_unlock(const char *cmd, const struct si_bootcfg *c, struct si_legacy_unlock_opts *o,
			 struct si_legacy_unlock_result *res)
{
	struct si_diag d = { { 0 } };
	double t0 = now_ms();
	int r;

	if (!ENABLE_LEGACY_NET) {
		fprintf(stderr, "%s %s: this build has no legacy network fetch\n", prog, cmd);
		return si_exit_code(-SI_EUNSUPPORTED);
	}
	r = si_legacy_cfg_validate(&c->legacy, &d);
	if (r < 0) {
		fprintf(stderr, "%s %s: configuration: %s\n", prog, cmd, d.msg);
		return EXIT_USAGE;
	}
	o->cfg = &c->legacy;
	o->log = print_progress;
	o->log_ctx = (void *)cmd;
	r = si_legacy_unlock(o, res, &d);
	if (r < 0)
		return fail(cmd, r, &d);
	fprintf(stderr, "%s %s: key material verified (%zu bytes) in %.0f ms\n", prog, cmd,
		res->key_len, now_ms() - t0);
	return 0;
}

static int cmd_legacy_fetch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "test", no_argument, NULL, 'n' },
		{ 0 }
	};
	const char *config = "/etc/sealinit.conf", *key_file = NULL, *dev = NULL, *name = NULL;
	struct si_legacy_unlock_opts o = { .key_fd = -1 };
	struct si_legacy_unlock_result res;
	struct key_out ko = { .fd = -1 };
	struct si_bootcfg c;
	int ch, r, test = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'k': key_file = optarg; break;
		case 'n': test = 1; break;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind > 2)
		return usage_error("legacy-fetch", "%s", "expected [DEVICE [NAME]]");
	dev = optind < argc ? argv[optind] : NULL;
	name = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (!key_file && !dev)
		return usage_error("legacy-fetch", "%s", "give DEVICE NAME, DEVICE --test, or --key-file");
	if (dev && !name && !test)
		return usage_error("legacy-fetch", "%s", "give a NAME to activate, or --test");
	if (test && name)
		return usage_error("legacy-fetch", "%s", "--test activates nothing; drop NAME");
	if (load_config("legacy-fetch", config, true, &c) < 0)
		return EXIT_USAGE;
	if (key_file && key_out_open("legacy-fetch", key_file, &ko) < 0)
		return EXIT_USAGE;
	o.device = dev;
	o.name = name;
	o.key_fd = ko.fd;
	r = legacy_unlock("legacy-fetch", &c, &o, &res);
	r = key_out_close("legacy-fetch", &ko, r == 0) ?: r;
	if (r)
		return r;
	if (dev && name)
		printf("Unlocked %s as /dev/mapper/%s (legacy keyslot %d)\n", dev, name, res.keyslot);
	else if (dev)
		printf("The legacy key opens keyslot %d of %s (test only, nothing activated)\n",
		       res.keyslot, dev);
	return 0;
}

static int cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ "finish", no_argument, NULL, 'f' },
		{ "status", no_argument, NULL, 's' },
		{ "tcti", required_argument, NULL, 'T' },
		{ "tpm-timeout", required_argument, NULL, 't' },
		{ 0 }
	};
	const char *config = "/etc/sealinit.conf", *key_file = NULL, *pcrs = NULL;
	struct si_migrate_opts o = { .legacy_keyslot = -1 };
	struct si_migrate_result res;
	struct si_bootcfg c;
	struct si_diag d = { { 0 } };
	struct common cm;
	uint8_t *key = NULL;
	size_t len = 0;
	int ch, r, finish = 0, status = 0;

	common_init(&cm);
	while ((ch = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'k': key_file = optarg; break;
		case 'p': pcrs = optarg; break;
		case 'f': finish = 1; break;
		case 's': status = 1; break;
		case 'T': cm.tcti = optarg; break;
		case 't':
			if ((r = parse_timeout("migrate", optarg, &cm.timeout_ms)))
				return r;
			break;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return usage_error("migrate", "%s", "expected DEVICE");
	if (finish + status > 1 || ((finish || status) && (key_file || pcrs)))
		return usage_error("migrate", "%s", "--finish and --status take only DEVICE and TPM options");
	o.device = argv[optind];
	if (status) {
		struct si_migration_state st;

		r = si_migration_read(o.device, &st, &d);
		if (r < 0)
			return fail("migrate", r, &d);
		if (st.token < 0) {
			printf("%s: no migration journal (not migrating, or finished)\n", o.device);
			return 0;
		}
		printf("%s: migration journal in token %d\n  legacy keyslot: %d\n"
		       "  TPM keyslot:    %d%s\n  pending:        %d%s\n",
		       o.device, st.token, st.legacy_keyslot, st.tpm_keyslot,
		       st.tpm_keyslot < 0 ? " (none yet)" : "", st.pending_keyslot,
		       st.pending_keyslot < 0 ? " (none)" : " (an interrupted enrollment; rerun migrate)");
		return 0;
	}
	if (finish) {
		struct si_migrate_finish_opts fo = {
			.device = o.device, .tcti = cm.tcti, .timeout_ms = cm.timeout_ms,
			.verified_keyslot = -1,
		};
		int removed;

		r = si_migrate_finish(&fo, &removed, &d);
		if (r < 0)
			return fail("migrate", r, &d);
		if (removed >= 0)
			printf("Removed legacy keyslot %d of %s; the TPM alone unlocks it now\n", removed,
			       o.device);
		else
			printf("The legacy keyslot of %s was already removed; journal cleared\n", o.device);
		return 0;
	}
	if (load_config("migrate", config, !key_file, &c) < 0)
		return EXIT_USAGE;
	if (!pcrs) {
		o.pcr_mask = c.migrate_pcrs ? c.migrate_pcrs : UINT32_C(1) << c.measure_pcr;
	} else if (si_pcrs_parse(pcrs, &o.pcr_mask, &d) < 0) {
		return usage_error("migrate", "--pcrs: %s", d.msg);
	}
	o.tcti = cm.tcti;
	o.timeout_ms = cm.timeout_ms;
	if (key_file) {
		key = si_secret_alloc(KEYFILE_MAX);
		if (!key)
			return fail("migrate", -ENOMEM, NULL);
		r = !strcmp(key_file, "-") ? read_key_fd(STDIN_FILENO, (char *)key, KEYFILE_MAX, &len)
					   : read_key_file(key_file, (char *)key, KEYFILE_MAX, &len);
		if (r < 0) {
			si_secret_free(key);
			fprintf(stderr, "%s migrate: --key-file %s: %s\n", prog, key_file, strerror(-r));
			return EXIT_USAGE;
		}
		o.passphrase = (const char *)key;
		o.passphrase_len = len;
		r = si_migrate(&o, &res, &d);
		si_secret_free(key);
	} else {
		/* From the network: the fetch, the check of which keyslot the
		 * key opens and the enrollment, in one worker. */
		struct si_legacy_unlock_opts lo = {
			.device = o.device, .key_fd = -1, .migrate = true, .tcti = o.tcti,
			.tpm_timeout_ms = o.timeout_ms, .migrate_pcrs = o.pcr_mask,
		};
		struct si_legacy_unlock_result lr;

		r = legacy_unlock("migrate", &c, &lo, &lr);
		if (r)
			return r;
		r = lr.migrate_r;
		res = lr.mres;
		d = lr.mdiag;
	}
	if (r < 0)
		return fail("migrate", r, &d);
	if (res.cleaned_keyslot >= 0)
		printf("Removed keyslot %d, left half-written by an interrupted migration\n",
		       res.cleaned_keyslot);
	if (res.replaced_keyslot >= 0)
		printf("Replaced the earlier TPM keyslot %d\n", res.replaced_keyslot);
	printf("Enrolled TPM keyslot %d of %s; legacy keyslot %d stays until `sealinit migrate "
	       "--finish'\n", res.tpm_keyslot, o.device, res.legacy_keyslot);
	return 0;
}

static int cmd_enroll(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key-file", required_argument, NULL, 'k' },
		{ "tcti", required_argument, NULL, 'T' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ "pin", no_argument, NULL, 'P' },
		{ "tpm-timeout", required_argument, NULL, 't' },
		{ 0 }
	};
	const char *key_file = NULL, *pcrs = CONFIG_TPM2_DEFAULT_PCRS;
	struct si_enroll_opts o = { .keyslot = -1 };
	struct si_enroll_result res;
	struct si_diag d = { { 0 } };
	struct common c;
	char *pass = NULL, pcrbuf[96];
	size_t pass_len = 0;
	int ch, r, pin = 0;
	double t0;

	common_init(&c);
	while ((ch = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
		switch (ch) {
		case 'k': key_file = optarg; break;
		case 'T': c.tcti = optarg; break;
		case 'p': pcrs = optarg; break;
		case 'P': pin = 1; break;
		case 't':
			if ((r = parse_timeout("enroll", optarg, &c.timeout_ms)))
				return r;
			break;
		default: return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return usage_error("enroll", "%s", "expected exactly one DEVICE");
	o.device = argv[optind];
	if (si_pcrs_parse(pcrs, &o.pcr_mask, &d) < 0)
		return usage_error("enroll", "%s", d.msg);
	if (pin && !isatty(STDIN_FILENO) && !key_file)
		return usage_error("enroll", "%s", "--pin from standard input needs --key-file");

	pass = si_secret_alloc(KEYFILE_MAX);
	if (!pass)
		return fail("enroll", -ENOMEM, NULL);
	if (key_file) {
		r = read_key_file(key_file, pass, KEYFILE_MAX, &pass_len);
		if (r < 0) {
			fprintf(stderr, "%s enroll: cannot read --key-file `%s': %s\n", prog,
				key_file, r == -ENODATA ? "empty file" : strerror(-r));
			si_secret_free(pass);
			return 1;
		}
	} else {
		char prompt[300];

		snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", o.device);
		r = read_secret_line(prompt, pass, PASS_MAX);
		if (r < 0) {
			fprintf(stderr, "%s enroll: no passphrase: give --key-file or run on a terminal\n",
				prog);
			si_secret_free(pass);
			return EXIT_USAGE;
		}
		pass_len = strlen(pass);
	}
	o.passphrase = pass;
	o.passphrase_len = pass_len;
	o.tcti = c.tcti;
	o.timeout_ms = c.timeout_ms;
	o.get_pin = pin ? ask_pin : NULL;

	t0 = now_ms();
	r = si_enroll(&o, &res, &d);
	si_secret_free(pass);
	if (verbose)
		fprintf(stderr, "enroll: %.1f ms, %u TPM commands\n", now_ms() - t0,
			res.tpm_commands);
	if (r < 0)
		return fail("enroll", r, &d);
	si_pcrs_format(o.pcr_mask, pcrbuf, sizeof(pcrbuf));
	printf("Enrolled %s: token %d, keyslot %d, sha256 PCRs %s%s%s\n", o.device, res.token,
	       res.keyslot, pcrbuf[0] ? pcrbuf : "(none)", pin ? ", with PIN" : "",
	       res.srk_created ? "; created the storage key at 0x81000001" : "");
	return 0;
}

static int cmd_unlock(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "test", no_argument, NULL, 'n' },
		{ "tcti", required_argument, NULL, 'T' },
		{ "tpm-timeout", required_argument, NULL, 't' },
		{ 0 }
	};
	struct si_unlock_opts o = { 0 };
	struct si_unlock_result res;
	struct si_diag d = { { 0 } };
	struct common c;
	int ch, r, test = 0;
	double t0;

	common_init(&c);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': test = 1; break;
		case 'T': c.tcti = optarg; break;
		case 't':
			if ((r = parse_timeout("unlock", optarg, &c.timeout_ms)))
				return r;
			break;
		default: return EXIT_USAGE;
		}
	}
	if (optind >= argc || argc - optind > 2)
		return usage_error("unlock", "%s", "expected DEVICE [NAME]");
	o.device = argv[optind];
	o.name = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (!o.name && !test)
		return usage_error("unlock", "%s", "give a NAME to activate, or --test");
	if (test && o.name)
		return usage_error("unlock", "%s", "--test activates nothing; drop NAME");
	o.tcti = c.tcti;
	o.timeout_ms = c.timeout_ms;
	o.get_pin = ask_pin;

	t0 = now_ms();
	r = si_unlock(&o, &res, &d);
	if (verbose)
		fprintf(stderr, "unlock: %.1f ms, %u TPM commands\n", now_ms() - t0,
			res.tpm_commands);
	if (r < 0)
		return fail("unlock", r, &d);
	if (o.name)
		printf("Unlocked %s as /dev/mapper/%s (token %d, keyslot %d)\n", o.device, o.name,
		       res.token, res.keyslot);
	else
		printf("Token %d opens keyslot %d of %s (test only, nothing activated)\n",
		       res.token, res.keyslot, o.device);
	return 0;
}

static int parse_pcr_index(const char *cmd, const char *arg, unsigned int *pcr)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || end == arg || v >= SI_PCR_COUNT || arg[0] == '-')
		return usage_error(cmd, "Invalid --pcr: `%s' (expected 0-23)", arg);
	*pcr = (unsigned int)v;
	return 0;
}

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

static int cmd_measure(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pcr", required_argument, NULL, 'p' },
		{ "string", required_argument, NULL, 's' },
		{ "file", required_argument, NULL, 'f' },
		{ "tcti", required_argument, NULL, 'T' },
		{ "tpm-timeout", required_argument, NULL, 't' },
		{ 0 }
	};
	const char *str = NULL, *file = NULL;
	unsigned int pcr = 15;
	struct si_diag d = { { 0 } };
	struct si_pcr_opts po = { 0 };
	struct common c;
	uint8_t digest[32];
	int ch, r;

	common_init(&c);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if ((r = parse_pcr_index("measure", optarg, &pcr)))
				return r;
			break;
		case 's': str = optarg; break;
		case 'f': file = optarg; break;
		case 'T': c.tcti = optarg; break;
		case 't':
			if ((r = parse_timeout("measure", optarg, &c.timeout_ms)))
				return r;
			break;
		default: return EXIT_USAGE;
		}
	}
	if (!!str == !!file || optind != argc)
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
	po.tcti = c.tcti;
	po.timeout_ms = c.timeout_ms;
	po.pcr_mask = UINT32_C(1) << pcr;
	r = file ? si_pcr_event(&po, digest, sizeof(digest), &d)
		 : si_pcr_event(&po, str, strlen(str), &d);
	if (r < 0)
		return fail("measure", r, &d);
	printf("Measured %s `%s' into PCR %u\n", file ? "file" : "string", file ? file : str, pcr);
	return 0;
}

static int cmd_cap(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pcrs", required_argument, NULL, 'p' },
		{ "tcti", required_argument, NULL, 'T' },
		{ "tpm-timeout", required_argument, NULL, 't' },
		{ 0 }
	};
	/* The separator the boot stage extends after unlock (and on failure), so
	 * the policy cannot be satisfied again until the next boot. */
	static const char separator[] = "sealinit:cap";
	const char *pcrs = CONFIG_TPM2_DEFAULT_PCRS;
	struct si_diag d = { { 0 } };
	struct si_pcr_opts po = { 0 };
	struct common c;
	uint32_t mask;
	char buf[96];
	int ch, r = 0;

	common_init(&c);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': pcrs = optarg; break;
		case 'T': c.tcti = optarg; break;
		case 't':
			if ((r = parse_timeout("cap", optarg, &c.timeout_ms)))
				return r;
			break;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return usage_error("cap", "unexpected argument `%s'", argv[optind]);
	if (si_pcrs_parse(pcrs, &mask, &d) < 0)
		return usage_error("cap", "%s", d.msg);
	po.tcti = c.tcti;
	po.timeout_ms = c.timeout_ms;
	po.pcr_mask = mask;
	r = si_pcr_event(&po, separator, sizeof(separator) - 1, &d);
	if (r < 0)
		return fail("cap", r, &d);
	si_pcrs_format(mask, buf, sizeof(buf));
	printf("Capped PCRs %s in every active bank\n", buf[0] ? buf : "(none)");
	return 0;
}

static int cmd_pcrread(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pcrs", required_argument, NULL, 'p' },
		{ "bank", required_argument, NULL, 'b' },
		{ "tcti", required_argument, NULL, 'T' },
		{ "tpm-timeout", required_argument, NULL, 't' },
		{ 0 }
	};
	const char *pcrs = CONFIG_TPM2_DEFAULT_PCRS, *bank_name = "sha256";
	struct si_pcr_values v;
	struct si_pcr_opts po = { 0 };
	struct si_diag d = { { 0 } };
	struct common c;
	size_t dsize, k = 0;
	uint32_t mask;
	uint16_t bank;
	unsigned int i;
	int ch, r;

	common_init(&c);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': pcrs = optarg; break;
		case 'b': bank_name = optarg; break;
		case 'T': c.tcti = optarg; break;
		case 't':
			if ((r = parse_timeout("pcrread", optarg, &c.timeout_ms)))
				return r;
			break;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return usage_error("pcrread", "unexpected argument `%s'", argv[optind]);
	if (si_pcrs_parse(pcrs, &mask, &d) < 0)
		return usage_error("pcrread", "%s", d.msg);
	bank = si_bank_from_name(bank_name);
	if (!bank)
		return usage_error("pcrread", "Invalid --bank: `%s' (expected sha1, sha256, sha384 or sha512)",
				   bank_name);
	dsize = si_bank_digest_size(bank);
	po.tcti = c.tcti;
	po.timeout_ms = c.timeout_ms;
	po.pcr_mask = mask;
	po.bank = bank;
	r = si_pcr_read(&po, &v, &d);
	if (r < 0)
		return fail("pcrread", r, &d);
	for (i = 0; i < SI_PCR_COUNT; i++) {
		size_t j;

		if (!(mask & (UINT32_C(1) << i)))
			continue;
		printf("%s:%-2u ", bank_name, i);
		for (j = 0; j < dsize; j++)
			printf("%02x", v.values[k * dsize + j]);
		printf("\n");
		k++;
	}
	return 0;
}

/* Show the configuration the boot stage would use: the file, then a
 * command line (default: this kernel's). */
static int cmd_boot_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "cmdline", required_argument, NULL, 'l' },
		{ 0 }
	};
	static char text[16384], out[8192];
	const char *config = "/etc/sealinit.conf", *cmdline = NULL;
	struct si_bootcfg c;
	struct si_diag d = { { 0 } };
	size_t n;
	int ch, fd;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'l': cmdline = optarg; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return usage_error("boot-config", "unexpected argument `%s'", argv[optind]);
	if (load_config("boot-config", config, false, &c) < 0)
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

static int cmd_help(int argc, char **argv);

static int cmd_version(int argc, char **argv)
{
	printf("sealinit %s (tpm2 %s, legacy network %s, rescue shell %s)\n", SEALINIT_VERSION,
	       ENABLE_TPM2 ? "on" : "off", ENABLE_LEGACY_NET ? "on" : "off",
	       ENABLE_RESCUE_SHELL ? "on" : "off");
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *help;
} commands[] = {
	{ "enroll", cmd_enroll,
	  "DEVICE [--key-file FILE] [--tcti SPEC] [--pcrs LIST] [--pin]",
	  "seal a new key to the TPM and add it as a keyslot + systemd-tpm2 token" },
	{ "unlock", cmd_unlock, "DEVICE [NAME] [--test] [--tcti SPEC]",
	  "unseal a token's key and activate NAME (or only check it: --test)" },
	{ "measure", cmd_measure, "[--pcr N] --string S | --file F [--tcti SPEC]",
	  "extend a measurement into a PCR (default 15) in every bank" },
	{ "cap", cmd_cap, "[--pcrs LIST] [--tcti SPEC]",
	  "extend a separator into PCRs so sealed keys stay shut until reboot" },
	{ "pcrread", cmd_pcrread, "[--pcrs LIST] [--bank sha256] [--tcti SPEC]",
	  "print PCR values" },
	{ "legacy-fetch", cmd_legacy_fetch, "[--config FILE] DEVICE NAME | DEVICE --test | --key-file FILE|-",
	  "fetch the legacy split key over HTTPS; unlock, test, or write it" },
	{ "migrate", cmd_migrate, "[--config FILE] [--key-file FILE|-] [--pcrs LIST] DEVICE | --finish DEVICE | --status DEVICE",
	  "enroll the TPM next to the legacy keyslot; --finish removes the legacy keyslot" },
	{ "boot-config", cmd_boot_config, "[--config FILE] [--cmdline TEXT]",
	  "print the boot stage's configuration after the command line's overrides" },
	{ "version", cmd_version, "", "print the version and the build's features" },
	{ "help", cmd_help, "", "this text" },
};

static int cmd_help(int argc, char **argv)
{
	size_t i;

	printf("Usage: %s [-v] COMMAND [ARGS]\n\n", prog);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-8s %s\n           %s\n", commands[i].name, commands[i].usage,
		       commands[i].help);
	printf("\nCommon options: --tcti SPEC (default $SEALINIT_TCTI or %s),\n"
	       "  --tpm-timeout MS (default %d). LIST is PCR numbers joined by '+' or ','.\n"
	       "Exit codes: 0 ok, 1 error, 2 usage, 3 no TPM, 4 PCR policy mismatch,\n"
	       "  5 TPM lockout, 6 wrong PIN, 7 no token, 8 malformed token,\n"
	       "  9 bad LUKS2 header, 10 storage key mismatch, 11 key opens no keyslot,\n"
	       "  12 unsupported token feature, 13 other TPM error, 14 activation failed,\n"
	       "  15 PIN required; legacy fetch: 16 network down, 17 DNS, 18 connect,\n"
	       "  19 TLS, 20 HTTP 401, 21 HTTP 403, 22 HTTP 5xx, 23 malformed response,\n"
	       "  24 oversize response, 25 verification, 26 deadline, 27 credentials,\n"
	       "  28 fingerprint. See docs/cli.md.\n",
	       CONFIG_TPM2_TCTI, CONFIG_TPM2_TIMEOUT_MS);
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit no_core = { 0, 0 };
	size_t i;

	/* As PID 1 of the initramfs, run the boot stage; never otherwise: a
	 * second boot stage would remount and re-measure under the first. */
	if (getpid() == 1) {
		setenv("TSS2_LOG", "all+NONE", 0);
		return si_boot_main();
	}

	/* udhcpc's lease script is a symlink to us (net.h). */
	if (!strcmp(basename(argv[0]), "udhcpc.script")) {
		struct si_diag d = { { 0 } };
		int r = argc == 2 ? si_net_udhcpc_event(argv[1], &d) : -EINVAL;

		if (r < 0)
			fprintf(stderr, "sealinit udhcpc.script: %s\n", d.msg[0] ? d.msg : si_strerror(r));
		return r < 0;
	}

	/* Secrets pass through this process: no core dumps, no ptrace by
	 * other users. */
	(void)setrlimit(RLIMIT_CORE, &no_core);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	while (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--verbose") == 0)) {
		verbose++;
		argv++;
		argc--;
	}
	/* The TSS logs to stderr on its own; its errors reach the user through
	 * our messages instead. -vv shows them. */
	if (verbose < 2)
		setenv("TSS2_LOG", "all+NONE", 0);
	if (argc < 2)
		return cmd_help(argc, argv), EXIT_USAGE;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(argc, argv);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(argc, argv);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command `%s'. Try `%s help'.\n", prog, argv[1], prog);
	return EXIT_USAGE;
}
