/* SPDX-License-Identifier: MIT */
#ifndef SEALINIT_JSON_H
#define SEALINIT_JSON_H

#include <stddef.h>

struct json_object;

/*
 * The one JSON object that text[0, len) holds, whole, as every parser of
 * untrusted JSON here wants it (tokens, the signature file, event-log
 * records, the legacy server's responses): strict syntax, nesting bounded
 * by depth, and nothing after it. NULL otherwise; the caller puts the
 * object.
 */
struct json_object *si_json_object(const char *text, size_t len, int depth);

#endif
