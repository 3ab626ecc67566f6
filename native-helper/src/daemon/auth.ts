// Who may talk to the helper: root and members of the helper's group (default `switchyard`).
// Identity comes from SO_PEERCRED, group membership from the peer's own /proc status (its real
// supplementary groups at connect time), so nothing the client says about itself is trusted.
import { readFileSync } from 'node:fs';

export interface Peer {
  pid: number;
  uid: number;
  gid: number;
}

export interface GroupInfo {
  name: string;
  gid: number;
  members: string[];
}

export function lookupGroup(name: string, groupFile = '/etc/group'): GroupInfo | null {
  for (const line of readFileSync(groupFile, 'utf8').split('\n')) {
    const [gname, , gid, members] = line.split(':');
    if (gname === name && gid !== undefined) {
      return { name, gid: Number(gid), members: members ? members.split(',').filter(Boolean) : [] };
    }
  }
  return null;
}

export function userName(uid: number, passwdFile = '/etc/passwd'): string {
  try {
    for (const line of readFileSync(passwdFile, 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (id !== undefined && Number(id) === uid && name) return name;
    }
  } catch {
    // fall through: an unknown uid is shown by number
  }
  return `uid ${uid}`;
}

/** Supplementary groups of a live process, from the `Groups:` line of /proc/PID/status. */
export function processGroups(pid: number): number[] {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const line = status.split('\n').find((l) => l.startsWith('Groups:'));
    return line ? line.slice(7).trim().split(/\s+/).filter(Boolean).map(Number) : [];
  } catch {
    return [];
  }
}

export type Authorization = { allowed: true } | { allowed: false; reason: string };

export function authorize(peer: Peer, group: GroupInfo | null): Authorization {
  if (peer.uid === 0) return { allowed: true };
  if (group && (peer.gid === group.gid || processGroups(peer.pid).includes(group.gid)))
    return { allowed: true };
  const who = userName(peer.uid);
  return {
    allowed: false,
    reason: group
      ? `${who} is not in the '${group.name}' group; run \`sudo usermod -aG ${group.name} ${who}\`, then log out and back in`
      : `only root may use this helper because the group it was told to trust does not exist; run \`sudo groupadd --system switchyard\``,
  };
}
