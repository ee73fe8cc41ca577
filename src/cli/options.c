/* SPDX-License-Identifier: MIT */
/*
 * The options of every subcommand, parsed in one place. A command takes
 * the options its table entry names; getopt_long sees only those, so an
 * option of another command is refused (and abbreviated as before) exactly
 * as if the command had its own getopt loop.
 */
#include <errno.h>
#include <stdint.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/pcrs.h"

/* What the boot stage writes for the booted system (src/boot/sequence.c). */
#define BOOT_CONFIG_COPY "/run/sealinit/sealinit.conf"
#include "core/tpm/policy.h"
#include "core/tpm/record.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

/* getopt_long's value for the i-th long option, above every short one. */
#define LONG_VAL 256

/*
 * In the order the commands used to list them: getopt_long names the
 * candidates of an ambiguous abbreviation (`--t') in this order.
 */
static const struct cli_option {
	const char *name;
	int has_arg;
	int short_name;         /* 0: none; taken only with OPT_SHORT */
	uint64_t bit;
	const char *arg;        /* the argument's name in help */
	const char *help;
} options[] = {
	{ "config", required_argument, 0, OPT_CONFIG, "FILE",
	  "the configuration file (default: the one this boot used, "
	  "/run/sealinit/sealinit.conf, else /etc/sealinit.conf)" },
	{ "cmdline", required_argument, 0, OPT_CMDLINE, "TEXT",
	  "a kernel command line to apply instead of /proc/cmdline (reseal, migrate: the expected one)" },
	{ "key-file", required_argument, 'k', OPT_KEY_FILE, "FILE",
	  "a key or passphrase file, `-' for standard input or output (-k in enroll, migrate)" },
	{ "pcrs", required_argument, 0, OPT_PCRS, "LIST",
	  "PCRs 0-23 joined by '+' or ',' (default " CONFIG_TPM2_DEFAULT_PCRS "; predict: those it has values for)" },
	{ "pin", no_argument, 0, OPT_PIN, NULL,
	  "also require a PIN to unlock" },
	{ "pcr", required_argument, 0, OPT_PCR, "N",
	  "the PCR to extend, 0-23 (default 15)" },
	{ "string", required_argument, 0, OPT_STRING, "S",
	  "measure the string S (at most 1024 bytes)" },
	{ "file", required_argument, 0, OPT_FILE, "F",
	  "measure the SHA-256 of file F" },
	{ "bank", required_argument, 0, OPT_BANK, "ALG",
	  "sha1, sha256 (default), sha384 or sha512" },
	{ "finish", no_argument, 0, OPT_FINISH, NULL,
	  "remove the legacy keyslot, once the TPM unlocks" },
	{ "status", no_argument, 0, OPT_STATUS, NULL,
	  "print the migration journal" },
	{ "test", no_argument, 0, OPT_TEST, NULL,
	  "only check which keyslot the key opens; activate nothing" },
	{ "tcti", required_argument, 0, OPT_TCTI, "SPEC",
	  "where the TPM is (default $SEALINIT_TCTI, else " CONFIG_TPM2_TCTI ")" },
	{ "unsafe-pcrs", no_argument, 0, OPT_UNSAFE_PCRS, NULL,
	  "seal to no PCR, or to resettable PCR 16 or 23 (tests only)" },
	{ "recovery", no_argument, 0, OPT_RECOVERY, NULL,
	  "add a recovery key (systemd's form) instead of a TPM token; printed once" },
	{ "json", no_argument, 0, OPT_JSON, NULL,
	  "print JSON, for fleet tooling (status)" },
	{ "event-log", required_argument, 0, OPT_EVENT_LOG, "FILE",
	  "this boot's CEL-JSON event log (default /run/log/systemd/tpm2-measure.log)" },
	{ "expect", required_argument, 0, OPT_EXPECT, "FILE",
	  "seal to these pcrN=HEX values (as predict prints them), not the current ones" },
	{ "init", required_argument, 0, OPT_INIT, "FILE",
	  "the real init, as the rootfs holds it (predict; reseal, migrate: hash it again)" },
	{ "rootfs", required_argument, 0, OPT_ROOTFS, "IMAGE",
	  "the root image, for measure=image (predict)" },
	{ "name", required_argument, 0, OPT_NAME, "NAME",
	  "the /dev/mapper name the volume key's id is bound to (default sealdata)" },
	{ "fixate-volume-key", required_argument, 0, OPT_FIXATE, "ID",
	  "refuse a volume whose volume key id (64 hex, as enroll prints) differs" },
	{ "tpm2-measure-pcr", required_argument, 0, OPT_MEASURE_PCR, "N",
	  "after activation, measure the volume into PCR N, as systemd does" },
	{ "public-key", required_argument, 0, OPT_PUBLIC_KEY, "PEM",
	  "seal to PCR values signed by this RSA key, as systemd's --tpm2-public-key" },
	{ "public-key-pcrs", required_argument, 0, OPT_PUBKEY_PCRS, "LIST",
	  "the PCRs whose values the signatures approve (default " CONFIG_TPM2_DEFAULT_PCRS ")" },
	{ "signature", required_argument, 0, OPT_SIGNATURE, "FILE",
	  "the signature file (default /etc/sealinit/tpm2-pcr-signature.json for unlock)" },
	{ "private-key", required_argument, 0, OPT_PRIVATE_KEY, "PEM",
	  "the RSA private key to sign with (sign)" },
	{ "values", required_argument, 0, OPT_VALUES, "FILE",
	  "PCR values to sign, pcrN=HEX lines as predict prints them (sign)" },
	{ "current", no_argument, 0, OPT_CURRENT, NULL,
	  "sign (sign) or seal to (migrate) the TPM's current PCR values" },
	{ "counter", no_argument, 0, OPT_COUNTER, NULL,
	  "also bind the signed policy to the TPM's rollback counter (enroll; docs/updates.md)" },
	{ "nv-index", required_argument, 0, OPT_NV_INDEX, "INDEX",
	  "the rollback counter's NV index, 0x01800000-0x01bfffff (default 0x01805e00)" },
	{ "counter-value", required_argument, 0, OPT_COUNTER_VALUE, "N",
	  "sign: good while the counter is at most N; revoke: raise it to N (default +1)" },
	{ "tpm-timeout", required_argument, 0, OPT_TPM_TIMEOUT, "MS",
	  "the longest TPM exchange, 1-600000 (default " STR(CONFIG_TPM2_TIMEOUT_MS) ")" },
	{ "firmware-log", required_argument, 0, OPT_FIRMWARE_LOG, "FILE",
	  "the firmware's binary event log (predict; reseal, revoke, status default: "
	  "/sys/kernel/security/tpm0/binary_bios_measurements)" },
	{ "firmware-pcrs", required_argument, 0, OPT_FIRMWARE_PCRS, "FILE",
	  "a device's PCR read-out, pcrN=HEX or `sha256:N HEX' lines as pcrread prints (predict)" },
	{ "initrd", required_argument, 0, OPT_INITRD, "FILE",
	  "the initramfs the EFI stub will measure into PCR 9 (predict)" },
	{ "firmware-cmdline", required_argument, 0, OPT_FIRMWARE_CMDLINE, "TEXT",
	  "the command line the EFI stub measures, if not --cmdline (predict)" },
	{ "kernel", required_argument, 0, OPT_KERNEL, "FILE",
	  "the kernel's PE image the firmware will measure into PCR 4 (predict)" },
	{ "uncapped-pcrs", no_argument, 0, OPT_UNCAPPED_PCRS, NULL,
	  "seal to PCRs the boot does not cap (not in pcrs=): the booted system can unseal it" },
	{ "force", no_argument, 0, OPT_FORCE, NULL,
	  "reseal, migrate: seal although fewer PCRs than pcrs= or an unchecked command line" },
	{ "boot-record", required_argument, 0, OPT_BOOT_RECORD, "FILE",
	  "this boot's unlock record (default /run/sealinit/unlock; migrate --finish)" },
	{ "cipher", required_argument, 0, OPT_CIPHER, "SPEC",
	  "the data segment's cipher, e.g. aes-xts-plain64 (default: a known-good one)" },
	{ "clear", no_argument, 0, OPT_CLEAR, NULL,
	  "remove the failure record once read (last-failure)" },
	{ "record", optional_argument, 0, OPT_RECORD, "INDEX",
	  "the device record (docs/token-format.md): sign its entry too; enroll: write it; "
	  "unlock: pin the volume it names (default index 0x01805e01)" },
	{ "key", required_argument, 0, OPT_KEY, "PEM",
	  "the escrow key's private half, an unencrypted PEM RSA key (escrow-open)" },
	{ "mkfs", required_argument, 0, OPT_MKFS, "'PROGRAM ARGS'",
	  "make the file system with PROGRAM (absolute path; words split on spaces, no shell)" },
	{ "escrow-dir", required_argument, 0, OPT_ESCROW_DIR, "DIR",
	  "write the recovery key there, encrypted to --escrow-key (provision)" },
	{ "escrow-key", required_argument, 0, OPT_ESCROW_KEY, "PEM",
	  "the fleet's escrow public key (RSA, PEM)" },
	{ "workdir", required_argument, 0, OPT_WORKDIR, "DIR",
	  "where the header is built (default /run/sealinit, else $TMPDIR; a tmpfs)" },
	{ "show-recovery-key", no_argument, 0, OPT_SHOW_RECOVERY_KEY, NULL,
	  "print the new recovery key on standard output (provision)" },
	{ "check-blank", no_argument, 0, OPT_CHECK_BLANK, NULL,
	  "only say whether DEVICE is blank enough to provision (provision)" },
	{ "boot-rules", no_argument, 0, OPT_BOOT_RULES, NULL,
	  "unlock as the boot does: its token rules from --config (pcrs=, lockdown), and the "
	  "token's rollback counter read" },
	{ "step", no_argument, 0, OPT_STEP, NULL,
	  "predict what a distribution's initramfs step measures: --cmdline and --config as files" },
	{ "owner-auth-file", required_argument, 0, OPT_OWNER_AUTH, "FILE",
	  "the TPM owner hierarchy's password, the file's bytes (tpm2-tools' file: form)" },
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

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

static int parse_pcr_index(const char *cmd, const char *opt, const char *arg, unsigned int *pcr)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || end == arg || v >= SI_PCR_COUNT || arg[0] == '-')
		return usage_error(cmd, "Invalid --%s: `%s' (expected 0-23)", opt, arg);
	*pcr = (unsigned int)v;
	return 0;
}

