/* SPDX-License-Identifier: MIT */
/* Boot configuration: the file, the kernel command line overriding it,
 * and errors that name the key and say what was expected. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "core/bootcfg.h"
#include "core/pcrs.h"
#include "core/errors.h"
#include "core/textfile.h"

/* The open command line, as a build without CONFIG_LOCKDOWN has it: what
 * these tests exercise (test_bootcfg's test_lockdown tests lockdown). */
static void open_defaults(struct si_bootcfg *c)
{
	si_bootcfg_defaults(c);
	c->lockdown = false;
}

static const char file[] =
	"# sealinit.conf\n"
	"root=PARTLABEL=rootfs\n"
	"measure=verity\n"
	"roothash=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	"hashdev=/dev/vdc\n"
	"  data = /dev/vdb\n";

/* Validation of an otherwise complete configuration, as this build judges
 * it: with TPM2 the default key sources need nothing more; without it they
 * are the legacy fetch, which needs legacy_api, or nothing at all. */
static void assert_valid_as_built(const struct si_bootcfg *c)
{
	struct si_diag d = { { 0 } };
	int r = si_bootcfg_validate(c, &d);

	if (ENABLE_TPM2) {
		if (r)
			fail_msg("%s", d.msg);
		return;
	}
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(d.msg, ENABLE_LEGACY_NET ? "legacy_api" : "no key source"));
}

static void test_file_and_cmdline(void **state)
{
	struct si_bootcfg c;
	struct si_diag d = { { 0 } };
	static const char good[] =
		"# sealinit.conf\n"
		"root=PARTLABEL=rootfs\n"
		"\n"
		"measure=verity\n"
		"roothash=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
		"hashdev=/dev/vdc\n"
		"data=PARTLABEL=models\n"
		"mount=/var/lib/docker\n"
		"pcrs=15\n";

	(void)state;
	open_defaults(&c);
	if (si_bootcfg_parse_file(&c, good, &d) < 0)
		fail_msg("%s", d.msg);
	assert_string_equal(c.root, "PARTLABEL=rootfs");
	assert_string_equal(c.data, "PARTLABEL=models");
	assert_string_equal(c.data_mount, "/var/lib/docker");
	assert_int_equal(c.measure, SI_MEASURE_VERITY);
	assert_int_equal(c.cap_pcrs, 1u << 15);
	/* The command line wins; foreign keys are left alone. */
	if (si_bootcfg_parse_cmdline(&c, "console=ttyAMA0 root=/dev/vda rw quiet "
				     "sealinit.measure=image sealinit.failure=reboot "
				     "sealinit.failure_delay=3 sealinit.pcrs=7+15 init=/bin/sh "
				     "systemd.unit=foo", &d) < 0)
		fail_msg("%s", d.msg);
	assert_string_equal(c.root, "/dev/vda");
	assert_false(c.ro);
	assert_int_equal(c.measure, SI_MEASURE_IMAGE);
	assert_int_equal(c.failure, SI_FAIL_REBOOT);
	assert_int_equal(c.failure_delay_s, 3);
	assert_int_equal(c.cap_pcrs, 1u << 7 | 1u << 15);
	assert_string_equal(c.init, "/bin/sh");
	assert_valid_as_built(&c);
}

