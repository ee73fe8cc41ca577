/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_CLI_OPTIONS_H
#define SEALINIT_CLI_OPTIONS_H

/*
 * Every option of every subcommand, in one table (options.c) read by one
 * parser. A subcommand's entry in main.c names the options it takes as a
 * mask of these bits; the parser rejects the others (exit 2).
 */
#include <stdint.h>
#include <stdio.h>

/* Bits of a command's option mask (64: there are more than 32). */
#define OPT_CONFIG       (UINT64_C(1) << 0)
#define OPT_CMDLINE      (UINT64_C(1) << 1)
#define OPT_KEY_FILE     (UINT64_C(1) << 2)
#define OPT_PCRS         (UINT64_C(1) << 3)
#define OPT_PIN          (UINT64_C(1) << 4)
#define OPT_PCR          (UINT64_C(1) << 5)
#define OPT_STRING       (UINT64_C(1) << 6)
#define OPT_FILE         (UINT64_C(1) << 7)
#define OPT_BANK         (UINT64_C(1) << 8)
#define OPT_FINISH       (UINT64_C(1) << 9)
#define OPT_STATUS       (UINT64_C(1) << 10)
#define OPT_TEST         (UINT64_C(1) << 11)
#define OPT_TCTI         (UINT64_C(1) << 12)
#define OPT_TPM_TIMEOUT  (UINT64_C(1) << 13)
/* Not an option: also accept the one-letter forms (-k) of the others. */
#define OPT_SHORT        (UINT64_C(1) << 14)
/* Not an option: parse nothing, ignore every argument (help, version). */
#define OPT_RAW          (UINT64_C(1) << 15)
/* Not an option: refuse positional arguments. */
#define OPT_NO_ARGS      (UINT64_C(1) << 16)
#define OPT_UNSAFE_PCRS  (UINT64_C(1) << 17)
#define OPT_INIT         (UINT64_C(1) << 18)
#define OPT_ROOTFS       (UINT64_C(1) << 19)
#define OPT_NAME         (UINT64_C(1) << 20)
#define OPT_FIXATE       (UINT64_C(1) << 21)
#define OPT_MEASURE_PCR  (UINT64_C(1) << 22)
#define OPT_EXPECT       (UINT64_C(1) << 23)
#define OPT_JSON         (UINT64_C(1) << 24)
#define OPT_EVENT_LOG    (UINT64_C(1) << 25)
#define OPT_RECOVERY     (UINT64_C(1) << 26)
#define OPT_PUBLIC_KEY   (UINT64_C(1) << 27)
#define OPT_PUBKEY_PCRS  (UINT64_C(1) << 28)
#define OPT_SIGNATURE    (UINT64_C(1) << 29)
#define OPT_PRIVATE_KEY  (UINT64_C(1) << 30)
#define OPT_VALUES       (UINT64_C(1) << 31)
#define OPT_CURRENT      (UINT64_C(1) << 32)
#define OPT_COUNTER      (UINT64_C(1) << 33)
#define OPT_NV_INDEX     (UINT64_C(1) << 34)
#define OPT_COUNTER_VALUE (UINT64_C(1) << 35)
#define OPT_FIRMWARE_LOG (UINT64_C(1) << 36)
#define OPT_FIRMWARE_PCRS (UINT64_C(1) << 37)
#define OPT_INITRD       (UINT64_C(1) << 38)
#define OPT_FIRMWARE_CMDLINE (UINT64_C(1) << 39)
#define OPT_KERNEL       (UINT64_C(1) << 40)
#define OPT_UNCAPPED_PCRS (UINT64_C(1) << 41)
#define OPT_FORCE        (UINT64_C(1) << 42)
#define OPT_BOOT_RECORD  (UINT64_C(1) << 43)
#define OPT_CLEAR        (UINT64_C(1) << 44)
#define OPT_CIPHER       (UINT64_C(1) << 45)
#define OPT_RECORD       (UINT64_C(1) << 46)
#define OPT_KEY          (UINT64_C(1) << 47)
#define OPT_MKFS         (UINT64_C(1) << 48)
#define OPT_ESCROW_DIR   (UINT64_C(1) << 49)
#define OPT_ESCROW_KEY   (UINT64_C(1) << 50)
#define OPT_WORKDIR      (UINT64_C(1) << 51)
#define OPT_SHOW_RECOVERY_KEY (UINT64_C(1) << 52)
#define OPT_CHECK_BLANK  (UINT64_C(1) << 53)
#define OPT_BOOT_RULES   (UINT64_C(1) << 54)
#define OPT_STEP         (UINT64_C(1) << 55)
#define OPT_OWNER_AUTH   (UINT64_C(1) << 56)

