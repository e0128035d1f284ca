/*
 * Poller: readiness of one fd on Node's libuv loop (a uv_poll_t), reported to a JS callback
 * `(status, events)`. It neither reads, writes nor closes the fd: the JS side does, with the
 * non-blocking calls of sock.c. The libuv poll is level-triggered, so data left unread is
 * reported again on the next loop iteration.
 *
 * Lifetime: while open, the poller holds a strong reference to its JS object (and so to the
 * callback), like a Node handle. close() stops polling at once (the fd may be closed right after)
 * and is safe inside the callback; the memory is freed when both libuv has closed the handle and
 * the JS object has been collected.
 */
#include "register.h"

#include "args.h"

#include <errno.h>
#include <stdlib.h>
#include <uv.h>

typedef struct {
  uv_poll_t handle; /* first member: the uv handle pointer is the poller pointer */
  napi_env env;
  napi_ref self;     /* strong while open */
  napi_ref callback; /* deleted when libuv has closed the handle */
  napi_async_context async;
  bool closing;
  bool handle_closed;
  bool object_gone;
} poller_t;

/* Drops the callback and the async context (not the object reference). */
static void release_js(poller_t *p) {
  if (p->callback != NULL) napi_delete_reference(p->env, p->callback);
  if (p->async != NULL) napi_async_destroy(p->env, p->async);
  p->callback = NULL;
  p->async = NULL;
}

static void on_handle_closed(uv_handle_t *h) {
  poller_t *p = (poller_t *)h;
  p->handle_closed = true;
  if (p->object_gone) { /* finalized first (environment teardown): nothing left to release */
    free(p);
    return;
  }
  /* Released here, not in close(): close() may run inside the callback that uses them. */
  release_js(p);
  uint32_t refs;
  napi_reference_unref(p->env, p->self, &refs); /* the object may now be collected */
}

static void start_close(poller_t *p) {
  if (p->closing) return;
  p->closing = true;
  uv_close((uv_handle_t *)&p->handle, on_handle_closed); /* also stops polling */
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  poller_t *p = data;
  napi_delete_reference(env, p->self);
  p->self = NULL;
  p->object_gone = true;
  if (p->handle_closed) {
    free(p);
  } else {
    start_close(p); /* only at environment teardown: an open poller keeps its object alive */
  }
}

static void report_exception(napi_env env) {
  napi_value err;
  if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  poller_t *p = (poller_t *)h;
  napi_handle_scope scope;
  napi_value self, cb, argv[2];
  if (p->closing || napi_open_handle_scope(p->env, &scope) != napi_ok) return;
  if (napi_get_reference_value(p->env, p->self, &self) == napi_ok &&
      napi_get_reference_value(p->env, p->callback, &cb) == napi_ok) {
    argv[0] = make_int(p->env, status);
    argv[1] = make_int(p->env, events);
    /* make_callback runs the nextTick queue and microtasks afterwards, as for any Node I/O. */
    if (napi_make_callback(p->env, p->async, self, cb, 2, argv, NULL) == napi_pending_exception)
      report_exception(p->env);
  }
  napi_close_handle_scope(p->env, scope);
}

static poller_t *unwrap(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  napi_value self;
  poller_t *p = NULL;
  if (!get_args(env, info, n, argv, &self)) return NULL;
  if (napi_unwrap(env, self, (void **)&p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_THIS", "not a Poller");
    return NULL;
  }
  return p;
}

static bool attach_js(napi_env env, poller_t *p, napi_value self, napi_value cb) {
  napi_value name;
  return napi_create_reference(env, cb, 1, &p->callback) == napi_ok &&
         napi_create_string_utf8(env, "BrigPoller", NAPI_AUTO_LENGTH, &name) == napi_ok &&
         napi_async_init(env, self, name, &p->async) == napi_ok;
}

/* new Poller(fd, callback) */
static napi_value js_new(napi_env env, napi_callback_info info) {
  napi_value argv[2], self;
  napi_valuetype t;
  uv_loop_t *loop;
  uint32_t refs;
  int fd;
  napi_value target = NULL;
  if (napi_get_new_target(env, info, &target) != napi_ok) return NULL;
  if (target == NULL) {
    napi_throw_type_error(env, "ERR_CONSTRUCT_CALL_REQUIRED", "Poller must be called with new");
    return NULL;
  }
  if (!get_args(env, info, 2, argv, &self) || !arg_fd(env, argv[0], "fd", &fd)) return NULL;
  if (napi_typeof(env, argv[1], &t) != napi_ok) return NULL;
  if (t != napi_function) return throw_type(env, "ERR_INVALID_ARG_TYPE", "callback", "must be a function");
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return NULL;
  poller_t *p = calloc(1, sizeof *p);
  if (p == NULL) return throw_errno(env, ENOMEM, "calloc", NULL);
  p->env = env;
  if (!attach_js(env, p, self, argv[1]) || napi_wrap(env, self, p, finalize, NULL, &p->self) != napi_ok) {
    release_js(p);
    free(p);
    return NULL;
  }
  /* From here the finalizer owns p. Strong until closed; if this failed, the finalizer would
   * still close the handle first. */
  napi_reference_ref(env, p->self, &refs);
  int rc = uv_poll_init(loop, &p->handle, fd);
  if (rc != 0) {
    p->closing = p->handle_closed = true; /* no handle to close; the finalizer frees p */
    release_js(p);
    napi_reference_unref(env, p->self, &refs);
    return throw_errno(env, -rc, "uv_poll_init", NULL);
  }
  return self;
}

/* start(events): UV_READABLE | UV_WRITABLE | UV_DISCONNECT; 0 stops polling. A no-op once closed. */
static napi_value js_start(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t events;
  poller_t *p = unwrap(env, info, 1, argv);
  if (p == NULL || !arg_int(env, argv[0], "events", 0, UV_READABLE | UV_WRITABLE | UV_DISCONNECT, &events))
    return NULL;
  if (p->closing) return make_undefined(env);
  int rc = events == 0 ? uv_poll_stop(&p->handle) : uv_poll_start(&p->handle, (int)events, on_poll);
  if (rc != 0) return throw_errno(env, -rc, "uv_poll_start", NULL);
  return make_undefined(env);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  poller_t *p = unwrap(env, info, 0, NULL);
  if (p == NULL) return NULL;
  start_close(p);
  return make_undefined(env);
}

static napi_value js_ref(napi_env env, napi_callback_info info) {
  poller_t *p = unwrap(env, info, 0, NULL);
  if (p == NULL) return NULL;
  if (!p->closing) uv_ref((uv_handle_t *)&p->handle);
  return make_undefined(env);
}

static napi_value js_unref(napi_env env, napi_callback_info info) {
  poller_t *p = unwrap(env, info, 0, NULL);
  if (p == NULL) return NULL;
  if (!p->closing) uv_unref((uv_handle_t *)&p->handle);
  return make_undefined(env);
}

bool register_poller(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"start", NULL, js_start, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"ref", NULL, js_ref, NULL, NULL, NULL, napi_default, NULL},
      {"unref", NULL, js_unref, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  if (napi_define_class(env, "Poller", NAPI_AUTO_LENGTH, js_new, NULL,
                        sizeof methods / sizeof methods[0], methods, &cls) != napi_ok)
    return false;
  return napi_set_named_property(env, exports, "Poller", cls) == napi_ok;
}
