/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_LUKS_H
#define SEALINIT_LUKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/volkey.h"

struct si_diag;
struct si_luks;

#define SI_LUKS_MAX_TOKENS 32

/* Load a LUKS2 header from a block device or an image file.
 * -SI_EBADHEADER when it is not LUKS2 or is damaged. */
int si_luks_open(const char *device, struct si_luks **ret, struct si_diag *diag);
void si_luks_close(struct si_luks *l);

/* Add a keyslot for new_pass, authorized by old_pass. The new passphrase
 * already has full entropy, so PBKDF2-SHA512 at 1000 iterations with no
 * benchmark, as systemd and clevis do: Argon2id would cost 1 GiB of RAM
 * and seconds at every boot for nothing. keyslot -1: the first free one.
 * Returns the keyslot. */
int si_luks_add_keyslot(struct si_luks *l, int keyslot, const char *old_pass, size_t old_len,
			const char *new_pass, size_t new_len, struct si_diag *diag);
bool si_luks_keyslot_active(struct si_luks *l, int keyslot);
/* The first inactive keyslot other than avoid, or -ENOSPC. */
int si_luks_free_keyslot(struct si_luks *l, int avoid);
/* The keyslot's KDF salt (base64): tells one keyslot from a later one that
 * reuses its number. */
int si_luks_keyslot_salt(struct si_luks *l, int keyslot, char *out, size_t size);
int si_luks_destroy_keyslot(struct si_luks *l, int keyslot);

/* Store a token; returns its id. */
int si_luks_add_token(struct si_luks *l, const char *json, struct si_diag *diag);
/* Write token id (-1: a new one) in one header update; json NULL removes it. */
int si_luks_set_token(struct si_luks *l, int id, const char *json, struct si_diag *diag);

/* The JSON of token id if it has the given type (NULL: any): 0, or
 * -ENOENT. The string belongs to the handle. */
int si_luks_token_json(struct si_luks *l, int id, const char *type, const char **json);
/* Token id's type, or NULL when there is no such token. */
const char *si_luks_token_type(struct si_luks *l, int id);

/* What `sealinit status' shows of the header. */
struct si_luks_info {
	char uuid[40];
	char cipher[64];      /* cipher-mode, as si_luks_check compares it */
	int key_bits;
	uint32_t keyslots;    /* active keyslots, a bit each (0-31) */
};

int si_luks_info(struct si_luks *l, struct si_luks_info *info);

/*
 * What the volume must look like before any key goes near it. The header
 * is the attacker's to write: the real header with its segment switched
 * to cipher_null still opens with the real key and maps whatever plaintext
 * the attacker put on the disk. Refused, by name: a requirement flag
 * (reencryption, an unknown one), other than exactly one segment, a
 * segment of another type or cipher, a keyslot area in cipher_null, a
 * volume key of another size. -SI_EBADHEADER.
 *
 * e NULL, or e->cipher NULL (the CLI, unless told): the segment's cipher
 * must be one of a known-good list (luks.c); cipher_null and anything
 * unknown are refused. e->key_bits 0: any size.
 *
 * Only a handle that passed this check can be activated: si_luks_activate
 * and si_luks_activate_bound with a name refuse otherwise, whoever calls.
 */
struct si_luks_expect {
	const char *cipher;   /* "aes-xts-plain64"; NULL: the known-good list */
	int key_bits;         /* 512; 0: any the cipher allows */
};

int si_luks_check(struct si_luks *l, const struct si_luks_expect *e, struct si_diag *diag);

/* Check (name NULL) or activate the volume with a passphrase on a keyslot
 * (-1: any). Returns the keyslot it opened, or -SI_EKEYSLOT when the
 * passphrase opens none. */
int si_luks_activate(struct si_luks *l, const char *name, int keyslot, const char *pass,
		     size_t len, struct si_diag *diag);

/*
 * The volume bound to the one that was enrolled (docs/threat-model.md):
 * the header and the UUID are the attacker's to write, the volume key is
 * not. The key is taken from the keyslot, its id (volkey.h) compared with
 * the pin before anything is activated, and the measurement's digests
 * computed from it, in locked memory wiped before return.
 */
struct si_luks_bind {
	const char *name;          /* bound into the id: the /dev/mapper name */
	const char *pin;           /* 64 lower-case hex; NULL: not pinned */
	/* The banks to compute the measurement for (TPM2_ALG_*); 0: none. */
	size_t nbanks;
	uint16_t banks[4];
	/* Filled on success, when nbanks: the prefix and one digest per bank. */
	char prefix[SI_VOLKEY_PREFIX_MAX];
	uint8_t digests[4][SI_VOLKEY_DIGEST_MAX];
	size_t digest_len[4];
	char id[SI_VOLKEY_HEX_LEN + 1];  /* filled on success */
};

/* si_luks_activate, through the volume key, checked against b->pin first:
 * a volume whose id differs is -SI_EVOLKEY, named in the diag with both
 * ids, and nothing is activated. */
int si_luks_activate_bound(struct si_luks *l, const char *name, int keyslot, const char *pass,
			   size_t len, struct si_luks_bind *b, struct si_diag *diag);

/* The id of the volume that pass opens (enrollment prints it). */
int si_luks_volume_id(struct si_luks *l, const char *bind_name, const char *pass, size_t len,
		      char id[SI_VOLKEY_HEX_LEN + 1], struct si_diag *diag);

#endif
