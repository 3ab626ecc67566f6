#!/bin/sh
# Run a command in a private mount namespace that looks like a fresh Debian 12 machine's: no bpffs at
# /sys/fs/bpf. `npm test` runs the integration and e2e suites this way, so a mount made by hand on a
# developer's machine cannot hide a step the helper or setup is missing. The host's mounts are untouched.
#   usage: fresh-mounts.sh CMD [ARG...]
set -eu
if [ "${1:-}" != --inside ]; then
  exec unshare --mount --propagation private -- sh "$0" --inside "$@"
fi
shift
# Stacked mounts are possible; take them all down (lazily: nothing in here uses them yet).
while findmnt -rn --mountpoint /sys/fs/bpf >/dev/null 2>&1; do umount -l /sys/fs/bpf; done
exec "$@"
