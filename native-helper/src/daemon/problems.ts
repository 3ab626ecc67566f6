// What is wrong with the helper right now, by key: `status` lists it and the health says "degraded";
// each new problem is logged and sent to clients once.
import type { EventBus } from './event-bus.ts';

export class Problems {
  private readonly byKey = new Map<string, string>();

  constructor(
    private readonly bus: EventBus,
    private readonly log: (msg: string) => void,
  ) {}

  set(key: string, message: string): void {
    if (this.byKey.get(key) === message) return;
    this.byKey.set(key, message);
    this.log(message);
    this.bus.emit('helper.problem', { message, severity: 'warning' });
  }

  clear(key: string): void {
    this.byKey.delete(key);
  }

  get list(): string[] {
    return [...this.byKey.values()];
  }
}
