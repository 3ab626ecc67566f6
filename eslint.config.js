// One flat config for the whole repo: TypeScript everywhere, Svelte in renderer/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'native-helper/native/build/**', 'test/e2e/artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['renderer/**/*.svelte', 'renderer/**/*.svelte.ts'],
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] },
    },
  },
  { files: ['renderer/**/*.ts'], languageOptions: { globals: { ...globals.browser } } },
  // The helper's layers (docs/CONVENTIONS.md): mechanisms know no product; policy decides without I/O;
  // the kernel layout is a leaf everyone may import. test/lint/boundaries.test.ts proves each rule bites.
  // One config object per set of files: a later object's options replace an earlier one's.
  boundary(
    ['native-helper/src/**/*.ts', 'electron/**/*.ts', 'renderer/src/**/*.ts', 'renderer/src/**/*.svelte'],
    [],
  ),
  // Demo mode (`?demo`) is picked here, the one place production renderer code may load the fake
  // transport (renderer/src/lib/transport-testing/); a production build drops that import.
  boundary(['renderer/src/lib/transport/index.ts'], [], { allowTestDouble: 'transport-testing' }),
  boundary(
    ['native-helper/src/mechanism/**/*.ts'],
    [
      {
        regex: '(^|/)(api|policy|reconcile|daemon|catalog|cli|web|gateway|tunnel)/',
        message: 'mechanism/ is generic kernel plumbing: it may import only mechanism/, layout/ and node.',
      },
    ],
  ),
  boundary(
    ['native-helper/src/policy/**/*.ts'],
    [
      {
        regex: '(^|/)mechanism/',
        allowTypeImports: true,
        message:
          'policy/ decides without I/O: take what it needs from the kernel as a parameter (types only).',
      },
      { regex: '^node:(child_process|fs|dns|http|https)', message: 'policy/ decides without I/O.' },
      { regex: '(^|/)daemon/', message: 'policy/ does not know the daemon.' },
    ],
  ),
  boundary(
    ['native-helper/src/layout/**/*.ts'],
    [{ regex: '^\\.\\./', message: 'layout/ is a leaf: it imports nothing of ours.' }],
  ),
  boundary(
    ['native-helper/src/reconcile/**/*.ts'],
    [
      {
        regex: '(^|/)(daemon|policy|catalog|cli|web)/',
        message: 'reconcile/ applies desired state; it does not know where it came from.',
      },
    ],
  ),
  boundary(
    ['native-helper/src/gateway/**/*.ts', 'native-helper/src/tunnel/**/*.ts'],
    [
      {
        regex: '(^|/)mechanism/(exec|nft/table|netlink/batch)\\.ts$',
        message:
          'gateway/ and tunnel/ change the kernel only as desired state applied by reconcile/ (one way into the kernel).',
      },
      {
        regex: '(^|/)(daemon|cli|web)/',
        message: 'gateway/ and tunnel/ do not know the daemon, CLI or web bridge.',
      },
    ],
  ),
  // `npm start` (the developer's launcher, not shipped) brings up the lab, which lives under test/.
  { files: ['electron/start.ts'], rules: { 'no-restricted-imports': 'off', 'no-restricted-syntax': 'off' } },
);

/**
 * no-restricted-imports for production files, and the same patterns for import(), which that rule
 * does not see. Every set also keeps test code out; allowTestDouble names the one *-testing folder
 * these files may import.
 */
function boundary(files, patterns, { allowTestDouble } = {}) {
  const noTests = {
    regex: allowTestDouble
      ? `(^|/)(test|(?!${allowTestDouble}/)[a-z-]+-testing)/`
      : '(^|/)(test|[a-z-]+-testing)/',
    message: 'production code does not import test code or test doubles (*-testing/).',
  };
  const all = [...patterns, noTests];
  return {
    files,
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: all }],
      'no-restricted-syntax': [
        'error',
        ...all.map(({ regex, message }) => ({
          selector: `ImportExpression[source.value=/${regex.replaceAll('/', '\\/')}/]`,
          message,
        })),
      ],
    },
  };
}
