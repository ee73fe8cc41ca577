/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_BOOT_MEASURE_H
#define SEALINIT_BOOT_MEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct si_bootcfg;
struct si_diag;
struct si_unlock_opts;
struct si_unlock_result;

/*
 * Everything the boot stage extends into a PCR (the rootfs measurement and
 * the cap), the event log at /run/sealinit/eventlog, and the one state
 * that says whether the PCRs still have to be capped. Every decision to
 * cap is made here.
 */

/* Where the TPM is: not looked for yet, not to be looked for
 * (keysources=legacy), looked for and not there within device_timeout, there, or there only
 * after the boot stopped waiting (it then got the measurements and the
 * cap, in measure_cap). */
enum measure_tpm { TPM_UNKNOWN, TPM_UNUSED, TPM_ABSENT, TPM_PRESENT, TPM_LATE };

/* A locked-down boot refuses a kernel command line that keeps the TPM
 * from appearing: module_blacklist= or modprobe.blacklist= naming a
 * module of the initramfs's lists (modules: their text, one path a line),
 * and any initcall_blacklist=. Words are split by si_cmdline_words() and
 * compared as the kernel does ('-' as '_'). 0, -EPERM naming the word, or
 * the splitter's -EINVAL naming a byte. */
int measure_driver_verdict(const char *cmdline, const char *modules, struct si_diag *d);

/* Find the TPM, bounded by device_timeout. A device without one may still
 * boot from the legacy source (legacy_possible): then nothing is measured
 * or capped. tpm_used false (keysources=legacy, no migration): the TPM is
 * not waited for at all. */
int measure_begin(const struct si_bootcfg *c, bool tpm_used, bool legacy_possible,
		  struct si_diag *d);
/* No TPM is in use: measure_begin found none, or did not look. */
bool measure_no_tpm(void);
/* Where the TPM is, and how long the boot waited for it (waited_ms, may
 * be NULL). */
enum measure_tpm measure_tpm_state(int *waited_ms);
/* The TPM's device node, when the TCTI names one: bounded like the disks.
 * Records whether it came. */
int measure_wait_tpm(const struct si_bootcfg *c, struct si_diag *d);
/* The TCTI is a kernel resource manager's device (/dev/tpmrm*) and it is
 * there now: more than one connection can use the TPM at once. */
bool measure_tpm_shared(const struct si_bootcfg *c);

/* What decides what runs, in the order of core/events.h, each queued for
 * measure_commit: the command line (checked first against cmdline= when
 * the configuration pins it) and the effective configuration. */
int measure_boot_config(const struct si_bootcfg *c, const char *cmdline, struct si_diag *d);

/* Verify and measure the rootfs by the configured mode. verity: opens the
 * root through dm-verity and puts the device to mount in mountdev. */
int measure_rootfs(const struct si_bootcfg *c, const char *rootdev, const char *hashdev,
		   char *mountdev, size_t size, struct si_diag *d);
/* Read the real init under newroot in full before any key is released
 * (on a verity root, a tampered init fails here), and measure its path and
 * SHA-256. */
int measure_init(const struct si_bootcfg *c, const char *newroot, struct si_diag *d);

/* Extend every queued measurement, on one TPM connection, and append them
 * to the event log (/run/log/systemd/tpm2-measure.log, CEL-JSON). Before
 * any unseal. */
int measure_commit(struct si_diag *d);

/* The value PCR pcr has after this boot's committed measurements, replayed
 * from a reset PCR (core/events.c): the state the configuration expects,
 * which a migration seals to. false when nothing was measured into it. */
bool measure_expected(unsigned int pcr, uint8_t out[32]);
/* The unlock measured the volume (tpm2_measure_pcr=): its record in the
 * event log, string `cryptsetup:NAME:UUID', digest the HMAC extended (not
 * H(string)), as systemd logs tpm2-measure-pcr=. */
void measure_note_volume(unsigned int pcr, const char *event, const char *sha256);

/* The cap. measure_cap_plan fills the unlock's cap fields so the unlock
 * worker caps on its own TPM connection; keep_on_failure leaves the PCRs
 * uncapped after a failed unlock (a migration that follows must seal to
 * them). measure_cap_result records what the worker did. measure_cap caps
 * whatever is still pending: after the unlock, before switch_root, and on
 * every failure; first, a TPM that was not there (or not looked for) and
 * whose node exists now gets the queued measurements, then the cap. */
void measure_cap_plan(struct si_unlock_opts *o, bool keep_on_failure);
void measure_cap_result(const struct si_unlock_result *res);
int measure_cap(struct si_diag *d);

#endif
