/*
 * Path-safe file system primitives: thin wrappers over the *at syscalls, so that every lookup can
 * start at a pinned directory fd and be confined with openat2's RESOLVE_* flags.
 *
 * Every fd this file returns is O_CLOEXEC (forced): a daemon that spawns runc and conmon must
 * never leak a host directory fd into a container (CVE-2024-21626).
 */
#include "register.h"

#include "args.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452 /* Linux 6.6, same number on every architecture */
#endif

/* Retries a syscall interrupted by a signal (Node installs handlers, e.g. for SIGCHLD). */
#define RETRY(expr)                                  \
  ({                                                 \
    long r_;                                         \
    do r_ = (long)(expr);                            \
    while (r_ == -1 && errno == EINTR);              \
    r_;                                              \
  })

/* The largest device numbers the kernel can encode (12-bit major, 20-bit minor); larger values
 * would be silently truncated into another device by the 32-bit mknod dev argument. */
#define MAX_MAJOR 0xfff
#define MAX_MINOR 0xfffff

static napi_value js_openat2(napi_env env, napi_callback_info info) {
  ARGS(5);
  int dirfd;
  char path[PATH_MAX];
  int64_t flags, mode, resolve;
  if (!arg_dirfd(env, argv[0], "dirfd", &dirfd) || !arg_path(env, argv[1], "openat2", path) ||
      !arg_int(env, argv[2], "flags", 0, UINT32_MAX, &flags) ||
      !arg_int(env, argv[3], "mode", 0, 07777, &mode) ||
      !arg_int(env, argv[4], "resolve", 0, UINT32_MAX, &resolve))
    return NULL;
  struct open_how how = {
      .flags = (uint64_t)flags | O_CLOEXEC, .mode = (uint64_t)mode, .resolve = (uint64_t)resolve};
  long fd = RETRY(syscall(SYS_openat2, dirfd, path, &how, sizeof how));
  if (fd < 0) return throw_errno(env, errno, "openat2", path);
  return make_int(env, fd);
}

static napi_value js_mkdirat(napi_env env, napi_callback_info info) {
  ARGS(3);
  int dirfd;
  char path[PATH_MAX];
  int64_t mode;
  if (!arg_dirfd(env, argv[0], "dirfd", &dirfd) || !arg_path(env, argv[1], "mkdirat", path) ||
      !arg_int(env, argv[2], "mode", 0, 07777, &mode))
    return NULL;
  if (mkdirat(dirfd, path, (mode_t)mode) != 0) return throw_errno(env, errno, "mkdirat", path);
  return make_undefined(env);
}

static napi_value js_mknodat(napi_env env, napi_callback_info info) {
  ARGS(5);
  int dirfd;
  char path[PATH_MAX];
  int64_t mode, major_, minor_;
  if (!arg_dirfd(env, argv[0], "dirfd", &dirfd) || !arg_path(env, argv[1], "mknodat", path) ||
      !arg_int(env, argv[2], "mode", 0, S_IFMT | 07777, &mode) ||
      !arg_int(env, argv[3], "major", 0, MAX_MAJOR, &major_) ||
      !arg_int(env, argv[4], "minor", 0, MAX_MINOR, &minor_))
    return NULL;
  dev_t dev = makedev((unsigned)major_, (unsigned)minor_);
  if (mknodat(dirfd, path, (mode_t)mode, dev) != 0) return throw_errno(env, errno, "mknodat", path);
  return make_undefined(env);
}

static napi_value js_symlinkat(napi_env env, napi_callback_info info) {
  ARGS(3);
  char target[PATH_MAX], path[PATH_MAX];
  int dirfd;
  if (!arg_path(env, argv[0], "symlinkat", target) || !arg_dirfd(env, argv[1], "dirfd", &dirfd) ||
      !arg_path(env, argv[2], "symlinkat", path))
    return NULL;
  if (symlinkat(target, dirfd, path) != 0) return throw_errno(env, errno, "symlinkat", path);
  return make_undefined(env);
}

