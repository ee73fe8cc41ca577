/* SPDX-License-Identifier: MIT */
/*
 * Helpers every subcommand shares: messages and exit codes, secrets from
 * the terminal, stdin or a file, the configuration file, the key output of
 * a fetch, and the legacy key source.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/secret.h"
#include "core/textfile.h"
#include "core/events.h"
#include "core/legacy/unlock.h"
#include "core/pcrs.h"
#include "core/tpm/pcr.h"

const char *const prog = "sealinit";
int verbose;

int fail(const char *cmd, int r, const struct si_diag *d)
{
	if (d && d->msg[0])
		fprintf(stderr, "%s %s: %s: %s\n", prog, cmd, si_strerror(r), d->msg);
	else
		fprintf(stderr, "%s %s: %s\n", prog, cmd, si_strerror(r));
	return si_exit_code(r);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", prog, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry `%s help'.\n", prog);
	return EXIT_USAGE;
}

int unsupported(const char *cmd, const char *what)
{
	fprintf(stderr, "%s %s: this build has no %s\n", prog, cmd, what);
	return si_exit_code(-SI_EUNSUPPORTED);
}

double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Read one line without echo from the terminal, or the first line of
 * standard input when it is not a terminal (scripts, tests). */
int read_secret_line(const char *prompt, char *buf, size_t size)
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

int ask_pin(void *ctx, char *buf, size_t size)
{
	int r = read_secret_line("TPM PIN: ", buf, size);

	(void)ctx;
	if (r == -ENODATA)
		return -SI_ENOPIN;
	return r;
}

/* All of fd's content into buf, to the end of the file: -EFBIG when it
 * fills buf (there may be more), else 0; *len is what was read. */
int read_fd_whole(int fd, char *buf, size_t size, size_t *len)
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
	return r;
}

/* A key: all of fd's content is the passphrase, as cryptsetup reads it. */
int read_key_fd(int fd, char *buf, size_t size, size_t *len)
{
	int r = read_fd_whole(fd, buf, size, len);

	if (r == 0 && *len == 0)
		r = -ENODATA;
	return r;
}

/* A key file: a regular file, not followed through a symlink. */
int read_key_file(const char *path, char *buf, size_t size, size_t *len)
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

char *owner_auth_option(const char *cmd, const char *path, size_t *len, int *rc)
{
	/* TPM2B_AUTH holds at most 64 bytes; one more tells a longer file. */
	char *buf;
	int r;

	*rc = 0;
	*len = 0;
	if (!path)
		return NULL;
	buf = si_secret_alloc(65);
	if (!buf) {
		*rc = 1;
		return NULL;
	}
	r = read_key_file(path, buf, 65, len);
	if (r == 0 && *len > 64)
		r = -EFBIG;
	if (r < 0) {
		fprintf(stderr, "%s %s: cannot use --owner-auth-file `%s': %s\n", prog, cmd, path,
			r == -ENODATA ? "empty file (an empty password needs no option)" :
			r == -EFBIG ? "longer than the 64 bytes a TPM password can be" :
			r == -EINVAL ? "not a regular file" : strerror(-r));
		si_secret_free(buf);
		*rc = EXIT_USAGE;
		return NULL;
	}
	return buf;
}

int read_public_key(const char *path, uint8_t *buf, size_t size, size_t *len)
{
	size_t n = 0;
	ssize_t k;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	while ((k = read(fd, buf + n, size - n)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			break;
		}
		n += (size_t)k;
		if (n == size) {
			char c;

			if (read(fd, &c, 1) > 0)
				r = -EFBIG;
			break;
		}
	}
	close(fd);
	*len = n;
	return r < 0 ? r : n ? 0 : -ENODATA;
}

int public_key_option(const char *cmd, const char *path, uint8_t *buf, size_t size, size_t *len)
{
	int r = read_public_key(path, buf, size, len);

	if (r < 0)
		return usage_error(cmd, "cannot read --public-key `%.200s': %s", path,
				   r == -EFBIG ? "larger than 2 KiB" : strerror(-r));
	return 0;
}

/* The boot configuration file, over the defaults. A missing file is
 * fine unless required. */
int load_config(const char *cmd, const char *path, bool required, struct si_bootcfg *c)
{
	static char text[SI_TEXTFILE_CONFIG_MAX + 1];
	struct si_diag d = { { 0 } };
	int r;

	si_bootcfg_defaults(c);
	/* The boot's reader: what it would refuse, this refuses too. */
	r = si_textfile_read(path, text, sizeof(text), &d);
	if (r == -ENOENT && !required)
		return 0;
	if (r < 0) {
		fprintf(stderr, "%s %s: %s\n", prog, cmd, d.msg);
		return r;
	}
	if (si_bootcfg_parse_file(c, text, &d) < 0) {
		fprintf(stderr, "%s %s: %s: %s\n", prog, cmd, path, d.msg);
		return -EINVAL;
	}
	return 0;
}

/*
 * Where --key-file says the key goes: `-' is standard output (never a
 * terminal); anything else a new file of mode 0600 that appears under its
 * name only once the key in it is verified (O_TMPFILE, then linkat), or,
 * where the filesystem has no O_TMPFILE, one made with O_EXCL and removed
 * again on failure. Returns the fd, or -1 after printing why.
 */
int key_out_open(const char *cmd, const char *path, struct key_out *k)
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
int key_out_close(const char *cmd, struct key_out *k, bool ok)
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

static void print_progress(void *ctx, const char *msg)
{
	fprintf(stderr, "%s %s: %s\n", prog, (const char *)ctx, msg);
}

/* The legacy key source (core/legacy/unlock.h), as the boot stage runs it
 * but on a network that is already up. */
int legacy_unlock(const char *cmd, const struct si_bootcfg *c, struct si_legacy_unlock_opts *o,
		  struct si_legacy_unlock_result *res)
{
	struct si_diag d = { { 0 } };
	double t0 = now_ms();
	int r;

	if (!ENABLE_LEGACY_NET)
		return unsupported(cmd, "legacy network fetch");
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

/* The TPM options and --pcrs (default CONFIG_TPM2_DEFAULT_PCRS) of a command
 * that extends or reads PCRs. Returns 0, or 2 after printing why. */
int pcr_opts_from_args(const char *cmd, const struct cli_args *a, struct si_pcr_opts *po)
{
	struct si_diag d = { { 0 } };

	*po = (struct si_pcr_opts){ .tcti = a->tcti, .timeout_ms = a->timeout_ms };
	if (si_pcrs_parse(a->pcrs ? a->pcrs : CONFIG_TPM2_DEFAULT_PCRS, &po->pcr_mask, &d) < 0)
		return usage_error(cmd, "%s", d.msg);
	return 0;
}

int expect_file(const char *cmd, const char *path, uint32_t mask, struct si_pcr_expect *e)
{
	static char text[16384];
	struct si_diag d = { { 0 } };
	char pcrs[96];

	/* Whole or refused: a cut file would seal to fewer PCRs' values. */
	if (si_textfile_read(path, text, sizeof(text), &d) < 0)
		return usage_error(cmd, "--expect: %s", d.msg);
	if (si_pcr_expect_parse(text, e, &d) < 0)
		return usage_error(cmd, "--expect `%s': %s", path, d.msg);
	if (!e->mask)
		return usage_error(cmd, "--expect `%s' has no pcrN=HEX line", path);
	if (e->mask & ~mask) {
		si_pcrs_format(e->mask & ~mask, pcrs, sizeof(pcrs));
		return usage_error(cmd, "--expect `%s' gives PCR %s, which --pcrs does not bind", path,
				   pcrs);
	}
	return 0;
}
