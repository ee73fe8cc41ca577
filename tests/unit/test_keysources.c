/* SPDX-License-Identifier: MIT */
/* The boot's decisions about the TPM, on facts: may the network unlock
 * (boot/keysources.c), may the command line keep the TPM's driver from
 * loading (boot/measure.c), and the file-only key that lets a locked-down
 * boot use a token without a pinned storage key (core/bootcfg.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "boot/keysources.h"
#include "boot/measure.h"
#include "core/bootcfg.h"
#include "core/errors.h"

struct fallback_case {
	const char *what;
	struct keysources_facts f;
	int want;           /* 0: the network, 1: nothing to try, <0: refused */
	const char *msg;    /* in the diag */
};

/* The attack (rows "token, no TPM"), its controls ("no token, no TPM",
 * "token, TPM: no token type found"), and every earlier rule. */
static const struct fallback_case fallback_cases[] = {
	{ "no legacy source", { .legacy = false, .tpm = TPM_ABSENT, .tokens = 1, .token_ids = "0" },
	  1, "not configured" },
	{ "no TPM appeared, the volume has no TPM token: a device without a TPM",
	  { .legacy = true, .tpm = TPM_ABSENT, .tpm_wait_ms = 10000, .tpm_result = -SI_ENOTPM },
	  0, NULL },
	{ "no TPM appeared, the volume has token 0: the TPM was kept away",
	  { .legacy = true, .tpm = TPM_ABSENT, .tpm_wait_ms = 1, .tpm_result = -SI_ENOTPM,
	    .tokens = 1, .token_ids = "0" },
	  -SI_ENOTPM, "the data volume has TPM token(s) 0 but no TPM appeared within 1 ms; "
		      "refusing the network fallback" },
	{ "no TPM appeared, legacy first (keysources=legacy,tpm2), token 0 and 2",
	  { .legacy = true, .tpm = TPM_ABSENT, .tpm_wait_ms = 3000, .tokens = 2, .token_ids = "0, 2" },
	  -SI_ENOTPM, "TPM token(s) 0, 2 but no TPM appeared within 3000 ms" },
	{ "no TPM appeared, the header cannot be read",
	  { .legacy = true, .tpm = TPM_ABSENT, .tpm_wait_ms = 3000, .tpm_result = -SI_ENOTPM,
	    .tokens = -1 },
	  -SI_ENOTPM, "header cannot be read" },
	{ "TPM there, no systemd-tpm2 token: the coexistence setting",
	  { .legacy = true, .tpm = TPM_PRESENT, .tpm_result = -SI_ENOTOKEN, .tokens = 0 },
	  0, NULL },
	{ "TPM there, legacy first: the builder's order",
	  { .legacy = true, .tpm = TPM_PRESENT, .tpm_result = 0, .tokens = 1, .token_ids = "0" },
	  0, NULL },
	{ "TPM there, policy mismatch",
	  { .legacy = true, .tpm = TPM_PRESENT, .tpm_result = -SI_EPOLICY },
	  -SI_ENOTPM, "not tried: the TPM refused this boot" },
	{ "TPM there, then it stopped answering",
	  { .legacy = true, .tpm = TPM_PRESENT, .tpm_result = -SI_ENOTPM },
	  -SI_ENOTPM, "not tried: the TPM refused this boot" },
	{ "TPM there, every token refused at boot (malformed, uncapped PCRs)",
	  { .legacy = true, .tpm = TPM_PRESENT, .tpm_result = -SI_EBADTOKEN },
	  -SI_ENOTPM, "not tried" },
	{ "TPM there, unpinned storage key refused",
	  { .legacy = true, .tpm = TPM_PRESENT, .tpm_result = -SI_ESRK },
	  -SI_ENOTPM, "not tried" },
	{ "TPM there, no PIN typed",
	  { .legacy = true, .tpm = TPM_PRESENT, .tpm_result = -SI_ENOPIN },
	  -SI_ENOTPM, "not tried" },
	{ "keysources=legacy: no TPM looked for, by configuration",
	  { .legacy = true, .tpm = TPM_UNUSED, .tokens = 0 },
	  0, NULL },
	{ "legacy first, TPM not looked for yet (measure=none)",
	  { .legacy = true, .tpm = TPM_UNKNOWN },
	  0, NULL },
};

static void test_fallback_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fallback_cases) / sizeof(fallback_cases[0]); i++) {
		const struct fallback_case *t = &fallback_cases[i];
		struct si_diag d = { { 0 } };
		int r = keysources_fallback_verdict(&t->f, &d);

		if (r != t->want || (t->msg && !strstr(d.msg, t->msg)))
			fail_msg("%s: got %d `%s', want %d `%s'", t->what, r, d.msg, t->want,
				 t->msg ? t->msg : "");
	}
}

