#!/usr/bin/env bash
# Brings a fresh Debian 12 machine (run as root) to the point where `icon` builds, tests and demos:
# Debian packages (Docker engine, iptables, iproute2, miniupnpd, systemd-analyze, qemu for the arm64 binary, chromium,
# docker-registry), the npm packages (which bring Bun), a running dockerd, dist/icon, and the large sample ICON. Idempotent: a second run only checks and
# rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[36msetup:\033[0m %s\n' "$*" >&2; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v iptables >/dev/null 2>&1 || need_pkgs+=(iptables)
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2)
command -v ping >/dev/null 2>&1 || need_pkgs+=(iputils-ping)
command -v ps >/dev/null 2>&1 || need_pkgs+=(procps)
# npm installs the npm packages, Bun among them (Node.js without npm is rare, but then apt has it).
command -v npm >/dev/null 2>&1 || need_pkgs+=(npm)
# traceroute: an independent reference tracer for the testbed's hop and per-hop RTT checks (tests, bench testbed).
command -v traceroute >/dev/null 2>&1 || need_pkgs+=(traceroute)
# Testbed home routers: miniupnpd (a real UPnP IGD + NAT-PMP/PCP daemon) and upnpc to map ports in tests.
# miniupnpd-iptables ships no service (the miniupnpd metapackage does), so installing it starts no daemon
# in this machine's namespace; the testbed starts its own in each home router. iptables-legacy, whose
# tables miniupnpd programs, comes with iptables.
command -v miniupnpd >/dev/null 2>&1 || need_pkgs+=(miniupnpd-iptables)
command -v upnpc >/dev/null 2>&1 || need_pkgs+=(miniupnpc)
# systemd-analyze checks the unit `icon service install` writes (it verifies even where systemd is not PID 1).
command -v systemd-analyze >/dev/null 2>&1 || need_pkgs+=(systemd)
# The arm64 binary is tested under user-mode emulation with arm64 glibc (test/arm64.test.ts).
command -v qemu-aarch64-static >/dev/null 2>&1 || need_pkgs+=(qemu-user-static)
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || need_pkgs+=(libc6-arm64-cross)
# The dashboard's browser test drives Debian's headless chromium with playwright-core (test/dashboard-browser.test.ts).
command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)
# icon bench migrate --case cold-registry compares with the thesis's IPO, which pulled images from a registry:
# distribution's registry, run by the lab in a testbed host (the package's own service is not started here).
command -v docker-registry >/dev/null 2>&1 || need_pkgs+=(docker-registry)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: ${need_pkgs[*]}; run this script as root to install them"
  else
    say "installing Debian packages: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  fi
fi

# npm packages; bun arrives as a dev dependency (its platform binary is an optional dependency).
if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Docker engine: start dockerd if nothing answers on its socket.
if [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null 2>&1; then
  if ! docker info >/dev/null 2>&1; then
    say "starting dockerd (log: /var/log/icon-dockerd.log)"
    # Closing every inherited descriptor first: run under `flock /tmp/icon-e2e.lock`, dockerd would
    # otherwise keep the lock's descriptor and hold the lock for as long as it runs.
    ( for fd in /proc/$BASHPID/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null
      exec setsid nohup dockerd >/var/log/icon-dockerd.log 2>&1 </dev/null ) &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || { say "dockerd did not start; see /var/log/icon-dockerd.log"; exit 1; }
  fi
fi

# The binary, rebuilt when any source is newer than it.
if [ ! -x dist/icon ] || [ -n "$(find src icon-runtime examples build.ts package.json -newer dist/icon -print -quit 2>/dev/null)" ]; then
  say "building dist/icon"
  node_modules/.bin/bun build.ts >&2
fi

# The large sample ICON of icon bench migrate (cold-large, cold-registry), for this binary's version: npm
# packages from the npm registry in a layer of their own (examples/playground-app).
if [ "$(id -u)" = 0 ] && docker info >/dev/null 2>&1; then
  tag="icon-playground-app:$(dist/icon version | tr -c 'A-Za-z0-9_.\n-' '-')"
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    say "building $tag"
    ICON=dist/icon examples/playground-app/build.sh >/dev/null
  fi
fi
