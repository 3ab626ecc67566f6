import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIconResolver, readIconAsDataUrl } from './icons.ts';
import { decodeDataUrl, makeTempTree, pngImage, type TempTree } from '../catalog-testing/test-tree.ts';

const HICOLOR_INDEX = `[Icon Theme]
Name=Hicolor
Directories=16x16/apps,32x32/apps,48x48/apps,64x64/apps,128x128/apps,48x48@2/apps,scalable/apps

[16x16/apps]
Size=16
Type=Threshold

[32x32/apps]
Size=32
Type=Threshold

[48x48/apps]
Size=48
Type=Threshold

[48x48@2/apps]
Size=48
Scale=2
Type=Threshold

[64x64/apps]
Size=64
Type=Threshold

[128x128/apps]
Size=128
Type=Threshold

[scalable/apps]
Size=128
MinSize=8
MaxSize=512
Type=Scalable
`;

const SVG =
  '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16"/></svg>\n';

describe('icon lookup', () => {
  let tree: TempTree;
  beforeEach(() => {
    tree = makeTempTree({
      'share/icons/hicolor/index.theme': HICOLOR_INDEX,
      'share/icons/hicolor/16x16/apps/browser.png': pngImage(16),
      'share/icons/hicolor/32x32/apps/browser.png': pngImage(32),
      'share/icons/hicolor/48x48/apps/browser.png': pngImage(48),
      'share/icons/hicolor/128x128/apps/browser.png': pngImage(128),
      'share/icons/hicolor/16x16/apps/tiny.png': pngImage(16),
      'share/icons/hicolor/64x64/apps/mid.png': pngImage(64),
      'share/icons/hicolor/128x128/apps/mid.png': pngImage(128),
      'share/icons/hicolor/scalable/apps/vector.svg': SVG,
      'share/icons/hicolor/48x48/apps/huge.png': Buffer.concat([pngImage(48), Buffer.alloc(70 * 1024)]),
      'share/icons/hicolor/32x32/apps/huge.png': pngImage(32),
      'share/icons/Pretty/index.theme':
        '[Icon Theme]\nName=Pretty\nInherits=Base\nDirectories=apps/48\n\n[apps/48]\nSize=48\nType=Fixed\n',
      'share/icons/Pretty/apps/48/themed.png': pngImage(47),
      'share/icons/Base/index.theme':
        '[Icon Theme]\nName=Base\nDirectories=apps/32\n\n[apps/32]\nSize=32\nType=Fixed\n',
      'share/icons/Base/apps/32/browser.svg': SVG,
      'share/icons/hicolor/48x48/apps/themed.png': pngImage(48),
      'flatpak/icons/hicolor/64x64/apps/org.example.Chat.png': pngImage(64),
      'share/pixmaps/legacy.png': pngImage(20),
      'share/pixmaps/old.xpm': '/* XPM */\nstatic char *old[] = {"1 1 1 1", "a c #000000", "a"};\n',
      'elsewhere/logo.svg': SVG,
      'elsewhere/logo.bmp': 'BM not an image we can draw',
    });
  });
  afterEach(() => tree.remove());

  const resolver = (extra: { theme?: string; size?: number } = {}) =>
    createIconResolver({ dataDirs: [tree.at('flatpak'), tree.at('share')], ...extra });
  const pngWidth = (url: string | null) => {
    expect(url).not.toBeNull();
    const { type, data } = decodeDataUrl(url!);
    expect(type).toBe('image/png');
    return data.readUInt32BE(16); // IHDR width
  };

  it('prefers the exact size, then the closest one', async () => {
    const resolve = resolver();
    expect(pngWidth(await resolve('browser'))).toBe(48);
    expect(pngWidth(await resolve('mid'))).toBe(64);
    expect(pngWidth(await resolve('tiny'))).toBe(16);
    expect(pngWidth(await resolver({ size: 128 })('browser'))).toBe(128);
  });

  it('returns a scalable SVG as an svg+xml data URL with the file’s bytes', async () => {
    const { type, data } = decodeDataUrl((await resolver()('vector'))!);
    expect(type).toBe('image/svg+xml');
    expect(data.toString('utf8')).toBe(SVG);
  });

  it('skips a file over the size limit and takes the next candidate', async () => {
    expect(pngWidth(await resolver()('huge'))).toBe(32);
  });

  it('searches the user theme and what it inherits before hicolor', async () => {
    expect(pngWidth(await resolver({ theme: 'Pretty' })('themed'))).toBe(47);
    expect(decodeDataUrl((await resolver({ theme: 'Pretty' })('browser'))!).type).toBe('image/svg+xml');
    expect(pngWidth(await resolver()('themed'))).toBe(48);
  });

  it('finds Flatpak-exported icons in a hicolor tree without index.theme', async () => {
    expect(pngWidth(await resolver()('org.example.Chat'))).toBe(64);
  });

  it('falls back to pixmaps, and gives null for XPM, unknown names and relative paths', async () => {
    const resolve = resolver();
    expect(pngWidth(await resolve('legacy'))).toBe(20);
    expect(pngWidth(await resolve('legacy.png'))).toBe(20);
    expect(await resolve('old')).toBeNull();
    expect(await resolve('no-such-icon')).toBeNull();
    expect(await resolve('icons/browser.png')).toBeNull();
  });

  it('accepts absolute icon paths of PNG and SVG files only', async () => {
    const resolve = resolver();
    expect(decodeDataUrl((await resolve(tree.at('elsewhere/logo.svg')))!).type).toBe('image/svg+xml');
    expect(await resolve(tree.at('elsewhere/logo.bmp'))).toBeNull();
    expect(await readIconAsDataUrl(tree.at('elsewhere/missing.png'))).toBeNull();
  });
});
