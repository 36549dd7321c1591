import assert from 'node:assert/strict';
import type { AgentClient } from '@fleetroll/controller';
import type { AgentServiceClient, StepEvent, UpdateHostRequest } from '@fleetroll/shared';

export interface UpdateResult {
  events: StepEvent[];
  /** Set when the stream ended with an error status instead of HOST_DONE/FAILED/ABORTED. */
  error?: { code: number; details: string; fleetrollCode: string };
}

/** Runs UpdateHost to the end of its stream, handing every event to onEvent as it arrives. */
export function updateHost(
  client: AgentServiceClient,
  request: UpdateHostRequest,
  onEvent: (e: StepEvent) => void = () => {},
): Promise<UpdateResult> {
  return new Promise((resolve) => {
    const events: StepEvent[] = [];
    const call = client.UpdateHost(request);
    call.on('data', (e: StepEvent) => {
      events.push(e);
      onEvent(e);
    });
    call.on(
      'error',
      (err: Error & { code: number; details: string; metadata?: { get(k: string): unknown[] } }) => {
        const fleetrollCode = String(err.metadata?.get('fleetroll-error-code')[0] ?? '');
        resolve({ events, error: { code: err.code, details: err.details, fleetrollCode } });
      },
    );
    call.on('end', () => resolve({ events }));
  });
}

/** An update an AgentClient must see refused: its typed error, and any events sent meanwhile (none is right). */
export async function refusedUpdate(
  client: Pick<AgentClient, 'update'>,
  request: UpdateHostRequest,
): Promise<{ err: Error & { code: string }; events: StepEvent[] }> {
  const events: StepEvent[] = [];
  const err = await client
    .update(request, (e) => events.push(e))
    .then(
      () => assert.fail('the update was accepted'),
      (e: Error & { code: string }) => e,
    );
  return { err, events };
}
