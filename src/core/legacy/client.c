/* SPDX-License-Identifier: MIT */
/*
 * The legacy split-key client: the one module that knows the wire contract
 * of docs/legacy-protocol.md. libcurl carries the bytes; the checks (size
 * caps, TLS anchors, integrity before decryption) are ours.
 *
 *   login        POST {api}/v1/auth/login            -> token, salt
 *   small part   GET  {api}/v1/resources/{id}/small  -> small, sha256, big_url, big_size
 *   big part     GET  big_url (the CDN)              -> raw bytes
 *   resource     = AES-256-CBC-decrypt(small || big), after its SHA-256 matched
 *
 *   escrow       POST {api}/v1/devices/escrow        <- the escrow document (201 or 200)
 */
#include <ctype.h>
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/b64.h"
#include "core/errors.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/legacy/client.h"
#include "core/legacy/crypto.h"
#include "core/secret.h"

#define CREDS_FILE_MAX 4096
#define FP_VALUE_MAX   128
#define BACKOFF_MS     250

/* ---- libcurl, loaded on first use ---------------------------------------
 * dlopen()ed rather than linked: a boot that unlocks by TPM never loads
 * libcurl and its ~35 libraries (measured in bench/boot). */
static struct {
	void *h;
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} cu;

#define SYM(field, name) { (void **)&cu.field, name }

static int curl_load(struct si_diag *d)
{
	static const struct { void **p; const char *name; } syms[] = {
		SYM(global_init, "curl_global_init"), SYM(easy_init, "curl_easy_init"),
		SYM(easy_cleanup, "curl_easy_cleanup"), SYM(easy_reset, "curl_easy_reset"),
		SYM(easy_setopt, "curl_easy_setopt"), SYM(easy_perform, "curl_easy_perform"),
		SYM(easy_getinfo, "curl_easy_getinfo"), SYM(easy_strerror, "curl_easy_strerror"),
		SYM(slist_append, "curl_slist_append"), SYM(slist_free_all, "curl_slist_free_all"),
	};
	size_t i;

	if (cu.h)
		return 0;
	cu.h = dlopen(SI_LIBCURL, RTLD_NOW | RTLD_LOCAL);
	if (!cu.h) {
		si_diag_set(d, "cannot load " SI_LIBCURL " (is it in the initramfs?): %.150s", dlerror());
		return -SI_EUNSUPPORTED;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].p = dlsym(cu.h, syms[i].name);
		if (!*syms[i].p) {
			si_diag_set(d, SI_LIBCURL " lacks %s", syms[i].name);
			dlclose(cu.h);
			cu.h = NULL;
			return -SI_EUNSUPPORTED;
		}
	}
	return 0;
}

/* ---- the hardware fingerprint ---------------------------------------- */

/* The whole file, or -EFBIG when it does not fit: a fingerprint value is
 * never silently cut. */
static int read_small_file(const char *path, char *out, size_t size)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, out + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == size - 1) {
			char c;

			n = read(fd, &c, 1);
			close(fd);
			return n > 0 ? -EFBIG : (out[len] = '\0', 0);
		}
	}
	close(fd);
	out[len] = '\0';
	return 0;
}

int si_legacy_fingerprint(const char *sources, const char *root, char *out, size_t size,
			  struct si_diag *d)
{
	char list[256], *save = NULL, *name;
	size_t len = 0;

