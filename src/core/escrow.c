/* SPDX-License-Identifier: MIT */
/*
 * The recovery key's escrow document (escrow.h): sealed to the fleet's
 * escrow key with RSA-OAEP (RFC 8017 7.1, SHA-256 and MGF1-SHA-256, as
 * OpenSSL's pkeyutl with rsa_oaep_md:sha256), written whole or not at
 * all, and opened by a strict parser. The plaintext lives only in locked
 * memory and is wiped on every path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>

#include "core/b64.h"
#include "core/errors.h"
#include "core/escrow.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/mbedcompat.h"
#include "core/secret.h"
#include "core/volkey.h"

#define TYPE      "sealinit-escrow"
#define VERSION   1
#define ALG       "RSA-OAEP-256"
#define BITS_MIN  2048
#define BITS_MAX  4096
#define CT_MAX    (BITS_MAX / 8)
#define SPKI_MAX  (CT_MAX + 64)

/* 8-4-4-4-12 hex digits, as libcryptsetup prints a LUKS2 UUID. */
static bool uuid_valid(const char *s)
{
	size_t i;

	for (i = 0; i < SI_ESCROW_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' :
		    !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	}
	return s[i] == '\0';
}

/*
 * The kind of key a PEM holds when it is not one mbedtls reads (Ed25519,
 * DSA...): the algorithm OID of its SubjectPublicKeyInfo or PKCS#8
 * PrivateKeyInfo, named when known, else dotted; best effort.
 */
static void kind_of_unreadable(const char *pem, bool priv, char *out, size_t size)
{
	static const struct {
		const char *oid;
		size_t len;
		const char *name;
	} known[] = {
		{ "\x2b\x65\x70", 3, "Ed25519" },
		{ "\x2b\x65\x71", 3, "Ed448" },
		{ "\x2b\x65\x6e", 3, "X25519" },
		{ "\x2b\x65\x6f", 3, "X448" },
		{ "\x2a\x86\x48\xce\x38\x04\x01", 7, "DSA" },
		{ "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a", 9, "RSASSA-PSS" },
		{ "\x2a\x86\x48\xce\x3d\x02\x01", 7, "EC" },
		{ "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01", 9, "RSA" },
	};
	mbedtls_pem_context pc;
	mbedtls_asn1_buf oid, params;
	unsigned char *p, *end;
	size_t use_len, len, i;
	int ver;

	snprintf(out, size, "not a key mbedtls can read");
	mbedtls_pem_init(&pc);
	if (mbedtls_pem_read_buffer(&pc, priv ? "-----BEGIN PRIVATE KEY-----" :
				    "-----BEGIN PUBLIC KEY-----",
				    priv ? "-----END PRIVATE KEY-----" : "-----END PUBLIC KEY-----",
				    (const unsigned char *)pem, NULL, 0, &use_len))
		goto out;
	p = si_mbed_pem_der(&pc, &len);
	end = p + len;
	if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
		goto out;
	end = p + len;
	if (priv && mbedtls_asn1_get_int(&p, end, &ver))
		goto out;
	if (mbedtls_asn1_get_alg(&p, end, &oid, &params))
		goto out;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (oid.len == known[i].len && !memcmp(oid.p, known[i].oid, oid.len)) {
			snprintf(out, size, "key type %s", known[i].name);
			goto out;
		}
	{
		char dotted[64];

		if (mbedtls_oid_get_numeric_string(dotted, sizeof(dotted), &oid) > 0)
			snprintf(out, size, "key type %s (an algorithm OID)", dotted);
	}
out:
	mbedtls_pem_free(&pc);  /* zeroizes the DER it decoded */
}

/* An RSA key of 2048-4096 bits, or the reason in the diag naming its kind
 * or size; fp gets the SHA-256 of its DER SubjectPublicKeyInfo. */
static int check_key(mbedtls_pk_context *pk, const char *what, uint8_t fp[32],
		     struct si_diag *d)
{
	unsigned char der[SPKI_MAX];
	size_t bits;
	int n;

	if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_RSA) {
		si_diag_set(d, "%s: key type %s (expected RSA, %d-%d bits)", what,
			    mbedtls_pk_get_name(pk), BITS_MIN, BITS_MAX);
		return -EINVAL;
	}
	bits = mbedtls_pk_get_bitlen(pk);
	if (bits < BITS_MIN || bits > BITS_MAX) {
		si_diag_set(d, "%s: an RSA key of %zu bits (expected %d-%d)", what, bits, BITS_MIN,
			    BITS_MAX);
		return -EINVAL;
	}
	/* Written backwards from the end of der. */
	n = mbedtls_pk_write_pubkey_der(pk, der, sizeof(der));
	if (n <= 0)
		return -EINVAL;
	return si_sha256(der + sizeof(der) - n, (size_t)n, fp);
}

