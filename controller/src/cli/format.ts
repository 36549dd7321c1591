import { formatSerialSpec, type SerialSpec } from '@fleetroll/shared';

type Batches = readonly (readonly string[])[];

/** The exact form DESIGN.md fixes for scripts (Python json.dumps spacing): `{"batches": [["a", "b"], ["c"]]}`. */
export function formatPlanJson(batches: Batches): string {
  const list = (items: readonly string[]): string => `[${items.join(', ')}]`;
  return `{"batches": ${list(batches.map((batch) => list(batch.map((id) => JSON.stringify(id)))))}}\n`;
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function formatPlanText(batches: Batches, spec: SerialSpec): string {
  const hosts = batches.reduce((sum, batch) => sum + batch.length, 0);
  const lines = [
    `${count(hosts, 'host', 'hosts')} in ${count(batches.length, 'batch', 'batches')} (serial ${formatSerialSpec(spec)})`,
    ...batches.map(
      (batch, i) => `batch ${i + 1} (${count(batch.length, 'host', 'hosts')}): ${batch.join(' ')}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
