export { ProcEvents } from './events.ts';
export type { ProcEvent, ExecEvent, ForkEvent, ExitEvent, ProcEventsOptions } from './events.ts';
export { percentiles } from './latency.ts';
export type { Percentiles } from './latency.ts';
