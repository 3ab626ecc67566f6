import { describe, expect, it, vi } from 'vitest';
import { MemoryCgroupTree } from '../daemon-testing/cgroup-tree.ts';
import { MemorySockets } from '../daemon-testing/process-sockets.ts';
import { MemoryTagMap } from '../daemon-testing/tag-map.ts';
import { layoutFor, markFor } from '../layout/kernel-layout.ts';
import { MemoryClassifier } from '../daemon-testing/flow-classifier.ts';
import type { PolicyApp } from '../policy/model.ts';
import { AppCgroups, cgroupRootFor } from './app-cgroups.ts';

const layout = layoutFor('unit', 9);
const PARENT = '/cg/user.slice';
const ROOT = `${PARENT}/switchyard.unit`;

const app = (id: string, tag: number): PolicyApp => ({
  id,
  name: id,
  icon: null,
  source: 'manual',
  matchers: { exe: [`/usr/bin/${id}`] },
  tag,
  choice: { mode: 'default' },
});
const chat = app('chat', 3);
const web = app('web', 5);

function setup(opts: { tagsLeft?: { cgroupId: bigint; mark: number }[] } = {}) {
  const tree = new MemoryCgroupTree('/cg');
  const tagger = new MemoryTagMap(opts.tagsLeft);
  const sockets = new MemorySockets();
  const classifier = new MemoryClassifier();
  const cgroups = new AppCgroups('/cg', 'user.slice', 'unit', layout, {
    cgroups: tree,
    tagger,
    sockets,
    classifier,
  });
  return { tree, tagger, sockets, classifier, cgroups };
}

async function started(opts: Parameters<typeof setup>[0] = {}) {
  const t = setup(opts);
  await t.cgroups.create();
  t.cgroups.attachTagger();
  return t;
}

