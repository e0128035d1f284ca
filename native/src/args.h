/*
 * Argument validation and error helpers shared by every binding.
 *
 * Convention: a helper returns true on success; on failure it has thrown a JS exception and the
 * binding returns NULL at once. Numbers are read as doubles and must be integers inside the stated
 * range (napi_get_value_int32 would turn NaN into 0, i.e. stdin, and 1.5 into 1).
 */
#ifndef BRIG_ARGS_H
#define BRIG_ARGS_H

#include <node_api.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fetches exactly `n` arguments; fewer is a TypeError (the TS wrapper always passes all of them). */
bool get_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, napi_value *self);

#define ARGS(n)                                                  \
  napi_value argv[n];                                            \
  if (!get_args(env, info, (n), argv, NULL)) return NULL

bool arg_int(napi_env env, napi_value v, const char *name, int64_t min, int64_t max, int64_t *out);
/* An open file descriptor number: 0 .. INT_MAX. */
bool arg_fd(napi_env env, napi_value v, const char *name, int *out);
/* An fd or AT_FDCWD. */
bool arg_dirfd(napi_env env, napi_value v, const char *name, int *out);
/* A string or Buffer of at most `cap - 1` bytes without NUL, copied NUL-terminated into buf.
 * Too long is a system error `too_long` (ENAMETOOLONG for paths, ERANGE for xattr names) reported
 * against `syscall`, the way the kernel would report it. */
bool arg_cstr(napi_env env, napi_value v, const char *name, char *buf, size_t cap, int too_long,
              const char *syscall);
/* A path (string or Buffer) for `syscall`: at most PATH_MAX - 1 bytes, no NUL. */
bool arg_path(napi_env env, napi_value v, const char *syscall, char buf[PATH_MAX]);
/* A Buffer or other TypedArray / DataView: borrows its bytes. */
bool arg_bytes(napi_env env, napi_value v, const char *name, void **data, size_t *len);
bool arg_bool(napi_env env, napi_value v, const char *name, bool *out);

/* Throws a Node-style system error: message "CODE: strerror, syscall 'path'", with
 * err.code = "ENOENT"…, err.errno = -errno (as Node does), err.syscall and err.path. */
napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path);
/* Throws a TypeError or RangeError with a Node-style `code` (ERR_INVALID_ARG_TYPE…). */
napi_value throw_type(napi_env env, const char *code, const char *name, const char *what);
napi_value throw_range(napi_env env, const char *name, const char *what);

napi_value make_int(napi_env env, int64_t v);
napi_value make_undefined(napi_env env);
/* Sets obj[key] = value; returns false (exception pending) on failure. */
bool set_prop(napi_env env, napi_value obj, const char *key, napi_value value);

#endif
