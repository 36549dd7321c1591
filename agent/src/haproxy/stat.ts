import type { ServerStat } from '../ports.js';
import { splitCsvLine } from './csv.js';
import { checkReply, unexpectedReply, type ReplyContext } from './reply.js';

// `-1 4 -1`: servers only, of every proxy. One proxy is asked for by its numeric id, never its
// name: whether HAProxy reads an all-digit argument as a name or an id depends on its version.
export const SHOW_SERVERS = 'show stat -1 4 -1';
export const showProxyServers = (proxyId: number): string => `show stat ${proxyId} 4 -1`;

/** Whether rows asked for by a proxy's id are that backend's: ids change when the configuration does. */
export function onlyOf(backend: string, stats: readonly ServerStat[]): boolean {
  return stats.length > 0 && stats.every((stat) => stat.backend === backend);
}

// The `type` column tells servers from FRONTEND/BACKEND/listener rows; svname cannot,
// because a server may legally be named "BACKEND".
const COLUMNS = ['pxname', 'svname', 'scur', 'status', 'check_status', 'weight', 'type'] as const;
type Column = (typeof COLUMNS)[number];
const SERVER_TYPE = '2';

function toCount(value: string, column: string, row: string, ctx: ReplyContext): number {
  if (!/^\d+$/.test(value)) throw unexpectedReply(`"${column}" is not a count`, row, ctx);
  return Number(value);
}

/** A server's row, with the numeric id of its proxy (`iid`), by which `show stat` can be asked for one proxy. */
export interface StatRow {
  stat: ServerStat;
  /** Undefined from a build of HAProxy without the column. */
  proxyId: number | undefined;
}

/**
 * Parses `show stat` CSV into one row per server, skipping frontends, backends and
 * listeners. Columns are found by header name: their positions change between versions.
 */
export function parseShowStat(reply: string, ctx: ReplyContext): ServerStat[] {
  return parseStatRows(reply, ctx).map((row) => row.stat);
}

export function parseStatRows(reply: string, ctx: ReplyContext): StatRow[] {
  const [header, ...rows] = checkReply(reply, ctx).split('\n');
  if (!header?.startsWith('# '))
    throw unexpectedReply('expected a CSV header starting with "# "', reply, ctx);
  const names = splitCsvLine(header.slice(2));
  const index = {} as Record<Column, number>;
  for (const column of COLUMNS) {
    const at = names.indexOf(column);
    if (at < 0) throw unexpectedReply(`no "${column}" column`, reply, ctx);
    index[column] = at;
  }

  // Only a soak's comparison reads it: a build of HAProxy without the column reads as never down.
  const chkdown = names.indexOf('chkdown');
  const iid = names.indexOf('iid');

  const stats: StatRow[] = [];
  for (const row of rows) {
    if (row === '') continue;
    const fields = splitCsvLine(row);
    const get = (column: Column): string => {
      const value = fields[index[column]];
      if (value === undefined) throw unexpectedReply(`a row has no "${column}" field`, row, ctx);
      return value;
    };
    const count = (column: Column): number => toCount(get(column), column, row, ctx);
    // Empty for a server HAProxy does not check: no check ever took it down.
    const downs = chkdown < 0 ? '' : (fields[chkdown] ?? '');
    if (get('type') !== SERVER_TYPE) continue;
    const proxyId = iid < 0 ? undefined : fields[iid];
    stats.push({
      stat: {
        backend: get('pxname'),
        server: get('svname'),
        scur: count('scur'),
        status: get('status'),
        checkStatus: get('check_status'),
        weight: count('weight'),
        downCount: downs === '' ? 0 : toCount(downs, 'chkdown', row, ctx),
      },
      proxyId: proxyId !== undefined && /^\d+$/.test(proxyId) ? Number(proxyId) : undefined,
    });
  }
  return stats;
}
