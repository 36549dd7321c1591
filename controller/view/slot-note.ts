/** Slot steps whose message is news, and what an operator calls them. */
const NOTED: Readonly<Partial<Record<string, string>>> = {
  DRAINED: 'drain',
  NEW_STARTED: 'replace',
  HEALTHY: 'health wait',
};

/**
 * "drain: 4 sessions still open after drainTimeout". The agent says something on these steps only
 * when the slot did not go plainly (a drain that timed out, HAProxy reloaded meanwhile): the slot
 * goes on, and the operator should know. Undefined for a plain step.
 */
export function slotNote(step: { readonly step: string; readonly message: string }): string | undefined {
  const what = NOTED[step.step];
  return what && step.message ? `${what}: ${step.message}` : undefined;
}