	if (snprintf(list, sizeof(list), "%s", sources) >= (int)sizeof(list) || !*list) {
		si_diag_set(d, "legacy_fingerprint: empty or too long");
		return -SI_EFINGERPRINT;
	}
	out[0] = '\0';
	for (name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		char path[512], value[FP_VALUE_MAX + 1];
		size_t vlen, i;
		int r, n;

		if (!strcmp(name, "dt-serial"))
			n = snprintf(path, sizeof(path), "%s/proc/device-tree/serial-number", root);
		else if (!strcmp(name, "dmi-uuid"))
			n = snprintf(path, sizeof(path), "%s/sys/class/dmi/id/product_uuid", root);
		else if (!strncmp(name, "mac:", 4) && name[4] && name[4] != '.' && !strchr(name + 4, '/'))
			n = snprintf(path, sizeof(path), "%s/sys/class/net/%s/address", root, name + 4);
		else if (!strncmp(name, "file:", 5) && name[5] == '/')
			n = snprintf(path, sizeof(path), "%s%s", root, name + 5);
		else {
			si_diag_set(d, "legacy_fingerprint: unknown source `%.40s' (expected dt-serial, "
				    "dmi-uuid, mac:IFACE or file:/PATH)", name);
			return -SI_EFINGERPRINT;
		}
		if (n < 0 || (size_t)n >= sizeof(path)) {
			si_diag_set(d, "legacy_fingerprint: path of `%.40s' too long", name);
			return -SI_EFINGERPRINT;
		}
		r = read_small_file(path, value, sizeof(value));
		if (r < 0) {
			si_diag_set(d, "fingerprint source %s: reading %s: %s", name, path, strerror(-r));
			return -SI_EFINGERPRINT;
		}
		/* Device-tree strings end in NUL, sysfs values in a newline. */
		vlen = strlen(value);
		while (vlen && (isspace((unsigned char)value[vlen - 1])))
			value[--vlen] = '\0';
		for (i = 0; i < vlen; i++) {
			if (value[i] <= ' ' || value[i] > '~' || value[i] == ';') {
				si_diag_set(d, "fingerprint source %s: %s holds unprintable bytes", name, path);
				return -SI_EFINGERPRINT;
			}
		}
		if (!vlen) {
			si_diag_set(d, "fingerprint source %s: %s is empty", name, path);
			return -SI_EFINGERPRINT;
		}
		n = snprintf(out + len, size - len, "%s%s=%s", len ? ";" : "", name, value);
		if (n < 0 || (size_t)n >= size - len) {
			si_diag_set(d, "fingerprint longer than %zu bytes", size - 1);
			return -SI_EFINGERPRINT;
		}
		len += (size_t)n;
	}
	if (!len) {
		si_diag_set(d, "legacy_fingerprint: no source in `%.40s'", sources);
		return -SI_EFINGERPRINT;
	}
	return 0;
}

/* ---- credentials ------------------------------------------------------- */

int si_legacy_parse_creds(char *text, size_t n, const char *path, struct si_legacy_creds_buf *c,
			  struct si_diag *d)
{
	char *p, *line;
	int lineno = 0;

	/* A NUL would end the text early and silently drop what follows. */
	if (memchr(text, '\0', n)) {
		si_diag_set(d, "credentials file %s: contains a NUL byte", path);
		return -SI_ECREDS;
	}
	text[n] = '\0';
	for (p = text; (line = strsep(&p, "\n"));) {
		char *v = strchr(line, '='), *dst, *q;
		size_t len;

		lineno++;
		if (!*line || *line == '#')
			continue;
		if (!v) {
			si_diag_set(d, "credentials file %s, line %d: expected email= or password=",
				    path, lineno);
			return -SI_ECREDS;
		}
		*v++ = '\0';
		len = strlen(v);
		if (len && v[len - 1] == '\r')
			v[--len] = '\0';
		if (!strcmp(line, "email"))
			dst = c->email;
		else if (!strcmp(line, "password"))
			dst = c->password;
		else {
			si_diag_set(d, "credentials file %s, line %d: unknown key (expected email or "
				    "password)", path, lineno);
			return -SI_ECREDS;
		}
		if (!len || len > SI_LEGACY_TOKEN_MAX) {
			si_diag_set(d, "credentials file %s, line %d: %s must be 1-%d bytes", path,
				    lineno, line, SI_LEGACY_TOKEN_MAX);
			return -SI_ECREDS;
		}
		/* A stray CR or tab is an editing accident, never part of a
		 * credential: say so instead of sending it to the server. */
		for (q = v; *q; q++) {
			if ((unsigned char)*q < 0x20 || *q == 0x7f) {
				si_diag_set(d, "credentials file %s, line %d: %s contains a control "
					    "character (byte %d)", path, lineno, line, (int)(q - v) + 1);
				return -SI_ECREDS;
			}
		}
		memcpy(dst, v, len + 1);
	}
	if (!c->email[0] || !c->password[0]) {
		si_diag_set(d, "credentials file %s: needs both email= and password=", path);
		return -SI_ECREDS;
	}
	return 0;
}

