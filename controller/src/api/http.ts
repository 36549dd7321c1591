import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { asFleetrollError, type Logger } from '@fleetroll/shared';
import type { ControllerMetrics } from '../metrics/metrics.js';
import type { ControllerCore } from '../service/controller-core.js';
import { apiRoutes } from './http/api-routes.js';
import { dashboardRoutes, loadDashboardAssets } from './http/assets.js';
import { ForbiddenHostError, httpStatusOf } from './http/errors.js';
import { sendError, sendText } from './http/respond.js';
import { match, type Route } from './http/router.js';

export interface HttpOptions {
  /** host:port; port 0 picks a free one. */
  listen: string;
  /** Host names the server answers to besides IP addresses and localhost. */
  allowedHosts: readonly string[];
  log: Logger;
}

export interface ControllerHttp {
  port: number;
  close(): Promise<void>;
}

// The page loads only its own scripts and styles and talks only to this server.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/**
 * The dashboard, its JSON API and /metrics on one node:http server. Translation only, as for
 * gRPC: input is validated in the routes and handed to ControllerCore.
 */
export async function serveControllerHttp(
  core: ControllerCore,
  metrics: ControllerMetrics,
  options: HttpOptions,
): Promise<ControllerHttp> {
  const routes: Route[] = [
    ...dashboardRoutes(await loadDashboardAssets()),
    {
      method: 'GET',
      path: /^\/metrics$/,
      handle: async ({ res }) => sendText(res, 200, metrics.contentType, await metrics.render()),
    },
    ...apiRoutes(core),
  ];
  const log = options.log.child({ component: 'http' });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
      checkHost(req.headers.host, options.allowedHosts);
      const { pathname } = new URL(req.url ?? '/', 'http://localhost');
      const { route, params } = match(routes, req.method ?? 'GET', pathname);
      await route.handle({ req, res, params });
    } catch (err) {
      const error = asFleetrollError(err);
      if (httpStatusOf(error) >= 500) log.error({ err, code: error.code }, `${req.method} ${req.url} failed`);
      sendError(res, error);
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  const { host, port } = splitListen(options.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Event streams never end on their own.
        server.closeAllConnections();
      }),
  };
}

/** `127.0.0.1:7080`, `[::1]:7080`, `localhost:7080` (already checked by the config schema). */
function splitListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(at + 1)) };
}

/**
 * A web page on another site can make a browser resolve its own name to 127.0.0.1 (DNS
 * rebinding) and then call this API as same-origin; the Host header still carries that name.
 */
function checkHost(header: string | undefined, allowed: readonly string[]): void {
  if (header === undefined) return;
  const name = header
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  if (isIP(name) !== 0 || name === 'localhost' || allowed.some((a) => a.toLowerCase() === name)) return;
  throw new ForbiddenHostError(
    `this dashboard does not answer to host ${JSON.stringify(name)}; add it to http.allowedHosts in the controller config`,
  );
}
