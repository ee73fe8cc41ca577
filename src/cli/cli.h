/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_CLI_H
#define SEALINIT_CLI_H

/*
 * The subcommands, one file each. main() parses the options a command's
 * table entry allows (options.h) and hands over the result; each returns
 * the process exit code.
 */
struct cli_args;

int enroll_main(const struct cli_args *a);
int unlock_main(const struct cli_args *a);
int measure_main(const struct cli_args *a);
int cap_main(const struct cli_args *a);
int pcrread_main(const struct cli_args *a);
int legacy_fetch_main(const struct cli_args *a);
int migrate_main(const struct cli_args *a);
int boot_config_main(const struct cli_args *a);
int predict_main(const struct cli_args *a);
int status_main(const struct cli_args *a);
int reseal_main(const struct cli_args *a);
int sign_main(const struct cli_args *a);
int revoke_main(const struct cli_args *a);
int last_failure_main(const struct cli_args *a);
int escrow_open_main(const struct cli_args *a);
int provision_main(const struct cli_args *a);

#endif