int si_legacy_read_creds(const char *path, struct si_legacy_creds_buf **out, struct si_diag *d)
{
	struct si_legacy_creds_buf *c;
	struct stat st;
	char *text;
	ssize_t n;
	int fd, r = -SI_ECREDS;

	*out = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		si_diag_set(d, "credentials file %s: %s", path, strerror(errno));
		return -SI_ECREDS;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		si_diag_set(d, "credentials file %s: not a regular file", path);
		close(fd);
		return -SI_ECREDS;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		si_diag_set(d, "credentials file %s: must be owned by uid %u with mode 0600 or "
			    "stricter (it is uid %u, mode %04o)", path, (unsigned int)geteuid(),
			    (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
		close(fd);
		return -SI_ECREDS;
	}
	c = si_secret_alloc(sizeof(*c) + CREDS_FILE_MAX + 1);
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	memset(c, 0, sizeof(*c));
	text = (char *)(c + 1);
	n = read(fd, text, CREDS_FILE_MAX + 1);
	close(fd);
	if (n < 0 || n > CREDS_FILE_MAX) {
		si_diag_set(d, "credentials file %s: %s", path,
			    n < 0 ? strerror(errno) : "larger than 4096 bytes");
		goto out;
	}
	r = si_legacy_parse_creds(text, (size_t)n, path, c, d);
	if (r < 0)
		goto out;
	r = 0;
out:
	si_wipe(text, CREDS_FILE_MAX + 1);
	if (r < 0)
		si_secret_free(c);
	else
		*out = c;
	return r;
}

/* ---- response parsers --------------------------------------------------- */

/* The whole body must be one JSON object, nothing after it. */
static struct json_object *parse_object(const char *body, size_t len, const char *what,
					struct si_diag *d)
{
	struct json_object *o;

	if (len > SI_LEGACY_JSON_MAX) {
		si_diag_set(d, "%s response: larger than %d bytes", what, SI_LEGACY_JSON_MAX);
		return NULL;
	}
	o = si_json_object(body, len, 16);
	if (!o)
		si_diag_set(d, "%s response: not a JSON object", what);
	return o;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	const char *str;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	str = json_object_get_string(v);
	/* A \u0000 inside would cut the value short of what the checks see. */
	if ((size_t)json_object_get_string_len(v) != strlen(str))
		return NULL;
	return str;
}

/* Printable ASCII without spaces: safe to put in a header or URL. */
static bool printable(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if (*s <= ' ' || *s > '~')
			return false;
	return n > 0 && n <= max;
}

int si_legacy_parse_login(const char *body, size_t len, struct si_legacy_login *out,
			  struct si_diag *d)
{
	struct json_object *o = parse_object(body, len, "login", d);
	const char *token, *salt;
	int r = -SI_EBADRESPONSE;

	memset(out, 0, sizeof(*out));
	if (!o)
		return -SI_EBADRESPONSE;
	token = get_str(o, "token");
	salt = get_str(o, "salt");
	if (!token || !printable(token, SI_LEGACY_TOKEN_MAX))
		si_diag_set(d, "login response: `token' must be 1-%d printable characters",
			    SI_LEGACY_TOKEN_MAX);
	else if (!salt || !*salt || strlen(salt) > SI_LEGACY_FIELD_MAX)
		si_diag_set(d, "login response: `salt' must be a string of 1-%d bytes",
			    SI_LEGACY_FIELD_MAX);
	else {
		memcpy(out->token, token, strlen(token) + 1);
		memcpy(out->salt, salt, strlen(salt) + 1);
		r = 0;
	}
	json_object_put(o);
	return r;
}

int si_legacy_parse_small(const char *body, size_t len, long big_max,
			  struct si_legacy_small *out, struct si_diag *d)
{
	struct json_object *o = parse_object(body, len, "small-part", d), *v;
	const char *small, *sha, *url;
	int64_t size;
	long n;
	int r = -SI_EBADRESPONSE;

	memset(out, 0, sizeof(*out));
	if (!o)
		return -SI_EBADRESPONSE;
	small = get_str(o, "small");
	sha = get_str(o, "sha256");
	url = get_str(o, "big_url");
	if (!small) {
		si_diag_set(d, "small-part response: `small' missing or not a string");
		goto out;
	}
	n = si_b64_decode(out->small, sizeof(out->small), small);
	if (n == -ENOSPC) {
		si_diag_set(d, "small-part response: `small' decodes to more than %d bytes",
			    SI_LEGACY_SMALL_MAX);
		r = -SI_EOVERSIZE;
		goto out;
	}
	if (n <= 0) {
		si_diag_set(d, "small-part response: `small' is not non-empty base64");
		goto out;
	}
	out->small_len = (size_t)n;
	if (!sha || strlen(sha) != 64 || si_hex_decode(out->sha256, sizeof(out->sha256), sha) != 32) {
		si_diag_set(d, "small-part response: `sha256' must be 64 hex digits");
		goto out;
	}
	if (!url || strncmp(url, "https://", 8) || !printable(url, SI_LEGACY_URL_MAX - 1)) {
		si_diag_set(d, "small-part response: `big_url' must be an https:// URL of at most %d "
			    "characters", SI_LEGACY_URL_MAX - 1);
		goto out;
	}
	memcpy(out->big_url, url, strlen(url) + 1);
	if (!json_object_object_get_ex(o, "big_size", &v) || !json_object_is_type(v, json_type_int) ||
	    (size = json_object_get_int64(v)) < 1) {
		si_diag_set(d, "small-part response: `big_size' must be a positive integer");
		goto out;
	}
	if (size > big_max) {
		si_diag_set(d, "small-part response: `big_size' %lld exceeds the cap of %ld bytes "
			    "(legacy_big_max)", (long long)size, big_max);
		r = -SI_EOVERSIZE;
		goto out;
	}
	out->big_size = (long)size;
	r = 0;
out:
	if (r < 0)
		si_wipe(out, sizeof(*out));
	json_object_put(o);
	return r;
}

/* ---- transport ----------------------------------------------------------- */

struct sink {
	uint8_t *p;
	size_t len, cap;
	bool over;
};

static size_t sink_write(char *data, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t k = size * n;

	if (k > s->cap - s->len) {
		s->over = true;
		return 0;  /* curl stops with CURLE_WRITE_ERROR */
	}
	memcpy(s->p + s->len, data, k);
	s->len += k;
	return k;
}

struct fetch {
	const struct si_legacy_cfg *c;
	si_legacy_log_fn log;
	void *log_ctx;
	CURL *curl;
	struct curl_slist *resolve;
	long created;     /* a second success status (201 for the escrow), or 0 */
	double deadline;  /* CLOCK_MONOTONIC ms */
	char errbuf[CURL_ERROR_SIZE];
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

__attribute__((format(printf, 2, 3)))
static void flog(struct fetch *f, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!f->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f->log(f->log_ctx, msg);
}

/* The host of a URL, for messages (never the path: it may name a blob). */
static void url_host(const char *url, char *out, size_t size)
{
	const char *h = strstr(url, "://");
	size_t n;

	h = h ? h + 3 : url;
	n = strcspn(h, "/?#");
	snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), h);
}