describe('AppCgroups', () => {
  it("names the instance's subtree and creates it", async () => {
    expect(cgroupRootFor('/cg', 'user.slice', 'unit')).toBe(ROOT);
    expect(cgroupRootFor('/cg', '', 'unit')).toBe('/cg/switchyard.unit');
    const { tree, cgroups } = setup();
    expect(cgroups.root).toBe(ROOT);
    expect(cgroups.exists).toBe(false);
    await cgroups.create();
    expect(tree.exists(ROOT)).toBe(true);
    expect(cgroups.exists).toBe(true);
  });

  it("creates one cgroup per app, tagged with the app's mark before any process joins it", async () => {
    const { tree, tagger, cgroups } = await started();
    const marksAtMove: (number | undefined)[] = [];
    const move = tree.moveProcess.bind(tree);
    vi.spyOn(tree, 'moveProcess').mockImplementation(async (pid, path) => {
      marksAtMove.push(tagger.markOf(tree.id(path)));
      return move(pid, path);
    });
    const cg = await cgroups.cgroupFor(chat);
    expect(cg).toEqual({ path: `${ROOT}/app-chat`, id: tree.id(`${ROOT}/app-chat`) });
    expect(tagger.markOf(cg.id)).toBe(markFor(layout, chat.tag));
    expect(await cgroups.cgroupFor(chat)).toBe(cg); // the same one, not a second
    const other = await cgroups.cgroupFor(web);
    expect(other.path).toBe(`${ROOT}/app-web`);
    expect(other.id).not.toBe(cg.id);
    expect(tagger.markOf(other.id)).toBe(markFor(layout, web.tag));
    expect(await tree.children(ROOT)).toEqual(['app-chat', 'app-web']);
    expect(cgroups.has('chat')).toBe(true);
    expect(cgroups.has('mail')).toBe(false);
    // A process joining an app cgroup that does not exist yet: created and tagged first.
    await cgroups.join(app('mail', 7), 300);
    expect(marksAtMove).toEqual([markFor(layout, 7)]);
  });

  it('moves a joining process into its app and marks the sockets it opened before', async () => {
    const { tree, sockets, cgroups } = await started();
    const mark = markFor(layout, chat.tag);
    sockets.process(500, [
      { fd: 3 }, // opened before it joined: unmarked
      { fd: 4, mark }, // already right
      { fd: 5, family: 10, mark: 0x1234 }, // IPv6, someone else's mark
      { fd: 6, family: 1 }, // a Unix socket: no mark needed
    ]);
    const { cgroup, retagged } = await cgroups.join(chat, 500);
    expect(cgroup.path).toBe(`${ROOT}/app-chat`);
    expect(tree.cgroupOf(500)).toBe(`${ROOT}/app-chat`);
    expect(retagged).toBe(2);
    expect([3, 4, 5, 6].map((fd) => sockets.socket(500, fd)!.mark)).toEqual([mark, mark, mark, 0]);
    expect(cgroups.pidsOf('chat')).toEqual([500]);
  });

  it("keeps each app's processes sorted and once; a process gone before its sockets are read still joins", async () => {
    const { tree, cgroups } = await started();
    await cgroups.join(chat, 500); // no sockets to list: it exited meanwhile
    await cgroups.join(chat, 400);
    await cgroups.join(chat, 500);
    await cgroups.join(web, 600);
    expect(cgroups.pidsOf('chat')).toEqual([400, 500]);
    expect(cgroups.pidsOf('web')).toEqual([600]);
    expect(cgroups.pidsOf('mail')).toEqual([]);
    expect(tree.cgroupOf(400)).toBe(`${ROOT}/app-chat`);
  });

  it('re-reads processes, including those in cgroups an app made below its own', async () => {
    const { tree, cgroups } = await started();
    const { path } = (await cgroups.join(chat, 500)).cgroup;
    tree.exit(500);
    tree.spawn(501, path); // forked by itself
    await tree.ensure(`${path}/renderer`);
    tree.spawn(502, `${path}/renderer`);
    expect(cgroups.pidsOf('chat')).toEqual([500]); // until the next read
    await cgroups.refreshPids();
    expect(cgroups.pidsOf('chat')).toEqual([501, 502]);
  });

  it("removes a removed app's cgroup and tag; its processes go to the subtree's parent", async () => {
    const { tree, tagger, cgroups } = await started();
    const chatCg = await cgroups.join(chat, 500);
    const webCg = await cgroups.join(web, 600);
    await cgroups.release('chat');
    expect(tree.exists(chatCg.cgroup.path)).toBe(false);
    expect(tagger.markOf(chatCg.cgroup.id)).toBeUndefined();
    expect(tree.cgroupOf(500)).toBe(PARENT);
    expect(cgroups.has('chat')).toBe(false);
    expect(cgroups.pidsOf('chat')).toEqual([]);
    // The other app is untouched, and releasing an unknown app does nothing.
    await cgroups.release('mail');
    expect(tree.cgroupOf(600)).toBe(webCg.cgroup.path);
    expect(tagger.markOf(webCg.cgroup.id)).toBe(markFor(layout, web.tag));
    // Joining again after a release makes a fresh cgroup, tagged again.
    const again = await cgroups.cgroupFor(chat);
    expect(tagger.markOf(again.id)).toBe(markFor(layout, chat.tag));
  });

  it("after a restart, takes back the earlier run's app cgroups and drops those of apps no longer there", async () => {
    // What a previous run left: its subtree, app cgroups with processes, and the pinned tag map.
    const tree = new MemoryCgroupTree('/cg');
    await tree.ensure(`${ROOT}/app-chat/renderer`);
    await tree.ensure(`${ROOT}/app-gone`);
    await tree.ensure(`${ROOT}/not-an-app`);
    tree.spawn(700, `${ROOT}/app-chat`);
    tree.spawn(701, `${ROOT}/app-chat/renderer`);
    tree.spawn(800, `${ROOT}/app-gone`);
    const chatId = tree.id(`${ROOT}/app-chat`);
    const goneId = tree.id(`${ROOT}/app-gone`);
    const tagger = new MemoryTagMap([
      { cgroupId: chatId, mark: markFor(layout, 99) }, // the tag it had then
      { cgroupId: goneId, mark: markFor(layout, 4) },
      { cgroupId: 123456n, mark: markFor(layout, 8) }, // a cgroup that no longer exists
    ]);
    const cgroups = new AppCgroups('/cg', 'user.slice', 'unit', layout, {
      cgroups: tree,
      tagger,
      sockets: new MemorySockets(),
      classifier: new MemoryClassifier(),
    });
    expect(cgroups.exists).toBe(true);
    await cgroups.create();
    cgroups.attachTagger();
    await cgroups.recover([chat, web]);

    expect(cgroups.has('chat')).toBe(true);
    expect(cgroups.has('web')).toBe(false);
    expect(cgroups.pidsOf('chat')).toEqual([700, 701]);
    expect(tree.exists(`${ROOT}/app-gone`)).toBe(false);
    expect(tree.cgroupOf(800)).toBe(PARENT);
    expect(tree.exists(`${ROOT}/not-an-app`)).toBe(true);
    expect(tagger.list()).toEqual([{ cgroupId: chatId, mark: markFor(layout, chat.tag), flags: 0 }]);
    expect(await cgroups.cgroupFor(chat)).toEqual({ path: `${ROOT}/app-chat`, id: chatId });
  });

  it('removes the whole subtree and the tagger', async () => {
    const { tree, tagger, classifier, cgroups } = await started();
    expect(classifier.attached).toBe(true);
    await cgroups.join(chat, 500);
    await cgroups.join(web, 600);
    await cgroups.removeAll();
    expect(tree.exists(ROOT)).toBe(false);
    expect(cgroups.exists).toBe(false);
    expect([tree.cgroupOf(500), tree.cgroupOf(600)]).toEqual([PARENT, PARENT]);
    expect(tagger.attached).toBe(false);
    expect(classifier.attached).toBe(false);
  });

  it('tells whether a process cgroup path is inside the subtree', () => {
    const { cgroups } = setup();
    expect(cgroups.isOurs('/user.slice/switchyard.unit/app-chat')).toBe(true);
    expect(cgroups.isOurs('/user.slice/switchyard.unit/app-chat/renderer')).toBe(true);
    expect(cgroups.isOurs('/user.slice/switchyard.unit')).toBe(false);
    expect(cgroups.isOurs('/user.slice/switchyard.unit2/app-chat')).toBe(false);
    expect(cgroups.isOurs('/user.slice')).toBe(false);
  });
});
