/* SPDX-License-Identifier: MIT */
/*
 * sealinit status DEVICE [--json]: what fleet tooling asks of a device.
 * The volume and its keyslots, every token (its kind and PCRs), the
 * migration journal, the TPM's PCR values for the PCRs the tokens bind,
 * and the event log: whether it replays to those values (the PCRs the
 * firmware extended from the firmware's log's replay), and whether each
 * PCR has been capped this boot. Reads only; never unseals.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/bootstate.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/b64.h"
#include "core/errors.h"
#include "core/escape.h"
#include "core/events.h"
#include "core/luks.h"
#include "core/migrate.h"
#include "core/json.h"
#include "core/pcrs.h"
#include "core/provision.h"
#include "core/recovery.h"
#include "core/textfile.h"
#include "core/token.h"
#include "core/tpm/authorize.h"
#include "core/tpm/counter.h"
#include "core/tpm/pcr.h"
#include "core/tpm/record.h"
#include "core/tpm/tpm.h"


/* A string from the LUKS2 header or the event log, which are the
 * attacker's to write: escaped (core/escape.h), so that neither can forge
 * a status line nor send the terminal a control sequence, in the text and
 * in the JSON alike. */
static struct json_object *untrusted(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	char *buf = malloc(SI_ESCAPE_LEN(n));
	struct json_object *o;

	if (!buf)
		return json_object_new_string("(out of memory)");
	si_escape_mem(buf, SI_ESCAPE_LEN(n), s ? s : "", n);
	o = json_object_new_string(buf);
	free(buf);
	return o;
}

/* The log, replayed per PCR. */
struct replay {
	uint8_t value[SI_PCR_COUNT][32];
	uint32_t seen;            /* PCRs with a record */
	uint32_t capped;          /* PCRs whose last record is the cap */
	uint32_t bad;             /* PCRs with a record whose digest is unusable */
	struct json_object *records;
};

static void on_record(void *ctx, const struct si_event_record *r)
{
	struct replay *rp = ctx;
	struct json_object *o = json_object_new_object();
	uint32_t bit = UINT32_C(1) << r->pcr;

	json_object_object_add(o, "pcr", json_object_new_int((int)r->pcr));
	json_object_object_add(o, "digest", json_object_new_string(r->digest));
	json_object_object_add(o, "string", untrusted(r->string));
	/* A sealinit event whose digest is not its string's: relabelled, and
	 * the PCR's log is not believed. */
	if (r->forged)
		json_object_object_add(o, "forged", json_object_new_boolean(1));
	json_object_array_add(rp->records, o);
	rp->seen |= bit;
	if (si_event_extend_hex(rp->value[r->pcr], r->digest) < 0 || r->forged)
		rp->bad |= bit;
	if (r->cap)
		rp->capped |= bit;
	else
		rp->capped &= ~bit;
}

static struct json_object *pcr_array(uint32_t mask)
{
	struct json_object *a = json_object_new_array();
	unsigned int i;

	for (i = 0; i < SI_PCR_COUNT; i++)
		if (mask & (UINT32_C(1) << i))
			json_object_array_add(a, json_object_new_int((int)i));
	return a;
}

/* The rollback counters the tokens name, each once. */
struct counters {
	uint32_t nv[8];
	size_t n;
};

static void add_counter(struct counters *c, uint32_t nv)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->nv[i] == nv)
			return;
	if (c->n < sizeof(c->nv) / sizeof(c->nv[0]))
		c->nv[c->n++] = nv;
}

/* A token's first keyslot, from its JSON; -1 when it names none. */
static int first_keyslot(const char *json)
{
	struct json_object *o = si_json_object(json, strlen(json), JSON_TOKENER_DEFAULT_DEPTH), *a;
	const char *s;
	char *end;
	long k = -1;

	if (o && json_object_object_get_ex(o, "keyslots", &a) &&
	    json_object_is_type(a, json_type_array) && json_object_array_length(a) &&
	    (s = json_object_get_string(json_object_array_get_idx(a, 0)))) {
		k = strtol(s, &end, 10);
		if (*end || end == s || k < 0 || k > 31)
			k = -1;
	}
	json_object_put(o);
	return (int)k;
}

