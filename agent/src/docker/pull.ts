import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

export type PullEnd = { ok: true } | { ok: false; reason: string };

/**
 * Follows a pull to its end. Docker sets no limit on a pull: a registry that stops sending in
 * the middle of a layer held dockerd 20.10's pull (and our request) for as long as we waited,
 * with nothing more on the progress stream. So a pull that Docker says nothing about for
 * `stallMs` is ended and reported; one that keeps making progress may take as long as it needs,
 * unless `stop` says the pull is no longer wanted (the update was aborted).
 */
export async function followPull(
  start: (signal: AbortSignal) => Promise<Readable>,
  stallMs: number,
  stop?: AbortSignal,
): Promise<PullEnd> {
  // Its reason is why the pull was ended: the first of the stall timer and the caller's stop.
  const ended = new AbortController();
  let stream: Readable | undefined;
  const end = (reason: string): void => {
    ended.abort(reason);
    stream?.destroy();
  };
  let timer: NodeJS.Timeout | undefined;
  const alive = (): void => {
    clearTimeout(timer);
    timer = setTimeout(
      () =>
        end(
          `Docker reported no progress for ${stallMs / 1000} s (a registry that stopped sending?), so the pull was ended`,
        ),
      stallMs,
    );
  };
  const stopped = (): void => end('the pull was stopped before it ended');
  if (stop?.aborted) return { ok: false, reason: 'the pull was stopped before it began' };
  stop?.addEventListener('abort', stopped, { once: true });
  alive();
  try {
    stream = await start(ended.signal);
    if (ended.signal.aborted) stream.destroy();
    const error = await pullStreamError(stream, alive);
    if (!ended.signal.aborted)
      return error === undefined ? { ok: true } : { ok: false, reason: `Docker says: ${error}` };
  } catch (err) {
    if (!ended.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    stop?.removeEventListener('abort', stopped);
  }
  return { ok: false, reason: String(ended.signal.reason) };
}

/**
 * Reads a pull's progress stream to its end and returns the first error Docker
 * reported in it. Docker answers a pull with HTTP 200 before it knows whether the
 * pull will work, so a failed download shows up only as an `error` line.
 */
export async function pullStreamError(
  stream: AsyncIterable<string | Buffer>,
  onData: () => void = () => undefined,
): Promise<string | undefined> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let error: string | undefined;
  const readLine = (line: string): void => {
    if (error !== undefined || !line.trim()) return;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      return; // progress lines are only informative; a garbled one must not hide the outcome
    }
    error = eventError(event);
  };
  for await (const chunk of stream) {
    onData();
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(readLine);
  }
  readLine(pending + decoder.end());
  return error;
}

function eventError(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const { error, errorDetail } = event as { error?: unknown; errorDetail?: { message?: unknown } };
  if (typeof errorDetail?.message === 'string' && errorDetail.message) return errorDetail.message;
  if (typeof error === 'string' && error) return error;
  return undefined;
}
