import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { parseInput, rolloutIdSchema, updateHostRequestSchema, type msg } from '@fleetroll/shared';
import type { ControllerCore } from '../../service/controller-core.js';
import { readJsonBody } from './body.js';
import { streamRollout } from './events.js';
import { sendJson, sendJsonText } from './respond.js';
import { rolloutsJson, statusJson } from './status-json.js';
import type { Route } from './router.js';

/**
 * The JSON form of StartRolloutRequest. gRPC gets the message's shape from the proto decoder; here
 * zod plays that part, and ControllerCore checks the values (serial syntax, image, bounds) as it
 * does for gRPC.
 */
const startSchema = z.strictObject({
  image: z.string(),
  serial: z.array(z.string()).default([]),
  groups: z.array(z.string()).default([]),
  maxFail: z.string().default(''),
  failureAction: z
    .enum(['FAILURE_ACTION_UNSPECIFIED', 'PAUSE', 'ABORT', 'ROLLBACK'])
    .default('FAILURE_ACTION_UNSPECIFIED'),
  maxParallel: z.number().default(0),
  hostTimeoutMs: z.number().default(0),
  soakMs: z.number().default(0),
  pauseAfter: z.array(z.number()).default([]),
  transport: z.string().default(''),
  groupsInParallel: z.boolean().default(false),
  groupsInSequence: z.boolean().default(false),
  options: updateHostRequestSchema.shape.options.default(null),
}) satisfies z.ZodType<msg.StartRolloutRequest__Output>;

// A group name as the rollout knows it, "(ungrouped)" included; the rollout rejects unknown ones.
const controlSchema = z.strictObject({ group: z.string().min(1).max(128).optional() });

const rolloutId = (raw: string | undefined): string => parseInput(rolloutIdSchema, raw, 'rollout id');

async function controlBody(req: IncomingMessage): Promise<string | undefined> {
  return parseInput(controlSchema, await readJsonBody(req), 'request body').group;
}

/** The dashboard's JSON API: each call validated here, then handed to ControllerCore. */
export function apiRoutes(core: ControllerCore): Route[] {
  return [
    {
      method: 'GET',
      path: /^\/api\/rollouts$/,
      handle: ({ res }) => sendJsonText(res, 200, rolloutsJson(core.list())),
    },
    {
      method: 'POST',
      path: /^\/api\/rollouts$/,
      handle: async ({ req, res }) => {
        const request = parseInput(startSchema, await readJsonBody(req), 'rollout request');
        sendJsonText(res, 201, statusJson(await core.start(request)));
      },
    },
    {
      method: 'GET',
      path: /^\/api\/rollouts\/(?<id>[^/]+)$/,
      handle: ({ res, params }) => sendJsonText(res, 200, statusJson(core.get(rolloutId(params['id'])))),
    },
    {
      method: 'GET',
      path: /^\/api\/rollouts\/(?<id>[^/]+)\/events$/,
      handle: ({ res, params }) => streamRollout(core, rolloutId(params['id']), res),
    },
    {
      method: 'POST',
      path: /^\/api\/rollouts\/(?<id>[^/]+)\/pause$/,
      handle: async ({ req, res, params }) => {
        const id = rolloutId(params['id']);
        sendJsonText(res, 200, statusJson(core.pause(id, await controlBody(req))));
      },
    },
    {
      method: 'POST',
      path: /^\/api\/rollouts\/(?<id>[^/]+)\/resume$/,
      handle: async ({ req, res, params }) => {
        const id = rolloutId(params['id']);
        sendJsonText(res, 200, statusJson(core.resume(id, await controlBody(req))));
      },
    },
    {
      method: 'POST',
      path: /^\/api\/rollouts\/(?<id>[^/]+)\/abort$/,
      handle: async ({ req, res, params }) => {
        const id = rolloutId(params['id']);
        // Abort takes no group: it ends the whole rollout. An empty object keeps the form uniform.
        parseInput(z.strictObject({}), await readJsonBody(req), 'request body');
        sendJsonText(res, 200, statusJson(core.abort(id)));
      },
    },
    {
      method: 'GET',
      path: /^\/api\/agents$/,
      handle: async ({ res }) => sendJson(res, 200, { agents: await core.agents() }),
    },
  ];
}
