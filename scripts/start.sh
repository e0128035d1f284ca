#!/usr/bin/env bash
# `npm start`: set up, start the daemon in the background if needed, make sure the built-in busybox
# image exists, and run a container. The container's output is the last line printed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

SOCK=/run/brig/brig.sock
PIDFILE=/run/brig/brig.pid
LOG=/var/log/brig/daemon.log
export BRIG_HOST="unix://$SOCK"

running() { [ -S "$SOCK" ] && [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

if ! running; then
  mkdir -p /var/log/brig && chmod 700 /var/log/brig
  echo "brig: starting the daemon (log: $LOG)" >&2
  setsid nohup node bin/brig daemon --socket "$SOCK" --data-root /var/lib/brig --run-root /run/brig --pidfile "$PIDFILE" >>"$LOG" 2>&1 </dev/null &
  for _ in $(seq 1 100); do
    if [ -S "$SOCK" ] && bin/brig version >/dev/null 2>&1; then break; fi
    sleep 0.1
  done
  running || { echo "brig: the daemon did not come up; last log lines:" >&2; tail -20 "$LOG" >&2; exit 1; }
fi

if ! bin/brig inspect busybox:latest >/dev/null 2>&1; then
  echo "brig: creating the built-in image busybox:latest from /bin/busybox" >&2
  bin/brig image builtin busybox:latest >&2
fi

exec bin/brig run --rm busybox echo "hello from brig"
