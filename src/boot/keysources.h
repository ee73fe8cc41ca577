/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_BOOT_KEYSOURCES_H
#define SEALINIT_BOOT_KEYSOURCES_H

#include <stdbool.h>

struct si_bootcfg;
struct si_diag;

/*
 * The key sources, tried in the configured order (keysources=): the TPM
 * and the legacy network fetch. Each attempt is reported; the first that
 * opens the data volume as /dev/mapper/<name> wins.
 */

/* A legacy source is configured and built in. */
bool keysources_legacy_enabled(const struct si_bootcfg *c);
/* The TPM is used at all: as a key source, or to migrate to. */
bool keysources_tpm_used(const struct si_bootcfg *c);

/* 0 once the volume is open; otherwise a code, and every attempt named in
 * the diag. */
int keysources_unlock(const struct si_bootcfg *c, const char *datadev, struct si_diag *d);

#endif
