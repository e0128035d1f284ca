/*
 * Mounting the overlay root filesystems of containers without spawning mount(8) and umount(8):
 * a fork of the daemon costs milliseconds, and a daemon with hundreds of created containers
 * mounts and unmounts a lot.
 */
#include "register.h"

#include "args.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>

/* The kernel reads mount data up to one page. */
#define MOUNT_DATA_MAX 4096

/* mountOverlay(target, options): mount("overlay", target, "overlay", MS_NOSUID|MS_NODEV, options). */
static napi_value js_mount_overlay(napi_env env, napi_callback_info info) {
  ARGS(2);
  char target[PATH_MAX];
  char data[MOUNT_DATA_MAX];
  if (!arg_path(env, argv[0], "mount", target) ||
      !arg_cstr(env, argv[1], "options", data, sizeof data, E2BIG, "mount"))
    return NULL;
  if (mount("overlay", target, "overlay", 0, data) != 0) return throw_errno(env, errno, "mount", target);
  return make_undefined(env);
}

/* umount2(target, flags): flags are MNT_DETACH / UMOUNT_NOFOLLOW (from `constants`). */
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  ARGS(2);
  char target[PATH_MAX];
  int64_t flags;
  if (!arg_path(env, argv[0], "umount2", target) ||
      !arg_int(env, argv[1], "flags", 0, MNT_DETACH | UMOUNT_NOFOLLOW, &flags))
    return NULL;
  if (umount2(target, (int)flags) != 0) return throw_errno(env, errno, "umount2", target);
  return make_undefined(env);
}

bool register_mount(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"mountOverlay", NULL, js_mount_overlay, NULL, NULL, NULL, napi_enumerable, NULL},
      {"umount2", NULL, js_umount2, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok;
}
