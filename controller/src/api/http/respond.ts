import type { ServerResponse } from 'node:http';
import { asFleetrollError } from '@fleetroll/shared';
import { MethodNotAllowedError, httpStatusOf } from './errors.js';

/** The body of every error answer: the fleetroll error code to branch on and a message for people. */
export interface ErrorBody {
  error: { code: string; message: string };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** For a body already written as JSON. */
export function sendJsonText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const error = asFleetrollError(err);
  if (res.headersSent) {
    // An event stream already under way: all that can be said is that it ends here.
    res.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  if (error instanceof MethodNotAllowedError) headers['allow'] = error.allow.join(', ');
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  sendJson(res, httpStatusOf(error), body, headers);
}

export function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache',
  });
  res.end(body);
}
