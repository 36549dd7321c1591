import type { ServerResponse } from 'node:http';
import type { StepEvent, msg } from '@fleetroll/shared';
import { isTerminal, type ControllerCore } from '../../service/controller-core.js';
import { updateJson } from './status-json.js';

// Proxies and browsers drop a stream that says nothing for long; a comment line costs nothing.
const KEEPALIVE_MS = 15_000;
// A client that reads slower than the rollout changes is cut off rather than buffered for without
// bound; its EventSource reconnects and starts again from the full status.
const MAX_BUFFERED_BYTES = 1 << 20;
const RECONNECT_MS = 2_000;

/**
 * Server-sent events of one rollout: every message is a RolloutUpdate as JSON (the status, and the
 * agent steps saved with it). The first is the status now. When the rollout has ended, an `end`
 * event follows and the stream closes: without it, EventSource would reconnect forever.
 */
export function streamRollout(core: ControllerCore, id: string, res: ServerResponse): void {
  // Throws UnknownRolloutError while a JSON error can still be sent.
  core.get(id);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    // nginx and the like would otherwise hold the events back.
    'x-accel-buffering': 'no',
  });
  res.write(`retry: ${RECONNECT_MS}\n\n`);
  let ended = false;
  let off: () => void = () => undefined;
  const keepalive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
  const close = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(keepalive);
    off();
  };
  const send = (status: msg.RolloutStatus__Output, steps: readonly StepEvent[]): void => {
    if (ended) return;
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      close();
      res.destroy();
      return;
    }
    res.write(`data: ${updateJson(status, steps)}\n\n`);
    if (isTerminal(status)) {
      res.end('event: end\ndata: {}\n\n');
      close();
    }
  };
  // The response's close, not the request's: that one fires once a GET's empty body is read.
  res.on('close', close);
  // watch() calls send with the current status before it returns off.
  const unsubscribe = core.watch(id, send);
  if (ended) unsubscribe();
  else off = unsubscribe;
}
