// Electron main: the real ElectronAdapter and nothing else. The behaviour lives in shell-app.ts.
// Bundled by build/bundle-electron.ts to electron/dist/main.cjs (CommonJS, 'electron' external).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  BrowserWindow,
  Menu,
  type MenuItemConstructorOptions,
  Notification,
  Tray,
  app,
  dialog,
  ipcMain,
  nativeImage,
  session,
} from 'electron';
import { defaultSocketPath } from '#switchyard/api/client.ts';
import { IPC_CALL } from './api-names.ts';
import { type ElectronAdapter, type ShellTray, type ShellWindow, runShell } from './shell-app.ts';
import type { SessionHooks } from './security.ts';
import type { TrayAction, TrayIcon, TrayItem } from './tray-model.ts';

// dist/main.cjs sits two levels below the app root, next to dist/preload.cjs.
const appRoot = resolve(__dirname, '..', '..');
const iconFile = (icon: TrayIcon) => join(appRoot, 'build', 'icons', `tray-${icon}.png`);

function toMenu(items: TrayItem[], onAction: (a: TrayAction) => void): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    switch (item.type) {
      case 'separator':
        return { type: 'separator' };
      case 'submenu':
        return { label: item.label, enabled: item.enabled, submenu: toMenu(item.items, onAction) };
      case 'normal': {
        const action = item.action;
        return {
          label: item.label,
          enabled: item.enabled,
          ...(action ? { click: () => onAction(action) } : {}),
        };
      }
      default:
        return {
          type: item.type,
          label: item.label,
          enabled: item.enabled,
          checked: item.checked,
          click: () => onAction(item.action),
        };
    }
  });
}

const adapter: ElectronAdapter = {
  requestSingleInstanceLock: () => app.requestSingleInstanceLock(),
  onSecondInstance: (listener) => void app.on('second-instance', () => listener()),
  whenReady: () => app.whenReady(),
  onWindowAllClosed: (listener) => void app.on('window-all-closed', listener),
  quit: () => app.quit(),
  get defaultSession(): SessionHooks {
    const s = session.defaultSession;
    return {
      onHeadersReceived: (rewrite) =>
        s.webRequest.onHeadersReceived((details, callback) =>
          callback({ responseHeaders: rewrite(details.responseHeaders) }),
        ),
      setPermissionRequestHandler: (handler) =>
        s.setPermissionRequestHandler((_wc, permission, grant) => handler(permission, grant)),
      setPermissionCheckHandler: (handler) =>
        s.setPermissionCheckHandler((_wc, permission) => handler(permission)),
    };
  },
  createWindow(options): ShellWindow {
    const win = new BrowserWindow(options);
    const wc = win.webContents;
    return {
      contents: {
        onWillNavigate: (l) => void wc.on('will-navigate', (e) => l(e, e.url)),
        onWillRedirect: (l) => void wc.on('will-redirect', (e) => l(e, e.url)),
        onWillAttachWebview: (l) => void wc.on('will-attach-webview', (e) => l(e)),
        setWindowOpenHandler: (h) => wc.setWindowOpenHandler((d) => h(d)),
      },
      // Only ever a local file: the window never loads anything remote.
      loadFile: (path) =>
        existsSync(path) ? win.loadFile(path) : Promise.reject(new Error('file not found')),
      show: () => win.show(),
      focus: () => win.focus(),
      restore: () => win.restore(),
      isMinimized: () => win.isMinimized(),
      send: (channel, payload) => {
        if (!win.isDestroyed()) wc.send(channel, payload);
      },
      onReadyToShow: (l) => void win.once('ready-to-show', l),
      onClosed: (l) => void win.on('closed', l),
    };
  },
  createTray(icon): ShellTray {
    const tray = new Tray(nativeImage.createFromPath(iconFile(icon)));
    return {
      setIcon: (i) => tray.setImage(nativeImage.createFromPath(iconFile(i))),
      setToolTip: (t) => tray.setToolTip(t),
      setMenu: (items, onAction) => tray.setContextMenu(Menu.buildFromTemplate(toMenu(items, onAction))),
      onClick: (l) => void tray.on('click', l),
    };
  },
  notify(notice) {
    if (!Notification.isSupported()) return;
    new Notification({
      title: notice.title,
      body: notice.body,
      urgency: notice.urgency,
      icon: iconFile(notice.urgency === 'critical' ? 'killed' : 'ok'),
    }).show();
  },
  handleCall(handler) {
    ipcMain.handle(IPC_CALL, (event, method: unknown, params: unknown) =>
      handler(event.senderFrame?.url ?? '', method, params),
    );
  },
  async showSaveDialog(options) {
    const r = await dialog.showSaveDialog(options);
    return r.canceled || !r.filePath ? null : r.filePath;
  },
  log: (message) => console.error(`switchyard: ${message}`),
};

app.enableSandbox();
// The app is a packaged AppImage/deb binary, or `electron <appRoot>` in development.
const launchCommand = app.isPackaged ? [process.execPath] : [process.execPath, appRoot];

runShell(adapter, {
  socketPath: defaultSocketPath(),
  indexFile: join(appRoot, 'renderer', 'dist', 'index.html'),
  preloadFile: join(__dirname, 'preload.cjs'),
  windowIcon: join(appRoot, 'build', 'icons', 'switchyard.png'),
  version: app.getVersion(),
  argv: process.argv,
  env: process.env,
  home: homedir(),
  launchCommand,
}).catch((err: Error) => {
  console.error(`switchyard: the desktop shell failed to start: ${err.message}`);
  app.exit(1);
});