/* The escrow token's two strings (provision.h), escaped: the header is
 * anyone's to write. */
static void escrow_fields(struct json_object *o, const char *json)
{
	struct json_object *t = si_json_object(json, strlen(json), JSON_TOKENER_DEFAULT_DEPTH), *x;
	static const char *const keys[] = { "key_fp", "to" };
	size_t i;

	for (i = 0; t && i < 2; i++)
		if (json_object_object_get_ex(t, keys[i], &x) && json_object_is_type(x, json_type_string))
			json_object_object_add(o, keys[i], untrusted(json_object_get_string(x)));
	json_object_put(t);
}

/* One token, as status shows it; *bound gets the PCRs it binds. */
static struct json_object *token_json(int id, const char *type, const char *json,
				      int *keyslot, uint32_t *bound, struct counters *counters)
{
	struct json_object *o = json_object_new_object();
	static struct si_token t;
	struct si_diag d = { { 0 } };

	json_object_object_add(o, "id", json_object_new_int(id));
	json_object_object_add(o, "type", untrusted(type));
	*keyslot = -1;
	if (!strcmp(type, SI_RECOVERY_TOKEN_TYPE)) {
		*keyslot = first_keyslot(json);
		json_object_object_add(o, "keyslot", json_object_new_int(*keyslot));
		return o;
	}
	if (!strcmp(type, SI_ESCROW_TOKEN_TYPE)) {
		escrow_fields(o, json);
		return o;
	}
	if (!ENABLE_TPM2 || strcmp(type, SI_TOKEN_TYPE))
		return o;
	if (si_token_parse(json, &t, &d) < 0) {
		json_object_object_add(o, "error", untrusted(d.msg));
		return o;
	}
	*keyslot = t.keyslot;
	*bound |= t.pcr_mask | t.pubkey_pcr_mask;
	json_object_object_add(o, "keyslot", json_object_new_int(t.keyslot));
	json_object_object_add(o, "kind", json_object_new_string(t.pubkey_len ? "signed" : t.pcrlock ?
								 "pcrlock" : "literal"));
	json_object_object_add(o, "pcrs", pcr_array(t.pcr_mask));
	json_object_object_add(o, "bank", json_object_new_string(si_bank_name(t.pcr_bank)));
	json_object_object_add(o, "pubkey_pcrs", pcr_array(t.pubkey_pcr_mask));
	json_object_object_add(o, "pin", json_object_new_boolean(t.pin));
	if (t.pubkey_len) {
		static struct si_authkey k;
		char hex[2 * SI_PKFP_SIZE + 1], nv[16];

		if (si_authkey_from_pem(&k, t.pubkey, t.pubkey_len, &d) == 0) {
			si_hex_encode(hex, k.pkfp, sizeof(k.pkfp));
			json_object_object_add(o, "pkfp", json_object_new_string(hex));
		} else {
			json_object_object_add(o, "pkfp_error", untrusted(d.msg));
		}
		snprintf(nv, sizeof(nv), "0x%08x", (unsigned int)t.counter_nv);
		json_object_object_add(o, "counter_nv", t.counter_nv ? json_object_new_string(nv) : NULL);
		if (t.counter_nv)
			add_counter(counters, t.counter_nv);
	}
	return o;
}

/* Each counter's value, or why it cannot be read. */
static struct json_object *counters_json(const struct cli_args *a, const struct counters *c)
{
	struct json_object *arr = json_object_new_array();
	struct si_diag d = { { 0 } };
	struct si_tpm *t = NULL;
	size_t i;
	int r;

	if (!ENABLE_TPM2)
		return arr;
	r = c->n ? si_tpm_open(a->tcti, a->timeout_ms, &t, &d) : 0;

