/*
 * brig's native addon: module entry point and the constants the bindings take.
 * Everything is synchronous except the Poller; see src/native/index.ts for the JS-facing contract.
 */
#include "register.h"

#include <sys/mount.h>

#include "args.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <uv.h>

typedef struct {
  const char *name;
  int64_t value;
} constant_t;

#define C(x) {#x, (int64_t)(x)}

static const constant_t constants[] = {
    /* open(2) flags, including those Node's fs.constants lacks (O_PATH, O_TMPFILE) */
    C(O_RDONLY), C(O_WRONLY), C(O_RDWR), C(O_CREAT), C(O_EXCL), C(O_TRUNC), C(O_APPEND),
    C(O_NONBLOCK), C(O_NOCTTY), C(O_DIRECTORY), C(O_NOFOLLOW), C(O_CLOEXEC), C(O_PATH),
    C(O_TMPFILE), C(O_NOATIME),
    /* openat2 resolve flags */
    C(RESOLVE_NO_XDEV), C(RESOLVE_NO_MAGICLINKS), C(RESOLVE_NO_SYMLINKS), C(RESOLVE_BENEATH),
    C(RESOLVE_IN_ROOT),
    /* *at flags */
    C(AT_FDCWD), C(AT_EMPTY_PATH), C(AT_SYMLINK_NOFOLLOW), C(AT_SYMLINK_FOLLOW), C(AT_REMOVEDIR),
    /* renameat2 */
    C(RENAME_NOREPLACE), C(RENAME_EXCHANGE), C(RENAME_WHITEOUT),
    /* file types for mknodat and fstatat().mode */
    C(S_IFMT), C(S_IFREG), C(S_IFDIR), C(S_IFLNK), C(S_IFCHR), C(S_IFBLK), C(S_IFIFO), C(S_IFSOCK),
    /* setxattr */
    C(XATTR_CREATE), C(XATTR_REPLACE),
    /* umount2 */
    C(MNT_DETACH), C(UMOUNT_NOFOLLOW),
    /* shutdown */
    C(SHUT_RD), C(SHUT_WR), C(SHUT_RDWR),
    /* Poller events */
    {"POLL_READABLE", UV_READABLE}, {"POLL_WRITABLE", UV_WRITABLE}, {"POLL_DISCONNECT", UV_DISCONNECT},
};

bool register_constants(napi_env env, napi_value exports) {
  napi_value obj;
  if (napi_create_object(env, &obj) != napi_ok) return false;
  for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++) {
    if (!set_prop(env, obj, constants[i].name, make_int(env, constants[i].value))) return false;
  }
  if (napi_object_freeze(env, obj) != napi_ok) return false;
  return napi_set_named_property(env, exports, "constants", obj) == napi_ok;
}

static napi_value init(napi_env env, napi_value exports) {
  if (!register_constants(env, exports) || !register_fs(env, exports) ||
      !register_xattr(env, exports) || !register_sock(env, exports) ||
      !register_poller(env, exports) || !register_mount(env, exports) ||
      !register_netns(env, exports))
    return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
