import { stat } from 'node:fs/promises';
import pLimit from 'p-limit';
import { loadInventory, type InventoryHost, type msg } from '@fleetroll/shared';
import type { AgentRegistry } from '../transport/registry.js';
import { connectAgent } from '../transport/grpc.js';

/**
 * Which hosts exist and which are alive. With an inventory file, it is the fleet
 * (re-read for every rollout, so edits need no restart) and the NATS registry only
 * says who is alive; without one, the agents registered over NATS are the fleet.
 */
export class FleetView {
  /** The inventory as last read, and the file version it was read from. */
  private parsed: { version: string; hosts: InventoryHost[] } | undefined;

  constructor(
    private readonly inventoryPath: string | undefined,
    private readonly registry: AgentRegistry | undefined,
  ) {}

  async hosts(): Promise<InventoryHost[]> {
    if (this.inventoryPath) return [...(await this.inventory(this.inventoryPath))];
    return (this.registry?.list() ?? [])
      .filter((a) => a.alive)
      .map((a) => ({ id: a.hostId, groups: a.groups, grpc: a.grpcAddress || undefined }));
  }

  /**
   * Validating a thousand-host inventory takes a third of a second: read again only when the file
   * changed. A file that cannot be stat'ed is left to loadInventory to report.
   */
  private async inventory(path: string): Promise<readonly InventoryHost[]> {
    const info = await stat(path).catch(() => undefined);
    const version = info ? `${info.ino}:${info.size}:${info.mtimeMs}` : '';
    if (version !== '' && this.parsed?.version === version) return this.parsed.hosts;
    const { hosts } = await loadInventory(path);
    this.parsed = version === '' ? undefined : { version, hosts };
    return hosts;
  }

  async agents(): Promise<msg.AgentInfo__Output[]> {
    const registered = new Map((this.registry?.list() ?? []).map((a) => [a.hostId, a]));
    if (!this.inventoryPath) return [...registered.values()];
    const limit = pLimit(32);
    const hosts = await this.hosts();
    return Promise.all(
      hosts.map((h) =>
        limit(async () => {
          const seen = registered.get(h.id);
          if (seen) return { ...seen, sources: ['inventory', 'nats'] };
          return probe(h);
        }),
      ),
    );
  }
}

/** An inventory host that does not heartbeat over NATS: alive if its gRPC Describe answers. */
async function probe(host: InventoryHost): Promise<msg.AgentInfo__Output> {
  const info: msg.AgentInfo__Output = {
    hostId: host.id,
    groups: host.groups,
    grpcAddress: host.grpc ?? '',
    version: '',
    lastSeenMs: 0,
    alive: false,
    activeRolloutId: '',
    sources: ['inventory'],
    warnings: [],
  };
  if (!host.grpc) return info;
  const client = connectAgent(host.grpc);
  try {
    const d = await new Promise<msg.DescribeResponse__Output | undefined>((resolve) =>
      client.Describe({}, { deadline: Date.now() + 1_500 }, (err, res) => resolve(err ? undefined : res)),
    );
    return d
      ? {
          ...info,
          alive: true,
          lastSeenMs: Date.now(),
          version: d.agentVersion,
          activeRolloutId: d.activeRolloutId,
          warnings: d.warnings,
        }
      : info;
  } finally {
    client.close();
  }
}
