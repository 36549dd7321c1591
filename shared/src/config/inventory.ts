import { z } from 'zod';
import { nameSchema } from '../names.js';
import { flagDuplicates } from './duplicates.js';
import { isEndpoint } from './endpoint.js';
import { loadYamlConfig, parseYamlConfig } from './yaml.js';

export const inventoryHostSchema = z.strictObject({
  // The same pattern as an agent's hostId, because the two must be equal for the agent to be found.
  id: nameSchema.describe("The host's id: equal to `hostId` in its agent's configuration."),
  groups: z
    .array(nameSchema)
    .default([])
    .describe('Groups the host belongs to, for `--group` and for pausing and resuming one group.'),
  grpc: z
    .string()
    .refine(isEndpoint, 'must be host:port with a port of 1-65535, e.g. 10.0.0.11:7070')
    .optional()
    .describe(
      "host:port where the controller reaches the host's agent over gRPC. Needed for the grpc " +
        'transport; with NATS the agent is reached through its subjects.',
    ),
});

export const inventorySchema = z
  .strictObject({
    hosts: z
      .array(inventoryHostSchema)
      .min(1, 'an inventory needs at least one host')
      .describe(
        'Every host of the fleet, in the order batches are cut from; ids and grpc addresses are unique.',
      ),
  })
  .superRefine((inv, ctx) => {
    flagDuplicates(
      ctx,
      inv.hosts.map((h, i) => [['hosts', i, 'id'], h.id]),
    );
    // Two entries that reach the same agent would roll one machine twice as if it were two.
    flagDuplicates(
      ctx,
      inv.hosts.flatMap((h, i) => (h.grpc === undefined ? [] : [[['hosts', i, 'grpc'], h.grpc] as const])),
    );
    inv.hosts.forEach((h, i) =>
      flagDuplicates(
        ctx,
        h.groups.map((g, j) => [['hosts', i, 'groups', j], g]),
      ),
    );
  });

export type Inventory = z.infer<typeof inventorySchema>;
export type InventoryHost = z.infer<typeof inventoryHostSchema>;

const EXPECTED = 'a "hosts:" list';

/** `source` names the file in every message, e.g. `inventory.yml: hosts.3.id: duplicates hosts.1.id (fe-02)`. */
export function parseInventory(text: string, source: string): Inventory {
  return parseYamlConfig(text, source, inventorySchema, EXPECTED);
}

export function loadInventory(path: string): Promise<Inventory> {
  return loadYamlConfig(path, 'inventory', inventorySchema, EXPECTED);
}