/* mbedtls wants the PEM NUL-terminated: a copy, in locked memory for a
 * private key. NULL with the diag set. */
static char *pem_copy(const void *pem, size_t len, bool priv, const char *what,
		      struct si_diag *d)
{
	char *buf;

	if (len == 0 || len > SI_ESCROW_PEM_MAX) {
		si_diag_set(d, "%s: %zu bytes (expected a PEM key of 1-%d bytes)", what, len,
			    SI_ESCROW_PEM_MAX);
		return NULL;
	}
	buf = priv ? si_secret_alloc(len + 1) : malloc(len + 1);
	if (!buf) {
		si_diag_set(d, "%s: out of memory", what);
		return NULL;
	}
	memcpy(buf, pem, len);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		si_diag_set(d, "%s: a NUL byte at offset %zu (expected PEM text)", what, strlen(buf));
		if (priv)
			si_secret_free(buf);
		else
			free(buf);
		return NULL;
	}
	return buf;
}

/* The plaintext: recovery, uuid, volume_id, one per line. */
static void plain_format(char *out, const char *recovery, const char *uuid, const char *volume_id)
{
	char *p = out;

	memcpy(p, recovery, SI_RECOVERY_LEN);
	p += SI_RECOVERY_LEN;
	*p++ = '\n';
	memcpy(p, uuid, SI_ESCROW_UUID_LEN);
	p += SI_ESCROW_UUID_LEN;
	*p++ = '\n';
	memcpy(p, volume_id, SI_VOLKEY_HEX_LEN);
	p += SI_VOLKEY_HEX_LEN;
	*p++ = '\n';
}

