import { execFile } from 'node:child_process';
import type { TestContext } from 'node:test';
import { CLI_MAIN } from '@fleetroll/local-fleet';

export interface CliRun {
  code: number;
  /** stdout, then stderr. */
  out: string;
}

/** `fleetroll rollout start --image IMAGE --serial 1 [flags]` against the controller at `address`. */
export function startWithCli(
  t: TestContext,
  address: string,
  image: string,
  ...flags: string[]
): Promise<CliRun> {
  return runCli(t, 'rollout', 'start', '--image', image, '--serial', '1', '--controller', address, ...flags);
}

/** The built `fleetroll` CLI as an operator's terminal runs it; killed if the test ends first. */
export function runCli(t: TestContext, ...args: string[]): Promise<CliRun> {
  const stop = new AbortController();
  t.after(() => stop.abort());
  return new Promise((resolve) =>
    execFile(process.execPath, [CLI_MAIN, ...args], { signal: stop.signal }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, out: stdout + stderr });
    }),
  );
}
