// The simulated fleet's inventory and its controller's config, as an operator would write them.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freeLoopbackPort } from '@fleetroll/local-fleet';

export interface ControllerFiles {
  configPath: string;
  /** Where its gRPC API listens. */
  address: string;
}

export async function writeFleetFiles(
  workDir: string,
  hostIds: readonly string[],
  natsUrl: string,
  store: string,
): Promise<ControllerFiles> {
  const inventory = join(workDir, 'inventory.yml');
  // NATS finds the agents by id; the inventory only names them (and orders the batches).
  await writeFile(inventory, stringify({ hosts: hostIds.map((id) => ({ id })) }));
  const address = `127.0.0.1:${await freeLoopbackPort()}`;
  const configPath = join(workDir, 'controller.yml');
  await writeFile(
    configPath,
    stringify({
      listen: address,
      // Its own port: the default one would clash with any other controller on this machine.
      http: { listen: `127.0.0.1:${await freeLoopbackPort()}` },
      inventory,
      nats: { servers: [natsUrl] },
      transport: 'nats',
      store,
      stateDir: join(workDir, 'state'),
    }),
  );
  return { configPath, address };
}
