import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { readFileSync } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const BINARY_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin'];
const OUTPUT_KEEP = 8 * 1024;
const STOP_GRACE_MS = 5_000;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
// A test process that ends without stop() must not leave daemons holding ports.
function track(child: ChildProcess): void {
  running.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const proc of running) proc.kill('SIGKILL');
  });
}

/** A missing binary must fail whatever needs it, never skip it. */
export async function findBinary(name: string, debianPackage: string): Promise<string> {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...BINARY_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(
    `${name} binary not found in ${dirs.join(', ')}: install it (apt-get install -y ${debianPackage}, ` +
      'which deploy/local/bootstrap.sh does)',
  );
}

export interface ManagedProcess {
  pid: number;
  /** The last few KiB it printed (read back from its log file when it has one). */
  output(): string;
  /** How it ended: `code N` or the signal's name. */
  exited: Promise<string>;
  /** The signal (SIGTERM by default; SIGKILL after a grace period), then waits; safe to call twice. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** The end of a log file, named, for an error message; read only when something failed. */
function tailOf(logFile: string): string {
  try {
    return `${logFile} ends: ${readFileSync(logFile, 'utf8').slice(-OUTPUT_KEEP)}`;
  } catch (err) {
    return `${logFile} unreadable (${(err as Error).message})`;
  }
}

/**
 * Starts a daemon in the foreground so that the child's pid is the daemon's own
 * and stop() ends exactly the process this call started. Its output goes to
 * logFile when given (for logs a person reads later), else to a small buffer.
 */
export async function startProcess(
  bin: string,
  args: string[],
  opts: { logFile?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ManagedProcess> {
  const log = opts.logFile ? await open(opts.logFile, 'a') : undefined;
  const child = spawn(bin, args, {
    stdio: ['ignore', log?.fd ?? 'pipe', log?.fd ?? 'pipe'],
    env: opts.env ?? process.env,
  });
  await log?.close();
  let buffer = '';
  const keep = (chunk: Buffer): void => {
    buffer = (buffer + chunk.toString('utf8')).slice(-OUTPUT_KEEP);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`));
    // A spawn failure (e.g. EACCES) arrives as 'error' and may come without 'exit'.
    child.once('error', (err) => resolve(`failed to start (${err.message})`));
  });
  track(child);

  let stopped: Promise<void> | undefined;
  return {
    pid: child.pid ?? 0,
    output: () => (opts.logFile ? tailOf(opts.logFile) : buffer),
    exited,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      stopped ??= (async () => {
        running.delete(child);
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
        child.kill(signal);
        // Unreferenced, or the grace timer alone would hold the process open for its full length.
        const grace = sleep(STOP_GRACE_MS, false, { ref: false });
        if (!(await Promise.race([exited.then(() => true), grace]))) {
          child.kill('SIGKILL');
          await exited;
        }
      })();
      return stopped;
    },
  };
}

/**
 * Polls `ready` until it says yes. A process that exits first, or a deadline that
 * passes, stops it and fails with `what` and its output, so a test says which part
 * of the fleet could not start and why.
 */
export async function waitUntilReady(
  proc: ManagedProcess,
  what: string,
  ready: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const early = await Promise.race([proc.exited, sleep(50).then(() => null)]);
    if (early !== null) {
      await proc.stop();
      throw new Error(`${what} exited (${early}) before it was ready; ${proc.output()}`);
    }
    if (await ready()) return;
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(
        `${what} (pid ${proc.pid}) was not ready within ${timeoutMs / 1000} s; ${proc.output()}`,
      );
    }
  }
}
