/* SPDX-License-Identifier: MIT */
/*
 * sealinit last-failure [--clear] [--json]: the record the boot stage
 * keeps of the last failed boot (core/failrec.h), read on the booted
 * system; --clear removes it once dealt with. The record is text the
 * booted system's root can write: it is printed only after the strict
 * parser took it, and its message is stored escaped (core/escape.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "core/errors.h"
#include "core/failrec.h"

#define EFIVARFS_MAGIC 0xde5e81e4

/* Where the variables are: $SEALINIT_EFIVARS (tests), else efivarfs at
 * its usual place, which must be mounted. */
static int efivars_dir(const char **dir)
{
	const char *env = getenv("SEALINIT_EFIVARS");
	struct statfs fs;
	struct stat sb;

	if (env && *env) {
		*dir = env;
		return 0;
	}
	*dir = SI_FAILREC_EFIVARS;
	if (stat("/sys/firmware/efi", &sb) < 0) {
		fprintf(stderr, "%s last-failure: this system did not boot through UEFI, so the boot "
			"stage keeps no failure record (docs/boot.md, \"When a device will not boot\")\n",
			prog);
		return 1;
	}
	if (statfs(SI_FAILREC_EFIVARS, &fs) < 0 || (unsigned long)fs.f_type != EFIVARFS_MAGIC) {
		fprintf(stderr, "%s last-failure: efivarfs is not mounted at " SI_FAILREC_EFIVARS
			" (mount -t efivarfs efivarfs " SI_FAILREC_EFIVARS ")\n", prog);
		return 1;
	}
	return 0;
}

static void print_json(const struct si_failrec *r, int have)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "recorded", json_object_new_boolean(have));
	if (have) {
		json_object_object_add(o, "failed", json_object_new_string(r->failed));
		json_object_object_add(o, "consecutive", json_object_new_int64(r->consecutive));
		json_object_object_add(o, "failures", json_object_new_int64(r->failures));
		json_object_object_add(o, "time", json_object_new_int64(r->time));
		json_object_object_add(o, "uptime_ms", json_object_new_int64(r->uptime_ms));
		json_object_object_add(o, "policy", json_object_new_string(r->policy));
		json_object_object_add(o, "version", json_object_new_string(r->version));
	}
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int last_failure_main(const struct cli_args *a)
{
	static struct si_failrec rec;
	struct si_diag d = { { 0 } };
	const char *dir;
	char path[4096], t[48];
	int r, have;

	r = efivars_dir(&dir);
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/" SI_FAILREC_VAR, dir);
	r = si_failrec_read(path, &rec, &d);
	if (r < 0 && r != -ENOENT) {
		fprintf(stderr, "%s last-failure: %s\n", prog, d.msg);
		/* A record nobody can read can still be cleared. */
		if (!a->clear)
			return EXIT_FAILURE;
	}
	have = r == 0;
	if (a->json)
		print_json(&rec, have);
	else if (!have && r == -ENOENT)
		printf("No failed boot recorded (no EFI variable " SI_FAILREC_VAR ")\n");
	else if (have)
		printf("Last failed boot: %s, after %u ms, sealinit %s, failure policy %s\n"
		       "  FAILED: %s\n"
		       "  failed boots in a row: %u%s\n"
		       "  failed boots recorded: %u\n",
		       si_failrec_when(rec.time, t, sizeof(t)), rec.uptime_ms, rec.version,
		       rec.policy, rec.failed, rec.consecutive,
		       rec.consecutive ? "" : " (a boot succeeded since)", rec.failures);
	if (!a->clear)
		return 0;
	r = si_failrec_clear(path, &d);
	if (r < 0 && r != -ENOENT) {
		fprintf(stderr, "%s last-failure --clear: %s\n", prog, d.msg);
		return EXIT_FAILURE;
	}
	if (!a->json)
		printf(r == 0 ? "Cleared the failure record\n" : "No failure record to clear\n");
	return 0;
}