static void test_errors_name_the_key(void **state)
{
	static const struct { const char *cmdline; const char *expect; } bad[] = {
		{ "sealinit.measure=md5", "`sealinit.measure': invalid value `md5' (expected verity, image or none)" },
		{ "sealinit.pcr=24", "`sealinit.pcr'" },
		{ "sealinit.pcrs=7++8", "`sealinit.pcrs'" },
		{ "sealinit.data=vdb", "`sealinit.data': invalid value `vdb'" },
		{ "sealinit.roothash=xyz", "`sealinit.roothash'" },
		{ "sealinit.tpm_timeout=0", "`sealinit.tpm_timeout'" },
		{ "sealinit.device_timeout=10s", "`sealinit.device_timeout'" },
		{ "sealinit.failure=explode", "`sealinit.failure'" },
		{ "sealinit.name=a/b", "`sealinit.name'" },
		{ "sealinit.mount=relative", "`sealinit.mount'" },
		{ "sealinit.bogus=1", "unknown key `sealinit.bogus'" },
		{ "root=sda1", "`root'" },
		{ "init=sbin/init", "`init'" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct si_bootcfg c;
		struct si_diag d = { { 0 } };

		open_defaults(&c);
		if (si_bootcfg_parse_cmdline(&c, bad[i].cmdline, &d) != -EINVAL)
			fail_msg("accepted `%s'", bad[i].cmdline);
		if (!strstr(d.msg, bad[i].expect))
			fail_msg("`%s': message `%s' lacks `%s'", bad[i].cmdline, d.msg, bad[i].expect);
	}
}

static void test_file_errors(void **state)
{
	struct si_bootcfg c;
	struct si_diag d = { { 0 } };

	(void)state;
	open_defaults(&c);
	assert_int_equal(si_bootcfg_parse_file(&c, file, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "line 6"));
	assert_non_null(strstr(d.msg, "`data ': value contains whitespace"));
	open_defaults(&c);
	assert_int_equal(si_bootcfg_parse_file(&c, "root=/dev/vda\njunk\n", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "line 2: expected KEY=VALUE"));
}

static void test_validate(void **state)
{
	struct si_bootcfg c;
	struct si_diag d = { { 0 } };

	(void)state;
	open_defaults(&c);
	assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "no root device"));
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "root=/dev/vda sealinit.data=/dev/vdb", &d), 0);
	assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "roothash"));
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "roothash=abcd", &d), 0);
	assert_valid_as_built(&c);
	if (!ENABLE_TPM2)
		return;
	/* The cap must cover the measured PCR, and must not be empty. */
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.pcrs=7", &d), 0);
	assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "pcrs=7 does not cover pcr=15"));
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.pcrs=", &d), 0);
	assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "pcrs= is empty"));
	/* Positive control: measured elsewhere and capped there, or not measured. */
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.pcrs=7 sealinit.pcr=7", &d), 0);
	assert_valid_as_built(&c);
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.pcrs=14 sealinit.measure=none", &d), 0);
	assert_valid_as_built(&c);
	/* Never measure into, or migrate to, a resettable PCR. */
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.measure=verity sealinit.pcr=16 "
						  "sealinit.pcrs=16", &d), 0);
	assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "pcr=16"));
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.pcr=15 sealinit.pcrs=15 "
						  "sealinit.migrate=yes sealinit.migrate_pcrs=7+23", &d), 0);
	assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "migrate_pcrs: PCR 23"));
	/* Nor to PCRs the boot does not cap (7 alone under pcrs=15); 7+15,
	 * below, is the control. */
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.migrate_pcrs=7", &d), 0);
	assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "migrate_pcrs: PCRs 7: none of them is capped"));
	/* A migration seals to the expected state: it needs the expected
	 * command line, from the file. */
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.migrate_pcrs=7+15", &d), 0);
	assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "needs cmdline="));
	assert_int_equal(si_bootcfg_parse_file(&c, "cmdline=console=ttyAMA0 root=/dev/vda\n", &d), 0);
	assert_string_equal(c.cmdline, "console=ttyAMA0 root=/dev/vda");
	assert_valid_as_built(&c);
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.measure=image", &d), 0);
	assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "measure=verity"));
	/* What a migration binds: as given, else the build's default and the
	 * measured PCR. */
	assert_int_equal(si_bootcfg_migrate_pcrs(&c), (1u << 7) | (1u << 15));
	{
		struct si_diag pd;
		uint32_t want = 0;

		assert_int_equal(si_pcrs_parse(CONFIG_TPM2_DEFAULT_PCRS, &want, &pd), 0);
		c.migrate_pcrs = 0;
		c.measure_pcr = 14;
		assert_int_equal(si_bootcfg_migrate_pcrs(&c), want | (1u << 14));
	}
}

/* Lockdown: every way the command line could take over the boot is
 * refused, naming the key; next to each, what is still taken. */
