// Memory and CPU of a process we started, from Linux's /proc.
import { readFile } from 'node:fs/promises';

/** /proc reports CPU times in USER_HZ, which Linux fixes at 100 whatever the kernel's tick. */
const USER_HZ = 100;

/** A `VmXxx:  12345 kB` line of /proc/<pid>/status, in MiB. */
export async function vmMiB(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
  if (kb === undefined) throw new Error(`/proc/${pid}/status has no ${field} line`);
  return Number(kb) / 1024;
}

/** User + system CPU seconds the process has used so far. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line: 11 and 12 here, where field 3 (state) is 0.
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/** CPU seconds of several processes, read together so that deltas cover the same interval. */
export async function cpuOf(pids: Record<string, number>): Promise<Record<string, number>> {
  const entries = await Promise.all(
    Object.entries(pids).map(async ([name, pid]) => [name, await cpuSeconds(pid)] as const),
  );
  return Object.fromEntries(entries);
}

/** "controller 1.2 s (40 % of a core), …": the CPU each process used between two readings `ms` apart. */
export function cpuUsage(before: Record<string, number>, after: Record<string, number>, ms: number): string {
  return Object.keys(after)
    .map((name) => {
      const used = (after[name] ?? 0) - (before[name] ?? 0);
      return `${name} ${used.toFixed(1)} s (${((100_000 * used) / ms).toFixed(0)} % of a core)`;
    })
    .join(', ');
}
