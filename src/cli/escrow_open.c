/* SPDX-License-Identifier: MIT */
/*
 * sealinit escrow-open: the recovery key of an escrowed document, for
 * whoever holds the fleet's escrow key and recovers a device
 * (docs/fleet.md). FILE is one document (a file from the fleet server) or
 * an escrow medium, where the boot writes one document per slot
 * (core/escrow.h); a one-document file is a medium of one slot. The key goes
 * to standard output, because the operator asked for it, straight from
 * locked memory; which volume it opens goes to standard error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "core/errors.h"
#include "core/escrow.h"
#include "core/secret.h"

#define CMD "escrow-open"

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t k = write(fd, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -errno;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* Up to size bytes, fewer only at the end: the count, or -errno. */
static ssize_t read_slot(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		ssize_t k = read(fd, buf + got, size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static bool zero(const char *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/*
 * The slot to open: the last document sealed to this key (fp) for uuid, or,
 * without a uuid, for the only volume such documents name. Every slot is
 * read, its document parsed (a slot cut by a power cut, or not a document,
 * is named and skipped), up to the first empty slot: the boot fills them
 * in order. Returns the slot, -1 after saying why none (*rc the exit code).
 */
static long pick(int fd, const char *path, const char *fp, const char *uuid, char *text,
		 int *rc)
{
	static char buf[SI_ESCROW_SLOT + 1];
	struct si_escrow_doc doc;
	static char seen[16][SI_ESCROW_UUID_LEN + 1];
	long slot, found = -1, docs = 0, mine = 0;
	size_t nseen = 0, i;

	*rc = 1;
	for (slot = 0; slot < (long)(SI_ESCROW_SPAN / SI_ESCROW_SLOT); slot++) {
		struct si_diag d = { { 0 } };
		ssize_t n = read_slot(fd, buf, SI_ESCROW_SLOT);

		if (n < 0) {
			fprintf(stderr, "%s %s: reading `%s': %s\n", prog, CMD, path, strerror((int)-n));
			return -1;
		}
		if (n == 0 || zero(buf, (size_t)n))
			break;
		buf[n] = '\0';
		docs++;
		if (si_escrow_parse(buf, &doc, &d) < 0) {
			fprintf(stderr, "%s %s: `%s' slot %ld skipped: %s\n", prog, CMD, path, slot,
				d.msg);
			continue;
		}
		if (strcmp(doc.key_fp, fp))
			continue;
		mine++;
		if (uuid && strcasecmp(doc.uuid, uuid))
			continue;
		for (i = 0; i < nseen && strcmp(seen[i], doc.uuid); i++)
			;
		if (i == nseen && nseen < 16)
			memcpy(seen[nseen++], doc.uuid, SI_ESCROW_UUID_LEN + 1);
		found = slot;
		strcpy(text, buf);
		if ((size_t)n < SI_ESCROW_SLOT)
			break;
	}
	if (!uuid && nseen > 1) {
		fprintf(stderr, "%s %s: `%s' holds documents for several volumes; name one "
			"(escrow-open --key PEM FILE UUID, the UUID cryptsetup luksUUID prints):",
			prog, CMD, path);
		for (i = 0; i < nseen; i++)
			fprintf(stderr, " %s", seen[i]);
		fprintf(stderr, "\n");
		*rc = EXIT_USAGE;
		return -1;
	}
	if (found < 0)
		fprintf(stderr, "%s %s: `%s': no escrow document%s%s sealed to this key "
			"(key_fp %s) among %ld document%s (%ld sealed to it)\n", prog, CMD, path,
			uuid ? " for " : "", uuid ? uuid : "", fp, docs, docs == 1 ? "" : "s", mine);
	return found;
}

int escrow_open_main(const struct cli_args *a)
{
	static char text[SI_ESCROW_SLOT + 1];
	struct si_escrow_doc doc;
	struct si_diag d = { { 0 } };
	char *key = NULL, *recovery = NULL, fp[65];
	const char *uuid = a->argc > 1 ? a->argv[1] : NULL;
	size_t key_len = 0;
	long slot;
	int fd = -1, r, rc = 1;

	if (!a->key)
		return usage_error(CMD, "%s", "--key PRIVATE.pem is needed");
	if (a->argc < 1 || a->argc > 2)
		return usage_error(CMD, "%s", "expected FILE (a document or an escrow medium), "
				   "and the volume's UUID if FILE holds several");

	key = si_secret_alloc(KEYFILE_MAX);
	recovery = si_secret_alloc(SI_RECOVERY_LEN + 2);
	if (!key || !recovery) {
		rc = fail(CMD, -ENOMEM, NULL);
		goto out;
	}
	r = read_key_file(a->key, key, KEYFILE_MAX, &key_len);
	if (r < 0) {
		fprintf(stderr, "%s %s: cannot read --key `%s': %s\n", prog, CMD, a->key,
			r == -ENODATA ? "empty file" : strerror(-r));
		goto out;
	}
	if (si_escrow_key_fp(key, key_len, fp, &d) < 0) {
		fprintf(stderr, "%s %s: `%s': %s\n", prog, CMD, a->key, d.msg);
		goto out;
	}
	fd = open(a->argv[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s %s: `%s': %s\n", prog, CMD, a->argv[0], strerror(errno));
		goto out;
	}
	slot = pick(fd, a->argv[0], fp, uuid, text, &rc);
	if (slot < 0)
		goto out;
	rc = 1;
	r = si_escrow_open(key, key_len, text, recovery, &d);
	si_secret_free(key);
	key = NULL;
	if (r < 0) {
		fprintf(stderr, "%s %s: `%s' slot %ld: %s\n", prog, CMD, a->argv[0], slot, d.msg);
		goto out;
	}
	/* The fields si_escrow_open just compared with the sealed ones. */
	if (si_escrow_parse(text, &doc, &d) < 0)
		goto out;
	fprintf(stderr, "uuid %s volume_id %s\n", doc.uuid, doc.volume_id);
	recovery[SI_RECOVERY_LEN] = '\n';
	if (write_all(STDOUT_FILENO, recovery, SI_RECOVERY_LEN + 1) < 0) {
		fprintf(stderr, "%s %s: writing the key: %s\n", prog, CMD, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	si_secret_free(key);
	si_secret_free(recovery);
	return rc;
}
