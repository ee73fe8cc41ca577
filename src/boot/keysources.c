/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "boot/keysources.h"
#include "boot/fleet.h"
#include "boot/measure.h"
#include "boot/pid1.h"
#include "config.h"
#include "core/bootcfg.h"
#include "core/b64.h"
#include "core/errors.h"
#include "core/pcrs.h"
#include "core/legacy/unlock.h"
#include "core/luks.h"
#include "core/migrate.h"
#include "core/recovery.h"
#include "core/secret.h"
#include "core/textfile.h"
#include "core/token.h"
#include "core/unlock.h"

#define UNLOCK_RECORD "/run/sealinit/unlock"

/* How the volume opened, for the record the booted system reads. */
struct outcome {
	int token;
	int keyslot;
	struct rollback_counter counter;  /* the TPM's token only */
};

bool keysources_legacy_enabled(const struct si_bootcfg *c)
{
	int i;

	for (i = 0; i < c->nsources; i++)
		if (c->sources[i] == SI_SRC_LEGACY)
			return ENABLE_LEGACY_NET && c->legacy.api[0];
	return false;
}

bool keysources_tpm_used(const struct si_bootcfg *c)
{
	int i;

	for (i = 0; i < c->nsources; i++)
		if (c->sources[i] == SI_SRC_TPM2)
			return true;
	return c->migrate;
}

/* Is a configured legacy source still to come after position i? */
static bool legacy_after(const struct si_bootcfg *c, int i)
{
	for (i++; i < c->nsources; i++)
		if (c->sources[i] == SI_SRC_LEGACY)
			return keysources_legacy_enabled(c);
	return false;
}

/* One line from the console, without echo, within timeout_s seconds:
 * 0, or -ETIMEDOUT (buf wiped), or -ENODATA for an empty line or EOF. */
static int console_secret(const char *what, int timeout_s, char *buf, size_t size)
{
	struct termios old, quiet;
	double deadline = uptime_ms() + 1000.0 * timeout_s;
	size_t n = 0;
	int have_tty = tcgetattr(0, &old) == 0, r = 0;

	fprintf(stderr, "sealinit: %s for the data volume (%d s): ", what, timeout_s);
	fflush(stderr);  /* line-buffered (pid1.c): the prompt has no newline */
	if (have_tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	while (n + 1 < size) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		double left = deadline - uptime_ms();
		ssize_t k;
		char ch;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			r = -ETIMEDOUT;
			break;
		}
		k = read(0, &ch, 1);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0 || ch == '\n' || ch == '\r')
			break;
		buf[n++] = ch;
	}
	buf[n] = '\0';
	if (have_tty)
		tcsetattr(0, TCSAFLUSH, &old);
	fprintf(stderr, "\n");
	if (r == -ETIMEDOUT) {
		si_wipe(buf, size);
		return r;
	}
	return n ? 0 : -ENODATA;
}

/* The PIN, when a token needs one, bounded by pin_timeout. A headless
 * device, or a header edited to ask for a PIN, must reach the failure
 * policy, not wait for a person forever (the worker does not count this
 * time against the TPM's deadline). */
static int console_pin(void *ctx, char *buf, size_t size)
{
	const struct si_bootcfg *c = ctx;
	int r = console_secret("TPM PIN", c->pin_timeout_s, buf, size);

	if (r == -ETIMEDOUT)
		say(3, "no PIN was typed within %d s (pin_timeout)", c->pin_timeout_s);
	return r < 0 ? -SI_ENOPIN : 0;
}

/* The volume id the device record held this boot, for the recovery
 * prompt's pin; empty when no record was read. */
static char record_id[SI_VOLKEY_HEX_LEN + 1];

/* What a typed recovery key must open: the pinned volume, or the one the
 * device record named this boot; NULL: none, and no prompt. */
static const char *recovery_pin(const struct si_bootcfg *c)
{
	if (c->fixate_volume_key[0])
		return c->fixate_volume_key;
	return record_id[0] ? record_id : NULL;
}

