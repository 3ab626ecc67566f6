import { afterEach, describe, expect, it } from 'vitest';
import { focusSearch, isTyping, searchBox, wantsSearch } from './shortcuts.ts';

function key(init: KeyboardEventInit, target: EventTarget = document.body): KeyboardEvent {
  const e = new KeyboardEvent('keydown', { bubbles: true, cancelable: true, ...init });
  Object.defineProperty(e, 'target', { value: target });
  return e;
}

afterEach(() => {
  document.body.innerHTML = '';
});

describe('search shortcuts', () => {
  it('take / outside fields and Ctrl+F anywhere', () => {
    const input = document.createElement('input');
    const checkbox = Object.assign(document.createElement('input'), { type: 'checkbox' });
    expect(wantsSearch(key({ key: '/' }))).toBe(true);
    expect(wantsSearch(key({ key: '/' }, checkbox))).toBe(true);
    expect(wantsSearch(key({ key: '/' }, input))).toBe(false);
    expect(wantsSearch(key({ key: 'f', ctrlKey: true }, input))).toBe(true);
    expect(wantsSearch(key({ key: 'F', ctrlKey: true, shiftKey: true }))).toBe(false);
    expect(wantsSearch(key({ key: 'f' }))).toBe(false);
  });

  it('know text fields from other controls', () => {
    expect(isTyping(document.createElement('textarea'))).toBe(true);
    expect(isTyping(Object.assign(document.createElement('input'), { type: 'search' }))).toBe(true);
    expect(isTyping(Object.assign(document.createElement('input'), { type: 'radio' }))).toBe(false);
    expect(isTyping(document.createElement('button'))).toBe(false);
  });

  it("focus and select the view's search box, or an open dialog's", () => {
    document.body.innerHTML = `<main><input type="search" aria-label="Search apps" value="fire"></main>`;
    const e = key({ key: '/' });
    expect(focusSearch(e)).toBe(true);
    expect(e.defaultPrevented).toBe(true);
    const box = document.activeElement as HTMLInputElement;
    expect(box.getAttribute('aria-label')).toBe('Search apps');
    expect([box.selectionStart, box.selectionEnd]).toEqual([0, 4]);

    document.body.insertAdjacentHTML(
      'beforeend',
      `<div role="dialog" aria-modal="true"><input type="search" aria-label="Search groups"></div>`,
    );
    expect(searchBox(document)?.getAttribute('aria-label')).toBe('Search groups');
  });

  it('leave the key alone when the view has no search', () => {
    document.body.innerHTML = `<main><h1>Settings</h1></main>`;
    const e = key({ key: 'f', ctrlKey: true });
    expect(focusSearch(e)).toBe(false);
    expect(e.defaultPrevented).toBe(false);
  });
});
