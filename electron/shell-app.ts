// The desktop shell's behaviour, written against ElectronAdapter so it runs under Node in tests.
// main.ts supplies the real Electron objects; nothing here imports 'electron'.
import { join } from 'node:path';
import { ReconnectingHelperClient } from '#switchyard/api/reconnecting-client.ts';
import type { ReactionsState } from '#switchyard/api/events-schema.ts';
import type { App, EventData, Interface, Status } from '#switchyard/api/schema.ts';
import type { HelperConnection, ShellInfo } from '#switchyard/api/shell-schema.ts';
import { writeFileAtomic } from '../native-helper/src/storage/atomic-file.ts';
import { defaultExportName, formatEvents } from '../native-helper/src/web/event-export.ts';
import type { ShellHandlers } from '../native-helper/src/web/shell-dispatch.ts';
import { IPC_EVENT } from './api-names.ts';
import { autostartPath, isAutostartEnabled, setAutostart } from './autostart.ts';
import { type CallHandler, createCallHandler, forwardEvents } from './ipc-handlers.ts';
import { AlertBatcher, type Notice, NoticeDebouncer, alertsNotice, noticeFor } from './notify-policy.ts';
import {
  type ContentsHooks,
  type SessionHooks,
  type WindowOptions,
  hardenContents,
  hardenSession,
  windowOptions,
} from './security.ts';
import { type ShellSettings, loadSettings, saveSettings, settingsPath, togglePin } from './shell-settings.ts';
import {
  type TrayAction,
  type TrayIcon,
  type TrayItem,
  type TrayModel,
  buildTrayModel,
} from './tray-model.ts';

export interface ShellWindow {
  readonly contents: ContentsHooks;
  loadFile(path: string): Promise<void>;
  show(): void;
  focus(): void;
  restore(): void;
  isMinimized(): boolean;
  send(channel: string, payload: unknown): void;
  onReadyToShow(listener: () => void): void;
  onClosed(listener: () => void): void;
}

export interface ShellTray {
  setIcon(icon: TrayIcon): void;
  setToolTip(text: string): void;
  setMenu(items: TrayItem[], onAction: (action: TrayAction) => void): void;
  onClick(listener: () => void): void;
}

/** Everything the shell needs from Electron, and nothing more. */
export interface ElectronAdapter {
  requestSingleInstanceLock(): boolean;
  onSecondInstance(listener: () => void): void;
  whenReady(): Promise<void>;
  /** Keep running in the tray when the window closes. */
  onWindowAllClosed(listener: () => void): void;
  quit(): void;
  readonly defaultSession: SessionHooks;
  createWindow(options: WindowOptions): ShellWindow;
  createTray(icon: TrayIcon): ShellTray;
  notify(notice: Notice): void;
  /** ipcMain.handle for the one call channel; the adapter passes the sender frame's URL. */
  handleCall(handler: CallHandler): void;
  showSaveDialog(options: {
    defaultPath: string;
    filters: { name: string; extensions: string[] }[];
  }): Promise<string | null>;
  log(message: string): void;
}

export interface ShellOptions {
  socketPath: string;
  indexFile: string;
  preloadFile: string;
  windowIcon?: string;
  version: string;
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  home: string;
  /** The command that starts this app, for the autostart entry. */
  launchCommand: readonly string[];
  /** Debounce window for repeated notifications. */
  noticeWindowMs?: number;
  /** How long the first alert (flag, quarantine, network) waits for the rest of its burst. */
  alertDelayMs?: number;
  refreshDelayMs?: number;
}

export interface ShellState {
  connection: HelperConnection;
  status: Status | null;
  apps: App[];
  interfaces: Interface[];
  settings: ShellSettings;
}

export interface RunningShell {
  helper: ReconnectingHelperClient;
  state(): ShellState;
  tray(): TrayModel;
  showWindow(): void;
  act(action: TrayAction): Promise<void>;
  /** Resolves when the tray and state reflect the helper as of now. */
  refresh(): Promise<void>;
  stop(): void;
}

