import { ControllerApi } from '@fleetroll/controller';
import { CONTROLLER_MAIN } from './paths.js';
import { startProcess, waitUntilReady } from './process.js';

export interface ControllerProcess {
  pid: number;
  address: string;
  api: ControllerApi;
  logFile: string;
  exited: Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a real fleetroll-controller process and waits until its API answers. */
export async function spawnController(
  configPath: string,
  address: string,
  logFile: string,
): Promise<ControllerProcess> {
  const proc = await startProcess(process.execPath, [CONTROLLER_MAIN, '--config', configPath], {
    logFile,
    env: { ...process.env, FLEETROLL_LOG_LEVEL: process.env['FLEETROLL_LOG_LEVEL'] ?? 'debug' },
  });
  const api = new ControllerApi(address);
  const answers = () =>
    api.list().then(
      () => true,
      () => false,
    );
  try {
    await waitUntilReady(proc, `fleetroll-controller on ${address}`, answers, 15_000);
  } catch (err) {
    api.close();
    throw err;
  }
  return {
    pid: proc.pid,
    address,
    api,
    logFile,
    exited: proc.exited,
    async stop(signal?: NodeJS.Signals) {
      await proc.stop(signal);
      api.close();
    },
  };
}
