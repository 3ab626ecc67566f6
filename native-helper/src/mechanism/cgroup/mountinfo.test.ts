import { describe, expect, it } from 'vitest';
import { cgroup2MountFrom, parseMountInfo, parseProcCgroup } from './mountinfo.ts';

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
`;

describe('mountinfo', () => {
  it('finds cgroup2 in a hybrid layout', () => {
    expect(cgroup2MountFrom(HYBRID)).toBe('/sys/fs/cgroup/unified');
  });

  it('finds cgroup2 in a unified layout and ignores v1 and other filesystems', () => {
    const unified = `22 1 8:1 / / rw - ext4 /dev/sda1 rw
35 22 0:30 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw
`;
    expect(cgroup2MountFrom(unified)).toBe('/sys/fs/cgroup');
  });

  it('returns null when cgroup2 is not mounted', () => {
    expect(cgroup2MountFrom('32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n')).toBeNull();
  });

  it('prefers the mount of the hierarchy root over a bind mount of a subtree', () => {
    const text = `50 22 0:30 /user.slice /mnt/sub rw - cgroup2 cgroup2 rw
51 22 0:30 / /mnt/cg2 rw - cgroup2 cgroup2 rw
`;
    expect(cgroup2MountFrom(text)).toBe('/mnt/cg2');
  });

  it('unescapes octal sequences in paths and keeps optional fields out of the way', () => {
    const [entry] = parseMountInfo(
      '60 22 0:40 / /mnt/with\\040space rw shared:1 master:2 - cgroup2 none rw\n',
    );
    expect(entry).toEqual({
      mountId: 60,
      parentId: 22,
      root: '/',
      mountPoint: '/mnt/with space',
      fsType: 'cgroup2',
      source: 'none',
    });
  });
});

describe('/proc/PID/cgroup', () => {
  it('takes the unified (0::) line among v1 lines', () => {
    const text = `9:name=systemd:/
4:memory:/process_api/abc
0::/switchyard.syt1/app-7
`;
    expect(parseProcCgroup(text)).toBe('/switchyard.syt1/app-7');
  });

  it('handles the root cgroup and deleted cgroups', () => {
    expect(parseProcCgroup('0::/\n')).toBe('/');
    expect(parseProcCgroup('0::/a/b (deleted)\n')).toBe('/a/b');
  });

  it('returns null for a v1-only process', () => {
    expect(parseProcCgroup('1:cpu:/\n2:memory:/x\n')).toBeNull();
  });
});