static napi_value js_linkat(napi_env env, napi_callback_info info) {
  ARGS(5);
  int olddirfd, newdirfd;
  char oldpath[PATH_MAX], newpath[PATH_MAX];
  int64_t flags;
  if (!arg_dirfd(env, argv[0], "olddirfd", &olddirfd) ||
      !arg_path(env, argv[1], "linkat", oldpath) ||
      !arg_dirfd(env, argv[2], "newdirfd", &newdirfd) ||
      !arg_path(env, argv[3], "linkat", newpath) ||
      !arg_int(env, argv[4], "flags", 0, INT_MAX, &flags))
    return NULL;
  if (linkat(olddirfd, oldpath, newdirfd, newpath, (int)flags) != 0)
    return throw_errno(env, errno, "linkat", newpath);
  return make_undefined(env);
}

static napi_value js_unlinkat(napi_env env, napi_callback_info info) {
  ARGS(3);
  int dirfd;
  char path[PATH_MAX];
  int64_t flags;
  if (!arg_dirfd(env, argv[0], "dirfd", &dirfd) || !arg_path(env, argv[1], "unlinkat", path) ||
      !arg_int(env, argv[2], "flags", 0, INT_MAX, &flags))
    return NULL;
  if (unlinkat(dirfd, path, (int)flags) != 0) return throw_errno(env, errno, "unlinkat", path);
  return make_undefined(env);
}

static napi_value js_renameat2(napi_env env, napi_callback_info info) {
  ARGS(5);
  int olddirfd, newdirfd;
  char oldpath[PATH_MAX], newpath[PATH_MAX];
  int64_t flags;
  if (!arg_dirfd(env, argv[0], "olddirfd", &olddirfd) ||
      !arg_path(env, argv[1], "renameat2", oldpath) ||
      !arg_dirfd(env, argv[2], "newdirfd", &newdirfd) ||
      !arg_path(env, argv[3], "renameat2", newpath) ||
      !arg_int(env, argv[4], "flags", 0, UINT32_MAX, &flags))
    return NULL;
  if (renameat2(olddirfd, oldpath, newdirfd, newpath, (unsigned)flags) != 0)
    return throw_errno(env, errno, "renameat2", oldpath);
  return make_undefined(env);
}

static napi_value js_fchownat(napi_env env, napi_callback_info info) {
  ARGS(5);
  int dirfd;
  char path[PATH_MAX];
  int64_t uid, gid, flags;
  /* -1 leaves the id unchanged, as in chown(2); 0xffffffff is that same value, so it is excluded. */
  if (!arg_dirfd(env, argv[0], "dirfd", &dirfd) || !arg_path(env, argv[1], "fchownat", path) ||
      !arg_int(env, argv[2], "uid", -1, 0xfffffffe, &uid) ||
      !arg_int(env, argv[3], "gid", -1, 0xfffffffe, &gid) ||
      !arg_int(env, argv[4], "flags", 0, INT_MAX, &flags))
    return NULL;
  if (fchownat(dirfd, path, (uid_t)uid, (gid_t)gid, (int)flags) != 0)
    return throw_errno(env, errno, "fchownat", path);
  return make_undefined(env);
}

/* fchmodat2 (Linux 6.6) honours AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH, so a mode can be set on an
 * O_PATH fd (a FIFO or device node need not be opened) and never through a swapped-in symlink. */
static napi_value js_fchmodat(napi_env env, napi_callback_info info) {
  ARGS(4);
  int dirfd;
  char path[PATH_MAX];
  int64_t mode, flags;
  if (!arg_dirfd(env, argv[0], "dirfd", &dirfd) || !arg_path(env, argv[1], "fchmodat2", path) ||
      !arg_int(env, argv[2], "mode", 0, 07777, &mode) ||
      !arg_int(env, argv[3], "flags", 0, INT_MAX, &flags))
    return NULL;
  if (syscall(SYS_fchmodat2, dirfd, path, (mode_t)mode, (int)flags) != 0)
    return throw_errno(env, errno, "fchmodat2", path);
  return make_undefined(env);
}

