import { after, before } from 'node:test';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { controllerConfigSchema } from '@fleetroll/shared';
import { startController, type RunningController } from '../src/daemon.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built `fleetroll` CLI as a real process: exit codes and stderr lines are part of its contract. */
export function fleetroll(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * A real controller over real gRPC (memory store) whose inventory is `inventoryYaml`, hosts no
 * agent serves: started before the calling file's tests, stopped after them. Its address is set
 * once it is up.
 */
export function controllerForCli(name: string, inventoryYaml: string): { address: string } {
  const handle = { address: '' };
  let dir = '';
  let controller: RunningController | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), `fleetroll-${name}-`));
    const inventory = join(dir, 'inventory.yml');
    await writeFile(inventory, inventoryYaml);
    controller = await startController(
      controllerConfigSchema.parse({
        listen: '127.0.0.1:0',
        http: { listen: '127.0.0.1:0' },
        inventory,
        store: 'memory',
      }),
      pino({ level: 'silent' }),
    );
    handle.address = `127.0.0.1:${controller.grpcPort}`;
  });
  after(async () => {
    await controller?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return handle;
}
