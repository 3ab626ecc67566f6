// The API's schema imports node:net (isIP); the browser build points it at lib/platform/node-net.ts.
declare module 'node:net' {
  export function isIP(input: string): 0 | 4 | 6;
  export function isIPv4(input: string): boolean;
  export function isIPv6(input: string): boolean;
}
