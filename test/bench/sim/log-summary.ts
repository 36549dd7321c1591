// What a daemon complained about during a run, from its pino log (one JSON object a line).
import { readFile } from 'node:fs/promises';

const WARN = 40;

/** "agent dead ×237; standing by: … ×4": warnings and errors by message, most frequent first. */
export async function complaints(logFile: string, top = 5): Promise<string> {
  const counts = new Map<string, number>();
  for (const line of (await readFile(logFile, 'utf8')).split('\n')) {
    let entry: { level?: unknown; msg?: unknown };
    try {
      entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
    } catch {
      continue;
    }
    if (typeof entry.level !== 'number' || entry.level < WARN || typeof entry.msg !== 'string') continue;
    // Messages that carry a number (a duration, a count) would otherwise each count apart.
    const key = entry.msg.replace(/\d+(\.\d+)?/g, 'N').slice(0, 80);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (counts.size === 0) return 'none';
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([msg, n]) => `"${msg}" ×${n}`)
    .join('; ');
}
