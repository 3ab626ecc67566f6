// Starts the internet namespace's test servers (HTTP, UDP echo, DNS) on its IPv4 and IPv6 addresses.
// Usage: main.ts --v4=A --v6=A --gateway-v4=A --gateway-v6=A [--http-port=80 --udp-echo-port=7 --dns-port=53]
import { parseArgs } from 'node:util';
import { startDnsServer } from './dns.ts';
import { startHttpServer } from './http.ts';
import { startUdpEcho } from './udp-echo.ts';

const { values } = parseArgs({
  options: {
    v4: { type: 'string' },
    v6: { type: 'string' },
    'gateway-v4': { type: 'string' },
    'gateway-v6': { type: 'string' },
    'http-port': { type: 'string', default: '80' },
    'udp-echo-port': { type: 'string', default: '7' },
    'dns-port': { type: 'string', default: '53' },
  },
});
const v4 = values.v4;
const v6 = values.v6;
const gatewayV4 = values['gateway-v4'];
const gatewayV6 = values['gateway-v6'];
if (!v4 || !v6 || !gatewayV4 || !gatewayV6) {
  console.error('lab-servers: --v4, --v6, --gateway-v4 and --gateway-v6 are required.');
  process.exit(2);
}
const zone = { serversV4: v4, serversV6: v6, gatewayV4, gatewayV6 };

try {
  for (const address of [v4, v6]) {
    await startHttpServer(address, Number(values['http-port']));
    await startUdpEcho(address, Number(values['udp-echo-port']));
    await startDnsServer(zone, address, Number(values['dns-port']));
  }
} catch (err) {
  console.error(`lab-servers: could not listen: ${(err as Error).message}`);
  process.exit(1);
}
process.on('SIGTERM', () => process.exit(0));
console.log('lab-servers ready');
