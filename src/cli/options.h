/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_CLI_OPTIONS_H
#define SEALINIT_CLI_OPTIONS_H

/*
 * Every option of every subcommand, in one table (options.c) read by one
 * parser. A subcommand's entry in main.c names the options it takes as a
 * mask of these bits; the parser rejects the others (exit 2).
 */
#include <stdio.h>

enum {
	OPT_CONFIG      = 1 << 0,
	OPT_CMDLINE     = 1 << 1,
	OPT_KEY_FILE    = 1 << 2,
	OPT_PCRS        = 1 << 3,
	OPT_PIN         = 1 << 4,
	OPT_PCR         = 1 << 5,
	OPT_STRING      = 1 << 6,
	OPT_FILE        = 1 << 7,
	OPT_BANK        = 1 << 8,
	OPT_FINISH      = 1 << 9,
	OPT_STATUS      = 1 << 10,
	OPT_TEST        = 1 << 11,
	OPT_TCTI        = 1 << 12,
	OPT_TPM_TIMEOUT = 1 << 13,
	/* Not an option: also accept the one-letter forms (-k) of the others. */
	OPT_SHORT       = 1 << 14,
	/* Not an option: parse nothing, ignore every argument (help, version). */
	OPT_RAW         = 1 << 15,
	/* Not an option: refuse positional arguments. */
	OPT_NO_ARGS     = 1 << 16,
	OPT_UNSAFE_PCRS = 1 << 17,
	OPT_INIT        = 1 << 18,
	OPT_ROOTFS      = 1 << 19,
	OPT_NAME        = 1 << 20,
	OPT_FIXATE      = 1 << 21,
	OPT_MEASURE_PCR = 1 << 22,
	OPT_PUBLIC_KEY  = 1 << 23,
	OPT_PUBKEY_PCRS = 1 << 24,
	OPT_SIGNATURE   = 1 << 25,
	OPT_PRIVATE_KEY = 1 << 26,
	OPT_VALUES      = 1 << 27,
	OPT_CURRENT     = 1 << 28,
};

#define OPT_TPM (OPT_TCTI | OPT_TPM_TIMEOUT)

struct cli_args {
	const char *tcti;       /* --tcti, else $SEALINIT_TCTI, else CONFIG_TPM2_TCTI */
	int timeout_ms;         /* --tpm-timeout, 1-600000 */
	const char *pcrs;       /* --pcrs as given; NULL: the command's default */
	const char *key_file;   /* --key-file, -k */
	const char *config;     /* --config, default /etc/sealinit.conf */
	const char *string;     /* measure --string */
	const char *file;       /* measure --file */
	const char *bank;       /* pcrread --bank, default sha256 */
	const char *cmdline;    /* boot-config, predict --cmdline */
	const char *init;       /* predict --init */
	const char *rootfs;     /* predict --rootfs */
	unsigned int pcr;       /* measure --pcr, 0-23, default 15 */
	const char *name;       /* enroll, unlock --test: --name, the name the volume id binds */
	const char *fixate;     /* unlock --fixate-volume-key */
	int measure_pcr;        /* unlock --tpm2-measure-pcr, 0-23; -1: none */
	const char *public_key; /* enroll --public-key: a signed PCR policy's key */
	const char *pubkey_pcrs; /* enroll --public-key-pcrs */
	const char *signature;  /* unlock, sign --signature: the signature file */
	const char *private_key; /* sign --private-key */
	const char *values;     /* sign --values: pcrN=HEX lines, as predict prints */
	int test, pin, finish, status, unsafe_pcrs, current;
	int argc;               /* the positional arguments */
	char **argv;
};

/* Parse argv (argv[0] is the command's name) for the options in mask.
 * Returns 0, or the exit code after printing why. */
int cli_parse(const char *cmd, unsigned int mask, int argc, char **argv, struct cli_args *a);

/* One line per option in mask: its name, argument and help. */
void cli_options_help(FILE *f, unsigned int mask);

#endif