/* After every key source failed: the recovery key, typed at the console
 * within recovery_timeout (three tries), opens the volume with the same
 * checks as the other sources (the shape, the volume pin). Nothing else
 * runs differently: the PCRs are capped as after any failed unseal, and
 * `sealinit reseal' on the booted system binds a new TPM token. */
static int recovery_source(const struct si_bootcfg *c, const char *datadev, struct outcome *out,
			   struct si_diag *d)
{
	const struct si_luks_expect expect = { c->data_cipher, c->data_key_bits };
	char *typed = si_secret_alloc(256), *key = si_secret_alloc(SI_RECOVERY_LEN + 1);
	double deadline = uptime_ms() + 1000.0 * c->recovery_timeout_s;
	int r = -SI_EKEYSLOT, tries;

	if (!typed || !key) {
		si_secret_free(typed);
		si_secret_free(key);
		return -ENOMEM;
	}
	say(4, "the data volume did not unlock; a recovery key can open it");
	for (tries = 0; tries < 3; tries++) {
		int left = (int)((deadline - uptime_ms()) / 1000.0);
		struct si_diag kd = { { 0 } };

		if (left < 1) {
			r = -ETIMEDOUT;
			break;
		}
		r = console_secret("Recovery key", left, typed, 256);
		if (r == -ETIMEDOUT)
			break;
		if (r < 0 || si_recovery_normalize(typed, key, &kd) < 0) {
			say(3, "recovery: %s", r < 0 ? "nothing typed" : kd.msg);
			r = -SI_EKEYSLOT;
			continue;
		}
		r = si_recovery_unlock(datadev, c->data_name, key, &expect, recovery_pin(c),
				       c->data_name, &kd);
		if (r >= 0) {
			say(5, "unlocked %s as /dev/mapper/%s with the recovery key (keyslot %d); the "
			    "TPM did not: run `sealinit reseal %s' on the booted system", datadev,
			    c->data_name, r, datadev);
			out->keyslot = r;
			r = 0;
			break;
		}
		say(3, "recovery: %s: %s", si_strerror(r), kd.msg);
		if (r != -SI_EKEYSLOT) {
			si_diag_set(d, "%.400s", kd.msg);
			break;
		}
	}
	si_secret_free(typed);
	si_secret_free(key);
	if (r == -ETIMEDOUT)
		si_diag_set(d, "no recovery key was typed within %d s (recovery_timeout)",
			    c->recovery_timeout_s);
	else if (r == -SI_EKEYSLOT)
		si_diag_set(d, "no recovery key typed opened the volume");
	return r;
}

/* migrate_finish at boot: in PID 1, not a worker. It only writes the
 * LUKS2 header, after the TPM has opened the volume (verified_keyslot), so
 * no TPM wait is involved. */
static void finish_migration(const struct si_bootcfg *c, const char *datadev, int keyslot)
{
	struct si_migrate_finish_opts o = {
		.device = datadev, .tcti = c->tcti, .timeout_ms = c->tpm_timeout_ms,
		.verified_keyslot = keyslot,
	};
	struct si_diag d = { { 0 } };
	int r, removed;

	if (!ENABLE_TPM2)
		return;
	r = si_migrate_finish(&o, &removed, &d);
	if (r < 0)
		say(4, "migrate_finish: %s: %s (the legacy keyslot stays)", si_strerror(r), d.msg);
	else if (removed >= 0)
		say(5, "migration finished: legacy keyslot %d removed", removed);
}

/*
 * Fall back to the network? Only when the TPM cannot be what opens this
 * volume:
 * - the TPM is there and found no TPM token on the volume, or has not
 *   been tried yet (keysources=legacy,tpm2: the builder's order);
 * - no TPM is looked for at all (keysources=legacy, or not yet);
 * - no TPM appeared, and the volume carries no TPM token.
 * After a policy mismatch, a substituted SRK, a malformed token, a missing
 * PIN or a TPM that stopped answering, the network would hand the key to
 * exactly the boot the TPM refused (a tampered root). And a TPM token on a
 * volume whose TPM did not appear proves a TPM is expected: a kernel
 * argument or a short wait that kept it away must not turn the boot into
 * an unmeasured, uncapped network unlock. The header is read without the
 * TPM, so that fact is always known.
 */
