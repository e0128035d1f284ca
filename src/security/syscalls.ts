/**
 * brig's syscall tables for the x86 family (x86_64, i386, x32), written from the kernel's syscall
 * tables (arch/x86/entry/syscalls/syscall_{64,32}.tbl). `seccomp.ts` turns them into a profile.
 *
 * Four kinds of syscall:
 * - ALLOWED_SYSCALLS: always allowed. A unit test proves the list is a subset of what Docker's
 *   default profile allows unconditionally.
 * - CAPABILITY_SYSCALLS: allowed only when the container holds the capability, EPERM otherwise.
 * - DENIED_SYSCALLS: known and dangerous (or obsolete); always EPERM.
 * - argument-filtered (clone, clone3, personality, socket): see `seccomp.ts`.
 * Anything else is unknown to brig and gets the profile's default, ENOSYS, so libc falls back to an
 * older call that brig does know (e.g. fchmodat2 -> fchmodat, clone3 -> clone).
 */

const FILES = [
  'access', 'faccessat', 'faccessat2', 'chdir', 'fchdir', 'getcwd',
  'chmod', 'fchmod', 'fchmodat', 'chown', 'chown32', 'fchown', 'fchown32', 'fchownat', 'lchown', 'lchown32',
  'open', 'openat', 'openat2', 'creat', 'close', 'close_range', 'dup', 'dup2', 'dup3', 'fcntl', 'fcntl64', 'flock',
  'fsync', 'fdatasync', 'sync', 'syncfs', 'sync_file_range',
  'truncate', 'truncate64', 'ftruncate', 'ftruncate64', 'fallocate', 'fadvise64', 'fadvise64_64', 'readahead',
  'link', 'linkat', 'unlink', 'unlinkat', 'symlink', 'symlinkat', 'readlink', 'readlinkat',
  'rename', 'renameat', 'renameat2', 'mkdir', 'mkdirat', 'rmdir',
  // Creating device nodes needs CAP_MKNOD, and opening them is gated by the device cgroup.
  'mknod', 'mknodat',
  'stat', 'stat64', 'lstat', 'lstat64', 'fstat', 'fstat64', 'newfstatat', 'fstatat64', 'statx',
  'statfs', 'statfs64', 'fstatfs', 'fstatfs64', 'getdents', 'getdents64', 'umask',
  'utime', 'utimes', 'utimensat', 'utimensat_time64', 'futimesat',
  'lseek', '_llseek', 'copy_file_range', 'sendfile', 'sendfile64', 'splice', 'tee', 'vmsplice',
  'getxattr', 'lgetxattr', 'fgetxattr', 'setxattr', 'lsetxattr', 'fsetxattr',
  'listxattr', 'llistxattr', 'flistxattr', 'removexattr', 'lremovexattr', 'fremovexattr',
];

const IO = [
  'read', 'readv', 'pread64', 'preadv', 'preadv2', 'write', 'writev', 'pwrite64', 'pwritev', 'pwritev2', 'ioctl',
  'pipe', 'pipe2', 'poll', 'ppoll', 'ppoll_time64', 'select', '_newselect', 'pselect6', 'pselect6_time64',
  'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_wait', 'epoll_wait_old', 'epoll_pwait', 'epoll_pwait2',
  'eventfd', 'eventfd2', 'signalfd', 'signalfd4',
  'timerfd_create', 'timerfd_settime', 'timerfd_settime64', 'timerfd_gettime', 'timerfd_gettime64',
  'inotify_init', 'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch',
  // fanotify_mark is harmless without a group, and creating one (fanotify_init) needs CAP_SYS_ADMIN.
  'fanotify_mark',
  // Legacy AIO. io_uring is NOT here: see DENIED_SYSCALLS.
  'io_setup', 'io_destroy', 'io_submit', 'io_cancel', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64',
];

const MEMORY = [
  'brk', 'mmap', 'mmap2', 'munmap', 'mremap', 'mprotect', 'madvise', 'mincore', 'msync', 'remap_file_pages',
  'mlock', 'mlock2', 'mlockall', 'munlock', 'munlockall', 'memfd_create', 'memfd_secret', 'membarrier',
];

const PROCESS = [
  'fork', 'vfork', 'execve', 'execveat', 'exit', 'exit_group', 'wait4', 'waitid', 'waitpid',
  'getpid', 'getppid', 'gettid', 'getpgid', 'setpgid', 'getpgrp', 'getsid', 'setsid',
  'kill', 'tkill', 'tgkill', 'pidfd_open', 'pidfd_send_signal', 'process_mrelease',
  'prctl', 'arch_prctl', 'modify_ldt', 'set_thread_area', 'get_thread_area', 'set_tid_address',
  'set_robust_list', 'get_robust_list', 'futex', 'futex_time64', 'futex_waitv', 'rseq', 'restart_syscall',
  // A process may always add seccomp filters and Landlock rules of its own: both only restrict it.
  'seccomp', 'landlock_create_ruleset', 'landlock_add_rule', 'landlock_restrict_self',
  'capget', 'capset', 'getrusage', 'times', 'getpriority', 'setpriority',
  'getrlimit', 'setrlimit', 'ugetrlimit', 'prlimit64', 'ioprio_get', 'ioprio_set',
  'getcpu', 'sysinfo', 'uname', 'getrandom',
];

