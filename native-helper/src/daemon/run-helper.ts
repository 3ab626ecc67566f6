// `switchyard helper` in the foreground: start, serve, and on SIGTERM/SIGINT stop for a restart.
import { Helper, type HelperOptions } from './helper.ts';

/** `switchyard helper`: run until SIGTERM/SIGINT, then clean up. */
export async function runHelper(opts: HelperOptions): Promise<number> {
  const helper = new Helper(opts);
  const { startServer } = await import('./handlers.ts');
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  // One stop, whatever the number of signals: a second Ctrl-C must not cut the clean-up short.
  let stopping: Promise<void> | null = null;
  const shutdown = (signal: string) => {
    if (stopping) return helper.log(`${signal}: already shutting down`);
    helper.log(`${signal}: shutting down`);
    stopping = (async () => {
      await server?.close();
      await helper.stop('keep'); // a restart or an upgrade: kill switches keep holding meanwhile
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await helper.start();
  } catch (err) {
    helper.log(`cannot start: ${(err as Error).message}`);
    // An earlier run's kernel state stays: kill switches keep failing closed until a helper comes back.
    return 1;
  }
  try {
    server = await startServer(helper);
  } catch (err) {
    helper.log(`cannot start: ${(err as Error).message}`);
    await helper.stop(helper.startedFresh ? 'reset' : 'keep');
    return 1;
  }
  helper.log(`listening on ${opts.socketPath}`);
  await new Promise(() => {});
  return 0;
}
