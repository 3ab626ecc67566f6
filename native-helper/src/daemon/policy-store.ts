// The policy on disk: versioned, written atomically, reloaded on start. A file that cannot be read
// stops the helper with a clear error rather than starting empty: an empty policy would lift every
// kill switch, and the kernel state left by the previous run keeps failing closed meanwhile.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PolicyDocument, emptyPolicy, parsePolicy } from '../policy/model.ts';
import { writeFileAtomicSync } from '../storage/atomic-file.ts';

export class PolicyStore {
  readonly path: string;

  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.path = join(stateDir, 'policy.json');
  }

  /** There was no policy file when it was loaded (a first start, or a lost file). */
  missing = false;

  load(): PolicyDocument {
    this.missing = !existsSync(this.path);
    if (this.missing) return emptyPolicy();
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (err) {
      throw new Error(
        `the policy ${this.path} is not valid JSON (${(err as Error).message}); fix it or move it away to start with an empty policy`,
        { cause: err },
      );
    }
    try {
      return parsePolicy(raw);
    } catch (err) {
      throw new Error(`the policy ${this.path} cannot be used: ${(err as Error).message}`, { cause: err });
    }
  }

  save(doc: PolicyDocument): void {
    writeFileAtomicSync(this.path, `${JSON.stringify(doc, null, 2)}\n`);
    this.missing = false;
  }
}