	for (i = 0; i < c->n; i++) {
		struct json_object *o = json_object_new_object();
		uint64_t v = 0;
		char nv[16];

		snprintf(nv, sizeof(nv), "0x%08x", (unsigned int)c->nv[i]);
		json_object_object_add(o, "nv", json_object_new_string(nv));
		if (r == 0) {
			r = si_tpm_counter_read(t, c->nv[i], &v, &d);
			if (r == -ENOENT)
				si_diag_set(&d, "not defined on this TPM");
		}
		if (r == 0)
			json_object_object_add(o, "value", json_object_new_int64((int64_t)v));
		else
			json_object_object_add(o, "error", json_object_new_string(d.msg[0] ? d.msg :
										 si_strerror(r)));
		if (r != -SI_ENOTPM)
			r = 0;
		json_object_array_add(arr, o);
	}
	si_tpm_close(t);
	return arr;
}

/* Which TPM hierarchies have a password. sealinit sets none, so one that
 * is set was set by someone else: a provisioning step, or root taking the
 * owner hierarchy (docs/updates.md, "Revocation"). */
static struct json_object *auth_json(const struct cli_args *a)
{
	struct json_object *o = json_object_new_object();
	struct si_tpm_auth_state s;
	struct si_diag d = { { 0 } };
	struct si_tpm *t = NULL;
	int r;

	if (!ENABLE_TPM2)
		return o;
	r = si_tpm_open(a->tcti, a->timeout_ms, &t, &d);
	if (r == 0)
		r = si_tpm_auth_state(t, &s, &d);
	si_tpm_close(t);
	if (r < 0) {
		json_object_object_add(o, "error", json_object_new_string(d.msg[0] ? d.msg :
									 si_strerror(r)));
		return o;
	}
	json_object_object_add(o, "owner", json_object_new_boolean(s.owner));
	json_object_object_add(o, "endorsement", json_object_new_boolean(s.endorsement));
	json_object_object_add(o, "lockout", json_object_new_boolean(s.lockout));
	json_object_object_add(o, "in_lockout", json_object_new_boolean(s.in_lockout));
	return o;
}

static void print_auth(struct json_object *o)
{
	static const char *const names[] = { "owner", "endorsement", "lockout" };
	struct json_object *x;
	const char *sep = "";
	size_t i;

	if (json_object_object_get_ex(o, "error", &x)) {
		printf("  TPM hierarchy passwords: %s\n", json_object_get_string(x));
		return;
	}
	printf("  TPM hierarchy passwords:");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (json_object_get_boolean(json_object_object_get(o, names[i]))) {
			printf("%s %s", sep, names[i]);
			sep = ",";
		}
	printf("%s\n", *sep ? " set (sealinit sets none: someone else did)" : " none");
	if (json_object_get_boolean(json_object_object_get(o, "in_lockout")))
		printf("  TPM: in dictionary-attack lockout\n");
}

static int read_log(const char *path, struct replay *rp, struct json_object *out)
{
	static char text[EVENTLOG_MAX + 1];
	struct si_diag d = { { 0 } };
	int n, r;

	json_object_object_add(out, "path", json_object_new_string(path));
	/* Whole or refused: a cut log would hide the cap. */
	n = si_textfile_read(path, text, sizeof(text), &d);
	if (n < 0) {
		json_object_object_add(out, "error", untrusted(d.msg));
		return n;
	}
	r = si_eventlog_parse(text, (size_t)n, on_record, rp, &d);
	if (r < 0)
		json_object_object_add(out, "error", untrusted(d.msg));
	json_object_object_add(out, "records", json_object_get(rp->records));
	return r;
}

static void print_fleet(struct json_object *f)
{
	struct json_object *e, *r, *x;

	if (!f)
		return;
	printf("  provisioned: %s\n", json_object_get_boolean(json_object_object_get(f, "provisioned")) ?
	       "yes" : "no");
	if (json_object_object_get_ex(f, "escrow", &e) && e)
		printf("  recovery key escrowed to %s (escrow key %.16s...)\n",
		       json_object_get_string(json_object_object_get(e, "to")),
		       json_object_get_string(json_object_object_get(e, "key_fp")));
	else
		printf("  recovery key: no escrow recorded in the header\n");
	if (!json_object_object_get_ex(f, "record", &r))
		return;
	if (json_object_object_get_ex(r, "error", &x))
		printf("  device record %s: %s\n", json_object_get_string(json_object_object_get(r, "nv")),
		       json_object_get_string(x));
	else
		printf("  device record %s: volume %s\n",
		       json_object_get_string(json_object_object_get(r, "nv")),
		       json_object_get_string(json_object_object_get(r, "volume_id")));
}

