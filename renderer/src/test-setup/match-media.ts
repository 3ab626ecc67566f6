// Component tests run in jsdom, which has no matchMedia; uPlot and the theme read it when they load,
// so it is defined before any test file imports them (vitest.config.ts: setupFiles).
window.matchMedia ??= (query: string) =>
  ({
    matches: false,
    media: query,
    onchange: null,
    addEventListener() {},
    removeEventListener() {},
    addListener() {},
    removeListener() {},
    dispatchEvent: () => false,
  }) as MediaQueryList;
