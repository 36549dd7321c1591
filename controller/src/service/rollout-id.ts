import { randomBytes } from 'node:crypto';

/** Sortable by start time, readable in a terminal, and free of "." so it fits a NATS subject token. */
export function newRolloutId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `r-${stamp}-${randomBytes(2).toString('hex')}`;
}
