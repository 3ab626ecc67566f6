export { ProcEvents } from './events.ts';
export type { ProcEvent, ExecEvent, ForkEvent, ExitEvent, ProcEventsOptions } from './events.ts';
export { measureAdoptionLatency } from './adoption.ts';
export type { AdoptionLatency, AdoptionLatencyOptions } from './adoption.ts';
export { percentiles } from './latency.ts';
export type { Percentiles } from './latency.ts';
