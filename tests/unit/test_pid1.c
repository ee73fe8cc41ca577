/* SPDX-License-Identifier: MIT */
/* boot/pid1.c: switch_root deletes the initramfs only when it is one. The
 * decision is tested on facts, never by calling switch_root: on a host, a
 * wrong verdict would delete the host's files. */
#include <errno.h>
#include <linux/magic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot/pid1.h"
#include "core/errors.h"

static const struct pid1_root_facts initramfs = {
	.pid = 1, .root_fstype = RAMFS_MAGIC, .root_dev = 1, .newroot_dev = 0xfe00,
};

/* Positive control: the initramfs, on ramfs or tmpfs, with a mounted root. */
static void test_initramfs_ok(void **state)
{
	struct pid1_root_facts f = initramfs;
	struct si_diag d = { { 0 } };

	(void)state;
	assert_int_equal(pid1_switch_root_verdict(&f, "/newroot", &d), 0);
	f.root_fstype = TMPFS_MAGIC;
	assert_int_equal(pid1_switch_root_verdict(&f, "/newroot", &d), 0);
}

static void test_not_pid1(void **state)
{
	struct pid1_root_facts f = initramfs;
	struct si_diag d = { { 0 } };

	(void)state;
	f.pid = 4242;
	assert_int_equal(pid1_switch_root_verdict(&f, "/newroot", &d), -EPERM);
	assert_non_null(strstr(d.msg, "not PID 1 (pid 4242)"));
}

static void test_root_not_ramfs(void **state)
{
	struct pid1_root_facts f = initramfs;
	struct si_diag d = { { 0 } };

	(void)state;
	f.root_fstype = EXT4_SUPER_MAGIC;
	assert_int_equal(pid1_switch_root_verdict(&f, "/newroot", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "not the initramfs (filesystem magic 0xef53"));
}

static void test_newroot_not_a_mount(void **state)
{
	struct pid1_root_facts f = initramfs;
	struct si_diag d = { { 0 } };

	(void)state;
	f.newroot_dev = f.root_dev;
	assert_int_equal(pid1_switch_root_verdict(&f, "/newroot", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "/newroot is not a mount of its own"));
}

/*
 * The environment: the kernel hands PID 1 every unknown X=Y word of its
 * command line. After pid1_environment() none is left, and the boot's own
 * variables win over the kernel's (TSS2_LOG was set without overwrite, so
 * the kernel's all+TRACE stayed). The control: what the boot needs is
 * there. The real init's list holds nothing of the kernel's either.
 */
static void test_environment(void **state)
{
	static const char *const want[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TSS2_LOG=all+NONE" };
	static const char *const kernel[] = { "SSLKEYLOGFILE", "TSS2_LOG", "TSS2_TCTI", "LD_PRELOAD",
					      "CURL_CA_BUNDLE", "HOME", "TERM" };
	const char *const *init;
	size_t i, n;

	(void)state;
	setenv("SSLKEYLOGFILE", "/dev/console", 1);
	setenv("TSS2_LOG", "all+TRACE", 1);
	setenv("TSS2_TCTI", "swtpm:host=10.0.2.2", 1);
	setenv("LD_PRELOAD", "/tmp/evil.so", 1);
	setenv("CURL_CA_BUNDLE", "/tmp/evil.pem", 1);
	assert_string_equal(getenv("SSLKEYLOGFILE"), "/dev/console");
	assert_int_equal(pid1_environment(), 0);
	for (n = 0; environ[n]; n++)
		;
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n; i++)
		assert_string_equal(environ[i], want[i]);
	assert_null(getenv("SSLKEYLOGFILE"));
	assert_null(getenv("TSS2_TCTI"));
	assert_string_equal(getenv("TSS2_LOG"), "all+NONE");
	/* The real init: the kernel's own defaults, fixed, nothing more. */
	init = pid1_init_environment();
	assert_string_equal(init[0], "HOME=/");
	assert_string_equal(init[1], "TERM=linux");
	assert_null(init[2]);
	for (i = 0; i < sizeof(kernel) / sizeof(kernel[0]); i++)
		if (strcmp(kernel[i], "TSS2_LOG") && getenv(kernel[i]))
			fail_msg("%s=%s is left", kernel[i], getenv(kernel[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_initramfs_ok),
		cmocka_unit_test(test_not_pid1),
		cmocka_unit_test(test_root_not_ramfs),
		cmocka_unit_test(test_newroot_not_a_mount),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
