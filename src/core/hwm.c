/* SPDX-License-Identifier: MIT */
/*
 * The rollback counter's high-water mark in the data volume (hwm.h).
 * Files are opened relative to the volume's root without following
 * symbolic links: the mark is the volume's, never somewhere a link
 * points.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/escape.h"
#include "core/hwm.h"

int si_hwm_parse(const char *text, size_t len, uint64_t *value)
{
	uint64_t v = 0;
	size_t i;

	/* At least one digit and the newline; a leading zero only alone. */
	if (len < 2 || len > SI_HWM_TEXT_MAX || text[len - 1] != '\n' ||
	    (text[0] == '0' && len != 2))
		return -EBADMSG;
	for (i = 0; i + 1 < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -EBADMSG;
		if (v > (UINT64_C(0x7fffffffffffffff) - (uint64_t)(text[i] - '0')) / 10)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(text[i] - '0');
	}
	*value = v;
	return 0;
}

enum si_hwm_step si_hwm_verdict(bool have_mark, uint64_t mark, uint64_t counter)
{
	if (!have_mark || counter > mark)
		return SI_HWM_RAISE;
	return counter == mark ? SI_HWM_KEEP : SI_HWM_ROLLBACK;
}

void si_hwm_path(uint32_t index, char *buf, size_t size)
{
	snprintf(buf, size, SI_HWM_DIR "/" SI_HWM_PREFIX "0x%08" PRIx32, index);
}

static void file_name(uint32_t index, char *buf, size_t size)
{
	snprintf(buf, size, SI_HWM_PREFIX "0x%08" PRIx32, index);
}

