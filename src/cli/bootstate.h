/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_CLI_BOOTSTATE_H
#define SEALINIT_CLI_BOOTSTATE_H

/*
 * The state this boot was in before its cap, from its two logs: the
 * firmware's (binary_bios_measurements, core/tcglog.c) and sealinit's
 * CEL-JSON log (core/events.c), replayed per PCR one after the other and
 * checked against the TPM. For the commands that seal or check a token on
 * the booted system (reseal, migrate, revoke DEVICE) and for status.
 */
#include <stdint.h>

struct cli_args;
struct si_bootcfg;
struct si_pcr_expect;

/* The firmware's log, /sys/kernel/security/tpm0/binary_bios_measurements
 * unless --firmware-log. */
#define FWLOG_DEFAULT "/sys/kernel/security/tpm0/binary_bios_measurements"

/* The firmware's log replayed (--firmware-log, else FWLOG_DEFAULT): the
 * PCRs it extended in fw->mask. No log at the default path is no error
 * (fw->mask 0: every PCR starts at zero). 0, or 1 after printing why. */
int firmware_state(const char *cmd, const struct cli_args *a, struct si_pcr_expect *fw);

/*
 * The values the PCRs of mask had before this boot's cap: every PCR of
 * mask the event log names must replay (the firmware's events, then the
 * log's) to the TPM's value, and its value is the replay up to its first
 * cap. e->mask: those PCRs; the others of mask are left to their current
 * values. *capped: the PCRs of e->mask the log caps. 0, or the exit code
 * after printing why.
 */
int boot_state(const char *cmd, const struct cli_args *a, uint32_t mask, struct si_pcr_expect *e,
	       uint32_t *capped);

/*
 * The same, and the measured PCR (c->measure_pcr) as the configuration
 * expects it rather than as this boot measured it: its command line
 * event from cmdline= (or --cmdline TEXT when nothing is pinned), its
 * configuration and root hash events from the configuration with that
 * command line applied, its init from the log (the configured path) or
 * --init FILE. What differs from the log is said. With nothing pinned and
 * no --cmdline, or without the configuration file (--config, default
 * /etc/sealinit.conf), refused unless --force. c is the configuration file
 * over the defaults, before any command line.
 */
int boot_state_configured(const char *cmd, const struct cli_args *a, const struct si_bootcfg *c,
			  uint32_t mask, struct si_pcr_expect *e, uint32_t *capped);

#endif
