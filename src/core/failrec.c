/* SPDX-License-Identifier: MIT */
/*
 * The last failed boot as a record (failrec.h): its text, a strict parser
 * for it (the booted system's root can write the variable, and the next
 * boot reads it before anything else), the backoff of a reboot loop, and
 * the EFI variable that holds it, through efivarfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/escape.h"
#include "core/failrec.h"

#define MAGIC "sealinit-failure 1"

static const char *const policies[] = { "poweroff", "halt", "reboot", "shell" };

int si_failrec_format(const struct si_failrec *r, char *buf, size_t size)
{
	/* Escaped, it must still fit the parser's field: cut at a whole
	 * escape or UTF-8 sequence and say so. The cause's start is what
	 * names it. */
	char failed[SI_FAILREC_MSG];
	int n;

	if (!si_escape(failed, sizeof(failed) - 3, r->failed))
		strcat(failed, "...");
	n = snprintf(buf, size,
		     MAGIC "\nconsecutive=%" PRIu32 "\nfailures=%" PRIu32 "\ntime=%" PRId64
		     "\nuptime_ms=%" PRIu32 "\npolicy=%s\nversion=%s\nfailed=%s\n",
		     r->consecutive, r->failures, r->time, r->uptime_ms, r->policy, r->version, failed);
	if (n < 0 || (size_t)n >= size || n > SI_FAILREC_MAX)
		return -E2BIG;
	return n;
}

static int num(const char *v, size_t len, int64_t min, int64_t max, int64_t *out)
{
	char tmp[24], *end;
	long long n;

	if (!len || len >= sizeof(tmp) || (v[0] == '0' && len > 1))
		return -EINVAL;
	memcpy(tmp, v, len);
	tmp[len] = '\0';
	if (tmp[0] != '-' && (tmp[0] < '0' || tmp[0] > '9'))
		return -EINVAL;
	errno = 0;
	n = strtoll(tmp, &end, 10);
	if (errno || *end || n < min || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

enum { K_CONSECUTIVE, K_FAILURES, K_TIME, K_UPTIME, K_POLICY, K_VERSION, K_FAILED, K_COUNT };
static const char *const keys[K_COUNT] = {
	"consecutive", "failures", "time", "uptime_ms", "policy", "version", "failed"
};

static int parse_value(int k, const char *v, size_t vl, struct si_failrec *r)
{
	int64_t n = 0;
	size_t i;

	switch (k) {
	case K_CONSECUTIVE:
	case K_FAILURES:
	case K_UPTIME:
		if (num(v, vl, 0, UINT32_MAX, &n) < 0)
			return -EINVAL;
		*(k == K_CONSECUTIVE ? &r->consecutive : k == K_FAILURES ? &r->failures :
		  &r->uptime_ms) = (uint32_t)n;
		return 0;
	case K_TIME:
		if (num(v, vl, 0, INT64_MAX, &n) < 0)
			return -EINVAL;
		r->time = n;
		return 0;
	case K_POLICY:
		for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
			if (strlen(policies[i]) == vl && !memcmp(v, policies[i], vl)) {
				memcpy(r->policy, v, vl);
				r->policy[vl] = '\0';
				return 0;
			}
		return -EINVAL;
	case K_VERSION:
		if (!vl || vl >= sizeof(r->version))
			return -EINVAL;
		for (i = 0; i < vl; i++)
			if (v[i] <= ' ' || v[i] > '~')
				return -EINVAL;
		memcpy(r->version, v, vl);
		r->version[vl] = '\0';
		return 0;
	default:
		/* Stored escaped: printable as it is, on one line. */
		if (vl >= sizeof(r->failed) || !si_escape_clean(v, vl))
			return -EINVAL;
		memcpy(r->failed, v, vl);
		r->failed[vl] = '\0';
		return 0;
	}
}

static const char *expect_of(int k)
{
	switch (k) {
	case K_CONSECUTIVE: case K_FAILURES: case K_UPTIME:
		return "a decimal number 0-4294967295";
	case K_TIME:
		return "seconds since 1970, decimal";
	case K_POLICY:
		return "poweroff, halt, reboot or shell";
	case K_VERSION:
		return "1-31 printable characters, no space";
	default:
		return "printable text on one line, at most 599 bytes";
	}
}

int si_failrec_parse(const char *text, size_t len, struct si_failrec *r, struct si_diag *d)
{
	const char *p = text, *end = text + len;
	unsigned int seen = 0;
	int line = 1, k;

	memset(r, 0, sizeof(*r));
	if (len > SI_FAILREC_MAX) {
		si_diag_set(d, "the failure record is %zu bytes, expected at most %d", len,
			    SI_FAILREC_MAX);
		return -EINVAL;
	}
	if (len < sizeof(MAGIC) - 1 || memcmp(text, MAGIC, sizeof(MAGIC) - 1) ||
	    (len > sizeof(MAGIC) - 1 && text[sizeof(MAGIC) - 1] != '\n')) {
		si_diag_set(d, "the failure record does not start with `" MAGIC "'");
		return -EINVAL;
	}
	p += sizeof(MAGIC);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eq;
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);

		line++;
		eq = memchr(p, '=', ll);
		for (k = 0; eq && k < K_COUNT; k++)
			if (strlen(keys[k]) == (size_t)(eq - p) && !memcmp(p, keys[k], (size_t)(eq - p)))
				break;
		if (!eq || k == K_COUNT) {
			si_diag_set(d, "failure record line %d: `%.*s': expected KEY=VALUE with KEY one "
				    "of consecutive, failures, time, uptime_ms, policy, version, failed",
				    line, (int)(ll > 40 ? 40 : ll), si_escape_clean(p, ll) ? p : "?");
			return -EINVAL;
		}
		if (seen & (1u << k)) {
			si_diag_set(d, "failure record line %d: `%s' given twice", line, keys[k]);
			return -EINVAL;
		}
		seen |= 1u << k;
		if (parse_value(k, eq + 1, ll - (size_t)(eq + 1 - p), r) < 0) {
			si_diag_set(d, "failure record line %d: bad %s value (expected %s)", line, keys[k],
				    expect_of(k));
			return -EINVAL;
		}
		p += ll + (nl ? 1 : 0);
	}
	for (k = 0; k < K_COUNT; k++)
		if (!(seen & (1u << k))) {
			si_diag_set(d, "the failure record has no `%s' line", keys[k]);
			return -EINVAL;
		}
	return 0;
}