int keysources_fallback_verdict(const struct keysources_facts *f, struct si_diag *d)
{
	bool present = f->tpm == TPM_PRESENT || f->tpm == TPM_LATE;

	if (!f->legacy) {
		si_diag_set(d, "not configured (no legacy_api)");
		return 1;
	}
	if (present && f->tpm_result && f->tpm_result != -SI_ENOTOKEN) {
		si_diag_set(d, "not tried: the TPM refused this boot (%s), and a device with a TPM "
			    "and a TPM token never falls back to the network",
			    si_strerror(f->tpm_result));
		return -SI_ENOTPM;
	}
	if (f->tpm != TPM_ABSENT || f->tokens == 0)
		return 0;
	if (f->tokens < 0)
		si_diag_set(d, "refused: the data volume's LUKS2 header cannot be read, so whether "
			    "it has a TPM token is unknown, and no TPM appeared within %d ms; "
			    "refusing the network fallback", f->tpm_wait_ms);
	else
		si_diag_set(d, "refused: the data volume has TPM token(s) %s but no TPM appeared "
			    "within %d ms; refusing the network fallback (a TPM token means this "
			    "device has a TPM)", f->token_ids, f->tpm_wait_ms);
	return -SI_ENOTPM;
}

/* The systemd-tpm2 tokens of the header, their ids in ids ("0, 2"); -1
 * when the header cannot be read. No TPM needed. */
static int volume_tpm_tokens(const char *datadev, char *ids, size_t size)
{
	struct si_luks *l = NULL;
	struct si_diag d = { { 0 } };
	const char *json;
	size_t len = 0;
	int id, n = 0;

	ids[0] = '\0';
	if (si_luks_open(datadev, &l, &d) < 0)
		return -1;
	for (id = 0; id < SI_LUKS_MAX_TOKENS; id++) {
		if (si_luks_token_json(l, id, SI_TOKEN_TYPE, &json) < 0)
			continue;
		if (len < size)
			len += (size_t)snprintf(ids + len, size - len, "%s%d", n ? ", " : "", id);
		n++;
	}
	si_luks_close(l);
	return n;
}

/* The facts, gathered when the network is next, and the verdict on them. */
static int fallback(const struct si_bootcfg *c, const char *datadev, int tpm_result,
		    struct si_diag *d)
{
	char ids[64] = "";
	struct keysources_facts f = {
		.legacy = keysources_legacy_enabled(c), .tpm_result = tpm_result, .token_ids = ids,
	};

	f.tpm = measure_tpm_state(&f.tpm_wait_ms);
	if (f.legacy && f.tpm == TPM_ABSENT)
		f.tokens = volume_tpm_tokens(datadev, ids, sizeof(ids));
	return keysources_fallback_verdict(&f, d);
}

/* The fleet's public key (tpm2_public_key=), read whole once: the record's
 * policy is made from it. NULL with d set when it cannot be. */
static const char *fleet_key(const struct si_bootcfg *c, size_t *len, struct si_diag *d)
{
	static char pem[16384];
	static int n = -1;
	struct si_diag kd = { { 0 } };

	if (n < 0) {
		n = si_textfile_read(c->tpm2_public_key, pem, sizeof(pem), &kd);
		if (n < 0) {
			si_diag_set(d, "tpm2_public_key=%.100s: %.380s", c->tpm2_public_key, kd.msg);
			return NULL;
		}
	}
	*len = (size_t)n;
	return pem;
}

/* What the TPM source did: the volume's measurement and the cap for the
 * event log, the time split, and the token that opened it. */
