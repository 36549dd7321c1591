import type { Command } from 'commander';
import { z } from 'zod';
import { formatSerialSpec, serialSpecSchema, updateHostRequestSchema } from '@fleetroll/shared';
import { withApi, type ControllerApi } from './controller-api.js';
import { batchNumbersFlag, durationFlag, parseFlags, secondsFlag, withController } from './flags.js';
import type { Io } from './io.js';
import { follow } from './follow.js';
import { formatRolloutList, summarize } from './rollout-list.js';
import { formatStatus } from './status-format.js';

const repeat = (v: string, vs: string[]) => [...vs, v];

// The agent's own bounds for what a rollout may override, so that a bad value is refused before any host.
const override = updateHostRequestSchema.shape.options.unwrap().shape;

const startFlags = z.object({
  controller: z.string(),
  image: z.string().min(1),
  serial: serialSpecSchema,
  group: z.array(z.string()),
  maxFail: z.string(),
  failureAction: z.enum(['pause', 'abort', 'rollback']),
  maxParallel: z.coerce.number().int().min(0),
  hostTimeout: durationFlag(),
  soak: durationFlag(),
  pauseAfter: batchNumbersFlag,
  drainTimeout: durationFlag().pipe(override.drainTimeoutMs),
  minDrain: durationFlag().pipe(override.minDrainMs),
  healthTimeout: durationFlag().pipe(override.healthTimeoutMs),
  minReady: durationFlag().pipe(override.minReadyMs),
  stopTimeout: secondsFlag.pipe(override.stopTimeoutS),
  slotParallelism: z.coerce.number().int().min(0).pipe(override.slotParallelism),
  transport: z.enum(['nats', 'grpc', '']),
  groupsInParallel: z.boolean(),
  groupsInSequence: z.boolean(),
  detach: z.boolean(),
  plain: z.boolean(),
});

type StatusOptions = { controller: string; watch: boolean; plain: boolean };

const FAILURE_ACTION = { pause: 'PAUSE', abort: 'ABORT', rollback: 'ROLLBACK' } as const;

export function addRolloutCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const rollout = program.command('rollout').description('start, watch and steer rollouts');
  withController(rollout.command('start'))
    .description('roll an image over the fleet in serial batches, showing progress until it ends')
    .requiredOption('--image <ref>', 'the new image, e.g. registry:5000/app:v2')
    .requiredOption('--serial <spec>', 'batch sizes: 3, 35% or a list 1,10%,50%')
    .option('--group <name>', 'only hosts of this group; repeat for several', repeat, [])
    .option('--max-fail <percent>', 'share of a batch that may fail before the failure action runs', '0%')
    .option('--failure-action <action>', 'pause | abort | rollback', 'pause')
    .option('--max-parallel <n>', 'hosts updated at once inside a batch (0: the whole batch)', '0')
    .option(
      '--host-timeout <duration>',
      "fail a host whose update takes longer, e.g. 10m (the controller's default)",
    )
    .option(
      '--soak <duration>',
      'after each batch, wait this long, then check its hosts again (on the image, healthy, UP) before the next',
    )
    .option(
      '--pause-after <batches>',
      'pause after these batches until an operator resumes, e.g. 1 to look at a first (canary) batch',
    )
    .option(
      '--drain-timeout <duration>',
      "how long a slot at weight 0 waits for its sessions (the agents' default)",
    )
    .option('--min-drain <duration>', "stay at weight 0 at least this long, e.g. 5s (the agents' default)")
    .option('--health-timeout <duration>', "time a new container has to become healthy (the agents' default)")
    .option(
      '--min-ready <duration>',
      "without a HEALTHCHECK: how long it must keep running (the agents' default)",
    )
    .option('--stop-timeout <seconds>', "seconds docker stop waits before SIGKILL (the agents' default)")
    .option(
      '--slot-parallelism <n>',
      "slots of a host replaced at once (the agents' default, normally 1)",
      '0',
    )
    .option('--transport <name>', 'nats | grpc (default: the controller configuration)', '')
    .option('--groups-in-parallel', 'run each group with its own batches, side by side', false)
    .option('--groups-in-sequence', 'run each group with its own batches, one group after another', false)
    .option('--detach', 'print the rollout id and return at once', false)
    .option('--plain', 'log lines only, even on a terminal', false)
    .action(async (options: unknown) => {
      const f = parseFlags(startFlags, options);
      await withApi(f.controller, async (api) => {
        const status = await api.start({
          image: f.image,
          serial: formatSerialSpec(f.serial).split(','),
          groups: f.group,
          maxFail: f.maxFail,
          failureAction: FAILURE_ACTION[f.failureAction],
          maxParallel: f.maxParallel,
          hostTimeoutMs: f.hostTimeout,
          soakMs: f.soak,
          pauseAfter: f.pauseAfter,
          options: {
            drainTimeoutMs: f.drainTimeout,
            minDrainMs: f.minDrain,
            healthTimeoutMs: f.healthTimeout,
            minReadyMs: f.minReady,
            stopTimeoutS: f.stopTimeout,
            slotParallelism: f.slotParallelism,
          },
          transport: f.transport,
          groupsInParallel: f.groupsInParallel,
          groupsInSequence: f.groupsInSequence,
        });
        if (f.detach) io.out(`${status.id}\n`);
        else setExit(await follow(api, status.id, io, { plain: f.plain }));
      });
    });

  withController(rollout.command('status'))
    .description('show a rollout (the newest when no id is given)')
    .argument('[id]')
    .option('--watch', 'follow it live until it ends or pauses', false)
    .option('--plain', 'with --watch: log lines only, even on a terminal', false)
    .action(async (id: string | undefined, options: StatusOptions) => {
      await withApi(options.controller, async (api) => {
        const rolloutId = id ?? (await newest(api));
        if (options.watch) setExit(await follow(api, rolloutId, io, { plain: options.plain }));
        else io.out(formatStatus(await api.get(rolloutId)));
      });
    });

  withController(rollout.command('list'))
    .description('list the rollouts the controller keeps, newest first')
    .option('--json', 'print them as JSON, one object per rollout', false)
    .action(async (options: { controller: string; json: boolean }) => {
      const { rollouts } = await withApi(options.controller, (api) => api.list());
      const summaries = rollouts.map(summarize);
      io.out(options.json ? `${JSON.stringify(summaries)}\n` : formatRolloutList(summaries));
    });

  for (const verb of ['pause', 'resume'] as const) {
    withController(rollout.command(verb))
      .description(
        verb === 'pause' ? 'stop starting hosts (at the next slot boundary)' : 'continue a paused rollout',
      )
      .argument('<id>')
      .option('--group <name>', 'only this group (default: all)', '')
      .action(async (id: string, options: { controller: string; group: string }) => {
        io.out(formatStatus(await withApi(options.controller, (api) => api[verb](id, options.group))));
      });
  }

  withController(rollout.command('abort'))
    .description('stop the rollout; slots in flight finish or roll back')
    .argument('<id>')
    .action(async (id: string, options: { controller: string }) => {
      io.out(formatStatus(await withApi(options.controller, (api) => api.abort(id))));
    });
}

async function newest(api: ControllerApi): Promise<string> {
  const { rollouts } = await api.list();
  const first = rollouts[0];
  if (!first) throw new Error('the controller has no rollouts yet');
  return first.id;
}
