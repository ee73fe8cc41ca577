/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_EVENTS_H
#define SEALINIT_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"

struct si_bootcfg;
struct si_diag;

/*
 * What the boot stage measures, computed in one place for the boot and for
 * offline prediction (`sealinit predict`), so the two cannot drift apart.
 *
 * Every event is a public string extended with TPM2_PCR_Event (the TPM
 * hashes it into every bank; the sha256 digest is SHA-256 of the string).
 * In the order the boot extends them, all into the measured PCR and all
 * before any unseal:
 *
 *   sealinit:cmdline:<the kernel command line>   volatile words and the
 *                     unmeasured sealinit.* keys left out
 *   sealinit:config:<sha256 of the canonical config>
 *                     (si_bootcfg_format_measured)
 *   sealinit:verity:<root hash>   or   sealinit:image:<sha256 of the root>
 *   sealinit:init:<path>:<sha256 of the file>
 *   sealinit:cap                  after the unlock, and on every failure
 *
 * The log of them is CEL-JSON as systemd writes /run/log/systemd/
 * tpm2-measure.log (docs/event-log.md).
 */

/* TPM2_PCR_Event takes at most 1024 bytes of event data. */
#define SI_EVENT_MAX 1024

struct si_event {
	unsigned int pcr;
	char text[SI_EVENT_MAX + 1];
};

/* One word of the kernel command line, as the kernel's next_arg()
 * (lib/cmdline.c) splits it: word is the raw text, quotes included (what
 * is measured); key and val are the parameter and its value as the kernel
 * hands them on, a leading and a closing quote removed (what sealinit
 * reads). val is NULL for a word without '='. */
struct si_cmdline_word {
	const char *word, *key, *val;
	size_t len, key_len, val_len;
	size_t offset;  /* of word in the command line */
};

/* Every word of cmdline to fn, in order, split exactly as the kernel
 * splits it (its isspace(), 0xA0 included; double quotes group). A
 * command line on which the kernel and systemd would find other words (a
 * VT, FF or 0xA0 byte, a single quote, a backslash before a quote, a
 * space, another backslash or the end) is refused first, -EINVAL naming
 * the byte and its offset. fn returning < 0 stops the walk with that. */
int si_cmdline_words(const char *cmdline,
		     int (*fn)(void *ctx, const struct si_cmdline_word *w), void *ctx,
		     struct si_diag *diag);

/* The command line as measured: its words (si_cmdline_words) joined by
 * one space, without those whose key is listed in volatile_keys (space-
 * or comma-separated names, e.g. "bl_prof_dataptr") and without
 * sealinit's keys that are never measured (si_bootcfg_key_unmeasured:
 * verbosity and timeouts). Into out (size bytes). -E2BIG when it does
 * not fit; -EINVAL, named in diag, for a refused byte or for a quote in
 * a word left out (it could carry other words out with it). */
int si_cmdline_measured(const char *cmdline, const char *volatile_keys, char *out, size_t size,
			struct si_diag *diag);

/* Keys that may never be left out of the measurement. NULL when key is
 * fine, else the reason. */
const char *si_cmdline_volatile_refused(const char *key);

/* The boot's command line against the configuration's cmdline=, both in
 * their measured form (si_cmdline_measured): 0, or -EPERM naming the
 * first word that differs, or the byte or word either was refused for. */
int si_cmdline_check(const char *expected, const char *actual, const char *volatile_keys,
		     struct si_diag *diag);

int si_event_cmdline(struct si_event *e, unsigned int pcr, const char *cmdline,
		     const char *volatile_keys, struct si_diag *diag);
int si_event_config(struct si_event *e, unsigned int pcr, const struct si_bootcfg *c,
		    struct si_diag *diag);
void si_event_verity(struct si_event *e, unsigned int pcr, const char *roothash);
void si_event_image(struct si_event *e, unsigned int pcr, const uint8_t digest[SI_SHA256_SIZE]);
void si_event_init(struct si_event *e, unsigned int pcr, const char *path,
		   const uint8_t digest[SI_SHA256_SIZE]);