/* The volume's root, then its .sealinit (created with create). */
static int open_dir(const char *root, bool create, struct si_diag *d)
{
	int rfd, fd, r;

	rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0) {
		r = -errno;
		si_diag_set(d, "%s: %s", root, strerror(-r));
		return r;
	}
	if (create && mkdirat(rfd, SI_HWM_DIR, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		si_diag_set(d, "%s: creating " SI_HWM_DIR ": %s", root, strerror(-r));
		close(rfd);
		return r;
	}
	if (create && fsync(rfd) < 0) {
		r = -errno;
		si_diag_set(d, "%s: syncing after creating " SI_HWM_DIR ": %s", root, strerror(-r));
		close(rfd);
		return r;
	}
	fd = openat(rfd, SI_HWM_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	r = -errno;
	close(rfd);
	if (fd >= 0)
		return fd;
	if (r == -ENOENT)
		return r;
	if (r == -ELOOP || r == -ENOTDIR) {
		si_diag_set(d, "%s/" SI_HWM_DIR " is not a directory (a symbolic link, or a file)",
			    root);
		return -EBADMSG;
	}
	si_diag_set(d, "%s/" SI_HWM_DIR ": %s", root, strerror(-r));
	return r;
}

int si_hwm_read(const char *root, uint32_t index, uint64_t *value, struct si_diag *d)
{
	char name[32], text[SI_HWM_TEXT_MAX + 2], shown[4 * sizeof(text) + 8];
	struct stat st;
	ssize_t n;
	int dfd, fd, r;

	file_name(index, name, sizeof(name));
	dfd = open_dir(root, false, d);
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	r = fd < 0 ? -errno : 0;
	close(dfd);
	if (r == -ENOENT)
		return r;
	if (r == -ELOOP) {
		si_diag_set(d, "%s/" SI_HWM_DIR "/%s is a symbolic link, expected the mark itself",
			    root, name);
		return -EBADMSG;
	}
	if (r < 0) {
		si_diag_set(d, "%s/" SI_HWM_DIR "/%s: %s", root, name, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		si_diag_set(d, "%s/" SI_HWM_DIR "/%s is not a regular file", root, name);
		return -EBADMSG;
	}
	/* One read: a file of at most SI_HWM_TEXT_MAX bytes comes whole; one
	 * byte more says it is longer than any mark. */
	do
		n = read(fd, text, sizeof(text) - 1);
	while (n < 0 && errno == EINTR);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0) {
		si_diag_set(d, "%s/" SI_HWM_DIR "/%s: reading: %s", root, name, strerror(-r));
		return r;
	}
	if (si_hwm_parse(text, (size_t)n, value) < 0) {
		si_escape_mem(shown, sizeof(shown), text, (size_t)n > SI_HWM_TEXT_MAX ?
			      SI_HWM_TEXT_MAX : (size_t)n);
		si_diag_set(d, "%s/" SI_HWM_DIR "/%s holds `%s'%s (%lld bytes), expected a counter "
			    "value: decimal digits and a newline", root, name, shown,
			    (size_t)n > SI_HWM_TEXT_MAX ? "..." : "", (long long)st.st_size);
		return -EBADMSG;
	}
	return 0;
}

int si_hwm_write(const char *root, uint32_t index, uint64_t value, struct si_diag *d)
{
	char name[32], tmp[40], text[SI_HWM_TEXT_MAX + 1];
	int dfd, fd = -1, n, r = 0;
	const char *what, *file = tmp;

	file_name(index, name, sizeof(name));
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	n = snprintf(text, sizeof(text), "%" PRIu64 "\n", value);
	if (value > UINT64_C(0x7fffffffffffffff) || n < 2 || n >= (int)sizeof(text))
		return -EINVAL;
	dfd = open_dir(root, true, d);
	if (dfd < 0)
		return dfd;
	/* A temporary file left by a power cut is replaced (O_TRUNC). */
	what = "creating";
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	what = "writing";
	errno = EIO;  /* a short write sets none */
	if (fchmod(fd, 0600) < 0 || write(fd, text, (size_t)n) != n)
		goto fail;
	what = "syncing";
	if (fsync(fd) < 0)
		goto fail;
	what = "closing";
	r = close(fd);
	fd = -1;
	if (r < 0)
		goto fail;
	what = "renaming it over the mark";
	if (renameat(dfd, tmp, dfd, name) < 0)
		goto fail;
	what = "syncing the directory after renaming";
	file = name;
	if (fsync(dfd) < 0)
		goto fail;
	close(dfd);
	return 0;
fail:
	r = errno ? -errno : -EIO;
	si_diag_set(d, "%s/" SI_HWM_DIR "/%s: %s: %s", root, file, what, strerror(-r));
	if (fd >= 0)
		close(fd);
	unlinkat(dfd, tmp, 0);
	close(dfd);
	return r;
}

int si_hwm_check(const char *root, uint32_t index, uint64_t counter, struct si_hwm_result *res,
		 struct si_diag *d)
{
	char path[64];
	int r;

	memset(res, 0, sizeof(*res));
	si_hwm_path(index, path, sizeof(path));
	r = si_hwm_read(root, index, &res->mark, d);
	if (r < 0 && r != -ENOENT)
		return r;
	res->had = r == 0;
	switch (si_hwm_verdict(res->had, res->mark, counter)) {
	case SI_HWM_KEEP:
		return 0;
	case SI_HWM_ROLLBACK:
		si_diag_set(d, "the TPM's rollback counter 0x%08" PRIx32 " is %" PRIu64 ", below the "
			    "%" PRIu64 " the data volume recorded in %s/%s: the TPM's store was "
			    "rolled back (a restored copy), and a revoked signature may have "
			    "unlocked", index, counter, res->mark, root, path);
		return -ESTALE;
	case SI_HWM_RAISE:
		break;
	}
	r = si_hwm_write(root, index, counter, d);
	if (r < 0)
		return r;
	res->written = true;
	return 0;
}

int si_hwm_raise(const char *root, uint32_t index, uint64_t value, struct si_hwm_result *res,
		 struct si_diag *d)
{
	int r;

	memset(res, 0, sizeof(*res));
	r = si_hwm_read(root, index, &res->mark, d);
	if (r < 0 && r != -ENOENT && r != -EBADMSG)
		return r;
	res->had = r == 0;
	if (res->had && res->mark >= value)
		return 0;
	r = si_hwm_write(root, index, value, d);
	if (r < 0)
		return r;
	res->written = true;
	return 0;
}

/* Field i (0-based, space-separated) of the line [p, end), unescaped into
 * out; false when there is no such field or it does not fit. */
static bool field(const char *p, const char *end, int i, char *out, size_t size)
{
	size_t n = 0;

	while (i-- > 0) {
		while (p < end && *p != ' ')
			p++;
		if (p == end)
			return false;
		p++;
	}
	while (p < end && *p != ' ') {
		char ch = *p++;

		if (ch == '\\' && end - p >= 3 && p[0] >= '0' && p[0] <= '3' && p[1] >= '0' &&
		    p[1] <= '7' && p[2] >= '0' && p[2] <= '7') {
			ch = (char)((p[0] - '0') * 64 + (p[1] - '0') * 8 + (p[2] - '0'));
			p += 3;
		}
		if (n + 1 >= size)
			return false;
		out[n++] = ch;
	}
	out[n] = '\0';
	return n > 0;
}

bool si_hwm_mounted(const char *mountinfo, const char *mnt, const char *source)
{
	static char point[4096], src[4096];
	const char *p = mountinfo, *end, *sep;
	bool found = false;

	for (; *p; p = *end ? end + 1 : end) {
		end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		/* The optional fields end at " - ": fstype, then the source. */
		sep = strstr(p, " - ");
		if (!sep || sep >= end || !field(p, end, 4, point, sizeof(point)) ||
		    strcmp(point, mnt))
			continue;
		found = field(sep + 3, end, 1, src, sizeof(src)) && !strcmp(src, source);
	}
	return found;
}
