import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CONTENT_SECURITY_POLICY,
  type ContentsHooks,
  type Preventable,
  type SessionHooks,
  hardenContents,
  hardenSession,
  isAppUrl,
  windowOptions,
  withCsp,
} from './security.ts';

const indexFile = '/opt/switchyard/renderer/dist/index.html';

describe('window security', () => {
  it('creates windows isolated, sandboxed, without node and with the preload', () => {
    const o = windowOptions('/opt/switchyard/electron/dist/preload.cjs');
    expect(o.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      preload: '/opt/switchyard/electron/dist/preload.cjs',
    });
  });

  it('puts the strict CSP on every response, replacing any other', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
    const h = withCsp({ 'content-security-policy': ['default-src *'], 'X-Other': ['1'] });
    expect(h).toEqual({ 'X-Other': ['1'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
    expect(withCsp(undefined)).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
  });

  it('denies every permission request and check', () => {
    let rewrite: ((h: Record<string, string[]>) => unknown) | null = null;
    let request: ((p: string, grant: (g: boolean) => void) => void) | null = null;
    let check: ((p: string) => boolean) | null = null;
    const s: SessionHooks = {
      onHeadersReceived: (r) => void (rewrite = r),
      setPermissionRequestHandler: (h) => void (request = h),
      setPermissionCheckHandler: (h) => void (check = h),
    };
    hardenSession(s);
    expect(rewrite!({})).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
      const grants: boolean[] = [];
      request!(p, (g) => grants.push(g));
      expect(grants).toEqual([false]);
      expect(check!(p)).toBe(false);
    }
  });

  it('blocks navigation away from index.html, webviews and window.open', () => {
    const l: Record<string, (e: Preventable, url: string) => void> = {};
    let open: ((d: { url: string }) => { action: string }) | null = null;
    const c: ContentsHooks = {
      onWillNavigate: (f) => void (l.nav = f),
      onWillRedirect: (f) => void (l.redirect = f),
      onWillAttachWebview: (f) => void (l.webview = f),
      setWindowOpenHandler: (h) => void (open = h),
    };
    const blocked: string[] = [];
    hardenContents(c, indexFile, (w) => blocked.push(w));
    const attempt = (kind: string, url: string) => {
      let prevented = false;
      l[kind]!({ preventDefault: () => (prevented = true) }, url);
      return prevented;
    };
    expect(attempt('nav', 'https://example.com/')).toBe(true);
    expect(attempt('nav', 'file:///etc/passwd')).toBe(true);
    expect(attempt('redirect', 'http://127.0.0.1:8080/')).toBe(true);
    expect(attempt('webview', '')).toBe(true);
    expect(attempt('nav', `${pathToFileURL(indexFile).href}#/settings`)).toBe(false);
    expect(open!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    expect(blocked).toHaveLength(5);
  });

  it('recognises only our own index.html as the app', () => {
    expect(isAppUrl(pathToFileURL(indexFile).href, indexFile)).toBe(true);
    expect(isAppUrl('file:///opt/switchyard/renderer/dist/other.html', indexFile)).toBe(false);
    expect(isAppUrl('devtools://devtools/bundled/index.html', indexFile)).toBe(false);
    expect(isAppUrl('not a url', indexFile)).toBe(false);
  });
});