/* Map one attempt's outcome to a code. *transient: worth another try. */
static int classify(struct fetch *f, CURLcode cc, const struct sink *s, const char *what,
		    const char *host, bool *transient, struct si_diag *d)
{
	long status = 0, oserr = 0;

	*transient = false;
	switch (cc) {
	case CURLE_OK:
		cu.easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
		if (status == 200 || (f->created && status == f->created))
			return 0;
		if (status == 401) {
			si_diag_set(d, "%s: %s answered HTTP 401", what, host);
			return -SI_EAUTH;
		}
		if (status == 403) {
			si_diag_set(d, "%s: %s answered HTTP 403", what, host);
			return -SI_EFORBIDDEN;
		}
		if (status >= 500 && status <= 599) {
			*transient = true;
			si_diag_set(d, "%s: %s answered HTTP %ld", what, host, status);
			return -SI_ESERVER;
		}
		si_diag_set(d, "%s: %s answered HTTP %ld (expected 200%s)", what, host, status,
			    f->created ? " or 201" : "");
		return -SI_EBADRESPONSE;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (cc == CURLE_FILESIZE_EXCEEDED || s->over) {
			si_diag_set(d, "%s: response from %s larger than its cap of %zu bytes", what,
				    host, s->cap);
			return -SI_EOVERSIZE;
		}
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		*transient = true;
		si_diag_set(d, "%s: cannot resolve %s: %s", what, host, f->errbuf);
		return -SI_EDNS;
	case CURLE_COULDNT_CONNECT:
		*transient = true;
		cu.easy_getinfo(f->curl, CURLINFO_OS_ERRNO, &oserr);
		si_diag_set(d, "%s: %s: %s", what, host, f->errbuf);
		if (oserr == ENETUNREACH || oserr == EHOSTUNREACH || oserr == EADDRNOTAVAIL)
			return -SI_ENETDOWN;
		return -SI_ECONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		*transient = true;
		si_diag_set(d, "%s: %s: %s", what, host, f->errbuf);
		return -SI_ETIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		si_diag_set(d, "%s: %s: %s", what, host, f->errbuf);
		return -SI_ETLS;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		*transient = true;
		si_diag_set(d, "%s: %s: connection closed early (%s)", what, host, f->errbuf);
		return -SI_EBADRESPONSE;
	default:
		break;
	}
	si_diag_set(d, "%s: %s: %s", what, host, f->errbuf[0] ? f->errbuf : cu.easy_strerror(cc));
	return -SI_ECONNECT;
}

