/* SPDX-License-Identifier: MIT */
/* Helpers shared by the unit tests and the fuzz targets. */
#ifndef SEALINIT_TESTUTIL_H
#define SEALINIT_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* 1 when all n bytes at p are zero: a parser that failed wiped its output. */
static inline int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

#endif
