// Misbehaving clients of the helper's socket, as node -e scripts (run them as any uid with setpriv).
// The attack suite and the client-load benchmark share them.

/** argv: SOCKET N MS. Opens N connections, holds them MS ms; prints {open, refused, reasons}. */
export const HOLD_CONNECTIONS = `
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