static void print_text(struct json_object *st)
{
	struct json_object *v, *a, *e, *x;
	size_t i;

	json_object_object_get_ex(st, "device", &v);
	printf("%s", json_object_get_string(v));
	if (json_object_object_get_ex(st, "uuid", &v))
		printf(": LUKS2 %s", json_object_get_string(v));
	if (json_object_object_get_ex(st, "cipher", &v))
		printf(", %s", json_object_get_string(v));
	if (json_object_object_get_ex(st, "key_size", &v))
		printf(", %d-bit key", json_object_get_int(v));
	printf("\n");
	json_object_object_get_ex(st, "keyslots", &a);
	for (i = 0; a && i < json_object_array_length(a); i++) {
		e = json_object_array_get_idx(a, i);
		json_object_object_get_ex(e, "keyslot", &v);
		json_object_object_get_ex(e, "kind", &x);
		printf("  keyslot %d: %s\n", json_object_get_int(v), json_object_get_string(x));
	}
	print_fleet(json_object_object_get(st, "fleet"));
	json_object_object_get_ex(st, "tokens", &a);
	for (i = 0; a && i < json_object_array_length(a); i++) {
		e = json_object_array_get_idx(a, i);
		json_object_object_get_ex(e, "id", &v);
		printf("  token %d: %s", json_object_get_int(v),
		       json_object_get_string(json_object_object_get(e, "type")));
		if (json_object_object_get_ex(e, "kind", &x))
			printf(", %s, keyslot %d, PCRs %s%s%s", json_object_get_string(x),
			       json_object_get_int(json_object_object_get(e, "keyslot")),
			       json_object_to_json_string(json_object_object_get(e, "pcrs")),
			       json_object_get_boolean(json_object_object_get(e, "pin")) ? ", PIN" : "",
			       json_object_array_length(json_object_object_get(e, "pubkey_pcrs")) ?
				       ", signed PCRs " : "");
		else if (json_object_object_get_ex(e, "keyslot", &x))
			printf(", keyslot %d", json_object_get_int(x));
		if (json_object_object_get_ex(e, "pubkey_pcrs", &x) && json_object_array_length(x))
			printf("%s", json_object_to_json_string(x));
		if (json_object_object_get_ex(e, "pkfp", &x))
			printf(", key %.16s...", json_object_get_string(x));
		if (json_object_object_get_ex(e, "counter_nv", &x) && x)
			printf(", rollback counter %s", json_object_get_string(x));
		if (json_object_object_get_ex(e, "error", &x))
			printf(": %s", json_object_get_string(x));
		printf("\n");
	}
	if (json_object_object_get_ex(st, "migration", &e) && e)
		printf("  migration: legacy keyslot %d, TPM keyslot %d\n",
		       json_object_get_int(json_object_object_get(e, "legacy_keyslot")),
		       json_object_get_int(json_object_object_get(e, "tpm_keyslot")));
	json_object_object_get_ex(st, "tpm", &e);
	if (!json_object_get_boolean(json_object_object_get(e, "reachable"))) {
		printf("  TPM: %s\n", json_object_get_string(json_object_object_get(e, "error")));
	} else {
		json_object_object_get_ex(e, "pcrs", &a);
		for (i = 0; a && i < json_object_array_length(a); i++) {
			struct json_object *cap, *rep;

			x = json_object_array_get_idx(a, i);
			cap = json_object_object_get(x, "capped");
			rep = json_object_object_get(x, "log_replays");
			printf("  PCR %2d sha256 %s%s%s\n", json_object_get_int(json_object_object_get(x, "pcr")),
			       json_object_get_string(json_object_object_get(x, "sha256")),
			       cap && json_object_get_boolean(cap) ? ", capped" :
			       cap ? ", not capped" : "",
			       rep && !json_object_get_boolean(rep) ? ", the event log does not replay to it" : "");
		}
		json_object_object_get_ex(e, "counters", &a);
		for (i = 0; a && i < json_object_array_length(a); i++) {
			x = json_object_array_get_idx(a, i);
			if (json_object_object_get_ex(x, "value", &v))
				printf("  rollback counter %s: %lld\n",
				       json_object_get_string(json_object_object_get(x, "nv")),
				       (long long)json_object_get_int64(v));
			else
				printf("  rollback counter %s: %s\n",
				       json_object_get_string(json_object_object_get(x, "nv")),
				       json_object_get_string(json_object_object_get(x, "error")));
		}
		if (json_object_object_get_ex(e, "hierarchy_auth", &x))
			print_auth(x);
	}
	json_object_object_get_ex(st, "event_log", &e);
	if (json_object_object_get_ex(e, "error", &x))
		printf("  event log %s: %s\n", json_object_get_string(json_object_object_get(e, "path")),
		       json_object_get_string(x));
	else
		printf("  event log %s: %zu records\n",
		       json_object_get_string(json_object_object_get(e, "path")),
		       json_object_array_length(json_object_object_get(e, "records")));
}

