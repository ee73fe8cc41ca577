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
 * followed by one newline. The ciphertext is RSAES-OAEP (RFC 8017 7.1:
 * SHA-256, MGF1 with SHA-256, empty label) of SI_ESCROW_PLAIN_LEN bytes:
 *
 *   <recovery key, 71>\n<uuid, 36>\n<volume_id, 64>\n
 *
 * so that the uuid and volume_id the document shows are sealed with the
 * key: a document edited to name another volume is refused by name.
 * `openssl pkeyutl -decrypt -pkeyopt rsa_padding_mode:oaep -pkeyopt
 * rsa_oaep_md:sha256' opens it as well as si_escrow_open.
 *
 * A removable medium or the fleet server then holds only that document;
 * whoever takes it learns nothing without the escrow key.
 */
#define SI_ESCROW_UUID_LEN  36
#define SI_ESCROW_PLAIN_LEN (SI_RECOVERY_LEN + 1 + SI_ESCROW_UUID_LEN + 1 + 64 + 1)
#define SI_ESCROW_JSON_MAX  2048   /* a 4096-bit key's document is about 950 bytes */
#define SI_ESCROW_PEM_MAX   (16 * 1024)

/* An escrow medium: a raw partition of slots of SI_ESCROW_SLOT bytes, each
 * free (all zero) or one document then zeros, within its first
 * SI_ESCROW_SPAN bytes. The boot writes the first free slot
 * (boot/fleet.c); `sealinit escrow-open' reads them all. */
#define SI_ESCROW_SLOT 4096
#define SI_ESCROW_SPAN (64u << 20)

/* Seal: pubkey_pem is a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) of an RSA
 * key of 2048-4096 bits; another kind is refused naming it (EC, Ed25519,
 * DSA, ...). recovery is checked with si_recovery_normalize and sealed in
 * its canonical form; uuid is the LUKS2 UUID (36 characters), volume_id
 * the volume key's id (64 lower-case hex). *json is the document, its
 * newline included, from malloc (free()). -EINVAL with the bad argument
 * named in the diag. */
int si_escrow_seal(const void *pubkey_pem, size_t pem_len, const char *recovery,
		   const char *uuid, const char *volume_id, char **json,
		   struct si_diag *diag);

/* Write json as <dir>/sealinit-escrow-<uuid>.json, mode 0600, whole or not
 * at all (a temporary file beside it, fsync, rename, fsync of dir): a
 * power cut leaves the previous file or the new one, never a part. path
 * gets its name. */
int si_escrow_write(const char *dir, const char *uuid, const char *json, char *path,
		    size_t path_size, struct si_diag *diag);

/* The document's fields, checked but not opened (the uuid and volume_id
 * are the document's claim until si_escrow_open has compared them with
 * the sealed ones). */
struct si_escrow_doc {
	char uuid[SI_ESCROW_UUID_LEN + 1];
	char volume_id[65];
	char key_fp[65];
	unsigned char ciphertext[512];
	size_t ciphertext_len;
};

/* Strict: the JSON object of the layout above, every field present, of
 * its type and syntax, no other field; -EBADMSG naming the field. */
int si_escrow_parse(const char *json, struct si_escrow_doc *doc, struct si_diag *diag);

/* The key_fp (64 lower-case hex and a NUL) of an escrow key's private
 * half: which documents of a medium it opens. -EINVAL as si_escrow_open
 * names a key it refuses. */
int si_escrow_key_fp(const void *privkey_pem, size_t pem_len, char fp[65], struct si_diag *diag);

/* Decrypt with the escrow key's private half (an unencrypted PEM private
 * key): recovery gets the key (SI_RECOVERY_LEN + 1 bytes, locked memory).
 * Strict: the document as
 * si_escrow_parse; key_fp against the key given (-EKEYREJECTED: another
 * key); the ciphertext must decrypt (-EBADMSG) to a valid recovery key
 * and the document's own uuid and volume_id (-EBADMSG naming the field
 * that differs). Nothing is left in recovery on failure. */
int si_escrow_open(const void *privkey_pem, size_t pem_len, const char *json, char *recovery,
		   struct si_diag *diag);

#endif
