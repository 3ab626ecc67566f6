#define _GNU_SOURCE
#include "util.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

napi_value sy_throw_errno(napi_env env, const char *op, int err)
{
	const char *name = strerrorname_np(err);
	char msg[512];
	snprintf(msg, sizeof msg, "%s: %s (%s)", op, name ? name : "E?", strerror(err));
	napi_value code, message, error;
	napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
	napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
	napi_create_error(env, code, message, &error);
	sy_set(env, error, "errno", sy_i32(env, err));
	sy_set(env, error, "syscall", sy_str(env, op));
	napi_throw(env, error);
	return NULL;
}

napi_value sy_throw(napi_env env, bool type, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (type)
		napi_throw_type_error(env, NULL, msg);
	else
		napi_throw_error(env, NULL, msg);
	return NULL;
}

bool sy_args(napi_env env, napi_callback_info info, size_t need, size_t n, napi_value *argv)
{
	size_t argc = n;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < need) {
		sy_throw(env, true, "expected %zu argument(s), got %zu", need, argc);
		return false;
	}
	for (size_t i = argc; i < n; i++)
		napi_get_undefined(env, &argv[i]);
	return true;
}

bool sy_arg_i32(napi_env env, napi_value v, const char *name, int32_t *out)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	double d;
	if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || d != (double)(int32_t)d) {
		sy_throw(env, true, "%s must be a 32-bit integer", name);
		return false;
	}
	*out = (int32_t)d;
	return true;
}

bool sy_arg_u32(napi_env env, napi_value v, const char *name, uint32_t *out)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	double d;
	if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d > 4294967295.0 ||
	    d != (double)(uint32_t)d) {
		sy_throw(env, true, "%s must be an unsigned 32-bit integer", name);
		return false;
	}
	*out = (uint32_t)d;
	return true;
}

bool sy_arg_u64(napi_env env, napi_value v, const char *name, uint64_t *out)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	if (t == napi_bigint) {
		bool lossless;
		napi_get_value_bigint_uint64(env, v, out, &lossless);
		if (!lossless) {
			sy_throw(env, true, "%s does not fit in 64 bits", name);
			return false;
		}
		return true;
	}
	if (t == napi_string) {
		char buf[32];
		size_t len;
		napi_get_value_string_utf8(env, v, buf, sizeof buf, &len);
		char *end;
		errno = 0;
		unsigned long long x = strtoull(buf, &end, 10);
		if (len == 0 || *end || errno || buf[0] == '-') {
			sy_throw(env, true, "%s must be a decimal u64 string", name);
			return false;
		}
		*out = x;
		return true;
	}
	if (t == napi_number) {
		double d;
		napi_get_value_double(env, v, &d);
		if (d >= 0 && d <= 9007199254740991.0 && d == (double)(uint64_t)d) {
			*out = (uint64_t)d;
			return true;
		}
	}
	sy_throw(env, true, "%s must be a bigint, a decimal string or a safe non-negative integer", name);
	return false;
}

bool sy_arg_str(napi_env env, napi_value v, const char *name, char *buf, size_t len)
{
	size_t n;
	if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) {
		sy_throw(env, true, "%s must be a string", name);
		return false;
	}
	if (n + 1 > len) {
		sy_throw(env, true, "%s is too long (%zu bytes, max %zu)", name, n, len - 1);
		return false;
	}
	napi_get_value_string_utf8(env, v, buf, len, &n);
	return true;
}

bool sy_prop_str(napi_env env, napi_value obj, const char *key, char *buf, size_t len)
{
	napi_valuetype t;
	napi_typeof(env, obj, &t);
	if (t != napi_object) {
		sy_throw(env, true, "expected an options object with %s", key);
		return false;
	}
	napi_value v;
	napi_get_named_property(env, obj, key, &v);
	return sy_arg_str(env, v, key, buf, len);
}

napi_value sy_u32(napi_env env, uint32_t v)
{
	napi_value r;
	napi_create_uint32(env, v, &r);
	return r;
}
napi_value sy_i32(napi_env env, int32_t v)
{
	napi_value r;
	napi_create_int32(env, v, &r);
	return r;
}
napi_value sy_u64(napi_env env, uint64_t v)
{
	napi_value r;
	napi_create_bigint_uint64(env, v, &r);
	return r;
}
napi_value sy_str(napi_env env, const char *s)
{
	napi_value r;
	napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r);
	return r;
}
napi_value sy_null(napi_env env)
{
	napi_value r;
	napi_get_null(env, &r);
	return r;
}
void sy_set(napi_env env, napi_value obj, const char *key, napi_value v)
{
	napi_set_named_property(env, obj, key, v);
}
napi_value sy_bool(napi_env env, bool v)
{
	napi_value r;
	napi_get_boolean(env, v, &r);
	return r;
}
