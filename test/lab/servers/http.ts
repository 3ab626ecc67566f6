// HTTP test server: answers every request with the client address and port it saw, as JSON.
import { createServer, type Server } from 'node:http';

export interface HttpReply {
  clientAddress: string;
  clientPort: number;
  serverAddress: string;
  serverPort: number;
  method: string;
  path: string;
}

export function startHttpServer(address: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const reply: HttpReply = {
      clientAddress: req.socket.remoteAddress ?? '',
      clientPort: req.socket.remotePort ?? 0,
      serverAddress: req.socket.localAddress ?? '',
      serverPort: req.socket.localPort ?? 0,
      method: req.method ?? '',
      path: req.url ?? '',
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply) + '\n');
  });
  // Longer than the sample browser's 1 s interval, so its one connection really is kept alive.
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port }, () => resolve(server));
  });
}