static void set_common(struct fetch *f, long timeout_ms)
{
	CURL *h = f->curl;
	long conn = f->c->connect_timeout_ms < timeout_ms ? f->c->connect_timeout_ms : timeout_ms;

	cu.easy_reset(h);  /* keeps the connection and TLS session caches */
	cu.easy_setopt(h, CURLOPT_ERRORBUFFER, f->errbuf);
	cu.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	cu.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	cu.easy_setopt(h, CURLOPT_PROXY, "");  /* no proxy from the environment */
	cu.easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* Trust only what the initramfs carries: the bundle and/or the pin,
	 * never a system store. The host name is always checked. */
	cu.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	cu.easy_setopt(h, CURLOPT_CAPATH, NULL);
	if (f->c->ca[0]) {
		cu.easy_setopt(h, CURLOPT_CAINFO, f->c->ca);
		cu.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	} else {
		/* Pin only: the server's key is the anchor (a self-signed
		 * certificate is fine); the pin below is always enforced. */
		cu.easy_setopt(h, CURLOPT_CAINFO, NULL);
		cu.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	}
	if (f->c->pin[0])
		cu.easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, f->c->pin);
	cu.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, conn);
	cu.easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	cu.easy_setopt(h, CURLOPT_USERAGENT, "sealinit/" SEALINIT_VERSION);
	if (f->resolve)
		cu.easy_setopt(h, CURLOPT_RESOLVE, f->resolve);
	cu.easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
}

/* The deadline passed: say so, keeping the last attempt's error. */
static void deadline_passed(struct fetch *f, struct si_diag *d)
{
	char last[sizeof(d->msg)];

	memcpy(last, d->msg, sizeof(last));  /* not vsnprintf from itself */
	si_diag_set(d, "deadline of %d ms passed; last: %.180s", f->c->deadline_ms, last);
}

/*
 * One request, retried on transient failures with exponential backoff,
 * never past the fetch's deadline. The sink is emptied before each try,
 * so a failed attempt leaves no bytes behind.
 */
static int request(struct fetch *f, const char *what, const char *url, const char *post,
		   struct curl_slist *hdrs, struct sink *s, struct si_diag *d)
{
	char host[128];
	int attempt, r;

