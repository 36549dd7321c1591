import type { IncomingMessage } from 'node:http';
import { InvalidInputError } from '@fleetroll/shared';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.js';

// A start request with every option is well under 2 KiB.
const MAX_BODY_BYTES = 64 * 1024;

/**
 * The JSON body of a POST; an empty body is `{}`. Only application/json is read: browsers will not
 * send that to another site without a CORS preflight, which this server never grants.
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  const length = Number(req.headers['content-length'] ?? 0);
  if (length === 0 && type === '') return {};
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new UnsupportedMediaTypeError(`send the body as application/json, not ${type || 'untyped'}`);
  }
  if (length > MAX_BODY_BYTES) throw new PayloadTooLargeError(`the body is over ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new PayloadTooLargeError(`the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidInputError(`the body is not JSON: ${(err as Error).message}`);
  }
}
