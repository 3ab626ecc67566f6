// The log of a lab resolver (resolver.ts): one JSON line per question, read by tests to see who asked.

/** One query an ISP resolver answered (a line of its log). */
export interface ResolverQuery {
  kind: 'dns-query';
  /** The ISP namespace's role, e.g. isp-a. */
  resolver: string;
  /** Who asked (the source address as the resolver saw it). */
  client: string;
  /** The resolver address it was asked on. */
  local: string;
  transport: 'udp' | 'tcp';
  name?: string;
  type?: number;
}

export function parseResolverLog(text: string): ResolverQuery[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ResolverQuery);
}
