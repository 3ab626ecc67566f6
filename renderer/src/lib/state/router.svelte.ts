// Hash routes (#/apps …): they work from file:// in Electron and from the bridge alike.

export const VIEWS = [
  { id: 'apps', label: 'Apps' },
  { id: 'rules', label: 'Rules' },
  { id: 'networks', label: 'Networks' },
  { id: 'interfaces', label: 'Interfaces' },
  { id: 'tunnels', label: 'Tunnels' },
  { id: 'activity', label: 'Activity' },
  { id: 'explain', label: 'Explain' },
  { id: 'settings', label: 'Settings' },
] as const;
export type ViewId = (typeof VIEWS)[number]['id'];

export function viewFromHash(hash: string): ViewId {
  const id = hash.replace(/^#\/?/, '').split(/[/?&]/)[0];
  return VIEWS.some((v) => v.id === id) ? (id as ViewId) : 'apps';
}

export class Router {
  view = $state<ViewId>('apps');
  #onHash = () => (this.view = viewFromHash(location.hash));

  constructor() {
    this.view = viewFromHash(globalThis.location?.hash ?? '');
    globalThis.addEventListener?.('hashchange', this.#onHash);
  }

  go(view: ViewId): void {
    if (location.hash !== `#/${view}`) location.hash = `#/${view}`;
    this.view = view;
  }

  dispose(): void {
    globalThis.removeEventListener?.('hashchange', this.#onHash);
  }
}
