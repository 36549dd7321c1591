import type { Logger } from '@fleetroll/shared';
import type { LoadBalancer } from './ports.js';

/**
 * The HAProxy process answering the admin socket now, and whether this agent sees it run: false
 * when they are in different pid namespaces (the pid HAProxy gives names nothing here).
 */
export async function answeringProcess(lb: LoadBalancer): Promise<{ pid: number; seen: boolean }> {
  const pid = await lb.processId();
  return { pid, seen: lb.processRunning(pid) };
}

/**
 * Whether this agent sees HAProxy's processes. A drain outlasts an HAProxy reload by watching the
 * old process exit, which an agent in another pid namespace cannot see: it then drains until
 * drainTimeout whenever a reload meets a drain. Checked at start and at every Describe (one
 * `show info`), so that the operator reads it in `fleetroll agents`, not only in this log.
 */
export class HaproxySight {
  private unseenPid: number | undefined;

  constructor(
    private readonly lb: LoadBalancer,
    private readonly log: Logger,
  ) {}

  /** An HAProxy not answering is left to the next update, which fails on it in plain words. */
  async check(): Promise<void> {
    const answering = await answeringProcess(this.lb).catch(() => undefined);
    if (answering === undefined) return;
    const { pid, seen } = answering;
    if (!seen && this.unseenPid === undefined) this.log.warn({ haproxyPid: pid }, unseenWarning(pid));
    this.unseenPid = seen ? undefined : pid;
  }

  warnings(): string[] {
    return this.unseenPid === undefined ? [] : [unseenWarning(this.unseenPid)];
  }
}

function unseenWarning(pid: number): string {
  return (
    `HAProxy says its pid is ${pid}, and this agent sees no HAProxy with that pid: they run in different ` +
    'pid namespaces. It cannot see the old process a reload leaves finishing its requests: unless ' +
    'haproxy.masterSocket lets it ask HAProxy, a drain that meets a reload waits until drainTimeout, and ' +
    "one that begins just after a reload cannot wait for it. Run the agent in HAProxy's pid namespace " +
    '(e.g. docker run --pid container:<haproxy>, or both on the host), or give it the master CLI.'
  );
}