static int tpm2_report(const struct si_bootcfg *c, const char *datadev,
		       const struct si_unlock_opts *o, const struct si_unlock_result *rp,
		       bool gated, int r, struct outcome *out)
{
	/* Logged before the cap's line: the volume was extended first. */
	if (rp->measured_pcr >= 0)
		measure_note_volume((unsigned int)rp->measured_pcr, rp->measured, rp->volume_id);
	measure_cap_result(rp);
	if (gated)
		say(7, "tpm2: before the gate: header %d ms, opening the TPM %d ms, session %d ms; "
		    "waited %d ms at the gate; then unseal %d ms, activation %d ms, cap %d ms "
		    "(%u TPM commands before the cap)", rp->ms.header, rp->ms.tpm_open,
		    rp->ms.prepare, rp->ms.gate, rp->ms.unseal, rp->ms.activate, rp->ms.cap,
		    rp->tpm_commands);
	else
		say(7, "tpm2: header %d ms, opening the TPM %d ms, unseal %d ms, activation %d ms, "
		    "cap %d ms (%u TPM commands before the cap)", rp->ms.header, rp->ms.tpm_open,
		    rp->ms.unseal, rp->ms.activate, rp->ms.cap, rp->tpm_commands);
	snprintf(record_id, sizeof(record_id), "%s", rp->record_id);
	if (rp->auth_state > 0 && (rp->auth_state & (SI_AUTH_OWNER | SI_AUTH_LOCKOUT)))
		say(4, "the TPM's %s%s%s password is set: sealinit sets none, so someone else did "
		    "(a provisioning step, or root on a booted system); revocation does not need "
		    "it, but `sealinit status' will name it until it is cleared",
		    rp->auth_state & SI_AUTH_OWNER ? "owner" : "",
		    (rp->auth_state & SI_AUTH_OWNER) && (rp->auth_state & SI_AUTH_LOCKOUT) ? " and " : "",
		    rp->auth_state & SI_AUTH_LOCKOUT ? "lockout" : "");
	if (r == 0) {
		out->token = rp->token;
		out->keyslot = rp->keyslot;
		say(6, "unsealed with token %d, keyslot %d (%u TPM commands)", rp->token,
		    rp->keyslot, rp->tpm_commands);
		if (o->fixate_volume_key)
			say(6, "volume key id matches fixate_volume_key");
		if (o->record_index)
			say(6, "volume key id matches the device record at 0x%08x",
			    (unsigned int)o->record_index);
		if (rp->counter_index) {
			out->counter.bound = true;
			out->counter.index = rp->counter_index;
			out->counter.value = rp->counter_value;
			say(6, "rollback counter 0x%08" PRIx32 ": %" PRIu64 " (token %d)",
			    rp->counter_index, rp->counter_value, rp->token);
		} else {
			say(7, "token %d has no rollback counter: no high-water mark to check",
			    rp->token);
		}
		if (c->migrate_finish && rp->probed)
			finish_migration(c, datadev, rp->keyslot);
	}
	return r;
}

/* The TPM source's unlock options, as the boot gives them; *expect is
 * pointed to. `provision': a blank partition may become the volume here
 * (not for an early start, which runs only on a volume that exists). */
static int tpm2_options(const struct si_bootcfg *c, int pos, const char *datadev,
			bool provision, struct si_luks_expect *expect, struct si_unlock_opts *o,
			struct si_diag *d)
{
	int r;

	*expect = (struct si_luks_expect){ c->data_cipher, c->data_key_bits };
	*o = (struct si_unlock_opts){
		.device = datadev, .name = c->data_name, .tcti = c->tcti,
		.timeout_ms = c->tpm_timeout_ms, .get_pin = console_pin, .pin_ctx = (void *)c,
		.probe_token_type = c->migrate_finish ? SI_MIGRATION_TOKEN : NULL,
		.expect = expect,
		.fixate_volume_key = c->fixate_volume_key[0] ? c->fixate_volume_key : NULL,
		.measure = c->tpm2_measure_pcr >= 0,
		.measure_pcr = c->tpm2_measure_pcr >= 0 ? (unsigned int)c->tpm2_measure_pcr : 0,
		.signature = c->tpm2_signature,
	};
	if (!ENABLE_TPM2) {
		si_diag_set(d, "this build has no TPM2 support");
		return -SI_EUNSUPPORTED;
	}
	if (measure_no_tpm()) {
		si_diag_set(d, "no TPM");
		return -SI_ENOTPM;
	}
	r = measure_wait_tpm(c, d);
	if (r < 0)
		return r;
	o->signature = fleet_signature(c, d);
	if (!o->signature)
		return -SI_ENOSIG;
	/* First boot: a blank partition becomes the volume this unlock opens. */
	r = provision ? fleet_provision(c, datadev, o->signature, d) : 0;
	if (r < 0)
		return r;
	if (c->device_record) {
		o->record_index = c->device_record;
		o->record_pubkey_pem = fleet_key(c, &o->record_pubkey_len, d);
		if (!o->record_pubkey_pem)
			return -SI_ENORECORD;
	}
	si_unlock_boot_rules(o, c);
	/* Cap on failure too, unless a migration may follow through the
	 * legacy source: it must seal to the PCRs as they are before the cap. */
	measure_cap_plan(o, c->migrate && legacy_after(c, pos));
	return 0;
}

