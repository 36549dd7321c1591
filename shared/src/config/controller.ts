import { z } from 'zod';
import { natsConfigSchema } from '../nats/connect.js';
import { listenSchema } from './endpoint.js';
import { loadYamlConfig } from './yaml.js';

export const controllerConfigSchema = z
  .strictObject({
    /** Where ControllerService (the CLI's API) listens. */
    listen: listenSchema.default('127.0.0.1:7000'),
    /** Hosts and their groups; with NATS, registered agents are added to it. */
    inventory: z.string().min(1).optional(),
    nats: natsConfigSchema.optional(),
    /** Default transport to the agents; a rollout may choose the other one if it is configured. */
    transport: z.enum(['nats', 'grpc']).optional(),
    /** An agent whose heartbeat is older than this is dead. */
    agentDeadAfterMs: z.number().int().min(500).max(600_000).default(3_000),
    defaults: z
      .strictObject({
        hostTimeoutMs: z.number().int().min(1_000).max(86_400_000).default(600_000),
        maxParallel: z.number().int().min(0).max(100_000).default(0),
      })
      .default({ hostTimeoutMs: 600_000, maxParallel: 0 }),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.transport === 'nats' && !cfg.nats) {
      ctx.addIssue({ code: 'custom', path: ['nats'], message: 'is required when transport is nats' });
    }
    if (!cfg.nats && !cfg.inventory) {
      ctx.addIssue({
        code: 'custom',
        path: ['inventory'],
        message: 'is required without nats (nothing else names the hosts)',
      });
    }
  });

export type ControllerConfig = z.infer<typeof controllerConfigSchema>;

export function loadControllerConfig(path: string): Promise<ControllerConfig> {
  return loadYamlConfig(path, 'controller config', controllerConfigSchema);
}
