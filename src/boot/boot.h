/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_BOOT_H
#define SEALINIT_BOOT_H

/* The initramfs boot stage (PID 1). Does not return: it execs the real
 * init, or applies the failure policy. */
int si_boot_main(void);

#endif
