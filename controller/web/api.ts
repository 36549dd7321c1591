import type { AgentInfo, Status } from './types.js';

/** An error answer of the controller: its fleetroll code and the message meant for people. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown };
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError('UNREACHABLE', `the controller did not answer: ${(err as Error).message}`);
  }
  const payload = (await res.json().catch(() => ({}))) as unknown;
  if (!res.ok) {
    const error = (payload as ErrorBody).error;
    throw new ApiError(
      typeof error?.code === 'string' ? error.code : `HTTP_${res.status}`,
      typeof error?.message === 'string' ? error.message : `${method} ${path}: HTTP ${res.status}`,
    );
  }
  return payload as T;
}

const rolloutPath = (id: string): string => `/api/rollouts/${encodeURIComponent(id)}`;

export interface StartForm {
  image: string;
  serial: string[];
  groupsInParallel: boolean;
  maxFail: string;
  failureAction: 'PAUSE' | 'ABORT' | 'ROLLBACK';
  soakMs: number;
  pauseAfter: number[];
  maxParallel: number;
}

export interface Api {
  list(): Promise<Status[]>;
  agents(): Promise<AgentInfo[]>;
  start(form: StartForm): Promise<Status>;
  pause(id: string, group?: string): Promise<Status>;
  resume(id: string, group?: string): Promise<Status>;
  abort(id: string): Promise<Status>;
  eventsUrl(id: string): string;
}

export const api: Api = {
  list: () => call<{ rollouts: Status[] }>('GET', '/api/rollouts').then((r) => r.rollouts),
  agents: () => call<{ agents: AgentInfo[] }>('GET', '/api/agents').then((r) => r.agents),
  start: (form: StartForm) => call<Status>('POST', '/api/rollouts', form),
  pause: (id: string, group?: string) => call<Status>('POST', `${rolloutPath(id)}/pause`, { group }),
  resume: (id: string, group?: string) => call<Status>('POST', `${rolloutPath(id)}/resume`, { group }),
  abort: (id: string) => call<Status>('POST', `${rolloutPath(id)}/abort`, {}),
  eventsUrl: (id: string) => `${rolloutPath(id)}/events`,
};
