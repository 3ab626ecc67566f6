// The lab's authoritative DNS server for a few names under .lab.
//   server.lab   A/AAAA → the servers' addresses
//   gateway.lab  A/AAAA → the gateway's public addresses
//   whoami.lab   TXT → the address of whoever asked; A/AAAA → that address when the family matches
//   big*.lab     TXT → 6 strings of 120 characters, an answer too big for plain UDP (512 bytes)
// Anything else is NXDOMAIN; a known name without that type answers NOERROR with no records.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import {
  encodeError,
  encodeResponse,
  parseQuery,
  RCODE,
  TYPE,
  type Answer,
  type Question,
} from './dns-wire.ts';

export interface DnsZone {
  serversV4: string;
  serversV6: string;
  gatewayV4: string;
  gatewayV6: string;
}

/** What whoami.lab's TXT says about the asker; the ISP resolvers say who they are too (resolver.ts). */
export type WhoamiText = (clientAddress: string) => string;

export function answerQuestion(
  zone: DnsZone,
  q: Question,
  clientAddress: string,
  whoami: WhoamiText = (c) => c,
): { rcode: number; answers: Answer[] } {
  const addresses = (v4: string, v6: string): Answer[] =>
    q.type === TYPE.A
      ? [{ type: TYPE.A, address: v4 }]
      : q.type === TYPE.AAAA
        ? [{ type: TYPE.AAAA, address: v6 }]
        : [];
  switch (q.name) {
    case 'server.lab':
      return { rcode: RCODE.NOERROR, answers: addresses(zone.serversV4, zone.serversV6) };
    case 'gateway.lab':
      return { rcode: RCODE.NOERROR, answers: addresses(zone.gatewayV4, zone.gatewayV6) };
    case 'whoami.lab': {
      const answers: Answer[] = [];
      if (q.type === TYPE.TXT) answers.push({ type: TYPE.TXT, text: whoami(clientAddress) });
      if (q.type === TYPE.A && isIPv4(clientAddress)) answers.push({ type: TYPE.A, address: clientAddress });
      if (q.type === TYPE.AAAA && isIPv6(clientAddress))
        answers.push({ type: TYPE.AAAA, address: clientAddress });
      return { rcode: RCODE.NOERROR, answers };
    }
    default:
      if (/^big[a-z0-9-]*\.lab$/.test(q.name) && q.type === TYPE.TXT)
        return {
          rcode: RCODE.NOERROR,
          answers: Array.from({ length: 6 }, (_, i) => ({ type: TYPE.TXT, text: `${i}`.repeat(120) })),
        };
      return { rcode: RCODE.NXDOMAIN, answers: [] };
  }
}

export function respond(zone: DnsZone, msg: Buffer, clientAddress: string, whoami?: WhoamiText): Buffer {
  let q: Question;
  try {
    q = parseQuery(msg);
  } catch {
    return encodeError(msg, RCODE.FORMERR);
  }
  if ((q.flags & 0x8000) !== 0) return encodeError(msg, RCODE.FORMERR); // a response, not a query
  if (((q.flags >> 11) & 0xf) !== 0 || q.qclass !== 1) return encodeResponse(q, RCODE.NOTIMP, []);
  const { rcode, answers } = answerQuestion(zone, q, clientAddress, whoami);
  return encodeResponse(q, rcode, answers);
}

export function startDnsServer(zone: DnsZone, address: string, port: number): Promise<Socket> {
  const socket = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
  socket.on('message', (msg, rinfo) =>
    socket.send(respond(zone, msg, rinfo.address), rinfo.port, rinfo.address),
  );
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve(socket));
  });
}
