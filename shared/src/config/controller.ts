import { z } from 'zod';
import { natsConfigSchema } from '../nats/connect.js';
import { listenSchema } from './endpoint.js';
import { loadYamlConfig } from './yaml.js';

export const controllerConfigSchema = z
  .strictObject({
    listen: listenSchema
      .default('127.0.0.1:7000')
      .describe(
        "host:port of the CLI's gRPC API (ControllerService). No authentication of its own: keep it on " +
          'loopback or a management network.',
      ),
    /**
     * The dashboard and /metrics. Loopback by default: anyone who reaches it can pause and abort
     * rollouts, and it has no authentication of its own (put a proxy with auth in front to share it).
     */
    http: z
      .strictObject({
        listen: listenSchema
          .default('127.0.0.1:7080')
          .describe(
            'Where the dashboard and Prometheus /metrics listen (no authentication: keep it private).',
          ),
        // Requests naming another host are refused, so that a web page cannot reach the
        // dashboard's POST endpoints through DNS rebinding.
        allowedHosts: z
          .array(z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a host name'))
          .default([])
          .describe(
            'Host names the dashboard answers to besides IP addresses and localhost, e.g. the name of a proxy in front of it.',
          ),
      })
      .default({ listen: '127.0.0.1:7080', allowedHosts: [] })
      .describe('The dashboard and /metrics.'),
    inventory: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Path of the inventory: the fleet, re-read for every rollout. Without it, the agents registered ' +
          'over NATS are the fleet; required when there is no nats.',
      ),
    nats: natsConfigSchema
      .optional()
      .describe('The NATS cluster: the agent registry, the nats transport and the nats store need it.'),
    transport: z
      .enum(['nats', 'grpc'])
      .optional()
      .describe(
        'How rollouts reach the agents unless `rollout start --transport` says otherwise; by default ' +
          'nats when nats is configured, else grpc (which needs grpc addresses in the inventory).',
      ),
    agentDeadAfterMs: z
      .number()
      .int()
      .min(500)
      .max(600_000)
      .default(3_000)
      .describe(
        'An agent whose last heartbeat is older than this is dead, and a host it was updating fails; ' +
          "keep it a few times the agents' nats.heartbeatMs.",
      ),
    defaults: z
      .strictObject({
        hostTimeoutMs: z
          .number()
          .int()
          .min(1_000)
          .max(86_400_000)
          .default(600_000)
          .describe(
            'A host whose pre-pull and update take longer fails, and its agent is asked to stop at the ' +
              'next slot boundary (`rollout start --host-timeout`).',
          ),
        maxParallel: z
          .number()
          .int()
          .min(0)
          .max(100_000)
          .default(0)
          .describe('Hosts updated at once inside a batch; 0 means the whole batch (`--max-parallel`).'),
      })
      .default({ hostTimeoutMs: 600_000, maxParallel: 0 })
      .describe('Defaults of a rollout, for what `rollout start` does not say.'),
    store: z
      .enum(['auto', 'nats', 'file', 'memory'])
      .default('auto')
      .describe(
        'Where rollouts are kept, so that a restarted controller (or a standby taking over) resumes ' +
          'them: `nats` is a JetStream KV bucket (with nats.kvReplicas copies), `file` one file per ' +
          'rollout under stateDir, `memory` nothing that survives the process (tests, demos). `auto`: ' +
          'nats when NATS is configured, else file. The leader lock lives in the same place.',
      ),
    stateDir: z
      .string()
      .min(1)
      .default('/var/lib/fleetroll-controller')
      .describe("The file store's directory; it must survive a restart of the controller."),
    keepEnded: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(50)
      .describe(
        'How many ended rollouts the controller keeps (in the store, `rollout list` and the dashboard), ' +
          'newest first: when a rollout ends, older ended ones are deleted. Every kept rollout is read ' +
          'at each election and by standbys, so the store does not grow without bound.',
      ),
    leaderLeaseMs: z
      .number()
      .int()
      .min(1_000)
      .max(300_000)
      .default(5_000)
      .describe(
        "How long the leader lock outlives its holder's last renewal: a standby takes over this long " +
          'after the leader died. The leader renews it three times per lease.',
      ),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.store === 'nats' && !cfg.nats) {
      ctx.addIssue({ code: 'custom', path: ['nats'], message: 'is required when store is nats' });
    }
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
