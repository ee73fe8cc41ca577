/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_KV_H
#define SEALINIT_KV_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Strict value parsers for KEY=VALUE configuration, shared by every module
 * that owns keys (bootcfg.c, legacy/config.c). Each returns 0, -EINVAL for
 * a bad value, or -E2BIG for one that does not fit.
 */

/* Copy v and zero the rest of dst: one value, one representation. */
int si_kv_str(char *dst, size_t size, const char *v);
/* Decimal, no sign or space in front, within [min, max]. */
int si_kv_num(const char *v, long min, long max, long *out);
/* yes/no or 1/0. */
int si_kv_bool(const char *v, bool *out);
/* A device spec the boot stage resolves: a /dev path, or PARTLABEL=,
 * PARTUUID=, UUID=, LABEL= with a value. */
int si_kv_devspec(const char *v);

/* key (klen bytes) is a word of list, whose words are separated by any
 * run of the characters in seps. */
bool si_kv_listed(const char *list, const char *seps, const char *key, size_t klen);

#define SI_KV_DEVSPEC_EXPECT "a /dev path or PARTLABEL=, PARTUUID=, UUID=, LABEL="

#endif
