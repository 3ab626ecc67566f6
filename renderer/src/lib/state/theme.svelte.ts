// Theme preference (system, light, dark), stored in localStorage and applied as data-theme on <html>.

export type ThemePreference = 'system' | 'light' | 'dark';
export const THEME_KEY = 'switchyard.theme';

export function readPreference(storage: Pick<Storage, 'getItem'> | undefined): ThemePreference {
  const v = storage?.getItem(THEME_KEY);
  return v === 'light' || v === 'dark' ? v : 'system';
}

export class ThemeState {
  preference = $state<ThemePreference>('system');
  systemDark = $state(false);
  effective = $derived<'light' | 'dark'>(
    this.preference === 'system' ? (this.systemDark ? 'dark' : 'light') : this.preference,
  );
  #media: MediaQueryList | null = null;
  #onMedia = (e: MediaQueryListEvent) => (this.systemDark = e.matches);

  constructor() {
    this.preference = readPreference(globalThis.localStorage);
    this.#media = globalThis.matchMedia?.('(prefers-color-scheme: dark)') ?? null;
    this.systemDark = this.#media?.matches ?? false;
    this.#media?.addEventListener?.('change', this.#onMedia);
    this.apply();
  }

  set(pref: ThemePreference): void {
    this.preference = pref;
    if (pref === 'system') globalThis.localStorage?.removeItem(THEME_KEY);
    else globalThis.localStorage?.setItem(THEME_KEY, pref);
    this.apply();
  }

  /** The CSS follows prefers-color-scheme unless data-theme pins it. */
  apply(): void {
    const root = globalThis.document?.documentElement;
    if (!root) return;
    if (this.preference === 'system') delete root.dataset.theme;
    else root.dataset.theme = this.preference;
  }

  dispose(): void {
    this.#media?.removeEventListener?.('change', this.#onMedia);
  }
}