int si_escrow_seal(const void *pubkey_pem, size_t pem_len, const char *recovery,
		   const char *uuid, const char *volume_id, char **json, struct si_diag *d)
{
	unsigned char ct[CT_MAX];
	char *pem = NULL, *key = NULL, *plain = NULL, b64[SI_B64_LEN(CT_MAX) + 1], fphex[65];
	uint8_t fp[32];
	mbedtls_pk_context pk;
	size_t ct_len = 0;
	int r, n;

	*json = NULL;
	mbedtls_pk_init(&pk);
	if (!uuid || !uuid_valid(uuid)) {
		si_diag_set(d, "uuid `%.64s': expected a LUKS2 UUID (8-4-4-4-12 hex digits)",
			    uuid ? uuid : "");
		r = -EINVAL;
		goto out;
	}
	if (!volume_id || !si_volkey_id_valid(volume_id)) {
		si_diag_set(d, "volume_id `%.80s': expected 64 lower-case hex digits",
			    volume_id ? volume_id : "");
		r = -EINVAL;
		goto out;
	}
	key = si_secret_alloc(SI_RECOVERY_LEN + 1);
	plain = si_secret_alloc(SI_ESCROW_PLAIN_LEN);
	if (!key || !plain) {
		r = -ENOMEM;
		goto out;
	}
	r = si_recovery_normalize(recovery ? recovery : "", key, d);
	if (r < 0)
		goto out;
	r = -EINVAL;
	pem = pem_copy(pubkey_pem, pem_len, false, "escrow key", d);
	if (!pem)
		goto out;
	if (!strstr(pem, "-----BEGIN PUBLIC KEY-----")) {
		si_diag_set(d, "escrow key: not a PEM \"PUBLIC KEY\" (openssl pkey -pubout writes one)");
		goto out;
	}
	if (mbedtls_pk_parse_public_key(&pk, (const unsigned char *)pem, pem_len + 1)) {
		char kind[128];

		kind_of_unreadable(pem, false, kind, sizeof(kind));
		si_diag_set(d, "escrow key: %s (expected RSA, %d-%d bits)", kind, BITS_MIN, BITS_MAX);
		goto out;
	}
	r = check_key(&pk, "escrow key", fp, d);
	if (r < 0)
		goto out;
	plain_format(plain, key, uuid, volume_id);
	mbedtls_rsa_set_padding(mbedtls_pk_rsa(pk), MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
	if (mbedtls_pk_encrypt(&pk, (const unsigned char *)plain, SI_ESCROW_PLAIN_LEN, ct, &ct_len,
			       sizeof(ct), si_mbedtls_rng, NULL) ||
	    ct_len != mbedtls_pk_get_len(&pk)) {
		si_diag_set(d, "escrow key: RSA-OAEP encryption failed");
		r = -EIO;
		goto out;
	}
	si_b64_encode(b64, ct, ct_len);
	si_hex_encode(fphex, fp, sizeof(fp));
	*json = malloc(SI_ESCROW_JSON_MAX);
	if (!*json) {
		r = -ENOMEM;
		goto out;
	}
	n = snprintf(*json, SI_ESCROW_JSON_MAX,
		     "{\"type\":\"" TYPE "\",\"version\":%d,\"uuid\":\"%s\",\"volume_id\":\"%s\","
		     "\"key_fp\":\"%s\",\"alg\":\"" ALG "\",\"ciphertext\":\"%s\"}\n",
		     VERSION, uuid, volume_id, fphex, b64);
	if (n < 0 || n >= SI_ESCROW_JSON_MAX) {
		free(*json);
		*json = NULL;
		r = -ENOSPC;
		goto out;
	}
	r = 0;
out:
	mbedtls_pk_free(&pk);
	free(pem);
	si_secret_free(key);
	si_secret_free(plain);
	return r;
}

int si_escrow_write(const char *dir, const char *uuid, const char *json, char *path,
		    size_t path_size, struct si_diag *d)
{
	char name[64], tmp[96];
	size_t len = strlen(json), off = 0;
	int dfd, fd = -1, r;

	if (!uuid_valid(uuid)) {
		si_diag_set(d, "uuid `%.64s': expected a LUKS2 UUID (8-4-4-4-12 hex digits)", uuid);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "sealinit-escrow-%s.json", uuid);
	snprintf(tmp, sizeof(tmp), ".%s.tmp.%ld", name, (long)getpid());
	if (snprintf(path, path_size, "%s/%s", dir, name) >= (int)path_size) {
		si_diag_set(d, "escrow directory `%.200s': the path is too long", dir);
		return -ENAMETOOLONG;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		si_diag_set(d, "escrow directory `%.200s': %s", dir, strerror(-r));
		return r;
	}
	/* A stale temporary file of an earlier run with this pid: gone. */
	(void)unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		si_diag_set(d, "creating `%.200s/%s': %s", dir, tmp, strerror(-r));
		goto out;
	}
	/* 0600 whatever the umask said: the document is encrypted, but who
	 * escrowed which volume is the fleet's business only. */
	if (fchmod(fd, 0600) < 0)
		goto fail;
	while (off < len) {
		ssize_t k = write(fd, json + off, len - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto fail;
		off += (size_t)k;
	}
	/* The data on the medium before the name points at it, and the name
	 * on the medium before anyone is told it is there. */
	if (fsync(fd) < 0)
		goto fail;
	r = close(fd);
	fd = -1;
	if (r < 0 || renameat(dfd, tmp, dfd, name) < 0)
		goto fail;
	if (fsync(dfd) < 0) {
		r = -errno;
		si_diag_set(d, "syncing `%.200s': %s", dir, strerror(-r));
		goto out;
	}
	r = 0;
	goto out;
fail:
	r = errno ? -errno : -EIO;
	si_diag_set(d, "writing `%.200s': %s", path, strerror(-r));
	if (fd >= 0)
		close(fd);
	fd = -1;
	(void)unlinkat(dfd, tmp, 0);
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	return r;
}

/* A string field of o, or NULL with the diag naming it. */
static const char *str_field(struct json_object *o, const char *name, struct si_diag *d)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v)) {
		si_diag_set(d, "escrow: no `%s' field", name);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		si_diag_set(d, "escrow: `%s' is not a string", name);
		return NULL;
	}
	return json_object_get_string(v);
}

static bool hex64_valid(const char *s)
{
	return strlen(s) == 64 && si_volkey_id_valid(s);
}

