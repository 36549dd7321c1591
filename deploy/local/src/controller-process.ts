import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ControllerApi } from '@fleetroll/controller';
import { CONTROLLER_MAIN } from './paths.js';

export interface ControllerProcess {
  pid: number;
  address: string;
  api: ControllerApi;
  logFile: string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a real fleetroll-controller process and waits until its API answers. */
export async function spawnController(
  configPath: string,
  address: string,
  logFile: string,
): Promise<ControllerProcess> {
  const log = await open(logFile, 'a');
  const child = spawn(process.execPath, [CONTROLLER_MAIN, '--config', configPath], {
    stdio: ['ignore', log.fd, log.fd],
    env: { ...process.env, FLEETROLL_LOG_LEVEL: process.env['FLEETROLL_LOG_LEVEL'] ?? 'debug' },
  });
  await log.close();
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (c) => {
      code = c;
      resolve(c);
    }),
  );
  const api = new ControllerApi(address);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (code !== undefined)
      throw new Error(`fleetroll-controller exited with ${code} before serving; see ${logFile}`);
    try {
      await api.list();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`fleetroll-controller did not answer on ${address} within 15 s; see ${logFile}`, {
          cause: err,
        });
      }
      await sleep(100);
    }
  }
  return {
    pid: child.pid ?? 0,
    address,
    api,
    logFile,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (code === undefined) child.kill(signal);
      const c = await exited;
      api.close();
      return c;
    },
  };
}
