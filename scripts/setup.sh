#!/usr/bin/env bash
# Everything `npm start` (no argument) or `npm test` (--test) needs on a Debian machine in
# migbench's own checkout, installed only when missing (so the second run takes a second):
# Debian packages, npm dependencies, then the guest image and migbench-probe (built by
# `migbench setup`, cached by content). --test adds what only the tests use: Chromium
# (the HTML report), libvirt, Go and govmomi (VMware's simulator, vcsim).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  say "migbench's lab needs root (network namespaces, taps, QEMU): run as root" >&2
  exit 2
fi

tests=false
[ "${1:-}" = --test ] && tests=true

packages=(qemu-system-x86 qemu-utils busybox-static iputils-ping openssh-server openssh-client iproute2 nftables gcc libc6-dev xz-utils)
if $tests; then
  packages+=(chromium libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients golang-go golang-github-vmware-govmomi-dev)
fi
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Installing openssh-server may start the machine's own sshd; migbench runs its own
  # per lab host and leaves the system's alone.
fi

# libvirt's QEMU driver will not start without its user, which only the daemon's system
# package (not installed: it would start a libvirtd of its own) creates.
if $tests && ! id -u libvirt-qemu >/dev/null 2>&1; then
  say "creating the system user libvirt-qemu (libvirt's QEMU driver needs it)"
  useradd --system --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
fi

stamp=node_modules/.migbench-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

if $tests; then
  node --import tsx src/cli/index.ts setup --test-tools
else
  node --import tsx src/cli/index.ts setup
fi