	url_host(url, host, sizeof(host));
	for (attempt = 0;; attempt++) {
		double left = f->deadline - now_ms();
		long t = f->c->timeout_ms;
		bool transient;
		CURLcode cc;

		if (left < 1) {
			if (attempt == 0)
				si_diag_set(d, "%s: the deadline of %d ms passed before %s was asked",
					    what, f->c->deadline_ms, host);
			else
				deadline_passed(f, d);
			return -SI_ETIMEOUT;
		}
		if (left < t)
			t = (long)left;
		set_common(f, t);
		cu.easy_setopt(f->curl, CURLOPT_URL, url);
		if (post) {
			cu.easy_setopt(f->curl, CURLOPT_POSTFIELDS, post);
			cu.easy_setopt(f->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
		}
		if (hdrs)
			cu.easy_setopt(f->curl, CURLOPT_HTTPHEADER, hdrs);
		cu.easy_setopt(f->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->cap);
		cu.easy_setopt(f->curl, CURLOPT_WRITEDATA, s);
		si_wipe(s->p, s->len);
		s->len = 0;
		s->over = false;
		f->errbuf[0] = '\0';
		cc = cu.easy_perform(f->curl);
		r = classify(f, cc, s, what, host, &transient, d);
		if (r == 0)
			return 0;
		si_wipe(s->p, s->len);
		s->len = 0;
		left = f->deadline - now_ms();
		if (transient && left < 1) {
			deadline_passed(f, d);
			return -SI_ETIMEOUT;
		}
		if (!transient || attempt >= f->c->retries)
			return r;
		t = (long)BACKOFF_MS << attempt;
		if (left <= t) {
			deadline_passed(f, d);
			return -SI_ETIMEOUT;
		}
		flog(f, "%s failed (%s); retry %d of %d in %ld ms", what, d->msg, attempt + 1,
		     f->c->retries, t);
		nanosleep(&(struct timespec){ t / 1000, (t % 1000) * 1000000L }, NULL);
	}
}

/* Append s to a JSON string body, escaped. */
static int json_escape(char *out, size_t size, size_t *len, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		int n;

		if (ch == '"' || ch == '\\')
			n = snprintf(out + *len, size - *len, "\\%c", ch);
		else if (ch < 0x20)
			n = snprintf(out + *len, size - *len, "\\u%04x", ch);
		else
			n = snprintf(out + *len, size - *len, "%c", ch);
		if (n < 0 || (size_t)n >= size - *len)
			return -ENOSPC;
		*len += (size_t)n;
	}
	return 0;
}

/* Everything secret in one locked allocation, wiped on free. */
struct fetch_secrets {
	struct si_legacy_creds_buf *creds;  /* its own locked allocation */
	char body[SI_LEGACY_TOKEN_MAX * 12 + 64];
	char auth[SI_LEGACY_TOKEN_MAX + 32];
	uint8_t json[SI_LEGACY_JSON_MAX + 1];
	struct si_legacy_login login;
	struct si_legacy_small small;
	uint8_t key[32], iv[16];
	char fp[SI_LEGACY_FP_MAX];
};

static int build_login_body(struct fetch_secrets *s)
{
	size_t len = 0;
	int r;

	len = (size_t)snprintf(s->body, sizeof(s->body), "{\"email\":\"");
	r = json_escape(s->body, sizeof(s->body), &len, s->creds->email);
	if (!r)
		len += (size_t)snprintf(s->body + len, sizeof(s->body) - len, "\",\"password\":\"");
	if (!r)
		r = json_escape(s->body, sizeof(s->body), &len, s->creds->password);
	if (!r && len + 3 > sizeof(s->body))
		r = -ENOSPC;
	if (!r)
		memcpy(s->body + len, "\"}", 3);
	return r;
}

void si_legacy_wipe_headers(struct curl_slist *l)
{
	for (; l; l = l->next)
		if (l->data)
			si_wipe(l->data, strlen(l->data));
}

/* curl_slist_append copied each header, the bearer token among them, into
 * memory of ours that curl_slist_free_all frees as it is: wipe it first. */
static void free_headers(struct curl_slist *l)
{
	si_legacy_wipe_headers(l);
	cu.slist_free_all(l);
}

static struct curl_slist *parse_resolve(const char *spec, struct si_diag *d)
{
	struct curl_slist *l = NULL, *n;
	char buf[256], *save = NULL, *e;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (e = strtok_r(buf, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		n = cu.slist_append(l, e);
		if (!n) {
			cu.slist_free_all(l);
			si_diag_set(d, "out of memory");
			return NULL;
		}
		l = n;
	}
	return l;
}

/*
 * What every exchange with the API starts with: the credentials and the
 * fingerprint (local: a missing credential costs no network), libcurl,
 * then the login; s->login gets the token. *alen is the API URL's length
 * without its trailing slashes.
 */
static int session_begin(struct fetch *f, struct fetch_secrets **sp, char fphex[65], size_t *alen,
			 struct si_diag *d)
{
	const struct si_legacy_cfg *c = f->c;
	struct fetch_secrets *s;
	struct curl_slist *hdrs;
	struct sink sink;
	uint8_t fphash[32];
	char url[SI_LEGACY_URL_MAX + 128], host[128];
	int r;

