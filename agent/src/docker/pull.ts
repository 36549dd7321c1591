import { StringDecoder } from 'node:string_decoder';

/**
 * Reads a pull's progress stream to its end and returns the first error Docker
 * reported in it. Docker answers a pull with HTTP 200 before it knows whether the
 * pull will work, so a failed download shows up only as an `error` line.
 */
export async function pullStreamError(stream: AsyncIterable<string | Buffer>): Promise<string | undefined> {
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
