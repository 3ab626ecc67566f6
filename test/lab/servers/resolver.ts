// An ISP's recursive resolver, as the lab plays it: it answers the lab's names itself (dns.ts) over UDP
// and TCP on the ISP's customer-side addresses, and says who it is in whoami.lab's TXT
// ("resolver=isp-a client=198.18.1.2"). Every query is a JSON line on stdout (the server's log), so a
// test sees which resolver was asked, by whom and how.
// Usage: resolver.ts --name=isp-a --listen=198.18.1.1 --listen=fd5a:1::1 --servers-v4=A --servers-v6=A
//        --gateway-v4=A --gateway-v6=A [--port=53]
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { parseArgs } from 'node:util';
import { respond, type DnsZone } from './dns.ts';
import { encodeResponse, parseQuery } from './dns-wire.ts';
import { listenTcp } from './dns-tcp.ts';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    listen: { type: 'string', multiple: true },
    'servers-v4': { type: 'string' },
    'servers-v6': { type: 'string' },
    'gateway-v4': { type: 'string' },
    'gateway-v6': { type: 'string' },
    port: { type: 'string', default: '53' },
  },
});
const name = values.name;
const zone: DnsZone = {
  serversV4: values['servers-v4'] ?? '',
  serversV6: values['servers-v6'] ?? '',
  gatewayV4: values['gateway-v4'] ?? '',
  gatewayV6: values['gateway-v6'] ?? '',
};
if (!name || !values.listen?.length || Object.values(zone).some((v) => !v)) {
  console.error('lab-resolver: --name, --listen, --servers-v4/-v6 and --gateway-v4/-v6 are required.');
  process.exit(2);
}
const port = Number(values.port);
const whoami = (client: string) => `resolver=${name} client=${client}`;

function answer(msg: Buffer, client: string, local: string, transport: 'udp' | 'tcp'): Buffer {
  let question: { name: string; type: number } | null = null;
  try {
    const q = parseQuery(msg);
    question = { name: q.name, type: q.type };
  } catch {
    // respond() answers FORMERR
  }
  console.log(JSON.stringify({ kind: 'dns-query', resolver: name, client, local, transport, ...question }));
  const full = respond(zone, msg, client, whoami);
  // Without EDNS (which this resolver does not speak) a UDP answer is at most 512 bytes: a bigger one
  // goes back truncated (TC, no records), and the asker asks again over TCP (RFC 1035, RFC 7766).
  if (transport === 'tcp' || full.length <= 512 || !question) return full;
  const cut = encodeResponse(parseQuery(msg), full.readUInt16BE(2) & 0xf, []);
  cut.writeUInt16BE(cut.readUInt16BE(2) | 0x0200, 2);
  return cut;
}

try {
  for (const address of values.listen) {
    const udp = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    udp.on('message', (msg, r) => udp.send(answer(msg, r.address, address, 'udp'), r.port, r.address));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, address, () => resolve());
    });
    await listenTcp(address, port, (msg, client) =>
      answer(msg, client.replace(/^::ffff:/, ''), address, 'tcp'),
    );
  }
} catch (err) {
  console.error(`lab-resolver: could not listen: ${(err as Error).message}`);
  process.exit(1);
}
process.on('SIGTERM', () => process.exit(0));
console.log('lab-resolver ready');
