/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/kv.h"

int si_kv_str(char *dst, size_t size, const char *v)
{
	if (strlen(v) >= size)
		return -E2BIG;
	memset(dst, 0, size);
	memcpy(dst, v, strlen(v));
	return 0;
}

int si_kv_num(const char *v, long min, long max, long *out)
{
	char *end;
	long n;

	if (!*v || *v == '+' || *v == ' ')
		return -EINVAL;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

int si_kv_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

int si_kv_devspec(const char *v)
{
	static const char *const tags[] = { "PARTLABEL=", "PARTUUID=", "UUID=", "LABEL=" };
	size_t i;

	if (v[0] == '/')
		return 0;
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (strncmp(v, tags[i], strlen(tags[i])) == 0 && v[strlen(tags[i])])
			return 0;
	return -EINVAL;
}

bool si_kv_listed(const char *list, const char *seps, const char *key, size_t klen)
{
	const char *p = list;

	while (p && *p) {
		size_t n;

		p += strspn(p, seps);
		n = strcspn(p, seps);
		if (n && n == klen && !memcmp(p, key, n))
			return true;
		p += n;
	}
	return false;
}
