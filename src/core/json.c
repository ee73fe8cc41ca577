/* SPDX-License-Identifier: MIT */
#include <limits.h>

#include <json-c/json.h>

#include "core/json.h"

struct json_object *si_json_object(const char *text, size_t len, int depth)
{
	struct json_tokener *tk;
	struct json_object *o;

	if (len > (size_t)INT_MAX)
		return NULL;
	tk = json_tokener_new_ex(depth);
	if (!tk)
		return NULL;
	json_tokener_set_flags(tk, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tk, text, (int)len);
	/* An object, complete, and the whole text. */
	if (o && (json_tokener_get_error(tk) != json_tokener_success ||
		  json_tokener_get_parse_end(tk) < len || !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tk);
	return o;
}
