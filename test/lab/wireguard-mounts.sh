#!/bin/sh
# Run a command with DIR as its /var/run/wireguard, in a private mount namespace: wireguard-go puts its
# UAPI socket there (IFACE.sock, a fixed path), so two labs, or a lab and the user's own wg0, would
# collide on the shared one. The desktop's wireguard-go and the helper under test share the same DIR.
# Nothing outside the new mount namespace changes, apart from the empty mount point itself.
#   usage: wireguard-mounts.sh DIR CMD [ARG...]
set -eu
if [ "${1:-}" != --inside ]; then
  dir=$1
  shift
  mkdir -p "$dir" /var/run/wireguard
  exec unshare --mount --propagation private -- sh "$0" --inside "$dir" "$@"
fi
mount --bind "$2" /var/run/wireguard
shift 2
exec "$@"
