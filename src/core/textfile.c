/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/textfile.h"

int si_textfile_read(const char *path, char *buf, size_t size, struct si_diag *d)
{
	size_t total = 0, limit = size ? size - 1 : 0;
	char *nul;
	int fd, r = 0;

	if (!size)
		return -EINVAL;
	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		si_diag_set(d, "%s: %s", path, strerror(-r));
		return r;
	}
	/* One byte past the limit tells "exactly the limit" from "more";
	 * /proc files have no size to ask for, so read rather than stat. */
	for (;;) {
		char extra;
		ssize_t n = total < limit ? read(fd, buf + total, limit - total) : read(fd, &extra, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			si_diag_set(d, "%s: reading: %s", path, strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		if (total == limit) {
			struct stat st;

			r = -EFBIG;
			if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size > limit)
				si_diag_set(d, "%s: %lld bytes, over the limit of %zu: refused whole rather "
					    "than cut (the keys after a cut would vanish)", path,
					    (long long)st.st_size, limit);
			else
				si_diag_set(d, "%s: more than the limit of %zu bytes: refused whole rather "
					    "than cut (the keys after a cut would vanish)", path, limit);
			goto out;
		}
		total += (size_t)n;
	}
	buf[total] = '\0';
	nul = memchr(buf, '\0', total);
	if (nul) {
		r = -EINVAL;
		si_diag_set(d, "%s: a NUL byte at offset %zu of %zu: not a text file (what follows "
			    "it would be ignored)", path, (size_t)(nul - buf), total);
		goto out;
	}
	r = (int)total;
out:
	if (r < 0)
		buf[0] = '\0';
	close(fd);
	return r;
}
