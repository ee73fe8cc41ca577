/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_BOOT_FAILREC_H
#define SEALINIT_BOOT_FAILREC_H

struct si_bootcfg;

/*
 * The last failed boot, kept in an EFI variable (core/failrec.h) so that
 * the next boot and the booted system can tell why a device rebooted
 * (docs/boot.md, "When a device will not boot"). Best effort, bounded:
 * without EFI, efivarfs or room in the variable store, the boot says so
 * once and the failure policy runs as before.
 */

/* Early in the boot: mount efivarfs where the platform has EFI, and print
 * the previous failure (level 4) if the last boot failed. */
void failrec_boot_start(void);

/* The boot is about to hand over to the real init: a record of failures
 * in a row is rewritten once to say that a boot succeeded since. */
void failrec_boot_ok(void);

/* The boot failed with msg: record it. Returns the seconds a reboot
 * policy waits: failure_delay, doubled for each failed boot in a row
 * before this one, at most an hour. */
int failrec_boot_failed(const struct si_bootcfg *c, const char *msg);

#endif
