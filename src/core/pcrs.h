/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_PCRS_H
#define SEALINIT_PCRS_H

#include <stddef.h>
#include <stdint.h>

#define SI_PCR_COUNT 24
#define SI_PCR_MASK_ALL ((UINT32_C(1) << SI_PCR_COUNT) - 1)

struct si_diag;

/*
 * Parse a PCR list as systemd writes it ("7+16"), commas also accepted
 * ("7,16"). Numbers 0-23; an empty string is the empty set.
 * Returns 0 and the mask, or -EINVAL with the reason in diag.
 */
int si_pcrs_parse(const char *s, uint32_t *mask, struct si_diag *diag);

/*
 * A PCR set a key may be sealed to: not empty (the key would unseal in any
 * state), and without PCR 16 (debug) or 23 (application), which any
 * process with the TPM can reset to zero and replay. 0, or -EINVAL with
 * the reason in diag. Tests seal to them on purpose, with an explicit flag.
 */
#define SI_PCRS_RESETTABLE ((UINT32_C(1) << 16) | (UINT32_C(1) << 23))

/* sha256-bank values to seal to in place of the current ones, for the
 * PCRs of mask: the expected state (a migration's, a prediction's). */
struct si_pcr_expect {
	uint32_t mask;
	uint8_t sha256[SI_PCR_COUNT][32];
};

/* `pcrN=HEX' lines (sha256, 64 hex digits), as `sealinit predict' prints
 * them; its event lines (`N EVENT'), `pcrN-capped=' and `policy=' lines are
 * skipped, blank lines and `#' comments too. Anything else, a PCR out of
 * range or given twice, is an error naming the line (-EINVAL). No value at
 * all is no error: e->mask is then 0. pcrread's lines are refused here: its
 * PCR 15 is capped, and a token sealed to it never opens. */
int si_pcr_expect_parse(const char *text, struct si_pcr_expect *e, struct si_diag *diag);
/* The same, and also `sha256:N HEX' lines as `sealinit pcrread' prints
 * them (another bank's are refused): a device's read-out (predict
 * --firmware-pcrs). */
int si_pcr_readout_parse(const char *text, struct si_pcr_expect *e, struct si_diag *diag);
int si_pcrs_check_sealable(uint32_t mask, struct si_diag *diag);
/* A token is closed by the boot's cap only if it binds at least one PCR the
 * boot caps (cap_mask, the configuration's pcrs=): 0, or -EINVAL with a
 * message naming both sets. A token on PCR 7 alone (systemd-cryptenroll's
 * default) stays unsealable by the booted system after the cap. */
int si_pcrs_check_capped(uint32_t mask, uint32_t cap_mask, struct si_diag *diag);

/*
 * sha256 values from text as `sealinit predict' prints them: `pcrN=HEX'
 * lines (64 hex digits) are values; `pcrN-capped=...', event lines (which
 * start with a digit), `#' comments and empty lines are skipped; anything
 * else, a bad digest or a PCR given twice is -EINVAL naming the line.
 * Every PCR of need must have a value; expect->mask holds those found.
 */
int si_pcrs_parse_values(const char *text, uint32_t need, struct si_pcr_expect *expect,
			 struct si_diag *diag);

/* "7+16" for the mask; "" when empty. Returns the length written. */
size_t si_pcrs_format(uint32_t mask, char *buf, size_t size);

/* Parse a bank name ("sha1", "sha256", "sha384", "sha512") to a TPM2 alg
 * id, and back. Returns 0 for an unknown name / NULL for an unknown id. */
uint16_t si_bank_from_name(const char *name);
const char *si_bank_name(uint16_t alg);
/* Digest size of a bank, 0 when unknown. */
size_t si_bank_digest_size(uint16_t alg);

#endif
