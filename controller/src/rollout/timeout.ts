export type Within<T> = { readonly done: true; readonly value: T } | { readonly done: false };

/** "30 s", "250 ms": for messages an operator reads. */
export function formatDuration(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * Waits for `work` at most `ms`. A call given up on may still settle later; that must neither
 * crash the process (unhandled rejection) nor keep a timer alive.
 */
export async function within<T>(work: Promise<T>, ms: number): Promise<Within<T>> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<Within<T>>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  const finished = work.then((value): Within<T> => ({ done: true, value }));
  finished.catch(() => undefined);
  try {
    return await Promise.race([finished, expired]);
  } finally {
    clearTimeout(timer);
  }
}
