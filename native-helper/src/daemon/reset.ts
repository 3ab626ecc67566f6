// `switchyard reset`: remove what a stopped helper instance left in the kernel on purpose (rules,
// routes, its nft table, sysctls, its cgroups with their processes moved out, the tagger and its
// pins). A stop for a restart or an upgrade keeps all of it so kill switches hold; this is the
// explicit way out, for uninstalling or starting over. It never touches a running helper's state.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Tagger, pinDirFor } from '../mechanism/bpf/tagger.ts';
import { Classifier, classifierPinDirFor } from '../mechanism/bpf/classifier.ts';
import { findCgroup2Mount, removeCgroupTree } from '../mechanism/cgroup/index.ts';
import { layoutFor } from '../layout/kernel-layout.ts';
import { Reconciler } from '../reconcile/reconciler.ts';
import { cgroupRootFor } from './app-cgroups.ts';
import { isLive } from './server.ts';

export interface ResetOptions {
  instance: string;
  socketPath: string;
  stateDir: string;
  cgroupParent: string;
}

/** Removes the instance's kernel state; returns what it removed, in words. */
export async function resetInstance(opts: ResetOptions): Promise<string[]> {
  if (await isLive(opts.socketPath))
    throw new Error(
      `a helper is running on ${opts.socketPath}; stop it first (\`systemctl stop switchyard-helper\`), then reset`,
    );
  const done: string[] = [];
  const layout = layoutFor(opts.instance);
  const stateFile = join(opts.stateDir, 'kernel-state.json');
  const reconciler = new Reconciler({ layout, stateFile });
  const now = await reconciler.readActual();
  const changedSysctls = existsSync(stateFile) && Object.keys(now.sysctls).length > 0;
  if (now.rules.length || now.routes.length || now.nft || changedSysctls) {
    await reconciler.teardown();
    done.push(
      `${now.rules.length} routing rules, ${now.routes.length} routes${now.nft ? `, the nft table ${layout.nftTable}` : ''}${changedSysctls ? ', and restored the sysctls it changed' : ''}`,
    );
  }
  rmSync(stateFile, { force: true }); // its sysctl originals are restored now

  const root = cgroupRootFor(await findCgroup2Mount(), opts.cgroupParent, opts.instance);
  const pinDir = pinDirFor(opts.instance);
  const hasRoot = existsSync(root);
  const hasPins = existsSync(pinDir);
  const flowPins = classifierPinDirFor(pinDir);
  if (existsSync(flowPins)) {
    if (hasRoot) new Classifier({ cgroupPath: root, pinDir: flowPins }).detach();
    else rmSync(flowPins, { recursive: true, force: true });
    done.push(`the flow classifier and its pins ${flowPins}`);
  }
  if (hasRoot && hasPins) {
    new Tagger({ cgroupPath: root, pinDir }).detach();
    done.push(`the socket tagger and its pins ${pinDir}`);
  } else if (hasPins) {
    rmSync(pinDir, { recursive: true, force: true });
    done.push(`the pins ${pinDir}`);
  }
  // Removing the cgroup also detaches a tagger whose pins are gone (another mount namespace's).
  if (hasRoot) {
    await removeCgroupTree(root, { moveTo: dirname(root) });
    done.push(`the cgroups ${root} (their processes moved out)`);
  }
  rmSync(opts.socketPath, { force: true });
  return done;
}
