/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_CORE_ESCAPE_H
#define SEALINIT_CORE_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A string from an untrusted source (a LUKS2 header, a failure record),
 * made safe to print on one terminal line: every byte that a terminal or a
 * log reader would act on is written as \xNN, and a backslash as \\, so the
 * output is unambiguous and printable. Escaped: the C0 controls (newline,
 * CR, ESC...), DEL, the C1 controls U+0080-U+009F in their UTF-8 form (a
 * terminal may take U+009B as CSI), and every byte that is not part of a
 * valid, shortest-form UTF-8 sequence. Valid UTF-8 text passes unchanged.
 *
 * Writes at most size bytes to out, always NUL-terminated (size > 0), and
 * never cuts an escape or a UTF-8 sequence in two. Returns true when all
 * of in fit, false when the output was shortened.
 */
bool si_escape(char *out, size_t size, const char *in);

/* The same for len bytes that may hold NUL bytes (written as \x00). */
bool si_escape_mem(char *out, size_t size, const char *in, size_t len);

/* len bytes that si_escape_mem would leave as they are, backslashes
 * aside: printable ASCII and valid UTF-8 without C0/C1 controls. For text
 * that was stored escaped and is read back (core/failrec.c). */
bool si_escape_clean(const char *s, size_t len);

/* Room for any escape of n input bytes, its NUL included. */
#define SI_ESCAPE_LEN(n) (4 * (n) + 1)

#endif
