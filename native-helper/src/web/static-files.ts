// Serve the built renderer (renderer/dist) read-only, with the right MIME types and no way out of it.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, posix, sep } from 'node:path';
import { SECURITY_HEADERS } from './csp.ts';

export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(`${text}\n`);
}

/** Map a URL path to a file inside root, or null when it would leave root. */
export function resolveStaticPath(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const normal = posix.normalize(`/${decoded}`);
  if (normal.split('/').includes('..')) return null;
  const rel = normal === '/' ? 'index.html' : normal.slice(1);
  return join(root, rel);
}

export async function serveStatic(rootDir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return sendText(res, 405, 'Only GET and HEAD are served.', { Allow: 'GET, HEAD' });
  const root = await realpath(rootDir).catch(() => null);
  if (!root)
    return sendText(
      res,
      503,
      `The UI is not built (no ${rootDir}); build it with "npx vite build renderer".`,
    );
  const urlPath = new URL(req.url ?? '/', 'http://x').pathname;
  let file = resolveStaticPath(root, urlPath);
  if (!file) return sendText(res, 400, 'Bad path.');
  // A path without an extension is a client-side route: serve the app.
  if (!extname(file)) file = join(root, 'index.html');
  const real = await realpath(file).catch(() => null);
  if (!real || (real !== root && !real.startsWith(root + sep))) return sendText(res, 404, 'Not found.');
  const info = await stat(real).catch(() => null);
  if (!info?.isFile()) return sendText(res, 404, 'Not found.');
  const type = MIME_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream';
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': type,
    'Content-Length': String(info.size),
    'Cache-Control': extname(real) === '.html' ? 'no-store' : 'no-cache',
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(real)
    .on('error', () => res.destroy())
    .pipe(res);
}
