import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  HaproxyStateFileError,
  HaproxyUnexpectedReplyError,
  HaproxyUnknownServerError,
  InvalidInputError,
  type Logger,
} from '@fleetroll/shared';
import type { LoadBalancer, ServerStat } from '../ports.js';
import { excerpt } from './excerpt.js';
import { checkName, serverRef } from './names.js';
import { expectEmptyReply, parseWeightReply, type ReplyContext } from './reply.js';
import {
  checkStateFileWritable,
  stateWithWeight,
  writeStateFile,
  type WeightChange,
} from './server-state.js';
import { sendCommand, type SocketOptions } from './socket.js';
import { askOldWorker, listOldWorkers, takenOverFrom } from './old-workers.js';
import {
  SHOW_SERVERS,
  onlyOf,
  parseShowStat,
  parseStatRows,
  showProxyServers,
  type StatRow,
} from './stat.js';

export interface HaproxyClientOptions extends SocketOptions {
  /** HAProxy's master CLI (run with -W and -S), to ask an old process about one server. */
  masterSocketPath?: string;
  /**
   * HAProxy's `server-state-file`: kept saying every weight the agent sets, so that a reload or a
   * restart starts with them instead of the configured ones. Failing to save it is logged there.
   */
  serverState?: ServerStateOptions;
}

export interface ServerStateOptions {
  file: string;
  log: Logger;
}

// The range HAProxy accepts for an absolute weight (it answers
// "Absolute weight can only be between 0 and 256 inclusive." otherwise).
export const MAX_WEIGHT = 256;

const SHOW_INFO = 'show info';
const SHOW_SERVERS_STATE = 'show servers state';

/** The agent's LoadBalancer: HAProxy's runtime API over its admin Unix socket. */
export class HaproxyClient implements LoadBalancer {
  private readonly options: SocketOptions;
  private readonly master: SocketOptions | undefined;
  private readonly serverState: ServerStateOptions | undefined;
  // With the state file, one weight change at a time: two slots' saves must not interleave their
  // dumps and their sets.
  private weightChanges: Promise<void> = Promise.resolve();
  private stateFailing = false;
  /**
   * Backend name → HAProxy's id of it, learned from a full `show stat`, so that the polls of a slot
   * ask for its backend alone: with hundreds of backends a full dump costs HAProxy and the agent
   * milliseconds of CPU per poll. Null: that id answers for another proxy (one named with those
   * digits), so this backend is always read from the full dump.
   */
  private readonly proxyIds = new Map<string, number | null>();

