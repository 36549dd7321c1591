import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StepEvent, msg } from '@fleetroll/shared';
import { SlotTimer } from './slot-timer.js';

type Status = msg.RolloutStatus__Output;
type RolloutState = Exclude<msg.RolloutState__Output, 'ROLLOUT_STATE_UNSPECIFIED'>;
type HostState = Exclude<msg.HostState__Output, 'HOST_STATE_UNSPECIFIED'>;

// Records, not arrays, so that the compiler insists on every state: a state missing from a gauge
// would read as "none" rather than as unknown.
const ROLLOUT_STATES = Object.keys({
  ROLLOUT_RUNNING: 1,
  ROLLOUT_PAUSING: 1,
  ROLLOUT_PAUSED: 1,
  ROLLOUT_SUCCEEDED: 1,
  ROLLOUT_FAILED: 1,
  ROLLOUT_ABORTED: 1,
  ROLLOUT_ROLLING_BACK: 1,
  ROLLOUT_ROLLED_BACK: 1,
} satisfies Record<RolloutState, 1>) as RolloutState[];

const HOST_STATES = Object.keys({
  HOST_PENDING: 1,
  HOST_PULLING: 1,
  HOST_UPDATING: 1,
  HOST_SUCCEEDED: 1,
  HOST_FAILED: 1,
  HOST_SKIPPED: 1,
  HOST_ROLLING_BACK: 1,
  HOST_ROLLED_BACK: 1,
} satisfies Record<HostState, 1>) as HostState[];

/** ROLLOUT_ROLLED_BACK → rolled_back: label values as Prometheus users write them. */
export function stateLabel(state: string): string {
  return state.replace(/^[A-Z]+?_/, '').toLowerCase();
}

// Seconds, from a drain that ends at once to a slot held up by a slow health check.
const SLOT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

export interface MetricsOptions {
  /** The process's own CPU, memory and event-loop metrics; off in tests, which compare exact output. */
  processMetrics?: boolean;
}

/**
 * The controller's Prometheus metrics. Gauges are read from the rollouts at scrape time, so they
 * cannot drift from what the API reports; histograms and counters are fed the agents' step events.
 */
export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly timer = new SlotTimer();
  private readonly drain: Histogram;
  private readonly replace: Histogram;
  private readonly health: Histogram;
  private readonly weightZero: Histogram;
  private readonly slotsDone: Counter;
  private readonly slotsFailed: Counter<'code'>;

  constructor(rollouts: () => readonly Status[], options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'fleetroll_rollouts',
      help: 'Rollouts this controller knows of, by state',
      labelNames: ['state'],
      registers,
      collect() {
        const all = rollouts();
        for (const state of ROLLOUT_STATES) {
          this.set({ state: stateLabel(state) }, all.filter((r) => r.state === state).length);
        }
      },
    });
    new Gauge({
      name: 'fleetroll_hosts',
      help: 'Hosts of the newest rollout, by group and state',
      labelNames: ['group', 'state'],
      registers,
      collect() {
        // Only the newest: a host is in every rollout, and summing them would count it many times.
        const newest = rollouts().reduce<Status | undefined>(
          (a, r) => (a === undefined || r.createdAtMs > a.createdAtMs ? r : a),
          undefined,
        );
        this.reset();
        for (const { group } of newest?.groups ?? []) {
          const hosts = newest?.hosts.filter((h) => h.group === group) ?? [];
          for (const state of HOST_STATES) {
            this.set({ group, state: stateLabel(state) }, hosts.filter((h) => h.state === state).length);
          }
        }
      },
    });
    const histogram = (name: string, help: string): Histogram =>
      new Histogram({ name, help, buckets: SLOT_BUCKETS, registers });
    this.drain = histogram(
      'fleetroll_slot_drain_seconds',
      'From weight 0 until the slot had no session left (or the drain timeout)',
    );
    this.replace = histogram(
      'fleetroll_slot_replace_seconds',
      'Stopping the old container plus starting the new one',
    );
    this.health = histogram(
      'fleetroll_slot_health_seconds',
      'From the new container started until it was healthy and UP in HAProxy',
    );
    this.weightZero = histogram(
      'fleetroll_slot_weight_zero_seconds',
      'The whole time a slot took no new requests: weight 0 until its weight was restored',
    );
    this.slotsDone = new Counter({
      name: 'fleetroll_slots_replaced_total',
      help: 'Slots that now run the new image',
      registers,
    });
    this.slotsFailed = new Counter({
      name: 'fleetroll_slots_failed_total',
      help: 'Slots whose replacement failed (and was rolled back), by error code',
      labelNames: ['code'],
      registers,
    });
  }

  /** Takes every change of every rollout; only the agents' steps feed the histograms and counters. */
  observe(_status: Status, steps: readonly StepEvent[]): void {
    for (const step of steps) this.observeStep(step);
  }

  observeStep(event: StepEvent): void {
    const seconds = event.durationMs / 1000;
    switch (event.step) {
      case 'DRAINED':
        return this.drain.observe(seconds);
      case 'OLD_STOPPED':
        return this.timer.stopped(event);
      case 'NEW_STARTED': {
        const stoppedMs = this.timer.started(event);
        if (stoppedMs !== undefined) this.replace.observe((stoppedMs + event.durationMs) / 1000);
        return;
      }
      case 'HEALTHY':
        return this.health.observe(seconds);
      case 'WEIGHT_RESTORED':
        return this.weightZero.observe(seconds);
      case 'SLOT_DONE':
        this.timer.forget(event);
        return this.slotsDone.inc();
      case 'SLOT_FAILED':
        this.timer.forget(event);
        return this.slotsFailed.inc({ code: event.errorCode || 'UNKNOWN' });
      default:
        return;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