const char *si_failrec_when(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, size, "time unknown (the clock was not set)");
	return buf;
}

void si_failrec_next(const struct si_failrec *prev, struct si_failrec *next)
{
	memset(next, 0, sizeof(*next));
	next->consecutive = prev && prev->consecutive < UINT32_MAX ? prev->consecutive + 1 :
			    prev ? UINT32_MAX : 1;
	next->failures = prev && prev->failures < UINT32_MAX ? prev->failures + 1 :
			 prev ? UINT32_MAX : 1;
}

int si_failrec_delay(int failure_delay_s, uint32_t consecutive)
{
	long long delay = failure_delay_s;
	uint32_t i;

	if (failure_delay_s <= 0)
		return 0;
	if (failure_delay_s >= SI_FAILREC_DELAY_MAX)
		return failure_delay_s;
	for (i = 1; i < consecutive && delay < SI_FAILREC_DELAY_MAX; i++)
		delay *= 2;
	return delay > SI_FAILREC_DELAY_MAX ? SI_FAILREC_DELAY_MAX : (int)delay;
}

int si_failrec_read(const char *path, struct si_failrec *r, struct si_diag *d)
{
	char buf[4 + SI_FAILREC_MAX + 1];
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), e;

	if (fd < 0) {
		e = errno;
		if (e != ENOENT)
			si_diag_set(d, "%s: %s", path, strerror(e));
		return -e;
	}
	while ((size_t)total < sizeof(buf)) {
		n = read(fd, buf + total, sizeof(buf) - (size_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
	}
	e = n < 0 ? errno : 0;
	close(fd);
	if (e) {
		si_diag_set(d, "reading %s: %s", path, strerror(e));
		return -e;
	}
	if (total < 4 || (size_t)total > 4 + SI_FAILREC_MAX) {
		si_diag_set(d, "%s holds %zd bytes, expected 4 bytes of attributes and at most %d of "
			    "record", path, total, SI_FAILREC_MAX);
		return -EINVAL;
	}
	return si_failrec_parse(buf + 4, (size_t)total - 4, r, d);
}

/* efivarfs makes a variable it does not know immutable (chattr +i), so
 * that `rm -rf /sys' cannot brick a machine: lift the flag for the change
 * and put it back, as systemd's efi_set_variable does. */
static int immutable(const char *path, unsigned int *saved, int set)
{
	unsigned int flags;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), r = 0;

	if (fd < 0)
		return -errno;
	if (!set) {
		if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
			r = -errno;
		else if ((*saved = flags) & FS_IMMUTABLE_FL) {
			flags &= ~FS_IMMUTABLE_FL;
			if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
				r = -errno;
		}
	} else if (*saved & FS_IMMUTABLE_FL) {
		flags = *saved;
		if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
			r = -errno;
	}
	close(fd);
	return r;
}

int si_failrec_write(const char *path, const struct si_failrec *r, struct si_diag *d)
{
	char buf[4 + SI_FAILREC_MAX + 1];
	uint32_t attrs = SI_FAILREC_ATTRS;
	unsigned int saved = 0;
	int n, fd, e = 0;
	ssize_t w;

	n = si_failrec_format(r, buf + 4, sizeof(buf) - 4);
	if (n < 0) {
		si_diag_set(d, "the failure record does not fit in %d bytes", SI_FAILREC_MAX);
		return n;
	}
	/* Little-endian on both arches, as the UEFI ABI is. */
	memcpy(buf, &attrs, 4);
	(void)immutable(path, &saved, 0);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		e = errno;
		si_diag_set(d, "creating %s: %s", path, strerror(e));
		return -e;
	}
	/* One write: efivarfs sets the variable per write() call. */
	w = write(fd, buf, (size_t)n + 4);
	if (w < 0)
		e = errno;
	else if (w != n + 4)
		e = EIO;
	if (close(fd) < 0 && !e)
		e = errno;
	(void)immutable(path, &saved, 1);
	if (e) {
		si_diag_set(d, "writing %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

int si_failrec_clear(const char *path, struct si_diag *d)
{
	unsigned int saved = 0;
	int e;

	(void)immutable(path, &saved, 0);
	if (unlink(path) == 0)
		return 0;
	e = errno;
	if (e != ENOENT) {
		si_diag_set(d, "removing %s: %s", path, strerror(e));
		(void)immutable(path, &saved, 1);
	}
	return -e;
}
