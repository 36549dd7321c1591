import { z } from 'zod';
import { nameSchema } from '../names.js';
import { natsConfigSchema } from '../nats/connect.js';
import { listenSchema } from './endpoint.js';
import { flagDuplicates } from './duplicates.js';
import { slotTimingsSchema } from './durations.js';
import { loadYamlConfig, parseYamlConfig } from './yaml.js';

export const slotConfigSchema = z.strictObject({
  id: nameSchema.describe(
    'Stable id of the slot that the controller, the CLI and the journal use, e.g. app1.',
  ),
  container: nameSchema.describe(
    'The Docker container serving this slot now. Its replacement gets the same name and configuration.',
  ),
  backend: nameSchema.describe('The HAProxy backend that holds the server.'),
  server: nameSchema.describe(
    "The HAProxy server in that backend that sends traffic to this slot's container.",
  ),
});

export const agentNatsConfigSchema = natsConfigSchema.extend({
  heartbeatMs: z
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(1_000)
    .describe(
      "How often the agent refreshes its entry in the registry; keep it well under the controller's agentDeadAfterMs.",
    ),
});

/** How long a pull may go without any progress from Docker before it is ended. */
export const DEFAULT_PULL_STALL_TIMEOUT_MS = 60_000;

export const agentConfigSchema = z
  .strictObject({
    hostId: nameSchema.describe(
      "This machine's id: the same as its `id` in the inventory, and its key in the NATS registry.",
    ),
    groups: z
      .array(nameSchema)
      .default([])
      .describe(
        'Groups announced in the NATS registry, used when the controller has no inventory ' +
          "(with one, the inventory's groups apply).",
      ),
    grpc: z
      .strictObject({
        listen: listenSchema.describe(
          'host:port the agent serves gRPC on. Also announced in the NATS registry, so with ' +
            'discovery instead of an inventory give an address the controller can reach.',
        ),
      })
      .describe('The AgentService over gRPC; always served, also when NATS is configured.'),
    haproxy: z
      .strictObject({
        socket: z
          .string()
          .min(1)
          .describe('Path of the HAProxy runtime API socket; it needs `level admin` to set weights.'),
        timeoutMs: z
          .number()
          .int()
          .min(50)
          .max(60_000)
          .default(2_000)
          .describe('Deadline of one command on that socket.'),
        masterSocket: z
          .string()
          .min(1)
          .optional()
          .describe(
            "Path of HAProxy's master CLI socket (HAProxy run with -W and -S). With it, a drain asks an old " +
              "process a reload left for its sessions on the slot's server alone, instead of waiting for that " +
              'process to exit; and an agent in another pid namespace learns from it of the old workers a ' +
              'reload just before a slot left.',
          ),
        serverStateFile: z
          .string()
          .startsWith('/', 'must be an absolute path')
          .optional()
          .describe(
            "The file HAProxy's `server-state-file` names (with `load-server-state-from-file global` in its " +
              "defaults). The agent writes HAProxy's server state there before each weight it sets, so that a " +
              'reload or a restart keeps a draining server at weight 0 instead of giving it its configured ' +
              'weight back. The agent refuses to start when it cannot write the file.',
          ),
      })
      .describe("The local HAProxy in front of this host's slots."),
    docker: z
      .strictObject({
        socket: z
          .string()
          .min(1)
          .default('/var/run/docker.sock')
          .describe('Path of the Docker Engine API socket.'),
        pullStallTimeoutMs: z
          .number()
          .int()
          .min(1_000)
          .max(3_600_000)
          .default(DEFAULT_PULL_STALL_TIMEOUT_MS)
          .describe(
            'A pull that Docker reports no progress on for this long is ended and fails the host with ' +
              'IMAGE_PULL_FAILED. Docker sets no limit of its own: a registry that stops sending in the ' +
              'middle of a layer would hold the pull for ever. A slow pull that keeps moving is not cut.',
          ),
        authFile: z
          .string()
          .min(1)
          .optional()
          .describe(
            'A Docker client config (config.json, as `docker login` writes it) that gives the ' +
              'credentials for pulls from private registries: its `auths` entry for the registry, ' +
              'else the credential helper it names (credHelpers, then credsStore; ' +
              'docker-credential-NAME on PATH), as the docker CLI reads it. Read at each pull, so a ' +
              'new login needs no restart. Unset: $DOCKER_CONFIG/config.json or ~/.docker/config.json ' +
              "of the agent's user when there is one.",
          ),
      })
      .prefault({})
      .describe('The local Docker Engine that runs the slot containers.'),
    stateDir: z
      .string()
      .min(1)
      .describe(
        'Where the crash-recovery journal lives. It must survive a restart of the agent (not a ' +
          'tmpfs), or an interrupted slot cannot be repaired.',
      ),
    defaults: slotTimingsSchema
      .default(slotTimingsSchema.parse({}))
      .describe(
        'Timings of a slot replacement; a rollout may override each of them (`fleetroll rollout ' +
          'start --drain-timeout 45s --min-drain 5s --health-timeout 2m --min-ready 3s ' +
          '--stop-timeout 20 --slot-parallelism 2`).',
      ),
    slots: z
      .array(slotConfigSchema)
      .min(1, 'a host needs at least one slot')
      .describe(
        'The copies of the app on this host, replaced in this order. Ids, containers and ' +
          'backend/server pairs are unique.',
      ),
    nats: agentNatsConfigSchema
      .optional()
      .describe(
        'Without it the agent serves gRPC only. With it, it also answers on NATS and heartbeats ' +
          'in the registry, so the controller sees it alive.',
      ),
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
