/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_VOLKEY_H
#define SEALINIT_VOLKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The volume's identity, computed as systemd-cryptsetup computes it, so
 * that a pin or a measurement made by one is checked by the other:
 *
 *   prefix = "cryptsetup:" ESC(name) ":" uuid
 *   id     = lower-case hex of HMAC-SHA256(key = volume key, msg = prefix)
 *
 * ESC writes ':', '\' and every byte below 0x20 or from 0x7f as \xNN
 * (lower-case hex), as systemd's xescape(name, ":") does. The id is
 * systemd's fixate-volume-key= value (cryptsetup_get_volume_key_id()), and
 * what its tpm2-measure-pcr= extends into the sha256 bank; other banks get
 * the HMAC of the same prefix under their own hash (tpm2_pcr_extend_bytes()).
 * Pure: no I/O, nothing kept; the volume key never leaves the caller's
 * buffer.
 */

#define SI_VOLKEY_HEX_LEN    64
/* The boot stage's default name= (bootcfg.c): the name an id is bound to
 * when none is given. */
#define SI_VOLKEY_DEFAULT_NAME "sealdata"
/* "cryptsetup:" + 64 name bytes escaped (4 each) + ":" + a 36-byte UUID,
 * with room for a longer UUID string. */
#define SI_VOLKEY_PREFIX_MAX 384
#define SI_VOLKEY_DIGEST_MAX 64

/* The prefix; -EINVAL for an empty name or a UUID with spaces or control
 * bytes (libcryptsetup never reports one), -ENOSPC if it does not fit. */
int si_volkey_prefix(const char *name, const char *uuid, char *out, size_t size);

/* The id of a volume key under a prefix, NUL-terminated in out. */
int si_volkey_id(const uint8_t *vk, size_t vk_len, const char *prefix,
		 char out[SI_VOLKEY_HEX_LEN + 1]);

/* The digest extended for one PCR bank (TPM2_ALG_SHA1/256/384/512):
 * HMAC of the prefix keyed with the volume key. Returns its length, or
 * -EINVAL for a bank without a hash here. */
int si_volkey_digest(uint16_t bank, const uint8_t *vk, size_t vk_len, const char *prefix,
		     uint8_t out[SI_VOLKEY_DIGEST_MAX]);

/* The syntax of a pin: 64 lower-case hex digits, as systemd compares it
 * (streq): an upper-case pin would never match there either. */
bool si_volkey_id_valid(const char *s);

/* Constant-time comparison of two ids. */
bool si_volkey_id_equal(const char *a, const char *b);

#endif
