// Reading the catalog into the policy: apps from desktop files, plus running programs with internet
// sockets that no desktop file or hand-added app covers. Apps the user configured stay even when
// their desktop file is gone; unconfigured ones leave with it.
import { readFileSync } from 'node:fs';
import type { AppId } from '../api/schema.ts';
import { type CatalogEntry, buildCatalog, catalogFromProcesses } from '../catalog/catalog.ts';
import { readAllProcessIdentities } from '../catalog/processes.ts';
import { type PolicyDocument, addApp } from '../policy/model.ts';
import { inOurNetns } from './adoption.ts';

export async function readCatalog(
  doc: PolicyDocument,
  dataDirs: string[],
): Promise<Map<AppId, CatalogEntry>> {
  const desktop = await buildCatalog({
    extraDataDirs: dataDirs,
    userHomes: desktopUserHomes(),
  });
  const known = [...desktop, ...doc.apps.filter((a) => a.source === 'manual')];
  const running = (await readAllProcessIdentities({ sockets: true })).filter((p) => inOurNetns(p.pid));
  const entries = [...desktop, ...catalogFromProcesses(running, known)];
  return new Map(entries.map((e) => [e.id, e]));
}

/** The document with the catalog's apps added or updated, and unconfigured uninstalled ones removed. */
export function withCatalog(
  doc: PolicyDocument,
  catalog: Map<AppId, CatalogEntry>,
  hasCgroup: (id: AppId) => boolean,
): PolicyDocument {
  for (const e of catalog.values()) {
    const existing = doc.apps.find((a) => a.id === e.id);
    if (!existing) {
      doc = addApp(doc, { id: e.id, name: e.name, icon: null, source: e.source, matchers: e.matchers });
    } else if (
      existing.source !== 'manual' &&
      JSON.stringify([existing.name, existing.matchers]) !== JSON.stringify([e.name, e.matchers])
    ) {
      doc = {
        ...doc,
        apps: doc.apps.map((a) => (a.id === e.id ? { ...a, name: e.name, matchers: e.matchers } : a)),
      };
    }
  }
  return {
    ...doc,
    apps: doc.apps.filter(
      (a) => a.source === 'manual' || catalog.has(a.id) || a.choice.mode !== 'default' || hasCgroup(a.id),
    ),
  };
}

/** Homes of people logged in (uid ≥ 1000 with a home), so their own desktop files are found. */
function desktopUserHomes(): string[] {
  try {
    return readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .filter((f) => Number(f[2]) >= 1000 && Number(f[2]) < 60000 && f[5]?.startsWith('/home/'))
      .map((f) => f[5]!);
  } catch {
    return [];
  }
}
