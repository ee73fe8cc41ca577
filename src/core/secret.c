/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "core/secret.h"

/* The mapping starts with this header; the caller's buffer follows it. */
struct secret_hdr {
	size_t map_size;
	size_t size;
};

#define HDR_SIZE ((sizeof(struct secret_hdr) + 15) & ~(size_t)15)

void *si_secret_alloc(size_t size)
{
	size_t map_size = (HDR_SIZE + size + 4095) & ~(size_t)4095;
	struct secret_hdr *h;

	h = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		return NULL;
	/* A secret that cannot be locked could reach swap: refuse it. */
	if (mlock(h, map_size) < 0) {
		munmap(h, map_size);
		return NULL;
	}
	(void)madvise(h, map_size, MADV_DONTDUMP);
	h->map_size = map_size;
	h->size = size;
	return (char *)h + HDR_SIZE;
}

void si_secret_free(void *p)
{
	struct secret_hdr *h;
	size_t map_size;

	if (!p)
		return;
	h = (struct secret_hdr *)((char *)p - HDR_SIZE);
	map_size = h->map_size;
	explicit_bzero(h, map_size);
	munlock(h, map_size);
	munmap(h, map_size);
}

void si_wipe(void *p, size_t size)
{
	if (p)
		explicit_bzero(p, size);
}

bool si_memeq(const void *a, const void *b, size_t size)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < size; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}
