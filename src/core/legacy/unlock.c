/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "core/legacy/net.h"
#include "core/legacy/unlock.h"
#include "core/luks.h"
#include "core/secret.h"
#include "core/worker.h"

/* libcryptsetup's PBKDF2 on the legacy keyslot and the activation take
 * seconds on a slow board: a fixed allowance on top of the deadlines. */
#define ACTIVATE_MS 30000

static int write_all(int fd, const uint8_t *p, size_t len, struct si_diag *d)
{
	while (len) {
		ssize_t k = write(fd, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			si_diag_set(d, "writing the key: %s", k < 0 ? strerror(errno) : "short write");
			return k < 0 ? -errno : -EIO;
		}
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

static void migrate(const struct si_legacy_unlock_opts *o, const uint8_t *key, size_t len,
		    struct si_legacy_unlock_result *res)
{
	struct si_migrate_opts mo = {
		.device = o->device, .tcti = o->tcti, .timeout_ms = o->tpm_timeout_ms,
		.pcr_mask = o->migrate_pcrs, .passphrase = (const char *)key,
		.passphrase_len = len, .legacy_keyslot = res->keyslot,
		.expect = o->migrate_expect,
	};

	if (!ENABLE_TPM2)
		return;
	if (o->log) {
		char msg[96];

		snprintf(msg, sizeof(msg), "migrating: enrolling the TPM next to legacy keyslot %d",
			 res->keyslot);
		o->log(o->log_ctx, msg);
	}
	res->migrate_r = si_migrate(&mo, &res->mres, &res->mdiag);
}

/* A pinned volume is opened through its volume key, checked first: the
 * legacy key opens any volume made with the same passphrase. */
static int activate(const struct si_legacy_unlock_opts *o, struct si_luks *l, const uint8_t *key,
		    size_t len, struct si_diag *d)
{
	struct si_luks_bind *b;
	int r;

	if (!o->fixate_volume_key)
		return si_luks_activate(l, o->name, -1, (const char *)key, len, d);
	if (!o->bind_name && !o->name) {
		si_diag_set(d, "the volume key's id is bound to a name: give the /dev/mapper name");
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->name = o->bind_name ? o->bind_name : o->name;
	b->pin = o->fixate_volume_key;
	r = si_luks_activate_bound(l, o->name, -1, (const char *)key, len, b, d);
	free(b);
	return r;
}

static int legacy_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	const struct si_legacy_unlock_opts *o = arg;
	struct si_legacy_unlock_result *res = out;
	struct si_luks *l = NULL;
	uint8_t *key = NULL;
	size_t len = 0;
	int r;

	(void)w;
	res->keyslot = -1;
	res->migrate_r = 1;
	if (o->ip) {
		struct si_net_cfg net;

		r = si_net_parse(o->ip, &net, d);
		if (r == 0)
			r = si_net_up(&net, o->net_timeout_ms, o->udhcpc_script, res->net,
				      sizeof(res->net), d);
		if (r < 0)
			return r;
	}
	/* The header first: a volume that fails its check costs no request. */
	if (o->device) {
		r = si_luks_open(o->device, &l, d);
		if (r == 0)
			r = si_luks_check(l, o->expect, d);
		if (r < 0)
			goto out;
	}
	r = si_legacy_fetch(o->cfg, o->log, o->log_ctx, &key, &len, d);
	if (r < 0)
		goto out;
	res->key_len = len;
	if (l) {
		r = activate(o, l, key, len, d);
		if (r < 0)
			goto out;
		res->keyslot = r;
		si_luks_close(l);
		l = NULL;
	}
	r = o->key_fd >= 0 ? write_all(o->key_fd, key, len, d) : 0;
	if (r == 0 && ENABLE_TPM2 && o->migrate && o->device)
		migrate(o, key, len, res);
out:
	si_luks_close(l);
	si_secret_free(key);
	return r < 0 ? r : 0;
}

int si_legacy_unlock_budget_ms(const struct si_legacy_unlock_opts *o)
{
	return (o->ip ? o->net_timeout_ms : 0) + o->cfg->deadline_ms + ACTIVATE_MS +
	       (o->migrate ? 2 * o->tpm_timeout_ms : 0);
}

int si_legacy_unlock(const struct si_legacy_unlock_opts *o, struct si_legacy_unlock_result *res,
		     struct si_diag *d)
{
	const struct si_work w = {
		.fn = legacy_work, .arg = (void *)o, .out = res, .out_size = sizeof(*res),
		.deadline_ms = si_legacy_unlock_budget_ms(o), .timeout_code = -SI_ETIMEOUT,
		.noun = "the legacy key source",
	};
	int r;

	memset(res, 0, sizeof(*res));
	res->keyslot = -1;
	res->migrate_r = 1;
	if (o->migrate && !ENABLE_TPM2) {
		si_diag_set(d, "migrate: this build has no TPM2 support");
		return -SI_EUNSUPPORTED;
	}
	r = si_legacy_cfg_validate(o->cfg, d);
	return r < 0 ? r : si_worker_run(&w, d);
}
