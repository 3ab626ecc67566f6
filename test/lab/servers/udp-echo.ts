// UDP echo: answers each datagram with JSON naming the client address it saw and the text it sent.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

export interface UdpEchoReply {
  clientAddress: string;
  clientPort: number;
  echo: string;
}

export function startUdpEcho(address: string, port: number): Promise<Socket> {
  const socket = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
  socket.on('message', (msg, rinfo) => {
    const reply: UdpEchoReply = {
      clientAddress: rinfo.address,
      clientPort: rinfo.port,
      echo: msg.toString('utf8').slice(0, 512),
    };
    socket.send(JSON.stringify(reply) + '\n', rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve(socket));
  });
}