/* A time argument: a BigInt of nanoseconds since the epoch, or null for "leave unchanged". */
static bool arg_time(napi_env env, napi_value v, const char *name, struct timespec *ts) {
  napi_valuetype t;
  int64_t ns;
  bool lossless = false;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_null) {
    ts->tv_sec = 0;
    ts->tv_nsec = UTIME_OMIT;
    return true;
  }
  if (t != napi_bigint) {
    throw_type(env, "ERR_INVALID_ARG_TYPE", name, "must be a bigint (nanoseconds) or null");
    return false;
  }
  if (napi_get_value_bigint_int64(env, v, &ns, &lossless) != napi_ok) return false;
  if (!lossless) {
    throw_range(env, name, "must fit in 64 bits");
    return false;
  }
  ts->tv_sec = ns / 1000000000;
  ts->tv_nsec = ns % 1000000000;
  if (ts->tv_nsec < 0) { /* floor division for times before 1970 */
    ts->tv_nsec += 1000000000;
    ts->tv_sec -= 1;
  }
  return true;
}

static napi_value js_utimensat(napi_env env, napi_callback_info info) {
  ARGS(5);
  int dirfd;
  char path[PATH_MAX];
  struct timespec times[2];
  int64_t flags;
  if (!arg_dirfd(env, argv[0], "dirfd", &dirfd) || !arg_path(env, argv[1], "utimensat", path) ||
      !arg_time(env, argv[2], "atime", &times[0]) || !arg_time(env, argv[3], "mtime", &times[1]) ||
      !arg_int(env, argv[4], "flags", 0, INT_MAX, &flags))
    return NULL;
  if (utimensat(dirfd, path, times, (int)flags) != 0)
    return throw_errno(env, errno, "utimensat", path);
  return make_undefined(env);
}

/* Nanoseconds since the epoch; times beyond ±292 years of 1970 saturate instead of overflowing. */
static napi_value ns_bigint(napi_env env, struct timespec ts) {
  napi_value v = NULL;
  int64_t ns;
  if (__builtin_mul_overflow((int64_t)ts.tv_sec, (int64_t)1000000000, &ns) ||
      __builtin_add_overflow(ns, (int64_t)ts.tv_nsec, &ns))
    ns = ts.tv_sec < 0 ? INT64_MIN : INT64_MAX;
  napi_create_bigint_int64(env, ns, &v);
  return v;
}

static napi_value u64_bigint(napi_env env, uint64_t n) {
  napi_value v = NULL;
  napi_create_bigint_uint64(env, n, &v);
  return v;
}

static napi_value stat_object(napi_env env, const struct stat *st) {
  napi_value o;
  if (napi_create_object(env, &o) != napi_ok) return NULL;
  bool ok = set_prop(env, o, "mode", make_int(env, st->st_mode)) &&
            set_prop(env, o, "uid", make_int(env, st->st_uid)) &&
            set_prop(env, o, "gid", make_int(env, st->st_gid)) &&
            set_prop(env, o, "size", make_int(env, st->st_size)) &&
            set_prop(env, o, "nlink", make_int(env, (int64_t)st->st_nlink)) &&
            set_prop(env, o, "dev", make_int(env, (int64_t)st->st_dev)) &&
            set_prop(env, o, "ino", u64_bigint(env, st->st_ino)) &&
            set_prop(env, o, "rdev", make_int(env, (int64_t)st->st_rdev)) &&
            set_prop(env, o, "rdevMajor", make_int(env, major(st->st_rdev))) &&
            set_prop(env, o, "rdevMinor", make_int(env, minor(st->st_rdev))) &&
            set_prop(env, o, "atimeNs", ns_bigint(env, st->st_atim)) &&
            set_prop(env, o, "mtimeNs", ns_bigint(env, st->st_mtim)) &&
            set_prop(env, o, "ctimeNs", ns_bigint(env, st->st_ctim));
  return ok ? o : NULL;
}

static napi_value js_fstatat(napi_env env, napi_callback_info info) {
  ARGS(3);
  int dirfd;
  char path[PATH_MAX];
  int64_t flags;
  struct stat st;
  if (!arg_dirfd(env, argv[0], "dirfd", &dirfd) || !arg_path(env, argv[1], "fstatat", path) ||
      !arg_int(env, argv[2], "flags", 0, INT_MAX, &flags))
    return NULL;
  if (fstatat(dirfd, path, &st, (int)flags) != 0) return throw_errno(env, errno, "fstatat", path);
  return stat_object(env, &st);
}

