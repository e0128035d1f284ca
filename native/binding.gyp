# The brig native addon: syscalls Node lacks (openat2, *at calls, xattrs, SO_PEERCRED, SOCK_SEQPACKET).
# C only, N-API only. Built by `npm install` (root "install" script) and by scripts/setup.sh.
{
  "targets": [
    {
      "target_name": "brig_native",
      "sources": [
        "src/addon.c",
        "src/args.c",
        "src/fs.c",
        "src/xattr.c",
        "src/sock.c",
        "src/poller.c",
        "src/mount.c",
        "src/netns.c"
      ],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE", "_FORTIFY_SOURCE=2"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wformat=2",
                 "-fvisibility=hidden", "-fstack-protector-strong"],
      "cflags!": ["-Wno-unused-parameter"],
      "configurations": {
        "Release": { "cflags!": ["-O3"], "cflags": ["-O2"] }
      }
    }
  ]
}