	f->deadline = now_ms() + c->deadline_ms;
	*sp = s = si_secret_alloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	r = si_legacy_read_creds(c->credentials, &s->creds, d);
	if (r < 0)
		return r;
	r = si_legacy_fingerprint(c->fingerprint, "", s->fp, sizeof(s->fp), d);
	if (r < 0)
		return r;
	r = si_sha256(s->fp, strlen(s->fp), fphash);
	if (r < 0)
		return r;
	si_hex_encode(fphex, fphash, sizeof(fphash));
	r = build_login_body(s);
	if (r < 0) {
		si_diag_set(d, "credentials too long for the login request");
		return -SI_ECREDS;
	}

	r = curl_load(d);
	if (r < 0)
		return r;
	if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(f->curl = cu.easy_init())) {
		si_diag_set(d, "cannot initialise libcurl");
		return -ENOMEM;
	}
	if (c->resolve[0] && !(f->resolve = parse_resolve(c->resolve, d)))
		return -ENOMEM;
	*alen = strlen(c->api);
	while (*alen && c->api[*alen - 1] == '/')
		(*alen)--;

	url_host(c->api, host, sizeof(host));
	flog(f, "logging in to %s", host);
	snprintf(url, sizeof(url), "%.*s/v1/auth/login", (int)*alen, c->api);
	hdrs = cu.slist_append(NULL, "Content-Type: application/json");
	sink = (struct sink){ .p = s->json, .cap = SI_LEGACY_JSON_MAX };
	r = hdrs ? request(f, "login", url, s->body, hdrs, &sink, d) : -ENOMEM;
	si_wipe(s->body, sizeof(s->body));
	free_headers(hdrs);
	if (r < 0)
		return r;
	r = si_legacy_parse_login((const char *)s->json, sink.len, &s->login, d);
	si_wipe(s->json, sink.len);
	return r;
}

static void session_end(struct fetch *f, struct fetch_secrets *s, struct curl_slist *hdrs)
{
	if (cu.h) {
		free_headers(hdrs);
		cu.slist_free_all(f->resolve);
	}
	if (f->curl)
		cu.easy_cleanup(f->curl);
	if (s) {
		si_secret_free(s->creds);
		si_secret_free(s);
	}
}

int si_legacy_fetch(const struct si_legacy_cfg *c, si_legacy_log_fn log, void *log_ctx,
		    uint8_t **out, size_t *out_len, struct si_diag *d)
{
	struct fetch f = { .c = c, .log = log, .log_ctx = log_ctx };
	struct fetch_secrets *s = NULL;
	struct curl_slist *hdrs = NULL, *h2;
	struct si_legacy_creds cr;
	struct sink sink;
	uint8_t *ct = NULL, *plain = NULL;
	char url[SI_LEGACY_URL_MAX + 128], fphex[65], host[128];
	size_t ct_len = 0, plain_len = 0, alen = 0;
	int r;

	*out = NULL;
	*out_len = 0;
	r = si_legacy_cfg_validate(c, d);
	if (r < 0)
		return r;
	/* 1. login */
	r = session_begin(&f, &s, fphex, &alen, d);
	if (r < 0)
		goto out;

	/* 2. the small part, bound to this device's fingerprint */
	flog(&f, "requesting resource %s for fingerprint %.16s...", c->resource, fphex);
	snprintf(url, sizeof(url), "%.*s/v1/resources/%s/small", (int)alen, c->api, c->resource);
	snprintf(s->auth, sizeof(s->auth), "Authorization: Bearer %s", s->login.token);
	hdrs = cu.slist_append(NULL, s->auth);
	snprintf(s->body, sizeof(s->body), "X-Hardware-Fingerprint: %s", fphex);
	h2 = hdrs ? cu.slist_append(hdrs, s->body) : NULL;
	si_wipe(s->auth, sizeof(s->auth));
	if (!h2) {
		r = -ENOMEM;
		goto out;
	}
	hdrs = h2;
	sink = (struct sink){ .p = s->json, .cap = SI_LEGACY_JSON_MAX };
	r = request(&f, "small part", url, NULL, hdrs, &sink, d);
	if (r < 0)
		goto out;
	r = si_legacy_parse_small((const char *)s->json, sink.len, c->big_max, &s->small, d);
	si_wipe(s->json, sink.len);
	if (r < 0)
		goto out;

	/* 3. the big part from the CDN, into the buffer after the small one */
	ct_len = s->small.small_len + (size_t)s->small.big_size;
	ct = malloc(ct_len);
	if (!ct) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(ct, s->small.small, s->small.small_len);
	url_host(s->small.big_url, host, sizeof(host));
	flog(&f, "fetching %ld bytes from %s", s->small.big_size, host);
	sink = (struct sink){ .p = ct + s->small.small_len, .cap = (size_t)s->small.big_size };
	r = request(&f, "big part", s->small.big_url, NULL, NULL, &sink, d);
	if (r < 0)
		goto out;
	if (sink.len != sink.cap) {
		si_diag_set(d, "big part: %s sent %zu of the %zu bytes announced", host, sink.len,
			    sink.cap);
		r = -SI_EBADRESPONSE;
		goto out;
	}

	/* 4. derive, verify, decrypt */
	cr = (struct si_legacy_creds){ s->creds->email, s->creds->password, s->fp, s->login.salt };
	r = si_legacy_derive(&cr, s->key, s->iv);
	if (r < 0) {
		si_diag_set(d, "deriving the key: a field is empty or longer than %d bytes",
			    SI_LEGACY_FIELD_MAX);
		r = -SI_ECREDS;
		goto out;
	}
	plain = si_secret_alloc(ct_len);
	if (!plain) {
		r = -ENOMEM;
		goto out;
	}
	r = si_legacy_decrypt(s->key, s->iv, ct, ct_len, s->small.sha256, plain, &plain_len);
	if (r < 0) {
		/* One message for a bad digest and a bad padding: no oracle. */
		si_diag_set(d, "the %zu-byte resource failed its integrity check", ct_len);
		r = r == -EBADMSG ? -SI_EVERIFY : r;
		goto out;
	}
	*out = plain;
	*out_len = plain_len;
	plain = NULL;
	r = 0;
out:
	si_secret_free(plain);
	if (ct) {
		si_wipe(ct, ct_len);
		free(ct);
	}
	session_end(&f, s, hdrs);
	return r;
}