static int parse_nv_index(const char *cmd, const char *opt, const char *arg, uint32_t *index)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || *end || end == arg || arg[0] == '-' || v < SI_COUNTER_FIRST ||
	    v > SI_COUNTER_LAST)
		return usage_error(cmd, "Invalid --%s: `%s' (expected an index of the owner "
				   "range, 0x01800000-0x01bfffff)", opt, arg);
	*index = (uint32_t)v;
	return 0;
}

static int parse_counter_value(const char *cmd, const char *arg, uint64_t *v)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (errno || *end || end == arg || arg[0] == '-' || n > INT64_MAX)
		return usage_error(cmd, "Invalid --counter-value: `%s' (expected 0-%lld)", arg,
				   (long long)INT64_MAX);
	*v = n;
	return 0;
}

/* The table entry getopt_long's return value stands for, or NULL. */
static const struct cli_option *lookup(int ch)
{
	size_t i;

	if (ch >= LONG_VAL && (size_t)(ch - LONG_VAL) < N_OPTIONS)
		return &options[ch - LONG_VAL];
	for (i = 0; i < N_OPTIONS; i++)
		if (options[i].short_name && options[i].short_name == ch)
			return &options[i];
	return NULL;
}

int cli_parse(const char *cmd, uint64_t mask, int argc, char **argv, struct cli_args *a)
{
	struct option longopts[N_OPTIONS + 1];
	char shortopts[2 * N_OPTIONS + 1];
	const char *env = getenv("SEALINIT_TCTI");
	const struct cli_option *o;
	size_t i, n = 0, s = 0;
	int ch, r;

	*a = (struct cli_args){
		.tcti = env && *env ? env : CONFIG_TPM2_TCTI,
		.timeout_ms = CONFIG_TPM2_TIMEOUT_MS,
		.config = "/etc/sealinit.conf",
		.bank = "sha256",
		.pcr = 15,
		.measure_pcr = -1,
		.nv_index = SI_COUNTER_DEFAULT,
		.record_index = SI_RECORD_DEFAULT,
		.argc = argc - 1,
		.argv = argv + 1,
	};
	if (mask & OPT_RAW)
		return 0;
	for (i = 0; i < N_OPTIONS; i++) {
		if (!(mask & options[i].bit))
			continue;
		longopts[n++] = (struct option){ options[i].name, options[i].has_arg, NULL,
						 LONG_VAL + (int)i };
		if ((mask & OPT_SHORT) && options[i].short_name) {
			shortopts[s++] = (char)options[i].short_name;
			if (options[i].has_arg == required_argument)
				shortopts[s++] = ':';
		}
	}
	longopts[n] = (struct option){ 0 };
	shortopts[s] = '\0';

	/* getopt_long has already said what is wrong (as "CMD: ..."). */
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		o = lookup(ch);
		if (!o)
			return EXIT_USAGE;
		switch (o->bit) {
		case OPT_CONFIG:   a->config = optarg; a->config_given = 1; break;
		case OPT_CMDLINE:  a->cmdline = optarg; break;
		case OPT_KEY_FILE: a->key_file = optarg; break;
		case OPT_PCRS:     a->pcrs = optarg; break;
		case OPT_PIN:      a->pin = 1; break;
		case OPT_STRING:   a->string = optarg; break;
		case OPT_FILE:     a->file = optarg; break;
		case OPT_BANK:     a->bank = optarg; break;
		case OPT_FINISH:   a->finish = 1; break;
		case OPT_STATUS:   a->status = 1; break;
		case OPT_TEST:     a->test = 1; break;
		case OPT_UNSAFE_PCRS: a->unsafe_pcrs = 1; break;
		case OPT_TCTI:     a->tcti = optarg; break;
		case OPT_INIT:     a->init = optarg; break;
		case OPT_EXPECT:   a->expect = optarg; break;
		case OPT_JSON:     a->json = 1; break;
		case OPT_RECOVERY: a->recovery = 1; break;
		case OPT_EVENT_LOG: a->event_log = optarg; break;
		case OPT_ROOTFS:   a->rootfs = optarg; break;
		case OPT_NAME:     a->name = optarg; break;
		case OPT_FIXATE:   a->fixate = optarg; break;
		case OPT_PUBLIC_KEY:  a->public_key = optarg; break;
		case OPT_PUBKEY_PCRS: a->pubkey_pcrs = optarg; break;
		case OPT_SIGNATURE:   a->signature = optarg; break;
		case OPT_PRIVATE_KEY: a->private_key = optarg; break;
		case OPT_VALUES:      a->values = optarg; break;
		case OPT_CURRENT:     a->current = 1; break;
		case OPT_COUNTER:     a->counter = 1; break;
		case OPT_NV_INDEX:
			if ((r = parse_nv_index(cmd, "nv-index", optarg, &a->nv_index)))
				return r;
			break;
		case OPT_COUNTER_VALUE:
			if ((r = parse_counter_value(cmd, optarg, &a->counter_value)))
				return r;
			a->has_counter_value = 1;
			break;
		case OPT_FIRMWARE_LOG:  a->firmware_log = optarg; break;
		case OPT_FIRMWARE_PCRS: a->firmware_pcrs = optarg; break;
		case OPT_INITRD:        a->initrd = optarg; break;
		case OPT_FIRMWARE_CMDLINE: a->firmware_cmdline = optarg; break;
		case OPT_KERNEL:        a->kernel = optarg; break;
		case OPT_UNCAPPED_PCRS: a->uncapped_pcrs = 1; break;
		case OPT_FORCE:         a->force = 1; break;
		case OPT_BOOT_RECORD:   a->boot_record = optarg; break;
		case OPT_CLEAR:         a->clear = 1; break;
		case OPT_RECORD:
			a->record = 1;
			if (optarg && (r = parse_nv_index(cmd, "record", optarg, &a->record_index)))
				return r;
			a->record_index_given = optarg != NULL;
			break;
		case OPT_KEY:           a->key = optarg; break;
		case OPT_MKFS:          a->mkfs = optarg; break;
		case OPT_ESCROW_DIR:    a->escrow_dir = optarg; break;
		case OPT_ESCROW_KEY:    a->escrow_key = optarg; break;
		case OPT_WORKDIR:       a->workdir = optarg; break;
		case OPT_SHOW_RECOVERY_KEY: a->show_recovery_key = 1; break;
		case OPT_CHECK_BLANK:   a->check_blank = 1; break;
		case OPT_BOOT_RULES:    a->boot_rules = 1; break;
		case OPT_STEP:          a->step = 1; break;
		case OPT_OWNER_AUTH:    a->owner_auth_file = optarg; break;
		case OPT_CIPHER:
			/* As the boot's cipher=: a dm-crypt spec, never null. */
			if (!strchr(optarg, '-') || !strncmp(optarg, "cipher_null", 11))
				return usage_error(cmd, "Invalid --cipher: `%.80s' (expected a dm-crypt "
						   "cipher spec such as aes-xts-plain64, never "
						   "cipher_null)", optarg);
			a->cipher = optarg;
			break;
		case OPT_MEASURE_PCR: {
			unsigned int pcr;

			if ((r = parse_pcr_index(cmd, "tpm2-measure-pcr", optarg, &pcr)))
				return r;
			a->measure_pcr = (int)pcr;
			break;
		}
		case OPT_PCR:
			if ((r = parse_pcr_index(cmd, "pcr", optarg, &a->pcr)))
				return r;
			break;
		case OPT_TPM_TIMEOUT:
			if ((r = parse_timeout(cmd, optarg, &a->timeout_ms)))
				return r;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
	/* On a booted device the boot stage left the configuration it
	 * measured there; the real root's /etc may hold none, or another. */
	if (!a->config_given && access(BOOT_CONFIG_COPY, F_OK) == 0)
		a->config = BOOT_CONFIG_COPY;
	if ((mask & OPT_NO_ARGS) && a->argc)
		return usage_error(cmd, "unexpected argument `%s'", a->argv[0]);
	return 0;
}

void cli_options_help(FILE *f, uint64_t mask)
{
	char name[40];
	size_t i;

	for (i = 0; i < N_OPTIONS; i++) {
		if (!(mask & options[i].bit))
			continue;
		snprintf(name, sizeof(name), "--%s%s%s%s", options[i].name,
			 !options[i].arg ? "" : options[i].has_arg == optional_argument ? "[=" : " ",
			 options[i].arg ? options[i].arg : "",
			 options[i].arg && options[i].has_arg == optional_argument ? "]" : "");
		fprintf(f, "  %-18s %s\n", name, options[i].help);
	}
}
