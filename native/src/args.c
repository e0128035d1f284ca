#include "args.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

bool get_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, napi_value *self) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, self, NULL) != napi_ok) return false;
  if (argc < n) {
    char msg[96];
    snprintf(msg, sizeof msg, "%zu arguments are required, got %zu", n, argc);
    napi_throw_type_error(env, "ERR_MISSING_ARGS", msg);
    return false;
  }
  return true;
}

bool arg_int(napi_env env, napi_value v, const char *name, int64_t min, int64_t max, int64_t *out) {
  napi_valuetype t;
  double d;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t != napi_number) {
    throw_type(env, "ERR_INVALID_ARG_TYPE", name, "must be of type number");
    return false;
  }
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  /* NaN fails both comparisons; the range check also bounds the cast below. */
  if (!(d >= (double)min && d <= (double)max) || d != floor(d)) {
    throw_range(env, name, "must be an integer in range");
    return false;
  }
  *out = (int64_t)d;
  return true;
}

bool arg_fd(napi_env env, napi_value v, const char *name, int *out) {
  int64_t n;
  if (!arg_int(env, v, name, 0, INT_MAX, &n)) return false;
  *out = (int)n;
  return true;
}

bool arg_dirfd(napi_env env, napi_value v, const char *name, int *out) {
  int64_t n;
  if (!arg_int(env, v, name, AT_FDCWD, INT_MAX, &n)) return false;
  if (n < 0 && n != AT_FDCWD) {
    throw_range(env, name, "must be a file descriptor or AT_FDCWD");
    return false;
  }
  *out = (int)n;
  return true;
}

static bool copy_checked(napi_env env, const char *name, const char *src, size_t len, char *buf,
                         size_t cap, int too_long, const char *syscall) {
  if (len >= cap) {
    throw_errno(env, too_long, syscall, NULL);
    return false;
  }
  if (memchr(src, '\0', len) != NULL) {
    throw_type(env, "ERR_INVALID_ARG_VALUE", name, "must not contain null bytes");
    return false;
  }
  memcpy(buf, src, len);
  buf[len] = '\0';
  return true;
}

static bool string_arg(napi_env env, napi_value v, const char *name, char *buf, size_t cap,
                       int too_long, const char *syscall) {
  size_t len = 0, copied = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return false;
  if (len >= cap) {
    throw_errno(env, too_long, syscall, NULL);
    return false;
  }
  if (napi_get_value_string_utf8(env, v, buf, cap, &copied) != napi_ok) return false;
  /* A NUL inside the JS string would silently cut the path short: refuse it. */
  if (copied != len || strlen(buf) != len) {
    throw_type(env, "ERR_INVALID_ARG_VALUE", name, "must not contain null bytes");
    return false;
  }
  return true;
}

bool arg_cstr(napi_env env, napi_value v, const char *name, char *buf, size_t cap, int too_long,
              const char *syscall) {
  napi_valuetype t;
  bool is_buffer = false;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_string) return string_arg(env, v, name, buf, cap, too_long, syscall);
  if (t == napi_object && napi_is_buffer(env, v, &is_buffer) == napi_ok && is_buffer) {
    void *data = NULL;
    size_t len = 0;
    if (napi_get_buffer_info(env, v, &data, &len) != napi_ok) return false;
    return copy_checked(env, name, data == NULL ? "" : data, len, buf, cap, too_long, syscall);
  }
  throw_type(env, "ERR_INVALID_ARG_TYPE", name, "must be a string or Buffer");
  return false;
}

bool arg_path(napi_env env, napi_value v, const char *syscall, char buf[PATH_MAX]) {
  return arg_cstr(env, v, "path", buf, PATH_MAX, ENAMETOOLONG, syscall);
}

bool arg_bytes(napi_env env, napi_value v, const char *name, void **data, size_t *len) {
  bool is_buffer = false;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t != napi_object || napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer) {
    throw_type(env, "ERR_INVALID_ARG_TYPE", name, "must be a Buffer or Uint8Array");
    return false;
  }
  if (napi_get_buffer_info(env, v, data, len) != napi_ok) return false;
  return true;
}

bool arg_bool(napi_env env, napi_value v, const char *name, bool *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t != napi_boolean) {
    throw_type(env, "ERR_INVALID_ARG_TYPE", name, "must be of type boolean");
    return false;
  }
  return napi_get_value_bool(env, v, out) == napi_ok;
}

static napi_value str(napi_env env, const char *s) {
  napi_value v = NULL;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* The description Node itself prints (libuv's wording), or the C library's for errors libuv lacks. */
static const char *describe(int err, char *buf, size_t len) {
  uv_strerror_r(-err, buf, len);
  return strncmp(buf, "Unknown system error", 20) == 0 ? strerror(err) : buf;
}

napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  const char *code = strerrorname_np(err);
  char msg[PATH_MAX + 256], text[128];
  napi_value error = NULL;
  if (code == NULL) code = "UNKNOWN";
  if (path != NULL) {
    snprintf(msg, sizeof msg, "%s: %s, %s '%s'", code, describe(err, text, sizeof text), syscall, path);
  } else {
    snprintf(msg, sizeof msg, "%s: %s, %s", code, describe(err, text, sizeof text), syscall);
  }
  if (napi_create_error(env, str(env, code), str(env, msg), &error) != napi_ok) return NULL;
  set_prop(env, error, "errno", make_int(env, -err));
  set_prop(env, error, "syscall", str(env, syscall));
  if (path != NULL) set_prop(env, error, "path", str(env, path));
  napi_throw(env, error);
  return NULL;
}

napi_value throw_type(napi_env env, const char *code, const char *name, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, "The \"%s\" argument %s", name, what);
  napi_throw_type_error(env, code, msg);
  return NULL;
}

napi_value throw_range(napi_env env, const char *name, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, "The \"%s\" argument %s", name, what);
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

napi_value make_int(napi_env env, int64_t v) {
  napi_value out = NULL;
  napi_create_int64(env, v, &out);
  return out;
}

napi_value make_undefined(napi_env env) {
  napi_value out = NULL;
  napi_get_undefined(env, &out);
  return out;
}

bool set_prop(napi_env env, napi_value obj, const char *key, napi_value value) {
  return value != NULL && napi_set_named_property(env, obj, key, value) == napi_ok;
}
