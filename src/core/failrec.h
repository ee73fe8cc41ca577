/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_CORE_FAILREC_H
#define SEALINIT_CORE_FAILREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct si_diag;

/*
 * The last failed boot, kept where the next boot and the booted system can
 * read it (docs/boot.md, "When a device will not boot"): a non-volatile
 * EFI variable of the project's own vendor GUID, NV|BS|RT. Its data is a
 * short text record:
 *
 *   sealinit-failure 1
 *   consecutive=3          failed boots in a row (0: a boot succeeded since)
 *   failures=17            failed boots since the record was cleared
 *   time=1733500000        CLOCK_REALTIME seconds (0: the clock was unset)
 *   uptime_ms=4321         how long that boot ran
 *   policy=reboot          the failure policy it applied
 *   version=0.1            the sealinit that wrote it
 *   failed=...             the FAILED line, escaped (core/escape.h)
 *
 * Every line is KEY=VALUE, each key once, all of them, in any order after
 * the first; nothing else. The FAILED line names a cause and never holds a
 * key: the record holds no secret.
 */
#define SI_FAILREC_GUID     "a2504ad1-3114-4646-8943-1a06cf0ddc12"
#define SI_FAILREC_NAME     "SealinitLastFailure"
#define SI_FAILREC_EFIVARS  "/sys/firmware/efi/efivars"
#define SI_FAILREC_VAR      SI_FAILREC_NAME "-" SI_FAILREC_GUID
/* EFI_VARIABLE_NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS (UEFI
 * 2.10, 8.2): survives a power cut, readable by the booted system. */
#define SI_FAILREC_ATTRS    0x7u
/* The record's data at most: far below every firmware's variable limit. */
#define SI_FAILREC_MAX      1024
#define SI_FAILREC_MSG      600
/* The longest wait between failed boots that the backoff reaches. */
#define SI_FAILREC_DELAY_MAX 3600

struct si_failrec {
	uint32_t consecutive;
	uint32_t failures;
	int64_t time;
	uint32_t uptime_ms;
	char policy[16];
	char version[32];
	char failed[SI_FAILREC_MSG];   /* as given to format; escaped in the text */
};

/* The record as text into buf: its length, or -E2BIG. */
int si_failrec_format(const struct si_failrec *r, char *buf, size_t size);

/* Strict parse of len bytes (no NUL needed): 0, or -EINVAL with the line
 * and what was expected in the diag. r->failed stays escaped. */
int si_failrec_parse(const char *text, size_t len, struct si_failrec *r, struct si_diag *d);

/* The record's time for a person: "2024-12-06 16:38:00 UTC", or that the
 * clock was not set. Returns buf. */
const char *si_failrec_when(int64_t t, char *buf, size_t size);

/* The record this failure writes, from the previous one (NULL: none). */
void si_failrec_next(const struct si_failrec *prev, struct si_failrec *next);

/*
 * How long a reboot policy waits, in seconds, before the consecutive-th
 * failed boot in a row reboots: failure_delay doubled for each failure
 * before it, at most SI_FAILREC_DELAY_MAX (or failure_delay, when that is
 * longer). A loop slows down instead of stopping: a cause that goes away
 * (a key server back, a disk that answers again) still heals the device.
 */
int si_failrec_delay(int failure_delay_s, uint32_t consecutive);

/*
 * The EFI variable at path (an efivarfs file: 4 bytes of attributes, then
 * the data). Read: 0, -ENOENT when there is none, or another -errno /
 * -EINVAL (diag says which). Write: create or replace, in one write();
 * best effort, -errno on failure (ENOSPC: the store is full). Clear:
 * remove it, -ENOENT when there was none.
 */
int si_failrec_read(const char *path, struct si_failrec *r, struct si_diag *d);
int si_failrec_write(const char *path, const struct si_failrec *r, struct si_diag *d);
int si_failrec_clear(const char *path, struct si_diag *d);

#endif
