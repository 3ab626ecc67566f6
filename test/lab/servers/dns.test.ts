// The lab DNS server over a real UDP socket on loopback (no root needed).
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from './dns.ts';
import { encodeQuery, parseResponse, RCODE, TYPE } from './dns-wire.ts';

const zone = {
  serversV4: '198.18.200.10',
  serversV6: 'fd5a:200::10',
  gatewayV4: '198.18.250.2',
  gatewayV6: 'fd5a:250::2',
};

describe('lab DNS server', () => {
  let server: Awaited<ReturnType<typeof startDnsServer>>;
  let port: number;

  beforeAll(async () => {
    server = await startDnsServer(zone, '127.0.0.1', 0);
    port = server.address().port;
  });
  afterAll(() => server.close());

  function ask(message: Buffer): Promise<Buffer> {
    const client = createSocket('udp4');
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no DNS answer')), 2000);
      client.on('message', (msg) => {
        clearTimeout(timer);
        client.close();
        resolve(msg);
      });
      client.send(message, port, '127.0.0.1');
    });
  }

  const query = async (name: string, type: number) =>
    parseResponse(await ask(encodeQuery(0x4242, name, type)));

  it('answers server.lab and gateway.lab with A and AAAA', async () => {
    expect(await query('server.lab', TYPE.A)).toEqual({
      id: 0x4242,
      rcode: RCODE.NOERROR,
      answers: [{ type: TYPE.A, address: zone.serversV4 }],
    });
    expect((await query('Server.LAB', TYPE.AAAA)).answers).toEqual([
      { type: TYPE.AAAA, address: zone.serversV6 },
    ]);
    expect((await query('gateway.lab', TYPE.A)).answers).toEqual([{ type: TYPE.A, address: zone.gatewayV4 }]);
    expect((await query('gateway.lab', TYPE.AAAA)).answers).toEqual([
      { type: TYPE.AAAA, address: zone.gatewayV6 },
    ]);
  });

  it('tells the asker its own address for whoami.lab (TXT, and A for an IPv4 asker)', async () => {
    expect((await query('whoami.lab', TYPE.TXT)).answers).toEqual([{ type: TYPE.TXT, text: '127.0.0.1' }]);
    expect((await query('whoami.lab', TYPE.A)).answers).toEqual([{ type: TYPE.A, address: '127.0.0.1' }]);
    expect(await query('whoami.lab', TYPE.AAAA)).toEqual({ id: 0x4242, rcode: RCODE.NOERROR, answers: [] });
  });

  it('answers NXDOMAIN for unknown names and FORMERR for garbage', async () => {
    expect(await query('example.com', TYPE.A)).toEqual({ id: 0x4242, rcode: RCODE.NXDOMAIN, answers: [] });
    const garbage = await ask(Buffer.from([0x12, 0x34, 0x01]));
    expect(garbage.readUInt16BE(0)).toBe(0x1234);
    expect(garbage.readUInt16BE(2) & 0x800f).toBe(0x8000 | RCODE.FORMERR);
  });
});
