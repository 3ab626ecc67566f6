// The maintainer scripts, as shell fragments both package formats run (dpkg's postinst/prerm/postrm,
// rpm's %post/%preun/%postun). Each is idempotent: running it twice changes nothing more.
import { HELPER_ENV, UNIT } from './layout.ts';

/** Creates the socket group, enables the helper; on an upgrade restarts it (it kept its kernel state). */
export function afterInstall(upgrade: string): string {
  return `# The group whose members may use the helper's socket.
if command -v systemd-sysusers >/dev/null 2>&1; then systemd-sysusers switchyard.conf || true; fi
getent group switchyard >/dev/null 2>&1 || groupadd --system switchyard
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable ${UNIT} >/dev/null 2>&1 || true
  # An upgrade: the old helper stops with its kernel state in place (kill switches keep holding), the
  # new one takes it over. A first install: start it.
  if ${upgrade}; then systemctl restart ${UNIT}; else systemctl start ${UNIT}; fi
else
  # No systemd running (a container, a chroot): enable it for the next boot, as systemctl enable would
  # (WantedBy=multi-user.target); start it by hand.
  mkdir -p /etc/systemd/system/multi-user.target.wants
  ln -sf /usr/lib/systemd/system/${UNIT} /etc/systemd/system/multi-user.target.wants/${UNIT}
  echo "switchyard: systemd is not running; start the helper with: switchyard helper" >&2
fi
`;
}

/** Stops the helper (with or without systemd) and removes its kernel state: nothing of it stays. */
export function beforeRemove(): string {
  return `if [ -d /run/systemd/system ]; then
  systemctl disable --now ${UNIT} >/dev/null 2>&1 || true
else
  rm -f /etc/systemd/system/multi-user.target.wants/${UNIT}
  # Without systemd: stop the running helper found on its socket, by its PID, and wait for it.
  pid=$(switchyard status --json 2>/dev/null | sed -n 's/.*"pid": *\\([0-9][0-9]*\\).*/\\1/p' | head -n 1)
  if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  fi
fi
# Rules, routing tables, the nft table, cgroups and eBPF pins of the stopped helper.
switchyard reset >/dev/null 2>&1 || switchyard reset || true
`;
}

/** On purge only: the helper's state and the package's configuration; never what the admin added. */
export function afterPurge(): string {
  return `rm -rf /var/lib/switchyard /run/switchyard
rm -f ${HELPER_ENV} ${HELPER_ENV}.dpkg-old ${HELPER_ENV}.dpkg-dist ${HELPER_ENV}.rpmsave ${HELPER_ENV}.rpmnew
rmdir /etc/switchyard 2>/dev/null || true
`;
}
