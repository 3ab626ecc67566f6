// Misbehaving clients of the helper's socket, as node -e scripts (run them as any uid with setpriv).
// The attack suite and the client-load benchmark share them.
import { output, run } from '../../native-helper/src/mechanism/exec.ts';

/** argv: SOCKET N MS. Opens N connections, holds them MS ms; prints {open, refused, reasons}. */
const HOLD_CONNECTIONS = `
  const net = require('net');
  const [path, n, ms] = process.argv.slice(1);
  let open = 0; const reasons = new Set();
  const all = [];
  for (let i = 0; i < Number(n); i++) all.push(new Promise((done) => {
    const s = net.connect(path);
    let got = '';
    s.on('data', (d) => { got += d; });
    s.on('error', () => {});
    s.on('close', () => { if (got) reasons.add(JSON.parse(got.split('\\n')[0]).error.message); done(); });
    setTimeout(() => { if (!s.destroyed) open++; s.destroy(); done(); }, Number(ms));
  }));
  Promise.all(all).then(() => console.log(JSON.stringify({ open, refused: Number(n) - open, reasons: [...reasons] })));`;

/** argv: SOCKET REQUESTS [CONNECTIONS [MS]]. Each connection pipelines apps.list and never reads. */
export const NEVER_READS = `
  const [path, requests, conns = '1', ms = '10000'] = process.argv.slice(1);
  for (let c = 0; c < Number(conns); c++) {
    const s = require('net').connect(path);
    s.pause();
    s.on('connect', () => { for (let i = 0; i < Number(requests); i++) s.write(JSON.stringify({ id: i, method: 'apps.list' }) + '\\n'); });
    s.on('error', () => {});
  }
  setTimeout(() => process.exit(0), Number(ms));`;

export interface Held {
  open: number;
  refused: number;
  reasons: string[];
}

/** As a member of the switchyard group with this uid: open `count` connections and hold them `ms`. */
export async function holdConnections(socket: string, uid: number, count: number, ms: number): Promise<Held> {
  const gid = (await output(['getent', 'group', 'switchyard'])).split(':')[2]!;
  const r = await run(
    [
      'setpriv',
      `--reuid=${uid}`,
      `--regid=${uid}`,
      `--groups=${gid}`,
      '--',
      process.execPath,
      '-e',
      HOLD_CONNECTIONS,
      socket,
      String(count),
      String(ms),
    ],
    { allowFailure: true, timeoutMs: ms + 60_000 },
  );
  return r.stdout.trim()
    ? (JSON.parse(r.stdout) as Held)
    : { open: 0, refused: count, reasons: [r.stderr.trim()] };
}
