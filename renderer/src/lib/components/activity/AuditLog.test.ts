import '@testing-library/svelte/vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { AuditEntry } from '#switchyard/api/schema.ts';
import App from '../../../App.svelte';
import { actionOf, subjectOf } from '../../state/audit.svelte.ts';
import { FakeHelper } from '../../transport-testing/fake-helper.ts';

let fake: FakeHelper;

async function openAudit() {
  location.hash = '#/activity';
  fake = new FakeHelper();
  render(App, { props: { client: fake } });
  await fireEvent.click(await screen.findByRole('radio', { name: 'Audit' }));
  return screen.findByRole('list', { name: 'Audit trail' });
}

/** The rows shown, top to bottom, as their entries' sequence numbers. */
const shownSeqs = () =>
  within(screen.getByRole('list', { name: 'Audit trail' }))
    .getAllByRole('listitem')
    .map((li) => {
      const message = li.querySelector('.message')?.textContent;
      return fake.reactions.audit.find((a) => a.message === message)?.seq;
    });
const seqsWhere = (ok: (a: AuditEntry) => boolean) =>
  fake.reactions.audit
    .filter(ok)
    .map((a) => a.seq)
    .reverse();
const auditCalls = () => fake.calls.filter((c) => c.method === 'audit.list').map((c) => c.params);

function readBlob(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error);
    r.readAsText(blob);
  });
}

/** Catches the download the Export buttons start: its file name and body. */
function catchDownloads() {
  const files: { name: string; blob: Blob }[] = [];
  let last: Blob | null = null;
  URL.createObjectURL = vi.fn((b: Blob) => {
    last = b;
    return 'blob:audit';
  });
  URL.revokeObjectURL = vi.fn();
  vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
    if (last) files.push({ name: this.download, blob: last });
  });
  return files;
}

beforeEach(() => localStorage.clear());
afterEach(() => {
  fake?.close();
  vi.restoreAllMocks();
});

describe('the audit trail in the Activity view', () => {
  it('lists every entry newest first, read with audit.list', async () => {
    await openAudit();
    await waitFor(() => expect(shownSeqs()).toEqual(seqsWhere(() => true)));
    expect(shownSeqs().length).toBeGreaterThan(8);
    expect(auditCalls()).toEqual([{ limit: 2000 }]);
    const first = within(screen.getByRole('list', { name: 'Audit trail' })).getAllByRole('listitem')[0]!;
    expect(first.textContent).toContain('Firefox');
    expect(first.textContent).toContain('by root (uid 0) via clamav');
  });

  it('filters by action here, and by app and time at the helper', async () => {
    await openAudit();
    await fireEvent.change(screen.getByRole('combobox', { name: 'Audit action' }), {
      target: { value: 'event.ended' },
    });
    await waitFor(() => expect(shownSeqs()).toEqual(seqsWhere((a) => a.action === 'event.ended')));
    expect(shownSeqs()).toHaveLength(2);

    await fireEvent.change(screen.getByRole('combobox', { name: 'Audit action' }), {
      target: { value: 'all' },
    });
    await fireEvent.change(screen.getByRole('combobox', { name: 'Audit app' }), {
      target: { value: 'firefox' },
    });
    await waitFor(() => expect(shownSeqs()).toEqual(seqsWhere((a) => a.app === 'firefox')));
    expect(auditCalls().at(-1)).toEqual({ limit: 2000, app: 'firefox' });

    await fireEvent.change(screen.getByRole('combobox', { name: 'Audit app' }), { target: { value: 'all' } });
    const before = Date.now();
    await fireEvent.change(screen.getByRole('combobox', { name: 'Audit period' }), {
      target: { value: 'hour' },
    });
    const hourAgo = (t: string) => Date.parse(t) >= before - 3600_000 - 1000;
    await waitFor(() => expect(shownSeqs()).toEqual(seqsWhere((a) => hourAgo(a.time))));
    // Firefox's flag of 42 minutes ago is in the last hour; the refused report of two hours ago is not.
    expect(shownSeqs().length).toBeGreaterThan(0);
    expect(fake.reactions.audit.some((a) => a.action === 'report.refused')).toBe(true);
    expect(screen.queryByText(/report refused/)).toBeNull();
    const since = (auditCalls().at(-1) as { since: string }).since;
    expect(Math.abs(Date.parse(since) - (before - 3600_000))).toBeLessThan(5000);
  });

  it('shows new entries as audit.appended brings them, at the top', async () => {
    await openAudit();
    await waitFor(() => expect(shownSeqs().length).toBeGreaterThan(0));
    const reads = auditCalls().length;
    await fake.call('quarantine.start', { app: 'lab-browser', seconds: 900 });
    await waitFor(() => expect(shownSeqs()).toEqual(seqsWhere(() => true)));
    const top = within(screen.getByRole('list', { name: 'Audit trail' }))
      .getAllByRole('listitem')
      .slice(0, 2);
    expect(top.map((li) => li.querySelector('.type')?.textContent)).toEqual([
      'Rule created',
      'Event started',
    ]);
    expect(top[1]!.textContent).toMatch(/lab-browser quarantined until .*: quarantined by hand for 15 min/);
    expect(auditCalls()).toHaveLength(reads); // live, not read again
  });

  it('exports the filtered entries as JSON Lines and as CSV', async () => {
    const files = catchDownloads();
    await openAudit();
    await fireEvent.change(screen.getByRole('combobox', { name: 'Audit app' }), {
      target: { value: 'steam' },
    });
    await waitFor(() => expect(shownSeqs()).toEqual(seqsWhere((a) => a.app === 'steam')));
    await fireEvent.click(screen.getByRole('button', { name: 'Export JSON Lines' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
    expect(files.map((f) => f.name)).toEqual([
      expect.stringMatching(/^switchyard-audit-[\d-]+\.jsonl$/),
      expect.stringMatching(/^switchyard-audit-[\d-]+\.csv$/),
    ]);
    const steam = fake.reactions.audit.filter((a) => a.app === 'steam');
    const lines = (await readBlob(files[0]!.blob)).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l))).toEqual(steam);
    const csv = (await readBlob(files[1]!.blob)).split('\r\n');
    expect(csv[0]).toBe('seq,time,action,kind,event,app,rule,by,message');
    expect(csv.slice(1, -1)).toHaveLength(steam.length);
    const [q] = steam;
    expect(q!.message).not.toMatch(/[",]/);
    expect(csv[1]).toBe(
      `${q!.seq},${q!.time},event.started,app.quarantined,${q!.event},steam,,alice (uid 1000),${q!.message}`,
    );
    expect(await screen.findByText(`Downloaded ${steam.length} audit entries as CSV.`)).toBeTruthy();
  });

  it('says when a template made no rule, and what an entry without an app is about', () => {
    const entry = (patch: Partial<AuditEntry>): AuditEntry => ({
      seq: 1,
      time: '2025-03-04T10:00:00Z',
      action: 'rule.created',
      event: 'e-0123456789',
      kind: 'network.unknown',
      app: null,
      rule: null,
      by: 'the helper',
      message: 'no rule: template unknown-network-work: there is no group Work',
      ...patch,
    });
    expect(actionOf(entry({}))).toEqual({ label: 'No rule made', tone: 'neutral' });
    expect(actionOf(entry({ rule: 'r-1' })).label).toBe('Rule created');
    expect(subjectOf(entry({}))).toBe('Unknown network');
    expect(subjectOf(entry({ kind: null, action: 'report.refused' }))).toBe('A report');
  });
});