/* The device record (--record, --public-key): its index, its Name as the
 * fleet computes it (the same on every device: what a backend compares),
 * and the volume id it holds; or why it could not be read. */
static struct json_object *record_json(const struct cli_args *a, bool *ok)
{
	static uint8_t pem[16384];
	struct json_object *o = json_object_new_object();
	struct si_authkey *key = calloc(1, sizeof(*key));
	uint8_t name[SI_NV_NAME_SIZE], id[SI_RECORD_SIZE];
	char nv[16], hex[2 * SI_NV_NAME_SIZE + 1];
	struct si_diag d = { { 0 } };
	struct si_tpm *t = NULL;
	size_t len = 0;
	int r = -ENOMEM;

	*ok = false;
	snprintf(nv, sizeof(nv), "0x%08x", (unsigned int)a->record_index);
	json_object_object_add(o, "nv", json_object_new_string(nv));
	if (!key)
		goto out;
	r = public_key_option("status", a->public_key, pem, sizeof(pem), &len);
	if (r != 0) {
		si_diag_set(&d, "--public-key `%s' could not be read (see above)", a->public_key);
		r = -EINVAL;
		goto out;
	}
	r = -SI_EUNSUPPORTED;
	if (ENABLE_TPM2)
		r = si_authkey_from_pem(key, pem, len, &d);
	if (ENABLE_TPM2 && r == 0)
		r = si_record_name(a->record_index, key->name, sizeof(key->name), true, name);
	if (r < 0)
		goto out;
	si_hex_encode(hex, name, sizeof(name));
	json_object_object_add(o, "name", json_object_new_string(hex));
	if (ENABLE_TPM2) {
		r = si_tpm_open(a->tcti, a->timeout_ms, &t, &d);
		if (r == 0)
			r = si_tpm_record_read(t, a->record_index, pem, len, id, &d);
		si_tpm_close(t);
	}
	if (r == 0) {
		si_hex_encode(hex, id, sizeof(id));
		json_object_object_add(o, "volume_id", json_object_new_string(hex));
		*ok = true;
	}
out:
	if (r < 0)
		json_object_object_add(o, "error", json_object_new_string(d.msg[0] ? d.msg :
						   si_strerror(r == -ENOENT ? -SI_ENORECORD : r)));
	free(key);
	return o;
}

/* What a fleet backend asks (docs/fleet.md): provisioned or not, the
 * record, where the recovery key went. Provisioned: a TPM token that
 * parses, and the record, when one was asked, read for the fleet key. */
static struct json_object *fleet_json(const struct cli_args *a, struct json_object *toks)
{
	struct json_object *o = json_object_new_object(), *esc = NULL, *x;
	bool tpm = false, rec_ok = true;
	size_t i;

