/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_TEXTFILE_H
#define SEALINIT_TEXTFILE_H

#include <stddef.h>

struct si_diag;

/*
 * The one way a small text file is read (the boot configuration, the
 * kernel command line, the module lists): whole or not at all. A file
 * that would not fit is refused, never cut: the keys after a cut
 * (lockdown=yes, the volume's pin) would vanish without a word. A NUL
 * byte is refused too: every parser after this one stops at the first
 * NUL, so whatever followed it would vanish the same way.
 */

/* The boot configuration's limit: /etc/sealinit.conf, and a buffer of
 * SI_TEXTFILE_CONFIG_MAX + 1 holds it with its terminating NUL. */
#define SI_TEXTFILE_CONFIG_MAX 16384

/* The whole of path into buf, NUL-terminated: at most size - 1 bytes.
 * Returns its length; -errno when it cannot be opened or read (the
 * caller decides whether -ENOENT is an error); -EFBIG when it holds more
 * than size - 1 bytes; -EINVAL when it holds a NUL byte. The diag names
 * the path and, as they apply, the error, the size and the limit, or the
 * NUL's offset. */
int si_textfile_read(const char *path, char *buf, size_t size, struct si_diag *diag);

#endif