#define OPT_TPM (OPT_TCTI | OPT_TPM_TIMEOUT)

struct cli_args {
	const char *tcti;       /* --tcti, else $SEALINIT_TCTI, else CONFIG_TPM2_TCTI */
	int timeout_ms;         /* --tpm-timeout, 1-600000 */
	const char *pcrs;       /* --pcrs as given; NULL: the command's default */
	const char *key_file;   /* --key-file, -k */
	const char *config;     /* --config, default /etc/sealinit.conf */
	int config_given;       /* --config was given: the file must exist */
	const char *string;     /* measure --string */
	const char *file;       /* measure --file */
	const char *bank;       /* pcrread --bank, default sha256 */
	const char *cmdline;    /* boot-config, predict --cmdline */
	const char *init;       /* predict --init */
	const char *rootfs;     /* predict --rootfs */
	const char *expect;     /* enroll --expect */
	const char *event_log;  /* status --event-log */
	int json;               /* status --json */
	int recovery;           /* enroll --recovery */
	unsigned int pcr;       /* measure --pcr, 0-23, default 15 */
	const char *name;       /* enroll, unlock --test: --name, the name the volume id binds */
	const char *fixate;     /* unlock --fixate-volume-key */
	int measure_pcr;        /* unlock --tpm2-measure-pcr, 0-23; -1: none */
	const char *public_key; /* enroll --public-key: a signed PCR policy's key */
	const char *pubkey_pcrs; /* enroll --public-key-pcrs */
	const char *signature;  /* unlock, sign --signature: the signature file */
	const char *private_key; /* sign --private-key */
	const char *values;     /* sign --values: pcrN=HEX lines, as predict prints */
	int counter;            /* enroll --counter: bind to the rollback counter */
	uint32_t nv_index;      /* --nv-index, the rollback counter's (default SI_COUNTER_DEFAULT) */
	int has_counter_value;  /* sign, revoke --counter-value given */
	uint64_t counter_value;
	int test, pin, finish, status, unsafe_pcrs, current;
	int clear;              /* last-failure --clear */
	const char *cipher;     /* unlock --cipher: the segment cipher expected */
	int argc;               /* the positional arguments */
	char **argv;
	const char *firmware_log;  /* predict --firmware-log: the binary TCG event log */
	const char *firmware_pcrs; /* predict --firmware-pcrs: a device's read-out */
	const char *initrd;        /* predict --initrd: the initramfs PCR 9 will measure */
	const char *firmware_cmdline; /* predict --firmware-cmdline: the EFI stub's LoadOptions */
	const char *kernel;        /* predict --kernel: the PE image PCR 4 will measure */
	/* enroll, migrate, reseal --uncapped-pcrs: a token no PCR of the
	 * boot's cap closes (pcrs=) */
	int uncapped_pcrs;
	/* reseal, migrate --force: seal what the checks refuse (fewer PCRs
	 * than before, a command line nothing pins) */
	int force;
	const char *boot_record;   /* migrate --finish: this boot's unlock record */
	/* sign --record: also sign the device record's entry; enroll, unlock
	 * --record[=INDEX]: write, or read, the record at record_index
	 * (default SI_RECORD_DEFAULT); record_index_given: =INDEX was there */
	int record;
	int record_index_given;
	uint32_t record_index;
	const char *key;           /* escrow-open --key: the escrow key's private half */
	/* provision */
	const char *mkfs;          /* --mkfs 'PROGRAM ARGS' */
	const char *escrow_dir;    /* --escrow-dir */
	const char *escrow_key;    /* --escrow-key: the fleet escrow key's public PEM */
	const char *workdir;       /* --workdir; NULL: /run/sealinit, else $TMPDIR */
	int show_recovery_key;     /* --show-recovery-key */
	int check_blank;           /* --check-blank */
	int boot_rules;            /* unlock --boot-rules */
	int step;                  /* predict --step */
	const char *owner_auth_file; /* enroll, provision --owner-auth-file */
};

/* Parse argv (argv[0] is the command's name) for the options in mask.
 * Returns 0, or the exit code after printing why. */
int cli_parse(const char *cmd, uint64_t mask, int argc, char **argv, struct cli_args *a);

/* One line per option in mask: its name, argument and help. */
void cli_options_help(FILE *f, uint64_t mask);

#endif
