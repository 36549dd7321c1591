import { z } from 'zod';
import { nameSchema } from '../names.js';
import { natsConfigSchema } from '../nats/connect.js';
import { listenSchema } from './endpoint.js';
import { flagDuplicates } from './duplicates.js';
import { slotTimingsSchema } from './durations.js';
import { loadYamlConfig, parseYamlConfig } from './yaml.js';

export const slotConfigSchema = z.strictObject({
  /** Stable id the controller and operators use. */
  id: nameSchema,
  container: nameSchema,
  backend: nameSchema,
  server: nameSchema,
});

/**
 * Optional: without it the agent serves gRPC only. With it, the agent also answers
 * on NATS and heartbeats in the registry, every heartbeatMs (the controller calls a
 * host dead after a few missed beats, so keep it well under its deadAfterMs).
 */
export const agentNatsConfigSchema = natsConfigSchema.extend({
  heartbeatMs: z.number().int().min(100).max(60_000).default(1_000),
});

export const agentConfigSchema = z
  .strictObject({
    hostId: nameSchema,
    groups: z.array(nameSchema).default([]),
    grpc: z.strictObject({ listen: listenSchema }),
    haproxy: z.strictObject({
      socket: z.string().min(1),
      timeoutMs: z.number().int().min(50).max(60_000).default(2_000),
    }),
    docker: z
      .strictObject({ socket: z.string().min(1).default('/var/run/docker.sock') })
      .default({ socket: '/var/run/docker.sock' }),
    /** Where the crash-recovery journal lives; must survive a restart of the agent. */
    stateDir: z.string().min(1),
    defaults: slotTimingsSchema.default(slotTimingsSchema.parse({})),
    slots: z.array(slotConfigSchema).min(1, 'a host needs at least one slot'),
    nats: agentNatsConfigSchema.optional(),
  })
  .superRefine((cfg, ctx) => {
    flagDuplicates(
      ctx,
      cfg.slots.map((slot, i) => [['slots', i, 'id'], slot.id]),
    );
    flagDuplicates(
      ctx,
      cfg.slots.map((slot, i) => [['slots', i, 'container'], slot.container]),
    );
    flagDuplicates(
      ctx,
      cfg.slots.map((slot, i) => [['slots', i, 'server'], `${slot.backend}/${slot.server}`]),
    );
  });

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type SlotConfig = z.infer<typeof slotConfigSchema>;
export type AgentNatsConfig = z.infer<typeof agentNatsConfigSchema>;

export function parseAgentConfig(text: string, source: string): AgentConfig {
  return parseYamlConfig(text, source, agentConfigSchema);
}

export function loadAgentConfig(path: string): Promise<AgentConfig> {
  return loadYamlConfig(path, 'agent config', agentConfigSchema);
}
