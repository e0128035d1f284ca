#!/usr/bin/env bash
# Installs what brig needs on Debian 12 (as root), only what is missing, then builds.
# Safe to run again: a second run with nothing to do takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'brig setup: %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  say "must run as root (brig's daemon and tests run containers)"; exit 1
fi

# Debian packages: runtime (runc, conmon), the built-in image (busybox-static), --init (tini), whiteouts (attr),
# users/groups (passwd, uidmap), networking tools for later issues (iptables, iproute2), and gcc +
# libc6-dev for the static syscall probe the security tests build; make, g++ and python3 for node-gyp
# (brig's native addon, better-sqlite3); docker-registry, skopeo, apache2-utils (htpasswd -B) and openssl
# for the registry tests (a real registry on 127.0.0.1: plain, TLS + Basic, Bearer); debootstrap for
# bench/pull (a Debian image pushed into a local registry).
PKGS=(runc conmon busybox-static tini attr uidmap iptables iproute2 util-linux procps gcc libc6-dev make g++ python3 docker-registry skopeo apache2-utils openssl debootstrap)
# Networking (issue 5): netavark + aardvark-dns (installed under /usr/lib/podman/), curl for the network tests.
PKGS+=(netavark aardvark-dns curl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The tests drive the real docker CLI; install Debian's docker.io only when no CLI exists.
if [ ! -x /usr/local/bin/docker ] && [ ! -x /usr/bin/docker ]; then
  missing+=(docker.io)
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Never let a package start its service here (docker.io would start a dockerd).
  policy_created=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; policy_created=1
  fi
  trap '[ "$policy_created" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/brig-apt.log 2>&1; then
    apt-get update >/tmp/brig-apt-update.log 2>&1 || { say "apt-get update failed: see /tmp/brig-apt-update.log"; exit 1; }
    apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/brig-apt.log 2>&1 || { say "apt-get install failed: see /tmp/brig-apt.log"; tail -20 /tmp/brig-apt.log >&2; exit 1; }
  fi
fi

# The group allowed to use the API socket.
getent group brig >/dev/null || groupadd --system brig

# npm dependencies (better-sqlite3 builds its native module against Node's headers).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  # `npm install` also runs brig's own "install" script, which builds the native addon.
  npm install --no-audit --no-fund >/tmp/brig-npm.log 2>&1 || { tail -30 /tmp/brig-npm.log >&2; exit 1; }
fi

# brig's native addon (native/, N-API): rebuilt when a source is newer than the built module.
addon=native/build/Release/brig_native.node
if [ ! -f "$addon" ] || [ -n "$(find native/src native/binding.gyp -newer "$addon" -print -quit 2>/dev/null)" ]; then
  say "building the native addon"
  npm run build:native >/tmp/brig-native.log 2>&1 || { tail -30 /tmp/brig-native.log >&2; exit 1; }
fi

# Build when any source is newer than the last build.
stamp=dist/.build-stamp
if [ ! -f "$stamp" ] || [ -n "$(find src test bench tsconfig.json package.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  say "building"
  npx tsc -p tsconfig.json
  touch "$stamp"
fi