/* The unlock started before the measurements (keysources_start_early). */
static struct {
	bool started;
	char datadev[SI_PATH_MAX];
	struct si_luks_expect expect;
	struct si_unlock_opts o;
	struct si_unlock_result res;
	struct si_unlock_job job;
} early;

void keysources_start_early(const struct si_bootcfg *c, const char *datadev)
{
	struct si_diag d = { { 0 } };
	int r;

	if (!ENABLE_TPM2 || early.started || c->nsources < 1 || c->sources[0] != SI_SRC_TPM2)
		return;
	/* The boot extends its measurements meanwhile, on a connection of
	 * its own: only the kernel's resource manager takes both. */
	if (measure_no_tpm() || !measure_tpm_shared(c)) {
		say(7, "tpm2: not started early: the TCTI `%s' is not a resource manager's "
		    "device that is there now", c->tcti);
		return;
	}
	if (c->provision && fleet_has_volume(c, datadev, &d) <= 0) {
		say(7, "tpm2: not started early: the data partition may need provisioning");
		return;
	}
	snprintf(early.datadev, sizeof(early.datadev), "%s", datadev);
	r = tpm2_options(c, 0, early.datadev, false, &early.expect, &early.o, &d);
	if (r == 0)
		r = si_unlock_start(&early.job, &early.o, &early.res, &d);
	/* Whatever failed fails again, by name, when the source runs. */
	if (r < 0) {
		say(7, "tpm2: not started early: %s", d.msg);
		return;
	}
	early.started = true;
	say(7, "tpm2: started early (the header, the TPM session); its gate opens after the "
	    "measurements");
}

void keysources_abandon_early(void)
{
	if (!ENABLE_TPM2)
		return;
	if (!early.started)
		return;
	early.started = false;
	si_unlock_abandon(&early.job);
	say(7, "tpm2: the early start was abandoned before its gate: nothing was unsealed");
}

static int tpm2_source(const struct si_bootcfg *c, int pos, const char *datadev,
		       struct outcome *out, struct si_diag *d)
{
	struct si_luks_expect expect;
	struct si_unlock_opts opts, *o = &opts;
	struct si_unlock_result res, *rp = &res;
	bool gated = false;
	int r;

	if (!ENABLE_TPM2) {
		si_diag_set(d, "this build has no TPM2 support");
		return -SI_EUNSUPPORTED;
	}
	if (early.started && pos == 0 && !strcmp(early.datadev, datadev)) {
		early.started = false;
		r = si_unlock_wait(&early.job, d);
		o = &early.o;
		rp = &early.res;
		gated = true;
	} else {
		keysources_abandon_early();
		r = tpm2_options(c, pos, datadev, true, &expect, o, d);
		if (r < 0)
			return r;
		r = si_unlock(o, rp, d);
	}
	return tpm2_report(c, datadev, o, rp, gated, r, out);
}

static void legacy_progress(void *ctx, const char *msg)
{
	(void)ctx;
	say(6, "legacy: %s", msg);
}

