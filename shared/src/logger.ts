import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * One pino logger per process; children carry hostId, slot and rolloutId so that
 * every line can be traced to the machine and step it came from.
 */
export function createLogger(name: string, destination?: DestinationStream): Logger {
  const level = process.env['FLEETROLL_LOG_LEVEL'] ?? 'info';
  return destination ? pino({ name, level }, destination) : pino({ name, level });
}