const CREDENTIALS = [
  'getuid', 'getuid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getegid', 'getegid32',
  'getresuid', 'getresuid32', 'getresgid', 'getresgid32', 'getgroups', 'getgroups32',
  'setuid', 'setuid32', 'setgid', 'setgid32', 'setreuid', 'setreuid32', 'setregid', 'setregid32',
  'setresuid', 'setresuid32', 'setresgid', 'setresgid32', 'setfsuid', 'setfsuid32', 'setfsgid', 'setfsgid32',
  'setgroups', 'setgroups32',
];

const SIGNALS = [
  'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend',
  'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo', 'sigaltstack', 'sigreturn', 'sigprocmask',
  'pause', 'alarm',
];

const SCHEDULING_AND_TIME = [
  'sched_yield', 'sched_getaffinity', 'sched_setaffinity', 'sched_getattr', 'sched_setattr',
  'sched_getparam', 'sched_setparam', 'sched_getscheduler', 'sched_setscheduler',
  'sched_get_priority_max', 'sched_get_priority_min', 'sched_rr_get_interval', 'sched_rr_get_interval_time64',
  'nanosleep', 'clock_nanosleep', 'clock_nanosleep_time64',
  'time', 'gettimeofday', 'clock_gettime', 'clock_gettime64', 'clock_getres', 'clock_getres_time64',
  // Read-only without CAP_SYS_TIME (the kernel checks); setting the clock is gated below.
  'adjtimex', 'clock_adjtime', 'clock_adjtime64',
  'getitimer', 'setitimer', 'timer_create', 'timer_delete', 'timer_getoverrun',
  'timer_gettime', 'timer_gettime64', 'timer_settime', 'timer_settime64',
];

const NETWORK = [
  // socket() itself is argument-filtered (address families) in seccomp.ts.
  'socketpair', 'bind', 'connect', 'listen', 'accept', 'accept4', 'getsockname', 'getpeername',
  'getsockopt', 'setsockopt', 'shutdown', 'send', 'sendto', 'sendmsg', 'sendmmsg',
  'recv', 'recvfrom', 'recvmsg', 'recvmmsg', 'recvmmsg_time64',
  // The i386 multiplexer. Its arguments sit behind a pointer, so the AF_ALG/AF_VSOCK filter cannot see
  // them: a known gap, kept for i386 binaries (Docker reverted its socketcall block for this reason).
  'socketcall',
];

const IPC = [
  'ipc', 'msgget', 'msgctl', 'msgsnd', 'msgrcv', 'semget', 'semctl', 'semop', 'semtimedop', 'semtimedop_time64',
  'shmget', 'shmctl', 'shmat', 'shmdt',
  'mq_open', 'mq_unlink', 'mq_getsetattr', 'mq_notify', 'mq_timedreceive', 'mq_timedreceive_time64',
  'mq_timedsend', 'mq_timedsend_time64',
];

/** Syscalls every container may make. */
export const ALLOWED_SYSCALLS: readonly string[] = Object.freeze([
  ...FILES, ...IO, ...MEMORY, ...PROCESS, ...CREDENTIALS, ...SIGNALS, ...SCHEDULING_AND_TIME, ...NETWORK, ...IPC,
]);

/**
 * Syscalls unlocked by one capability (Docker's gates). A syscall may appear under several
 * capabilities; any one of them unlocks it.
 */
export const CAPABILITY_SYSCALLS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  CAP_SYS_ADMIN: [
    // Mounts and namespaces: the root of most container escapes.
    'mount', 'umount', 'umount2', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree',
    'mount_setattr', 'unshare', 'setns', 'sethostname', 'setdomainname',
    // Kernel tracing, BPF, LSM and audit surfaces.
    'bpf', 'perf_event_open', 'fanotify_init', 'lookup_dcookie', 'syslog', 'quotactl', 'quotactl_fd',
    'lsm_get_self_attr', 'lsm_set_self_attr', 'lsm_list_modules',
    // name_to_handle_at is the first half of the "shocker" primitive (it yields the handle that
    // open_by_handle_at opens, and leaks inode and mount identities). Docker 20.10 does not allow it
    // for an unprivileged container; callers (systemd, libmount) fall back to /proc on EPERM.
    'name_to_handle_at',
  ],
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['init_module', 'finit_module', 'delete_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['ptrace', 'process_vm_readv', 'process_vm_writev', 'process_madvise', 'kcmp', 'pidfd_getfd'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'set_mempolicy', 'mbind', 'set_mempolicy_home_node'],
  CAP_SYSLOG: ['syslog'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
});

/** Known syscalls no capability unlocks: only `--privileged` (no seccomp at all) gets them. */
export const DENIED_SYSCALLS: readonly string[] = Object.freeze([
  // Kernel keyrings are not namespaced.
  'add_key', 'keyctl', 'request_key',
  // io_uring: large attack surface, and its work items bypass per-syscall filtering.
  'io_uring_setup', 'io_uring_enter', 'io_uring_register',
  // Widens kernel race windows for exploits.
  'userfaultfd',
  // Kernel replacement and old module interfaces.
  'kexec_load', 'kexec_file_load', 'create_module', 'query_module', 'get_kernel_syms',
  // Host-global state.
  'swapon', 'swapoff', 'pivot_root', 'open_tree_attr', 'move_pages', 'migrate_pages',
  // Obsolete or legacy ABIs that only add kernel surface.
  // (Reserved numbers the kernel never implemented, such as afs_syscall or tuxcall, are left to the
  // ENOSYS default: an EPERM rule for them would only lengthen the filter.)
  'nfsservctl', 'uselib', 'ustat', 'sysfs', '_sysctl', 'vm86', 'vm86old',
]);
