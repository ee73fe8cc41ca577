/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libcryptsetup.h>

#include "core/errors.h"
#include "core/luks.h"
#include "core/secret.h"
#include "core/volkey.h"

struct si_luks {
	struct crypt_device *cd;
	const char *device;
	bool checked;           /* si_luks_check passed: activation allowed */
	char last_error[160];
};

/* libcryptsetup logs to stderr by default; the core never prints, so each
 * handle keeps the error libcryptsetup logged during its current operation
 * to quote it in the diag. Cleared before every operation (begin()), so a
 * message never quotes an older, unrelated error. */
static void log_cb(int level, const char *msg, void *usrptr)
{
	struct si_luks *l = usrptr;
	size_t n;

	if (!l || level != CRYPT_LOG_ERROR)
		return;
	snprintf(l->last_error, sizeof(l->last_error), "%s", msg);
	n = strlen(l->last_error);
	while (n && l->last_error[n - 1] == '\n')
		l->last_error[--n] = '\0';
}

static struct crypt_device *begin(struct si_luks *l)
{
	l->last_error[0] = '\0';
	return l->cd;
}

/* What libcryptsetup said about the failed operation, or errno's text. */
static const char *cause(const struct si_luks *l, int r)
{
	return l->last_error[0] ? l->last_error : strerror(-r);
}

int si_luks_open(const char *device, struct si_luks **ret, struct si_diag *d)
{
	struct si_luks *l;
	int r;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->device = device;
	/* crypt_init logs before the handle exists: through the default
	 * callback, pointed at this handle until it has its own. */
	crypt_set_log_callback(NULL, log_cb, l);
	r = crypt_init(&l->cd, device);
	if (r == 0)
		crypt_set_log_callback(l->cd, log_cb, l);
	crypt_set_log_callback(NULL, log_cb, NULL);
	if (r < 0) {
		si_diag_set(d, "cannot open `%s': %s", device, strerror(-r));
		free(l);
		return r;
	}
	r = crypt_load(begin(l), CRYPT_LUKS2, NULL);
	if (r < 0) {
		if (r == -ENOENT || r == -ENOTBLK || r == -EACCES)
			si_diag_set(d, "cannot read `%s': %s", device, strerror(-r));
		else
			si_diag_set(d, "`%s' is not a LUKS2 volume or its header is damaged%s%s",
				    device, l->last_error[0] ? ": " : "", l->last_error);
		crypt_free(l->cd);
		free(l);
		return (r == -ENOENT || r == -EACCES) ? r : -SI_EBADHEADER;
	}
	*ret = l;
	return 0;
}

void si_luks_close(struct si_luks *l)
{
	if (!l)
		return;
	crypt_free(l->cd);
	free(l);
}

