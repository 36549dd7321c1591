import { parseArgs } from 'node:util';
import { FleetrollError } from './errors.js';
import type { Logger } from './logger.js';

export interface Daemon {
  log: Logger;
  /** Graceful: whatever is in flight finishes (the agent's slot, the controller's calls). */
  stop(): Promise<void>;
}

/**
 * The command line of both daemons: `--config FILE`, start, stop on SIGTERM/SIGINT.
 * Start-up errors are the operator's to fix, so they are one line with the code and
 * no stack; a bad configuration exits 2, anything else 1.
 */
export function runDaemon(name: string, start: (configPath: string) => Promise<Daemon>): void {
  const usage = `usage: ${name} --config /etc/fleetroll/${name.replace('fleetroll-', '')}.yml`;
  const fail = (message: string, code: number): never => {
    console.error(`${name}: ${message}`);
    process.exit(code);
  };
  let configPath: string | undefined;
  try {
    ({
      values: { config: configPath },
    } = parseArgs({ options: { config: { type: 'string', short: 'c' } } }));
  } catch (err) {
    fail(`${(err as Error).message}\n${usage}`, 2);
  }
  if (!configPath) fail(`--config is required\n${usage}`, 2);

  start(configPath as string).then(
    (daemon) => {
      const shutdown = (signal: string) => {
        daemon.log.info({ signal }, 'stopping');
        daemon.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            daemon.log.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    },
    (err: unknown) => {
      const text = err instanceof FleetrollError ? `${err.code}: ${err.message}` : String(err);
      fail(text, err instanceof FleetrollError && err.code === 'CONFIG_INVALID' ? 2 : 1);
    },
  );
}
