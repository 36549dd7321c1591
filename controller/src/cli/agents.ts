import type { Command } from 'commander';
import { withApi } from './controller-api.js';
import { withController } from './flags.js';
import type { Io } from './io.js';

export function addAgentsCommand(program: Command, io: Io): void {
  withController(program.command('agents'))
    .description('list the agents the controller knows, and whether they are alive')
    .option('--json', 'print the list as JSON', false)
    .action(async (options: { controller: string; json: boolean }) => {
      const { agents } = await withApi(options.controller, (api) => api.agents());
      if (options.json) {
        io.out(`${JSON.stringify(agents)}\n`);
        return;
      }
      const width = Math.max(4, ...agents.map((a) => a.hostId.length));
      io.out(`${'HOST'.padEnd(width)}  ALIVE  LAST SEEN  GROUPS  ROLLOUT\n`);
      for (const a of agents) {
        const seen = a.lastSeenMs > 0 ? `${((Date.now() - a.lastSeenMs) / 1000).toFixed(1)}s ago` : '-';
        io.out(
          `${a.hostId.padEnd(width)}  ${(a.alive ? 'yes' : 'NO').padEnd(5)}  ${seen.padEnd(9)}  ` +
            `${a.groups.join(',') || '-'}  ${a.activeRolloutId || '-'}\n`,
        );
      }
    });
}