int si_escrow_parse(const char *json, struct si_escrow_doc *doc, struct si_diag *d)
{
	static const char *const fields[] = {
		"type", "version", "uuid", "volume_id", "key_fp", "alg", "ciphertext",
	};
	struct json_object *o, *v;
	const char *s;
	size_t len = strlen(json), i;
	long n;
	int r = -EBADMSG;

	memset(doc, 0, sizeof(*doc));
	/* One trailing newline, as si_escrow_seal writes it. */
	if (len && json[len - 1] == '\n')
		len--;
	if (len > SI_ESCROW_JSON_MAX) {
		si_diag_set(d, "escrow: %zu bytes (expected at most %d)", len, SI_ESCROW_JSON_MAX);
		return -EBADMSG;
	}
	o = si_json_object(json, len, 3);
	if (!o) {
		si_diag_set(d, "escrow: not one JSON object");
		return -EBADMSG;
	}
	{
		json_object_object_foreach(o, key, val) {
			bool known = false;

			(void)val;
			for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
				known |= !strcmp(key, fields[i]);
			if (!known) {
				si_diag_set(d, "escrow: unknown field `%.64s'", key);
				goto out;
			}
		}
	}
	if (!(s = str_field(o, "type", d)))
		goto out;
	if (strcmp(s, TYPE)) {
		si_diag_set(d, "escrow: type `%.64s' (expected `" TYPE "')", s);
		goto out;
	}
	if (!json_object_object_get_ex(o, "version", &v) || !json_object_is_type(v, json_type_int) ||
	    (n = (long)json_object_get_int64(v)) != VERSION) {
		si_diag_set(d, "escrow: `version' is not %d", VERSION);
		goto out;
	}
	if (!(s = str_field(o, "uuid", d)))
		goto out;
	if (!uuid_valid(s)) {
		si_diag_set(d, "escrow: uuid `%.64s' (expected 8-4-4-4-12 hex digits)", s);
		goto out;
	}
	memcpy(doc->uuid, s, SI_ESCROW_UUID_LEN + 1);
	if (!(s = str_field(o, "volume_id", d)))
		goto out;
	if (!hex64_valid(s)) {
		si_diag_set(d, "escrow: volume_id `%.80s' (expected 64 lower-case hex digits)", s);
		goto out;
	}
	memcpy(doc->volume_id, s, 65);
	if (!(s = str_field(o, "key_fp", d)))
		goto out;
	if (!hex64_valid(s)) {
		si_diag_set(d, "escrow: key_fp `%.80s' (expected 64 lower-case hex digits)", s);
		goto out;
	}
	memcpy(doc->key_fp, s, 65);
	if (!(s = str_field(o, "alg", d)))
		goto out;
	if (strcmp(s, ALG)) {
		si_diag_set(d, "escrow: alg `%.64s' (expected `" ALG "')", s);
		goto out;
	}
	if (!(s = str_field(o, "ciphertext", d)))
		goto out;
	n = si_b64_decode(doc->ciphertext, sizeof(doc->ciphertext), s);
	if (n < BITS_MIN / 8) {
		si_diag_set(d, "escrow: ciphertext is %s (expected the base64 of %d-%d bytes)",
			    n == -ENOSPC ? "too long" : n < 0 ? "not base64" : "too short",
			    BITS_MIN / 8, BITS_MAX / 8);
		goto out;
	}
	doc->ciphertext_len = (size_t)n;
	r = 0;
out:
	json_object_put(o);
	if (r < 0)
		memset(doc, 0, sizeof(*doc));
	return r;
}

/* Which of the sealed fields differs from the document's claim: the
 * plaintext's shape, then each field by name. */
static int plain_check(const char *plain, size_t len, const struct si_escrow_doc *doc,
		       char *recovery, struct si_diag *d)
{
	const char *uuid = plain + SI_RECOVERY_LEN + 1;
	const char *vid = uuid + SI_ESCROW_UUID_LEN + 1;
	char *key;
	int r;

	if (len != SI_ESCROW_PLAIN_LEN || plain[SI_RECOVERY_LEN] != '\n' ||
	    uuid[SI_ESCROW_UUID_LEN] != '\n' || vid[SI_VOLKEY_HEX_LEN] != '\n') {
		si_diag_set(d, "escrow: ciphertext holds %zu bytes not of the sealed layout "
			    "(expected %d: key, uuid, volume_id)", len, SI_ESCROW_PLAIN_LEN);
		return -EBADMSG;
	}
	if (memcmp(uuid, doc->uuid, SI_ESCROW_UUID_LEN)) {
		si_diag_set(d, "escrow: uuid `%s' is not the sealed one (`%.36s')", doc->uuid, uuid);
		return -EBADMSG;
	}
	if (memcmp(vid, doc->volume_id, SI_VOLKEY_HEX_LEN)) {
		si_diag_set(d, "escrow: volume_id `%s' is not the sealed one (`%.64s')",
			    doc->volume_id, vid);
		return -EBADMSG;
	}
	key = si_secret_alloc(SI_RECOVERY_LEN + 1);
	if (!key)
		return -ENOMEM;
	memcpy(key, plain, SI_RECOVERY_LEN);
	key[SI_RECOVERY_LEN] = '\0';
	r = si_recovery_normalize(key, recovery, d);
	si_secret_free(key);
	if (r < 0) {
		char why[sizeof(d->msg)];

		snprintf(why, sizeof(why), "%s", d->msg);
		si_diag_set(d, "escrow: the sealed recovery key is malformed: %s", why);
		si_wipe(recovery, SI_RECOVERY_LEN + 1);
		return -EBADMSG;
	}
	return 0;
}

