// The window security checklist as plain code: main.ts applies it to the real objects, the tests to
// fakes. Everything a page could use to reach beyond its own files is off or denied.
import { pathToFileURL } from 'node:url';
import { CONTENT_SECURITY_POLICY } from '../native-helper/src/web/csp.ts';

export { CONTENT_SECURITY_POLICY };

export const SECURE_WEB_PREFERENCES = Object.freeze({
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  navigateOnDragDrop: false,
  spellcheck: false,
  safeDialogs: true,
});

export interface WindowOptions {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: boolean;
  title: string;
  icon?: string;
  backgroundColor: string;
  autoHideMenuBar: boolean;
  webPreferences: typeof SECURE_WEB_PREFERENCES & { preload: string };
}

export function windowOptions(preloadPath: string, iconPath?: string): WindowOptions {
  return {
    width: 1100,
    height: 760,
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: 'Switchyard',
    ...(iconPath ? { icon: iconPath } : {}),
    backgroundColor: '#1b1d22',
    autoHideMenuBar: true,
    webPreferences: { ...SECURE_WEB_PREFERENCES, preload: preloadPath },
  };
}

export type Headers = Record<string, string | string[]>;

/** The response headers with our CSP in place of any the response had. */
export function withCsp(headers: Headers | undefined): Headers {
  const out: Headers = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() !== 'content-security-policy') out[k] = v;
  }
  out['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
  return out;
}

export interface SessionHooks {
  onHeadersReceived(rewrite: (headers: Headers | undefined) => Headers): void;
  setPermissionRequestHandler(handler: (permission: string, grant: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (permission: string) => boolean): void;
}

export function hardenSession(session: SessionHooks, onDenied: (what: string) => void = () => {}): void {
  session.onHeadersReceived(withCsp);
  session.setPermissionRequestHandler((permission, grant) => {
    onDenied(`permission ${permission}`);
    grant(false);
  });
  session.setPermissionCheckHandler(() => false);
}

export interface Preventable {
  preventDefault(): void;
}

export interface ContentsHooks {
  onWillNavigate(listener: (event: Preventable, url: string) => void): void;
  onWillRedirect(listener: (event: Preventable, url: string) => void): void;
  onWillAttachWebview(listener: (event: Preventable) => void): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/** True only for our own index.html (any #fragment): the one page the window may show. */
export function isAppUrl(url: string, indexFile: string): boolean {
  try {
    const u = new URL(url);
    const own = pathToFileURL(indexFile);
    return u.protocol === 'file:' && u.pathname === own.pathname && u.search === '';
  } catch {
    return false;
  }
}

export function hardenContents(
  contents: ContentsHooks,
  indexFile: string,
  onBlocked: (what: string) => void = () => {},
): void {
  const guard = (kind: string) => (event: Preventable, url: string) => {
    if (isAppUrl(url, indexFile)) return;
    event.preventDefault();
    onBlocked(`${kind} to ${url}`);
  };
  contents.onWillNavigate(guard('navigation'));
  contents.onWillRedirect(guard('redirect'));
  contents.onWillAttachWebview((event) => {
    event.preventDefault();
    onBlocked('webview');
  });
  contents.setWindowOpenHandler(({ url }) => {
    onBlocked(`window.open ${url}`);
    return { action: 'deny' };
  });
}
