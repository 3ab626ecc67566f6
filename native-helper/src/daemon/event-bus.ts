// Helper events: numbered, validated against the schema, kept in a bounded history for late joiners.
import { type EventData, type EventEnvelope, type EventName, parseEvent } from '../api/schema.ts';

export type EventListener = (e: EventEnvelope) => void;

export class EventBus {
  private seq = 0;
  private readonly history: EventEnvelope[] = [];
  /** Each listener with the events it wants (null: all of them). */
  private readonly listeners = new Map<EventListener, ReadonlySet<string> | null>();

  constructor(private readonly keep = 5000) {}

  emit<E extends EventName>(event: E, data: EventData<E>): void {
    const envelope: EventEnvelope = {
      event,
      seq: ++this.seq,
      time: new Date().toISOString(),
      data: parseEvent(event, data),
    };
    // Counters tick every second; keeping them would push the meaningful events out of the history.
    if (event !== 'counters') {
      this.history.push(envelope);
      if (this.history.length > this.keep) this.history.splice(0, this.history.length - this.keep);
    }
    for (const [l, topics] of this.listeners) if (!topics || topics.has(event)) l(envelope);
  }

  subscribe(listener: EventListener, topics: ReadonlySet<string> | null = null): () => void {
    this.listeners.set(listener, topics);
    return () => this.listeners.delete(listener);
  }

  /** Whether anyone listens for this event now (counters are only sampled while someone does). */
  wants(event: EventName): boolean {
    for (const topics of this.listeners.values()) if (!topics || topics.has(event)) return true;
    return false;
  }

  recent(limit: number): EventEnvelope[] {
    return this.history.slice(-limit);
  }
}
