/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_HWM_H
#define SEALINIT_HWM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct si_diag;

/*
 * The high-water mark of a rollback counter, kept inside the encrypted
 * data volume: the highest value of the TPM's counter that any boot or
 * `sealinit revoke' has seen. On Orin Nano the fTPM's NV is a set of files
 * on a partition anyone with the disk can rewrite; restoring an older copy
 * lowers the counter without a word, and a revoked signature unlocks
 * again. The volume's own copy of the counter is beyond that attacker's
 * reach (they cannot write a chosen plaintext into it), so after the
 * unlock a counter below the mark is a restored store (docs/updates.md,
 * "Rollback of the TPM's store").
 *
 * One file per counter, under the volume's root:
 *   .sealinit/                 mode 0700
 *   .sealinit/counter-0xNNNNNNNN  mode 0600, "<decimal value>\n"
 * Written to a temporary name, synced, renamed over the old one and the
 * directory synced: a power cut leaves the old mark or the new one, never
 * a mix. So a file that is not exactly a mark is damage, and refused.
 */

#define SI_HWM_DIR    ".sealinit"
#define SI_HWM_PREFIX "counter-"
/* Longest valid file: 19 digits and the newline. */
#define SI_HWM_TEXT_MAX 20

/* "<decimal>\n", no sign, no leading zero (but "0"), at most INT64_MAX
 * (the counters signatures name), nothing else: 0, or -EBADMSG. */
int si_hwm_parse(const char *text, size_t len, uint64_t *value);

/* What the boot does with the TPM's counter against the mark. */
enum si_hwm_step {
	SI_HWM_KEEP,      /* the counter is at the mark */
	SI_HWM_RAISE,     /* above it, or no mark yet: write the counter */
	SI_HWM_ROLLBACK,  /* below it: the TPM's store was rolled back */
};
enum si_hwm_step si_hwm_verdict(bool have_mark, uint64_t mark, uint64_t counter);

/* ".sealinit/counter-0x01805e00" for the counter at index, relative to
 * the volume's root. */
void si_hwm_path(uint32_t index, char *buf, size_t size);

/* The mark under root (the volume's mount point). -ENOENT: no mark (no
 * file, or no directory); -EBADMSG: a file that is not a mark (garbled,
 * empty, too long, not a regular file, a symbolic link), with the diag
 * quoting it; other -errno with the diag. */
int si_hwm_read(const char *root, uint32_t index, uint64_t *value, struct si_diag *d);

/* Replace the mark with value, atomically (see above); creates the
 * directory. 0 or -errno with the diag. */
int si_hwm_write(const char *root, uint32_t index, uint64_t value, struct si_diag *d);

struct si_hwm_result {
	bool had;          /* a mark was there */
	uint64_t mark;     /* its value when had */
	bool written;      /* the mark was raised to the counter */
};

/* The boot's check, after the unlock: the counter against the mark,
 * which is raised to it when above (or absent). -ESTALE: the counter is
 * below the mark, the diag naming both values and the file; -EBADMSG: a
 * damaged mark (fail closed: garbage there is not the attacker's writing,
 * but a mark that cannot be read cannot vouch for the counter); other
 * codes from reading or writing it. */
int si_hwm_check(const char *root, uint32_t index, uint64_t counter, struct si_hwm_result *res,
		 struct si_diag *d);

/* Whether, in /proc/self/mountinfo's text, the last mount on mnt (the one
 * visible there) is of source ("/dev/mapper/sealdata", as the boot stage
 * mounted it): where `sealinit revoke' on the booted system finds the
 * volume's mark. Octal escapes (\040) are undone before comparing. */
bool si_hwm_mounted(const char *mountinfo, const char *mnt, const char *source);

/* After the counter was raised (`sealinit revoke', enroll): the mark
 * becomes value unless it is higher already; never lowered. A damaged
 * mark is replaced (the caller knows the counter's real value, read from
 * the TPM on this booted system) and res->had is false then. */
int si_hwm_raise(const char *root, uint32_t index, uint64_t value, struct si_hwm_result *res,
		 struct si_diag *d);

#endif