  constructor(options: HaproxyClientOptions) {
    if (typeof options.socketPath !== 'string' || options.socketPath === '') {
      throw new InvalidInputError('haproxy socketPath: must be a non-empty path');
    }
    if (!Number.isInteger(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new InvalidInputError(`haproxy timeoutMs: must be a positive integer, got ${options.timeoutMs}`);
    }
    this.options = { socketPath: options.socketPath, timeoutMs: options.timeoutMs };
    this.master =
      options.masterSocketPath === undefined
        ? undefined
        : { socketPath: options.masterSocketPath, timeoutMs: options.timeoutMs, halfClose: true };
    this.serverState = options.serverState;
  }

  get socketPath(): string {
    return this.options.socketPath;
  }

  async getWeight(backend: string, server: string): Promise<number> {
    const command = `get weight ${serverRef(backend, server)}`;
    return parseWeightReply(await this.send(command), this.context(command, backend, server));
  }

  async setWeight(backend: string, server: string, weight: number): Promise<void> {
    const ref = serverRef(backend, server);
    if (!Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT) {
      throw new InvalidInputError(`weight: must be an integer from 0 to ${MAX_WEIGHT}, got ${weight}`);
    }
    const command = `set weight ${ref} ${weight}`;
    const set = async (): Promise<void> =>
      expectEmptyReply(await this.send(command), this.context(command, backend, server));
    const state = this.serverState;
    if (!state) return set();
    const turn = this.weightChanges.then(async () => {
      // Saved first: a reload between the two then starts at the weight being set, not the one left.
      await this.keepState(state, { backend, server, weight });
      await set();
    });
    this.weightChanges = turn.catch(() => undefined);
    return turn;
  }

  /** Throws when the state file cannot be written: an agent told to keep it refuses to start. */
  async checkServerStateFile(): Promise<void> {
    if (this.serverState) await checkStateFileWritable(this.serverState.file);
  }

  /**
   * The state file must not cost a weight change: one that cannot be saved is logged (once until a
   * save works again) and the weight set all the same; a reload then forgets it, which the slot's
   * weight checks notice. An HAProxy not answering (stopped) cannot dump its state: the file is
   * edited instead, so that the HAProxy started next has the weight a slot put back meanwhile,
   * not the 0 of its drain; that the weight was not set is for `set weight` to report.
   */
  private async keepState({ file, log }: ServerStateOptions, change: WeightChange): Promise<void> {
    try {
      const dump = await this.send(SHOW_SERVERS_STATE).catch(async (err: unknown) => {
        const saved = await readFile(file, 'utf8').catch(() => undefined);
        if (saved === undefined) throw err;
        return saved;
      });
      await writeStateFile(file, stateWithWeight(dump, change));
      this.stateFailing = false;
    } catch (err) {
      if (!(err instanceof HaproxyStateFileError)) return;
      if (!this.stateFailing) log.warn({ err }, err.message);
      this.stateFailing = true;
    }
  }

  async serverStat(backend: string, server: string): Promise<ServerStat> {
    return (await this.serverAndSiblings(backend, server)).own;
  }

  async serverAndSiblings(
    backend: string,
    server: string,
  ): Promise<{ own: ServerStat; others: ServerStat[] }> {
    checkName('server', server);
    const inBackend = await this.backendStat(backend);
    const own = inBackend.find((stat) => stat.server === server);
    if (own) return { own, others: inBackend.filter((stat) => stat !== own) };
    throw new HaproxyUnknownServerError(
      inBackend.length === 0
        ? `HAProxy has no backend ${excerpt(backend)} (or it has no servers)`
        : `HAProxy has no server ${excerpt(server)} in backend ${excerpt(backend)}`,
    );
  }

  async backendStat(backend: string): Promise<ServerStat[]> {
    checkName('backend', backend);
    const known = this.proxyIds.get(backend);
    if (typeof known === 'number') {
      const command = showProxyServers(known);
      const stats = parseShowStat(await this.send(command), this.context(command, backend));
      // A reload with another configuration may have given the id to another proxy, or to none.
      if (onlyOf(backend, stats)) return stats;
    }
    const rows = (await this.statRows()).filter((row) => row.stat.backend === backend);
    const proxyId = rows[0]?.proxyId;
    if (proxyId === undefined) this.proxyIds.delete(backend);
    else if (known !== null) this.proxyIds.set(backend, proxyId === known ? null : proxyId);
    return rows.map((row) => row.stat);
  }

  /** Every server of every proxy: one full dump, whatever HAProxy fronts. */
  async showStat(): Promise<ServerStat[]> {
    return (await this.statRows()).map((row) => row.stat);
  }

  private async statRows(): Promise<StatRow[]> {
    return parseStatRows(await this.send(SHOW_SERVERS), this.context(SHOW_SERVERS));
  }

  async processId(): Promise<number> {
    const reply = await this.send(SHOW_INFO);
    const pid = /^Pid: (\d+)$/m.exec(reply)?.[1];
    if (pid === undefined) {
      throw new HaproxyUnexpectedReplyError(
        `HAProxy's reply to ${SHOW_INFO} on ${this.options.socketPath} has no Pid line: ${excerpt(reply)}`,
      );
    }
    return Number(pid);
  }

  /**
   * Asks the kernel whether an HAProxy runs with this pid (any user's: /proc/PID/comm is readable
   * by all). Across pid namespaces (HAProxy in a container, the agent on the host, or the other
   * way round) the pid HAProxy gives is not the one this agent sees: it looks gone, or names
   * another program, which is also how a pid taken again after its HAProxy exited looks.
   */
  processRunning(pid: number): boolean {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('haproxy');
    } catch {
      return false;
    }
  }

  /**
   * Named on the command line of the process answering when this agent sees it; else, for an
   * agent in another pid namespace, asked of HAProxy's master CLI where there is one (its old
   * workers; none known when the master does not answer in time).
   */
  async previousProcesses(pid: number): Promise<number[]> {
    if (this.processRunning(pid)) {
      try {
        return takenOverFrom(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
      } catch {
        return [];
      }
    }
    return this.master ? listOldWorkers(this.master) : [];
  }

  async oldProcessSessions(pid: number, backend: string, server: string): Promise<number | undefined> {
    const master = this.master;
    if (!master) return undefined;
    // By the id the process answering now gave the backend, which a reload on the same
    // configuration keeps; the full dump when there is none yet, or the old process's
    // configuration numbered its proxies otherwise.
    const known = this.proxyIds.get(backend);
    const about = { backend, server };
    let answer =
      typeof known === 'number' ? await askOldWorker(master, pid, showProxyServers(known), about) : [];
    if (Array.isArray(answer) && !onlyOf(backend, answer))
      answer = await askOldWorker(master, pid, SHOW_SERVERS, about);
    if (!Array.isArray(answer)) return answer;
    const stat = answer.find((s) => s.backend === backend && s.server === server);
    if (!stat) {
      throw new HaproxyUnknownServerError(
        `the old HAProxy process ${pid} has no server ${serverRef(backend, server)}`,
      );
    }
    return stat.scur;
  }

  private send(command: string): Promise<string> {
    return sendCommand(this.options, command);
  }

  private context(command: string, backend?: string, server?: string): ReplyContext {
    return { command, socketPath: this.options.socketPath, backend, server };
  }
}
