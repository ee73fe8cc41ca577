/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_ENGINE_H
#define SEALINIT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct si_diag;

/*
 * The two operations the CLI and the boot stage share. They never print:
 * each returns 0 or a negative code (errors.h) and leaves the detail in the
 * diag.
 */

/* Asked for a PIN only when a token needs one. Writes a NUL-terminated PIN
 * into buf (locked memory of size bytes); returns 0 or a negative code. */
typedef int (*si_pin_fn)(void *ctx, char *buf, size_t size);

struct si_enroll_opts {
	const char *device;
	const char *tcti;
	int timeout_ms;
	uint32_t pcr_mask;
	const char *passphrase;   /* authorizes adding the keyslot */
	size_t passphrase_len;
	si_pin_fn get_pin;        /* NULL: no PIN */
	void *pin_ctx;
	int keyslot;              /* -1: the first free one */
};

struct si_enroll_result {
	int keyslot;
	int token;
	int srk_created;
	unsigned int tpm_commands;
};

int si_enroll(const struct si_enroll_opts *o, struct si_enroll_result *res,
	      struct si_diag *diag);

struct si_unlock_opts {
	const char *device;
	const char *name;         /* NULL: only check that the key opens a keyslot */
	const char *tcti;
	int timeout_ms;
	si_pin_fn get_pin;
	void *pin_ctx;
	/* After the attempt, success or not, extend cap_event into these PCRs
	 * on the same TPM connection (the boot stage's cap, without a second
	 * worker and TPM context). 0: no cap. */
	uint32_t cap_mask;
	const char *cap_event;
	bool cap_only_on_success;  /* leave the PCRs alone when the unlock fails */
};

struct si_unlock_result {
	int token;
	int keyslot;
	unsigned int tpm_commands;  /* of the unlock, not counting the cap */
	int capped;                 /* 1 when every PCR of cap_mask was capped */
	int journal;                /* the volume has a migration journal (migrate.h) */
};

/* Runs in a child process under o->timeout_ms (worker.h): a TPM that
 * hangs ends in -SI_ENOTPM, never in a hung boot. */
int si_unlock(const struct si_unlock_opts *o, struct si_unlock_result *res,
	      struct si_diag *diag);

/* PCR operations for measure, cap and pcrread, bounded the same way. */
struct si_pcr_opts {
	const char *tcti;
	int timeout_ms;
	uint32_t pcr_mask;
	uint16_t bank;            /* for reading */
};

struct si_pcr_values {
	size_t len;
	uint8_t values[24 * 64];  /* selected PCRs, ascending */
};

/* TPM2_PCR_Event of data into every PCR of the mask, in every bank. */
int si_pcr_event(const struct si_pcr_opts *o, const void *data, size_t len,
		 struct si_diag *diag);
int si_pcr_read(const struct si_pcr_opts *o, struct si_pcr_values *v, struct si_diag *diag);

#endif
