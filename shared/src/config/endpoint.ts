import { z } from 'zod';

const ENDPOINT = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})$/;

/** host:port as an agent or controller is reached at; to listen on, port 0 (any free port) is fine too. */
export function isEndpoint(value: string, { listen = false } = {}): boolean {
  const match = ENDPOINT.exec(value);
  const port = Number(match?.[1] ?? -1);
  return port >= (listen ? 0 : 1) && port <= 65_535;
}

export const listenSchema = z
  .string()
  .refine((v) => isEndpoint(v, { listen: true }), 'must be host:port, e.g. 127.0.0.1:7000');
