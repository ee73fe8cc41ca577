/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_SECRET_H
#define SEALINIT_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Key material lives only in buffers from si_secret_alloc(): their own
 * anonymous mapping, locked in RAM, excluded from core dumps, and wiped on
 * free. Never copy a secret elsewhere; wipe any stack copy with
 * si_wipe() right after its last use.
 */
void *si_secret_alloc(size_t size);
void si_secret_free(void *p);

void si_wipe(void *p, size_t size);

/* Constant-time comparison: true when equal. */
bool si_memeq(const void *a, const void *b, size_t size);

#endif
