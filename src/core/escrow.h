/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_ESCROW_H
#define SEALINIT_ESCROW_H

#include <stddef.h>

#include "core/recovery.h"

struct si_diag;

/*
 * The recovery key's escrow (docs/fleet.md): the key never leaves the
 * device in clear. It is encrypted to the fleet's escrow key (RSA-OAEP,
 * SHA-256; the public half in the image, the private half with whoever
 * recovers devices), in a JSON document that also names the volume:
 *
 *   {"type":"sealinit-escrow","version":1,"uuid":"...","volume_id":"<hex>",
 *    "key_fp":"<sha256 of the escrow key's DER SubjectPublicKeyInfo>",
 *    "alg":"RSA-OAEP-256","ciphertext":"<base64>"}
 *
 * A removable medium or the fleet server then holds only that document;
 * whoever takes it learns nothing without the escrow key.
 */
int si_escrow_seal(const void *pubkey_pem, size_t pem_len, const char *recovery,
		   const char *uuid, const char *volume_id, char **json,
		   struct si_diag *diag);

/* Write json as <dir>/sealinit-escrow-<uuid>.json, whole or not at all
 * (a temporary file, fsync, rename, fsync of dir); path gets its name. */
int si_escrow_write(const char *dir, const char *uuid, const char *json, char *path,
		    size_t path_size, struct si_diag *diag);

/* Decrypt with the escrow key's private half (PEM): recovery gets the key
 * (SI_RECOVERY_LEN + 1 bytes, locked memory). Strict: every field checked,
 * a malformed one named. */
int si_escrow_open(const void *privkey_pem, size_t pem_len, const char *json, char *recovery,
		   struct si_diag *diag);

#endif