static void test_lockdown(void **state)
{
	static const char conf[] =
		"root=/dev/vda\ndata=/dev/vdb\nhashdev=/dev/vdc\nlockdown=yes\n"
		"roothash=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
	static const struct { const char *cmdline; const char *expect; } refused[] = {
		{ "init=/bin/sh", "`init=/bin/sh': this locked-down build boots only /sbin/init" },
		{ "sealinit.pcrs=", "`sealinit.pcrs=': refused, this build is locked down" },
		{ "sealinit.tcti=swtpm:port=1", "`sealinit.tcti=swtpm:port=1': refused" },
		{ "sealinit.legacy_api=https://evil", "`sealinit.legacy_api=https://evil': refused" },
		{ "sealinit.tee_supplicant=/bin/sh", "`sealinit.tee_supplicant=/bin/sh': refused" },
		{ "sealinit.data=/dev/sda", "`sealinit.data=/dev/sda': refused" },
		{ "roothash=00", "`roothash=00': differs from the initramfs configuration" },
		{ "sealinit.lockdown=no", "set only in the initramfs configuration" },
		{ "sealinit.cmdline=x", "set only in the initramfs configuration" },
	};
	struct si_bootcfg c;
	struct si_diag d = { { 0 } };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		open_defaults(&c);
		assert_int_equal(si_bootcfg_parse_file(&c, conf, &d), 0);
		d.msg[0] = '\0';
		if (si_bootcfg_parse_cmdline(&c, refused[i].cmdline, &d) != -EPERM)
			fail_msg("locked down, accepted `%s'", refused[i].cmdline);
		if (!strstr(d.msg, refused[i].expect))
			fail_msg("`%s': message `%s' lacks `%s'", refused[i].cmdline, d.msg,
				 refused[i].expect);
	}
	/* Controls: what a boot loader passes anyway, and the allowed keys. */
	open_defaults(&c);
	assert_int_equal(si_bootcfg_parse_file(&c, conf, &d), 0);
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "console=ttyTCU0 root=/dev/vda rw rootwait "
						  "init=/sbin/init ROOTHASH=x sealinit.loglevel=7 "
						  "roothash=0123456789ABCDEF0123456789abcdef0123456789abcdef"
						  "0123456789abcdef", &d), 0);
	assert_true(c.ro);   /* rw is ignored */
	assert_int_equal(c.loglevel, 7);
	assert_string_equal(c.cmdline_ignored, "");
	/* L4T's root= is ignored, and said: the file's root wins. */
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "root=/dev/mmcblk0p1 rootfstype=ext4", &d), 0);
	assert_string_equal(c.root, "/dev/vda");
	assert_string_equal(c.cmdline_ignored, "root=/dev/mmcblk0p1");
	/* The same words without lockdown are taken. */
	open_defaults(&c);
	assert_int_equal(si_bootcfg_parse_file(&c, "lockdown=no\n", &d), ENABLE_LOCKDOWN ? -EINVAL : 0);
	if (ENABLE_LOCKDOWN)
		return;
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "init=/bin/sh rw sealinit.pcrs=7", &d), 0);
	assert_string_equal(c.init, "/bin/sh");
	assert_false(c.ro);
	/* A locked-down boot never offers a shell. */
	open_defaults(&c);
	assert_int_equal(si_bootcfg_parse_file(&c, conf, &d), 0);
	c.failure = SI_FAIL_SHELL;
	assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "failure=shell"));
}

/* The measurement may leave out only what does not decide the boot. */
static void test_cmdline_volatile(void **state)
{
	struct si_bootcfg c;
	struct si_diag d = { { 0 } };

	(void)state;
	open_defaults(&c);
	assert_int_equal(si_bootcfg_parse_file(&c, "cmdline_volatile=bl_prof_dataptr,bl_prof_ro_ptr\n",
					       &d), 0);
	assert_string_equal(c.cmdline_volatile, "bl_prof_dataptr,bl_prof_ro_ptr");
	assert_int_equal(si_bootcfg_parse_file(&c, "cmdline_volatile=quiet,init\n", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "`init' cannot be left out of the measurement"));
	assert_int_equal(si_bootcfg_parse_file(&c, "cmdline_volatile=sealinit.pcrs\n", &d), -EINVAL);
	assert_int_equal(si_bootcfg_parse_file(&c, "cmdline_volatile=a=b\n", &d), -EINVAL);
	/* Spaces only in the expected command line. */
	assert_int_equal(si_bootcfg_parse_file(&c, "data=/dev/vdb /dev/vdc\n", &d), -EINVAL);
}

/* The volume binding: fixate_volume_key= from the file only, in the form
 * systemd compares; tpm2_measure_pcr= as systemd's tpm2-measure-pcr=. */
