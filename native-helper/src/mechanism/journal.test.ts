// The journal sender against a stand-in journald: a unix datagram socket bound by socat (Node cannot
// receive unix datagrams), whose bytes are parsed back with the native protocol's rules.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendToJournal } from './journal.ts';
import { native } from './native.ts';

/** One entry of the native journal protocol: KEY=value\n, or KEY\n + u64 LE length + value + \n. */
function parseEntry(bytes: Buffer): Record<string, string> {
  const fields: Record<string, string> = {};
  let at = 0;
  while (at < bytes.length) {
    const eol = bytes.indexOf(0x0a, at);
    if (eol < 0) throw new Error(`unterminated field at byte ${at}`);
    const line = bytes.subarray(at, eol).toString('utf8');
    const eq = line.indexOf('=');
    if (eq >= 0) {
      fields[line.slice(0, eq)] = line.slice(eq + 1);
      at = eol + 1;
      continue;
    }
    if (eol + 9 > bytes.length) throw new Error(`field ${line} has no length`);
    const size = Number(bytes.readBigUInt64LE(eol + 1));
    const start = eol + 9;
    if (start + size + 1 > bytes.length || bytes[start + size] !== 0x0a)
      throw new Error(`field ${line} (binary, ${size} bytes) is cut or unterminated`);
    fields[line] = bytes.subarray(start, start + size).toString('utf8');
    at = start + size + 1;
  }
  return fields;
}

describe('sendToJournal', () => {
  let dir: string;
  let receiver: ChildProcess | null = null;
  let stopping = false;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sy-journal-'));
    stopping = false;
  });

  afterEach(async () => {
    if (receiver && receiver.exitCode === null && receiver.signalCode === null) {
      const exited = new Promise((resolve) => receiver!.once('exit', resolve));
      stopping = true;
      receiver.kill('SIGTERM');
      await exited;
    }
    receiver = null;
    rmSync(dir, { recursive: true, force: true });
  });

  /** socat bound at socketPath; resolves with the bytes of the first datagram it receives. */
  async function startReceiver(socketPath: string): Promise<{ received: Promise<Buffer> }> {
    const child = spawn('socat', ['-u', '-b', '262144', `UNIX-RECV:${socketPath}`, '-'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    receiver = child;
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) =>
        reject(new Error(`cannot run socat (apt-get install socat): ${err.message}`)),
      );
      child.once('exit', (code) => {
        if (!stopping) reject(new Error(`socat exited (${code}): ${stderr}`));
      });
    });
    const chunks: Buffer[] = [];
    const received = new Promise<Buffer>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        chunks.push(d);
        const all = Buffer.concat(chunks);
        try {
          parseEntry(all); // a datagram may reach us in more than one read
          resolve(all);
        } catch {
          /* not whole yet */
        }
      });
    });
    failed.catch(() => {}); // only raced below
    for (let i = 0; i < 200 && !existsSync(socketPath); i++) {
      await Promise.race([new Promise((r) => setTimeout(r, 10)), failed]);
    }
    if (!existsSync(socketPath)) throw new Error(`socat did not bind ${socketPath}: ${stderr}`);
    return { received: Promise.race([received, failed]) };
  }

  it('sends an entry whose bytes parse back to the same fields, a multi-line value in the binary form', async () => {
    const socketPath = path.join(dir, 'journal.sock');
    const { received } = await startReceiver(socketPath);
    const fields = {
      MESSAGE: 'app Firefox wrote /home/u/x.sh\nsecond line',
      SWITCHYARD_PATH: '/home/u/x.sh',
      SWITCHYARD_NOTE: 'a=b with = inside',
      SWITCHYARD_UTF8: 'grüße ✓',
    };
    expect(sendToJournal(fields, socketPath)).toBe(true);
    const bytes = await received;
    expect(parseEntry(bytes)).toEqual({ ...fields, PRIORITY: '6', SYSLOG_IDENTIFIER: 'switchyard' });
    // The multi-line value went as KEY\n + length, the others as KEY=value.
    expect(bytes.includes(Buffer.from('MESSAGE\n'))).toBe(true);
    expect(bytes.includes(Buffer.from('SWITCHYARD_PATH=/home/u/x.sh\n'))).toBe(true);
  });

  it('keeps a given PRIORITY and SYSLOG_IDENTIFIER and makes a MESSAGE from the fields when missing', async () => {
    const socketPath = path.join(dir, 'journal.sock');
    const { received } = await startReceiver(socketPath);
    expect(sendToJournal({ PRIORITY: '4', SYSLOG_IDENTIFIER: 'sy-test', APP: 'firefox' }, socketPath)).toBe(
      true,
    );
    expect(parseEntry(await received)).toEqual({
      MESSAGE: 'PRIORITY=4 SYSLOG_IDENTIFIER=sy-test APP=firefox',
      PRIORITY: '4',
      SYSLOG_IDENTIFIER: 'sy-test',
      APP: 'firefox',
    });
  });

  it('returns false when no journal listens: no socket, or a file nobody is bound to', () => {
    expect(sendToJournal({ MESSAGE: 'hello' }, path.join(dir, 'missing.sock'))).toBe(false);
    const stale = path.join(dir, 'stale.sock'); // ECONNREFUSED, as for a socket its journald left behind
    writeFileSync(stale, '');
    expect(sendToJournal({ MESSAGE: 'hello' }, stale)).toBe(false);
  });

  it('refuses an entry too big for one datagram instead of cutting it', async () => {
    const socketPath = path.join(dir, 'journal.sock');
    await startReceiver(socketPath);
    expect(() => sendToJournal({ MESSAGE: 'x'.repeat(32 << 20) }, socketPath)).toThrow(
      /too big for one journal datagram \(EMSGSIZE\)/,
    );
  });

  it('rejects bad field names and priorities, clearly', () => {
    const socketPath = path.join(dir, 'missing.sock');
    expect(() => sendToJournal({ message: 'x' }, socketPath)).toThrow(/field name "message" is invalid/);
    expect(() => sendToJournal({ _PID: '1' }, socketPath)).toThrow(/field name "_PID" is invalid/);
    expect(() => sendToJournal({ 'A=B': '1' }, socketPath)).toThrow(/field name "A=B" is invalid/);
    expect(() => sendToJournal({ ['X'.repeat(65)]: '1' }, socketPath)).toThrow(/is invalid/);
    expect(() => sendToJournal({ PRIORITY: 'high' }, socketPath)).toThrow(/PRIORITY must be a syslog level/);
    expect(sendToJournal({ MESSAGE: 'x', ['X'.repeat(64)]: 'ok' }, socketPath)).toBe(false); // 64 is fine
    // The addon checks names too, for callers that skip the wrapper.
    expect(() => native().journalSend({ 'A\nB': 'x' }, socketPath)).toThrow(/field name "A\nB" is not/);
    expect(() => native().journalSend({ _PID: 'x' }, socketPath)).toThrow(/field name "_PID" is not/);
  });
});
