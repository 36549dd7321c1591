#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { FleetrollError, createLogger, loadControllerConfig } from '@fleetroll/shared';
import { startController } from './daemon.js';

const USAGE = 'usage: fleetroll-controller --config /etc/fleetroll/controller.yml';

async function main(): Promise<void> {
  let configPath: string | undefined;
  try {
    ({
      values: { config: configPath },
    } = parseArgs({ options: { config: { type: 'string', short: 'c' } } }));
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
  if (!configPath) fail(`--config is required\n${USAGE}`);
  const config = await loadControllerConfig(configPath);
  const log = createLogger('fleetroll-controller');
  const controller = await startController(config, log);
  const shutdown = (signal: string) => {
    log.info({ signal }, 'stopping');
    controller.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

function fail(message: string): never {
  console.error(`fleetroll-controller: ${message}`);
  process.exit(2);
}

main().catch((err: unknown) => {
  const text = err instanceof FleetrollError ? `${err.code}: ${err.message}` : String(err);
  console.error(`fleetroll-controller: ${text}`);
  process.exit(err instanceof FleetrollError && err.code === 'CONFIG_INVALID' ? 2 : 1);
});
