/*
 * Network namespace files, the way `ip netns add` makes them but without spawning ip(8) and
 * without touching the daemon's own namespace: a short-lived pthread unshares CLONE_NEWNET (only
 * that thread moves to the new namespace; Node's threads never do) and bind-mounts its
 * /proc/self/task/<tid>/ns/net onto the target file. The mount keeps the namespace alive after the
 * thread exits; runc and netavark join it by path. Removal is umount2(MNT_DETACH) + unlink.
 */
#include "register.h"

#include "args.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct {
  const char *target;
  int err;             /* errno of the failing call, 0 = success */
  const char *syscall; /* which call failed */
} netns_job_t;

static void *netns_thread(void *arg) {
  netns_job_t *job = arg;
  if (unshare(CLONE_NEWNET) != 0) {
    job->err = errno;
    job->syscall = "unshare";
    return NULL;
  }
  char src[64];
  snprintf(src, sizeof src, "/proc/self/task/%ld/ns/net", (long)syscall(SYS_gettid));
  if (mount(src, job->target, NULL, MS_BIND, NULL) != 0) {
    job->err = errno;
    job->syscall = "mount";
  }
  return NULL;
}

/* createNetns(path): creates `path` (O_EXCL: EEXIST if present) and binds a fresh net namespace onto
 * it. On any failure the file is removed again before the error is thrown. */
static napi_value js_create_netns(napi_env env, napi_callback_info info) {
  ARGS(1);
  char target[PATH_MAX];
  if (!arg_path(env, argv[0], "open", target)) return NULL;
  int fd = open(target, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) return throw_errno(env, errno, "open", target);
  close(fd);
  netns_job_t job = {target, 0, NULL};
  pthread_t thread;
  int rc = pthread_create(&thread, NULL, netns_thread, &job);
  if (rc != 0) {
    job.err = rc;
    job.syscall = "pthread_create";
  } else if ((rc = pthread_join(thread, NULL)) != 0) {
    /* Cannot happen for a joinable thread we own; report it rather than guess the outcome. */
    job.err = rc;
    job.syscall = "pthread_join";
  }
  if (job.err != 0) {
    unlink(target);
    return throw_errno(env, job.err, job.syscall, target);
  }
  return make_undefined(env);
}

/* removeNetns(path): umount2(MNT_DETACH) then unlink; a file that is not mounted (EINVAL) or
 * already gone (ENOENT) is not an error, so removal is idempotent. Returns true if something was
 * removed. */
static napi_value js_remove_netns(napi_env env, napi_callback_info info) {
  ARGS(1);
  char target[PATH_MAX];
  if (!arg_path(env, argv[0], "umount2", target)) return NULL;
  bool removed = false;
  if (umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0) removed = true;
  else if (errno != EINVAL && errno != ENOENT) return throw_errno(env, errno, "umount2", target);
  if (unlink(target) == 0) removed = true;
  else if (errno != ENOENT) return throw_errno(env, errno, "unlink", target);
  napi_value result;
  if (napi_get_boolean(env, removed, &result) != napi_ok) return NULL;
  return result;
}

bool register_netns(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"createNetns", NULL, js_create_netns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"removeNetns", NULL, js_remove_netns, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok;
}
