import { afterEach, describe, expect, it, vi } from 'vitest';
import { detailPane } from './detail-pane.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

function setup() {
  document.body.innerHTML = `
    <button data-row-focus="firefox">Details for Firefox</button>
    <button data-row-focus="vlc">Details for VLC</button>
    <aside><h2 tabindex="-1">Firefox</h2><button>Close details</button></aside>`;
  const [firefox, vlc] = [...document.querySelectorAll<HTMLButtonElement>('[data-row-focus]')];
  const pane = document.querySelector('aside')!;
  return { firefox: firefox!, vlc: vlc!, pane };
}

describe('detailPane', () => {
  it('moves focus to the heading, closes on Esc and gives focus back to the row', async () => {
    const { firefox, pane } = setup();
    firefox.focus();
    const onclose = vi.fn();
    const detach = detailPane(onclose)(pane) as () => void;
    expect(document.activeElement?.textContent).toBe('Firefox');
    document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    expect(onclose).toHaveBeenCalledOnce();
    detach();
    await Promise.resolve();
    expect(document.activeElement).toBe(firefox);
  });

  it('leaves Esc to an open dialog', () => {
    const { pane } = setup();
    pane.insertAdjacentHTML('beforeend', '<div role="dialog"><input></div>');
    const onclose = vi.fn();
    const detach = detailPane(onclose)(pane) as () => void;
    pane
      .querySelector('input')!
      .dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    expect(onclose).not.toHaveBeenCalled();
    detach();
  });

  it('returns to the row picked last, and does not take focus from where the user went', async () => {
    const { firefox, vlc, pane } = setup();
    firefox.focus();
    const detach = detailPane(() => {})(pane) as () => void;
    vlc.focus();
    pane.querySelector('h2')!.focus();
    detach();
    await Promise.resolve();
    expect(document.activeElement).toBe(vlc);

    const again = detailPane(() => {})(pane) as () => void;
    firefox.focus();
    again();
    await Promise.resolve();
    expect(document.activeElement).toBe(firefox);
  });
});
