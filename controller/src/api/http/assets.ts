import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InternalError } from '@fleetroll/shared';
import { RouteNotFoundError } from './errors.js';
import { PAGE_CSS, PAGE_HTML } from './page.js';
import { sendText } from './respond.js';
import type { Route } from './router.js';

// tsc compiles controller/web to dist/web and controller/view (what the CLI shows too) to
// dist/view; this module runs from dist/src/api/http. The browser finds view/ from web/ by the
// same relative imports as node does, so both are served side by side.
const DIST_DIR = new URL('../../../', import.meta.url);
const SCRIPT_DIRS = ['web', 'view'] as const;

/** The dashboard's scripts by path ("web/app.js"), read once: the controller then serves them from memory. */
export type DashboardAssets = ReadonlyMap<string, string>;

export async function loadDashboardAssets(dist: URL = DIST_DIR): Promise<DashboardAssets> {
  const dirs = await Promise.all(SCRIPT_DIRS.map((name) => readScripts(new URL(`${name}/`, dist), name)));
  const scripts = new Map(dirs.flat());
  if (!scripts.has('web/app.js')) {
    throw new InternalError(
      `dashboard script app.js missing in ${fileURLToPath(dist)}web: run npm run build`,
    );
  }
  return scripts;
}

async function readScripts(dir: URL, name: string): Promise<(readonly [string, string])[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((n) => n.endsWith('.js'));
  } catch (err) {
    throw new InternalError(`dashboard scripts missing at ${fileURLToPath(dir)}: run npm run build`, {
      cause: err,
    });
  }
  return Promise.all(
    files.map(async (f) => [`${name}/${f}`, await readFile(new URL(f, dir), 'utf8')] as const),
  );
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
      path: /^\/assets\/(?<name>(?:web|view)\/[a-z-]+\.js)$/,
      handle: ({ res, params }) => {
        const script = assets.get(params['name'] ?? '');
        if (script === undefined) throw new RouteNotFoundError(`no dashboard script ${params['name']}`);
        sendText(res, 200, 'text/javascript; charset=utf-8', script);
      },
    },
  ];
}
