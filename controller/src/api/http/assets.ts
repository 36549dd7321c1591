import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InternalError } from '@fleetroll/shared';
import { RouteNotFoundError } from './errors.js';
import { PAGE_CSS, PAGE_HTML } from './page.js';
import { sendText } from './respond.js';
import type { Route } from './router.js';

// tsc compiles controller/web to dist/web; this module runs from dist/src/api/http.
const WEB_DIR = new URL('../../../web/', import.meta.url);

/** The dashboard's scripts by file name, read once: the controller then serves them from memory. */
export type DashboardAssets = ReadonlyMap<string, string>;

export async function loadDashboardAssets(dir: URL = WEB_DIR): Promise<DashboardAssets> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.js'));
  } catch (err) {
    throw new InternalError(`dashboard scripts missing at ${fileURLToPath(dir)}: run npm run build`, {
      cause: err,
    });
  }
  if (!names.includes('app.js')) {
    throw new InternalError(`dashboard script app.js missing in ${fileURLToPath(dir)}: run npm run build`);
  }
  const files = await Promise.all(
    names.map(async (n) => [n, await readFile(new URL(n, dir), 'utf8')] as const),
  );
  return new Map(files);
}

export function dashboardRoutes(assets: DashboardAssets): Route[] {
  return [
    {
      method: 'GET',
      path: /^\/$/,
      handle: ({ res }) => sendText(res, 200, 'text/html; charset=utf-8', PAGE_HTML),
    },
    {
      // Browsers ask for it on their own; "none" beats a 404 in every console.
      method: 'GET',
      path: /^\/favicon\.ico$/,
      handle: ({ res }) => void res.writeHead(204).end(),
    },
    {
      method: 'GET',
      path: /^\/assets\/app\.css$/,
      handle: ({ res }) => sendText(res, 200, 'text/css; charset=utf-8', PAGE_CSS),
    },
    {
      method: 'GET',
      path: /^\/assets\/(?<name>[a-z-]+\.js)$/,
      handle: ({ res, params }) => {
        const script = assets.get(params['name'] ?? '');
        if (script === undefined) throw new RouteNotFoundError(`no dashboard script ${params['name']}`);
        sendText(res, 200, 'text/javascript; charset=utf-8', script);
      },
    },
  ];
}
