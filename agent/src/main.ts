#!/usr/bin/env node
import { createLogger, loadAgentConfig, runDaemon } from '@fleetroll/shared';
import { startAgent } from './daemon.js';

runDaemon('fleetroll-agent', async (configPath) => {
  const config = await loadAgentConfig(configPath);
  const log = createLogger('fleetroll-agent').child({ hostId: config.hostId });
  const agent = await startAgent(config, log);
  return { log, stop: () => agent.stop() };
});
