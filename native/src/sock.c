/*
 * UNIX socket calls Node lacks: SO_PEERCRED, and SOCK_SEQPACKET (conmon's attach socket), whose
 * messages keep their boundaries. Every socket here is non-blocking and close-on-exec; readiness
 * comes from a Poller (poller.c) on the Node event loop.
 */
#include "register.h"

#include "args.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Receive buffer: a message larger than this is reported as EMSGSIZE, never split. */
#define MAX_MESSAGE 65536
static _Thread_local char recv_buf[MAX_MESSAGE];

static napi_value js_peer_cred(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd;
  struct ucred cred;
  socklen_t len = sizeof cred;
  napi_value o;
  if (!arg_fd(env, argv[0], "fd", &fd)) return NULL;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return throw_errno(env, errno, "getsockopt", NULL);
  if (napi_create_object(env, &o) != napi_ok) return NULL;
  if (!set_prop(env, o, "pid", make_int(env, cred.pid)) ||
      !set_prop(env, o, "uid", make_int(env, cred.uid)) ||
      !set_prop(env, o, "gid", make_int(env, cred.gid)))
    return NULL;
  return o;
}

/* Fills a sockaddr_un; a path that does not fit sun_path (107 bytes + NUL) is ENAMETOOLONG. */
static bool arg_sockaddr(napi_env env, napi_value v, const char *syscall, struct sockaddr_un *addr) {
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  return arg_cstr(env, v, "path", addr->sun_path, sizeof addr->sun_path, ENAMETOOLONG, syscall);
}

static int seqpacket_socket(void) {
  return socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

/* Connects without blocking: a UNIX connect completes at once or fails (EAGAIN: the listener's
 * backlog is full; the caller may retry). */
static napi_value js_seqpacket_connect(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct sockaddr_un addr;
  if (!arg_sockaddr(env, argv[0], "connect", &addr)) return NULL;
  int fd = seqpacket_socket();
  if (fd < 0) return throw_errno(env, errno, "socket", NULL);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "connect", addr.sun_path);
  }
  return make_int(env, fd);
}

static napi_value js_seqpacket_listen(napi_env env, napi_callback_info info) {
  ARGS(2);
  struct sockaddr_un addr;
  int64_t backlog;
  if (!arg_sockaddr(env, argv[0], "bind", &addr) ||
      !arg_int(env, argv[1], "backlog", 1, 4096, &backlog))
    return NULL;
  int fd = seqpacket_socket();
  if (fd < 0) return throw_errno(env, errno, "socket", NULL);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "bind", addr.sun_path);
  }
  if (listen(fd, (int)backlog) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "listen", addr.sun_path);
  }
  return make_int(env, fd);
}

/* A new non-blocking connection fd, or -1 when none is pending. */
static napi_value js_accept(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd;
  if (!arg_fd(env, argv[0], "fd", &fd)) return NULL;
  int conn;
  do conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  while (conn < 0 && (errno == EINTR || errno == ECONNABORTED));
  if (conn < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return make_int(env, -1);
  if (conn < 0) return throw_errno(env, errno, "accept4", NULL);
  return make_int(env, conn);
}

/* One message as a new Buffer; null when none is queued (EAGAIN); an empty Buffer at end of
 * stream (recv returned 0 — a zero-length message cannot be told apart, so none is ever sent). */
static napi_value js_recv_message(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd;
  ssize_t n;
  napi_value out = NULL;
  if (!arg_fd(env, argv[0], "fd", &fd)) return NULL;
  /* MSG_TRUNC makes recv return the real length, so a truncated message is detected. */
  do n = recv(fd, recv_buf, sizeof recv_buf, MSG_DONTWAIT | MSG_TRUNC);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    napi_get_null(env, &out);
    return out;
  }
  if (n < 0) return throw_errno(env, errno, "recv", NULL);
  if ((size_t)n > sizeof recv_buf) return throw_errno(env, EMSGSIZE, "recv", NULL);
  napi_create_buffer_copy(env, (size_t)n, recv_buf, NULL, &out);
  return out;
}

/* Sends one whole message: true when sent, false when the socket buffer is full (EAGAIN). */
static napi_value js_send_message(napi_env env, napi_callback_info info) {
  ARGS(2);
  int fd;
  void *data;
  size_t len;
  ssize_t n;
  napi_value out = NULL;
  if (!arg_fd(env, argv[0], "fd", &fd) || !arg_bytes(env, argv[1], "data", &data, &len)) return NULL;
  if (len == 0) return throw_range(env, "data", "must not be empty (the peer would read end-of-file)");
  do n = send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    napi_get_boolean(env, false, &out);
    return out;
  }
  if (n < 0) return throw_errno(env, errno, "send", NULL);
  /* SOCK_SEQPACKET sends all or nothing; anything else would break the message boundary. */
  if ((size_t)n != len) return throw_errno(env, EIO, "send", NULL);
  napi_get_boolean(env, true, &out);
  return out;
}

static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  ARGS(2);
  int fd;
  int64_t how;
  if (!arg_fd(env, argv[0], "fd", &fd) || !arg_int(env, argv[1], "how", SHUT_RD, SHUT_RDWR, &how))
    return NULL;
  if (shutdown(fd, (int)how) != 0) return throw_errno(env, errno, "shutdown", NULL);
  return make_undefined(env);
}

bool register_sock(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"peerCred", NULL, js_peer_cred, NULL, NULL, NULL, napi_enumerable, NULL},
      {"seqpacketConnect", NULL, js_seqpacket_connect, NULL, NULL, NULL, napi_enumerable, NULL},
      {"seqpacketListen", NULL, js_seqpacket_listen, NULL, NULL, NULL, napi_enumerable, NULL},
      {"accept", NULL, js_accept, NULL, NULL, NULL, napi_enumerable, NULL},
      {"recvMessage", NULL, js_recv_message, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendMessage", NULL, js_send_message, NULL, NULL, NULL, napi_enumerable, NULL},
      {"shutdown", NULL, js_shutdown, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok;
}
