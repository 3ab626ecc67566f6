#!/usr/bin/env bash
# Install everything a fresh Debian 12 / Ubuntu machine lacks, then build the native parts and the UI.
# Used by the README's first command and by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive ELECTRON_SKIP_BINARY_DOWNLOAD=1
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

echo "=== apt packages"
as_root apt-get update -q
# clamav-daemon is for the tests, which run their own clamd with their own signatures. Its postinst would
# start clamd and freshclam (which downloads signatures): a policy-rc.d answering 101 ("not allowed") keeps
# the services of this install stopped. One the machine has already is left as it is.
policy_rc=/usr/sbin/policy-rc.d own_policy_rc=
if [ ! -e "$policy_rc" ]; then
  own_policy_rc=1
  trap 'as_root rm -f "$policy_rc"' EXIT
  as_root sh -c "printf '#!/bin/sh\nexit 101\n' >'$policy_rc' && chmod 755 '$policy_rc'"
fi
clamav_was_installed=$(dpkg-query -W -f='${db:Status-Status}' clamav-daemon 2>/dev/null || true)
as_root apt-get install -y -q --no-install-recommends \
  build-essential python3 clang llvm libclang-rt-14-dev bpftool libbpf-dev libelf-dev zlib1g-dev libsodium-dev libssl-dev \
  iproute2 nftables conntrack tcpdump iperf3 wireguard-go wireguard-tools openvpn openssl \
  chromium xvfb procps util-linux iputils-ping socat jq ca-certificates clamav-daemon \
  rpm rpmlint lintian debootstrap
if [ "$own_policy_rc" ]; then as_root rm -f "$policy_rc" && trap - EXIT; fi
# The postinst also enables the units for the next boot; undo that only when this run installed them.
if [ "$clamav_was_installed" != installed ] && command -v systemctl >/dev/null; then
  as_root systemctl disable --quiet clamav-daemon.service clamav-daemon.socket clamav-freshclam.service || true
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Switchyard needs Node.js 20.19 or newer; this is "+process.version); process.exit(1) }'

echo "=== npm ci"
npm ci --no-audit --no-fund

echo "=== build (native addon, eBPF program, data path, UI)"
npm run build

getent group switchyard >/dev/null || as_root groupadd --system switchyard

# The CLI the README describes, from any directory. It points at this checkout: the last setup wins.
echo "=== switchyard on the PATH"
as_root ln -sfn "$PWD/native-helper/bin/switchyard" /usr/local/bin/switchyard
echo "/usr/local/bin/switchyard -> $PWD/native-helper/bin/switchyard"
echo "=== setup done"
