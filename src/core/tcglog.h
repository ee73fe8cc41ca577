/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_TCGLOG_H
#define SEALINIT_TCGLOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"

struct si_diag;
struct si_pcr_expect;

/*
 * The firmware's event log in the TCG PC Client crypto-agile format
 * (/sys/kernel/security/tpm0/binary_bios_measurements; TCG PC Client
 * Platform Firmware Profile, 10.2): a first record in the SHA1 format
 * (TCG_PCR_EVENT) whose data is the TCG_EfiSpecIDEvent, the table of the
 * log's algorithms and digest sizes, then TCG_PCR_EVENT2 records, each with
 * one digest per algorithm of that table. Little-endian throughout.
 *
 * The parser is strict: every length is checked against what is left of
 * the buffer; an algorithm the header does not list, or lists with another
 * size than its own, a record without every algorithm of the header, or
 * bytes after the last record are errors. A bad log is -EINVAL with the
 * record (0 is the header) and the field in the diag.
 */
#define SI_TCGLOG_MAX     (4 * 1024 * 1024)  /* OVMF's logs are 30-60 KiB */
#define SI_TCGLOG_RECORDS 16384

#define SI_EV_NO_ACTION                      0x00000003u
#define SI_EV_EVENT_TAG                      0x00000006u
#define SI_EV_EFI_BOOT_SERVICES_APPLICATION  0x80000003u

/* One TCG_PCR_EVENT2 record, as the log holds it. */
struct si_tcg_event {
	unsigned int index;                 /* the record's number; the header is 0 */
	uint32_t pcr;
	uint32_t type;
	uint8_t sha256[SI_SHA256_SIZE];     /* the digest extended into the sha256 bank */
	const uint8_t *data;                /* the event data, in the caller's buffer */
	uint32_t size;
};

/* Every record after the header, in order, to fn (NULL: only check the
 * log); fn returns 0 to go on, or a code that stops the walk and is
 * returned. The number of records after the header, or -EINVAL. */
int si_tcglog_parse(const uint8_t *log, size_t len,
		    int (*fn)(void *ctx, const struct si_tcg_event *e, struct si_diag *diag),
		    void *ctx, struct si_diag *diag);

/*
 * The events of an update that can be computed from its files, replacing
 * the log's own when set (NULL: as logged). Each must be in the log
 * exactly once, or the replay fails (-ENOENT, naming it): what it would
 * replace is unknown otherwise.
 *   load_options: the EFI stub's PCR 9 EV_EVENT_TAG `LOADED_IMAGE::
 *                 LoadOptions' (si_tcglog_load_options_digest);
 *   initrd:       the stub's PCR 9 EV_EVENT_TAG `Linux initrd': SHA-256 of
 *                 the initrd file;
 *   kernel:       the PCR 4 EV_EFI_BOOT_SERVICES_APPLICATION: the image's
 *                 Authenticode hash (pe.h).
 */
struct si_tcglog_update {
	const uint8_t *load_options;
	const uint8_t *initrd;
	const uint8_t *kernel;
};

/* The sha256 bank replayed: each PCR from its reset value (zero; PCR 0
 * from the locality of a StartupLocality event), extended by every record
 * but EV_NO_ACTION. out->mask: the PCRs some record extended. 0, -EINVAL
 * (a bad log) or -ENOENT (an update's event is not there once). */
int si_tcglog_replay(const uint8_t *log, size_t len, const struct si_tcglog_update *u,
		     struct si_pcr_expect *out, struct si_diag *diag);

/* The stub's tagged event: TCG_PCClientTaggedEvent (taggedEventID, size,
 * data) whose data is the NUL-terminated description. 1 when e is one
 * with this description, else 0. */
int si_tcg_tagged(const struct si_tcg_event *e, const char *description);

/*
 * The digest the EFI stub extends for a command line: SHA-256 of the
 * image's LoadOptions, which the firmware fills with the command line in
 * UCS-2 (UTF-16LE) with its NUL terminator. cmdline is UTF-8 as
 * /proc/cmdline shows it; -EINVAL if it is not, -E2BIG past 4096 bytes.
 */
#define SI_LOAD_OPTIONS_MAX 4096
int si_tcglog_load_options_digest(const char *cmdline, uint8_t out[SI_SHA256_SIZE],
				  struct si_diag *diag);

#endif
