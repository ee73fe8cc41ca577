/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/errors.h"
#include "core/luks.h"
#include "core/recovery.h"
#include "core/secret.h"

static const char modhex[16] = "cbdefghijklnrtuv";

static int modhex_value(char c)
{
	int i;

	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	for (i = 0; i < 16; i++)
		if (modhex[i] == c)
			return i;
	return -1;
}

void si_recovery_format(const uint8_t key[32], char *out)
{
	size_t i, j = 0;

	for (i = 0; i < 32; i++) {
		out[j++] = modhex[key[i] >> 4];
		out[j++] = modhex[key[i] & 0xf];
		if (i % 4 == 3 && i + 1 < 32)
			out[j++] = '-';
	}
	out[j] = '\0';
}

int si_recovery_make(char *out)
{
	uint8_t key[32];
	ssize_t n = getrandom(key, sizeof(key), 0);

	if (n != (ssize_t)sizeof(key)) {
		si_wipe(key, sizeof(key));
		return n < 0 ? -errno : -EIO;
	}
	si_recovery_format(key, out);
	si_wipe(key, sizeof(key));
	return 0;
}

int si_recovery_normalize(const char *typed, char *out, struct si_diag *d)
{
	size_t len, i, j = 0, k = 0;
	bool dashes;

	while (*typed == ' ' || *typed == '\t')
		typed++;
	len = strlen(typed);
	while (len && (typed[len - 1] == ' ' || typed[len - 1] == '\t' || typed[len - 1] == '\n' ||
		       typed[len - 1] == '\r'))
		len--;
	if (len != 64 && len != SI_RECOVERY_LEN) {
		si_diag_set(d, "a recovery key is 64 characters, or 71 with its dashes; got %zu", len);
		return -EINVAL;
	}
	dashes = len == SI_RECOVERY_LEN;
	for (i = 0; i < 64; i++) {
		if (dashes && i && i % 8 == 0) {
			if (typed[k] != '-') {
				si_diag_set(d, "character %zu of the recovery key should be `-'", k + 1);
				return -EINVAL;
			}
			k++;
			out[j++] = '-';
		}
		if (modhex_value(typed[k]) < 0) {
			si_diag_set(d, "character %zu of the recovery key (`%c') is not one of "
				    "cbdefghijklnrtuv", k + 1, typed[k] >= ' ' && typed[k] < 0x7f ? typed[k] : '?');
			return -EINVAL;
		}
		out[j++] = modhex[modhex_value(typed[k++])];
		if (!dashes && i % 8 == 7 && i < 63)
			out[j++] = '-';
	}
	out[j] = '\0';
	return 0;
}

int si_recovery_enroll(const char *device, const char *pass, size_t pass_len, char *key,
		       int *token, struct si_diag *d)
{
	struct si_luks *l = NULL;
	char json[96];
	int r, slot;

	r = si_recovery_make(key);
	if (r < 0) {
		si_diag_set(d, "reading random bytes: %s", strerror(-r));
		return r;
	}
	r = si_luks_open(device, &l, d);
	if (r < 0)
		return r;
	r = slot = si_luks_add_keyslot(l, -1, pass, pass_len, key, SI_RECOVERY_LEN, d);
	if (r >= 0) {
		snprintf(json, sizeof(json), "{\"type\":\"" SI_RECOVERY_TOKEN_TYPE
			 "\",\"keyslots\":[\"%d\"]}", slot);
		r = si_luks_add_token(l, json, d);
		if (r < 0) {
			/* Nothing half-done: no keyslot without its token. */
			si_luks_destroy_keyslot(l, slot);
		} else {
			*token = r;
			r = slot;
		}
	}
	si_luks_close(l);
	if (r < 0)
		si_wipe(key, SI_RECOVERY_LEN + 1);
	return r;
}

int si_recovery_unlock(const char *device, const char *name, const char *key,
		       const struct si_luks_expect *expect, const char *fixate, const char *bind_name,
		       struct si_diag *d)
{
	struct si_luks_bind *b = NULL;
	struct si_luks *l = NULL;
	int r;

	r = si_luks_open(device, &l, d);
	if (r == 0)
		r = si_luks_check(l, expect, d);
	if (r == 0 && fixate) {
		b = si_secret_alloc(sizeof(*b));
		if (!b) {
			r = -ENOMEM;
		} else {
			memset(b, 0, sizeof(*b));
			b->name = bind_name ? bind_name : name;
			b->pin = fixate;
			r = si_luks_activate_bound(l, name, -1, key, strlen(key), b, d);
		}
	} else if (r == 0) {
		r = si_luks_activate(l, name, -1, key, strlen(key), d);
	}
	if (r == -SI_EKEYSLOT)
		si_diag_set(d, "the recovery key opens no keyslot of `%s'", device);
	si_secret_free(b);
	si_luks_close(l);
	return r;
}

bool si_recovery_present(const char *device)
{
	struct si_luks *l = NULL;
	struct si_diag d;
	const char *json;
	bool found = false;
	int id;

	if (si_luks_open(device, &l, &d) < 0)
		return false;
	for (id = 0; id < SI_LUKS_MAX_TOKENS && !found; id++)
		found = si_luks_token_json(l, id, SI_RECOVERY_TOKEN_TYPE, &json) == 0;
	si_luks_close(l);
	return found;
}