/* Returns bytes as a string (UTF-8) or, with as_buffer, a Buffer (for names that are not UTF-8). */
static napi_value bytes_value(napi_env env, const char *data, size_t len, bool as_buffer) {
  napi_value v = NULL;
  if (as_buffer) {
    napi_create_buffer_copy(env, len, data, NULL, &v);
  } else {
    napi_create_string_utf8(env, data, len, &v);
  }
  return v;
}

static napi_value js_readlinkat(napi_env env, napi_callback_info info) {
  ARGS(3);
  int dirfd;
  char path[PATH_MAX], target[PATH_MAX];
  bool as_buffer;
  if (!arg_dirfd(env, argv[0], "dirfd", &dirfd) || !arg_path(env, argv[1], "readlinkat", path) ||
      !arg_bool(env, argv[2], "asBuffer", &as_buffer))
    return NULL;
  ssize_t n = readlinkat(dirfd, path, target, sizeof target);
  if (n < 0) return throw_errno(env, errno, "readlinkat", path);
  if ((size_t)n == sizeof target) return throw_errno(env, ENAMETOOLONG, "readlinkat", path);
  return bytes_value(env, target, (size_t)n, as_buffer);
}

static bool is_dot_or_dotdot(const char *name) {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* Appends the names of one getdents64 batch to `arr`; returns false with an exception pending. */
static bool push_names(napi_env env, napi_value arr, uint32_t *count, const char *buf, long len,
                       bool as_buffer) {
  for (long off = 0; off < len;) {
    const struct dirent64 *d = (const struct dirent64 *)(buf + off);
    off += d->d_reclen;
    if (is_dot_or_dotdot(d->d_name)) continue;
    napi_value name = bytes_value(env, d->d_name, strlen(d->d_name), as_buffer);
    if (name == NULL || napi_set_element(env, arr, (*count)++, name) != napi_ok) return false;
  }
  return true;
}

/* The entry names of an open directory (O_RDONLY|O_DIRECTORY, not O_PATH), without "." and "..".
 * Rewinds the fd first, so it can be listed again; the listing is of the directory the fd pins,
 * whatever has been renamed since. */
static napi_value js_readdir_fd(napi_env env, napi_callback_info info) {
  ARGS(2);
  int fd;
  bool as_buffer;
  char buf[32768] __attribute__((aligned(8)));
  napi_value arr;
  uint32_t count = 0;
  if (!arg_fd(env, argv[0], "fd", &fd) || !arg_bool(env, argv[1], "asBuffer", &as_buffer))
    return NULL;
  if (lseek(fd, 0, SEEK_SET) < 0) return throw_errno(env, errno, "lseek", NULL);
  if (napi_create_array(env, &arr) != napi_ok) return NULL;
  for (;;) {
    long n = RETRY(getdents64(fd, buf, sizeof buf));
    if (n < 0) return throw_errno(env, errno, "getdents64", NULL);
    if (n == 0) return arr;
    if (!push_names(env, arr, &count, buf, n, as_buffer)) return NULL;
  }
}

/* close(2); EINTR still releases the fd on Linux, so it is not retried (that could close a
 * descriptor another thread just got). */
static napi_value js_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd;
  if (!arg_fd(env, argv[0], "fd", &fd)) return NULL;
  if (close(fd) != 0 && errno != EINTR) return throw_errno(env, errno, "close", NULL);
  return make_undefined(env);
}

bool register_fs(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"openat2", NULL, js_openat2, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mkdirat", NULL, js_mkdirat, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mknodat", NULL, js_mknodat, NULL, NULL, NULL, napi_enumerable, NULL},
      {"symlinkat", NULL, js_symlinkat, NULL, NULL, NULL, napi_enumerable, NULL},
      {"linkat", NULL, js_linkat, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unlinkat", NULL, js_unlinkat, NULL, NULL, NULL, napi_enumerable, NULL},
      {"renameat2", NULL, js_renameat2, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fchownat", NULL, js_fchownat, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fchmodat", NULL, js_fchmodat, NULL, NULL, NULL, napi_enumerable, NULL},
      {"utimensat", NULL, js_utimensat, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fstatat", NULL, js_fstatat, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readlinkat", NULL, js_readlinkat, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readdirFd", NULL, js_readdir_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok;
}