int si_legacy_escrow(const struct si_legacy_cfg *c, si_legacy_log_fn log, void *log_ctx,
		     const char *json, struct si_diag *d)
{
	struct fetch f = { .c = c, .log = log, .log_ctx = log_ctx, .created = 201 };
	struct fetch_secrets *s = NULL;
	struct curl_slist *hdrs = NULL, *h;
	struct sink sink;
	char url[SI_LEGACY_URL_MAX + 128], fphex[65];
	size_t alen = 0;
	int r;

	r = si_legacy_cfg_validate_server(c, d);
	if (r < 0)
		return r;
	if (strlen(json) > SI_LEGACY_JSON_MAX) {
		si_diag_set(d, "escrow: a document of %zu bytes (at most %d)", strlen(json),
			    SI_LEGACY_JSON_MAX);
		return -EINVAL;
	}
	r = session_begin(&f, &s, fphex, &alen, d);
	if (r < 0)
		goto out;

	/* The document, as it is: encrypted to the fleet's escrow key, it
	 * needs no more secrecy than TLS; the fingerprint says which device
	 * sent it, the token which account. */
	flog(&f, "escrowing the recovery key for fingerprint %.16s...", fphex);
	snprintf(url, sizeof(url), "%.*s/v1/devices/escrow", (int)alen, c->api);
	snprintf(s->auth, sizeof(s->auth), "Authorization: Bearer %s", s->login.token);
	hdrs = cu.slist_append(NULL, s->auth);
	si_wipe(s->auth, sizeof(s->auth));
	snprintf(s->auth, sizeof(s->auth), "X-Hardware-Fingerprint: %s", fphex);
	h = hdrs ? cu.slist_append(hdrs, s->auth) : NULL;
	h = h ? cu.slist_append(h, "Content-Type: application/json") : NULL;
	if (!h) {
		r = -ENOMEM;
		goto out;
	}
	hdrs = h;
	/* The answer's body is not used: 201 or 200 is the whole answer. */
	sink = (struct sink){ .p = s->json, .cap = SI_LEGACY_JSON_MAX };
	r = request(&f, "escrow", url, json, hdrs, &sink, d);
	si_wipe(s->json, sink.len);
out:
	session_end(&f, s, hdrs);
	return r;
}
