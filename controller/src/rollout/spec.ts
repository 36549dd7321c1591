import { z } from 'zod';
import {
  InvalidInputError,
  formatZodError,
  NO_SLOT_OVERRIDES,
  imageRefSchema,
  nameSchema,
  parseInput,
  rolloutIdSchema,
  serialSpecSchema,
  updateHostRequestSchema,
  type SerialSpec,
  type msg,
} from '@fleetroll/shared';

export type Transport = 'nats' | 'grpc';
export type FailureActionName = 'pause' | 'abort' | 'rollback';

/** A StartRolloutRequest once validated: everything the executor reads from it, defaults applied. */
export interface RolloutSpec {
  readonly id: string;
  readonly image: string;
  readonly serial: SerialSpec;
  readonly groups: readonly string[];
  readonly maxFailPercent: number;
  readonly failureAction: FailureActionName;
  /** Hosts updated at once inside a batch; 0 means the whole batch. */
  readonly maxParallel: number;
  readonly hostTimeoutMs: number;
  /** After each batch: wait this long, then check its hosts again (see soak.ts); 0 for none. */
  readonly soakMs: number;
  /** Batch numbers (1-based, ascending) after which the rollout pauses for an operator. */
  readonly pauseAfter: readonly number[];
  readonly groupsInParallel: boolean;
  /** Each group planned on its own and the groups run one after another. */
  readonly groupsInSequence: boolean;
  readonly transport?: Transport;
  readonly options: msg.UpdateOptions__Output;
}

export interface RolloutSpecOptions {
  readonly id: string;
  /** Fills `transport` when the request leaves it empty. */
  readonly defaultTransport?: Transport;
  /** The controller's configured values, used where the request says 0. */
  readonly defaults?: { readonly hostTimeoutMs?: number; readonly maxParallel?: number };
}

/** Long enough for a host of several slots that each drain and pass a health check. */
export const DEFAULT_HOST_TIMEOUT_MS = 600_000;
const MAX_HOST_TIMEOUT_MS = 86_400_000;
const MAX_SOAK_MS = 86_400_000;
const MAX_BATCH_NUMBER = 100_000;

const PERCENT = /^(\d+(?:\.\d+)?)\s*%?$/;

const maxFailSchema = z
  .union([z.string(), z.number()])
  .default('')
  .transform((raw, ctx): number => {
    const text = String(raw).trim();
    if (text === '') return 0;
    const match = PERCENT.exec(text);
    const value = Number(match?.[1]);
    if (!match || !Number.isFinite(value)) {
      ctx.addIssue({
        code: 'custom',
        input: raw,
        message: `${JSON.stringify(raw)} is not a percentage (e.g. "10%")`,
      });
      return z.NEVER;
    }
    if (value > 100) {
      ctx.addIssue({ code: 'custom', input: raw, message: `${JSON.stringify(raw)} is over 100%` });
      return z.NEVER;
    }
    return value;
  });

// proto-loader hands enums over as names, but a client built with other options sends numbers.
const FAILURE_ACTIONS: Readonly<Record<string, FailureActionName>> = {
  FAILURE_ACTION_UNSPECIFIED: 'pause',
  PAUSE: 'pause',
  ABORT: 'abort',
  ROLLBACK: 'rollback',
  0: 'pause',
  1: 'pause',
  2: 'abort',
  3: 'rollback',
};

const failureActionSchema = z
  .union([z.string(), z.number()])
  .default('FAILURE_ACTION_UNSPECIFIED')
  .transform((raw, ctx): FailureActionName => {
    const action = FAILURE_ACTIONS[String(raw)];
    if (action !== undefined) return action;
    ctx.addIssue({
      code: 'custom',
      input: raw,
      message: `unknown failure action ${JSON.stringify(raw)} (expected PAUSE, ABORT or ROLLBACK)`,
    });
    return z.NEVER;
  });

const transportSchema = z
  .string()
  .default('')
  .refine((t) => t === '' || t === 'nats' || t === 'grpc', {
    error: (issue) => `${JSON.stringify(issue.input)} is not a transport (expected "nats" or "grpc")`,
  })
  .transform((t): Transport | undefined => (t === '' ? undefined : (t as Transport)));

const wholeNumber = (max: number): z.ZodNumber =>
  z.number().int('must be a whole number').min(0, 'must not be negative').max(max, `must be at most ${max}`);

const requestSchema = z
  .strictObject({
    image: imageRefSchema,
    // Proto3 cannot tell an empty list from an absent one; the proto defines empty as "one batch".
    serial: z.preprocess(
      (v) => (v === undefined || (Array.isArray(v) && v.length === 0) ? ['0'] : v),
      serialSpecSchema,
    ),
    groups: z.array(nameSchema).default([]),
    maxFail: maxFailSchema,
    failureAction: failureActionSchema,
    maxParallel: wholeNumber(100_000).default(0),
    hostTimeoutMs: wholeNumber(MAX_HOST_TIMEOUT_MS).default(0),
    soakMs: wholeNumber(MAX_SOAK_MS).default(0),
    pauseAfter: z
      .array(wholeNumber(MAX_BATCH_NUMBER).min(1, 'batches are numbered from 1'))
      .max(1_000)
      .default([]),
    transport: transportSchema,
    groupsInParallel: z.boolean().default(false),
    groupsInSequence: z.boolean().default(false),
    // The agent validates the same message, so the bounds are its own.
    options: updateHostRequestSchema.shape.options.optional().transform((o) => o ?? { ...NO_SLOT_OVERRIDES }),
  })
  .refine((r) => !(r.groupsInParallel && r.groupsInSequence), {
    path: ['groupsInSequence'],
    message: 'groups run either in parallel or in sequence, not both',
  });

/** Operators and other clients know the fields by their proto names (`max_fail`), not by ours. */
function protoName(segment: PropertyKey): PropertyKey {
  return typeof segment === 'string' ? segment.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : segment;
}

/**
 * Checks a StartRolloutRequest and applies the defaults; throws InvalidInputError naming every bad
 * field, e.g. `invalid rollout request: max_fail: "120%" is over 100%`.
 */
export function parseRolloutSpec(
  request: msg.StartRolloutRequest,
  options: RolloutSpecOptions & { readonly defaultTransport: Transport },
): RolloutSpec & { readonly transport: Transport };
export function parseRolloutSpec(request: msg.StartRolloutRequest, options: RolloutSpecOptions): RolloutSpec;
export function parseRolloutSpec(request: msg.StartRolloutRequest, options: RolloutSpecOptions): RolloutSpec {
  const id = parseInput(rolloutIdSchema, options.id, 'rollout id');
  const result = requestSchema.safeParse(request);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({ ...issue, path: issue.path.map(protoName) }));
    throw new InvalidInputError(`invalid rollout request: ${formatZodError(new z.ZodError(issues))}`);
  }
  const r = result.data;
  const transport = r.transport ?? options.defaultTransport;
  return {
    id,
    image: r.image,
    serial: r.serial,
    groups: [...new Set(r.groups)],
    maxFailPercent: r.maxFail,
    failureAction: r.failureAction,
    maxParallel: r.maxParallel || (options.defaults?.maxParallel ?? 0),
    hostTimeoutMs: r.hostTimeoutMs || (options.defaults?.hostTimeoutMs ?? DEFAULT_HOST_TIMEOUT_MS),
    soakMs: r.soakMs,
    pauseAfter: [...new Set(r.pauseAfter)].sort((a, b) => a - b),
    groupsInParallel: r.groupsInParallel,
    groupsInSequence: r.groupsInSequence,
    ...(transport === undefined ? {} : { transport }),
    options: r.options,
  };
}
