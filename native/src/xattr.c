/*
 * Extended attributes with binary values (trusted.overlay.opaque, security.capability…).
 * fd-based calls need a real fd (not O_PATH). lsetxattr takes a path and so is only as safe as
 * that path: use it on "/proc/self/fd/<O_PATH fd>" to reach a pinned symlink or special file.
 */
#include "register.h"

#include "args.h"

#include <errno.h>
#include <linux/limits.h>
#include <string.h>
#include <sys/xattr.h>

/* Values and lists are capped by the kernel at 64 KiB; one read into a buffer that size needs no
 * size probe, so it cannot race with a concurrent change of the value. */
static _Thread_local char value_buf[XATTR_SIZE_MAX];

static bool arg_xattr_name(napi_env env, napi_value v, const char *syscall, char buf[XATTR_NAME_MAX + 1]) {
  return arg_cstr(env, v, "name", buf, XATTR_NAME_MAX + 1, ERANGE, syscall);
}

static bool arg_value(napi_env env, napi_value v, void **data, size_t *len) {
  if (!arg_bytes(env, v, "value", data, len)) return false;
  if (*len > XATTR_SIZE_MAX) {
    throw_range(env, "value", "must be at most 65536 bytes");
    return false;
  }
  return true;
}

static napi_value js_fsetxattr(napi_env env, napi_callback_info info) {
  ARGS(4);
  int fd;
  char name[XATTR_NAME_MAX + 1];
  void *data;
  size_t len;
  int64_t flags;
  if (!arg_fd(env, argv[0], "fd", &fd) || !arg_xattr_name(env, argv[1], "fsetxattr", name) ||
      !arg_value(env, argv[2], &data, &len) || !arg_int(env, argv[3], "flags", 0, 3, &flags))
    return NULL;
  if (fsetxattr(fd, name, data, len, (int)flags) != 0)
    return throw_errno(env, errno, "fsetxattr", NULL);
  return make_undefined(env);
}

static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  ARGS(4);
  char path[PATH_MAX], name[XATTR_NAME_MAX + 1];
  void *data;
  size_t len;
  int64_t flags;
  if (!arg_path(env, argv[0], "lsetxattr", path) ||
      !arg_xattr_name(env, argv[1], "lsetxattr", name) || !arg_value(env, argv[2], &data, &len) ||
      !arg_int(env, argv[3], "flags", 0, 3, &flags))
    return NULL;
  if (lsetxattr(path, name, data, len, (int)flags) != 0)
    return throw_errno(env, errno, "lsetxattr", path);
  return make_undefined(env);
}

/* The value as a Buffer; a missing attribute is ENODATA. */
static napi_value js_fgetxattr(napi_env env, napi_callback_info info) {
  ARGS(2);
  int fd;
  char name[XATTR_NAME_MAX + 1];
  napi_value out = NULL;
  if (!arg_fd(env, argv[0], "fd", &fd) || !arg_xattr_name(env, argv[1], "fgetxattr", name))
    return NULL;
  ssize_t n = fgetxattr(fd, name, value_buf, sizeof value_buf);
  if (n < 0) return throw_errno(env, errno, "fgetxattr", NULL);
  napi_create_buffer_copy(env, (size_t)n, value_buf, NULL, &out);
  return out;
}

/* The attribute names as strings. */
static napi_value js_flistxattr(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd;
  napi_value arr;
  uint32_t count = 0;
  if (!arg_fd(env, argv[0], "fd", &fd)) return NULL;
  ssize_t n = flistxattr(fd, value_buf, sizeof value_buf);
  if (n < 0) return throw_errno(env, errno, "flistxattr", NULL);
  if (napi_create_array(env, &arr) != napi_ok) return NULL;
  for (ssize_t off = 0; off < n;) {
    size_t len = strnlen(value_buf + off, (size_t)(n - off));
    napi_value name = NULL;
    if (len > 0) {
      if (napi_create_string_utf8(env, value_buf + off, len, &name) != napi_ok ||
          napi_set_element(env, arr, count++, name) != napi_ok)
        return NULL;
    }
    off += (ssize_t)len + 1;
  }
  return arr;
}

bool register_xattr(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"fsetxattr", NULL, js_fsetxattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lsetxattr", NULL, js_lsetxattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fgetxattr", NULL, js_fgetxattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flistxattr", NULL, js_flistxattr, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok;
}
