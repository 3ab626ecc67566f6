// Small N-API helpers shared by the addon's parts: argument reading and errno-carrying errors.
#pragma once
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

/* Throw `Error("<op>: <ENAME> (<strerror>)")` with .code = ENAME, .errno, .syscall = op; returns NULL. */
napi_value sy_throw_errno(napi_env env, const char *op, int err);
/* Throw a plain Error (or TypeError when type is true); returns NULL. */
napi_value sy_throw(napi_env env, bool type, const char *fmt, ...);

bool sy_arg_i32(napi_env env, napi_value v, const char *name, int32_t *out);
bool sy_arg_u32(napi_env env, napi_value v, const char *name, uint32_t *out);
/* A u64 given as bigint, decimal string or safe integer number. */
bool sy_arg_u64(napi_env env, napi_value v, const char *name, uint64_t *out);
/* Copies a string argument into buf (NUL-terminated); fails if it does not fit. */
bool sy_arg_str(napi_env env, napi_value v, const char *name, char *buf, size_t len);
/* Reads obj[key] as a string; fails when missing. */
bool sy_prop_str(napi_env env, napi_value obj, const char *key, char *buf, size_t len);

napi_value sy_u32(napi_env env, uint32_t v);
napi_value sy_i32(napi_env env, int32_t v);
napi_value sy_u64(napi_env env, uint64_t v); /* bigint */
napi_value sy_str(napi_env env, const char *s);
napi_value sy_null(napi_env env);
void sy_set(napi_env env, napi_value obj, const char *key, napi_value v);

/* Gets up to n args; returns false (with a TypeError thrown) when fewer than need were given. */
bool sy_args(napi_env env, napi_callback_info info, size_t need, size_t n, napi_value *argv);

/* Module parts: each adds its functions to exports. */
void sy_init_peercred(napi_env env, napi_value exports);
void sy_init_tagger(napi_env env, napi_value exports);
void sy_init_classifier(napi_env env, napi_value exports);
void sy_init_cgroup(napi_env env, napi_value exports);
void sy_init_procevents(napi_env env, napi_value exports);
void sy_init_sockets(napi_env env, napi_value exports);
void sy_init_tun(napi_env env, napi_value exports);
void sy_init_mounts(napi_env env, napi_value exports);

#define SY_EXPORT(env, exports, name, fn)                                              \
	do {                                                                             \
		napi_value f_;                                                           \
		napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f_);        \
		napi_set_named_property(env, exports, name, f_);                         \
	} while (0)
napi_value sy_bool(napi_env env, bool v);
