// Short messages after an action ("Started Firefox…", "Could not…"), read out by screen readers.

export interface Notice {
  id: number;
  kind: 'info' | 'error';
  text: string;
}

export class Notices {
  items = $state<Notice[]>([]);
  #next = 1;
  #timeoutMs: number;

  constructor(timeoutMs = 6000) {
    this.#timeoutMs = timeoutMs;
  }

  #push(kind: Notice['kind'], text: string) {
    const id = this.#next++;
    this.items.push({ id, kind, text });
    if (this.items.length > 4) this.items.shift();
    if (this.#timeoutMs > 0)
      setTimeout(() => this.dismiss(id), kind === 'error' ? this.#timeoutMs * 2 : this.#timeoutMs);
  }

  info(text: string) {
    this.#push('info', text);
  }

  error(text: string) {
    this.#push('error', text);
  }

  dismiss(id: number) {
    const i = this.items.findIndex((n) => n.id === id);
    if (i >= 0) this.items.splice(i, 1);
  }
}
