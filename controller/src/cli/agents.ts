import type { Command } from 'commander';
import type { msg } from '@fleetroll/shared';
import { withApi } from './controller-api.js';
import { withController } from './flags.js';
import type { Io } from './io.js';

/** The table of `fleetroll agents`, then each agent's warnings in full, one line each. */
export function formatAgents(agents: readonly msg.AgentInfo__Output[], now = Date.now()): string {
  const width = Math.max(4, ...agents.map((a) => a.hostId.length));
  const rows = agents.map((a) => {
    const seen = a.lastSeenMs > 0 ? `${((now - a.lastSeenMs) / 1000).toFixed(1)}s ago` : '-';
    return (
      `${a.hostId.padEnd(width)}  ${(a.alive ? 'yes' : 'NO').padEnd(5)}  ${seen.padEnd(9)}  ` +
      `${a.groups.join(',') || '-'}  ${a.activeRolloutId || '-'}`
    );
  });
  const warnings = agents.flatMap((a) => a.warnings.map((w) => `warning: ${a.hostId}: ${w}`));
  return [`${'HOST'.padEnd(width)}  ALIVE  LAST SEEN  GROUPS  ROLLOUT`, ...rows, ...warnings]
    .map((line) => `${line}\n`)
    .join('');
}

export function addAgentsCommand(program: Command, io: Io): void {
  withController(program.command('agents'))
    .description('list the agents the controller knows, whether they are alive, and their warnings')
    .option('--json', 'print the list as JSON', false)
    .action(async (options: { controller: string; json: boolean }) => {
      const { agents } = await withApi(options.controller, (api) => api.agents());
      io.out(options.json ? `${JSON.stringify(agents)}\n` : formatAgents(agents));
    });
}
