/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_UNLOCK_H
#define SEALINIT_UNLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/volkey.h"
#include "core/worker.h"

struct si_bootcfg;
struct si_diag;
struct si_luks_expect;

/*
 * Unlock by TPM: for each systemd-tpm2 token, unseal and try its keyslot.
 * Never prints: returns 0 or a negative code (errors.h) and leaves the
 * detail in the diag. Built with CONFIG_TPM2 only.
 */

/* Asked for a PIN only when a token needs one. Writes a NUL-terminated PIN
 * into buf (locked memory of size bytes); returns 0 or a negative code. */
typedef int (*si_pin_fn)(void *ctx, char *buf, size_t size);

#define SI_PIN_MAX 256

/* Everything secret of one unseal or seal, in one locked allocation
 * (si_secret_alloc), wiped on free. */
struct si_unsealed {
	uint8_t key[128];
	size_t key_len;
	char pass[176];             /* base64 of key: the keyslot passphrase */
	char pin[SI_PIN_MAX];
};

struct si_unlock_opts {
	const char *device;
	const char *name;         /* NULL: only check that the key opens a keyslot */
	const char *tcti;
	int timeout_ms;
	si_pin_fn get_pin;
	void *pin_ctx;
	/* After the attempt, success or not, extend cap_event into these PCRs
	 * on the same TPM connection (the boot stage's cap, without a second
	 * worker and TPM context). 0: no cap. Every path that returns caps,
	 * even one that never reached the TPM. */
	uint32_t cap_mask;
	const char *cap_event;
	bool cap_only_on_success;  /* leave the PCRs alone when the unlock fails */
	/* Report whether the header holds a token of this type (the caller
	 * knows what it wants found: the boot stage, a migration journal),
	 * from the header already loaded. NULL: do not look. */
	const char *probe_token_type;
	/* What the volume must look like before any token is tried
	 * (si_luks_check); NULL: the known-good ciphers (the CLI). */
	const struct si_luks_expect *expect;
	/* Refuse tokens bound to no PCR or to PCR 16/23 (the boot stage);
	 * the CLI opens them, for recovery and for systemd's tokens. */
	bool refuse_unsafe_pcrs;
	/* The PCRs the boot caps (pcrs=): a token that binds none of them
	 * stays unsealable by the booted system after the cap, so it is
	 * refused; 0: no such rule (the CLI). */
	uint32_t capped_pcrs;
	/* Refuse tokens without `tpm2_srk': they unseal under a transient
	 * primary made from a template, and nothing checks its key (a locked-
	 * down boot without tpm2_transient_primary=yes). */
	bool refuse_transient_primary;
	/* After the cap, on the same connection, read which hierarchies have
	 * a password (one GetCapability): sealinit sets none, so one that
	 * appeared was set by someone else (the boot reports it). */
	bool read_auth_state;
	/* The volume bound to the enrolled one (luks.h, si_luks_bind): the
	 * volume key's id for bind_name must equal fixate_volume_key before
	 * anything is activated (-SI_EVOLKEY otherwise). NULL: not pinned.
	 * bind_name NULL: name (then one of the two is needed). */
	const char *fixate_volume_key;
	const char *bind_name;
	/* After activation and before the cap, extend into measure_pcr what
	 * systemd's tpm2-measure-pcr= extends: per bank, HMAC of
	 * "cryptsetup:<bind_name>:<uuid>" keyed with the volume key. */
	bool measure;
	unsigned int measure_pcr;
	/* The signature file for tokens with a signed PCR policy
	 * (sigfile.h), read when such a token is tried; NULL:
	 * SI_SIGFILE_DEFAULT. */
	const char *signature;
	/* The device record (record.h): read at this NV index, on the
	 * unlock's TPM connection, before any token is tried, its public area
	 * checked for the fleet key of record_pubkey_pem. Missing, or not this
	 * key's written record: -SI_ENORECORD, no token tried, nothing
	 * activated (the cap as on every path). Otherwise its id is the pin,
	 * as fixate_volume_key (both set: they must agree, -SI_EVOLKEY). 0:
	 * no record. */
	uint32_t record_index;
	const void *record_pubkey_pem;
	size_t record_pubkey_len;
	/* The rollback counter of the token that opens the volume (its
	 * `sealinit_counter_nv'), read on this connection after the token's
	 * unseal and before activation, into the result (the boot checks it
	 * against the volume's high-water mark, boot/rollback.h). A counter
	 * that cannot be read fails that token: nothing is activated whose
	 * counter the boot could not check. */
	bool read_counter;
	/* Set by si_unlock_start: the worker reads the header and the record,
	 * opens the TPM and prepares the first token the rules allow (its
	 * object loaded, its policy session started: no PCR read), then waits
	 * at the gate (worker.h) until the caller is in si_unlock_wait. No
	 * policy runs, nothing is unsealed, activated or extended before it. */
	bool gated;
	void *gate_ctx;             /* the worker, in the child */
};

