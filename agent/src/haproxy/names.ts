import { nameSchema, parseInput } from '@fleetroll/shared';

export type NameField = 'backend' | 'server';

/**
 * HAProxy runs each line and each `;`-separated part of what it receives as its own
 * command, so a name is checked against the strict pattern before it is spliced into one.
 */
export function checkName(field: NameField, value: unknown): string {
  return parseInput(nameSchema, value, field);
}

/** `backend/server` as the runtime API addresses a server, both names checked. */
export function serverRef(backend: unknown, server: unknown): string {
  return `${checkName('backend', backend)}/${checkName('server', server)}`;
}
