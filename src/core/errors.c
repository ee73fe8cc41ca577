/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/errors.h"

void si_diag_set(struct si_diag *d, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
}

/* In ascending exit-code order: si_error_at() lists them so. */
static const struct si_error_info table[] = {
	{ SI_ENOTPM,       3,  "no TPM reachable" },
	{ SI_EPOLICY,      4,  "system state changed since enrollment (PCR policy mismatch)" },
	{ SI_ELOCKOUT,     5,  "TPM is in dictionary-attack lockout" },
	{ SI_EBADPIN,      6,  "wrong PIN" },
	{ SI_ENOTOKEN,     7,  "no systemd-tpm2 token on the volume" },
	{ SI_EBADTOKEN,    8,  "malformed token" },
	{ SI_EBADHEADER,   9,  "not a LUKS2 volume or damaged header" },
	{ SI_ESRK,         10, "TPM storage key missing or not the enrolled one" },
	{ SI_EKEYSLOT,     11, "unsealed key opens no keyslot" },
	{ SI_EUNSUPPORTED, 12, "token uses a feature this build does not support" },
	{ SI_ETPM,         13, "TPM error" },
	{ SI_EACTIVATE,    14, "activation failed" },
	{ SI_ENOPIN,       15, "a PIN is required and none was given" },
	{ SI_ENETDOWN,     16, "network unavailable" },
	{ SI_EDNS,         17, "server name does not resolve" },
	{ SI_ECONNECT,     18, "cannot connect to the server" },
	{ SI_ETLS,         19, "TLS verification failed" },
	{ SI_EAUTH,        20, "server refused the credentials (HTTP 401)" },
	{ SI_EFORBIDDEN,   21, "server refused this device (HTTP 403)" },
	{ SI_ESERVER,      22, "server error (HTTP 5xx)" },
	{ SI_EBADRESPONSE, 23, "malformed server response" },
	{ SI_EOVERSIZE,    24, "server response exceeds its size cap" },
	{ SI_EVERIFY,      25, "key material failed verification" },
	{ SI_ETIMEOUT,     26, "network deadline passed" },
	{ SI_ECREDS,       27, "legacy credentials missing or unsafe" },
	{ SI_EFINGERPRINT, 28, "hardware fingerprint unavailable" },
	{ SI_EVOLKEY,      29, "not the enrolled volume (its volume key id is not the pinned one)" },
	{ SI_ENOSIG,       30, "no signed PCR policy for the current PCR values" },
	{ SI_ESIGKEY,      31, "PCR policy signed by another key than the token's" },
	{ SI_EBADSIG,      32, "PCR policy signature malformed or rejected by the TPM" },
	{ SI_EREVOKED,     33, "PCR policy signature revoked (the TPM's rollback counter is past it)" },
	{ SI_ENORECORD,    34, "no device record for this fleet's key in the TPM" },
	{ SI_ENOTBLANK,    35, "the partition is not blank: provisioning never formats over data" },
};

#define TABLE_LEN (sizeof(table) / sizeof(table[0]))

static const struct si_error_info *find(int r)
{
	size_t i;

	if (r < 0)
		r = -r;
	for (i = 0; i < TABLE_LEN; i++)
		if (table[i].code == r)
			return &table[i];
	return NULL;
}

const char *si_strerror(int r)
{
	const struct si_error_info *e = find(r);

	if (e)
		return e->msg;
	if (r < 0)
		r = -r;
	if (r > 0 && r < SI_EBASE)
		return strerror(r);
	return "unknown error";
}

int si_exit_code(int r)
{
	const struct si_error_info *e = find(r);

	if (r == 0)
		return 0;
	return e ? e->exit_code : 1;
}

const struct si_error_info *si_error_at(size_t i)
{
	return i < TABLE_LEN ? &table[i] : NULL;
}