static void test_volume_binding(void **state)
{
	static const char id[] = "bb5f54cf0b074f9a9b0c3862c028c1f0b61236c5c4436d4df90f5619357c25f0";
	static const struct { const char *line; const char *expect; } bad[] = {
		{ "fixate_volume_key=BB5F54CF0B074F9A9B0C3862C028C1F0B61236C5C4436D4DF90F5619357C25F0",
		  "`fixate_volume_key': invalid value `BB5F" },
		{ "fixate_volume_key=bb5f54cf", "64 lower-case hex digits" },
		{ "tpm2_measure_pcr=16", "`tpm2_measure_pcr': invalid value `16' (expected no, yes" },
		{ "tpm2_measure_pcr=24", "`tpm2_measure_pcr'" },
		{ "tpm2_measure_pcr=maybe", "`tpm2_measure_pcr'" },
	};
	struct si_bootcfg c, f;
	struct si_diag d = { { 0 } };
	char text[128], buf[4096];
	size_t i;

	(void)state;
	open_defaults(&c);
	assert_string_equal(c.fixate_volume_key, "");
	assert_int_equal(c.tpm2_measure_pcr, -1);
	snprintf(text, sizeof(text), "fixate_volume_key=%s\ntpm2_measure_pcr=yes\n", id);
	assert_int_equal(si_bootcfg_parse_file(&c, text, &d), 0);
	assert_string_equal(c.fixate_volume_key, id);
	assert_int_equal(c.tpm2_measure_pcr, 15);
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.tpm2_measure_pcr=7", &d), 0);
	assert_int_equal(c.tpm2_measure_pcr, 7);
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.tpm2_measure_pcr=no", &d), 0);
	assert_int_equal(c.tpm2_measure_pcr, -1);
	/* A number is a PCR, as systemd reads it: 0 and 1 too (the fuzzer
	 * found 0 printed and read back as no). */
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.tpm2_measure_pcr=0", &d), 0);
	assert_int_equal(c.tpm2_measure_pcr, 0);
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.tpm2_measure_pcr=01", &d), 0);
	assert_int_equal(c.tpm2_measure_pcr, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		open_defaults(&c);
		if (si_bootcfg_parse_file(&c, bad[i].line, &d) != -EINVAL)
			fail_msg("accepted `%s'", bad[i].line);
		if (!strstr(d.msg, bad[i].expect))
			fail_msg("`%s': message `%s' lacks `%s'", bad[i].line, d.msg, bad[i].expect);
	}
	/* The command line cannot replace or remove the pin. */
	open_defaults(&c);
	assert_int_equal(si_bootcfg_parse_file(&c, text, &d), 0);
	snprintf(text, sizeof(text), "sealinit.fixate_volume_key=%s", id);
	assert_int_equal(si_bootcfg_parse_cmdline(&c, text, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "`sealinit.fixate_volume_key': read from /etc/sealinit.conf only"));
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.fixate_volume_key=", &d), -EINVAL);
	assert_string_equal(c.fixate_volume_key, id);
	/* Printed and read back (a CONFIG_LOCKDOWN build reads no lockdown=no). */
	c.lockdown = c.lockdown || ENABLE_LOCKDOWN;
	assert_int_equal(si_bootcfg_format(&c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "\nfixate_volume_key=bb5f54cf"));
	assert_non_null(strstr(buf, "\ntpm2_measure_pcr=15\n"));
	open_defaults(&f);
	if (si_bootcfg_parse_file(&f, buf, &d) < 0)
		fail_msg("%s in:\n%s", d.msg, buf);
	assert_memory_equal(&c, &f, sizeof(c));
	/* Only the tpm2 source measures (the open command line again). */
	c.lockdown = false;
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "root=/dev/vda sealinit.data=/dev/vdb "
						  "roothash=abcd", &d), 0);
	if (!ENABLE_TPM2) {
		/* This build has no tpm2 source at all. */
		assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
		assert_non_null(strstr(d.msg, "tpm2_measure_pcr=15: only the tpm2 key source"));
		return;
	}
	assert_valid_as_built(&c);
	if (!ENABLE_LEGACY_NET)
		return;
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.keysources=legacy "
						  "sealinit.legacy_api=https://k.example", &d), 0);
	assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "tpm2_measure_pcr=15: only the tpm2 key source"));
}

/* The printed form parses back to the same configuration. */
static void test_format_roundtrip(void **state)
{
	struct si_bootcfg a, b;
	struct si_diag d = { { 0 } };
	char buf[4096];

	(void)state;
	open_defaults(&a);
	assert_int_equal(si_bootcfg_parse_cmdline(&a, "root=UUID=1234 sealinit.data=PARTUUID=ab-cd "
				"sealinit.measure=image sealinit.hashoffset=4096 ro "
				"sealinit.tcti=swtpm:host=127.0.0.1,port=1 sealinit.loglevel=7", &d), 0);
	assert_int_equal(si_bootcfg_parse_file(&a, "cmdline=console=ttyS0  root=/dev/vda\n"
					       "cmdline_volatile=bl_prof_dataptr\n", &d), 0);
	/* A CONFIG_LOCKDOWN build reads no lockdown=no. */
	a.lockdown = a.lockdown || ENABLE_LOCKDOWN;
	assert_int_equal(si_bootcfg_format(&a, buf, sizeof(buf)), 0);
	open_defaults(&b);
	if (si_bootcfg_parse_file(&b, buf, &d) < 0)
		fail_msg("%s in:\n%s", d.msg, buf);
	assert_memory_equal(&a, &b, sizeof(a));
}

/* A file of n bytes: "# " comment lines, then tail (n counts it), for the
 * reader's limits. */
static void write_config(const char *path, size_t n, const char *tail, size_t tail_len)
{
	FILE *f = fopen(path, "w");
	size_t i;

	assert_non_null(f);
	assert_true(n >= tail_len);
	for (i = 0; i < n - tail_len; i++)
		fputc((i + 1) % 64 == 0 || i + 1 == n - tail_len ? '\n' : i % 64 == 0 ? '#' : 'x', f);
	fwrite(tail, 1, tail_len, f);
	assert_int_equal(fclose(f), 0);
}

