/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_SIGFILE_H
#define SEALINIT_SIGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct si_diag;

/*
 * The signature file of signed PCR policies, systemd's format
 * (systemd-measure sign, /run/systemd/tpm2-pcr-signature.json):
 *
 *   {"sha256":[{"pcrs":[15],"pkfp":"<hex>","pol":"<hex>","sig":"<base64>"},...]}
 *
 * pcrs: the PCRs the policy covers; pkfp: the signing key's fingerprint
 * (authorize.h); pol: the PolicyPCR digest signed; sig: the RSA signature.
 * sealinit adds one field of its own to entries for tokens with a
 * rollback counter (policy.h): "sealinit_counter": N, the highest counter
 * value the entry is good for; its pol then also holds PolicyNV(counter
 * <= N), and its sig is over pol || SI_COUNTER_REF. systemd's lookup
 * compares pol and so never picks such an entry.
 * Only the sha256 bank is read; other banks are kept as they are.
 *
 * A lookup lists every entry that may serve, so that the caller can try
 * the next when the TPM refuses one: a corrupt entry must not hide a good
 * one behind it. An entry whose field does not parse is skipped, and
 * named (`sha256[2].pol') when nothing else serves; its signature could
 * not have opened anything, since the TPM verifies every signature.
 * Adding to a file (`sign') is strict: every entry of the sha256 bank
 * must be well formed, and a bad one is named.
 */
#define SI_SIGFILE_MAX     (256 * 1024)
/* Where the boot stage and `sealinit unlock' look by default: in the
 * initramfs, which carries the boot's trust (docs/boot.md). systemd's
 * stub puts its copy at /run/systemd/tpm2-pcr-signature.json instead. */
#define SI_SIGFILE_DEFAULT "/etc/sealinit/tpm2-pcr-signature.json"
#define SI_SIGFILE_ENTRIES 256
#define SI_SIG_MAX         512  /* RSA-4096 */

struct si_sig {
	size_t index;            /* its place in the sha256 array, for messages */
	uint32_t pcr_mask;
	bool counted;            /* has sealinit_counter */
	uint64_t counter;        /* its value, at most INT64_MAX */
	uint8_t pkfp[32];
	uint8_t pol[32];
	uint8_t sig[SI_SIG_MAX];
	size_t sig_len;
};

/* Read a signature file: a regular file, not a symlink, at most
 * SI_SIGFILE_MAX bytes, into a malloc'd NUL-terminated string. 0, or
 * -errno with the path and the reason in diag. */
int si_sigfile_read(const char *path, char **json, struct si_diag *diag);

/*
 * The entries for these PCRs, this key and this policy digest, in the
 * order to try them: file order, as systemd picks the first. Plain
 * entries only (without sealinit_counter). *out is malloc'd (free()), *n
 * at least 1; diag then lists the entries skipped as malformed (empty
 * when none), for the caller to report if none of *out works. Or:
 *   -SI_EBADSIG  the file is malformed, or every entry that could serve
 *                is (the fields named in diag);
 *   -SI_ENOSIG   no entry for these PCRs, or none for this digest (the
 *                PCRs hold values nobody signed);
 *   -SI_ESIGKEY  entries for these PCRs, but none by this key.
 */
int si_sigfile_match(const char *json, uint32_t pcr_mask, const uint8_t pkfp[32],
		     const uint8_t pol[32], struct si_sig **out, size_t *n,
		     struct si_diag *diag);

/*
 * For tokens with a rollback counter: the counted entries for these PCRs
 * and this key whose pol is what pol_for computes for their counter (the
 * session's PolicyPCR digest followed by PolicyNV for that counter),
 * highest counter first, then file order. The same codes as
 * si_sigfile_match; plain entries are not looked at, and a plain lookup
 * skips counted ones.
 */
typedef int (*si_sig_pol_fn)(uint64_t counter, uint8_t pol[32], void *ctx);
int si_sigfile_match_counted(const char *json, uint32_t pcr_mask, const uint8_t pkfp[32],
			     si_sig_pol_fn pol_for, void *ctx, struct si_sig **out, size_t *n,
			     struct si_diag *diag);

/* The first entry each of the two would list (what systemd picks; the
 * newest counted one). */
int si_sigfile_find(const char *json, uint32_t pcr_mask, const uint8_t pkfp[32],
		    const uint8_t pol[32], struct si_sig *out, struct si_diag *diag);
int si_sigfile_find_counted(const char *json, uint32_t pcr_mask, const uint8_t pkfp[32],
			    si_sig_pol_fn pol_for, void *ctx, struct si_sig *out,
			    struct si_diag *diag);

/* json with e added to its sha256 bank (json NULL: a new file), as a
 * malloc'd string ending in a newline. An entry for the same PCRs, key
 * and digest is replaced rather than repeated. */
int si_sigfile_add(const char *json, const struct si_sig *e, char **out, struct si_diag *diag);

#endif
