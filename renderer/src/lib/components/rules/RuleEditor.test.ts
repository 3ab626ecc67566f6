import '@testing-library/svelte/vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { RuleInput } from '#switchyard/api/schema.ts';
import { FakeHelper } from '../../transport-testing/fake-helper.ts';
import type { Outcome } from '../../state/rules.svelte.ts';
import RuleEditor from './RuleEditor.svelte';

function setup(opts: { tunnels?: boolean; answer?: Outcome } = {}) {
  const fake = new FakeHelper();
  const onsubmit = vi.fn(async (_input: RuleInput): Promise<Outcome> => opts.answer ?? { ok: true });
  const onclose = vi.fn();
  render(RuleEditor, {
    props: {
      apps: fake.apps,
      groups: fake.rules.groups,
      tunnels: opts.tunnels === false ? [] : fake.rules.tunnels,
      onsubmit,
      onclose,
      onmanagegroups: () => {},
    },
  });
  return { onsubmit, onclose };
}

const field = (name: string) => screen.getByRole('textbox', { name }) as HTMLInputElement;
const submit = () => fireEvent.click(screen.getByRole('button', { name: 'Add rule' }));

describe('the rule editor', () => {
  it('shows each bad field next to it, marked invalid, and sends nothing', async () => {
    const { onsubmit } = setup();
    await fireEvent.input(field('Destinations'), { target: { value: '10.0.0.0/8, 198.18.0.7/15' } });
    await fireEvent.input(field('Ports'), { target: { value: '443, 9000-80' } });
    await submit();
    expect(onsubmit).not.toHaveBeenCalled();
    expect(screen.getByText('Pick the app this rule is for.')).toBeTruthy();
    expect(field('Destinations').getAttribute('aria-invalid')).toBe('true');
    expect(
      document.getElementById(field('Destinations').getAttribute('aria-describedby')!)?.textContent,
    ).toBe('"198.18.0.7/15" has host bits set; the network is 198.18.0.0/15.');
    expect(document.getElementById(field('Ports').getAttribute('aria-describedby')!)?.textContent).toBe(
      '"9000-80" runs backwards; write it as 80-9000.',
    );
  });

  it('clears a message as soon as its field is fixed, then sends the rule', async () => {
    const { onsubmit, onclose } = setup();
    await submit();
    await fireEvent.change(screen.getByRole('combobox', { name: 'App' }), { target: { value: 'git' } });
    expect(screen.queryByText('Pick the app this rule is for.')).toBeNull();
    await fireEvent.input(field('Destinations'), { target: { value: 'fd5a::/16' } });
    await fireEvent.input(field('Ports'), { target: { value: '22' } });
    await fireEvent.click(screen.getByRole('radio', { name: 'TCP' }));
    await fireEvent.click(screen.getByRole('radio', { name: 'Untrusted' }));
    await fireEvent.change(screen.getByRole('combobox', { name: 'Tunnel' }), {
      target: { value: 'sy-travel' },
    });
    await fireEvent.change(screen.getByRole('combobox', { name: 'Expires' }), { target: { value: '900' } });
    await submit();
    expect(onsubmit).toHaveBeenCalledWith({
      match: {
        subject: { kind: 'app', app: 'git' },
        destinations: ['fd5a::/16'],
        ports: [{ from: 22, to: 22 }],
        protocol: 'tcp',
        network: 'untrusted',
      },
      action: { type: 'encrypt', tunnel: 'sy-travel' },
      expiresIn: 900,
    });
    await vi.waitFor(() => expect(onclose).toHaveBeenCalled());
  });

  it('offers groups, and without a tunnel says to pick Clear or Block', async () => {
    const { onsubmit } = setup({ tunnels: false });
    await fireEvent.click(screen.getByRole('radio', { name: 'Group' }));
    const group = screen.getByRole('combobox', { name: 'Group' }) as HTMLSelectElement;
    expect([...group.options].slice(1).map((o) => o.value)).toEqual(['Browsers', 'Chat', 'Work']);
    await fireEvent.change(group, { target: { value: 'Chat' } });
    await submit();
    expect(screen.getByText(/There is no tunnel yet.*pick Clear or Block/)).toBeTruthy();
    await fireEvent.click(screen.getByRole('radio', { name: 'Block' }));
    await submit();
    expect(onsubmit).toHaveBeenLastCalledWith(
      expect.objectContaining({
        match: expect.objectContaining({ subject: { kind: 'group', group: 'Chat' } }),
      }),
    );
  });

  it("shows the helper's refusal and stays open", async () => {
    const { onclose } = setup({
      answer: { ok: false, error: 'Could not add the rule: no app "git" in the policy.' },
    });
    await fireEvent.change(screen.getByRole('combobox', { name: 'App' }), { target: { value: 'git' } });
    await submit();
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Could not add the rule: no app "git" in the policy.',
    );
    expect(onclose).not.toHaveBeenCalled();
  });

  it('closes on Escape', async () => {
    const { onclose } = setup();
    await fireEvent.keyDown(screen.getByRole('dialog', { name: 'New rule' }), { key: 'Escape' });
    expect(onclose).toHaveBeenCalled();
  });
});
