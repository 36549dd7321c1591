#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { FleetrollError, createLogger, loadAgentConfig } from '@fleetroll/shared';
import { startAgent } from './daemon.js';

const USAGE = 'usage: fleetroll-agent --config /etc/fleetroll/agent.yml';

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

  const config = await loadAgentConfig(configPath);
  const log = createLogger('fleetroll-agent').child({ hostId: config.hostId });
  const agent = await startAgent(config, log);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping after the slot in flight');
    agent.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

function fail(message: string): never {
  console.error(`fleetroll-agent: ${message}`);
  process.exit(2);
}

main().catch((err: unknown) => {
  // Configuration and start-up errors are the operator's to fix: one clear line, no stack.
  const text = err instanceof FleetrollError ? `${err.code}: ${err.message}` : String(err);
  console.error(`fleetroll-agent: ${text}`);
  process.exit(err instanceof FleetrollError && err.code === 'CONFIG_INVALID' ? 2 : 1);
});