static int legacy_source(const struct si_bootcfg *c, int pos, const char *datadev,
			 struct outcome *out, struct si_diag *d)
{
	const struct si_luks_expect expect = { c->data_cipher, c->data_key_bits };
	struct si_legacy_cfg lc = c->legacy;
	struct si_legacy_unlock_opts o = {
		.cfg = &lc, .ip = c->ip, .net_timeout_ms = c->net_timeout_ms,
		.udhcpc_script = FLEET_UDHCPC_SCRIPT, .device = datadev, .name = c->data_name,
		.key_fd = -1, .expect = &expect, .migrate = c->migrate && !measure_no_tpm(),
		.tcti = c->tcti,
		.tpm_timeout_ms = c->tpm_timeout_ms,
		.migrate_pcrs = si_bootcfg_migrate_pcrs(c),
		.fixate_volume_key = c->fixate_volume_key[0] ? c->fixate_volume_key : NULL,
		.bind_name = c->data_name,
		.log = legacy_progress,
	};
	struct si_legacy_unlock_result res;
	static struct si_pcr_expect expected;
	char mapped[SI_PATH_MAX + 16];
	int r;

	(void)pos;
	/* Seal to what the configuration expects, never to what this boot
	 * measured: the measured PCR's value is replayed from the events the
	 * configuration gives (cmdline= pinned, the verity root hash). Other
	 * migrate_pcrs are the firmware's, sealed as they are. */
	if (o.migrate && measure_expected(c->measure_pcr, expected.sha256[c->measure_pcr])) {
		char hex[17];

		expected.mask = UINT32_C(1) << c->measure_pcr;
		o.migrate_expect = &expected;
		si_hex_encode(hex, expected.sha256[c->measure_pcr], 8);
		say(5, "migrating: sealing to the expected state of PCR %u (%s...), computed from "
		    "the configuration", c->measure_pcr, hex);
	}
	if (!ENABLE_LEGACY_NET || !keysources_legacy_enabled(c)) {
		si_diag_set(d, "not configured (no legacy_api)");
		return 1;
	}
	if (c->legacy.credentials_dev[0]) {
		r = fleet_credentials_mount(c, lc.credentials, sizeof(lc.credentials), d);
		if (r < 0)
			return r;
	}
	r = si_legacy_unlock(&o, &res, d);
	if (c->legacy.credentials_dev[0])
		fleet_credentials_umount();
	snprintf(mapped, sizeof(mapped), "/dev/mapper/%s", c->data_name);
	if (r < 0 && access(mapped, F_OK) == 0) {
		/* The volume opened, then the migration overran: the journal
		 * lets the next boot's migration clean up. */
		say(4, "legacy: unlocked, but the worker did not finish: %s", d->msg);
		return 0;
	}
	if (r < 0)
		return r;
	if (res.net[0])
		say(6, "legacy: network up: %s", res.net);
	say(6, "legacy key opened keyslot %d", res.keyslot);
	out->keyslot = res.keyslot;
	if (res.migrate_r == 0)
		say(5, "migrated: TPM keyslot %d enrolled (%u TPM commands); legacy keyslot %d "
		    "stays until migrate_finish", res.mres.tpm_keyslot, res.mres.tpm_commands,
		    res.mres.legacy_keyslot);
	else if (res.migrate_r < 0)
		say(4, "migration failed, the legacy key still unlocks: %s: %s",
		    si_strerror(res.migrate_r), res.mdiag.msg);
	else if (c->migrate)
		say(4, "migration skipped: no TPM");
	return 0;
}

struct key_source {
	enum si_keysource id;
	const char *name;
	int (*unlock)(const struct si_bootcfg *c, int pos, const char *datadev, struct outcome *out,
		      struct si_diag *d);
};

static const struct key_source all_sources[] = {
	{ SI_SRC_TPM2, "tpm2", tpm2_source },
	{ SI_SRC_LEGACY, "legacy", legacy_source },
};

/* /run/sealinit/unlock, for the booted system (the boot's /run moves into
 * the new root): how this boot opened the volume, as key=value lines.
 * Written to a temporary name and renamed, so a reader sees all or none. */