	for (i = 0; i < json_object_array_length(toks); i++) {
		struct json_object *t = json_object_array_get_idx(toks, i);
		const char *type = json_object_get_string(json_object_object_get(t, "type"));

		if (type && !strcmp(type, "systemd-tpm2") && !json_object_object_get_ex(t, "error", &x))
			tpm = true;
		if (type && !strcmp(type, SI_ESCROW_TOKEN_TYPE) && !esc)
			esc = t;
	}
	if (esc) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "escrowed", json_object_new_boolean(1));
		if (json_object_object_get_ex(esc, "key_fp", &x))
			json_object_object_add(e, "key_fp", json_object_get(x));
		if (json_object_object_get_ex(esc, "to", &x))
			json_object_object_add(e, "to", json_object_get(x));
		json_object_object_add(o, "escrow", e);
	} else {
		json_object_object_add(o, "escrow", NULL);
	}
	if (a->record && ENABLE_TPM2)
		json_object_object_add(o, "record", record_json(a, &rec_ok));
	json_object_object_add(o, "provisioned", json_object_new_boolean(tpm && rec_ok));
	return o;
}

int status_main(const struct cli_args *a)
{
	struct json_object *st, *slots, *toks, *tpm, *log, *pcrs, *fwj;
	static struct si_pcr_expect fw;
	static struct replay rp;
	struct counters counters = { .n = 0 };
	struct si_migration_state ms;
	struct si_luks_info info;
	struct si_luks *l = NULL;
	struct si_diag d = { { 0 } };
	struct si_pcr_values v;
	struct si_pcr_opts po;
	uint32_t bound = 0, slot_recovery = 0;
	int slot_token[32], id, i, k, r, log_r;

	if (a->argc != 1)
		return usage_error("status", "%s", "expected exactly one DEVICE");
	if (a->record && !a->public_key)
		return usage_error("status", "%s", "--record needs --public-key (the fleet's key: "
				   "the record's Name is made from it)");
	r = si_luks_open(a->argv[0], &l, &d);
	if (r < 0)
		return fail("status", r, &d);
	st = json_object_new_object();
	si_luks_info(l, &info);
	json_object_object_add(st, "device", json_object_new_string(a->argv[0]));
	json_object_object_add(st, "uuid", untrusted(info.uuid));
	json_object_object_add(st, "cipher", untrusted(info.cipher));
	json_object_object_add(st, "key_size", json_object_new_int(info.key_bits));

	toks = json_object_new_array();
	for (i = 0; i < 32; i++)
		slot_token[i] = -1;
	for (id = 0; id < SI_LUKS_MAX_TOKENS; id++) {
		const char *type = si_luks_token_type(l, id), *json = NULL;
		int ks;

		if (!type || si_luks_token_json(l, id, NULL, &json) < 0)
			continue;
		json_object_array_add(toks, token_json(id, type, json, &ks, &bound, &counters));
		if (ks >= 0 && ks < 32) {
			slot_token[ks] = id;
			if (!strcmp(type, SI_RECOVERY_TOKEN_TYPE))
				slot_recovery |= UINT32_C(1) << ks;
		}
	}
	memset(&ms, 0, sizeof(ms));
	ms.legacy_keyslot = ms.tpm_keyslot = -1;
	r = ENABLE_TPM2 ? si_migration_read(a->argv[0], &ms, &d) : -ENOENT;
	if (r == 0 && ms.token < 0)
		r = -ENOENT;
	slots = json_object_new_array();
	for (i = 0; i < 32; i++) {
		struct json_object *o;
		const char *kind = "passphrase (no token: a recovery or legacy passphrase)";

		if (!(info.keyslots & (UINT32_C(1) << i)))
			continue;
		if (slot_token[i] >= 0)
			kind = slot_recovery & (UINT32_C(1) << i) ? "recovery key (systemd-recovery token)" :
				"tpm2 token";
		else if (r == 0 && i == ms.legacy_keyslot)
			kind = "legacy key (migration journal)";
		o = json_object_new_object();
		json_object_object_add(o, "keyslot", json_object_new_int(i));
		json_object_object_add(o, "kind", json_object_new_string(kind));
		json_object_object_add(o, "token", slot_token[i] >= 0 ? json_object_new_int(slot_token[i])
								      : NULL);
		json_object_array_add(slots, o);
	}
	json_object_object_add(st, "keyslots", slots);
	json_object_object_add(st, "tokens", toks);
	json_object_object_add(st, "fleet", fleet_json(a, toks));
	if (r == 0) {
		struct json_object *m = json_object_new_object();

		json_object_object_add(m, "legacy_keyslot", json_object_new_int(ms.legacy_keyslot));
		json_object_object_add(m, "tpm_keyslot", json_object_new_int(ms.tpm_keyslot));
		json_object_object_add(m, "pending_keyslot", json_object_new_int(ms.pending_keyslot));
		json_object_object_add(st, "migration", m);
	} else {
		json_object_object_add(st, "migration", NULL);
	}
	si_luks_close(l);

	rp.records = json_object_new_array();
	log = json_object_new_object();
	/* The PCRs the firmware extended start from its log's replay: a
	 * firmware PCR the boot caps (4, 7, 9 on x86) replays only so. */
	fwj = json_object_new_object();
	json_object_object_add(fwj, "path", json_object_new_string(a->firmware_log ? a->firmware_log :
								    FWLOG_DEFAULT));
	if (firmware_state("status", a, &fw) == 0) {
		json_object_object_add(fwj, "pcrs", pcr_array(fw.mask));
		for (i = 0; i < SI_PCR_COUNT; i++)
			if (fw.mask & (UINT32_C(1) << i))
				memcpy(rp.value[i], fw.sha256[i], 32);
	} else {
		json_object_object_add(fwj, "error", json_object_new_string("not read (see above)"));
	}
	json_object_object_add(st, "firmware_log", fwj);
	log_r = read_log(a->event_log ? a->event_log : EVENTLOG_DEFAULT, &rp, log);

	tpm = json_object_new_object();
	bound |= rp.seen;
	po = (struct si_pcr_opts){ .tcti = a->tcti, .timeout_ms = a->timeout_ms,
				   .pcr_mask = bound ? bound : UINT32_C(1) << 15,
				   .bank = 0x000B /* sha256 */ };
	d.msg[0] = '\0';
	if (ENABLE_TPM2)
		r = si_pcr_read(&po, &v, &d);
	else
		r = -SI_EUNSUPPORTED;
	json_object_object_add(tpm, "reachable", json_object_new_boolean(r == 0));
	if (r < 0)
		json_object_object_add(tpm, "error", json_object_new_string(d.msg[0] ? d.msg : si_strerror(r)));
	pcrs = json_object_new_array();
	for (i = 0, k = 0; r == 0 && i < SI_PCR_COUNT; i++) {
		struct json_object *p;
		uint32_t bit = UINT32_C(1) << i;
		char hex[65];

		if (!(po.pcr_mask & bit))
			continue;
		si_hex_encode(hex, v.values + 32 * k++, 32);
		p = json_object_new_object();
		json_object_object_add(p, "pcr", json_object_new_int(i));
		json_object_object_add(p, "sha256", json_object_new_string(hex));
		if (log_r >= 0 && (rp.seen & bit)) {
			/* A digest that is not one, or a relabelled record: the
			 * log is not the truth about this PCR. */
			bool replays = !(rp.bad & bit) && !memcmp(rp.value[i], v.values + 32 * (k - 1), 32);

			json_object_object_add(p, "log_replays", json_object_new_boolean(replays));
			/* Capped: the log's last word for this PCR is the cap, and
			 * the log is the truth about this PCR. */
			json_object_object_add(p, "capped",
					       json_object_new_boolean(replays && (rp.capped & bit)));
		}
		json_object_array_add(pcrs, p);
	}
	json_object_object_add(tpm, "pcrs", pcrs);
	if (ENABLE_TPM2 && r == 0)
		json_object_object_add(tpm, "counters", counters_json(a, &counters));
	if (ENABLE_TPM2 && r == 0)
		json_object_object_add(tpm, "hierarchy_auth", auth_json(a));
	json_object_object_add(st, "tpm", tpm);
	json_object_object_add(st, "event_log", log);
	json_object_put(rp.records);

	if (a->json)
		printf("%s\n", json_object_to_json_string_ext(st, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_text(st);
	json_object_put(st);
	return 0;
}