/* The one reader: whole or refused, never cut, at the 16 KiB limit of
 * the configuration; a NUL byte anywhere refused by offset. The attack is
 * a file whose lockdown=yes sits past the cut: read whole, it is there;
 * one byte longer, the file is refused, not read without it. */
static void test_textfile_limits(void **state)
{
	static char buf[SI_TEXTFILE_CONFIG_MAX + 1];
	static const char tail[] = "lockdown=yes\n";
	char path[] = "/tmp/sealinit-test-conf-XXXXXX";
	struct si_diag d = { { 0 } };
	struct si_bootcfg c;
	char want[160];
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	/* Controls: up to the limit, read whole; the last key is kept. */
	write_config(path, SI_TEXTFILE_CONFIG_MAX - 1, tail, sizeof(tail) - 1);
	assert_int_equal(si_textfile_read(path, buf, sizeof(buf), &d), SI_TEXTFILE_CONFIG_MAX - 1);
	write_config(path, SI_TEXTFILE_CONFIG_MAX, tail, sizeof(tail) - 1);
	assert_int_equal(si_textfile_read(path, buf, sizeof(buf), &d), SI_TEXTFILE_CONFIG_MAX);
	assert_int_equal(strlen(buf), SI_TEXTFILE_CONFIG_MAX);
	open_defaults(&c);
	assert_int_equal(si_bootcfg_parse_file(&c, buf, &d), 0);
	assert_true(c.lockdown);
	/* One byte over: refused by path, size and limit; nothing left in buf
	 * for a careless caller to parse. */
	write_config(path, SI_TEXTFILE_CONFIG_MAX + 1, tail, sizeof(tail) - 1);
	assert_int_equal(si_textfile_read(path, buf, sizeof(buf), &d), -EFBIG);
	snprintf(want, sizeof(want), "%s: %d bytes, over the limit of %d", path,
		 SI_TEXTFILE_CONFIG_MAX + 1, SI_TEXTFILE_CONFIG_MAX);
	if (!strstr(d.msg, want))
		fail_msg("`%s' lacks `%s'", d.msg, want);
	assert_string_equal(buf, "");
	/* Far over, and from a file with no size (a pipe, /proc): the same. */
	assert_int_equal(si_textfile_read("/dev/zero", buf, 64, &d), -EFBIG);
	assert_non_null(strstr(d.msg, "/dev/zero: more than the limit of 63 bytes"));
	/* A NUL at the end, and in the middle before lockdown=yes. */
	write_config(path, 100, "lockdown=yes\n\0", 14);
	assert_int_equal(si_textfile_read(path, buf, sizeof(buf), &d), -EINVAL);
	assert_non_null(strstr(d.msg, "a NUL byte at offset 99 of 100"));
	write_config(path, 100, "\0lockdown=yes\n", 14);
	assert_int_equal(si_textfile_read(path, buf, sizeof(buf), &d), -EINVAL);
	assert_non_null(strstr(d.msg, "a NUL byte at offset 86 of 100"));
	assert_non_null(strstr(d.msg, path));
	/* Control: the same file without the NUL. */
	write_config(path, 100, "lockdown=yes\n", 13);
	assert_int_equal(si_textfile_read(path, buf, sizeof(buf), &d), 100);
	/* Missing: -ENOENT, named, for the caller to decide. */
	unlink(path);
	assert_int_equal(si_textfile_read(path, buf, sizeof(buf), &d), -ENOENT);
	assert_non_null(strstr(d.msg, path));
}

/* Locked down, a wait from the command line may only lengthen the one
 * configured: a shorter TPM or device wait is how the TPM is made to look
 * absent. Each shorter one is refused by name; the longer one and the
 * same one are the controls. */
