import { describe, expect, it } from 'vitest';
import { RESOURCES, resourceRoot } from './resources.ts';

describe('where the built parts are', () => {
  it('in the package: beside the bundle, also from code split into its chunks folder', () => {
    expect(resourceRoot('/usr/lib/switchyard', true)).toBe('/usr/lib/switchyard');
    expect(resourceRoot('/usr/lib/switchyard/chunks', true)).toBe('/usr/lib/switchyard');
  });

  it('in a checkout: native-helper/, from src/', () => {
    expect(resourceRoot('/repo/native-helper/src', false)).toBe('/repo/native-helper');
    expect(RESOURCES.addon).toMatch(/native-helper\/native\/build\/Release\/switchyard_native\.node$/);
  });
});
