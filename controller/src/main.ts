#!/usr/bin/env node
import { createLogger, loadControllerConfig, runDaemon } from '@fleetroll/shared';
import { startController } from './daemon.js';

runDaemon('fleetroll-controller', async (configPath) => {
  const config = await loadControllerConfig(configPath);
  const log = createLogger('fleetroll-controller');
  const controller = await startController(config, log);
  return { log, stop: () => controller.stop() };
});