static void test_lockdown_waits(void **state)
{
	static const char conf[] =
		"root=/dev/vda\ndata=/dev/vdb\nlockdown=yes\ntpm_timeout=5000\ndevice_timeout=8000\n"
		"roothash=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
	static const struct { const char *cmdline; int r; const char *expect; } cases[] = {
		{ "sealinit.tpm_timeout=1", -EPERM,
		  "`sealinit.tpm_timeout=1': shorter than the configured 5000 ms; a locked-down "
		  "command line may only lengthen a wait" },
		{ "sealinit.tpm_timeout=4999", -EPERM, "shorter than the configured 5000 ms" },
		{ "sealinit.device_timeout=100", -EPERM,
		  "`sealinit.device_timeout=100': shorter than the configured 8000 ms" },
		{ "sealinit.tpm_timeout=9000 sealinit.tpm_timeout=6000", -EPERM,
		  "shorter than the configured 9000 ms" },
		{ "sealinit.tpm_timeout=5000", 0, NULL },
		{ "sealinit.tpm_timeout=60000 sealinit.device_timeout=8001", 0, NULL },
		{ "sealinit.loglevel=0", 0, NULL },
	};
	struct si_bootcfg c;
	struct si_diag d = { { 0 } };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		open_defaults(&c);
		assert_int_equal(si_bootcfg_parse_file(&c, conf, &d), 0);
		d.msg[0] = '\0';
		if (si_bootcfg_parse_cmdline(&c, cases[i].cmdline, &d) != cases[i].r)
			fail_msg("`%s': want %d (%s)", cases[i].cmdline, cases[i].r, d.msg);
		if (cases[i].expect && !strstr(d.msg, cases[i].expect))
			fail_msg("`%s': message `%s' lacks `%s'", cases[i].cmdline, d.msg, cases[i].expect);
	}
	assert_int_equal(c.loglevel, 0);
	/* Open, the command line sets any wait: nothing to lengthen. */
	if (ENABLE_LOCKDOWN)
		return;
	open_defaults(&c);
	assert_int_equal(si_bootcfg_parse_file(&c, "tpm_timeout=5000\n", &d), 0);
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.tpm_timeout=1", &d), 0);
	assert_int_equal(c.tpm_timeout_ms, 1);
}

/* The command line is read in the kernel's words: quotes grouped and
 * removed as the kernel removes them, a byte it splits on and systemd
 * does not refused by offset. */
static void test_cmdline_kernel_words(void **state)
{
	struct si_bootcfg c;
	struct si_diag d = { { 0 } };

	(void)state;
	open_defaults(&c);
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.loglevel=\"3\" \"sealinit.pcr=14\" "
						  "root=/dev/vda\rrw", &d), 0);
	assert_int_equal(c.loglevel, 3);
	assert_int_equal(c.measure_pcr, 14);
	assert_string_equal(c.root, "/dev/vda");
	assert_false(c.ro);
	/* The attack: the kernel sees sealinit.pcr=7 after the VT; refused
	 * rather than read as one word of root=. */
	open_defaults(&c);
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "root=/dev/vda\vsealinit.pcr=7", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "byte 0x0b at offset 13"));
	assert_int_equal(c.measure_pcr, 15);
	/* A quoted value keeps its space, and the value check refuses it. */
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.data=\"/dev/vdb /dev/vdc\"", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "whitespace"));
}

/* c as the open defaults and text make it, which validation accepts. */
static void valid_config(struct si_bootcfg *c, const char *text)
{
	struct si_diag d = { { 0 } };

	open_defaults(c);
	if (si_bootcfg_parse_file(c, text, &d))
		fail_msg("parse: %s", d.msg);
	if (si_bootcfg_validate(c, &d))
		fail_msg("validate: %s", d.msg);
}

/* A fleet: the binding a locked-down boot needs, the keys provisioning
 * needs, each refused by name; all of them from the file only. */
