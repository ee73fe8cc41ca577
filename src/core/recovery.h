/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_RECOVERY_H
#define SEALINIT_RECOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct si_diag;
struct si_luks_expect;

/*
 * The recovery key, in the form systemd-cryptenroll --recovery-key uses, so
 * that users recognise it and either tool opens what the other enrolled:
 * 32 random bytes, each as two "modhex" characters (cbdefghijklnrtuv, the
 * YubiKey alphabet: no letter two keyboard layouts disagree on), in 8
 * groups of 8 joined by '-': 71 characters. The keyslot's passphrase is
 * that string, lower case, with the dashes; a "systemd-recovery" token
 * names the keyslot.
 */
#define SI_RECOVERY_LEN        71
#define SI_RECOVERY_TOKEN_TYPE "systemd-recovery"

/* A new key into out (SI_RECOVERY_LEN + 1 bytes, locked memory), and the
 * formatting of 32 bytes it uses. */
int si_recovery_make(char *out);
void si_recovery_format(const uint8_t key[32], char *out);

/* What a person typed, as systemd reads it: 64 modhex characters, or the
 * 71 with a '-' after every 8, either case; surrounding whitespace is
 * dropped. Into out in the canonical form; -EINVAL with the reason in diag
 * (the position of the first character that cannot be right). */
int si_recovery_normalize(const char *typed, char *out, struct si_diag *diag);

/* Add a recovery keyslot (authorized by an existing passphrase) and its
 * token. key gets the new key; the keyslot is returned. */
int si_recovery_enroll(const char *device, const char *passphrase, size_t passphrase_len,
		       char *key, int *token, struct si_diag *diag);

/* The volume has a recovery keyslot (a systemd-recovery token names one). */
bool si_recovery_present(const char *device);

/* Open device as name (NULL: check only) with a recovery key, after the
 * same shape check as every key source (expect; NULL: the known-good
 * ciphers, si_luks_check), and the volume pin when
 * fixate is set. Returns the keyslot. */
int si_recovery_unlock(const char *device, const char *name, const char *key,
		       const struct si_luks_expect *expect, const char *fixate, const char *bind_name,
		       struct si_diag *diag);

#endif
