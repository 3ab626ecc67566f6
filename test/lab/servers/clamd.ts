// A real ClamAV daemon for tests: its config, socket, log and a one-signature database (EICAR) all in a
// directory of the test's, nothing on TCP, nothing downloaded. Needs root (User root, see the config).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { type Supervised, supervisor } from '../../../native-helper/src/mechanism/supervisor.ts';

export const CLAMD = '/usr/sbin/clamd';
/** The 68-byte EICAR test file: every scanner flags it, none executes it. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
export const EICAR_SIGNATURE = 'Eicar-Test-Signature';
/** What clamd reports: it appends `.UNOFFICIAL` to signatures from databases that are not signed ones. */
export const EICAR_FOUND = `${EICAR_SIGNATURE}.UNOFFICIAL`;

const READY_TIMEOUT_MS = 30_000;
const SCAN_TIMEOUT_MS = 60_000;
const SUN_PATH_MAX = 107; // sockaddr_un.sun_path is 108 bytes with the terminating NUL

export interface ClamdScan {
  /** The signature's name, or null when the file is clean. */
  found: string | null;
  /** clamd's reply, without the terminating NUL. */
  raw: string;
}

export interface Clamd {
  socket: string;
  pid: number;
  /**
   * Scans one file (zSCAN). Resolves once clamd closes the connection, which it does after its
   * VirusEvent command has exited. Rejects on an ERROR reply (e.g. a missing file).
   */
  scan(path: string): Promise<ClamdScan>;
  /** SIGTERM to this clamd, then SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
  /** Its LogFile. */
  log(): string;
}

export interface ClamdOptions {
  /** Created if missing; holds clamd.conf, eicar.hdb, clamd.sock, clamd.pid, clamd.log. */
  dir: string;
  /**
   * clamd runs it with `/bin/sh -c` and an environment of only CLAM_VIRUSEVENT_FILENAME and
   * CLAM_VIRUSEVENT_VIRUSNAME (no PATH: the shell's default applies); `%v` becomes the signature's name.
   */
  virusEvent: string;
}

export async function startClamd({ dir, virusEvent }: ClamdOptions): Promise<Clamd> {
  dir = resolve(dir);
  const socket = join(dir, 'clamd.sock');
  const logFile = join(dir, 'clamd.log');
  if (Buffer.byteLength(socket) > SUN_PATH_MAX)
    throw new Error(`The clamd socket path ${socket} is too long for a Unix socket; use a shorter dir.`);
  if (/[\r\n]/.test(virusEvent))
    throw new Error('The VirusEvent command must be one line: clamd.conf has one option per line.');
  checkNotConfined();

  mkdirSync(dir, { recursive: true });
  const md5 = createHash('md5').update(EICAR).digest('hex');
  writeFileSync(join(dir, 'eicar.hdb'), `${md5}:${Buffer.byteLength(EICAR)}:${EICAR_SIGNATURE}\n`);
  const config = join(dir, 'clamd.conf');
  writeFileSync(
    config,
    [
      'Foreground yes',
      `LocalSocket ${socket}`,
      `DatabaseDirectory ${dir}`,
      `TemporaryDirectory ${dir}`,
      `PidFile ${join(dir, 'clamd.pid')}`,
      `LogFile ${logFile}`,
      'LogTime yes',
      // Else clamd drops to the clamav user, which cannot read the test's files or run its commands.
      'User root',
      `VirusEvent ${virusEvent}`,
      // No TCPSocket: nothing listens on the network. No ScanOnAccess: clamd 1.x ignores it with a
      // warning (on-access scanning is clamonacc's), so it is off.
      '',
    ].join('\n'),
  );

  const child = supervisor.start([CLAMD, `--config-file=${config}`], { name: 'clamd' });
  try {
    await child.spawned;
  } catch (err) {
    throw new Error(`clamd could not start (${(err as Error).message}); run build/setup.sh to install it.`, {
      cause: err,
    });
  }
  const log = () => readLog(logFile);
  try {
    await waitForPong(socket, child, log);
  } catch (err) {
    await child.stop('SIGKILL');
    throw err;
  }

  return {
    socket,
    pid: child.pid!,
    scan: (path) => scan(socket, resolve(path)),
    stop: async () => {
      await child.stop('SIGTERM', 5000);
    },
    log,
  };
}

/** Debian's AppArmor profile for clamd forbids running any command, so VirusEvent would silently not run. */
function checkNotConfined(): void {
  let profiles: string;
  try {
    profiles = readFileSync('/sys/kernel/security/apparmor/profiles', 'utf8');
  } catch {
    return; // no AppArmor
  }
  if (profiles.split('\n').some((l) => l.startsWith(`${CLAMD} (enforce)`)))
    throw new Error(
      `AppArmor confines ${CLAMD}, so it cannot run VirusEvent commands; put it in complain mode (aa-complain ${CLAMD}) to run these tests.`,
    );
}

async function waitForPong(socket: string, child: Supervised, log: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (!child.running) {
      const { code, signal, stderrTail } = await child.exited;
      throw new Error(
        `clamd exited (${signal ?? `code ${code}`}) before answering PING:\n${stderrTail}\n${log()}`,
      );
    }
    const reply = await request(socket, 'zPING\0', 2000).catch(() => null);
    if (reply === 'PONG') return;
    if (Date.now() > deadline)
      throw new Error(`clamd did not answer PING on ${socket} within ${READY_TIMEOUT_MS} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function scan(socket: string, path: string): Promise<ClamdScan> {
  if (path.includes('\0')) throw new Error('A path to scan cannot contain a NUL byte.');
  const raw = await request(socket, `zSCAN ${path}\0`, SCAN_TIMEOUT_MS);
  // "<path>: OK", "<path>: <signature> FOUND" or "<path>: <message> ERROR"; the path may contain ": ".
  const prefix = `${path}: `;
  const verdict = raw.startsWith(prefix) ? raw.slice(prefix.length) : null;
  if (verdict === 'OK') return { found: null, raw };
  if (verdict?.endsWith(' FOUND')) return { found: verdict.slice(0, -' FOUND'.length), raw };
  throw new Error(`clamd could not scan ${path}: ${JSON.stringify(raw)}.`);
}

/** One command on a new connection; clamd answers and closes it. The reply without its trailing NUL. */
function request(socket: string, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const conn = createConnection(socket);
    const chunks: Buffer[] = [];
    conn.setTimeout(timeoutMs, () =>
      conn.destroy(new Error(`clamd did not answer ${JSON.stringify(command)} in ${timeoutMs} ms.`)),
    );
    conn.on('connect', () => conn.write(command));
    conn.on('data', (d: Buffer) => chunks.push(d));
    conn.on('error', reject);
    conn.on('end', () => {
      conn.end();
      resolvePromise(Buffer.concat(chunks).toString('utf8').replace(/\0$/, ''));
    });
  });
}

function readLog(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8');
  } catch {
    return '(no clamd log)';
  }
}