int si_luks_add_keyslot(struct si_luks *l, int keyslot, const char *old_pass, size_t old_len,
			const char *new_pass, size_t new_len, struct si_diag *d)
{
	const struct crypt_pbkdf_type pbkdf = {
		.type = CRYPT_KDF_PBKDF2,
		.hash = "sha512",
		.iterations = 1000,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	int r;

	r = crypt_set_pbkdf_type(begin(l), &pbkdf);
	if (r < 0) {
		si_diag_set(d, "setting the keyslot KDF: %s", strerror(-r));
		return r;
	}
	r = crypt_keyslot_add_by_passphrase(begin(l), keyslot < 0 ? CRYPT_ANY_SLOT : keyslot, old_pass, old_len,
					    new_pass, new_len);
	if (r == -EPERM) {
		si_diag_set(d, "the existing passphrase opens no keyslot of `%s'", l->device);
		return -SI_EKEYSLOT;
	}
	if (r < 0)
		si_diag_set(d, "adding a keyslot to `%s': %s", l->device,
			    cause(l, r));
	return r;
}

int si_luks_destroy_keyslot(struct si_luks *l, int keyslot)
{
	return crypt_keyslot_destroy(l->cd, keyslot);
}

int si_luks_add_token(struct si_luks *l, const char *json, struct si_diag *d)
{
	return si_luks_set_token(l, -1, json, d);
}

int si_luks_token_json(struct si_luks *l, int id, const char *type, const char **json)
{
	const char *t = NULL;
	crypt_token_info st = crypt_token_status(l->cd, id, &t);

	if (st == CRYPT_TOKEN_INVALID || st == CRYPT_TOKEN_INACTIVE || !t || (type && strcmp(t, type)))
		return -ENOENT;
	return crypt_token_json_get(l->cd, id, json) < 0 ? -ENOENT : 0;
}

const char *si_luks_token_type(struct si_luks *l, int id)
{
	const char *t = NULL;
	crypt_token_info st = crypt_token_status(l->cd, id, &t);

	return st == CRYPT_TOKEN_INVALID || st == CRYPT_TOKEN_INACTIVE ? NULL : t;
}

int si_luks_info(struct si_luks *l, struct si_luks_info *info)
{
	const char *uuid = crypt_get_uuid(l->cd), *c = crypt_get_cipher(l->cd),
		   *m = crypt_get_cipher_mode(l->cd);
	int i;

	memset(info, 0, sizeof(*info));
	snprintf(info->uuid, sizeof(info->uuid), "%s", uuid ? uuid : "");
	snprintf(info->cipher, sizeof(info->cipher), "%s-%s", c ? c : "?", m ? m : "?");
	info->key_bits = crypt_get_volume_key_size(l->cd) * 8;
	for (i = 0; i < 32; i++)
		if (si_luks_keyslot_active(l, i))
			info->keyslots |= UINT32_C(1) << i;
	return 0;
}

/* Every activation, from every caller: a volume whose shape was not
 * checked is never mapped (a cipher_null segment maps the attacker's
 * plaintext). A test (name NULL) maps nothing. */
static int activation_allowed(const struct si_luks *l, const char *name, struct si_diag *d)
{
	if (!name || l->checked)
		return 0;
	si_diag_set(d, "`%s': refusing to activate a volume whose header was not checked "
		    "(cipher, segments, key size)", l->device);
	return -SI_EBADHEADER;
}

int si_luks_activate(struct si_luks *l, const char *name, int keyslot, const char *pass,
		     size_t len, struct si_diag *d)
{
	int r = activation_allowed(l, name, d);

	if (r < 0)
		return r;
	r = crypt_activate_by_passphrase(begin(l), name, keyslot < 0 ? CRYPT_ANY_SLOT : keyslot,
					 pass, len, 0);

	if (r == -EPERM || r == -ENOENT) {
		si_diag_set(d, "the unsealed key opens no keyslot of `%s'", l->device);
		return -SI_EKEYSLOT;
	}
	if (r < 0) {
		si_diag_set(d, "activating `%s' as `%s': %s", l->device, name ? name : "(test)",
			    cause(l, r));
		return -SI_EACTIVATE;
	}
	return r;
}

/* The volume key from the keyslot that pass opens, into locked memory the
 * caller frees. Returns the keyslot. */
static int volume_key(struct si_luks *l, int keyslot, const char *pass, size_t len,
		      uint8_t **vk, size_t *vk_len, struct si_diag *d)
{
	int size = crypt_get_volume_key_size(l->cd), r;

	*vk = NULL;
	if (size <= 0) {
		si_diag_set(d, "`%s' reports no volume key size", l->device);
		return -SI_EBADHEADER;
	}
	*vk = si_secret_alloc((size_t)size);
	if (!*vk)
		return -ENOMEM;
	*vk_len = (size_t)size;
	r = crypt_volume_key_get(begin(l), keyslot < 0 ? CRYPT_ANY_SLOT : keyslot, (char *)*vk,
				 vk_len, pass, len);
	if (r == -EPERM || r == -ENOENT) {
		si_diag_set(d, "the unsealed key opens no keyslot of `%s'", l->device);
		return -SI_EKEYSLOT;
	}
	if (r < 0) {
		si_diag_set(d, "reading the volume key of `%s': %s", l->device, cause(l, r));
		return r;
	}
	return r;
}

static int volume_prefix(struct si_luks *l, const char *name, char *out, size_t size,
			 struct si_diag *d)
{
	const char *uuid = crypt_get_uuid(l->cd);

	if (si_volkey_prefix(name, uuid ? uuid : "", out, size) < 0) {
		si_diag_set(d, "`%s': cannot bind to name `%.64s' and UUID `%.40s'", l->device,
			    name ? name : "", uuid ? uuid : "(none)");
		return -SI_EBADHEADER;
	}
	return 0;
}

int si_luks_volume_id(struct si_luks *l, const char *bind_name, const char *pass, size_t len,
		      char id[SI_VOLKEY_HEX_LEN + 1], struct si_diag *d)
{
	char prefix[SI_VOLKEY_PREFIX_MAX];
	uint8_t *vk = NULL;
	size_t vk_len = 0;
	int r;

	r = volume_prefix(l, bind_name, prefix, sizeof(prefix), d);
	if (r == 0)
		r = volume_key(l, -1, pass, len, &vk, &vk_len, d);
	if (r >= 0)
		r = si_volkey_id(vk, vk_len, prefix, id);
	si_secret_free(vk);
	return r < 0 ? r : 0;
}

int si_luks_activate_bound(struct si_luks *l, const char *name, int keyslot, const char *pass,
			   size_t len, struct si_luks_bind *b, struct si_diag *d)
{
	uint8_t *vk = NULL;
	size_t vk_len = 0, i;
	int r, slot;

	r = activation_allowed(l, name, d);
	if (r == 0)
		r = volume_prefix(l, b->name, b->prefix, sizeof(b->prefix), d);
	if (r < 0)
		return r;
	slot = volume_key(l, keyslot, pass, len, &vk, &vk_len, d);
	if (slot < 0) {
		r = slot;
		goto out;
	}
	r = si_volkey_id(vk, vk_len, b->prefix, b->id);
	if (r < 0)
		goto out;
	/* Before activation, as systemd checks fixate-volume-key=: a volume
	 * that is not the enrolled one is never mapped, let alone mounted. */
	if (b->pin && !si_volkey_id_equal(b->pin, b->id)) {
		si_diag_set(d, "`%s' is not the enrolled volume: its volume key id for `%s' is %s, "
			    "fixate_volume_key is %.64s", l->device, b->prefix, b->id, b->pin);
		r = -SI_EVOLKEY;
		goto out;
	}
	for (i = 0; i < b->nbanks && i < 4; i++) {
		r = si_volkey_digest(b->banks[i], vk, vk_len, b->prefix, b->digests[i]);
		if (r < 0) {
			si_diag_set(d, "measuring the volume: no HMAC for PCR bank %#x", b->banks[i]);
			goto out;
		}
		b->digest_len[i] = (size_t)r;
	}
	r = crypt_activate_by_volume_key(begin(l), name, (const char *)vk, vk_len, 0);
	if (r < 0) {
		si_diag_set(d, "activating `%s' as `%s': %s", l->device, name ? name : "(test)",
			    cause(l, r));
		r = -SI_EACTIVATE;
		goto out;
	}
	r = slot;
out:
	si_secret_free(vk);
	return r;
}

bool si_luks_keyslot_active(struct si_luks *l, int keyslot)
{
	crypt_keyslot_info st = crypt_keyslot_status(l->cd, keyslot);

	return st == CRYPT_SLOT_ACTIVE || st == CRYPT_SLOT_ACTIVE_LAST ||
	       st == CRYPT_SLOT_UNBOUND;
}

int si_luks_free_keyslot(struct si_luks *l, int avoid)
{
	int i, max = crypt_keyslot_max(CRYPT_LUKS2);

	for (i = 0; i < max; i++)
		if (i != avoid && crypt_keyslot_status(l->cd, i) == CRYPT_SLOT_INACTIVE)
			return i;
	return -ENOSPC;
}

int si_luks_keyslot_salt(struct si_luks *l, int keyslot, char *out, size_t size)
{
	struct json_object *root = NULL, *ks, *k, *kdf, *salt;
	const char *json;
	char id[16];
	int r = -ENOENT;

	if (crypt_dump_json(l->cd, &json, 0) < 0)
		return -EIO;
	root = json_tokener_parse(json);
	snprintf(id, sizeof(id), "%d", keyslot);
	if (root && json_object_object_get_ex(root, "keyslots", &ks) &&
	    json_object_object_get_ex(ks, id, &k) && json_object_object_get_ex(k, "kdf", &kdf) &&
	    json_object_object_get_ex(kdf, "salt", &salt) &&
	    json_object_is_type(salt, json_type_string)) {
		r = snprintf(out, size, "%s", json_object_get_string(salt)) < (int)size ? 0 : -ENOSPC;
	}
	json_object_put(root);
	return r;
}

int si_luks_set_token(struct si_luks *l, int id, const char *json, struct si_diag *d)
{
	int r = crypt_token_json_set(begin(l), id < 0 ? CRYPT_ANY_TOKEN : id, json);

	if (r < 0)
		si_diag_set(d, "%s token %d of `%s': %s", json ? "writing" : "removing", id,
			    l->device, cause(l, r));
	return r;
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *member_str(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/*
 * The ciphers a volume may use when the caller names none (the CLI): what
 * cryptsetup and systemd-repart create, and the alternatives cryptsetup's
 * FAQ recommends for hardware without AES instructions (dm-crypt refuses
 * a key size a cipher does not take). Anything else is refused:
 * cipher_null, ecb, plain IVs that repeat past 2 TiB, a cipher this table
 * does not know. The boot names its cipher (cipher=, default
 * aes-xts-plain64) and checks exactly that one.
 */
static const char *const known_ciphers[] = {
	"aes-xts-plain64",
	"aes-cbc-essiv:sha256",
	"serpent-xts-plain64",
	"twofish-xts-plain64",
	"xchacha12,aes-adiantum-plain64",
	"xchacha20,aes-adiantum-plain64",
};

#define N_KNOWN (sizeof(known_ciphers) / sizeof(known_ciphers[0]))
#define KNOWN_LIST "aes-xts-plain64, aes-cbc-essiv:sha256, serpent-xts-plain64, " \
	"twofish-xts-plain64, xchacha12,aes-adiantum-plain64 or xchacha20,aes-adiantum-plain64"

static int known_cipher(const char *enc)
{
	size_t i;

	for (i = 0; enc && i < N_KNOWN; i++)
		if (!strcmp(enc, known_ciphers[i]))
			return (int)i;
	return -1;
}

static int check_json(struct si_luks *l, const struct si_luks_expect *e, struct json_object *root,
		      struct si_diag *d)
{
	struct json_object *segs = member(root, "segments"), *slots = member(root, "keyslots");
	int n = segs && json_object_is_type(segs, json_type_object) ?
		json_object_object_length(segs) : -1;

	if (n != 1) {
		si_diag_set(d, "`%s' has %d data segments, expected exactly 1", l->device, n);
		return -SI_EBADHEADER;
	}
	json_object_object_foreach(segs, id, seg) {
		const char *type = member_str(seg, "type"), *enc = member_str(seg, "encryption");

		if (!type || strcmp(type, "crypt")) {
			si_diag_set(d, "`%s': segment %s is of type `%.32s', expected crypt", l->device,
				    id, type ? type : "(none)");
			return -SI_EBADHEADER;
		}
		if (e && e->cipher && (!enc || strcmp(enc, e->cipher))) {
			si_diag_set(d, "`%s': segment %s is encrypted with `%.64s', expected %s "
				    "(cipher=)", l->device, id, enc ? enc : "(none)", e->cipher);
			return -SI_EBADHEADER;
		}
		/* No cipher named: a null or unknown one is refused all the
		 * same. */
		if ((!e || !e->cipher) && known_cipher(enc) < 0) {
			si_diag_set(d, "`%s': segment %s is encrypted with `%.64s', not a known-good "
				    "cipher (expected " KNOWN_LIST "; name another with --cipher)",
				    l->device, id, enc ? enc : "(none)");
			return -SI_EBADHEADER;
		}
	}
	if (!slots || !json_object_is_type(slots, json_type_object)) {
		si_diag_set(d, "`%s' has no keyslots object", l->device);
		return -SI_EBADHEADER;
	}
	json_object_object_foreach(slots, ks, slot) {
		const char *enc = member_str(member(slot, "area"), "encryption");

		if (!enc || !strncmp(enc, "cipher_null", 11)) {
			si_diag_set(d, "`%s': keyslot %s's area is encrypted with `%.64s'", l->device, ks,
				    enc ? enc : "(none)");
			return -SI_EBADHEADER;
		}
	}
	return 0;
}

int si_luks_check(struct si_luks *l, const struct si_luks_expect *e, struct si_diag *d)
{
	struct json_object *root;
	const char *json;
	uint32_t req = 0;
	int r, bits;

	r = crypt_persistent_flags_get(begin(l), CRYPT_FLAGS_REQUIREMENTS, &req);
	if (r < 0 || req) {
		si_diag_set(d, "`%s' carries LUKS2 requirements 0x%x (%s): not opened until they are "
			    "resolved with cryptsetup", l->device, req,
			    req & CRYPT_REQUIREMENT_ONLINE_REENCRYPT ? "a reencryption in progress" :
			    r < 0 ? cause(l, r) : "unknown to this build");
		return -SI_EBADHEADER;
	}
	if (crypt_dump_json(begin(l), &json, 0) < 0 || !(root = json_tokener_parse(json))) {
		si_diag_set(d, "`%s': cannot read the LUKS2 metadata: %s", l->device, cause(l, -EIO));
		return -SI_EBADHEADER;
	}
	r = check_json(l, e, root, d);
	json_object_put(root);
	if (r < 0)
		return r;
	bits = crypt_get_volume_key_size(l->cd) * 8;
	if (e && e->key_bits && bits != e->key_bits) {
		si_diag_set(d, "`%s' has a %d-bit volume key, expected %d (key_size=)", l->device,
			    bits, e->key_bits);
		return -SI_EBADHEADER;
	}
	l->checked = true;
	return 0;
}
