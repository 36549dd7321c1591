import type { IncomingMessage, ServerResponse } from 'node:http';
import { MethodNotAllowedError, RouteNotFoundError } from './errors.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** The named groups of the route's path pattern, URL-decoded. */
  params: Readonly<Record<string, string | undefined>>;
}

export interface Route {
  method: 'GET' | 'POST';
  /** Anchored; named groups become params. */
  path: RegExp;
  handle(ctx: RequestContext): void | Promise<void>;
}

/** Finds the route for a request; throws the errors a client should see (404, 405). */
export function match(
  routes: readonly Route[],
  method: string,
  pathname: string,
): { route: Route; params: Record<string, string | undefined> } {
  const allow = new Set<string>();
  for (const route of routes) {
    const found = route.path.exec(pathname);
    if (!found) continue;
    if (route.method === method) {
      const params: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(found.groups ?? {})) params[k] = v && safeDecode(v);
      return { route, params };
    }
    allow.add(route.method);
  }
  if (allow.size > 0) {
    throw new MethodNotAllowedError(`${method} is not allowed on ${pathname}`, [...allow]);
  }
  throw new RouteNotFoundError(`nothing at ${pathname}`);
}

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    // Left as sent: the validation of the parameter names it as invalid.
    return v;
  }
}
