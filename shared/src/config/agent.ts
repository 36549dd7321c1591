import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import { nameSchema } from '../names.js';
import { natsConfigSchema } from '../nats/connect.js';
import { slotTimingsSchema } from './durations.js';
import { formatZodError } from '../validate.js';

const hostPort = z.string().regex(/^[A-Za-z0-9.-]+:[0-9]{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7070');

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
    grpc: z.strictObject({ listen: hostPort }),
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
    const seen = new Map<string, string>();
    cfg.slots.forEach((slot, i) => {
      for (const [kind, key] of [
        ['id', slot.id],
        ['container', slot.container],
        ['server', `${slot.backend}/${slot.server}`],
      ] as const) {
        const k = `${kind}:${key}`;
        if (seen.has(k)) {
          ctx.addIssue({ code: 'custom', path: ['slots', i, kind], message: `duplicates ${seen.get(k)}` });
        }
        seen.set(k, `slots.${i}.${kind} (${key})`);
      }
    });
  });

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type SlotConfig = z.infer<typeof slotConfigSchema>;
export type AgentNatsConfig = z.infer<typeof agentNatsConfigSchema>;

export function parseAgentConfig(text: string, source: string): AgentConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  const result = agentConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`${source}: ${formatZodError(result.error)}`);
  return result.data;
}

export async function loadAgentConfig(path: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read agent config ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  return parseAgentConfig(text, path);
}