/* The private key, parsed and checked, or -EINVAL naming what it is. */
static int load_private(mbedtls_pk_context *pk, const void *pem_in, size_t pem_len, char **pem,
			uint8_t fp[32], struct si_diag *d)
{
	*pem = pem_copy(pem_in, pem_len, true, "escrow private key", d);
	if (!*pem)
		return -EINVAL;
	/* No passphrase: whoever recovers devices decrypts the key first. */
	if (si_mbed_pk_parse_key(pk, (const unsigned char *)*pem, pem_len + 1, si_mbedtls_rng)) {
		char kind[128];

		kind_of_unreadable(*pem, true, kind, sizeof(kind));
		si_diag_set(d, "escrow private key: %s (expected an unencrypted PEM RSA key, "
			    "%d-%d bits)", kind, BITS_MIN, BITS_MAX);
		return -EINVAL;
	}
	return check_key(pk, "escrow private key", fp, d);
}

int si_escrow_key_fp(const void *privkey_pem, size_t pem_len, char fp[65], struct si_diag *d)
{
	mbedtls_pk_context pk;
	char *pem = NULL;
	uint8_t h[32];
	int r;

	mbedtls_pk_init(&pk);
	r = load_private(&pk, privkey_pem, pem_len, &pem, h, d);
	if (r == 0)
		si_hex_encode(fp, h, sizeof(h));
	mbedtls_pk_free(&pk);
	si_secret_free(pem);
	return r;
}

int si_escrow_open(const void *privkey_pem, size_t pem_len, const char *json, char *recovery,
		   struct si_diag *d)
{
	struct si_escrow_doc *doc;
	mbedtls_pk_context pk;
	char *pem = NULL, *plain = NULL, fphex[65];
	uint8_t fp[32];
	size_t len = 0;
	int r;

	si_wipe(recovery, SI_RECOVERY_LEN + 1);
	mbedtls_pk_init(&pk);
	doc = calloc(1, sizeof(*doc));
	if (!doc)
		return -ENOMEM;
	r = si_escrow_parse(json, doc, d);
	if (r < 0)
		goto out;
	r = load_private(&pk, privkey_pem, pem_len, &pem, fp, d);
	if (r < 0)
		goto out;
	si_hex_encode(fphex, fp, sizeof(fp));
	/* Another key is named before anything is decrypted. */
	if (!si_memeq(fphex, doc->key_fp, 64)) {
		si_diag_set(d, "escrow: key_fp %s is not this key's (%s)", doc->key_fp, fphex);
		r = -EKEYREJECTED;
		goto out;
	}
	if (doc->ciphertext_len != mbedtls_pk_get_len(&pk)) {
		si_diag_set(d, "escrow: ciphertext of %zu bytes (expected %zu for this key)",
			    doc->ciphertext_len, mbedtls_pk_get_len(&pk));
		r = -EBADMSG;
		goto out;
	}
	plain = si_secret_alloc(CT_MAX);
	if (!plain) {
		r = -ENOMEM;
		goto out;
	}
	mbedtls_rsa_set_padding(mbedtls_pk_rsa(pk), MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
	if (mbedtls_pk_decrypt(&pk, doc->ciphertext, doc->ciphertext_len, (unsigned char *)plain,
			       &len, CT_MAX, si_mbedtls_rng, NULL)) {
		si_diag_set(d, "escrow: ciphertext does not decrypt with this key (RSA-OAEP-256)");
		r = -EBADMSG;
		goto out;
	}
	r = plain_check(plain, len, doc, recovery, d);
out:
	mbedtls_pk_free(&pk);
	si_secret_free(pem);
	si_secret_free(plain);
	free(doc);
	return r;
}