static void test_fleet(void **state)
{
	static const char base[] =
		"root=/dev/vda\ndata=/dev/vdb\nhashdev=/dev/vdc\nlockdown=yes\nkeysources=tpm2\n"
		"roothash=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
	static const struct { const char *tail, *expect; } refused[] = {
		/* The attack: a locked-down boot that opens any volume. */
		{ "", "locked down, and the data volume is bound to nothing" },
		{ "device_record=yes\n", "device_record=0x01805e01 needs tpm2_public_key=" },
		{ "tpm2_public_key=/k.pem\ndevice_record=yes\nprovision=yes\n",
		  "provision=yes needs provision_mkfs=" },
		{ "tpm2_public_key=/k.pem\nprovision=yes\nprovision_mkfs=/sbin/mke2fs\n"
		  "fixate_volume_key=bb5f54cf0b074f9a9b0c3862c028c1f0b61236c5c4436d4df90f5619357c25f0\n",
		  "provision=yes needs device_record=" },
		{ "tpm2_public_key=/k.pem\ndevice_record=yes\nprovision=yes\n"
		  "provision_mkfs=/sbin/mke2fs -q\n", "needs escrow=" },
		{ "tpm2_public_key=/k.pem\ndevice_record=yes\nprovision=yes\n"
		  "provision_mkfs=/sbin/mke2fs -q\nescrow=server\nescrow_public_key=/e.pem\n",
		  ENABLE_LEGACY_NET ? "escrow=server needs legacy_api=" : "no legacy network client" },
		/* The server, never trusted unverified. */
		{ "tpm2_public_key=/k.pem\ndevice_record=yes\nprovision=yes\n"
		  "provision_mkfs=/sbin/mke2fs -q\nescrow=server\nescrow_public_key=/e.pem\n"
		  "legacy_api=https://fleet.example.test\nlegacy_fingerprint=mac:eth0\n",
		  ENABLE_LEGACY_NET ? "escrow=server: legacy_ca or legacy_pin must be set" :
		  "no legacy network client" },
	};
	static const struct { const char *line, *expect; } bad[] = {
		{ "device_record=0x81000001\n", "`device_record': invalid value" },
		{ "device_record=12\n", "an NV index 0x01800000-0x01bfffff" },
		{ "tpm2_counter=0x01c00002\n", "`tpm2_counter': invalid value" },
		{ "tpm2_public_key=k.pem\n", "an absolute path" },
		{ "provision_mkfs=mke2fs\n", "an absolute path to a program" },
		{ "escrow=sdb1\n", "a device spec" },
	};
	static const char *const cmdline[] = {
		"sealinit.device_record=no", "sealinit.provision=yes", "sealinit.tpm2_public_key=/x",
		"sealinit.escrow=LABEL=X", "sealinit.escrow_public_key=/x",
		"sealinit.provision_mkfs=/bin/sh", "sealinit.tpm2_counter=no",
	};
	struct si_bootcfg c;
	struct si_diag d = { { 0 } };
	char text[1024], out[8192];
	size_t i;

	(void)state;
	if (!ENABLE_TPM2)
		skip();
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		open_defaults(&c);
		snprintf(text, sizeof(text), "%s%s", base, refused[i].tail);
		if (si_bootcfg_parse_file(&c, text, &d))
			fail_msg("parse `%s': %s", refused[i].tail, d.msg);
		d.msg[0] = '\0';
		if (si_bootcfg_validate(&c, &d) != -EINVAL)
			fail_msg("valid: `%s'", refused[i].tail);
		if (!strstr(d.msg, refused[i].expect))
			fail_msg("`%s': message `%s' lacks `%s'", refused[i].tail, d.msg,
				 refused[i].expect);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		open_defaults(&c);
		d.msg[0] = '\0';
		assert_int_equal(si_bootcfg_parse_file(&c, bad[i].line, &d), -EINVAL);
		if (!strstr(d.msg, bad[i].expect))
			fail_msg("`%s': message `%s' lacks `%s'", bad[i].line, d.msg, bad[i].expect);
	}
	/* Controls: the pin alone, the record alone, a complete provisioning. */
	snprintf(text, sizeof(text), "%sfixate_volume_key=%s\n", base,
		 "bb5f54cf0b074f9a9b0c3862c028c1f0b61236c5c4436d4df90f5619357c25f0");
	valid_config(&c, text);
	snprintf(text, sizeof(text), "%stpm2_public_key=/etc/sealinit/fleet.pem\n"
		 "device_record=yes\nprovision=yes\nprovision_mkfs=/sbin/mke2fs -q -t ext4\n"
		 "escrow=LABEL=ESCROW\nescrow_public_key=/etc/sealinit/escrow.pem\n"
		 "tpm2_counter=0x01805e07\n", base);
	valid_config(&c, text);
	assert_int_equal(c.device_record, 0x01805e01);
	assert_int_equal(c.tpm2_counter, 0x01805e07);
	/* What is printed reads back the same. */
	assert_int_equal(si_bootcfg_format(&c, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "device_record=0x01805e01\nprovision=yes\n"
			       "tpm2_counter=0x01805e07\nprovision_mkfs=/sbin/mke2fs -q -t ext4\n"));
	open_defaults(&c);
	assert_int_equal(si_bootcfg_parse_file(&c, out, &d), 0);
	assert_int_equal(c.device_record, 0x01805e01);
	assert_string_equal(c.escrow, "LABEL=ESCROW");
	/* Unset, nothing is printed: older configurations measure the same. */
	open_defaults(&c);
	assert_int_equal(si_bootcfg_format(&c, out, sizeof(out)), 0);
	assert_null(strstr(out, "device_record"));
	assert_null(strstr(out, "provision"));
	/* None of them from the command line, locked down or not. */
	for (i = 0; i < sizeof(cmdline) / sizeof(cmdline[0]); i++) {
		open_defaults(&c);
		d.msg[0] = '\0';
		assert_int_equal(si_bootcfg_parse_cmdline(&c, cmdline[i], &d), -EINVAL);
		if (!strstr(d.msg, "read from /etc/sealinit.conf only"))
			fail_msg("`%s': %s", cmdline[i], d.msg);
	}
	/* The fleet server, with what its login needs and no resource: the
	 * escrow fetches none. */
	if (ENABLE_LEGACY_NET) {
		snprintf(text, sizeof(text), "%stpm2_public_key=/k.pem\ndevice_record=yes\n"
			 "provision=yes\nprovision_mkfs=/sbin/mke2fs -q\nescrow=server\n"
			 "escrow_public_key=/e.pem\nlegacy_api=https://fleet.example.test\n"
			 "legacy_ca=/etc/sealinit/ca.pem\nlegacy_fingerprint=mac:eth0\n", base);
		valid_config(&c, text);
	}
}

