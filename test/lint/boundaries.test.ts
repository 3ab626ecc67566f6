// The layer rules in eslint.config.js bite: a deliberate cross-layer import in each layer is an error,
// and the same file without it is clean.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { REPO } from '../lab/switchyard-helper.ts';

const eslint = new ESLint({ cwd: REPO });

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${REPO}/${filePath}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer boundaries', () => {
  it.each([
    [
      'native-helper/src/mechanism/probe.ts',
      "import { compile } from '../policy/compile.ts';",
      /mechanism\/ is generic/,
    ],
    [
      'native-helper/src/mechanism/netlink/probe.ts',
      "import type { App } from '../../api/schema.ts';",
      /mechanism\/ is generic/,
    ],
    [
      'native-helper/src/policy/probe.ts',
      "import { run } from '../mechanism/exec.ts';",
      /policy\/ decides without I\/O/,
    ],
    [
      'native-helper/src/policy/probe.ts',
      "import { spawn } from 'node:child_process';",
      /policy\/ decides without I\/O/,
    ],
    [
      'native-helper/src/layout/probe.ts',
      "import { run } from '../mechanism/exec.ts';",
      /layout\/ is a leaf/,
    ],
    [
      'native-helper/src/reconcile/probe.ts',
      "import { Helper } from '../daemon/helper.ts';",
      /reconcile\/ applies/,
    ],
    [
      'native-helper/src/gateway/probe.ts',
      "import { run } from '../mechanism/exec.ts';",
      /one way into the kernel/,
    ],
    [
      'native-helper/src/tunnel/probe.ts',
      "import { applyTable } from '../mechanism/nft/table.ts';",
      /one way into the kernel/,
    ],
    [
      'native-helper/src/daemon/probe.ts',
      "import { Lab } from '../../../test/lab/lab.ts';",
      /does not import test code/,
    ],
    ['electron/probe.ts', "import { Lab } from '../test/lab/lab.ts';", /does not import test code/],
  ])('%s: %s', async (file, line, message) => {
    const errors = await restricted(
      file,
      `${line}\nexport const used = [${line.match(/\{ (\w+) \}/)![1]}];\n`,
    );
    expect(errors.some((m) => message.test(m))).toBe(true);
    expect(await restricted(file, 'export const clean = 1;\n')).toEqual([]);
  });

  it('applies the same rules to import(), which no-restricted-imports does not see', async () => {
    const [result] = await eslint.lintText("export const load = () => import('../policy/compile.ts');\n", {
      filePath: `${REPO}/native-helper/src/mechanism/probe.ts`,
    });
    const errors = result!.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
    expect(errors.some((m) => /mechanism\/ is generic/.test(m))).toBe(true);
  });

  it('lets only the demo-mode picker load the fake transport, statically or with import()', async () => {
    const testCode = async (filePath: string, code: string) => {
      const [result] = await eslint.lintText(code, { filePath: `${REPO}/${filePath}` });
      return result!.messages.filter((m) => /does not import test code/.test(m.message));
    };
    const load = "export const load = () => import('../transport-testing/fake-helper.ts');\n";
    const take =
      "import { FakeHelper } from '../transport-testing/fake-helper.ts';\nexport const F = FakeHelper;\n";
    expect(await testCode('renderer/src/lib/state/probe.ts', load)).toHaveLength(1);
    expect(await testCode('renderer/src/lib/state/probe.ts', take)).toHaveLength(1);
    expect(
      await testCode('renderer/src/lib/components/Probe.svelte', `<script lang="ts">\n${take}</script>\n`),
    ).toHaveLength(1);
    expect(await testCode('renderer/src/lib/transport/index.ts', load)).toEqual([]);
    expect(await testCode('renderer/src/lib/transport/index.ts', take)).toEqual([]);
    // The exception is for the fake transport only.
    expect(
      await testCode(
        'renderer/src/lib/transport/index.ts',
        "import { Lab } from '../../../../test/lab/lab.ts';\nexport const L = Lab;\n",
      ),
    ).toHaveLength(1);
  });

  it('lets policy/ take kernel types (no I/O in a type)', async () => {
    expect(
      await restricted(
        'native-helper/src/policy/probe.ts',
        "import type { KernelRoute } from '../mechanism/netlink/route-get.ts';\nexport type K = KernelRoute;\n",
      ),
    ).toEqual([]);
  });
});
