// Sample app "Lab Updater": every few seconds asks DNS who it is (whoami.lab TXT, through the system
// resolver) and then checks http://<host>/update on a fresh connection.
import { Resolver } from 'node:dns/promises';
import { get } from 'node:http';
import { appOptions, errorText, every, logTraffic } from './traffic-log.ts';

const opts = appOptions(3000);
const resolver = new Resolver({ timeout: 2000, tries: 1 }); // uses /etc/resolv.conf (the lab's, via ip netns exec)

async function whoami(): Promise<void> {
  try {
    const records = await resolver.resolveTxt('whoami.lab');
    logTraffic({ kind: 'dns', ok: true, serverSawAddress: records[0]?.join('') ?? null, name: 'whoami.lab' });
  } catch (err) {
    logTraffic({ kind: 'dns', ok: false, serverSawAddress: null, name: 'whoami.lab', error: errorText(err) });
  }
}

function checkForUpdate(): Promise<void> {
  return new Promise((resolve) => {
    const req = get({ host: opts.host, port: 80, path: '/update', agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          const reply = JSON.parse(body) as { clientAddress: string };
          logTraffic({ kind: 'http', ok: res.statusCode === 200, serverSawAddress: reply.clientAddress });
        } catch (err) {
          logTraffic({
            kind: 'http',
            ok: false,
            serverSawAddress: null,
            error: `bad reply: ${errorText(err)}`,
          });
        }
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => {
      logTraffic({ kind: 'http', ok: false, serverSawAddress: null, error: errorText(err) });
      resolve();
    });
  });
}

await every(opts, async () => {
  await whoami();
  await checkForUpdate();
});