void si_event_string(struct si_event *e, unsigned int pcr, const char *text);

/* The sha256 bank: digest of one event, and a PCR value extended by it. */
void si_event_digest(const struct si_event *e, uint8_t out[SI_SHA256_SIZE]);
void si_event_extend(uint8_t pcr_value[SI_SHA256_SIZE], const struct si_event *e);

/* Replay: the value of PCR pcr after the events of ev[] that target it,
 * starting from `initial' (NULL: all zero, a PCR after reset). */
void si_events_replay(const struct si_event *ev, size_t n, unsigned int pcr,
		      const uint8_t *initial, uint8_t out[SI_SHA256_SIZE]);

/* One CEL-JSON record in systemd's userspace format, RFC 7464 framed:
 * RS {"pcr":N,"digests":[{"hashAlg":"sha256","digest":"..."}],
 * "content_type":"systemd","content":{"string":"..."}} LF.
 * Its length, or -ENOSPC. */
int si_event_cel(const struct si_event *e, char *buf, size_t size);
/* The same record for an extend whose sha256 digest is not SHA-256 of the
 * string (a volume's keyed HMAC, as systemd's tpm2-measure-pcr= logs it):
 * digest_hex is what was extended. */
int si_cel_record(unsigned int pcr, const char *digest_hex, const char *string, char *buf,
		  size_t size);

/* One record of a CEL-JSON log as si_event_cel writes it (and systemd). */
struct si_event_record {
	unsigned int pcr;
	char digest[2 * SI_SHA256_SIZE + 1];  /* the sha256 digest, hex; "" if none */
	char string[SI_EVENT_MAX + 1];
	/* The cap, known by its digest (SHA-256 of "sealinit:cap"), whatever
	 * the record's string says: a label is the log writer's claim, the
	 * digest is what the PCR holds. */
	bool cap;
	/* The string names one of sealinit's events ("sealinit:...") and the
	 * digest is not its SHA-256: relabelled. Such a log says nothing
	 * true about its PCR. */
	bool forged;
};

/* Every record of the log text, in order, to fn; a record that is not
 * JSON, or lacks a PCR, is an error naming its number (-EINVAL). The
 * number of records, or the error. */
int si_eventlog_parse(const char *text, size_t len,
		      void (*fn)(void *ctx, const struct si_event_record *r), void *ctx,
		      struct si_diag *diag);

/* Extend a sha256 PCR value by a hex digest: -EINVAL when it is not 64 hex. */
int si_event_extend_hex(uint8_t pcr_value[SI_SHA256_SIZE], const char *digest_hex);

/*
 * A CEL-JSON log replayed per PCR (sha256), each PCR from its value in
 * `initial' when initial->mask has it (the firmware's log replayed: PCRs
 * 0-9 do not start at zero when the OS runs), else from zero. The PCRs
 * sealinit caps in the firmware's range (4, 7, 9 on x86) replay only so:
 * their cap records follow the firmware's events, which are in the other
 * log.
 */
struct si_log_replay {
	uint8_t full[24][SI_SHA256_SIZE];       /* every record: the PCR now */
	uint8_t before_cap[24][SI_SHA256_SIZE]; /* up to the PCR's first cap */
	uint32_t seen;       /* PCRs with a record */
	uint32_t capped;     /* PCRs with a cap record (by its digest) */
	uint32_t last_cap;   /* PCRs whose last record is the cap */
	uint32_t bad;        /* PCRs with a digest that is not one, or a forged record */
	uint32_t forged;     /* PCRs with a forged record (si_event_record) */
	unsigned int forged_at[24];   /* its 1-based record number */
	unsigned int records;
};
struct si_pcr_expect;
/* The number of records, or -EINVAL naming the bad one. */
int si_eventlog_replay(const char *text, size_t len, const struct si_pcr_expect *initial,
		       struct si_log_replay *out, struct si_diag *diag);

#endif
