import { describe, expect, it } from 'vitest';
import { type PreflightHost, PreflightError, preflight } from './preflight.ts';

function errno(code: string): Error {
  return Object.assign(new Error(`ensureBpffs: mount: ${code}`), { code });
}

/** A machine where everything is present; each test breaks one piece. */
function host(over: Partial<PreflightHost> = {}): PreflightHost & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    loadAddon: () => {},
    exists: () => true,
    findCgroup2Mount: () => Promise.resolve('/sys/fs/cgroup'),
    ensureBpffs: () => false,
    run: (argv) => {
      calls.push(argv);
      return Promise.resolve({ code: 0, stdout: '', stderr: '' });
    },
    ...over,
  };
}

describe('preflight', () => {
  it('passes on a complete machine and sets nothing up', async () => {
    const h = host();
    const r = await preflight(h);
    expect(r).toEqual({ cgroupMount: '/sys/fs/cgroup', setUp: [], warnings: [] });
    expect(h.calls.map((c) => c[0])).toEqual(['ip', 'nft']);
  });

  it('mounts bpffs when it is missing and says so', async () => {
    const mounted: string[] = [];
    const r = await preflight(host({ ensureBpffs: (p) => (mounted.push(p), true) }));
    expect(mounted).toEqual(['/sys/fs/bpf']);
    expect(r.setUp).toEqual(['mounted the BPF filesystem at /sys/fs/bpf']);
  });

  it.each([
    ['EROFS', '/sys is read-only here'],
    ['EPERM', 'no permission to mount'],
    ['ENOENT', 'CONFIG_BPF_SYSCALL'],
  ])('names the mount and the fix when bpffs cannot be mounted (%s)', async (code, why) => {
    const err = await preflight(
      host({
        ensureBpffs: () => {
          throw errno(code);
        },
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreflightError);
    const msg = (err as Error).message;
    expect(msg).toContain('the BPF filesystem is not mounted at /sys/fs/bpf');
    expect(msg).toContain(why);
    expect(msg).toContain('`mount -t bpf bpf /sys/fs/bpf`');
    expect(msg.split('\n')).toHaveLength(1);
  });

  it('names the cgroup2 mount when it is missing', async () => {
    await expect(
      preflight(host({ findCgroup2Mount: () => Promise.reject(new Error('none')) })),
    ).rejects.toThrow(/cgroup v2 is not mounted.*mount -t cgroup2 none \/sys\/fs\/cgroup/);
  });

  it('says which package to install when ip or nft is missing', async () => {
    const missing = (name: string) =>
      host({
        run: (argv) =>
          Promise.resolve(
            argv[0] === name
              ? { code: null, stdout: '', stderr: `spawn ${name} ENOENT` }
              : { code: 0, stdout: '', stderr: '' },
          ),
      });
    await expect(preflight(missing('ip'))).rejects.toThrow('install iproute2');
    await expect(preflight(missing('nft'))).rejects.toThrow('install nftables');
  });

  it('reports a kernel without nf_tables with the module to load', async () => {
    const h = host({
      run: (argv) =>
        Promise.resolve(
          argv[0] === 'nft'
            ? { code: 1, stdout: '', stderr: 'Error: Could not process rule: Operation not supported\n' }
            : { code: 0, stdout: '', stderr: '' },
        ),
    });
    await expect(preflight(h)).rejects.toThrow(
      /nftables does not work here.*Operation not supported.*modprobe nf_tables/,
    );
  });

  it('stops before anything else when the eBPF object is not built', async () => {
    const h = host({ exists: (p) => !p.endsWith('.bpf.o') });
    await expect(preflight(h)).rejects.toThrow(/sock_tag.bpf.o is missing: run `npm run build:native`/);
    expect(h.calls).toEqual([]);
  });

  it('only warns about /dev/net/tun: tunnels are optional', async () => {
    const r = await preflight(host({ exists: (p) => p !== '/dev/net/tun' }));
    expect(r.warnings).toEqual([{ key: 'tun', message: expect.stringContaining('modprobe tun') as string }]);
  });
});
