/* SPDX-License-Identifier: MIT */
/*
 * Driver for tests/host/escrow.sh: what provisioning does with the
 * recovery key, alone: si_escrow_seal to PUB.pem, then si_escrow_write
 * into DIR. The key comes on standard input (never argv). Prints the
 * file's path; on failure the diag, and exits 1.
 *
 *   escrow_seal PUB.pem UUID VOLUME_ID DIR < KEY
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/escrow.h"
#include "core/secret.h"

int main(int argc, char **argv)
{
	static char pem[SI_ESCROW_PEM_MAX + 1];
	struct si_diag d = { { 0 } };
	char *key, *json = NULL, path[512];
	size_t n;
	FILE *f;
	int r;

	if (argc != 5)
		return 2;
	f = fopen(argv[1], "r");
	if (!f)
		return 2;
	n = fread(pem, 1, sizeof(pem), f);
	fclose(f);
	key = si_secret_alloc(256);
	if (!key)
		return 1;
	if (!fgets(key, 256, stdin))
		key[0] = '\0';
	r = si_escrow_seal(pem, n, key, argv[2], argv[3], &json, &d);
	si_secret_free(key);
	if (r == 0)
		r = si_escrow_write(argv[4], argv[2], json, path, sizeof(path), &d);
	free(json);
	if (r < 0) {
		fprintf(stderr, "escrow_seal: %s (%s)\n", d.msg, si_strerror(r));
		return 1;
	}
	printf("%s\n", path);
	return 0;
}
