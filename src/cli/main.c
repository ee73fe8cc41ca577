/* SPDX-License-Identifier: MIT */
/*
 * sealinit command line: a table of subcommands, in the manner of
 * wireguard-tools src/wg.c. Each entry names the options its command takes
 * (options.h); one parser reads them, and the command, in a file of its own,
 * calls the core and turns codes into one message and one exit code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/pid1.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/errors.h"
#include "core/legacy/net.h"

struct command;
static int help_main(const struct cli_args *a);

static int version_main(const struct cli_args *a)
{
	printf("sealinit %s (tpm2 %s, legacy network %s, rescue shell %s, lockdown %s)\n",
	       SEALINIT_VERSION, ENABLE_TPM2 ? "on" : "off", ENABLE_LEGACY_NET ? "on" : "off",
	       ENABLE_RESCUE_SHELL ? "on" : "off", ENABLE_LOCKDOWN ? "on" : "off");
	return 0;
}

static const struct command {
	const char *name;
	int (*fn)(const struct cli_args *a);
	uint64_t opts;          /* OPT_* the command takes */
	const char *usage;
	const char *help;
} commands[] = {
	{ "enroll", enroll_main,
	  OPT_KEY_FILE | OPT_SHORT | OPT_PCRS | OPT_PIN | OPT_UNSAFE_PCRS | OPT_NAME | OPT_EXPECT |
	  OPT_RECOVERY | OPT_PUBLIC_KEY | OPT_PUBKEY_PCRS | OPT_COUNTER | OPT_NV_INDEX | OPT_TPM |
	  OPT_CONFIG | OPT_UNCAPPED_PCRS | OPT_RECORD | OPT_SIGNATURE | OPT_OWNER_AUTH,
	  "DEVICE [--key-file FILE] [--tcti SPEC] [--pcrs LIST] [--expect FILE] [--pin] [--unsafe-pcrs] "
	  "[--config FILE] [--uncapped-pcrs] "
	  "[--name NAME] [--public-key PEM [--public-key-pcrs LIST] [--counter [--nv-index INDEX]] "
	  "[--record[=INDEX] [--signature FILE]]] [--owner-auth-file FILE] "
	  "| DEVICE --recovery [--key-file FILE]",
	  "seal a new key to the TPM and add it as a keyslot + systemd-tpm2 token" },
	{ "unlock", unlock_main,
	  OPT_TEST | OPT_NAME | OPT_FIXATE | OPT_MEASURE_PCR | OPT_SIGNATURE | OPT_CIPHER | OPT_TPM |
	  OPT_RECORD | OPT_PUBLIC_KEY | OPT_BOOT_RULES | OPT_CONFIG,
	  "DEVICE [NAME] [--test [--name NAME]] [--fixate-volume-key ID] [--tpm2-measure-pcr N] "
	  "[--signature FILE] [--cipher SPEC] [--record[=INDEX] --public-key PEM] "
	  "[--boot-rules [--config FILE]] [--tcti SPEC]",
	  "unseal a token's key and activate NAME (or only check it: --test)" },
	{ "measure", measure_main, OPT_PCR | OPT_STRING | OPT_FILE | OPT_TPM,
	  "[--pcr N] --string S | --file F [--tcti SPEC]",
	  "extend a measurement into a PCR (default 15) in every bank" },
	{ "cap", cap_main, OPT_PCRS | OPT_TPM | OPT_NO_ARGS,
	  "[--pcrs LIST] [--tcti SPEC]",
	  "extend a separator into PCRs so sealed keys stay shut until reboot" },
	{ "pcrread", pcrread_main, OPT_PCRS | OPT_BANK | OPT_TPM | OPT_NO_ARGS,
	  "[--pcrs LIST] [--bank sha256] [--tcti SPEC]",
	  "print PCR values" },
	{ "legacy-fetch", legacy_fetch_main, OPT_CONFIG | OPT_KEY_FILE | OPT_TEST,
	  "[--config FILE] DEVICE NAME | DEVICE --test | --key-file FILE|-",
	  "fetch the legacy split key over HTTPS; unlock, test, or write it" },
	{ "migrate", migrate_main,
	  OPT_CONFIG | OPT_KEY_FILE | OPT_SHORT | OPT_PCRS | OPT_FINISH | OPT_STATUS | OPT_TPM |
	  OPT_EXPECT | OPT_CURRENT | OPT_EVENT_LOG | OPT_FIRMWARE_LOG | OPT_CMDLINE | OPT_INIT |
	  OPT_FORCE | OPT_UNCAPPED_PCRS | OPT_BOOT_RECORD,
	  "[--config FILE] [--key-file FILE|-] [--pcrs LIST] [--expect FILE | --current | "
	  "[--event-log FILE] [--firmware-log FILE] [--cmdline TEXT] [--init FILE] [--force]] "
	  "[--uncapped-pcrs] DEVICE | --finish [--boot-record FILE] DEVICE | --status DEVICE",
	  "enroll the TPM next to the legacy keyslot; --finish removes the legacy keyslot" },
	{ "boot-config", boot_config_main, OPT_CONFIG | OPT_CMDLINE | OPT_NO_ARGS,
	  "[--config FILE] [--cmdline TEXT]",
	  "print the boot stage's configuration after the command line's overrides" },
	{ "predict", predict_main,
	  OPT_CONFIG | OPT_CMDLINE | OPT_INIT | OPT_ROOTFS | OPT_NO_ARGS | OPT_PCRS |
	  OPT_FIRMWARE_LOG | OPT_FIRMWARE_PCRS | OPT_INITRD | OPT_FIRMWARE_CMDLINE | OPT_KERNEL |
	  OPT_STEP,
	  "[--config FILE [--cmdline TEXT] --init FILE [--rootfs IMAGE] | --step --config FILE "
	  "--cmdline TEXT] [--firmware-log FILE "
	  "[--initrd FILE] [--firmware-cmdline TEXT] [--kernel FILE] | --firmware-pcrs FILE] "
	  "[--pcrs LIST]",
	  "print what the boot will measure, the PCR values a token binds, its policy" },
	{ "reseal", reseal_main,
	  OPT_KEY_FILE | OPT_SHORT | OPT_PCRS | OPT_EXPECT | OPT_EVENT_LOG | OPT_TPM | OPT_CONFIG |
	  OPT_FIRMWARE_LOG | OPT_CMDLINE | OPT_INIT | OPT_FORCE | OPT_UNCAPPED_PCRS,
	  "DEVICE [--key-file FILE] [--config FILE] [--pcrs LIST] [--expect FILE | [--event-log FILE] "
	  "[--firmware-log FILE] [--cmdline TEXT] [--init FILE]] [--force] [--uncapped-pcrs] "
	  "[--tcti SPEC]",
	  "after a recovery unlock: a new TPM token for this boot's state; drop the old" },
	{ "status", status_main,
	  OPT_JSON | OPT_EVENT_LOG | OPT_FIRMWARE_LOG | OPT_TPM | OPT_RECORD | OPT_PUBLIC_KEY,
	  "DEVICE [--json] [--event-log FILE] [--firmware-log FILE] [--tcti SPEC] "
	  "[--record[=INDEX] --public-key PEM]",
	  "show the volume's keyslots and tokens, the PCRs they bind, the log, the cap" },
	{ "sign", sign_main,
	  OPT_PRIVATE_KEY | OPT_PCRS | OPT_VALUES | OPT_CURRENT | OPT_SIGNATURE | OPT_COUNTER_VALUE |
	  OPT_NV_INDEX | OPT_TPM | OPT_NO_ARGS | OPT_RECORD,
	  "--private-key PEM --pcrs LIST --values FILE|--current [--signature FILE] "
	  "[--counter-value N [--nv-index INDEX]] [--record] [--tcti SPEC]",
	  "sign PCR values for tokens with a signed policy; add them to the signature file" },
	{ "revoke", revoke_main, OPT_COUNTER_VALUE | OPT_NV_INDEX | OPT_SIGNATURE | OPT_EVENT_LOG |
	  OPT_FIRMWARE_LOG | OPT_TPM | OPT_CONFIG,
	  "[DEVICE --signature FILE [--event-log FILE] [--firmware-log FILE]] [--counter-value N] "
	  "[--nv-index INDEX] [--config FILE] "
	  "[--tcti SPEC]",
	  "raise the TPM's rollback counter: signatures for lower values stop working" },
	{ "last-failure", last_failure_main, OPT_CLEAR | OPT_JSON | OPT_NO_ARGS,
	  "[--clear] [--json]",
	  "why the last boot failed, as the boot stage kept it in an EFI variable" },
	{ "escrow-open", escrow_open_main, OPT_KEY,
	  "--key PRIVATE.pem FILE [UUID]",
	  "decrypt an escrowed recovery key (a document, or an escrow medium) with the escrow key" },
	{ "provision", provision_main,
	  OPT_PCRS | OPT_EXPECT | OPT_PUBLIC_KEY | OPT_PUBKEY_PCRS | OPT_COUNTER | OPT_NV_INDEX |
	  OPT_SIGNATURE | OPT_NAME | OPT_CONFIG | OPT_UNCAPPED_PCRS | OPT_TPM | OPT_RECORD |
	  OPT_MKFS | OPT_ESCROW_DIR | OPT_ESCROW_KEY | OPT_WORKDIR | OPT_SHOW_RECOVERY_KEY |
	  OPT_CHECK_BLANK | OPT_OWNER_AUTH,
	  "DEVICE [--pcrs LIST] [--expect FILE] [--public-key PEM [--public-key-pcrs LIST] "
	  "[--counter [--nv-index INDEX]] [--signature FILE [--record[=INDEX]]]] [--name NAME] "
	  "[--config FILE] [--uncapped-pcrs] [--mkfs 'PROGRAM ARGS'] [--workdir DIR] "
	  "[--owner-auth-file FILE] (--escrow-dir DIR --escrow-key PEM | --show-recovery-key) | DEVICE --check-blank",
	  "make the data volume on a blank partition, as the first boot does" },
	{ "version", version_main, OPT_RAW, "", "print the version and the build's features" },
	{ "help", help_main, OPT_RAW, "", "this text" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The exit codes from the core's table (errors.c), so this list cannot
 * drift from what the commands return. */
static void print_exit_codes(void)
{
	const struct si_error_info *e;
	char item[160];
	size_t i;
	int col;

	col = printf("Exit codes: 0 ok, 1 error, 2 usage,");
	for (i = 0; (e = si_error_at(i)); i++) {
		snprintf(item, sizeof(item), "%d %s%s", e->exit_code, e->msg,
			 si_error_at(i + 1) ? "," : ".");
		if (col + 1 + (int)strlen(item) > 78)
			col = printf("\n ") - 1;
		col += printf(" %s", item);
	}
	printf("\nSee docs/cli.md.\n");
}

/* One command's usage and its options only: `sealinit COMMAND --help',
 * `sealinit help COMMAND'. */
static int command_help(const struct command *c)
{
	printf("Usage: %s %s %s\n  %s\n", prog, c->name, c->usage, c->help);
	if (c->opts & ~(OPT_SHORT | OPT_RAW | OPT_NO_ARGS)) {
		printf("\nOptions:\n");
		cli_options_help(stdout, c->opts);
	}
	printf("\nExit codes: `%s help'; see docs/cli.md.\n", prog);
	return 0;
}

static int help_main(const struct cli_args *a)
{
	size_t i;

	for (i = 0; a && a->argc == 1 && i < N_COMMANDS; i++)
		if (!strcmp(a->argv[0], commands[i].name))
			return command_help(&commands[i]);
	if (a && a->argc) {
		fprintf(stderr, "%s help: unknown command `%s'\n", prog, a->argv[0]);
		return EXIT_USAGE;
	}
	printf("Usage: %s [-v] COMMAND [ARGS]\n\n", prog);
	for (i = 0; i < N_COMMANDS; i++)
		printf("  %-8s %s\n           %s\n", commands[i].name, commands[i].usage,
		       commands[i].help);
	printf("\nOptions (a command takes those its usage names):\n");
	cli_options_help(stdout, ~UINT64_C(0));
	printf("\n");
	print_exit_codes();
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit no_core = { 0, 0 };
	size_t i;

	/* As PID 1 of the initramfs, run the boot stage; never otherwise: a
	 * second boot stage would remount and re-measure under the first. */
	if (getpid() == 1) {
		/* Before anything reads it: the kernel's environment is every
		 * unknown X=Y word of the command line (pid1.h). */
		(void)pid1_environment();
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
		return help_main(NULL), EXIT_USAGE;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return help_main(NULL);
	if (strcmp(argv[1], "--version") == 0)
		return version_main(NULL);
	for (i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &commands[i];
		struct cli_args a;
		int r;

		if (strcmp(argv[1], c->name))
			continue;
		for (int k = 2; k < argc && strcmp(argv[k], "--"); k++)
			if (!strcmp(argv[k], "--help") || (k == 2 && !strcmp(argv[k], "-h")))
				return c->fn == help_main ? help_main(NULL) : command_help(c);
		/* argv[0] of the parse is the command, so that getopt_long's own
		 * messages read "enroll: unrecognized option". */
		r = cli_parse(c->name, c->opts, argc - 1, argv + 1, &a);
		return r ? r : c->fn(&a);
	}
	fprintf(stderr, "%s: unknown command `%s'. Try `%s help'.\n", prog, argv[1], prog);
	return EXIT_USAGE;
}
