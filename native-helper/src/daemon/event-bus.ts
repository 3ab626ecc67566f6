// Helper events: numbered, validated against the schema, kept in a bounded history for late joiners.
import { type EventData, type EventEnvelope, type EventName, parseEvent } from '../api/schema.ts';

export type EventListener = (e: EventEnvelope) => void;

export class EventBus {
  private seq = 0;
  private readonly history: EventEnvelope[] = [];
  private readonly listeners = new Set<EventListener>();

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
    for (const l of this.listeners) l(envelope);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  recent(limit: number): EventEnvelope[] {
    return this.history.slice(-limit);
  }
}
