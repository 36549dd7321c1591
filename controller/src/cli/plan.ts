import type { Command } from 'commander';
import { z } from 'zod';
import { loadInventory, serialSpecSchema } from '@fleetroll/shared';
import { planBatches } from '../plan/batches.js';
import { selectHosts } from '../plan/groups.js';
import { parseFlags } from './flags.js';
import { formatPlanJson, formatPlanText } from './format.js';
import type { Io } from './io.js';

const planFlagsSchema = z.object({
  inventory: z.string().min(1, 'is empty'),
  serial: serialSpecSchema,
  group: z.array(z.string()),
  json: z.boolean(),
});

type PlanFlags = z.output<typeof planFlagsSchema>;

async function plan(flags: PlanFlags): Promise<string> {
  const inventory = await loadInventory(flags.inventory);
  const batches = planBatches(selectHosts(inventory.hosts, flags.group), flags.serial);
  const ids = batches.map((batch) => batch.map((host) => host.id));
  return flags.json ? formatPlanJson(ids) : formatPlanText(ids, flags.serial);
}

export function addPlanCommand(program: Command, io: Io): void {
  program
    .command('plan')
    .description('print the batches a rollout would use, without touching any host')
    .requiredOption('--inventory <file>', 'inventory YAML file')
    .requiredOption('--serial <spec>', 'batch sizes: a count (3), a percentage (35%) or a list (1,10%,50%)')
    .option(
      '--group <name>',
      'only hosts in this group; repeat for several',
      (g: string, gs: string[]) => [...gs, g],
      [],
    )
    .option('--json', 'print {"batches": [[...], ...]} for scripts', false)
    .action(async (options: unknown) => {
      // Every flag is checked before the inventory is read, so a typo costs no file access.
      io.out(await plan(parseFlags(planFlagsSchema, options)));
    });
}