/** Returns null when another instance already runs (it has been asked to show its window). */
export async function runShell(adapter: ElectronAdapter, opts: ShellOptions): Promise<RunningShell | null> {
  if (!adapter.requestSingleInstanceLock()) {
    adapter.quit();
    return null;
  }
  let window: ShellWindow | null = null;
  adapter.onSecondInstance(() => showWindow());
  adapter.onWindowAllClosed(() => {}); // stay in the tray

  await adapter.whenReady();
  hardenSession(adapter.defaultSession, (what) => adapter.log(`denied ${what}`));

  const helper = new ReconnectingHelperClient({ socketPath: opts.socketPath });
  const settingsFile = settingsPath(opts.env, opts.home);
  const autostartFile = autostartPath(opts.env, opts.home);
  const state: ShellState = {
    connection: helper.connection(),
    status: null,
    apps: [],
    interfaces: [],
    settings: await loadSettings(settingsFile, (m) => adapter.log(m)),
  };

  const info = async (): Promise<ShellInfo> => ({
    mode: 'electron',
    version: opts.version,
    canAutostart: true,
    autostart: await isAutostartEnabled(autostartFile),
    helperSocket: opts.socketPath,
  });
  const shell: ShellHandlers = {
    info,
    async setAutostart(enabled) {
      await setAutostart(autostartFile, enabled, opts.launchCommand);
      return info();
    },
    connection: () => helper.connection(),
    async exportEvents(format) {
      const events = await helper.call('events.history', { limit: 5000 });
      const path = await adapter.showSaveDialog({
        defaultPath: join(opts.home, defaultExportName(format)),
        filters: [{ name: format === 'json' ? 'JSON' : 'CSV', extensions: [format] }],
      });
      if (!path) return { path: null };
      await writeFileAtomic(path, formatEvents(events, format), 0o600);
      return { path };
    },
  };
  adapter.handleCall(
    createCallHandler({ target: { helper, shell, subscribe: () => {} }, indexFile: opts.indexFile }),
  );

  // ---- window ----
  function showWindow(): void {
    if (window) {
      if (window.isMinimized()) window.restore();
      window.show();
      window.focus();
      return;
    }
    const w = adapter.createWindow(windowOptions(opts.preloadFile, opts.windowIcon));
    window = w;
    hardenContents(w.contents, opts.indexFile, (what) => adapter.log(`blocked ${what}`));
    w.onReadyToShow(() => w.show());
    w.onClosed(() => {
      if (window === w) window = null;
    });
    w.loadFile(opts.indexFile).catch((err: Error) =>
      adapter.log(
        `cannot load the UI from ${opts.indexFile} (${err.message}); build it with "npx vite build renderer"`,
      ),
    );
  }

  // ---- tray ----
  const tray = adapter.createTray('down');
  tray.onClick(() => showWindow());
  let model = buildTrayModel({ ...state, pins: state.settings.pins });
  const render = () => {
    model = buildTrayModel({ ...state, pins: state.settings.pins });
    tray.setIcon(model.icon);
    tray.setToolTip(model.tooltip);
    tray.setMenu(model.items, (a) => void act(a));
  };
  render();

  /** Bumped by every change to state, so an older refresh answer cannot overwrite a newer one. */
  let generation = 0;

  async function act(action: TrayAction): Promise<void> {
    try {
      switch (action.kind) {
        case 'open':
          return showWindow();
        case 'quit':
          stop();
          return adapter.quit();
        case 'pause': {
          const status = await helper.call('policy.pause', { paused: action.paused });
          generation++;
          state.status = status;
          break;
        }
        case 'override': {
          const status = await helper.call('policy.override', { egress: action.egress });
          generation++;
          state.status = status;
          break;
        }
        case 'mode': {
          await helper.call('mode.set', { mode: action.mode });
          generation++;
          state.status = await helper.call('status.get', {});
          break;
        }
        case 'egress': {
          const app = await helper.call('egress.set', { app: action.app, choice: action.choice });
          generation++;
          state.apps = state.apps.map((a) => (a.id === app.id ? app : a));
          break;
        }
        case 'pin':
          state.settings = togglePin(state.settings, action.app, action.pinned);
          await saveSettings(settingsFile, state.settings);
          break;
        // The apps' held lists come with the refresh below.
        case 'clear':
          await helper.call('findings.clear', { app: action.app });
          break;
        case 'quarantine':
          await helper.call('quarantine.start', { app: action.app, seconds: action.seconds });
          break;
      }
      render();
      scheduleRefresh();
    } catch (err) {
      adapter.notify({
        key: `error:${action.kind}`,
        title: 'Switchyard could not do that',
        body: (err as Error).message,
        urgency: 'normal',
      });
    }
  }

  // ---- state from the helper ----
  let refreshTimer: NodeJS.Timeout | null = null;
  async function refresh(): Promise<void> {
    const started = ++generation;
    if (helper.connection().state !== 'connected') {
      state.status = null;
    } else {
      try {
        const [status, apps, interfaces] = await Promise.all([
          helper.call('status.get', {}),
          helper.call('apps.list', {}),
          helper.call('interfaces.list', {}),
        ]);
        // A tray action or a later refresh changed the state meanwhile: this answer is older.
        if (started !== generation) return;
        Object.assign(state, { status, apps, interfaces });
      } catch (err) {
        adapter.log(`could not refresh the tray: ${(err as Error).message}`);
      }
    }
    state.connection = helper.connection();
    render();
  }
  function scheduleRefresh(): void {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      void refresh();
    }, opts.refreshDelayMs ?? 250);
  }

  const stopForwarding = forwardEvents(helper, (env) => window?.send(IPC_EVENT, env));
  const debouncer = new NoticeDebouncer(opts.noticeWindowMs);
  const appName = (id: string) => state.apps.find((a) => a.id === id)?.name ?? id;
  const tell = (notice: Notice) => {
    if (debouncer.admit(notice)) adapter.notify(notice);
  };
  const alerts = new AlertBatcher((list) => tell(alertsNotice(list, appName, Date.now())), opts.alertDelayMs);
  const offNotices = helper.onEvent((env) => {
    const notice = noticeFor(env, appName);
    if (notice) tell(notice);
    if (env.event === 'reactions.changed') alerts.active((env.data as ReactionsState).active);
    if (env.event === 'app.flagged') alerts.flagged(env.data as EventData<'app.flagged'>);
    if (env.event !== 'counters' && env.event !== 'adoption') scheduleRefresh();
  });
  const offConnection = helper.onConnection((c) => {
    state.connection = c;
    if (c.state === 'connected') {
      alerts.connected();
      void refresh();
    } else {
      state.status = null;
      render();
    }
  });

  // Quarantines count down in the tray's menu.
  const countdown = setInterval(() => {
    if (state.status?.held.length) render();
  }, 30_000);

  helper.start();
  if (!opts.argv.includes('--hidden')) showWindow();

  function stop(): void {
    if (refreshTimer) clearTimeout(refreshTimer);
    clearInterval(countdown);
    alerts.stop();
    stopForwarding();
    offNotices();
    offConnection();
    helper.stop();
  }

  return { helper, state: () => state, tray: () => model, showWindow, act, refresh, stop };
}
