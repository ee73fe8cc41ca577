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
#include <string.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initramfs_ok),
		cmocka_unit_test(test_not_pid1),
		cmocka_unit_test(test_root_not_ramfs),
		cmocka_unit_test(test_newroot_not_a_mount),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
