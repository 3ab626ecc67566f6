// Build the UI in demo mode (FakeHelper), serve it under the real CSP, and screenshot every view in
// light and dark at 1280×800. Fails on any console error or CSP violation.
// Run: npx tsx renderer/scripts/screenshot-demo.ts [outDir=/tmp/switchyard-shots]
import { createServer } from 'node:http';
import { mkdir, readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { SECURITY_HEADERS } from '../../native-helper/src/web/csp.ts';

const rendererDir = fileURLToPath(new URL('..', import.meta.url));
const distDir = '/tmp/switchyard-demo-dist';
const outDir = process.argv[2] ?? '/tmp/switchyard-shots';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
};

async function main() {
  await build({
    root: rendererDir,
    configFile: join(rendererDir, 'vite.config.ts'),
    mode: 'demo',
    logLevel: 'warn',
    build: { outDir: distDir, emptyOutDir: true },
  });
  await mkdir(outDir, { recursive: true });

  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(
      /^(\.\.[/\\])+/,
      '',
    );
    const file = join(distDir, path === '/' ? 'index.html' : path);
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      });
      res.end(body);
    } catch {
      res.writeHead(404, SECURITY_HEADERS);
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const base = `http://127.0.0.1:${port}/`;

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const problems: string[] = [];
  const shots: string[] = [];
  try {
    for (const scheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        colorScheme: scheme,
      });
      const page = await context.newPage();
      watch(page, problems);
      const shot = async (name: string) => {
        const file = join(outDir, `${name}-${scheme}.png`);
        await page.screenshot({ path: file });
        shots.push(file);
        for (const unnamed of await unnamedControls(page))
          problems.push(`${name}: a ${unnamed} has no accessible name`);
      };

      await page.goto(`${base}?demo#/apps`);
      await page.getByRole('combobox', { name: 'Egress for Lab Browser' }).waitFor();
      await page.waitForTimeout(2500); // a few counters ticks
      await shot('apps');

      await page.getByRole('button', { name: 'Details for Firefox' }).click();
      await page.getByRole('complementary', { name: 'Details for Firefox' }).waitFor();
      await shot('apps-detail');
      await page.getByRole('button', { name: 'Close details' }).click();

      // A quarantine through the details: the picker, then the row, details and sidebar holding it.
      await page.getByRole('button', { name: 'Details for Lab Browser' }).click();
      await page.getByRole('button', { name: 'Quarantine…' }).click();
      await page.getByRole('radio', { name: '8 hours' }).check();
      await shot('apps-quarantine-picker');
      await page.getByRole('button', { name: 'Quarantine for 8 hours' }).click();
      await page.getByRole('link', { name: 'Lab Browser quarantined' }).waitFor();
      await shot('apps-quarantined');
      await page.getByRole('button', { name: 'Close details' }).click();

      await page.getByRole('radio', { name: 'Managed' }).check();
      await shot('apps-managed');
      await page.getByRole('radio', { name: 'All' }).check();
      await page.getByRole('searchbox', { name: 'Search apps' }).fill('zzz');
      await shot('apps-empty-search');
      await page.getByRole('searchbox', { name: 'Search apps' }).fill('');

      await page.getByRole('link', { name: 'Rules' }).click();
      await page.getByRole('list', { name: 'Your rules' }).waitFor();
      await shot('rules');
      await page.getByRole('button', { name: 'New rule' }).first().click();
      const editor = page.getByRole('dialog', { name: 'New rule' });
      await editor.getByRole('textbox', { name: 'Destinations' }).fill('10.0.0.5/8');
      await editor.getByRole('textbox', { name: 'Ports' }).fill('70000');
      await editor.getByRole('button', { name: 'Add rule' }).click();
      await shot('rule-editor-invalid');
      await editor.getByRole('button', { name: 'Close' }).click();
      await page.getByRole('button', { name: 'Groups' }).click();
      await page.getByRole('dialog', { name: 'App groups' }).waitFor();
      await shot('groups');
      await page.getByRole('button', { name: 'Done' }).click();

      await page.getByRole('link', { name: 'Networks' }).click();
      await page.getByRole('list', { name: 'Networks seen before' }).waitFor();
      await shot('networks');

      await page.getByRole('link', { name: 'Interfaces' }).click();
      await page.waitForTimeout(3000);
      await shot('interfaces');
      // The tunnels sit below the uplinks: their logical networks (key groups) and the rules using them.
      await page
        .getByRole('region', { name: 'sy-office' })
        .evaluate((el) => el.scrollIntoView({ block: 'end' }));
      await shot('interfaces-tunnels');

      await page.getByRole('link', { name: 'Activity' }).click();
      await page.getByRole('list', { name: 'Activity log' }).waitFor();
      await shot('activity');
      await page.getByRole('radio', { name: 'Audit' }).check();
      await page.getByRole('list', { name: 'Audit trail' }).waitFor();
      await shot('audit');
      await page.getByRole('radio', { name: 'Events' }).check();

      await page.getByRole('link', { name: 'Explain' }).click();
      await page.getByLabel('App').selectOption({ label: 'Firefox' });
      await page.getByLabel('Destination').fill('example.org:443');
      await page.getByRole('button', { name: 'Explain' }).click();
      await page.getByRole('region', { name: 'Explanation' }).waitFor();
      await shot('explain');

      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByText('Running normally').waitFor();
      await shot('settings');

      for (const state of ['absent', 'refused', 'incompatible'] as const) {
        await page.goto(`${base}?demo&helper=${state}#/apps`);
        await page.getByRole('button', { name: 'Try now' }).waitFor();
        await shot(`unavailable-${state}`);
      }

      await page.goto(`${base}?demo&apps=1000#/apps`);
      await page.getByRole('list', { name: 'Apps' }).waitFor();
      const rendered = await page.getByRole('listitem').count();
      if (rendered > 40) problems.push(`the virtual list rendered ${rendered} rows for 1000 apps`);
      await page
        .locator('.viewport')
        .first()
        .evaluate((el) => (el.scrollTop = 30_000));
      await page.waitForTimeout(300);
      await shot('apps-1000-scrolled');
      await context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  for (const s of shots) console.log(s);
  if (problems.length) {
    console.error(`\n${problems.length} problem(s):\n${[...new Set(problems)].join('\n')}`);
    process.exitCode = 1;
  }
}

const CONTROL_ROLES = new Set([
  'button',
  'link',
  'combobox',
  'textbox',
  'searchbox',
  'switch',
  'radio',
  'checkbox',
  'slider',
  'listbox',
  'menuitem',
  'tab',
]);

/** Every interactive element in the accessibility tree must have a name (the e2e tests find them by it). */
async function unnamedControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as {
    nodes: { ignored: boolean; role?: { value: string }; name?: { value: string } }[];
  };
  await cdp.detach();
  return nodes
    .filter((n) => !n.ignored && CONTROL_ROLES.has(n.role?.value ?? '') && !(n.name?.value ?? '').trim())
    .map((n) => n.role?.value ?? '?');
}

function watch(page: Page, problems: string[]) {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  void page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
}

await main();