static void write_record(const char *source, const struct outcome *o, const char *datadev)
{
	struct si_luks_info info = { .uuid = "" };
	struct si_luks *l = NULL;
	struct si_diag d = { { 0 } };
	char text[SI_PATH_MAX + 160];
	int n;

	if (si_luks_open(datadev, &l, &d) == 0)
		si_luks_info(l, &info);
	si_luks_close(l);
	n = snprintf(text, sizeof(text), "source=%s\ntoken=%d\nkeyslot=%d\ndevice=%s\nuuid=%s\n",
		     source, o->token, o->keyslot, datadev, info.uuid);
	if (n < 0 || n >= (int)sizeof(text) || pid1_publish(UNLOCK_RECORD, text, (size_t)n) < 0)
		return;
	say(7, "%s: source=%s token=%d keyslot=%d", UNLOCK_RECORD, source, o->token, o->keyslot);
}

int keysources_unlock(const struct si_bootcfg *c, const char *datadev,
		      struct rollback_counter *counter, struct si_diag *d)
{
	char tried[768] = "";
	size_t len = 0, k;
	int i, r = -SI_ENOTOKEN, tpm_result = 0;

	memset(counter, 0, sizeof(*counter));

	for (i = 0; i < c->nsources; i++) {
		const struct key_source *src = NULL;
		struct si_diag sd = { { 0 } };
		struct outcome out = { .token = -1, .keyslot = -1 };
		double t0 = uptime_ms();

		for (k = 0; k < sizeof(all_sources) / sizeof(all_sources[0]); k++)
			if (all_sources[k].id == c->sources[i])
				src = &all_sources[k];
		if (!src)
			continue;
		r = src->id == SI_SRC_LEGACY ? fallback(c, datadev, tpm_result, &sd) : 0;
		if (r < 0) {
			say(4, "%s: %s", src->name, sd.msg);
			len += (size_t)snprintf(tried + len, sizeof(tried) - len, "%s%s: %s",
						len ? "; " : "", src->name, sd.msg);
			if (len >= sizeof(tried))
				len = sizeof(tried) - 1;
			continue;
		}
		if (r == 0) {
			r = src->unlock(c, i, datadev, &out, &sd);
			step_done(src->name, t0);
		}
		if (src->id == SI_SRC_TPM2)
			tpm_result = r;
		if (r == 0) {
			say(5, "unlocked %s as /dev/mapper/%s via %s", datadev, c->data_name,
			    src->name);
			write_record(src->name, &out, datadev);
			if (src->id == SI_SRC_TPM2)
				*counter = out.counter;
			return 0;
		}
		if (r == 1) {
			say(7, "%s: %s", src->name, sd.msg);
			continue;
		}
		len += (size_t)snprintf(tried + len, sizeof(tried) - len, "%s%s: %s (%s)",
					len ? "; " : "", src->name, si_strerror(r), sd.msg);
		if (len >= sizeof(tried))
			len = sizeof(tried) - 1;
		say(4, "%s: %s: %s", src->name, si_strerror(r), sd.msg);
	}
	/* Only a volume that has a recovery keyslot is asked for one: a
	 * headless fleet without one reaches its failure policy at once. And
	 * only a pinned one: a key typed at the console opens whatever volume
	 * has a keyslot for it, an attacker's own with a recovery token too,
	 * unless fixate_volume_key says which volume this is. */
	if (ENABLE_RECOVERY_PROMPT && c->recovery_timeout_s > 0 && isatty(0) &&
	    si_recovery_present(datadev) && !recovery_pin(c)) {
		say(4, "recovery: not asked for: the boot takes a recovery key only for a volume "
		    "pinned with fixate_volume_key or named by the device record (a typed key "
		    "would open any volume)");
	} else if (ENABLE_RECOVERY_PROMPT && c->recovery_timeout_s > 0 && isatty(0) &&
		   si_recovery_present(datadev)) {
		struct si_diag rd = { { 0 } };
		struct outcome out = { .token = -1, .keyslot = -1 };
		int rr = recovery_source(c, datadev, &out, &rd);

		if (rr == 0) {
			write_record("recovery", &out, datadev);
			return 0;
		}
		len += (size_t)snprintf(tried + len, sizeof(tried) - len, "%srecovery: %s",
					len ? "; " : "", rd.msg);
	}
	si_diag_set(d, "cannot unlock %s: %s", datadev, tried[0] ? tried : "no key source is enabled");
	return r < 0 ? r : -SI_ENOTOKEN;
}
