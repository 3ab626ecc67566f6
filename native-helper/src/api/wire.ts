// Newline-delimited JSON framing shared by the helper, the client and the web bridge.
// A line longer than the limit is reported and skipped instead of being buffered forever.
import type { ApiErrorBody, EventEnvelope, RequestEnvelope } from './schema.ts';

/** The longest line either side accepts: 1 MiB is far above any real message (apps.list included). */
export const MAX_LINE_BYTES = 1024 * 1024;

export class OversizeLineError extends Error {
  constructor(readonly limit: number) {
    super(`a message longer than ${limit} bytes was dropped; the peer must send smaller messages`);
    this.name = 'OversizeLineError';
  }
}

export interface LineSplitterOptions {
  maxLineBytes?: number;
  onLine: (line: string) => void;
  onError: (err: OversizeLineError) => void;
}

/**
 * Splits a byte stream into lines. Works on bytes so a UTF-8 character split across chunks is
 * decoded whole; an empty line is ignored; a trailing '\r' is kept out of the line.
 */
export class LineSplitter {
  private readonly max: number;
  private parts: Buffer[] = [];
  private size = 0;
  /** True while skipping the rest of an oversize line up to its newline. */
  private discarding = false;

  constructor(private readonly opts: LineSplitterOptions) {
    this.max = opts.maxLineBytes ?? MAX_LINE_BYTES;
  }

  push(chunk: Buffer | string): void {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    while (buf.length > 0) {
      const nl = buf.indexOf(0x0a);
      if (nl === -1) {
        this.append(buf);
        return;
      }
      this.append(buf.subarray(0, nl));
      this.finishLine();
      buf = buf.subarray(nl + 1);
    }
  }

  /** Bytes held for an unfinished line (for tests and diagnostics). */
  get buffered(): number {
    return this.size;
  }

  private append(part: Buffer): void {
    if (this.discarding || part.length === 0) return;
    if (this.size + part.length > this.max) {
      this.parts = [];
      this.size = 0;
      this.discarding = true;
      this.opts.onError(new OversizeLineError(this.max));
      return;
    }
    this.parts.push(part);
    this.size += part.length;
  }

  private finishLine(): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    let line = Buffer.concat(this.parts, this.size).toString('utf8');
    this.parts = [];
    this.size = 0;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() !== '') this.opts.onLine(line);
  }
}

/** One message as one line. JSON.stringify never emits a raw newline, so the framing cannot break. */
export function encodeLine(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}

export function encodeRequest(id: number, method: string, params?: unknown): string {
  const req: RequestEnvelope = params === undefined ? { id, method } : { id, method, params };
  return encodeLine(req);
}

export function encodeResult(id: number, result: unknown): string {
  return encodeLine({ id, result });
}

export function encodeError(id: number | null, error: ApiErrorBody): string {
  return encodeLine({ id, error });
}

export function encodeEvent(envelope: EventEnvelope): string {
  return encodeLine(envelope);
}

/** Parse one line as JSON; says why when it is not JSON. */
export function parseLine(line: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(line) as unknown };
  } catch (e) {
    return { ok: false, message: `not JSON: ${(e as Error).message}` };
  }
}