struct driver_case {
	const char *cmdline;
	int want;
	const char *msg;
};

/* Lines may name what they need after a ':' (mkinitramfs's lists): the
 * module is the path before it, not the last path of the line. */
static const char modules[] =
	"/lib/modules/6.1.0/kernel/drivers/char/tpm/tpm.ko:\n"
	"/lib/modules/6.1.0/kernel/drivers/char/tpm/tpm_tis_core.ko: "
	"/lib/modules/6.1.0/kernel/drivers/char/tpm/tpm.ko\n"
	"/lib/modules/6.1.0/kernel/drivers/char/tpm/tpm_tis.ko.xz: "
	"/lib/modules/6.1.0/kernel/drivers/char/tpm/tpm_tis_core.ko "
	"/lib/modules/6.1.0/kernel/drivers/char/tpm/tpm.ko\n"
	"/lib/modules/6.1.0/kernel/drivers/md/dm-crypt.ko\n"
	"\n"
	"/lib/modules/6.1.0/kernel/drivers/char/tpm/tpm_ftpm_tee.ko.zst\n";

static const struct driver_case driver_cases[] = {
	/* Controls: the genuine command line, other modules, look-alikes. */
	{ "console=ttyAMA0 root=/dev/vda ro sealinit.loglevel=7", 0, NULL },
	{ "module_blacklist=nouveau,snd_hda_intel", 0, NULL },
	{ "modprobe.blacklist=tpm_tis_spi", 0, NULL },
	{ "module_blacklist=tpm_ti", 0, NULL },
	{ "foo.module_blacklist=tpm_tis", 0, NULL },
	{ "module_blacklist", 0, NULL },
	{ "", 0, NULL },
	/* The attacks. */
	{ "quiet module_blacklist=tpm_tis", -EPERM,
	  "`module_blacklist=tpm_tis': refused, this build is locked down; it keeps the "
	  "initramfs's module tpm_tis from loading" },
	{ "module_blacklist=nouveau,tpm_ftpm_tee", -EPERM, "module tpm_ftpm_tee" },
	{ "modprobe.blacklist=tpm", -EPERM, "module tpm from" },
	{ "module-blacklist=tpm-tis-core", -EPERM, "module tpm_tis_core" },
	{ "\"module_blacklist=tpm_tis\"", -EPERM, "module tpm_tis from" },
	{ "module_blacklist=\"dm-crypt\"", -EPERM, "module dm_crypt" },
	/* Split by the measurement's splitter, which refuses these bytes. */
	{ "ro\vmodule_blacklist=tpm_tis", -EINVAL, "byte 0x0b at offset 2" },
	{ "ro\xa0module_blacklist=tpm_tis", -EINVAL, "byte 0xa0 at offset 2" },
	{ "initcall_blacklist=init_tis", -EPERM,
	  "`initcall_blacklist=init_tis': refused, this build is locked down" },
	{ "initcall-blacklist=optee_driver_init", -EPERM, "initcall_blacklist" },
};

static void test_driver_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(driver_cases) / sizeof(driver_cases[0]); i++) {
		const struct driver_case *t = &driver_cases[i];
		struct si_diag d = { { 0 } };
		int r = measure_driver_verdict(t->cmdline, modules, &d);

		if (r != t->want || (t->msg && !strstr(d.msg, t->msg)))
			fail_msg("`%s': got %d `%s', want %d `%s'", t->cmdline, r, d.msg, t->want,
				 t->msg ? t->msg : "");
	}
}

/* tpm2_transient_primary: from the file, never from the command line, and
 * in the measured form only when set. */
static void test_transient_primary_key(void **state)
{
	static struct si_bootcfg c;
	static char buf[16384];
	struct si_diag d = { { 0 } };

	(void)state;
	si_bootcfg_defaults(&c);
	assert_false(c.tpm2_transient_primary);
	assert_int_equal(si_bootcfg_format(&c, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "tpm2_transient_primary"));
	assert_int_equal(si_bootcfg_parse_file(&c, "tpm2_transient_primary=maybe\n", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "`tpm2_transient_primary': invalid value `maybe' (expected yes or no)"));
	assert_int_equal(si_bootcfg_parse_file(&c, "tpm2_transient_primary=yes\n", &d), 0);
	assert_true(c.tpm2_transient_primary);
	assert_int_equal(si_bootcfg_format(&c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "\ntpm2_transient_primary=yes\n"));
	si_bootcfg_defaults(&c);
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.tpm2_transient_primary=yes", &d),
			 -EINVAL);
	assert_non_null(strstr(d.msg, "`sealinit.tpm2_transient_primary': read from "
				      "/etc/sealinit.conf only"));
	assert_false(c.tpm2_transient_primary);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fallback_table),
		cmocka_unit_test(test_driver_table),
		cmocka_unit_test(test_transient_primary_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
