// Child program of gateway-scale.bench.ts, run inside the client namespace: many peers, each from its
// own source address, handshake with a gateway over UDP as fast as it answers, for a while. Each peer
// sends its next initiation as soon as its response is verified (or, as WireGuard's REKEY_TIMEOUT,
// 5 s after one went unanswered).
// Prints one JSON line: { completed, seconds, unanswered, cookieReplies, allUpMs }.
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import {
  CIPHER_AESGCM,
  CIPHER_CHACHA,
  cookieReplyReceiverIndex,
  consumeResponse,
  createInitiation,
  type Initiation,
  openCookieReply,
} from '../../native-helper/src/tunnel/handshake.ts';
import { decodeKey, publicKeyOf } from '../../native-helper/src/tunnel/keys.ts';

export interface InitiatorsPlan {
  gateway: { host: string; port: number; publicKey: string };
  peers: { privateKey: string; source: string }[];
  seconds: number;
}

const RETRY_MS = 5000;
const OFFER = (1 << CIPHER_AESGCM) | (1 << CIPHER_CHACHA);

async function main(plan: InitiatorsPlan): Promise<void> {
  const gatewayKey = decodeKey(plan.gateway.publicKey);
  const t0 = Date.now();
  const end = t0 + plan.seconds * 1000;
  let completed = 0;
  let unanswered = 0;
  let cookieReplies = 0;
  const up = new Set<number>();
  let allUpMs: number | null = null;
  const sockets: Socket[] = [];

  await Promise.all(
    plan.peers.map(async (p, i) => {
      const priv = decodeKey(p.privateKey);
      const ourStatic = { privateKey: priv, publicKey: publicKeyOf(priv) };
      const sock = createSocket('udp4');
      sockets.push(sock);
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind({ address: p.source }, resolve);
      });
      let pending: Initiation | null = null;
      let timer: NodeJS.Timeout | undefined;
      let cookie: Buffer | null = null;
      const send = () => {
        if (Date.now() >= end) return;
        pending = createInitiation({
          ourStatic,
          peerStatic: gatewayKey,
          senderIndex: randomBytes(4).readUInt32BE(0),
          cipherOffer: OFFER,
          epoch: completed,
          cookie,
        });
        clearTimeout(timer);
        timer = setTimeout(() => {
          unanswered++;
          send();
        }, RETRY_MS);
        sock.send(pending.message, plan.gateway.port, plan.gateway.host);
      };
      sock.on('message', (msg) => {
        if (cookieReplyReceiverIndex(msg) !== null) {
          // A gateway under load asks for proof that we receive its replies: resend with mac2, as
          // the tunnel client does.
          cookieReplies++;
          if (pending) cookie = openCookieReply(msg, pending.message, gatewayKey) ?? cookie;
          send();
          return;
        }
        if (!pending) return;
        try {
          consumeResponse(msg, pending, ourStatic, OFFER);
        } catch {
          return;
        }
        pending = null;
        completed++;
        up.add(i);
        if (up.size === plan.peers.length && allUpMs === null) allUpMs = Date.now() - t0;
        send();
      });
      send();
    }),
  );
  await new Promise((r) => setTimeout(r, Math.max(0, end - Date.now())));
  const seconds = (Date.now() - t0) / 1000;
  for (const s of sockets) s.close();
  process.stdout.write(`${JSON.stringify({ completed, seconds, unanswered, cookieReplies, allUpMs })}\n`);
  process.exit(0);
}

await main(JSON.parse(process.argv[2] ?? '{}') as InitiatorsPlan);
