import { describe, expect, it } from 'vitest';
import { HELPER_ENV, HELPER_NODE_FLAGS, launcherScript } from './node-flags.ts';

describe('the package launcher', () => {
  it('starts the helper with its idle-daemon options and every other command with the defaults', () => {
    const lines = launcherScript('/usr/lib/switchyard').split('\n');
    expect(lines[0]).toBe('#!/bin/sh');
    expect(lines[1]).toBe(
      `if [ "$1" = helper ]; then ${HELPER_ENV} exec /usr/lib/switchyard/node ${HELPER_NODE_FLAGS.join(' ')} /usr/lib/switchyard/switchyard.mjs "$@"; fi`,
    );
    expect(HELPER_NODE_FLAGS).toContain('--max-semi-space-size=1');
    expect(lines[2]).toBe(
      'exec /usr/lib/switchyard/node --disable-warning=ExperimentalWarning /usr/lib/switchyard/switchyard.mjs "$@"',
    );
  });
});