/* The fTPM's store: file only (a command line pointing the fTPM at another
 * partition would give it another NV), a device spec, served by a
 * supplicant, never the root, the data volume or the hash tree. Each
 * refusal names the key; the control: the Jetson shape validates, prints
 * and reads back, and a configuration without it prints no line (its
 * configuration event, and the PCR values signed for it, stay as they
 * were). A supplicant without a store is taken (RPMB boards). */
static void test_tee_storage(void **state)
{
	static const char tee[] = "tee_supplicant=/usr/sbin/tee-supplicant\n"
				  "tee_storage=PARTLABEL=tee-store\n";
	static const char base[] =
		"root=PARTLABEL=rootfs\nhashdev=/dev/vdc\ndata=/dev/vdb\n"
		"roothash=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
	struct si_bootcfg c, b;
	struct si_diag d = { { 0 } };
	char buf[4096];

	(void)state;
	/* Control. */
	open_defaults(&c);
	assert_int_equal(si_bootcfg_parse_file(&c, base, &d), 0);
	assert_int_equal(si_bootcfg_format(&c, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "tee_storage"));
	assert_int_equal(si_bootcfg_parse_file(&c, tee, &d), 0);
	assert_string_equal(c.tee_storage, "PARTLABEL=tee-store");
	assert_valid_as_built(&c);
	/* A CONFIG_LOCKDOWN build reads no lockdown=no. */
	b = c;
	b.lockdown = b.lockdown || ENABLE_LOCKDOWN;
	assert_int_equal(si_bootcfg_format_measured(&b, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "\ntee_storage=PARTLABEL=tee-store\n"));
	open_defaults(&b);
	if (si_bootcfg_parse_file(&b, buf, &d) < 0)
		fail_msg("%s in:\n%s", d.msg, buf);
	assert_string_equal(b.tee_storage, c.tee_storage);
	/* The command line never sets it, locked down or not. */
	d.msg[0] = '\0';
	assert_int_equal(si_bootcfg_parse_cmdline(&c, "sealinit.tee_storage=PARTLABEL=usb", &d),
			 -EINVAL);
	assert_non_null(strstr(d.msg, "`sealinit.tee_storage': read from /etc/sealinit.conf only "
			       "(the fTPM's store is its NV"));
	assert_string_equal(c.tee_storage, "PARTLABEL=tee-store");
	/* Not a device spec. */
	assert_int_equal(si_bootcfg_parse_file(&c, "tee_storage=tee-store\n", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "line 1: `tee_storage': invalid value `tee-store' (expected "
			       "a /dev path or PARTLABEL="));
	/* A store nobody serves. */
	assert_int_equal(si_bootcfg_parse_file(&c, "tee_supplicant=\n", &d), 0);
	assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "tee_storage=PARTLABEL=tee-store needs tee_supplicant="));
	/* The store on the data volume, the root or the hash tree. */
	assert_int_equal(si_bootcfg_parse_file(&c, tee, &d), 0);
	assert_int_equal(si_bootcfg_parse_file(&c, "tee_storage=/dev/vdb\n", &d), 0);
	assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "tee_storage=/dev/vdb is also data=: the fTPM's store is a "
			       "partition of its own"));
	assert_int_equal(si_bootcfg_parse_file(&c, "tee_storage=PARTLABEL=rootfs\n", &d), 0);
	assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "is also root="));
	assert_int_equal(si_bootcfg_parse_file(&c, "tee_storage=/dev/vdc\n", &d), 0);
	assert_int_equal(si_bootcfg_validate(&c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "is also hashdev="));
	/* A supplicant without a store: taken (its fTPM may keep its NV in
	 * RPMB), the boot warns. */
	assert_int_equal(si_bootcfg_parse_file(&c, "tee_storage=\n", &d), 0);
	assert_string_equal(c.tee_storage, "");
	assert_valid_as_built(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_and_cmdline),
		cmocka_unit_test(test_errors_name_the_key),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_lockdown),
		cmocka_unit_test(test_cmdline_volatile),
		cmocka_unit_test(test_volume_binding),
		cmocka_unit_test(test_textfile_limits),
		cmocka_unit_test(test_lockdown_waits),
		cmocka_unit_test(test_cmdline_kernel_words),
		cmocka_unit_test(test_fleet),
		cmocka_unit_test(test_tee_storage),
	};
	return cmocka_run_group_tests_name("bootcfg", tests, NULL, NULL);
}
