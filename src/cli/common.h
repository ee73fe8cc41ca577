/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_CLI_COMMON_H
#define SEALINIT_CLI_COMMON_H

/*
 * What the subcommands share: turning codes into one message and one exit
 * code, reading secrets, the configuration file, and where a fetched key
 * goes. Only src/cli and src/boot print.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXIT_USAGE   2
#define KEYFILE_MAX  (64 * 1024)
#define PASS_MAX     512

struct cli_args;
struct si_bootcfg;
struct si_diag;
struct si_legacy_unlock_opts;
struct si_legacy_unlock_result;
struct si_pcr_opts;

extern const char *const prog;
extern int verbose;             /* -v count, set by main() */

/* "sealinit CMD: <what happened>: <detail>"; returns the exit code of r. */
int fail(const char *cmd, int r, const struct si_diag *d);

/* A bad command line: the message, a pointer to `help'; returns 2. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "this build has no WHAT"; returns the exit code of -SI_EUNSUPPORTED. */
int unsupported(const char *cmd, const char *what);

double now_ms(void);

int read_secret_line(const char *prompt, char *buf, size_t size);
int ask_pin(void *ctx, char *buf, size_t size);
/* fd's content to its end into buf: -EFBIG when it fills buf, else 0 or
 * -errno; *len is what was read. */
int read_fd_whole(int fd, char *buf, size_t size, size_t *len);
int read_key_fd(int fd, char *buf, size_t size, size_t *len);
int read_key_file(const char *path, char *buf, size_t size, size_t *len);
/* --owner-auth-file: the owner hierarchy's password, all of the file's
 * bytes as tpm2-tools' `file:' form takes them (a newline in it is part
 * of it). Locked memory the caller frees, or NULL: with *rc 0 when the
 * option was not given, else the exit code after printing why. */
char *owner_auth_option(const char *cmd, const char *path, size_t *len, int *rc);
/* A public file (a PEM public key) of at most size bytes: 0, or -errno
 * (-EFBIG when larger). */
int read_public_key(const char *path, uint8_t *buf, size_t size, size_t *len);
/* The same for the --public-key option: 0, or the exit code after saying
 * why. */
int public_key_option(const char *cmd, const char *path, uint8_t *buf, size_t size, size_t *len);

int load_config(const char *cmd, const char *path, bool required, struct si_bootcfg *c);

struct key_out {
	const char *path;
	int fd;
	bool tmpfile;   /* unnamed until key_out_close(ok) */
};

int key_out_open(const char *cmd, const char *path, struct key_out *k);
int key_out_close(const char *cmd, struct key_out *k, bool ok);

int legacy_unlock(const char *cmd, const struct si_bootcfg *c, struct si_legacy_unlock_opts *o,
		  struct si_legacy_unlock_result *res);

/* --expect FILE: pcrN=HEX lines (si_pcr_expect_parse), every PCR of them
 * within mask. 0, or 2 after printing why. */
struct si_pcr_expect;
int expect_file(const char *cmd, const char *path, uint32_t mask, struct si_pcr_expect *e);

/* The event log systemd and sealinit append to (docs/event-log.md). */
#define EVENTLOG_DEFAULT "/run/log/systemd/tpm2-measure.log"
#define EVENTLOG_MAX     (1024 * 1024)

int pcr_opts_from_args(const char *cmd, const struct cli_args *a, struct si_pcr_opts *po);

#endif
