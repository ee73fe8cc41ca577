/* SPDX-License-Identifier: MIT */
/*
 * sealinit escrow-open: the recovery key of an escrowed document, for
 * whoever holds the fleet's escrow key and recovers a device
 * (docs/fleet.md). The key goes to standard output, because the operator
 * asked for it, straight from locked memory; which volume it opens goes
 * to standard error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "core/errors.h"
#include "core/escrow.h"
#include "core/secret.h"
#include "core/textfile.h"

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

int escrow_open_main(const struct cli_args *a)
{
	static char json[SI_ESCROW_JSON_MAX + 2];
	struct si_escrow_doc doc;
	struct si_diag d = { { 0 } };
	char *key = NULL, *recovery = NULL;
	size_t key_len = 0;
	int r, rc = 1;

	if (!a->key)
		return usage_error("escrow-open", "%s", "--key PRIVATE.pem is needed");
	if (a->argc != 1)
		return usage_error("escrow-open", "%s", "expected one FILE, the escrow document");

	r = si_textfile_read(a->argv[0], json, sizeof(json), &d);
	if (r < 0) {
		fprintf(stderr, "%s escrow-open: %s\n", prog, d.msg);
		return 1;
	}
	key = si_secret_alloc(KEYFILE_MAX);
	recovery = si_secret_alloc(SI_RECOVERY_LEN + 2);
	if (!key || !recovery) {
		rc = fail("escrow-open", -ENOMEM, NULL);
		goto out;
	}
	r = read_key_file(a->key, key, KEYFILE_MAX, &key_len);
	if (r < 0) {
		fprintf(stderr, "%s escrow-open: cannot read --key `%s': %s\n", prog, a->key,
			r == -ENODATA ? "empty file" : strerror(-r));
		goto out;
	}
	r = si_escrow_open(key, key_len, json, recovery, &d);
	si_secret_free(key);
	key = NULL;
	if (r < 0) {
		fprintf(stderr, "%s escrow-open: `%s': %s\n", prog,
			r == -EINVAL ? a->key : a->argv[0], d.msg);
		goto out;
	}
	/* The fields si_escrow_open just compared with the sealed ones. */
	if (si_escrow_parse(json, &doc, &d) < 0)
		goto out;
	fprintf(stderr, "uuid %s volume_id %s\n", doc.uuid, doc.volume_id);
	recovery[SI_RECOVERY_LEN] = '\n';
	if (write_all(STDOUT_FILENO, recovery, SI_RECOVERY_LEN + 1) < 0) {
		fprintf(stderr, "%s escrow-open: writing the key: %s\n", prog, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	si_secret_free(key);
	si_secret_free(recovery);
	return rc;
}
