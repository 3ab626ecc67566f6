// Sample app "Lab Chat": one long-lived, unconnected UDP socket sending a message to the echo
// server every second; a message without an answer within 2 s is logged as failed.
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { appOptions, errorText, every, logTraffic } from './traffic-log.ts';

const opts = appOptions();
const server = await lookup(opts.host);
const socket = createSocket(server.family === 6 ? 'udp6' : 'udp4');
const pending = new Map<number, (reply: { clientAddress: string }) => void>();
socket.on('message', (msg) => {
  try {
    const reply = JSON.parse(msg.toString('utf8')) as { clientAddress: string; echo: string };
    pending.get(Number(JSON.parse(reply.echo).seq))?.(reply);
  } catch {
    // not one of ours
  }
});
socket.on('error', () => {}); // e.g. ICMP errors surface as the missing answer below

let seq = 0;
await every(opts, async () => {
  const mySeq = ++seq;
  const answered = new Promise<{ clientAddress: string } | null>((resolve) => {
    pending.set(mySeq, resolve);
    setTimeout(() => resolve(null), 2000);
  });
  socket.send(JSON.stringify({ seq: mySeq, text: 'hello from lab-chat' }), 7, server.address, (err) => {
    if (err)
      logTraffic({ kind: 'udp', ok: false, serverSawAddress: null, seq: mySeq, error: errorText(err) });
  });
  const reply = await answered;
  pending.delete(mySeq);
  if (reply) logTraffic({ kind: 'udp', ok: true, serverSawAddress: reply.clientAddress, seq: mySeq });
  else
    logTraffic({ kind: 'udp', ok: false, serverSawAddress: null, seq: mySeq, error: 'no answer within 2 s' });
});
socket.close();
