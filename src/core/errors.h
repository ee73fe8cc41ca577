/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_ERRORS_H
#define SEALINIT_ERRORS_H

#include <stddef.h>

/*
 * Core functions return 0 or a negative code: -errno for system errors, or
 * -SI_E* below for failures that decide what happens next (try another
 * token, fall back to the network, stop). Each one maps to its own exit code
 * (docs/cli.md) and to one human message, here and nowhere else.
 */
enum si_error {
	SI_EBASE = 1000,
	SI_ENOTPM,       /* no TPM reachable, or it does not answer */
	SI_EPOLICY,      /* PCR state differs from the sealed policy */
	SI_ELOCKOUT,     /* TPM dictionary-attack lockout */
	SI_EBADPIN,      /* wrong PIN */
	SI_ENOPIN,       /* a PIN is needed and none was given */
	SI_ENOTOKEN,     /* no systemd-tpm2 token on the volume */
	SI_EBADTOKEN,    /* a token is malformed (field named in the diag) */
	SI_EBADHEADER,   /* not a LUKS2 volume, or its header is damaged */
	SI_ESRK,         /* the storage key is missing or not the enrolled one */
	SI_EKEYSLOT,     /* the unsealed key opens no keyslot */
	SI_EUNSUPPORTED, /* a token feature this build does not handle */
	SI_ETPM,         /* any other TPM error */
	SI_EACTIVATE,    /* device-mapper activation failed */
	/* The legacy network fetch (legacy.h): one code per way it fails. */
	SI_ENETDOWN,     /* no network: no interface, no address, no route */
	SI_EDNS,         /* the server's name does not resolve */
	SI_ECONNECT,     /* TCP connection refused or unreachable */
	SI_ETLS,         /* TLS handshake or certificate verification failed */
	SI_EAUTH,        /* HTTP 401: the credentials were refused */
	SI_EFORBIDDEN,   /* HTTP 403: this device is not allowed the resource */
	SI_ESERVER,      /* HTTP 5xx */
	SI_EBADRESPONSE, /* malformed or unexpected response (field named) */
	SI_EOVERSIZE,    /* a response exceeds its size cap */
	SI_EVERIFY,      /* the resource failed its integrity check or padding */
	SI_ETIMEOUT,     /* the fetch's deadline passed */
	SI_ECREDS,       /* credentials file missing, malformed or not root-only */
	SI_EFINGERPRINT, /* a hardware fingerprint source cannot be read */
	SI_EVOLKEY,      /* the volume key's id is not the pinned one */
	/* Signed PCR policies (tpm2_pubkey): why no signature could be used. */
	SI_ENOSIG,       /* no signature for these PCRs and their current values */
	SI_ESIGKEY,      /* signatures for these PCRs, but by another key */
	SI_EBADSIG,      /* the signature file is malformed, or the TPM rejected it */
	SI_EREVOKED,     /* the signature's counter limit is below the TPM's rollback counter */
	/* A fleet (docs/fleet.md). */
	SI_ENORECORD,    /* the device record is missing, or not sealinit's for the fleet key */
	SI_ENOTBLANK,    /* provisioning: the partition is not blank */
	SI_EMAX,
};

/* Detail that the core fills for the one place that prints. */
struct si_diag {
	char msg[512];  /* room for two device paths and a root hash */
};

void si_diag_set(struct si_diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One sentence for a code, e.g. "system state changed since enrollment". */
const char *si_strerror(int r);

/* Process exit code for a code; see docs/cli.md. */
int si_exit_code(int r);

/* One row of the table behind si_strerror() and si_exit_code(). */
struct si_error_info {
	int code;        /* an SI_E* value, positive */
	int exit_code;
	const char *msg;
};

/* The i-th row, in ascending exit-code order, or NULL past the last: for
 * listing the codes (`sealinit help', tests) without copying the table. */
const struct si_error_info *si_error_at(size_t i);

#endif