struct si_unlock_result {
	int token;
	int keyslot;
	unsigned int tpm_commands;  /* of the unlock, not counting the cap */
	int capped;                 /* 1 when every PCR of cap_mask was capped */
	int probed;                 /* a token of probe_token_type is on the volume */
	/* When the volume was measured (measure_pcr): the PCR, the string
	 * the HMAC covers and the sha256 digest (the volume key's id) for
	 * the event log; -1 otherwise. */
	int measured_pcr;
	/* With read_auth_state: SI_AUTH_* bits, or -1 when not read. */
	int auth_state;
	char measured[SI_VOLKEY_PREFIX_MAX];
	char volume_id[SI_VOLKEY_HEX_LEN + 1];
	/* With record_index: the record's id, hex, once read (the recovery
	 * prompt pins with it); empty otherwise. */
	char record_id[SI_VOLKEY_HEX_LEN + 1];
	/* With read_counter: the opening token's counter index (0: it has
	 * none) and its value. */
	uint32_t counter_index;
	uint64_t counter_value;
	/* Where the time went, in ms (the boot logs it at debug level, the
	 * CLI with -v): the header read and checked; opening the TPM; the
	 * record, the unseals and the counter; the activation; the cap. */
	struct {
		int header, tpm_open, unseal, activate, cap;
		/* si_unlock_start: the token prepared before the gate, and
		 * the wait at the gate (the time the caller spent meanwhile). */
		int prepare, gate;
	} ms;
};

/* The rules a token must pass for the boot stage, from its configuration:
 * no unsafe PCRs, at least one PCR it caps, a pinned storage key when
 * locked down (unless tpm2_transient_primary=yes), a rollback counter
 * that reads. Refused tokens are skipped, each named in the diag; the
 * next one is tried. The hierarchies' passwords and the counter are read
 * for the result. */
#define SI_AUTH_OWNER       1
#define SI_AUTH_ENDORSEMENT 2
#define SI_AUTH_LOCKOUT     4

void si_unlock_boot_rules(struct si_unlock_opts *o, const struct si_bootcfg *c);

/* Runs in a child process under o->timeout_ms (worker.h): a TPM that
 * hangs ends in -SI_ENOTPM, never in a hung boot. */
int si_unlock(const struct si_unlock_opts *o, struct si_unlock_result *res,
	      struct si_diag *diag);

/*
 * The same unlock started early (the boot stage, before its measurements
 * are extended): si_unlock_start forks the worker, which does what needs
 * no PCR and waits at its gate; si_unlock_wait opens the gate and waits
 * for the result under o->timeout_ms, counted from then; si_unlock_abandon
 * kills a worker whose gate will never open (the boot failed first), and
 * nothing is unsealed. res is written by si_unlock_wait. The TPM is used
 * by the caller meanwhile, so its TCTI must multiplex (the kernel's
 * resource manager, /dev/tpmrm*).
 */
struct si_unlock_job {
	struct si_worker_job job;
	struct si_unlock_opts o;
};

int si_unlock_start(struct si_unlock_job *j, const struct si_unlock_opts *o,
		    struct si_unlock_result *res, struct si_diag *diag);
int si_unlock_wait(struct si_unlock_job *j, struct si_diag *diag);
void si_unlock_abandon(struct si_unlock_job *j);

#endif
