import { constants } from 'node:os';

/**
 * Runs a program that owns real processes and containers, making sure they are
 * torn down however it ends: normally, by an error, or by Ctrl-C / SIGTERM. The
 * teardown runs once even when the end and a signal both ask for it.
 */
export async function runWithTeardown(
  name: string,
  main: (signalled: () => boolean) => Promise<number>,
  teardown: () => Promise<void>,
): Promise<number> {
  let tornDown: Promise<void> | undefined;
  let signalled = false;
  const once = () => (tornDown ??= teardown());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      signalled = true;
      console.error(`\n${signal}: tearing down the ${name}`);
      void once().finally(() => process.exit(128 + constants.signals[signal]));
    });
  }
  try {
    return await main(() => signalled);
  } catch (err) {
    // After a signal, whatever was running fails because its parts are going away: not news.
    if (!signalled) console.error(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await once();
  }
}
